/*
 * The software walk of the guest's paging (kernel/arch/x86/guest_paging.c)
 * over page tables built in a buffer of guest RAM: every paging mode, large
 * pages, the page-fault error codes, write protection, and the accessed and
 * dirty flags the CPU would set.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>
#include "kernel/arch/x86/guest_paging.h"
#include "kernel/lib/err.h"
#include "tests/unit/check_run.h"

#define RAM_SIZE (8u << 20)
#define P 0x1ull
#define RW 0x2ull
#define US 0x4ull
#define A 0x20ull
#define D 0x40ull
#define PS 0x80ull

static uint8_t ram[RAM_SIZE];
static unsigned writes;

static int mem_read(void *ctx, uint64_t gpa, void *dst, unsigned len)
{
	(void)ctx;
	if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
		return HV_ERANGE;
	memcpy(dst, ram + gpa, len);
	return HV_OK;
}

/* Another vCPU's write, landing between the walk's read of the entry at race_gpa and its flag update. */
static uint64_t race_gpa = ~0ull, race_value;

static int mem_cmpxchg(void *ctx, uint64_t gpa, uint64_t old, uint64_t new, unsigned len)
{
	uint64_t now = 0;

	(void)ctx;
	ck_assert(len == 4 || len == 8);
	ck_assert_uint_eq(gpa % len, 0);
	if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
		return HV_ERANGE;
	if (gpa == race_gpa) {
		memcpy(ram + gpa, &race_value, len);
		race_gpa = ~0ull;
	}
	memcpy(&now, ram + gpa, len);
	if (now != (len == 4 ? (uint32_t)old : old))
		return 0;
	memcpy(ram + gpa, &new, len);
	writes++;
	return 1;
}

static const struct gpt_mem mem = { mem_read, mem_cmpxchg, NULL };

static void put64(uint64_t gpa, uint64_t v) { memcpy(ram + gpa, &v, 8); }
static void put32(uint64_t gpa, uint32_t v) { memcpy(ram + gpa, &v, 4); }
static uint64_t get64(uint64_t gpa) { uint64_t v; memcpy(&v, ram + gpa, 8); return v; }
static uint32_t get32(uint64_t gpa) { uint32_t v; memcpy(&v, ram + gpa, 4); return v; }

static void reset(void)
{
	memset(ram, 0, sizeof(ram));
	writes = 0;
	race_gpa = ~0ull;
}

static int walk(const struct gpt_cpu *cpu, uint64_t la, unsigned access, uint64_t *gpa, uint32_t *err)
{
	*gpa = 0xdead;
	*err = 0xdead;
	return gpt_translate(cpu, &mem, la, access, gpa, err);
}

START_TEST(test_paging_off_is_identity)
{
	struct gpt_cpu cpu = { .cr0 = 0x11 };
	uint64_t gpa;
	uint32_t err;

	reset();
	ck_assert_int_eq(walk(&cpu, 0x123456, GPT_WRITE | GPT_USER, &gpa, &err), GPT_OK);
	ck_assert_uint_eq(gpa, 0x123456);
	ck_assert_uint_eq(writes, 0);
}
END_TEST

/* 4-level tables at 0x1000 (PML4), 0x2000 (PDPT), 0x3000 (PD), 0x4000 (PT). */
static struct gpt_cpu four_level(uint64_t pt_flags)
{
	reset();
	put64(0x1000 + 8 * 1, 0x2000 | P | RW | US);          /* la bits 47:39 = 1 */
	put64(0x2000 + 8 * 2, 0x3000 | P | RW | US);          /* 38:30 = 2 */
	put64(0x3000 + 8 * 3, 0x4000 | P | RW | US);          /* 29:21 = 3 */
	put64(0x4000 + 8 * 4, 0x00345000 | P | pt_flags);     /* 20:12 = 4 */
	put64(0x3000 + 8 * 5, 0x00600000 | P | RW | PS);      /* a 2 MiB page, supervisor */
	put64(0x2000 + 8 * 7, 0x40000000ull | P | RW | US | PS); /* a 1 GiB page */
	return (struct gpt_cpu){ .cr0 = GPT_CR0_PG | GPT_CR0_WP | 1, .cr3 = 0x1000, .cr4 = GPT_CR4_PAE,
				 .efer = GPT_EFER_LMA | (1ull << 8) };
}

