/*
 * The fake VMCS of host tests: VMPTRLD, VMCLEAR, VMREAD, VMWRITE and INVEPT
 * (tests/unit/fake/kernel/arch/x86/hw/hwops.h) act on arrays of fields, one
 * per VMCS address, so code that touches the VMCS runs on the host, several
 * vCPUs included. A field never written reads as 0. Faults are injected
 * through a hook that may fail any VMPTRLD or INVEPT.
 */
#ifndef HV_TESTS_UNIT_FAKE_VMCS_H
#define HV_TESTS_UNIT_FAKE_VMCS_H

#include <stdbool.h>
#include <stdint.h>

#define FAKE_VMCS_MAX 8
#define FAKE_VMCS_FIELDS 256

struct fake_vmcs {
	uint64_t pa;                    /* 0: slot free */
	unsigned count;
	uint32_t field[FAKE_VMCS_FIELDS];
	uint64_t value[FAKE_VMCS_FIELDS];
	bool written[FAKE_VMCS_FIELDS];  /* by VMWRITE, not by the test */
};

struct fake_vmx {
	struct fake_vmcs vmcs[FAKE_VMCS_MAX];
	uint64_t current_pa;            /* the current VMCS; 0: none */
	unsigned vmptrld_calls, invept_calls;
	uint64_t invept_eptp;           /* the last INVEPT's EPT pointer */
	/* Asked before each VMPTRLD and INVEPT ("vmptrld", "invept"): true makes it fail. */
	bool (*fail)(const char *op);
	/* Called at each INVEPT before it completes: lets a test see the state at that moment. */
	void (*on_invept)(void *ctx);
	void *on_invept_ctx;
};

extern struct fake_vmx fake_vmx;

void fake_vmx_reset(void);
/* The value of field in the VMCS at pa, without making it current (0 if never written). */
uint64_t fake_vmcs_get(uint64_t pa, uint32_t field);
/* Sets field of the VMCS at pa as the CPU would before an exit, without marking it written. */
void fake_vmcs_set(uint64_t pa, uint32_t field, uint64_t value);
/* Whether the code under test wrote field of the VMCS at pa (VMWRITE). */
bool fake_vmcs_written(uint64_t pa, uint32_t field);
/* A copy of the VMCS at pa (all zero if it has no fields yet). */
struct fake_vmcs fake_vmcs_copy(uint64_t pa);
/* True if a and b give every field the same value (a field one lacks counts as 0). */
bool fake_vmcs_same(const struct fake_vmcs *a, const struct fake_vmcs *b);

#endif
