/* The host's AVX state at boot (kernel/arch/x86/xstate.c), on made-up CPUs. */
#include <check.h>
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/hw/msr.h"
#include "kernel/arch/x86/xstate.h"
#include "tests/unit/check_run.h"

#define CR4_AT_BOOT (CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT)
#define XCR0_AVX2_HOST (XCR0_X87 | XCR0_SSE | XCR0_AVX)

static struct cpu {
	uint32_t leaf1_ecx, leaf7_ebx;
	uint64_t supported; /* CPUID.0xD.0 EDX:EAX */
} cpu;

static struct cpuid_regs answer(uint32_t leaf, uint32_t subleaf)
{
	(void)subleaf;
	switch (leaf) {
	case CPUID_LEAF_VENDOR:
		return (struct cpuid_regs){ .eax = CPUID_LEAF_XSAVE };
	case CPUID_LEAF_FEATURES:
		return (struct cpuid_regs){ .ecx = cpu.leaf1_ecx };
	case CPUID_LEAF_EXT_FEATURES:
		return (struct cpuid_regs){ .ebx = cpu.leaf7_ebx };
	case CPUID_LEAF_XSAVE:
		return (struct cpuid_regs){ .eax = (uint32_t)cpu.supported, .edx = (uint32_t)(cpu.supported >> 32) };
	default:
		return (struct cpuid_regs){ 0 };
	}
}

/* A Skylake-X like Bochs' corei7_skylake_x: VMX allowing OSXSAVE, XSAVE, AVX2, AVX-512F. */
static void skylake_x(void)
{
	fake_hw_reset();
	fake_hw.cpuid = answer;
	fake_hw.cr[4] = CR4_AT_BOOT;
	fake_msr_set(MSR_IA32_VMX_CR4_FIXED1, ~0ull);
	cpu.leaf1_ecx = CPUID_1_ECX_VMX | CPUID_1_ECX_XSAVE | CPUID_1_ECX_AVX;
	cpu.leaf7_ebx = CPUID_7_EBX_AVX2 | CPUID_7_EBX_AVX512F;
	cpu.supported = XCR0_AVX2_HOST | XCR0_AVX512;
}

START_TEST(test_avx512_cpu_gets_every_component)
{
	skylake_x();
	ck_assert_uint_eq(xstate_enable(), XCR0_AVX2_HOST | XCR0_AVX512);
	ck_assert_uint_eq(fake_hw.xcr0, XCR0_AVX2_HOST | XCR0_AVX512);
	ck_assert_uint_eq(fake_hw.cr[4], CR4_AT_BOOT | CR4_OSXSAVE);
	ck_assert_uint_eq(xstate_xcr0(), XCR0_AVX2_HOST | XCR0_AVX512);
}
END_TEST

START_TEST(test_avx2_cpu_gets_ymm_only)
{
	skylake_x();
	cpu.leaf7_ebx &= ~CPUID_7_EBX_AVX512F;
	ck_assert_uint_eq(xstate_enable(), XCR0_AVX2_HOST);
	ck_assert_uint_eq(fake_hw.xcr0, XCR0_AVX2_HOST);
	skylake_x();
	cpu.supported &= ~XCR0_HI16_ZMM; /* AVX-512F without all of its state is not used */
	ck_assert_uint_eq(xstate_enable(), XCR0_AVX2_HOST);
}
END_TEST

/* Anything short of XSAVE, AVX and AVX2 with their state leaves CR4 and XCR0 alone. */
START_TEST(test_short_cpu_is_left_alone)
{
	skylake_x();
	switch (_i) {
	case 0:
		cpu.leaf1_ecx &= ~CPUID_1_ECX_XSAVE;
		break;
	case 1:
		cpu.leaf1_ecx &= ~CPUID_1_ECX_AVX;
		break;
	case 2:
		cpu.leaf7_ebx &= ~CPUID_7_EBX_AVX2;
		break;
	case 3:
		cpu.supported &= ~XCR0_AVX;
		break;
	default:
		fake_msr_set(MSR_IA32_VMX_CR4_FIXED1, ~CR4_OSXSAVE); /* VMXON would clear it again */
		break;
	}
	ck_assert_uint_eq(xstate_enable(), 0);
	ck_assert_uint_eq(fake_hw.xcr0, 0);
	ck_assert_uint_eq(fake_hw.cr[4], CR4_AT_BOOT);
	fake_hw.xcr0 = XCR0_X87; /* what XGETBV would answer, were it allowed */
	ck_assert_uint_eq(xstate_xcr0(), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("xstate");
	TCase *tc = tcase_create("enable");

	tcase_add_test(tc, test_avx512_cpu_gets_every_component);
	tcase_add_test(tc, test_avx2_cpu_gets_ymm_only);
	tcase_add_loop_test(tc, test_short_cpu_is_left_alone, 0, 5);
	suite_add_tcase(s, tc);
	return check_run(s);
}
