/*
 * A vCPU's state (kernel/arch/x86/vcpu_state.h) as the stream's VCPU_STATE
 * sub-records (docs/migration-stream.md) and back. Pure: tested on the host.
 */
#ifndef MIGR_HV_VCPU_H
#define MIGR_HV_VCPU_H

#include <stddef.h>
#include <stdint.h>
#include "kernel/arch/x86/vcpu_state.h"
#include "migration/stream.h"

/* MSR indices the MSRS sub-record carries (SDM Vol. 4, Table 2-2). */
#define MIGR_MSR_TSC 0x10u
#define MIGR_MSR_SYSENTER_CS 0x174u
#define MIGR_MSR_SYSENTER_ESP 0x175u
#define MIGR_MSR_SYSENTER_EIP 0x176u
#define MIGR_MSR_DEBUGCTL 0x1d9u
#define MIGR_MSR_PAT 0x277u
/*
 * FerryHV's own entries in the MSRS list, in a range no CPU defines
 * ("FR" << 16): state a VMX guest has beyond its registers.
 */
#define MIGR_MSR_FERRY_BASE 0x46520000u
#define MIGR_MSR_FERRY_MASK 0xffff0000u
#define MIGR_MSR_FERRY_CR0_SHADOW 0x46520000u
#define MIGR_MSR_FERRY_CR4_SHADOW 0x46520001u
#define MIGR_MSR_FERRY_PDPTE0 0x46520002u /* .. PDPTE3 at +3 */
#define MIGR_MSR_FERRY_INSN_LEN 0x46520006u
#define MIGR_HV_MSRS 13u                  /* the entries above, from the state's named fields */
#define MIGR_MSR_EFER 0xc0000080u         /* travels in CONTROL, never in the list */

/*
 * Bytes the sub-records of one vCPU take with n entries of the state's own
 * MSR list (vcpu_state.msr[]) after the named ones; at most MIGR_HV_VCPU_BYTES.
 */
#define MIGR_HV_VCPU_BYTES_N(n) (7u * 8u + 144u + 160u + 48u + 512u + 48u + 8u + (MIGR_HV_MSRS + (n)) * 16u + 24u)
#define MIGR_HV_VCPU_BYTES MIGR_HV_VCPU_BYTES_N(VCPU_STATE_MSRS)
_Static_assert(MIGR_HV_MSRS + VCPU_STATE_MSRS <= MIGR_MSRS_MAX, "every MSR fits one MSRS sub-record");

/* Writes s as sub-records into buf; returns their length (*count set), or HV_ERANGE if cap is short. */
long migr_hv_vcpu_encode(const struct vcpu_state *s, uint8_t *buf, size_t cap, uint32_t *count);
/*
 * Reads the sub-records the codec checked for shape into *s; HV_EINVAL when
 * one of ours is missing, an MSR comes twice, or is EFER or an unknown one of
 * FerryHV's range. Any other MSR goes to s->msr[] (HV_EINVAL past its room),
 * for vcpu_arch_state_load to accept or refuse.
 */
int migr_hv_vcpu_decode(const uint8_t *subs, uint32_t len, uint32_t count, struct vcpu_state *s);

#endif
