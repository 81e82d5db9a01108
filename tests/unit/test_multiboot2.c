/* Unit tests for kernel/core/multiboot2.c: good boot information and every malformation. */
#include <check.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/core/multiboot2.h"
#include "kernel/lib/err.h"
#include "tests/unit/check_run.h"

/* Builds boot information the way a loader lays it out. */
struct mb {
	alignas(8) uint8_t buf[8192];
	size_t len;
};

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);  /* x86 is little-endian, like Multiboot2 */
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void mb_init(struct mb *b)
{
	memset(b->buf, 0, sizeof(b->buf));
	b->len = 8;
}

/* Appends a tag whose size field may lie; returns the tag's offset. */
static size_t mb_raw_tag(struct mb *b, uint32_t type, uint32_t size, const void *payload,
			 size_t plen)
{
	size_t off = b->len;

	ck_assert_uint_le(off + 8 + plen + 8, sizeof(b->buf));
	put32(b->buf + off, type);
	put32(b->buf + off + 4, size);
	if (plen)
		memcpy(b->buf + off + 8, payload, plen);
	b->len = (off + 8 + plen + 7) & ~(size_t)7;
	return off;
}

static size_t mb_tag(struct mb *b, uint32_t type, const void *payload, size_t plen)
{
	return mb_raw_tag(b, type, (uint32_t)(8 + plen), payload, plen);
}

static void mb_string(struct mb *b, uint32_t type, const char *s)
{
	mb_tag(b, type, s, strlen(s) + 1);
}

static void mb_module(struct mb *b, uint32_t start, uint32_t end, const char *s)
{
	uint8_t p[256];
	size_t n = strlen(s) + 1;

	put32(p, start);
	put32(p + 4, end);
	memcpy(p + 8, s, n);
	mb_tag(b, MB2_TAG_MODULE, p, 8 + n);
}

/* n entries of entry_size bytes: base = i GiB, length = i+1 MiB, type alternating. */
static void mb_mmap(struct mb *b, uint32_t entry_size, size_t n, uint64_t first)
{
	uint8_t p[4096];
	size_t i;

	ck_assert_uint_le(8 + n * entry_size, sizeof(p));
	memset(p, 0xee, sizeof(p));  /* bytes past 24 in each entry must be ignored */
	put32(p, entry_size);
	put32(p + 4, 0);
	for (i = 0; i < n; i++) {
		uint8_t *e = p + 8 + i * entry_size;

		put64(e, (first + i) << 30);
		put64(e + 8, (first + i + 1) << 20);
		put32(e + 16, (first + i) % 2 ? 2 : MB2_MMAP_AVAILABLE);
		put32(e + 20, 0);
	}
	mb_tag(b, MB2_TAG_MMAP, p, 8 + n * entry_size);
}

/* Closes the buffer with an end tag and sets total_size. */
static void mb_end(struct mb *b)
{
	mb_tag(b, MB2_TAG_END, NULL, 0);
	put32(b->buf, (uint32_t)b->len);
}

static void mb_set_total(struct mb *b, uint32_t total)
{
	put32(b->buf, total);
}

/*
 * Parses a copy in a heap block of exactly max_len bytes, so ASan flags any
 * read past what the parser was allowed to see. The copy lives until the
 * next call, since out points into it.
 */
static uint8_t *copy;

static int parse(const struct mb *b, size_t max_len, struct mb2_info *out)
{
	free(copy);
	copy = malloc(max_len ? max_len : 1);
	ck_assert_ptr_nonnull(copy);
	memset(copy, 0xff, max_len);
	memcpy(copy, b->buf, max_len < b->len ? max_len : b->len);
	memset(out, 0x5a, sizeof(*out));  /* the parser must overwrite everything it reports */
	return mb2_parse(copy, max_len, out);
}

static void ck_empty(const struct mb2_info *out)
{
	ck_assert_str_eq(out->cmdline, "");
	ck_assert_str_eq(out->loader, "");
	ck_assert_uint_eq(out->module_count, 0);
	ck_assert_uint_eq(out->mmap_count, 0);
}

