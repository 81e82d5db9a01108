/*
 * What CPUID tells a guest (docs/cpuid.md): features the guest can use under
 * this hypervisor, nothing the VMCS does not enable or the hypervisor does
 * not switch or emulate, and a topology of one package with one core per
 * vCPU, each with its own APIC ID. Pure: the host's answers come in as
 * arguments, so the policy is tested on the host.
 */
#ifndef HV_KERNEL_ARCH_X86_VMX_CPUID_POLICY_H
#define HV_KERNEL_ARCH_X86_VMX_CPUID_POLICY_H

#include <stdint.h>
#include "kernel/arch/x86/hw/cpuid.h"

#define CPUID_GUEST_MAX_BASIC 0x15u      /* the highest basic leaf the guest is told of */
#define CPUID_GUEST_MAX_EXT 0x80000008u  /* the highest extended leaf */
#define CPUID_HV_MAX CPUID_LEAF_HV_BASE  /* the hypervisor range has one leaf */
/* "FerryHV" padded: CPUID 0x40000000 EBX, ECX, EDX. */
#define CPUID_HV_SIG_EBX 0x72726546u /* "Ferr" */
#define CPUID_HV_SIG_ECX 0x00564879u /* "yHV\0" */
#define CPUID_HV_SIG_EDX 0x00000000u

struct cpuid_vcpu {
	uint32_t host_max_basic; /* the host's CPUID.0:EAX */
	uint32_t host_max_ext;   /* the host's CPUID.80000000h:EAX */
	unsigned id;             /* vCPU index, also its APIC ID */
	unsigned count;          /* vCPUs of the VM, 1.. */
	uint64_t tsc_hz;         /* the guest's TSC frequency; 0 when unknown */
};

/*
 * The guest's CPUID(leaf, subleaf) on vCPU who, given host = the host's
 * CPUID(leaf, subleaf). Leaves past the guest's maxima, and leaves the
 * policy does not know, read as zero.
 */
struct cpuid_regs cpuid_policy(uint32_t leaf, uint32_t subleaf, struct cpuid_regs host, const struct cpuid_vcpu *who);

#endif
