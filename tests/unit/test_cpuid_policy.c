/* Unit tests for kernel/arch/x86/vmx/cpuid_policy.c: what CPUID tells a guest, from the host's answers. */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include "kernel/arch/x86/hw/cpuid.h"
#include "kernel/arch/x86/vmx/cpuid_policy.h"
#include "tests/unit/check_run.h"

static const struct cpuid_regs all = { ~0u, ~0u, ~0u, ~0u };

static struct cpuid_vcpu vcpu(unsigned id, unsigned count)
{
	return (struct cpuid_vcpu){
		.host_max_basic = 0x1f, .host_max_ext = 0x80000008, .id = id, .count = count, .tsc_hz = 50000000
	};
}

static struct cpuid_regs ask(uint32_t leaf, uint32_t subleaf, struct cpuid_regs host, unsigned id, unsigned count)
{
	struct cpuid_vcpu who = vcpu(id, count);

	return cpuid_policy(leaf, subleaf, host, &who);
}

static bool is_zero(struct cpuid_regs r) { return !(r.eax | r.ebx | r.ecx | r.edx); }

START_TEST(test_max_leaves_and_vendor)
{
	struct cpuid_regs host = { 0x1f, 0x756e6547, 0x6c65746e, 0x49656e69 }; /* "GenuineIntel" */
	struct cpuid_regs r = ask(CPUID_LEAF_VENDOR, 0, host, 0, 1);

	ck_assert_uint_eq(r.eax, CPUID_GUEST_MAX_BASIC);
	ck_assert_uint_eq(r.ebx, host.ebx);
	ck_assert_uint_eq(r.ecx, host.ecx);
	ck_assert_uint_eq(r.edx, host.edx);
	r = ask(CPUID_LEAF_EXT_MAX, 0, (struct cpuid_regs){ 0x80000021, 0, 0, 0 }, 0, 1);
	ck_assert_uint_eq(r.eax, CPUID_GUEST_MAX_EXT);
}
END_TEST

START_TEST(test_leaf1_hides_what_is_not_enabled)
{
	struct cpuid_regs r = ask(CPUID_LEAF_FEATURES, 0, all, 0, 1);

	ck_assert_uint_eq(r.ecx & (CPUID_1_ECX_VMX | CPUID_1_ECX_MONITOR | CPUID_1_ECX_XSAVE | CPUID_1_ECX_OSXSAVE |
				   CPUID_1_ECX_AVX | CPUID_1_ECX_X2APIC | CPUID_1_ECX_PDCM),
			  0);
	ck_assert_uint_eq(r.edx & (CPUID_1_EDX_APIC | CPUID_1_EDX_MCE | CPUID_1_EDX_HTT), 0);
	ck_assert(r.edx & CPUID_1_EDX_MTRR); /* its MSRs are emulated */
	ck_assert(r.ecx & CPUID_1_ECX_HYPERVISOR);
	ck_assert(r.ecx & CPUID_1_ECX_SSE42);
	ck_assert(r.edx & CPUID_1_EDX_SSE2);
	/* Nothing appears that the host lacks. */
	r = ask(CPUID_LEAF_FEATURES, 0, (struct cpuid_regs){ 0, 0, 0, 0 }, 0, 1);
	ck_assert_uint_eq(r.ecx, CPUID_1_ECX_HYPERVISOR);
	ck_assert_uint_eq(r.edx, 0);
}
END_TEST

START_TEST(test_tsc_frequency_leaf)
{
	struct cpuid_vcpu who = vcpu(0, 1);
	struct cpuid_regs r = cpuid_policy(CPUID_LEAF_TSC, 0, all, &who);

	/* TSC = crystal * EBX / EAX: the guest's frequency, whatever the host's leaf says. */
	ck_assert_uint_eq(r.eax, 1);
	ck_assert_uint_eq(r.ebx, 1);
	ck_assert_uint_eq(r.ecx, 50000000);
	ck_assert_uint_eq(r.edx, 0);
	who.tsc_hz = 0; /* unknown: the leaf says nothing */
	ck_assert(is_zero(cpuid_policy(CPUID_LEAF_TSC, 0, all, &who)));
	/* The leaves between XSAVE's and this one stay empty. */
	ck_assert(is_zero(cpuid_policy(0x14, 0, all, &who)));
	ck_assert(is_zero(cpuid_policy(0x16, 0, all, &who)));
}
END_TEST