static int in_copy(const char *s, size_t max_len)
{
	return (const uint8_t *)s >= copy && (const uint8_t *)s < copy + max_len;
}

static void ck_in_copy(const char *s, size_t max_len)
{
	ck_assert(in_copy(s, max_len));
}

/* A string the loader gave lies in the buffer; a missing one is the empty default. */
static void ck_in_copy_or_empty(const char *s, size_t max_len)
{
	if (!in_copy(s, max_len))
		ck_assert_str_eq(s, "");
}

START_TEST(test_good_full)
{
	static const uint8_t odd[5] = { 1, 2, 3, 4, 5 };
	uint8_t meminfo[8] = { 0 };
	struct mb2_info out;
	struct mb b;
	size_t i;

	mb_init(&b);
	mb_string(&b, MB2_TAG_CMDLINE, "/boot/hv vcpus=2 mem=64M");
	mb_string(&b, MB2_TAG_BOOT_LOADER_NAME, "GRUB 2.06");
	mb_tag(&b, MB2_TAG_BASIC_MEMINFO, meminfo, sizeof(meminfo));
	mb_module(&b, 0x200000, 0x2345ab, "guest.bin mode=work");
	mb_tag(&b, 21, odd, sizeof(odd));  /* unknown tag with padding: skipped */
	mb_module(&b, 0x300000, 0x300000, "");
	mb_mmap(&b, 24, 3, 0);
	mb_end(&b);

	ck_assert_int_eq(parse(&b, b.len, &out), HV_OK);
	ck_assert_str_eq(out.cmdline, "/boot/hv vcpus=2 mem=64M");
	ck_assert_str_eq(out.loader, "GRUB 2.06");
	ck_in_copy(out.cmdline, b.len);
	ck_in_copy(out.loader, b.len);
	ck_assert_uint_eq(out.module_count, 2);
	ck_assert_uint_eq(out.modules[0].start, 0x200000);
	ck_assert_uint_eq(out.modules[0].end, 0x2345ab);
	ck_assert_str_eq(out.modules[0].string, "guest.bin mode=work");
	ck_in_copy(out.modules[0].string, b.len);
	ck_assert_uint_eq(out.modules[1].start, 0x300000);
	ck_assert_uint_eq(out.modules[1].end, 0x300000);
	ck_assert_str_eq(out.modules[1].string, "");
	ck_assert_uint_eq(out.mmap_count, 3);
	for (i = 0; i < 3; i++) {
		ck_assert_uint_eq(out.mmap[i].base, (uint64_t)i << 30);
		ck_assert_uint_eq(out.mmap[i].length, (uint64_t)(i + 1) << 20);
		ck_assert_uint_eq(out.mmap[i].type, i % 2 ? 2 : MB2_MMAP_AVAILABLE);
	}
}
END_TEST

START_TEST(test_minimal)
{
	struct mb2_info out;
	struct mb b;

	mb_init(&b);
	mb_end(&b);
	ck_assert_uint_eq(b.len, 16);
	ck_assert_int_eq(parse(&b, 16, &out), HV_OK);
	ck_empty(&out);
}
END_TEST

/* max_len is an upper bound; bytes past total_size are never looked at. */
START_TEST(test_max_len_larger)
{
	struct mb2_info out;
	struct mb b;

	mb_init(&b);
	mb_string(&b, MB2_TAG_CMDLINE, "log=debug");
	mb_end(&b);
	ck_assert_int_eq(parse(&b, b.len + 100, &out), HV_OK);
	ck_assert_str_eq(out.cmdline, "log=debug");
}
END_TEST

/* Entries larger than 24 bytes (a later spec version) keep their first 24 bytes' meaning. */
START_TEST(test_mmap_wide_entries)
{
	struct mb2_info out;
	struct mb b;

	mb_init(&b);
	mb_mmap(&b, 40, 4, 10);
	mb_end(&b);
	ck_assert_int_eq(parse(&b, b.len, &out), HV_OK);
	ck_assert_uint_eq(out.mmap_count, 4);
	ck_assert_uint_eq(out.mmap[3].base, 13ull << 30);
	ck_assert_uint_eq(out.mmap[3].length, 14ull << 20);
	ck_assert_uint_eq(out.mmap[3].type, 2);
}
END_TEST

