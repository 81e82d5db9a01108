/* Exits caused by events rather than by guest instructions: interrupts, NMIs, the preemption timer. */
#include "kernel/lib/log.h"
#include "kernel/arch/x86/trap.h"
#include "kernel/vmm/vm.h"
#include "kernel/arch/x86/vmx/exit.h"
#include "kernel/arch/x86/vmx/vmcs.h"

#define INTR_INFO_TYPE_SHIFT 8
#define INTR_INFO_TYPE_MASK 0x7u
#define INTR_TYPE_NMI 2u

enum exit_action exit_external_interrupt(struct vcpu *v)
{
	/* "Acknowledge interrupt on exit" delivered the vector here; the host handles it now. */
	if (v->exit.intr_info & INTR_INFO_VALID)
		irq_dispatch((uint8_t)(v->exit.intr_info & INTR_INFO_VECTOR_MASK));
	return EXIT_RESUME;
}

enum exit_action exit_exception_nmi(struct vcpu *v)
{
	unsigned type = (v->exit.intr_info >> INTR_INFO_TYPE_SHIFT) & INTR_INFO_TYPE_MASK;

	if (type == INTR_TYPE_NMI) {
		log_warn("vmx", "%s: host NMI while the guest ran", v->name);
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
