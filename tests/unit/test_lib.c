/* Unit tests for kernel/lib: bounded parsing, the bounded text buffer, UUIDs and bitmap scans. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/lib/bitmap.h"
#include "kernel/lib/err.h"
#include "kernel/lib/parse.h"
#include "kernel/lib/strbuf.h"
#include "kernel/lib/uuid.h"
#include "tests/unit/check_run.h"

static int dec(const char *s, uint32_t max, uint32_t *out) { return parse_dec(s, strlen(s), max, out); }
static int ip(const char *s, uint32_t *out) { return ipv4_parse(s, strlen(s), out); }

START_TEST(test_dec)
{
	static const char *const bad[] = { "", "-1", "+1", "01", "00", "1a", " 1", "256", "99999999999999999999" };
	uint32_t v = 7;
	size_t i;

	ck_assert_int_eq(dec("0", 255, &v), HV_OK);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(dec("255", 255, &v), HV_OK);
	ck_assert_uint_eq(v, 255);
	ck_assert_int_eq(dec("4294967295", UINT32_MAX, &v), HV_OK);
	ck_assert_uint_eq(v, UINT32_MAX);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 7;
		ck_assert_msg(dec(bad[i], 255, &v) == HV_EINVAL && v == 7, "%s", bad[i]);
	}
	/* Only len bytes count: a longer string is not read past them. */
	ck_assert_int_eq(parse_dec("12x", 2, 255, &v), HV_OK);
	ck_assert_uint_eq(v, 12);
}
END_TEST

START_TEST(test_ipv4)
{
	static const char *const bad[] = { "", "1.2.3", "1.2.3.4.5", "1..3.4", "1.2.3.", ".1.2.3", "256.0.0.1",
					   "01.2.3.4", "1.2.3.4 ", "a.b.c.d", "1.2.3.4/24" };
	uint32_t a = 0;
	size_t i;

	ck_assert_int_eq(ip("192.168.1.20", &a), HV_OK);
	ck_assert_uint_eq(a, 0xc0a80114u);
	ck_assert_int_eq(ip("0.0.0.0", &a), HV_OK);
	ck_assert_uint_eq(a, 0);
	ck_assert_int_eq(ip("255.255.255.255", &a), HV_OK);
	ck_assert_uint_eq(a, 0xffffffffu);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(ip(bad[i], &a) == HV_EINVAL, "%s", bad[i]);
}
END_TEST

START_TEST(test_ipv4_mask_unicast)
{
	ck_assert_uint_eq(ipv4_mask(0), 0);
	ck_assert_uint_eq(ipv4_mask(1), 0x80000000u);
	ck_assert_uint_eq(ipv4_mask(24), 0xffffff00u);
	ck_assert_uint_eq(ipv4_mask(32), 0xffffffffu);
	ck_assert(ipv4_is_unicast(0x0a000001u));
	ck_assert(ipv4_is_unicast(0xdfffffffu));
	ck_assert(!ipv4_is_unicast(0x00000001u));
	ck_assert(!ipv4_is_unicast(0x7f000001u));
	ck_assert(!ipv4_is_unicast(0xe0000001u));
	ck_assert(!ipv4_is_unicast(0xffffffffu));
	ck_assert(parse_is_space(' ') && parse_is_space('\t') && parse_is_space('\n') && parse_is_space('\r'));
	ck_assert(!parse_is_space('\0') && !parse_is_space('x') && !parse_is_space('\v'));
}
END_TEST

