/* VMX operation on this CPU: enabling it, and building each vCPU's VMCS. */
#ifndef HV_KERNEL_ARCH_X86_VMX_VMX_H
#define HV_KERNEL_ARCH_X86_VMX_VMX_H

#include <stddef.h>
#include "kernel/arch/x86/vmx/caps.h"

struct vcpu;

/*
 * Reads and logs the capabilities, checks them, and enters VMX operation
 * (CR4.VMXE, VMXON). On a CPU that cannot run us returns HV_ENOTSUP with
 * the reason in why.
 */
int vmx_init(char *why, size_t len);
const struct vmx_caps *vmx_get_caps(void);

/* Allocates, clears and fills the VMCS of v for the boot convention (kernel/guest_abi.h). */
int vmcs_create(struct vcpu *v);

/*
 * Clears v's VMCS (the CPU writes back what it cached of it and it is
 * current no more) and gives its page back; nothing if v has none.
 */
void vmcs_destroy(struct vcpu *v);

/* Makes v's VMCS current on this CPU (a no-op when it already is). */
int vmcs_load(struct vcpu *v);

#endif
