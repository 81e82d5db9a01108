/*
 * The guest as the hypervisor's own accesses for it see it: its paging
 * registers from the current VMCS, its mode, and its RAM for the walk of
 * kernel/arch/x86/guest_paging.h. For exit handlers that read or write guest
 * memory by linear address (string I/O) or look at it (a stopped VM's dump).
 */
#ifndef HV_KERNEL_ARCH_X86_VMX_GUEST_VIEW_H
#define HV_KERNEL_ARCH_X86_VMX_GUEST_VIEW_H

#include <stdbool.h>
#include "kernel/arch/x86/guest_paging.h"

struct vm;

/* CR0, CR3, CR4 and IA32_EFER of the current VMCS's guest. */
struct gpt_cpu vmx_guest_paging(void);

/* 64-bit mode (IA32_EFER.LMA and CS.L): linear addresses are 64 bits wide, not 32. */
bool vmx_guest_64bit(const struct gpt_cpu *cpu);

/* vm's RAM for a walk: reads, and flag updates by vm_guest_cmpxchg(), which log-dirty mode sees. */
struct gpt_mem vmx_guest_ram(struct vm *vm);

#endif