static uint64_t la4(unsigned i4, unsigned i3, unsigned i2, unsigned i1, unsigned off)
{
	return ((uint64_t)i4 << 39) | ((uint64_t)i3 << 30) | ((uint64_t)i2 << 21) | ((uint64_t)i1 << 12) | off;
}

START_TEST(test_four_level_4k_sets_accessed_and_dirty)
{
	struct gpt_cpu cpu = four_level(RW | US);
	uint64_t gpa;
	uint32_t err;

	ck_assert_int_eq(walk(&cpu, la4(1, 2, 3, 4, 0x9ab), GPT_USER, &gpa, &err), GPT_OK);
	ck_assert_uint_eq(gpa, 0x3459ab);
	ck_assert_uint_eq(get64(0x1000 + 8), 0x2000 | P | RW | US | A);
	ck_assert_uint_eq(get64(0x4000 + 32), 0x00345000 | P | RW | US | A); /* a read: no dirty flag */
	ck_assert_uint_eq(writes, 4);
	ck_assert_int_eq(walk(&cpu, la4(1, 2, 3, 4, 0x9ab), GPT_WRITE | GPT_USER, &gpa, &err), GPT_OK);
	ck_assert_uint_eq(get64(0x4000 + 32), 0x00345000 | P | RW | US | A | D);
	ck_assert_uint_eq(writes, 5); /* only the leaf changed */
}
END_TEST

/*
 * Another vCPU clears the leaf's present bit after the walk read it: the flag update must not write the
 * old entry back with A and D set (that would map the page again); the walk asks for the instruction
 * to run again, and the next walk sees the cleared entry and faults.
 */
START_TEST(test_entry_changed_under_the_walk)
{
	struct gpt_cpu cpu = four_level(RW | US);
	uint64_t gpa;
	uint32_t err;

	race_gpa = 0x4000 + 32;
	race_value = 0x00345000 | RW | US; /* not present any more */
	ck_assert_int_eq(walk(&cpu, la4(1, 2, 3, 4, 0), GPT_WRITE | GPT_USER, &gpa, &err), GPT_RETRY);
	ck_assert_uint_eq(get64(0x4000 + 32), 0x00345000 | RW | US);
	ck_assert_int_eq(walk(&cpu, la4(1, 2, 3, 4, 0), GPT_WRITE | GPT_USER, &gpa, &err), GPT_FAULT);
	ck_assert_uint_eq(err, GPT_PF_W | GPT_PF_U);
	/* The other vCPU set the same flags first: nothing is lost, the walk retries and then goes through. */
	cpu = four_level(RW | US);
	race_gpa = 0x3000 + 24;
	race_value = 0x4000 | P | RW | US | A;
	ck_assert_int_eq(walk(&cpu, la4(1, 2, 3, 4, 0), GPT_USER, &gpa, &err), GPT_RETRY);
	ck_assert_int_eq(walk(&cpu, la4(1, 2, 3, 4, 0), GPT_USER, &gpa, &err), GPT_OK);
	ck_assert_uint_eq(gpa, 0x345000);
	ck_assert_uint_eq(get64(0x3000 + 24), 0x4000 | P | RW | US | A);
	ck_assert_uint_eq(get64(0x4000 + 32), 0x00345000 | P | RW | US | A);
}
END_TEST

