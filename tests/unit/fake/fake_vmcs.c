#include "tests/unit/fake/fake_vmcs.h"

#include <stdlib.h>
#include <string.h>
#include "kernel/arch/x86/hw/hwops.h"

#define VMFAIL_INVALID (-1)
#define VMFAIL_VALID (-2)

struct fake_vmx fake_vmx;

void fake_vmx_reset(void) { memset(&fake_vmx, 0, sizeof(fake_vmx)); }

static struct fake_vmcs *fake_find(uint64_t pa, bool create)
{
	unsigned i;

	for (i = 0; i < FAKE_VMCS_MAX; i++)
		if (fake_vmx.vmcs[i].pa == pa)
			return &fake_vmx.vmcs[i];
	for (i = 0; create && i < FAKE_VMCS_MAX; i++)
		if (!fake_vmx.vmcs[i].pa) {
			fake_vmx.vmcs[i].pa = pa;
			return &fake_vmx.vmcs[i];
		}
	return NULL;
}

static const uint64_t *fake_field(const struct fake_vmcs *c, uint32_t field)
{
	unsigned i;

	for (i = 0; c && i < c->count; i++)
		if (c->field[i] == field)
			return &c->value[i];
	return NULL;
}

uint64_t fake_vmcs_get(uint64_t pa, uint32_t field)
{
	const uint64_t *v = fake_field(fake_find(pa, false), field);

	return v ? *v : 0;
}

/* The slot of field in the VMCS at pa, made if new. */
static unsigned fake_slot(uint64_t pa, uint32_t field)
{
	struct fake_vmcs *c = fake_find(pa, true);
	const uint64_t *v = c ? fake_field(c, field) : NULL;

	if (!c || (!v && c->count == FAKE_VMCS_FIELDS))
		abort(); /* the fake is too small for the test: make it bigger */
	if (v)
		return (unsigned)(v - c->value);
	c->field[c->count] = field;
	return c->count++;
}

void fake_vmcs_set(uint64_t pa, uint32_t field, uint64_t value)
{
	fake_find(pa, true)->value[fake_slot(pa, field)] = value;
}

bool fake_vmcs_written(uint64_t pa, uint32_t field)
{
	const struct fake_vmcs *c = fake_find(pa, false);
	const uint64_t *v = fake_field(c, field);

	return v && c->written[v - c->value];
}

struct fake_vmcs fake_vmcs_copy(uint64_t pa)
{
	const struct fake_vmcs *c = fake_find(pa, false);
	struct fake_vmcs none = { .pa = pa };

	return c ? *c : none;
}

static bool fake_subset_same(const struct fake_vmcs *a, const struct fake_vmcs *b)
{
	unsigned i;

	for (i = 0; i < a->count; i++) {
		const uint64_t *v = fake_field(b, a->field[i]);

		if (a->value[i] != (v ? *v : 0))
			return false;
	}
	return true;
}

bool fake_vmcs_same(const struct fake_vmcs *a, const struct fake_vmcs *b)
{
	return fake_subset_same(a, b) && fake_subset_same(b, a);
}

int vmptrld(uint64_t pa)
{
	fake_vmx.vmptrld_calls++;
	if (!pa || (fake_vmx.fail && fake_vmx.fail("vmptrld")))
		return VMFAIL_INVALID;
	fake_vmx.current_pa = pa;
	return 0;
}

int vmclear(uint64_t pa)
{
	if (fake_vmx.current_pa == pa)
		fake_vmx.current_pa = 0;
	return pa ? 0 : VMFAIL_INVALID;
}

int vmread(uint64_t field, uint64_t *value)
{
	if (!fake_vmx.current_pa)
		return VMFAIL_INVALID;
	*value = fake_vmcs_get(fake_vmx.current_pa, (uint32_t)field);
	return 0;
}

int vmwrite(uint64_t field, uint64_t value)
{
	struct fake_vmcs *c;
	unsigned i;

	if (!fake_vmx.current_pa)
		return VMFAIL_INVALID;
	i = fake_slot(fake_vmx.current_pa, (uint32_t)field);
	c = fake_find(fake_vmx.current_pa, false);
	c->value[i] = value;
	c->written[i] = true;
	return 0;
}

int invept(uint64_t type, uint64_t eptp)
{
	if (type != INVEPT_SINGLE_CONTEXT && type != INVEPT_ALL_CONTEXT)
		return VMFAIL_VALID;
	fake_vmx.invept_calls++;
	if (fake_vmx.fail && fake_vmx.fail("invept"))
		return VMFAIL_VALID;
	if (fake_vmx.on_invept)
		fake_vmx.on_invept(fake_vmx.on_invept_ctx);
	fake_vmx.invept_eptp = eptp;
	return 0;
}
