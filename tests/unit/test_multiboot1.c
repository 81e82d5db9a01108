/* Unit tests for kernel/core/multiboot1.c: boot information as iPXE lays it out, and every pointer gone wrong. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/core/multiboot1.h"
#include "kernel/lib/err.h"
#include "tests/unit/check_run.h"

/* A small physical memory: addresses are offsets into mem; anything past MEM_SIZE is not memory. */
#define MEM_SIZE 4096u
#define INFO_PA 0x100u
#define CMDLINE_PA 0x200u
#define LOADER_PA 0x300u
#define MODS_PA 0x400u
#define MOD_STR_PA 0x480u
#define MMAP_PA 0x500u

#define FLAG_CMDLINE (1u << 2)
#define FLAG_MODS (1u << 3)
#define FLAG_MMAP (1u << 6)
#define FLAG_LOADER (1u << 9)

static uint8_t *mem;

static const uint8_t *map(void *ctx, uint64_t pa, size_t len)
{
	(void)ctx;
	if (pa > MEM_SIZE || len > MEM_SIZE - pa)
		return NULL;
	return mem + pa;
}

static void put32(uint32_t pa, uint32_t v)
{
	memcpy(mem + pa, &v, 4);  /* x86 is little-endian, like Multiboot */
}

static void put64(uint32_t pa, uint64_t v)
{
	memcpy(mem + pa, &v, 8);
}

static void mmap_entry(uint32_t pa, uint32_t size, uint64_t base, uint64_t len, uint32_t type)
{
	put32(pa, size);
	put64(pa + 4, base);
	put64(pa + 12, len);
	put32(pa + 20, type);
}

/* What iPXE hands over: command line, loader name, one module, a two-entry memory map. */
static void setup(void)
{
	mem = calloc(1, MEM_SIZE);  /* exactly MEM_SIZE: ASan flags any read past it */
	ck_assert_ptr_nonnull(mem);
	put32(INFO_PA, FLAG_CMDLINE | FLAG_MODS | FLAG_MMAP | FLAG_LOADER | 0x3);
	strcpy((char *)mem + CMDLINE_PA, "tftp://10.0.0.1/hv32.elf vcpus=2");
	put32(INFO_PA + 16, CMDLINE_PA);
	strcpy((char *)mem + LOADER_PA, "iPXE 1.0.0");
	put32(INFO_PA + 64, LOADER_PA);
	put32(INFO_PA + 20, 1);
	put32(INFO_PA + 24, MODS_PA);
	put32(MODS_PA, 0x200000);
	put32(MODS_PA + 4, 0x201000);
	put32(MODS_PA + 8, MOD_STR_PA);
	strcpy((char *)mem + MOD_STR_PA, "guest.bin guest");
	mmap_entry(MMAP_PA, 20, 0, 0x9fc00, 1);
	mmap_entry(MMAP_PA + 24, 20, 0x100000, 0xfef0000, 1);
	put32(INFO_PA + 44, 48);
	put32(INFO_PA + 48, MMAP_PA);
}

static void teardown(void)
{
	free(mem);
	mem = NULL;
}

static char strings[256];

static int parse(struct mb2_info *out)
{
	memset(out, 0x5a, sizeof(*out));  /* the parser must overwrite everything it reports */
	memset(strings, 0x5a, sizeof(strings));
	return mb1_parse(map, NULL, INFO_PA, out, strings, sizeof(strings));
}

static void ck_empty(const struct mb2_info *out)
{
	ck_assert_str_eq(out->cmdline, "");
	ck_assert_str_eq(out->loader, "");
	ck_assert_uint_eq(out->module_count, 0);
	ck_assert_uint_eq(out->mmap_count, 0);
}

START_TEST(test_good)
{
	struct mb2_info out;

	ck_assert_int_eq(parse(&out), HV_OK);
	ck_assert_str_eq(out.cmdline, "tftp://10.0.0.1/hv32.elf vcpus=2");
	ck_assert_str_eq(out.loader, "iPXE 1.0.0");
	ck_assert_uint_eq(out.module_count, 1);
	ck_assert_uint_eq(out.modules[0].start, 0x200000);
	ck_assert_uint_eq(out.modules[0].end, 0x201000);
	ck_assert_str_eq(out.modules[0].string, "guest.bin guest");
	ck_assert_uint_eq(out.mmap_count, 2);
	ck_assert_uint_eq(out.mmap[1].base, 0x100000);
	ck_assert_uint_eq(out.mmap[1].length, 0xfef0000);
	ck_assert_uint_eq(out.mmap[1].type, MB2_MMAP_AVAILABLE);
	/* The strings are copies: the loader's memory may be reused once the parse is done. */
	memset(mem, 0, MEM_SIZE);
	ck_assert_str_eq(out.cmdline, "tftp://10.0.0.1/hv32.elf vcpus=2");
	ck_assert_str_eq(out.modules[0].string, "guest.bin guest");
}
END_TEST

START_TEST(test_flags_off)
{
	struct mb2_info out;

	put32(INFO_PA, 0);  /* the same pointers, but the loader says none is valid */
	ck_assert_int_eq(parse(&out), HV_OK);
	ck_empty(&out);
}
END_TEST

