#include "kernel/arch/x86/vmx/exit.h"

#include "kernel/arch/x86/hw/msr.h"
#include "kernel/arch/x86/vmx/event.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/vmm/vm.h"

static const exit_handler_fn exit_handlers[EXIT_REASON_MAX] = {
	[EXIT_REASON_EXCEPTION_NMI] = exit_exception_nmi,
	[EXIT_REASON_EXTERNAL_INTERRUPT] = exit_external_interrupt,
	[EXIT_REASON_TRIPLE_FAULT] = exit_triple_fault,
	[EXIT_REASON_CPUID] = exit_cpuid,
	[EXIT_REASON_HLT] = exit_hlt,
	[EXIT_REASON_VMCALL] = exit_vmcall,
	[EXIT_REASON_CR_ACCESS] = exit_cr_access,
	[EXIT_REASON_IO_INSTRUCTION] = exit_io,
	[EXIT_REASON_EPT_VIOLATION] = exit_ept_violation,
	[EXIT_REASON_PREEMPTION_TIMER] = exit_preemption_timer,
	[EXIT_REASON_PML_FULL] = exit_pml_full,
	[EXIT_REASON_MSR_READ] = exit_rdmsr,
	[EXIT_REASON_MSR_WRITE] = exit_wrmsr,
	[EXIT_REASON_INTERRUPT_WINDOW] = exit_interrupt_window,
};

static void exit_decode(struct vcpu *v)
{
	struct vcpu_exit *e = &v->arch.exit;

	e->raw_reason = vmcs_read32(VM_EXIT_REASON);
	e->reason = e->raw_reason & VM_EXIT_REASON_BASIC_MASK;
	e->qualification = vmcs_read64(EXIT_QUALIFICATION);
	e->insn_len = vmcs_read32(VM_EXIT_INSTRUCTION_LEN);
	e->intr_info = vmcs_read32(VM_EXIT_INTR_INFO);
	e->intr_error_code = (e->intr_info & INTR_INFO_ERROR_CODE_VALID) ? vmcs_read32(VM_EXIT_INTR_ERROR_CODE) : 0;
	/* Any exit may interrupt the delivery of an event; that event is lost unless it goes in again. */
	e->idt_vectoring = vmcs_read32(IDT_VECTORING_INFO_FIELD);
	e->idt_vectoring_error_code =
		(e->idt_vectoring & INTR_INFO_ERROR_CODE_VALID) ? vmcs_read32(IDT_VECTORING_ERROR_CODE) : 0;
	e->rip = vmcs_read64(GUEST_RIP);
	e->guest_phys = e->reason == EXIT_REASON_EPT_VIOLATION || e->reason == EXIT_REASON_EPT_MISCONFIG
				? vmcs_read64(GUEST_PHYSICAL_ADDRESS)
				: 0;
}

/* Re-injects what the exit interrupted, or restores NMI blocking after an interrupted IRET. */
static void exit_fix_entry(struct vcpu *v)
{
	struct vmx_event vectoring;
	struct vmx_entry_fixup f;

	/* The common case, cheaply: no delivery interrupted, and an exit without an NMI-unblocking bit. */
	if (!(v->arch.exit.idt_vectoring & INTR_INFO_VALID) && !vmx_exit_reports_nmi_unblocking(v->arch.exit.reason))
		return;
	vectoring = vmx_event_decode(v->arch.exit.idt_vectoring, v->arch.exit.idt_vectoring_error_code, v->arch.exit.insn_len);
	f = vmx_entry_fixup(v->arch.exit.reason, v->arch.exit.intr_info, v->arch.exit.qualification, &vectoring);

	if (f.inject.valid) {
		v->arch.events_reinjected++;
		exit_inject(&f.inject);
	}
	if (f.block_nmi)
		vmcs_write32(GUEST_INTERRUPTIBILITY_INFO,
			     vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) | GUEST_INTR_STATE_NMI);
}

static void exit_skip_instruction(struct vcpu *v)
{
	uint32_t intr = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
	uint64_t rflags = vmcs_read64(GUEST_RFLAGS);

	vmcs_write64(GUEST_RIP, v->arch.exit.rip + v->arch.exit.insn_len);
	/* Blocking by STI and by MOV SS ends with the instruction, as does RF. */
	if (intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS))
		vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, intr & ~(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS));
	if (rflags & RFLAGS_RF)
		vmcs_write64(GUEST_RFLAGS, rflags & ~RFLAGS_RF);
	/*
	 * The emulated instruction owes the guest the single-step trap it would
	 * have raised; a pending BS is delivered right after VM entry, together
	 * with any data breakpoint (B0-B3) a preceding MOV SS left pending.
	 */
	if ((rflags & RFLAGS_TF) && vmx_single_step_due(rflags, vmcs_read64(GUEST_IA32_DEBUGCTL)))
		vmcs_write64(GUEST_PENDING_DBG_EXCEPTIONS,
			     vmcs_read64(GUEST_PENDING_DBG_EXCEPTIONS) | PENDING_DBG_BS);
}

enum exit_action exit_dispatch(struct vcpu *v)
{
	exit_handler_fn handler;
	enum exit_action action;

	exit_decode(v);
	if (v->arch.exit.raw_reason & VM_EXIT_REASON_ENTRY_FAILURE) {
		v->arch.entry_failures++;
		return exit_entry_failure(v);
	}
	v->arch.exits_total++;
	if (v->arch.exit.reason >= EXIT_REASON_MAX)
		return exit_unhandled(v);
	v->arch.exits[v->arch.exit.reason]++;
	handler = exit_handlers[v->arch.exit.reason] ? exit_handlers[v->arch.exit.reason] : exit_unhandled;
	action = handler(v);
	if (action == EXIT_SKIP_INSN)
		exit_skip_instruction(v);
	if (action != EXIT_STOP_VM)
		exit_fix_entry(v);
	return action;
}