START_TEST(test_mmap_two_tags_and_empty)
{
	struct mb2_info out;
	struct mb b;

	mb_init(&b);
	mb_mmap(&b, 24, 2, 0);
	mb_mmap(&b, 24, 0, 0);  /* an empty map is legal */
	mb_mmap(&b, 24, 3, 2);
	mb_end(&b);
	ck_assert_int_eq(parse(&b, b.len, &out), HV_OK);
	ck_assert_uint_eq(out.mmap_count, 5);
	ck_assert_uint_eq(out.mmap[4].base, 4ull << 30);
}
END_TEST

START_TEST(test_mmap_limit)
{
	struct mb2_info out;
	struct mb b;

	mb_init(&b);
	mb_mmap(&b, 24, 40, 0);
	mb_mmap(&b, 24, MB2_MAX_MMAP - 40, 40);
	mb_end(&b);
	ck_assert_int_eq(parse(&b, b.len, &out), HV_OK);
	ck_assert_uint_eq(out.mmap_count, MB2_MAX_MMAP);
	ck_assert_uint_eq(out.mmap[MB2_MAX_MMAP - 1].base, (uint64_t)(MB2_MAX_MMAP - 1) << 30);

	mb_init(&b);
	mb_mmap(&b, 24, 40, 0);
	mb_mmap(&b, 24, MB2_MAX_MMAP - 39, 40);
	mb_end(&b);
	ck_assert_int_eq(parse(&b, b.len, &out), HV_ERANGE);
	ck_empty(&out);

	mb_init(&b);
	mb_mmap(&b, 24, MB2_MAX_MMAP + 1, 0);
	mb_end(&b);
	ck_assert_int_eq(parse(&b, b.len, &out), HV_ERANGE);
	ck_empty(&out);
}
END_TEST

START_TEST(test_module_limit)
{
	struct mb2_info out;
	struct mb b;
	uint32_t i;

	mb_init(&b);
	for (i = 0; i < MB2_MAX_MODULES; i++)
		mb_module(&b, i << 20, (i << 20) + 4096, "m");
	mb_end(&b);
	ck_assert_int_eq(parse(&b, b.len, &out), HV_OK);
	ck_assert_uint_eq(out.module_count, MB2_MAX_MODULES);
	ck_assert_uint_eq(out.modules[MB2_MAX_MODULES - 1].start, (MB2_MAX_MODULES - 1) << 20);

	mb_init(&b);
	mb_string(&b, MB2_TAG_CMDLINE, "x=1");
	for (i = 0; i < MB2_MAX_MODULES + 1; i++)
		mb_module(&b, i << 20, (i << 20) + 4096, "m");
	mb_end(&b);
	ck_assert_int_eq(parse(&b, b.len, &out), HV_ERANGE);
	ck_empty(&out);
}
END_TEST

START_TEST(test_repeated_cmdline_last_wins)
{
	struct mb2_info out;
	struct mb b;

	mb_init(&b);
	mb_string(&b, MB2_TAG_CMDLINE, "first");
	mb_string(&b, MB2_TAG_CMDLINE, "second");
	mb_end(&b);
	ck_assert_int_eq(parse(&b, b.len, &out), HV_OK);
	ck_assert_str_eq(out.cmdline, "second");
}
END_TEST

