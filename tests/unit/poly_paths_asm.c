/*
 * OpenSSL's Poly1305 assembly (migration/mac_poly_asm.h): every path this
 * CPU and its OS allow, forced in turn, and the choice of path itself on
 * made-up CPUs.
 */
#include <stdint.h>
#include "migration/mac_poly_asm.h"
#include "linerate/host_cpu.h"
#include "tests/unit/poly_paths.h"

#define OSXSAVE (1u << 27)
#define AVX (1u << 28)
#define AVX2 (1u << 5)
#define AVX512F (1u << 16)
#define AVX512IFMA (1u << 21)
#define AVX512VL (1u << 31)
#define XCR0_X87_SSE_AVX 0x7ull
#define XCR0_AVX512 0xe0ull

unsigned poly_test_paths(void)
{
	struct migr_cpu c = lr_host_cpu();
	uint32_t cap[4];

	return (unsigned)migr_poly_caps(&c, MIGR_POLY_IFMA, cap) + 1;
}

const char *poly_test_path(unsigned i)
{
	struct migr_cpu c = lr_host_cpu();
	enum migr_poly_path p = migr_poly_use(&c, (enum migr_poly_path)i);

	return p == i ? migr_poly_path_name(p) : NULL;
}

static const struct migr_cpu all = {
	.leaf1_ecx = OSXSAVE | AVX,
	.leaf7_ebx = AVX2 | AVX512F | AVX512IFMA | AVX512VL,
	.xcr0 = XCR0_X87_SSE_AVX | XCR0_AVX512,
};

START_TEST(test_widest_path_allowed)
{
	uint32_t cap[4];

	ck_assert_uint_eq(migr_poly_caps(&all, MIGR_POLY_IFMA, cap), MIGR_POLY_IFMA);
	ck_assert_uint_eq(cap[1] & AVX, AVX);
	ck_assert_uint_eq(cap[2] & (AVX2 | AVX512F | AVX512VL | AVX512IFMA), AVX2 | AVX512F | AVX512VL | AVX512IFMA);
	/* Below IFMA, its bit stays clear: OpenSSL's init takes radix 2^44 whenever F, IFMA and VL are set. */
	ck_assert_uint_eq(migr_poly_caps(&all, MIGR_POLY_AVX512, cap), MIGR_POLY_AVX512);
	ck_assert_uint_eq(cap[2] & (AVX2 | AVX512F | AVX512VL | AVX512IFMA), AVX2 | AVX512F | AVX512VL);
	ck_assert_uint_eq(migr_poly_caps(&all, MIGR_POLY_AVX2, cap), MIGR_POLY_AVX2);
	ck_assert_uint_eq(cap[2] & (AVX2 | AVX512F), AVX2);
	ck_assert_uint_eq(migr_poly_caps(&all, MIGR_POLY_AVX, cap), MIGR_POLY_AVX);
	ck_assert_uint_eq(cap[2] & (AVX2 | AVX512F), 0);
	ck_assert_uint_eq(migr_poly_caps(&all, MIGR_POLY_SCALAR, cap), MIGR_POLY_SCALAR);
	ck_assert_uint_eq(cap[1] & AVX, 0);
	ck_assert_uint_eq(cap[2] & (AVX2 | AVX512F), 0);
}
END_TEST

/* What the OS did not enable is not used, whatever CPUID says. */
START_TEST(test_xcr0_decides)
{
	struct migr_cpu c = all;
	uint32_t cap[4];

	c.leaf1_ecx &= ~OSXSAVE; /* XCR0 unreadable: CR4.OSXSAVE is clear */
	ck_assert_uint_eq(migr_poly_caps(&c, MIGR_POLY_AVX512, cap), MIGR_POLY_SCALAR);
	ck_assert_uint_eq(cap[1] & AVX, 0);
	c = all;
	c.xcr0 = 0x3; /* x87 and SSE only */
	ck_assert_uint_eq(migr_poly_caps(&c, MIGR_POLY_AVX512, cap), MIGR_POLY_SCALAR);
	ck_assert_uint_eq(cap[2] & (AVX2 | AVX512F), 0);
	c.xcr0 = XCR0_X87_SSE_AVX | 0x60; /* no ZMM16-31 */
	ck_assert_uint_eq(migr_poly_caps(&c, MIGR_POLY_IFMA, cap), MIGR_POLY_AVX2);
	ck_assert_uint_eq(cap[2] & (AVX2 | AVX512F | AVX512IFMA), AVX2);
}
END_TEST

START_TEST(test_cpuid_decides)
{
	struct migr_cpu c = all;
	uint32_t cap[4];

	c.leaf7_ebx &= ~AVX512VL; /* IFMA without VL: OpenSSL's IFMA code also runs on 256-bit registers */
	ck_assert_uint_eq(migr_poly_caps(&c, MIGR_POLY_IFMA, cap), MIGR_POLY_AVX512);
	ck_assert_uint_eq(cap[2] & AVX512IFMA, 0);
	c = all;
	c.leaf7_ebx &= ~AVX512IFMA;
	ck_assert_uint_eq(migr_poly_caps(&c, MIGR_POLY_IFMA, cap), MIGR_POLY_AVX512);
	ck_assert_uint_eq(cap[2] & AVX512IFMA, 0);
	c.leaf7_ebx |= AVX512IFMA;
	c.leaf7_ebx &= ~AVX512F;
	ck_assert_uint_eq(migr_poly_caps(&c, MIGR_POLY_IFMA, cap), MIGR_POLY_AVX2);
	ck_assert_uint_eq(cap[2] & AVX512IFMA, 0);
	c.leaf7_ebx &= ~AVX2;
	ck_assert_uint_eq(migr_poly_caps(&c, MIGR_POLY_AVX512, cap), MIGR_POLY_AVX);
	ck_assert_uint_eq(cap[2] & (AVX2 | AVX512F), 0);
	c.leaf1_ecx &= ~AVX;
	ck_assert_uint_eq(migr_poly_caps(&c, MIGR_POLY_AVX512, cap), MIGR_POLY_SCALAR);
	ck_assert_uint_eq(cap[1] & AVX, 0);
}
END_TEST

void poly_test_extra(Suite *s)
{
	TCase *tc = tcase_create("path choice");

	tcase_add_test(tc, test_widest_path_allowed);
	tcase_add_test(tc, test_xcr0_decides);
	tcase_add_test(tc, test_cpuid_decides);
	suite_add_tcase(s, tc);
}