START_TEST(test_each_vcpu_has_its_own_apic_id)
{
	unsigned count = 4;

	for (unsigned id = 0; id < count; id++) {
		struct cpuid_regs r = ask(CPUID_LEAF_FEATURES, 0, all, id, count);

		ck_assert_uint_eq(r.ebx >> CPUID_1_EBX_APIC_ID_SHIFT, id);
		ck_assert_uint_eq((r.ebx >> CPUID_1_EBX_LOGICAL_COUNT_SHIFT) & 0xff, 4);
		ck_assert(r.edx & CPUID_1_EDX_HTT);
		ck_assert_uint_eq(r.ebx & CPUID_1_EBX_BRAND_CLFLUSH_MASK, CPUID_1_EBX_BRAND_CLFLUSH_MASK);
		/* Leaf 0xB gives the same ID at every level. */
		for (uint32_t level = 0; level < 3; level++)
			ck_assert_uint_eq(ask(CPUID_LEAF_TOPOLOGY, level, all, id, count).edx, id);
	}
}
END_TEST

START_TEST(test_topology_leaf_describes_count_cores)
{
	static const struct {
		unsigned count, shift, ids;
	} cases[] = { { 1, 0, 1 }, { 2, 1, 2 }, { 3, 2, 4 }, { 4, 2, 4 } };
	unsigned count = cases[_i].count;
	struct cpuid_regs smt = ask(CPUID_LEAF_TOPOLOGY, 0, all, 0, count);
	struct cpuid_regs core = ask(CPUID_LEAF_TOPOLOGY, 1, all, 0, count);
	struct cpuid_regs end = ask(CPUID_LEAF_TOPOLOGY, 2, all, 0, count);
	struct cpuid_regs l1 = ask(CPUID_LEAF_CACHE_PARAMS, 0, (struct cpuid_regs){ 0x121 | 0xfc000000, 1, 2, 3 },
				   0, count);
	struct cpuid_regs l3 = ask(CPUID_LEAF_CACHE_PARAMS, 3, (struct cpuid_regs){ 0x163, 1, 2, 3 }, 0, count);

	ck_assert_uint_eq(smt.eax, 0);
	ck_assert_uint_eq(smt.ebx, 1);
	ck_assert_uint_eq(smt.ecx, CPUID_B_TYPE_SMT << CPUID_B_ECX_TYPE_SHIFT);
	ck_assert_uint_eq(core.eax, cases[_i].shift);
	ck_assert_uint_eq(core.ebx, count);
	ck_assert_uint_eq(core.ecx, 1 | CPUID_B_TYPE_CORE << CPUID_B_ECX_TYPE_SHIFT);
	ck_assert_uint_eq(end.eax | end.ebx, 0);
	ck_assert_uint_eq(end.ecx, 2);
	/* Leaf 4 agrees: cores per package, private L1, L3 shared by all. */
	ck_assert_uint_eq(l1.eax >> CPUID_4_EAX_CORES_SHIFT, cases[_i].ids - 1);
	ck_assert_uint_eq((l1.eax & CPUID_4_EAX_SHARING_MASK) >> CPUID_4_EAX_SHARING_SHIFT, 0);
	ck_assert_uint_eq(l1.eax & ~(CPUID_4_EAX_CORES_MASK | CPUID_4_EAX_SHARING_MASK), 0x121);
	ck_assert_uint_eq((l3.eax & CPUID_4_EAX_SHARING_MASK) >> CPUID_4_EAX_SHARING_SHIFT, cases[_i].ids - 1);
	ck_assert_uint_eq(l3.ebx, 1);
	ck_assert(is_zero(ask(CPUID_LEAF_CACHE_PARAMS, 4, (struct cpuid_regs){ 0, 1, 2, 3 }, 0, count)));
}
END_TEST

START_TEST(test_leaf7_hides_invpcid_and_state_we_do_not_switch)
{
	struct cpuid_regs r = ask(CPUID_LEAF_EXT_FEATURES, 0, all, 0, 1);

	ck_assert_uint_eq(r.eax, 0);
	ck_assert_uint_eq(r.ebx & (CPUID_7_EBX_INVPCID | CPUID_7_EBX_AVX2), 0);
	ck_assert_uint_eq(r.ebx & (1u << 16) /* AVX512F */, 0);
	ck_assert_uint_eq(r.ecx & (CPUID_7_ECX_PKU | CPUID_7_ECX_WAITPKG | CPUID_7_ECX_RDPID), 0);
	ck_assert(r.ebx & CPUID_7_EBX_SMEP);
	ck_assert(r.ebx & CPUID_7_EBX_ERMS);
	ck_assert(is_zero(ask(CPUID_LEAF_EXT_FEATURES, 1, all, 0, 1)));
}
END_TEST

