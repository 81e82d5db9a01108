/*
 * Debug registers across guest runs. VM entry and exit switch DR7 and
 * IA32_DEBUGCTL (the "load/save debug controls" controls) but not DR0-DR3
 * and DR6, which the guest reads and writes without exiting: they are
 * switched here around each run of a vCPU.
 */
#ifndef HV_KERNEL_ARCH_X86_VMX_DEBUG_H
#define HV_KERNEL_ARCH_X86_VMX_DEBUG_H

struct vcpu_debug;

/* Saves the CPU's DR0-DR3 and DR6 into save, then loads load's (a register is written only if it differs). */
void vmx_debug_switch(struct vcpu_debug *save, const struct vcpu_debug *load);

#endif