/* 32-bit tables: the exchange is 4 bytes wide and compares the 4 bytes the walk read. */
START_TEST(test_entry_changed_under_a_32bit_walk)
{
	struct gpt_cpu cpu = { .cr0 = GPT_CR0_PG | 1, .cr3 = 0x1000 };
	uint64_t gpa;
	uint32_t err;

	reset();
	put32(0x1000 + 4 * 1, 0x2000 | P | RW);
	put32(0x2000 + 4 * 2, 0x7000 | P | RW);
	race_gpa = 0x2000 + 8;
	race_value = 0x8000 | P | RW; /* remapped elsewhere meanwhile */
	ck_assert_int_eq(walk(&cpu, 0x402010, GPT_WRITE, &gpa, &err), GPT_RETRY);
	ck_assert_uint_eq(get32(0x2000 + 8), 0x8000 | P | RW);
	ck_assert_uint_eq(get32(0x2000 + 12), 0); /* the next entry untouched */
	ck_assert_int_eq(walk(&cpu, 0x402010, GPT_WRITE, &gpa, &err), GPT_OK);
	ck_assert_uint_eq(gpa, 0x8010);
	ck_assert_uint_eq(get32(0x2000 + 8), 0x8000 | P | RW | A | D);
}
END_TEST

START_TEST(test_four_level_large_pages)
{
	struct gpt_cpu cpu = four_level(RW);
	uint64_t gpa;
	uint32_t err;

	ck_assert_int_eq(walk(&cpu, la4(1, 2, 5, 0x1ff, 0xfff), 0, &gpa, &err), GPT_OK);
	ck_assert_uint_eq(gpa, 0x00600000 + 0x1fffff);
	ck_assert_int_eq(walk(&cpu, la4(1, 7, 3, 4, 0x10), GPT_WRITE, &gpa, &err), GPT_OK);
	ck_assert_uint_eq(gpa, 0x40000000ull + la4(0, 0, 3, 4, 0x10));
	ck_assert_uint_eq(get64(0x2000 + 8 * 7), 0x40000000ull | P | RW | US | PS | A | D);
	/* Bit 12 of a large page is its PAT bit, not an address bit. */
	put64(0x3000 + 8 * 5, 0x00600000 | (1ull << 12) | P | RW | PS);
	ck_assert_int_eq(walk(&cpu, la4(1, 2, 5, 0, 0), 0, &gpa, &err), GPT_OK);
	ck_assert_uint_eq(gpa, 0x00600000);
}
END_TEST

START_TEST(test_four_level_faults)
{
	struct gpt_cpu cpu = four_level(US); /* the 4 KiB page is read-only */
	uint64_t gpa;
	uint32_t err;

	/* Not present at the PML4: P clear in the error code, W and U as the access. */
	ck_assert_int_eq(walk(&cpu, la4(2, 0, 0, 0, 0), GPT_WRITE | GPT_USER, &gpa, &err), GPT_FAULT);
	ck_assert_uint_eq(err, GPT_PF_W | GPT_PF_U);
	ck_assert_uint_eq(gpa, 0xdead);
	/* A user write to a read-only page. */
	ck_assert_int_eq(walk(&cpu, la4(1, 2, 3, 4, 0), GPT_WRITE | GPT_USER, &gpa, &err), GPT_FAULT);
	ck_assert_uint_eq(err, GPT_PF_P | GPT_PF_W | GPT_PF_U);
	/* A supervisor write to it: faults with CR0.WP, goes through without. */
	ck_assert_int_eq(walk(&cpu, la4(1, 2, 3, 4, 0), GPT_WRITE, &gpa, &err), GPT_FAULT);
	ck_assert_uint_eq(err, GPT_PF_P | GPT_PF_W);
	ck_assert_uint_eq(writes, 0); /* no flag set by a walk that faulted */
	cpu.cr0 &= ~GPT_CR0_WP;
	ck_assert_int_eq(walk(&cpu, la4(1, 2, 3, 4, 0), GPT_WRITE, &gpa, &err), GPT_OK);
	ck_assert_uint_eq(gpa, 0x00345000);
	/* A user read of the supervisor 2 MiB page. */
	ck_assert_int_eq(walk(&cpu, la4(1, 2, 5, 0, 0), GPT_USER, &gpa, &err), GPT_FAULT);
	ck_assert_uint_eq(err, GPT_PF_P | GPT_PF_U);
	/* Non-canonical: #GP, not #PF. */
	ck_assert_int_eq(walk(&cpu, 1ull << 47, 0, &gpa, &err), GPT_GP);
	ck_assert_int_eq(walk(&cpu, 0xffff800000000000ull, 0, &gpa, &err), GPT_FAULT);
	/* A table outside RAM: an error, not a guest fault. */
	put64(0x1000 + 8 * 3, 0x40000000ull | P | RW);
	ck_assert_int_eq(walk(&cpu, la4(3, 0, 0, 0, 0), 0, &gpa, &err), HV_ERANGE);
}
END_TEST

