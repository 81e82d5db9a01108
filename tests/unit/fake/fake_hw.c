#include <string.h>
#include "kernel/arch/x86/hw/hwops.h"

struct fake_hw fake_hw;

void fake_hw_reset(void) { memset(&fake_hw, 0, sizeof(fake_hw)); }

void fake_vmcs_set(uint32_t field, uint64_t value) { fake_hw.vmcs[field % FAKE_VMCS_FIELDS] = value; }

void fake_msr_set(uint32_t index, uint64_t value)
{
	for (unsigned i = 0; i < FAKE_MSRS; i++) {
		if (fake_hw.msrs[i].index == index || fake_hw.msrs[i].index == 0) {
			fake_hw.msrs[i] = (struct fake_msr){ index, value };
			return;
		}
	}
}
