#include "kernel/arch/x86/vmx/event.h"

#include "kernel/arch/x86/hw/msr.h"
#include "kernel/arch/x86/vmx/exit_reason.h"
#include "kernel/arch/x86/vmx/vmcs.h"

struct vmx_event vmx_event_decode(uint32_t info, uint32_t error_code, uint32_t insn_len)
{
	struct vmx_event e = { 0 };

	if (!(info & INTR_INFO_VALID))
		return e;
	e.valid = true;
	e.vector = (uint8_t)(info & INTR_INFO_VECTOR_MASK);
	e.type = (uint8_t)((info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT);
	e.has_error_code = info & INTR_INFO_ERROR_CODE_VALID;
	e.error_code = e.has_error_code ? error_code : 0;
	e.insn_len = vmx_event_is_software(&e) ? insn_len : 0;
	return e;
}

uint32_t vmx_event_encode(const struct vmx_event *e)
{
	if (!e->valid)
		return 0;
	return INTR_INFO_VALID | e->vector | ((uint32_t)e->type << INTR_INFO_TYPE_SHIFT) |
	       (e->has_error_code ? INTR_INFO_ERROR_CODE_VALID : 0);
}

bool vmx_event_is_software(const struct vmx_event *e)
{
	return e->type == INTR_TYPE_SOFT_INTR || e->type == INTR_TYPE_PRIV_SOFT_EXCEPTION ||
	       e->type == INTR_TYPE_SOFT_EXCEPTION;
}

bool vmx_exit_reports_nmi_unblocking(uint32_t reason)
{
	return reason == EXIT_REASON_EXCEPTION_NMI || reason == EXIT_REASON_EPT_VIOLATION ||
	       reason == EXIT_REASON_PML_FULL;
}

/* Bit 12 of the exit's own information: set when the exit interrupted an IRET that had unblocked NMIs. */
static bool exit_nmi_unblocked(uint32_t reason, uint32_t exit_intr_info, uint64_t qualification)
{
	switch (reason) {
	case EXIT_REASON_EXCEPTION_NMI: {
		struct vmx_event x = vmx_event_decode(exit_intr_info, 0, 0);

		/* Undefined for a double fault (SDM 28.2.2). */
		return x.valid && x.vector != X86_VEC_DF && (exit_intr_info & INTR_INFO_NMI_UNBLOCKING);
	}
	case EXIT_REASON_EPT_VIOLATION:
		return qualification & EPT_QUAL_NMI_UNBLOCKING;
	case EXIT_REASON_PML_FULL:
		return qualification & PML_QUAL_NMI_UNBLOCKING;
	default:
		return false;
	}
}

struct vmx_entry_fixup vmx_entry_fixup(uint32_t reason, uint32_t exit_intr_info, uint64_t qualification,
				       const struct vmx_event *vectoring)
{
	struct vmx_entry_fixup f = { 0 };

	if (vectoring->valid) {
		/* The event never reached the guest; delivering it again is what the CPU would have done. */
		f.inject = *vectoring;
		return f;
	}
	/* The bit is meaningful only when no event delivery was under way (SDM 28.2.3). */
	f.block_nmi = exit_nmi_unblocked(reason, exit_intr_info, qualification);
	return f;
}

bool vmx_single_step_due(uint64_t rflags, uint64_t debugctl)
{
	return (rflags & RFLAGS_TF) && !(debugctl & DEBUGCTL_BTF);
}
