/* Events for the next VM entry: apart from the dispatcher, which the handlers that inject sit below. */
#include "kernel/arch/x86/vmx/event.h"
#include "kernel/arch/x86/vmx/exit.h"
#include "kernel/arch/x86/vmx/vmcs.h"

void exit_inject(const struct vmx_event *e)
{
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, vmx_event_encode(e));
	if (e->has_error_code)
		vmcs_write32(VM_ENTRY_EXCEPTION_ERROR_CODE, e->error_code);
	if (vmx_event_is_software(e))
		vmcs_write32(VM_ENTRY_INSTRUCTION_LEN, e->insn_len);
}

void exit_inject_exception(uint8_t vector, bool has_error_code, uint32_t error_code)
{
	struct vmx_event e = {
		.valid = true,
		.vector = vector,
		.type = INTR_TYPE_HARD_EXCEPTION,
		.has_error_code = has_error_code,
		.error_code = error_code,
	};

	exit_inject(&e);
}
