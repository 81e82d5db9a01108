#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/lib/log.h"

static uint64_t vmcs_errors;

uint64_t vmcs_read(enum vmcs_field f, const char *caller)
{
	uint64_t v = 0;

	if (vmread(f, &v)) {
		vmcs_errors++;
		log_err("vmx", "VMREAD of field %#x failed in %s()", (unsigned)f, caller);
	}
	return v;
}

void vmcs_write(enum vmcs_field f, uint64_t v, const char *caller)
{
	if (vmwrite(f, v)) {
		uint64_t err = 0;

		vmcs_errors++;
		vmread(VM_INSTRUCTION_ERROR, &err);
		log_err("vmx", "VMWRITE of field %#x = %#llx failed (instruction error %llu) in %s()", (unsigned)f,
			(unsigned long long)v, (unsigned long long)err, caller);
	}
}

uint64_t vmcs_error_count(void) { return vmcs_errors; }
