/*
 * External interrupts into the guest (SDM 26.3.2.5, 27.2): before each VM
 * entry of the boot vCPU, a pending interrupt of its PIC is injected when
 * the guest can take it (RFLAGS.IF set, no blocking by STI or MOV SS, no
 * other event being delivered); otherwise interrupt-window exiting brings
 * the vCPU back as soon as it can.
 */
#include "kernel/arch/x86/vmx/irq.h"

#include "kernel/arch/x86/hw/msr.h"
#include "kernel/arch/x86/vmx/event.h"
#include "kernel/arch/x86/vmx/exit.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/vmm/vm.h"

static void irq_window(struct vcpu *v, bool on)
{
	uint32_t proc;

	if (v->arch.irq_window == on)
		return;
	proc = vmcs_read32(CPU_BASED_VM_EXEC_CONTROL);
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL,
		     on ? proc | CPU_BASED_INTR_WINDOW_EXITING : proc & ~CPU_BASED_INTR_WINDOW_EXITING);
	v->arch.irq_window = on;
}

bool vmx_irq_can_inject(uint64_t rflags, uint32_t interruptibility, uint32_t entry_intr_info)
{
	return (rflags & RFLAGS_IF) && !(interruptibility & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS)) &&
	       !(entry_intr_info & INTR_INFO_VALID);
}

void vmx_irq_prepare(struct vcpu *v, uint64_t now)
{
	struct vmx_event e = { .valid = true, .type = INTR_TYPE_EXTERNAL };

	/* Before every entry: a guest that never set up its PIC (the test guest) pays one test. */
	if (v->id != 0 || !vdev_irqs_on(&v->vm->dev))
		return;
	vdev_update(v->vm, now);
	if (!vdev_irq_pending(v->vm)) {
		irq_window(v, false);
		return;
	}
	if (!vmx_irq_can_inject(vmcs_read64(GUEST_RFLAGS), vmcs_read32(GUEST_INTERRUPTIBILITY_INFO),
				vmcs_read32(VM_ENTRY_INTR_INFO_FIELD))) {
		irq_window(v, true);
		return;
	}
	e.vector = vdev_irq_ack(v->vm);
	exit_inject(&e);
	v->arch.irqs_injected++;
	irq_window(v, false);
}
