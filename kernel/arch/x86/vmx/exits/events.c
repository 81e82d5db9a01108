/* Exits caused by events rather than by guest instructions: interrupts, NMIs, the preemption timer. */
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/trap.h"
#include "kernel/arch/x86/vmx/event.h"
#include "kernel/arch/x86/vmx/exit.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/vmm/vm.h"

enum exit_action exit_external_interrupt(struct vcpu *v)
{
	/* "Acknowledge interrupt on exit" delivered the vector here; the host handles it now. */
	if (v->arch.exit.intr_info & INTR_INFO_VALID)
		irq_dispatch((uint8_t)(v->arch.exit.intr_info & INTR_INFO_VECTOR_MASK));
	return EXIT_RESUME;
}

enum exit_action exit_exception_nmi(struct vcpu *v)
{
	struct vmx_event x = vmx_event_decode(v->arch.exit.intr_info, v->arch.exit.intr_error_code, 0);

	if (x.valid && x.type == INTR_TYPE_NMI) {
		/* NMI exiting took the host's NMI away from the host: give it back (docs/vmx.md). */
		v->arch.host_nmis++;
		host_nmi_raise();
		return EXIT_RESUME;
	}
	/* The exception bitmap is empty: a guest exception exit is not expected. */
	return exit_unhandled(v);
}

enum exit_action exit_preemption_timer(struct vcpu *v)
{
	(void)v; /* the slice is over: vcpu_run() sees its end and returns to the scheduler */
	return EXIT_RESUME;
}

enum exit_action exit_interrupt_window(struct vcpu *v)
{
	(void)v; /* the guest can take an interrupt now: the next entry delivers it (vmx_irq_prepare) */
	return EXIT_RESUME;
}