/* Fields are read bytewise: the parser is fine with (and UBSan quiet on) an odd address. */
START_TEST(test_unaligned_buffer)
{
	struct mb2_info out;
	struct mb b;
	uint8_t *raw;

	mb_init(&b);
	mb_string(&b, MB2_TAG_CMDLINE, "vcpus=4");
	mb_module(&b, 0x1000, 0x2000, "g");
	mb_mmap(&b, 24, 2, 0);
	mb_end(&b);
	raw = malloc(b.len + 1);
	ck_assert_ptr_nonnull(raw);
	memcpy(raw + 1, b.buf, b.len);
	ck_assert_int_eq(mb2_parse(raw + 1, b.len, &out), HV_OK);
	ck_assert_str_eq(out.cmdline, "vcpus=4");
	ck_assert_uint_eq(out.modules[0].end, 0x2000);
	ck_assert_uint_eq(out.mmap[1].base, 1ull << 30);
	free(raw);
}
END_TEST

START_TEST(test_null_args)
{
	struct mb2_info out;
	struct mb b;

	mb_init(&b);
	mb_end(&b);
	memset(&out, 0x5a, sizeof(out));
	ck_assert_int_eq(mb2_parse(NULL, 64, &out), HV_EINVAL);
	ck_empty(&out);
	ck_assert_int_eq(mb2_parse(b.buf, b.len, NULL), HV_EINVAL);
}
END_TEST

/* Each malformation, as a function that builds the bad buffer and its max_len. */
typedef size_t (*bad_builder)(struct mb *b);

/* Good tags first, so a failure must also wipe what was already decoded. */
static void good_prefix(struct mb *b)
{
	mb_init(b);
	mb_string(b, MB2_TAG_CMDLINE, "vcpus=2");
	mb_module(b, 0x100000, 0x200000, "guest");
	mb_mmap(b, 24, 2, 0);
}

static size_t bad_max_len_0(struct mb *b) { mb_init(b); mb_end(b); return 0; }
static size_t bad_max_len_7(struct mb *b) { mb_init(b); mb_end(b); return 7; }
static size_t bad_total_0(struct mb *b) { mb_init(b); mb_end(b); mb_set_total(b, 0); return 16; }
static size_t bad_total_8(struct mb *b) { mb_init(b); mb_end(b); mb_set_total(b, 8); return 16; }
static size_t bad_total_15(struct mb *b) { mb_init(b); mb_end(b); mb_set_total(b, 15); return 16; }
static size_t bad_total_huge(struct mb *b) { mb_init(b); mb_end(b); mb_set_total(b, 0xffffffffu); return 16; }

static size_t bad_total_over_max(struct mb *b)
{
	good_prefix(b);
	mb_end(b);
	return b->len - 1;
}

static size_t bad_tag_size_0(struct mb *b)
{
	good_prefix(b);
	mb_raw_tag(b, 21, 0, NULL, 0);  /* would loop forever if let through */
	mb_end(b);
	return b->len;
}

static size_t bad_tag_size_7(struct mb *b)
{
	good_prefix(b);
	mb_raw_tag(b, 21, 7, NULL, 0);
	mb_end(b);
	return b->len;
}

static size_t bad_tag_past_total(struct mb *b)
{
	good_prefix(b);
	mb_raw_tag(b, MB2_TAG_CMDLINE, 200, "x", 2);
	mb_end(b);
	return b->len + 256;  /* the bytes exist, but lie past total_size */
}

static size_t bad_no_end_tag(struct mb *b)
{
	good_prefix(b);
	put32(b->buf, (uint32_t)b->len);
	return b->len;
}

static size_t bad_end_tag_cut(struct mb *b)
{
	good_prefix(b);
	mb_end(b);
	mb_set_total(b, (uint32_t)b->len - 4);
	return b->len;
}

static size_t bad_end_tag_size_16(struct mb *b)
{
	good_prefix(b);
	mb_raw_tag(b, MB2_TAG_END, 16, "\0\0\0\0\0\0\0", 8);
	put32(b->buf, (uint32_t)b->len);
	return b->len;
}

static size_t bad_end_tag_size_4(struct mb *b)
{
	good_prefix(b);
	mb_raw_tag(b, MB2_TAG_END, 4, NULL, 0);
	put32(b->buf, (uint32_t)b->len);
	return b->len;
}

