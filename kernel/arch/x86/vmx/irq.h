/* External interrupts from the VM's devices into the boot vCPU. */
#ifndef HV_KERNEL_ARCH_X86_VMX_IRQ_H
#define HV_KERNEL_ARCH_X86_VMX_IRQ_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;

/*
 * Before a VM entry of v (its VMCS current) at guest TSC now: brings the devices
 * up to date, then injects a pending interrupt if the guest can take it,
 * else turns interrupt-window exiting on until it can.
 */
void vmx_irq_prepare(struct vcpu *v, uint64_t now);

/* Pure: whether an external interrupt may be injected at this entry. */
bool vmx_irq_can_inject(uint64_t rflags, uint32_t interruptibility, uint32_t entry_intr_info);

#endif
