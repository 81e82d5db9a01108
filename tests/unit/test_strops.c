/*
 * Unit tests for the string-instruction helpers (kernel/arch/x86/hw/strops.h)
 * and the Internet checksum lwIP uses (net/chksum.c), each against a plain
 * reference over random data, lengths and alignments.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/arch/x86/hw/strops.h"
#include "net/chksum.h"
#include "tests/unit/check_run.h"

#define BUF 9000

static uint8_t src[BUF + 64], dst[BUF + 64], want[BUF + 64];

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rand();
}

/* RFC 1071: 16-bit words as loaded (here little-endian), a 32-bit sum, carries folded back. */
static uint16_t ref_chksum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] | (uint32_t)p[i + 1] << 8;
	if (n & 1)
		sum += p[n - 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

START_TEST(test_copy_every_length_and_alignment)
{
	srand(1);
	for (size_t off = 0; off < 16; off++)
		for (size_t len = 0; len < 300; len++) {
			fill_random(src, sizeof(src));
			fill_random(dst, sizeof(dst));
			memcpy(want, dst, sizeof(want));
			memcpy(want + (off ^ 5), src + off, len);
			str_copy(dst + (off ^ 5), src + off, len);
			/* The bytes asked for and not one beyond. */
			ck_assert_mem_eq(dst, want, sizeof(dst));
		}
	fill_random(src, sizeof(src));
	str_copy(dst + 3, src + 1, BUF);
	ck_assert_mem_eq(dst + 3, src + 1, BUF);
}
END_TEST

START_TEST(test_fill_every_length_and_alignment)
{
	srand(2);
	for (size_t off = 0; off < 16; off++)
		for (size_t len = 0; len < 300; len++) {
			uint8_t byte = (uint8_t)rand();

			fill_random(dst, sizeof(dst));
			memcpy(want, dst, sizeof(want));
			memset(want + off, byte, len);
			str_fill(dst + off, byte, len);
			ck_assert_mem_eq(dst, want, sizeof(dst));
		}
}
END_TEST

START_TEST(test_all_zero_finds_any_nonzero_byte)
{
	static uint64_t page[512];

	memset(page, 0, sizeof(page));
	ck_assert(str_all_zero(page, 512));
	ck_assert(str_all_zero(page, 0));
	for (size_t byte = 0; byte < sizeof(page); byte++) {
		((uint8_t *)page)[byte] = 0x10;
		ck_assert(!str_all_zero(page, 512));
		/* Words before the nonzero one are all zero. */
		ck_assert(str_all_zero(page, byte / 8));
		((uint8_t *)page)[byte] = 0;
	}
	ck_assert(str_all_zero(page, 512));
}
END_TEST

/* RFC 1071's worked example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2 as big-endian words. */
START_TEST(test_chksum_rfc1071_example)
{
	static const uint8_t ex[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	ck_assert_uint_eq(net_chksum(ex, sizeof(ex)), 0xf2dd); /* the same sum, loaded little-endian */
	ck_assert_uint_eq(net_chksum(ex, 0), 0);
	ck_assert_uint_eq(net_chksum(ex, -1), 0);
}
END_TEST

START_TEST(test_chksum_matches_reference)
{
	srand(3);
	for (size_t off = 0; off < 16; off++)
		for (size_t len = 0; len < 600; len++) {
			fill_random(src, sizeof(src));
			ck_assert_uint_eq(net_chksum(src + off, (int)len), ref_chksum(src + off, len));
		}
	for (int i = 0; i < 200; i++) {
		size_t off = (size_t)rand() % 64, len = (size_t)rand() % BUF;

		fill_random(src, sizeof(src));
		ck_assert_uint_eq(net_chksum(src + off, (int)len), ref_chksum(src + off, len));
	}
}
END_TEST

/* Sums that exercise every carry: all 0xff (0xffff, never 0 for nonzero data) and all zero. */
START_TEST(test_chksum_carries)
{
	memset(src, 0xff, sizeof(src));
	for (size_t len = 2; len < BUF; len += 2)
		ck_assert_uint_eq(net_chksum(src, (int)len), 0xffff);
	ck_assert_uint_eq(net_chksum(src, 1), 0xff);
	memset(src, 0, sizeof(src));
	ck_assert_uint_eq(net_chksum(src, BUF), 0);
	memset(src, 0xfe, sizeof(src));
	ck_assert_uint_eq(net_chksum(src, 4096), ref_chksum(src, 4096));
}
END_TEST

static Suite *strops_suite(void)
{
	Suite *s = suite_create("strops");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_copy_every_length_and_alignment);
	tcase_add_test(tc, test_fill_every_length_and_alignment);
	tcase_add_test(tc, test_all_zero_finds_any_nonzero_byte);
	tcase_add_test(tc, test_chksum_rfc1071_example);
	tcase_add_test(tc, test_chksum_matches_reference);
	tcase_add_test(tc, test_chksum_carries);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(strops_suite());
}
