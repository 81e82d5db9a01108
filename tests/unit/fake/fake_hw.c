#include <string.h>
#include "kernel/arch/x86/hw/hwops.h"
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