/* SMAP: a supervisor access the caller marks GPT_SMAP may not touch a page the user can reach. */
START_TEST(test_smap)
{
	struct gpt_cpu cpu = four_level(RW | US);
	uint64_t gpa;
	uint32_t err;

	ck_assert_int_eq(walk(&cpu, la4(1, 2, 3, 4, 0), GPT_WRITE | GPT_SMAP, &gpa, &err), GPT_FAULT);
	ck_assert_uint_eq(err, GPT_PF_P | GPT_PF_W);
	ck_assert_int_eq(walk(&cpu, la4(1, 2, 3, 4, 0), GPT_SMAP, &gpa, &err), GPT_FAULT);
	ck_assert_uint_eq(err, GPT_PF_P);
	ck_assert_uint_eq(writes, 0);
	/* The supervisor 2 MiB page (U/S clear in its PDE) is the supervisor's to use. */
	ck_assert_int_eq(walk(&cpu, la4(1, 2, 5, 0, 0x10), GPT_WRITE | GPT_SMAP, &gpa, &err), GPT_OK);
	ck_assert_uint_eq(gpa, 0x600010);
	/* Without GPT_SMAP (SMAP off, or RFLAGS.AC set) the user page is reachable. */
	ck_assert_int_eq(walk(&cpu, la4(1, 2, 3, 4, 0), GPT_WRITE, &gpa, &err), GPT_OK);
	/* A user access is not SMAP's business. */
	ck_assert_int_eq(walk(&cpu, la4(1, 2, 3, 4, 0), GPT_USER | GPT_SMAP, &gpa, &err), GPT_OK);
}
END_TEST

START_TEST(test_five_level)
{
	struct gpt_cpu cpu = four_level(RW | US);
	uint64_t gpa;
	uint32_t err;

	put64(0x5000 + 8 * 6, 0x1000 | P | RW | US); /* PML5 entry 6 -> the PML4 above */
	cpu.cr3 = 0x5000;
	cpu.cr4 |= GPT_CR4_LA57;
	ck_assert_int_eq(walk(&cpu, (6ull << 48) | la4(1, 2, 3, 4, 0x77), 0, &gpa, &err), GPT_OK);
	ck_assert_uint_eq(gpa, 0x345077);
	ck_assert_int_eq(walk(&cpu, 1ull << 56, 0, &gpa, &err), GPT_GP);
}
END_TEST

