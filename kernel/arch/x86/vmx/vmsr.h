/*
 * The MSRs a guest sees (docs/linux-guest.md, "MSRs"). Three kinds:
 *  - passed through (the MSR bitmap lets RDMSR/WRMSR reach the CPU): FS/GS
 *    base and SYSENTER (the VMCS switches them), the SYSCALL MSRs and
 *    KERNEL_GS_BASE (switched per vCPU by vmsr_switch_to), reads of the TSC;
 *  - emulated: EFER, PAT and DEBUGCTL in the VMCS, TSC writes as an offset,
 *    and the state below;
 *  - every other MSR: #GP, as a CPU without it would raise.
 */
#ifndef HV_KERNEL_ARCH_X86_VMX_VMSR_H
#define HV_KERNEL_ARCH_X86_VMX_VMSR_H

#include <stdbool.h>
#include <stdint.h>

#define VMSR_MTRR_VAR 8              /* variable ranges offered in MTRRCAP */
#define VMSR_MTRR_FIXED 11           /* fixed-range registers */
#define VMSR_MC_BANKS 1              /* machine-check banks offered in MCG_CAP */
#define VMSR_BITMAP_SIZE 4096

/* A vCPU's emulated and switched MSRs: plain values, saved and loaded as they are. */
struct vmsr_state {
	uint64_t apic_base;
	uint64_t misc_enable;
	uint64_t spec_ctrl;
	uint64_t ucode_rev;                   /* BIOS_SIGN_ID as last written (reads give the revision) */
	uint64_t mtrr_def_type;
	uint64_t mtrr_var[2 * VMSR_MTRR_VAR]; /* PHYSBASEn, PHYSMASKn */
	uint64_t mtrr_fixed[VMSR_MTRR_FIXED];
	uint64_t mcg_status;
	uint64_t mc_ctl[VMSR_MC_BANKS];
	uint64_t mc_status[VMSR_MC_BANKS];
	/* Passed through, switched per vCPU: the CPU holds them while the vCPU owns it. */
	uint64_t star, lstar, cstar, fmask, kernel_gs_base;
};

struct vcpu;
struct vcpu_msr;

/* The values after reset: BSP with no APIC enabled, fast strings, MTRRs on with write-back default. */
void vmsr_reset(struct vmsr_state *s, bool bsp);

/*
 * Builds the MSR bitmap (SDM 25.6.9): every MSR exits, except the ones
 * passed through. The bitmap is shared by every vCPU.
 */
void vmsr_bitmap_build(uint8_t bitmap[VMSR_BITMAP_SIZE]);

/* Whether RDMSR (write false) or WRMSR (write true) of msr exits under bitmap. */
bool vmsr_bitmap_exits(const uint8_t bitmap[VMSR_BITMAP_SIZE], uint32_t msr, bool write);

/*
 * RDMSR and WRMSR of v, whose VMCS is current: HV_OK, or HV_EINVAL when
 * the guest must get #GP (an MSR it does not have, a reserved bit, a
 * read-only MSR).
 */
int vmsr_read(struct vcpu *v, uint32_t msr, uint64_t *value);
int vmsr_write(struct vcpu *v, uint32_t msr, uint64_t value);

/* MSRs in v's vCPU-held state (struct vmsr_state): what a save lists. */
#define VMSR_STATE_MSRS (11 + 2 * VMSR_MTRR_VAR + VMSR_MTRR_FIXED + 2 * VMSR_MC_BANKS)

/* Lists v's vCPU-held MSRs (the switched ones as the CPU holds them) into out; returns how many. */
unsigned vmsr_state_save(struct vcpu *v, struct vcpu_msr *out, unsigned max);

/*
 * Sets v's vCPU-held MSRs from a list: HV_EINVAL, and nothing changed,
 * when an index is not one of them, comes twice, has reserved bits set,
 * or holds a value the guest's WRMSR would have got #GP for (from v's
 * current state: the BSP flag and MISC_ENABLE's fixed bits are v's own).
 * MSRs not in the list keep their values. v is not running.
 */
int vmsr_state_load(struct vcpu *v, const struct vcpu_msr *in, unsigned n);

/* Makes the CPU hold v's switched MSRs, saving those of the vCPU that held them (a no-op if v does). */
void vmsr_switch_to(struct vcpu *v);

/* Forgets that the CPU holds v's switched MSRs (v is built anew: its next run loads them). */
void vmsr_disown(struct vcpu *v);

#endif
