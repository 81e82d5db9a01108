/* Unit tests for kernel/arch/x86/vmx/caps_check.c: control adjustment and the go/no-go check. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/arch/x86/hw/msr.h"
#include "kernel/arch/x86/vmx/caps.h"
#include "kernel/lib/err.h"
#include "tests/unit/check_run.h"

/* IA32_VMX_BASIC and IA32_VMX_EPT_VPID_CAP as Bochs reports them; the control MSRs below are illustrative. */
#define BOCHS_VMX_BASIC 0x00d810000000002bull
#define BOCHS_EPT_VPID_CAP 0x00000f0106334141ull

static struct vmx_caps bochs(void)
{
	struct vmx_caps c;

	memset(&c, 0, sizeof(c));
	c.vmx = true;
	c.enabled_by_firmware = true;
	c.revision = (uint32_t)(BOCHS_VMX_BASIC & VMX_BASIC_REVISION_MASK);
	c.true_ctls = (BOCHS_VMX_BASIC & VMX_BASIC_TRUE_CTLS) != 0;
	c.pinbased = 0x000000ff00000016ull;
	c.procbased = 0xfff9fffe04006172ull;
	c.procbased2 = 0x000000ff00000000ull;
	c.exit = 0x003fffff00036dffull;
	c.entry = 0x0000f3ff000011ffull;
	c.ept_vpid = BOCHS_EPT_VPID_CAP;
	c.ept = c.unrestricted_guest = c.vpid = c.preemption_timer = true;
	c.ept_2m = (c.ept_vpid & EPT_CAP_2MB) != 0;
	c.ept_1g = (c.ept_vpid & EPT_CAP_1GB) != 0;
	c.ept_ad = (c.ept_vpid & EPT_CAP_AD) != 0;
	c.ept_wb = (c.ept_vpid & EPT_CAP_WB) != 0;
	c.invept_single = (c.ept_vpid & EPT_CAP_INVEPT) && (c.ept_vpid & EPT_CAP_INVEPT_SINGLE);
	return c;
}

START_TEST(test_bochs_values_decode_as_expected)
{
	struct vmx_caps c = bochs();

	ck_assert_uint_eq(c.revision, 0x2b);
	ck_assert(c.true_ctls);
	ck_assert(c.ept_wb);
	ck_assert(c.invept_single);
	ck_assert(c.ept_2m);
	ck_assert(c.ept_ad);
	ck_assert_uint_ne(c.ept_vpid & EPT_CAP_WALK_4, 0);
}
END_TEST

START_TEST(test_bochs_passes)
{
	struct vmx_caps c = bochs();
	char why[128] = "untouched";

	ck_assert_int_eq(vmx_caps_check(&c, why, sizeof(why)), HV_OK);
	ck_assert_str_eq(why, "untouched");
	/* Optional features do not matter. */
	c.vpid = c.pml = c.ept_1g = c.ept_2m = c.ept_ad = false;
	ck_assert_int_eq(vmx_caps_check(&c, why, sizeof(why)), HV_OK);
}
END_TEST

static void no_vmx(struct vmx_caps *c) { c->vmx = false; }
static void no_firmware(struct vmx_caps *c) { c->enabled_by_firmware = false; }
static void no_ept(struct vmx_caps *c) { c->ept = false; }
static void no_ept_wb(struct vmx_caps *c) { c->ept_wb = false; }
static void no_walk_4(struct vmx_caps *c) { c->ept_vpid &= ~EPT_CAP_WALK_4; }
static void no_unrestricted(struct vmx_caps *c) { c->unrestricted_guest = false; }
static void no_timer(struct vmx_caps *c) { c->preemption_timer = false; }
static void no_invept_single(struct vmx_caps *c) { c->invept_single = false; }

static const struct missing_case {
	void (*remove)(struct vmx_caps *c);
	const char *mentions, *not_mentions;
} missing[] = {
	{ no_vmx, "VT-x", "EPT" },
	{ no_firmware, "disabled by the firmware", "EPT" },
	{ no_ept, "EPT", "unrestricted" },
	{ no_ept_wb, "write-back", "unrestricted" },
	{ no_walk_4, "4-level", "unrestricted" },
	{ no_unrestricted, "unrestricted guest", "EPT" },
	{ no_timer, "preemption timer", "EPT" },
	{ no_invept_single, "INVEPT", "preemption" },
};