START_TEST(test_pae)
{
	struct gpt_cpu cpu = { .cr0 = GPT_CR0_PG | GPT_CR0_WP | 1, .cr3 = 0x1020, .cr4 = GPT_CR4_PAE };
	uint64_t gpa;
	uint32_t err;

	reset();
	put64(0x1020 + 8 * 2, 0x2000 | P);                    /* PDPTE 2: la 0x80000000-0xbfffffff */
	put64(0x2000 + 8 * 3, 0x3000 | P | RW | US);
	put64(0x3000 + 8 * 4, 0x00456000 | P | RW | US);
	put64(0x2000 + 8 * 4, 0x00a00000 | P | RW | US | PS); /* 2 MiB */
	ck_assert_int_eq(walk(&cpu, 0x80000000u | (3u << 21) | (4u << 12) | 0x5, GPT_WRITE, &gpa, &err), GPT_OK);
	ck_assert_uint_eq(gpa, 0x456005);
	ck_assert_uint_eq(get64(0x1020 + 16), 0x2000 | P); /* PDPTEs have no accessed flag */
	ck_assert_uint_eq(get64(0x3000 + 32), 0x00456000 | P | RW | US | A | D);
	ck_assert_int_eq(walk(&cpu, 0x80000000u | (4u << 21) | 0x1234, 0, &gpa, &err), GPT_OK);
	ck_assert_uint_eq(gpa, 0x00a01234);
	ck_assert_int_eq(walk(&cpu, 0x40000000u, GPT_WRITE, &gpa, &err), GPT_FAULT); /* PDPTE 1 absent */
	ck_assert_uint_eq(err, GPT_PF_W);
}
END_TEST

START_TEST(test_legacy_32bit)
{
	struct gpt_cpu cpu = { .cr0 = GPT_CR0_PG | 1, .cr3 = 0x1000 };
	uint64_t gpa;
	uint32_t err;

	reset();
	put32(0x1000 + 4 * 1, 0x2000 | P | RW | US);      /* la 0x00400000-0x007fffff */
	put32(0x2000 + 4 * 5, 0x00789000 | P | US);       /* read-only */
	put32(0x1000 + 4 * 2, 0x00400000 | P | RW | PS | (0x3u << 13)); /* 4 MiB at 0x3_00400000 with PSE-36 */
	ck_assert_int_eq(walk(&cpu, 0x00405abc, GPT_WRITE, &gpa, &err), GPT_OK); /* CR0.WP clear */
	ck_assert_uint_eq(gpa, 0x00789abc);
	ck_assert_uint_eq(get32(0x2000 + 20), 0x00789000 | P | US | A | D);
	ck_assert_int_eq(walk(&cpu, 0x00405abc, GPT_WRITE | GPT_USER, &gpa, &err), GPT_FAULT);
	ck_assert_uint_eq(err, GPT_PF_P | GPT_PF_W | GPT_PF_U);
	/* Without CR4.PSE the PS bit means nothing: the entry points at a page table (of zeros). */
	ck_assert_int_eq(walk(&cpu, 0x00812345, 0, &gpa, &err), GPT_FAULT);
	cpu.cr4 = GPT_CR4_PSE;
	ck_assert_int_eq(walk(&cpu, 0x00812345, 0, &gpa, &err), GPT_OK);
	ck_assert_uint_eq(gpa, 0x300412345ull);
	/* Linear addresses are 32 bits wide. */
	ck_assert_int_eq(walk(&cpu, 0x100405abcull, 0, &gpa, &err), GPT_OK);
	ck_assert_uint_eq(gpa, 0x00789abc);
}
END_TEST

static Suite *guest_paging_suite(void)
{
	Suite *s = suite_create("guest_paging");
	TCase *tc = tcase_create("walk");

	tcase_add_test(tc, test_paging_off_is_identity);
	tcase_add_test(tc, test_four_level_4k_sets_accessed_and_dirty);
	tcase_add_test(tc, test_entry_changed_under_the_walk);
	tcase_add_test(tc, test_entry_changed_under_a_32bit_walk);
	tcase_add_test(tc, test_four_level_large_pages);
	tcase_add_test(tc, test_four_level_faults);
	tcase_add_test(tc, test_smap);
	tcase_add_test(tc, test_five_level);
	tcase_add_test(tc, test_pae);
	tcase_add_test(tc, test_legacy_32bit);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(guest_paging_suite());
}
