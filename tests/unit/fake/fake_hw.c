#include <string.h>
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/hw/msr.h"
#include "tests/unit/fake/fake_vmcs.h"

struct fake_hw fake_hw;

/* The registers and the VMCS both: a test starts from a CPU that has done nothing. */
void fake_hw_reset(void)
{
	memset(&fake_hw, 0, sizeof(fake_hw));
	fake_vmx_reset();
}

void fake_msr_set(uint32_t index, uint64_t value)
{
	for (unsigned i = 0; i < FAKE_MSRS; i++) {
		if (fake_hw.msrs[i].index == index || fake_hw.msrs[i].index == 0) {
			fake_hw.msrs[i] = (struct fake_msr){ index, value };
			return;
		}
	}
}

void fake_hw_vmx_cpu(void)
{
	static const struct fake_msr msrs[] = {
		{ MSR_IA32_FEATURE_CONTROL, FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMX_OUTSIDE_SMX },
		{ MSR_IA32_VMX_BASIC, 0x00d810000000002bull },
		{ MSR_IA32_VMX_TRUE_PINBASED_CTLS, 0xffffffff00000000ull },
		{ MSR_IA32_VMX_TRUE_PROCBASED_CTLS, 0xffffffff00000000ull },
		{ MSR_IA32_VMX_PROCBASED_CTLS2, 0x02177fff00000000ull },
		{ MSR_IA32_VMX_TRUE_EXIT_CTLS, 0xffffffff00000000ull },
		{ MSR_IA32_VMX_TRUE_ENTRY_CTLS, 0xffffffff00000000ull },
		{ MSR_IA32_VMX_MISC, 0x600401e0 },
		{ MSR_IA32_VMX_CR0_FIXED0, CR0_PE | CR0_NE | CR0_PG },
		{ MSR_IA32_VMX_CR0_FIXED1, ~0ull },
		{ MSR_IA32_VMX_CR4_FIXED0, CR4_VMXE },
		{ MSR_IA32_VMX_CR4_FIXED1, ~0ull },
		{ MSR_IA32_VMX_EPT_VPID_CAP, 0x00000f0106334141ull },
	};

	fake_hw_reset();
	for (unsigned i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++)
		fake_msr_set(msrs[i].index, msrs[i].value);
}