/* The last tag's padding would take it past total_size: no room left for an end tag. */
static size_t bad_padding_past_total(struct mb *b)
{
	good_prefix(b);
	mb_string(b, MB2_TAG_CMDLINE, "abc");  /* size 12, padded to 16 */
	mb_set_total(b, (uint32_t)b->len - 4);
	return b->len;
}

static size_t bad_cmdline_unterminated(struct mb *b)
{
	good_prefix(b);
	mb_tag(b, MB2_TAG_CMDLINE, "vcpus=2", 7);
	mb_end(b);
	return b->len;
}

static size_t bad_cmdline_empty_tag(struct mb *b)
{
	good_prefix(b);
	mb_tag(b, MB2_TAG_CMDLINE, NULL, 0);
	mb_end(b);
	return b->len;
}

/* The NUL is there, but in the padding, outside the tag's size. */
static size_t bad_loader_nul_in_padding(struct mb *b)
{
	good_prefix(b);
	mb_tag(b, MB2_TAG_BOOT_LOADER_NAME, "GRUB", 4);
	mb_end(b);
	return b->len;
}

static size_t bad_module_short(struct mb *b)
{
	uint8_t p[8] = { 0 };

	good_prefix(b);
	mb_tag(b, MB2_TAG_MODULE, p, 8);  /* no string at all */
	mb_end(b);
	return b->len;
}

static size_t bad_module_truncated(struct mb *b)
{
	uint8_t p[4] = { 0 };

	good_prefix(b);
	mb_tag(b, MB2_TAG_MODULE, p, 4);
	mb_end(b);
	return b->len;
}

static size_t bad_module_end_before_start(struct mb *b)
{
	good_prefix(b);
	mb_module(b, 0x200000, 0x1fffff, "guest");
	mb_end(b);
	return b->len;
}

static size_t bad_module_unterminated(struct mb *b)
{
	uint8_t p[12];

	put32(p, 0x100000);
	put32(p + 4, 0x101000);
	memcpy(p + 8, "abcd", 4);
	good_prefix(b);
	mb_tag(b, MB2_TAG_MODULE, p, sizeof(p));
	mb_end(b);
	return b->len;
}

static size_t bad_mmap_short(struct mb *b)
{
	uint8_t p[4];

	put32(p, 24);
	good_prefix(b);
	mb_tag(b, MB2_TAG_MMAP, p, sizeof(p));
	mb_end(b);
	return b->len;
}

static size_t bad_mmap_entry_size_0(struct mb *b) { good_prefix(b); mb_mmap(b, 0, 0, 0); mb_end(b); return b->len; }
static size_t bad_mmap_entry_size_16(struct mb *b) { good_prefix(b); mb_mmap(b, 16, 2, 0); mb_end(b); return b->len; }
static size_t bad_mmap_entry_size_23(struct mb *b) { good_prefix(b); mb_mmap(b, 23, 2, 0); mb_end(b); return b->len; }

static size_t bad_mmap_partial_entry(struct mb *b)
{
	size_t off;

	good_prefix(b);
	off = b->len;
	mb_mmap(b, 24, 2, 0);
	put32(b->buf + off + 4, 16 + 24 + 12);  /* half of the second entry */
	mb_end(b);
	return b->len;
}

static const struct {
	const char *name;
	bad_builder build;
} bad[] = {
	{ "max_len 0", bad_max_len_0 },
	{ "max_len 7", bad_max_len_7 },
	{ "total_size 0", bad_total_0 },
	{ "total_size 8", bad_total_8 },
	{ "total_size 15", bad_total_15 },
	{ "total_size 4G-1", bad_total_huge },
	{ "total_size > max_len", bad_total_over_max },
	{ "tag size 0", bad_tag_size_0 },
	{ "tag size 7", bad_tag_size_7 },
	{ "tag past total_size", bad_tag_past_total },
	{ "no end tag", bad_no_end_tag },
	{ "end tag cut", bad_end_tag_cut },
	{ "end tag size 16", bad_end_tag_size_16 },
	{ "end tag size 4", bad_end_tag_size_4 },
	{ "padding past total_size", bad_padding_past_total },
	{ "cmdline unterminated", bad_cmdline_unterminated },
	{ "cmdline tag empty", bad_cmdline_empty_tag },
	{ "loader NUL in padding", bad_loader_nul_in_padding },
	{ "module without string", bad_module_short },
	{ "module truncated", bad_module_truncated },
	{ "module end < start", bad_module_end_before_start },
	{ "module string unterminated", bad_module_unterminated },
	{ "mmap header short", bad_mmap_short },
	{ "mmap entry_size 0", bad_mmap_entry_size_0 },
	{ "mmap entry_size 16", bad_mmap_entry_size_16 },
	{ "mmap entry_size 23", bad_mmap_entry_size_23 },
	{ "mmap partial entry", bad_mmap_partial_entry },
};