START_TEST(test_wide_mmap_entries)
{
	struct mb2_info out;

	mmap_entry(MMAP_PA, 28, 0x1000, 0x2000, 1);  /* 8 bytes more than the spec's fields */
	mmap_entry(MMAP_PA + 32, 20, 0x100000, 0x100000, 2);
	put32(INFO_PA + 44, 56);
	ck_assert_int_eq(parse(&out), HV_OK);
	ck_assert_uint_eq(out.mmap_count, 2);
	ck_assert_uint_eq(out.mmap[0].base, 0x1000);
	ck_assert_uint_eq(out.mmap[1].type, 2);
}
END_TEST

/* Each case breaks one thing; the parse must fail with the given code and report nothing. */
static void bad_info_outside(void) { put32(INFO_PA, 0); }
static void bad_cmdline_outside(void) { put32(INFO_PA + 16, MEM_SIZE + 16); }
static void bad_cmdline_unterminated(void)
{
	memset(mem + MEM_SIZE - 10, 'x', 10);  /* runs into the end of memory */
	put32(INFO_PA + 16, MEM_SIZE - 10);
}
static void bad_loader_outside(void) { put32(INFO_PA + 64, 0xffffffffu); }
static void bad_mods_outside(void) { put32(INFO_PA + 24, MEM_SIZE - 8); }
static void bad_mods_too_many(void) { put32(INFO_PA + 20, MB2_MAX_MODULES + 1); }
static void bad_mod_end_before_start(void) { put32(MODS_PA + 4, 0x1ff000); }
static void bad_mod_string_outside(void) { put32(MODS_PA + 8, MEM_SIZE); }
static void bad_mmap_outside(void) { put32(INFO_PA + 48, MEM_SIZE - 24); }
static void bad_mmap_short_entry(void) { put32(MMAP_PA, 16); }
static void bad_mmap_cut(void) { put32(INFO_PA + 44, 40); }
static void bad_mmap_tail(void) { put32(INFO_PA + 44, 50); }
static void bad_strings_full(void)
{
	memset(mem + CMDLINE_PA, 'x', 255);
	mem[CMDLINE_PA + 255] = '\0';  /* fits the loader's memory, not the 256-byte copy with the others */
}

static const struct {
	const char *name;
	void (*breaks)(void);
	int rc;
	int info_at_end;
} bad[] = {
	{ "info outside memory", bad_info_outside, HV_EINVAL, 1 },
	{ "cmdline outside memory", bad_cmdline_outside, HV_EINVAL, 0 },
	{ "cmdline unterminated", bad_cmdline_unterminated, HV_EINVAL, 0 },
	{ "loader name outside memory", bad_loader_outside, HV_EINVAL, 0 },
	{ "module list outside memory", bad_mods_outside, HV_EINVAL, 0 },
	{ "more modules than the struct holds", bad_mods_too_many, HV_ERANGE, 0 },
	{ "module ends before it starts", bad_mod_end_before_start, HV_EINVAL, 0 },
	{ "module string outside memory", bad_mod_string_outside, HV_EINVAL, 0 },
	{ "memory map outside memory", bad_mmap_outside, HV_EINVAL, 0 },
	{ "memory map entry too short", bad_mmap_short_entry, HV_EINVAL, 0 },
	{ "memory map cut inside an entry", bad_mmap_cut, HV_EINVAL, 0 },
	{ "memory map with a stray tail", bad_mmap_tail, HV_EINVAL, 0 },
	{ "strings exceed the copy buffer", bad_strings_full, HV_ERANGE, 0 },
};

START_TEST(test_bad)
{
	struct mb2_info out;
	int rc;

	bad[_i].breaks();
	if (bad[_i].info_at_end) {
		memset(&out, 0x5a, sizeof(out));
		rc = mb1_parse(map, NULL, MEM_SIZE - 8, &out, strings, sizeof(strings));
	} else {
		rc = parse(&out);
	}
	ck_assert_msg(rc == bad[_i].rc, "%s: rc %d, expected %d", bad[_i].name, rc, bad[_i].rc);
	ck_empty(&out);
}
END_TEST

START_TEST(test_null_args)
{
	struct mb2_info out;

	ck_assert_int_eq(mb1_parse(map, NULL, INFO_PA, NULL, strings, sizeof(strings)), HV_EINVAL);
	ck_assert_int_eq(mb1_parse(NULL, NULL, INFO_PA, &out, strings, sizeof(strings)), HV_EINVAL);
	ck_empty(&out);
	ck_assert_int_eq(mb1_parse(map, NULL, INFO_PA, &out, NULL, 0), HV_EINVAL);
	ck_empty(&out);
}
END_TEST

static Suite *mb1_suite(void)
{
	Suite *s = suite_create("multiboot1");
	TCase *tc = tcase_create("multiboot1");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_flags_off);
	tcase_add_test(tc, test_wide_mmap_entries);
	tcase_add_loop_test(tc, test_bad, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_null_args);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(mb1_suite());
}