START_TEST(test_leaves_without_support_are_zero)
{
	static const uint32_t leaves[] = { CPUID_LEAF_SERIAL, CPUID_LEAF_MONITOR, CPUID_LEAF_POWER, CPUID_LEAF_PMU,
					   CPUID_LEAF_XSAVE, 0xe, 0x14, 0x1f, 0x40000001, 0x80000005, 0x80000009 };

	ck_assert(is_zero(ask(leaves[_i], 0, all, 0, 2)));
}
END_TEST

START_TEST(test_extended_leaves)
{
	struct cpuid_regs r = ask(CPUID_LEAF_EXT_FEATURES_1, 0, all, 0, 1);

	ck_assert_uint_eq(r.edx & CPUID_80000001_EDX_RDTSCP, 0);
	ck_assert(r.edx & CPUID_80000001_EDX_LM);
	ck_assert(r.edx & CPUID_80000001_EDX_NX);
	ck_assert(r.ecx & CPUID_80000001_ECX_LAHF);
	ck_assert_uint_eq(r.ecx & (1u << 2) /* SVM */, 0);
	r = ask(CPUID_LEAF_BRAND_FIRST, 0, (struct cpuid_regs){ 1, 2, 3, 4 }, 0, 1);
	ck_assert_uint_eq(r.eax + r.ebx + r.ecx + r.edx, 10);
	r = ask(CPUID_LEAF_EXT_POWER, 0, all, 0, 1);
	ck_assert_uint_eq(r.edx, CPUID_80000007_EDX_INVARIANT_TSC);
	r = ask(CPUID_LEAF_EXT_ADDR_SIZES, 0, (struct cpuid_regs){ 0x3027, 7, 7, 7 }, 0, 1);
	ck_assert_uint_eq(r.eax, 0x3027);
	ck_assert_uint_eq(r.ebx | r.ecx | r.edx, 0);
}
END_TEST

START_TEST(test_host_answer_past_its_maximum_is_not_passed_on)
{
	/* An old host answers leaf 7 with its highest basic leaf's data, which must not read as features. */
	struct cpuid_vcpu old = { .host_max_basic = 3, .host_max_ext = 0x80000004, .id = 0, .count = 1 };

	ck_assert(is_zero(cpuid_policy(CPUID_LEAF_EXT_FEATURES, 0, all, &old)));
	ck_assert(is_zero(cpuid_policy(CPUID_LEAF_CACHE_PARAMS, 0, all, &old)));
	ck_assert(is_zero(cpuid_policy(CPUID_LEAF_EXT_ADDR_SIZES, 0, all, &old)));
	ck_assert_uint_eq(cpuid_policy(CPUID_LEAF_EXT_MAX, 0, (struct cpuid_regs){ 0x80000004, 0, 0, 0 }, &old).eax,
			  0x80000004);
	/* The topology is ours: the host need not have leaf 0xB. */
	ck_assert_uint_eq(cpuid_policy(CPUID_LEAF_TOPOLOGY, 1, all, &old).ebx, 1);
}
END_TEST

START_TEST(test_hypervisor_leaf)
{
	struct cpuid_regs r = ask(CPUID_LEAF_HV_BASE, 0, all, 0, 1);

	ck_assert_uint_eq(r.eax, CPUID_HV_MAX);
	ck_assert_uint_eq(r.ebx, CPUID_HV_SIG_EBX);
	ck_assert_uint_eq(r.ecx, CPUID_HV_SIG_ECX);
	ck_assert_uint_eq(r.edx, CPUID_HV_SIG_EDX);
}
END_TEST

static Suite *cpuid_policy_suite(void)
{
	Suite *s = suite_create("cpuid_policy");
	TCase *tc = tcase_create("cpuid_policy");

	tcase_add_test(tc, test_max_leaves_and_vendor);
	tcase_add_test(tc, test_tsc_frequency_leaf);
	tcase_add_test(tc, test_leaf1_hides_what_is_not_enabled);
	tcase_add_test(tc, test_each_vcpu_has_its_own_apic_id);
	tcase_add_loop_test(tc, test_topology_leaf_describes_count_cores, 0, 4);
	tcase_add_test(tc, test_leaf7_hides_invpcid_and_state_we_do_not_switch);
	tcase_add_loop_test(tc, test_leaves_without_support_are_zero, 0, 11);
	tcase_add_test(tc, test_extended_leaves);
	tcase_add_test(tc, test_host_answer_past_its_maximum_is_not_passed_on);
	tcase_add_test(tc, test_hypervisor_leaf);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(cpuid_policy_suite());
}