START_TEST(test_each_missing_feature_refused)
{
	const struct missing_case *m = &missing[_i];
	struct vmx_caps c = bochs();
	char why[160];

	memset(why, 0, sizeof(why));
	m->remove(&c);
	ck_assert_int_eq(vmx_caps_check(&c, why, sizeof(why)), HV_ENOTSUP);
	ck_assert_msg(strstr(why, m->mentions) != NULL, "\"%s\" lacks \"%s\"", why, m->mentions);
	ck_assert_msg(strstr(why, m->not_mentions) == NULL, "\"%s\" mentions \"%s\"", why, m->not_mentions);
	ck_assert_ptr_null(strchr(why, '\n')); /* one line */
	ck_assert_uint_lt(strlen(why), sizeof(why) - 1);
}
END_TEST

START_TEST(test_no_vmx_reported_first)
{
	struct vmx_caps c;
	char why[160] = "";

	/* With nothing at all, the first thing missing is VT-x itself. */
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(vmx_caps_check(&c, why, sizeof(why)), HV_ENOTSUP);
	ck_assert_ptr_nonnull(strstr(why, "VT-x"));
	ck_assert_ptr_null(strstr(why, "EPT"));
}
END_TEST

START_TEST(test_why_truncated_safely)
{
	struct vmx_caps c = bochs();
	char why[8];

	memset(why, 'x', sizeof(why));
	c.preemption_timer = false;
	ck_assert_int_eq(vmx_caps_check(&c, why, sizeof(why)), HV_ENOTSUP);
	ck_assert_uint_eq(strlen(why), sizeof(why) - 1);
	ck_assert_int_eq(vmx_caps_check(&c, NULL, 0), HV_ENOTSUP);
}
END_TEST

START_TEST(test_adjust_forces_allowed0_bits)
{
	uint32_t missing = 0xdead;

	/* Bochs' pin-based controls: bits 1, 2, 4 must be 1. */
	ck_assert_uint_eq(vmx_ctls_adjust(0x000000ff00000016ull, 0, &missing), 0x16);
	ck_assert_uint_eq(missing, 0);
	ck_assert_uint_eq(vmx_ctls_adjust(0x000000ff00000016ull, 0x41, &missing), 0x57);
	ck_assert_uint_eq(missing, 0);
}
END_TEST

START_TEST(test_adjust_limits_to_allowed1_and_reports_missing)
{
	uint32_t missing = 0;

	/* May set bits 0-7 only; wanted bits 8 and 31 are dropped and reported. */
	ck_assert_uint_eq(vmx_ctls_adjust(0x000000ff00000016ull, 0x80000141u, &missing), 0x57);
	ck_assert_uint_eq(missing, 0x80000100u);
	/* Nothing allowed at all. */
	ck_assert_uint_eq(vmx_ctls_adjust(0, 0xffffffffu, &missing), 0);
	ck_assert_uint_eq(missing, 0xffffffffu);
	/* Everything allowed, nothing forced. */
	ck_assert_uint_eq(vmx_ctls_adjust(0xffffffff00000000ull, 0x12345678u, &missing), 0x12345678u);
	ck_assert_uint_eq(missing, 0);
}
END_TEST

START_TEST(test_adjust_secondary_ept_and_unrestricted)
{
	struct vmx_caps c = bochs();
	uint32_t missing = 1;
	const uint32_t enable_ept = 1u << 1, unrestricted = 1u << 7, pml = 1u << 17;

	ck_assert_uint_eq(vmx_ctls_adjust(c.procbased2, enable_ept | unrestricted, &missing), enable_ept | unrestricted);
	ck_assert_uint_eq(missing, 0);
	ck_assert_uint_eq(vmx_ctls_adjust(c.procbased2, enable_ept | pml, &missing), enable_ept);
	ck_assert_uint_eq(missing, pml);
}
END_TEST

static Suite *vmx_caps_suite(void)
{
	Suite *s = suite_create("vmx_caps");
	TCase *tc = tcase_create("vmx_caps");

	tcase_add_test(tc, test_bochs_values_decode_as_expected);
	tcase_add_test(tc, test_bochs_passes);
	tcase_add_loop_test(tc, test_each_missing_feature_refused, 0, sizeof(missing) / sizeof(missing[0]));
	tcase_add_test(tc, test_no_vmx_reported_first);
	tcase_add_test(tc, test_why_truncated_safely);
	tcase_add_test(tc, test_adjust_forces_allowed0_bits);
	tcase_add_test(tc, test_adjust_limits_to_allowed1_and_reports_missing);
	tcase_add_test(tc, test_adjust_secondary_ept_and_unrestricted);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(vmx_caps_suite());
}
