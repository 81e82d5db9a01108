/* Deciding from the capabilities alone: pure, tested on the host (tests/unit/test_vmx_caps.c). */
#include <stdio.h>
#include "kernel/arch/x86/hw/msr.h"
#include "kernel/arch/x86/vmx/caps.h"
#include "kernel/lib/err.h"

int vmx_caps_check(const struct vmx_caps *c, char *why, size_t len)
{
	const char *missing = NULL;

	if (!c->vmx)
		missing = "VT-x (CPUID.1:ECX.VMX is 0)";
	else if (!c->enabled_by_firmware)
		missing = "VT-x is disabled by the firmware (IA32_FEATURE_CONTROL locked without VMX)";
	else if (!c->ept)
		missing = "EPT (secondary control 'enable EPT' not allowed)";
	else if (!c->ept_wb || !(c->ept_vpid & EPT_CAP_WALK_4))
		missing = "EPT with 4-level walks and write-back memory";
	else if (!c->unrestricted_guest)
		missing = "unrestricted guest";
	else if (!c->preemption_timer)
		missing = "the VMX-preemption timer";
	else if (!c->invept_single)
		missing = "single-context INVEPT";
	if (!missing)
		return HV_OK;
	snprintf(why, len, "this CPU lacks %s", missing);
	return HV_ENOTSUP;
}

uint32_t vmx_ctls_adjust(uint64_t cap, uint32_t wanted, uint32_t *missing)
{
	uint32_t must = (uint32_t)cap, may = (uint32_t)(cap >> 32);

	*missing = wanted & ~may;
	return (wanted | must) & may;
}

