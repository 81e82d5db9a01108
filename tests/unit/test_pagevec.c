/* Page copy and zero check (kernel/arch/x86/pagevec.h) on each path this CPU has, against plain references. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/arch/x86/pagevec.h"
#include "tests/unit/check_run.h"

static _Alignas(64) uint8_t page[PAGEVEC_SIZE], out[PAGEVEC_SIZE + 64], want[PAGEVEC_SIZE + 64];

/* Path 0: the string instructions; path 1: AVX-512F, where the CPU has it. */
static int use(int path)
{
	if (path && !__builtin_cpu_supports("avx512f"))
		return 0;
	ck_assert_int_eq(pagevec_use(path != 0), path != 0);
	return 1;
}

START_TEST(test_copy)
{
	size_t off, i;

	if (!use(_i))
		return;
	for (i = 0; i < sizeof(page); i++)
		page[i] = (uint8_t)rand();
	for (off = 0; off < 64; off += 7) { /* a chunk's pages sit 8-byte aligned, not 64 */
		memset(out, 0xee, sizeof(out));
		memcpy(want, out, sizeof(want));
		memcpy(want + off, page, PAGEVEC_SIZE);
		page_copy(out + off, page);
		ck_assert_mem_eq(out, want, sizeof(out));
	}
}
END_TEST

START_TEST(test_zero)
{
	size_t i;

	if (!use(_i))
		return;
	memset(page, 0, sizeof(page));
	ck_assert(page_is_zero(page));
	for (i = 0; i < PAGEVEC_SIZE; i++) { /* one set bit anywhere */
		page[i] = (uint8_t)(1u << (i % 8));
		ck_assert_msg(!page_is_zero(page), "byte %zu", i);
		page[i] = 0;
	}
	ck_assert(page_is_zero(page));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pagevec");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_copy, 0, 2);
	tcase_add_loop_test(tc, test_zero, 0, 2);
	suite_add_tcase(s, tc);
	return check_run(s);
}