START_TEST(test_bad)
{
	struct mb2_info out;
	struct mb b;
	size_t max_len = bad[_i].build(&b);

	ck_assert_msg(parse(&b, max_len, &out) == HV_EINVAL, "%s: accepted", bad[_i].name);
	ck_empty(&out);
}
END_TEST

/* Every shorter total_size loses the end tag: each must fail cleanly, never overread. */
START_TEST(test_every_truncation)
{
	struct mb2_info out;
	struct mb b;
	uint32_t total;

	good_prefix(&b);
	mb_string(&b, MB2_TAG_BOOT_LOADER_NAME, "loader");
	mb_end(&b);
	for (total = 0; total < b.len; total++) {
		mb_set_total(&b, total);
		ck_assert_msg(parse(&b, total, &out) == HV_EINVAL, "total %u accepted", total);
		ck_empty(&out);
	}
}
END_TEST

/* Corrupt each byte in turn: any result is fine, but no overread and no wild pointer. */
START_TEST(test_byte_corruption)
{
	static const uint8_t vals[] = { 0x00, 0x01, 0x07, 0x08, 0x18, 0x7f, 0x80, 0xff };
	struct mb2_info out;
	struct mb b, orig;
	size_t pos, v, i;
	int rc;

	good_prefix(&orig);
	mb_string(&orig, MB2_TAG_BOOT_LOADER_NAME, "loader");
	mb_end(&orig);
	for (pos = 0; pos < orig.len; pos++) {
		for (v = 0; v < sizeof(vals); v++) {
			b = orig;
			b.buf[pos] = vals[v];
			rc = parse(&b, b.len, &out);
			ck_assert(rc == HV_OK || rc == HV_EINVAL || rc == HV_ERANGE);
			if (rc != HV_OK) {
				ck_empty(&out);
				continue;
			}
			ck_in_copy_or_empty(out.cmdline, b.len);
			ck_in_copy_or_empty(out.loader, b.len);
			ck_assert_uint_le(out.module_count, MB2_MAX_MODULES);
			ck_assert_uint_le(out.mmap_count, MB2_MAX_MMAP);
			for (i = 0; i < out.module_count; i++) {
				ck_in_copy(out.modules[i].string, b.len);
				ck_assert_uint_ge(out.modules[i].end, out.modules[i].start);
			}
		}
	}
}
END_TEST

static Suite *mb2_suite(void)
{
	Suite *s = suite_create("multiboot2");
	TCase *tc = tcase_create("multiboot2");

	tcase_add_test(tc, test_good_full);
	tcase_add_test(tc, test_minimal);
	tcase_add_test(tc, test_max_len_larger);
	tcase_add_test(tc, test_mmap_wide_entries);
	tcase_add_test(tc, test_mmap_two_tags_and_empty);
	tcase_add_test(tc, test_mmap_limit);
	tcase_add_test(tc, test_module_limit);
	tcase_add_test(tc, test_repeated_cmdline_last_wins);
	tcase_add_test(tc, test_unaligned_buffer);
	tcase_add_test(tc, test_null_args);
	tcase_add_loop_test(tc, test_bad, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_every_truncation);
	tcase_add_test(tc, test_byte_corruption);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(mb2_suite());
}
