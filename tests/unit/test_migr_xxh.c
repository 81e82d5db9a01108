/* The page hash's code paths (migration/xxh.h): each path this CPU allows gives the scalar hash; the pick. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "linerate/host_cpu.h"
#include "migration/xxh.h"
#include "tests/unit/check_run.h"

#define PAGES 64

/* XXH3-64 of the page with byte i = i * 31 + 7, from Debian's libxxhash.so (a build other than ours). */
#define KAT_HASH 0xa3c19f8174cde0bbull

static uint8_t pages[PAGES + 2][MIGR_PAGE_SIZE];

static void fill(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t i;

	for (i = 0; i < sizeof(pages[0]) * PAGES; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		pages[i / MIGR_PAGE_SIZE][i % MIGR_PAGE_SIZE] = (uint8_t)x;
	}
	memset(pages[PAGES], 0, MIGR_PAGE_SIZE);
	memset(pages[PAGES + 1], 0xff, MIGR_PAGE_SIZE);
}

START_TEST(test_known_answer)
{
	uint8_t p[MIGR_PAGE_SIZE];
	size_t i;

	for (i = 0; i < sizeof(p); i++)
		p[i] = (uint8_t)(i * 31 + 7);
	ck_assert_uint_eq(migr_page_hash_scalar(p), KAT_HASH);
}
END_TEST

START_TEST(test_every_path_hashes_alike)
{
	const struct migr_cpu host = lr_host_cpu();
	unsigned tried = 0;
	int p;
	size_t i;

	fill();
	for (p = MIGR_XXH_SCALAR; p < MIGR_XXH_PATHS; p++) {
		if ((int)migr_xxh_pick(&host, (enum migr_xxh_path)p) != p)
			continue; /* not on this CPU */
		ck_assert_int_eq((int)migr_xxh_use(&host, (enum migr_xxh_path)p), p);
		ck_assert_int_eq((int)migr_xxh_now(), p);
		for (i = 0; i < PAGES + 2; i++)
			ck_assert_msg(migr_page_hash(pages[i]) == migr_page_hash_scalar(pages[i]), "%s, page %zu",
				      migr_xxh_path_name((enum migr_xxh_path)p), i);
		tried++;
	}
	ck_assert_uint_ge(tried, 2); /* scalar and SSE2 on any x86-64 */
	(void)migr_xxh_use(&host, MIGR_XXH_SCALAR);
}
END_TEST

START_TEST(test_pick)
{
	const uint32_t osx_avx = MIGR_CPU1_OSXSAVE | MIGR_CPU1_AVX;
	const uint64_t ymm = 0x7, zmm = 0xe7;
	struct migr_cpu none = { 0 }, sse2 = { .leaf1_edx = MIGR_CPU1_EDX_SSE2 };
	struct migr_cpu avx2 = { .leaf1_ecx = osx_avx, .leaf1_edx = MIGR_CPU1_EDX_SSE2, .leaf7_ebx = MIGR_CPU7_AVX2,
				 .xcr0 = ymm };
	struct migr_cpu all = avx2, c;

	all.leaf7_ebx |= MIGR_CPU7_AVX512F;
	all.xcr0 = zmm;
	ck_assert_int_eq(migr_xxh_pick(&none, MIGR_XXH_AVX512), MIGR_XXH_SCALAR);
	ck_assert_int_eq(migr_xxh_pick(&sse2, MIGR_XXH_AVX512), MIGR_XXH_SSE2);
	ck_assert_int_eq(migr_xxh_pick(&avx2, MIGR_XXH_AVX512), MIGR_XXH_AVX2);
	ck_assert_int_eq(migr_xxh_pick(&all, MIGR_XXH_AVX512), MIGR_XXH_AVX512);
	/* The caller's limit. */
	ck_assert_int_eq(migr_xxh_pick(&all, MIGR_XXH_AVX2), MIGR_XXH_AVX2);
	ck_assert_int_eq(migr_xxh_pick(&all, MIGR_XXH_SCALAR), MIGR_XXH_SCALAR);
	/* Instructions without the OS's state: no YMM in XCR0, no ZMM in XCR0, XCR0 unread without OSXSAVE. */
	c = avx2;
	c.xcr0 = 0x3;
	ck_assert_int_eq(migr_xxh_pick(&c, MIGR_XXH_AVX512), MIGR_XXH_SSE2);
	c = all;
	c.xcr0 = ymm;
	ck_assert_int_eq(migr_xxh_pick(&c, MIGR_XXH_AVX512), MIGR_XXH_AVX2);
	c = all;
	c.leaf1_ecx &= ~MIGR_CPU1_OSXSAVE;
	ck_assert_int_eq(migr_xxh_pick(&c, MIGR_XXH_AVX512), MIGR_XXH_SSE2);
	/* AVX-512F needs AVX2 too. */
	c = all;
	c.leaf7_ebx &= ~MIGR_CPU7_AVX2;
	ck_assert_int_eq(migr_xxh_pick(&c, MIGR_XXH_AVX512), MIGR_XXH_SSE2);
	ck_assert_str_eq(migr_xxh_path_name(MIGR_XXH_AVX512), "AVX-512F");
	ck_assert_str_eq(migr_xxh_path_name(MIGR_XXH_PATHS), "?");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("migr_xxh");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_known_answer);
	tcase_add_test(tc, test_every_path_hashes_alike);
	tcase_add_test(tc, test_pick);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