START_TEST(test_strbuf_fits_and_truncates)
{
	char buf[8];
	struct strbuf sb;

	strbuf_init(&sb, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	strbuf_printf(&sb, "%s=%u", "ab", 12u);
	ck_assert_str_eq(buf, "ab=12");
	ck_assert_uint_eq(sb.len, 5);
	ck_assert(!sb.overflow);
	strbuf_printf(&sb, "%s", "xyz");   /* 8 bytes with the NUL: one too many */
	ck_assert(sb.overflow);
	ck_assert_str_eq(buf, "ab=12xy");
	ck_assert_uint_eq(sb.len, 7);
	strbuf_printf(&sb, "more");        /* dropped after an overflow */
	ck_assert_str_eq(buf, "ab=12xy");
	strbuf_reset(&sb);
	ck_assert(!sb.overflow);
	ck_assert_str_eq(buf, "");
	strbuf_printf(&sb, "%.*s", 2, "abcdef");
	ck_assert_str_eq(buf, "ab");
	/* No room at all: nothing written anywhere, the overflow is told. */
	strbuf_init(&sb, NULL, 16);
	strbuf_printf(&sb, "x");
	ck_assert(sb.overflow);
	ck_assert_uint_eq(sb.len, 0);
}
END_TEST

/* UUIDs: the canonical text only, either case in, lower case out, the same 16 bytes both ways. */
START_TEST(test_uuid_text)
{
	static const char *const bad[] = {
		"",
		"12345678-9abc-4def-8001-0203040506f",    /* short */
		"12345678-9abc-4def-8001-0203040506ff0",  /* long */
		"12345678-9abc-4def-8001x0203040506ff",   /* a hyphen missing */
		"123456789-abc-4def-8001-0203040506ff",   /* a hyphen misplaced */
		"12345678-9abc-4deg-8001-0203040506ff",   /* not hex */
		"{2345678-9abc-4def-8001-0203040506ff}",
		"12345678 9abc 4def 8001 0203040506ff",
	};
	static const uint8_t want[UUID_LEN] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef,
						0x80, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0xff };
	uint8_t u[UUID_LEN], keep[UUID_LEN];
	char text[UUID_TEXT_LEN + 1];
	size_t i;

	ck_assert_int_eq(uuid_parse("12345678-9ABC-4dEf-8001-0203040506FF", 36, u), HV_OK);
	ck_assert_mem_eq(u, want, UUID_LEN);
	uuid_format(u, text);
	ck_assert_str_eq(text, "12345678-9abc-4def-8001-0203040506ff");
	memset(keep, 0x5a, sizeof(keep));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(u, keep, sizeof(u));
		ck_assert_msg(uuid_parse(bad[i], strlen(bad[i]), u) == HV_EINVAL, "%s", bad[i]);
		ck_assert_mem_eq(u, keep, UUID_LEN); /* nothing written */
	}
	/* Only len characters are read: a longer buffer holding a UUID and more is not one. */
	ck_assert_int_eq(uuid_parse("12345678-9abc-4def-8001-0203040506ffZZ", 36, u), HV_OK);
	ck_assert_mem_eq(u, want, UUID_LEN);
	ck_assert(!uuid_is_nil(u));
	memset(u, 0, sizeof(u));
	ck_assert(uuid_is_nil(u));
	uuid_format(u, text);
	ck_assert_str_eq(text, "00000000-0000-0000-0000-000000000000");
}
END_TEST

/* Version 4: the version nibble is 4 and the variant bits 10, whatever the random bytes were; the rest is kept. */
START_TEST(test_uuid_v4)
{
	uint8_t u[UUID_LEN];
	char text[UUID_TEXT_LEN + 1];

	memset(u, 0xff, sizeof(u));
	uuid_make_v4(u);
	uuid_format(u, text);
	ck_assert_str_eq(text, "ffffffff-ffff-4fff-bfff-ffffffffffff");
	memset(u, 0, sizeof(u));
	uuid_make_v4(u);
	uuid_format(u, text);
	ck_assert_str_eq(text, "00000000-0000-4000-8000-000000000000");
}
END_TEST

/* The scan a bitmap_next_* call must agree with: one bit at a time. */
static uint64_t naive_next(const uint64_t *w, uint64_t nbits, uint64_t from, int want)
{
	for (; from < nbits; from++)
		if ((int)((w[from / 64] >> (from % 64)) & 1) == want)
			return from;
	return nbits;
}

START_TEST(test_bitmap_scans)
{
	/* Word edges, a partial last word, and bits past nbits that must never be reported. */
	static const uint64_t sizes[] = { 1, 63, 64, 65, 127, 128, 129, 200, 256 };
	uint64_t w[4], nbits, from, seed = 0x9e3779b97f4a7c15ull;
	size_t k, round, i;

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
		for (round = 0; round < 64; round++) {
			nbits = sizes[k];
			for (i = 0; i < 4; i++) {
				seed = seed * 6364136223846793005ull + 1442695040888963407ull;
				/* sparse, dense, empty and full words */
				w[i] = round % 4 == 0 ? seed & (seed >> 17) & (seed >> 31) : round % 4 == 1 ? seed | (seed >> 7)
				       : round % 4 == 2 ? 0 : ~0ull;
			}
			for (from = 0; from <= nbits + 2; from++) {
				ck_assert_uint_eq(bitmap_next_set(w, nbits, from), naive_next(w, nbits, from, 1));
				ck_assert_uint_eq(bitmap_next_clear(w, nbits, from), naive_next(w, nbits, from, 0));
			}
		}
	w[0] = 1ull << 40; /* only a bit past the end */
	ck_assert_uint_eq(bitmap_next_set(w, 40, 0), 40);
	w[0] = ~0ull >> 24; /* all clear from 40 on, but nbits is 40 */
	ck_assert_uint_eq(bitmap_next_clear(w, 40, 0), 40);
}
END_TEST

static Suite *lib_suite(void)
{
	Suite *s = suite_create("lib");
	TCase *tc = tcase_create("lib");

	tcase_add_test(tc, test_dec);
	tcase_add_test(tc, test_ipv4);
	tcase_add_test(tc, test_ipv4_mask_unicast);
	tcase_add_test(tc, test_strbuf_fits_and_truncates);
	tcase_add_test(tc, test_uuid_text);
	tcase_add_test(tc, test_uuid_v4);
	tcase_add_test(tc, test_bitmap_scans);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(lib_suite());
}
