/* What the CPU's VMX implementation offers, read once from its capability MSRs. */
#ifndef HV_KERNEL_ARCH_X86_VMX_CAPS_H
#define HV_KERNEL_ARCH_X86_VMX_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vmx_caps {
	bool vmx;                  /* CPUID.1:ECX.VMX */
	bool enabled_by_firmware;  /* IA32_FEATURE_CONTROL allows VMXON outside SMX */
	uint32_t revision;
	bool true_ctls;
	bool ins_outs_info;         /* INS and OUTS exits say their address size and segment */
	uint64_t pinbased, procbased, procbased2, exit, entry; /* allowed-0 low, allowed-1 high */
	uint64_t misc, ept_vpid;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	bool ept, unrestricted_guest, vpid, preemption_timer, ept_ad, pml, ept_2m, ept_1g, ept_wb, invept_single;
	unsigned preemption_timer_shift; /* the timer counts TSC >> shift */
};

/* Reads CPUID and the capability MSRs (these exist only when vmx is true). */
void vmx_caps_read(struct vmx_caps *c);

/*
 * Pure: decides whether the hypervisor can run on c. Returns 0, or
 * HV_ENOTSUP with what is missing written to why (one line).
 */
int vmx_caps_check(const struct vmx_caps *c, char *why, size_t len);

/* Pure: (wanted | allowed-0) & allowed-1 of a control capability MSR; *missing gets wanted bits not allowed. */
uint32_t vmx_ctls_adjust(uint64_t cap, uint32_t wanted, uint32_t *missing);

/* Logs one line of what the CPU offers. */
void vmx_caps_log(const struct vmx_caps *c);

#endif
