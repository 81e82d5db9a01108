/* Unit tests for kernel/core/ept.c: table construction over a fake physical memory. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/core/ept.h"
#include "kernel/lib/err.h"
#include "tests/unit/check_run.h"

#define MiB (1ull << 20)
#define POOL_TABLES 64
#define POOL_BASE 0x7654300000ull /* fake physical address of table 0 */

/* A pool of 4 KiB-aligned host buffers posing as physical table memory. */
struct fake_mem {
	uint64_t *bufs[POOL_TABLES];
	unsigned used, limit;
};

static struct fake_mem fm;
static struct ept ept;

static uint64_t fake_alloc(void *ctx)
{
	struct fake_mem *m = ctx;

	if (m->used == m->limit)
		return 0;
	memset(m->bufs[m->used], 0, EPT_PAGE_4K);
	return POOL_BASE + EPT_PAGE_4K * m->used++;
}

static uint64_t *fake_table(void *ctx, uint64_t pa)
{
	struct fake_mem *m = ctx;

	ck_assert_uint_eq(pa & (EPT_PAGE_4K - 1), 0);
	ck_assert_uint_ge(pa, POOL_BASE);
	ck_assert_uint_lt((pa - POOL_BASE) / EPT_PAGE_4K, m->used);
	return m->bufs[(pa - POOL_BASE) / EPT_PAGE_4K];
}

static const struct ept_mem fake_ops = { fake_alloc, fake_table, &fm, NULL };

/* Tables given back by ept_destroy, by pool index: each at most once. */
static unsigned char freed[POOL_TABLES];
static unsigned freed_count;

static void fake_free(void *ctx, uint64_t pa)
{
	unsigned i = (unsigned)((pa - POOL_BASE) / EPT_PAGE_4K);

	(void)fake_table(ctx, pa); /* one alloc_table handed out */
	ck_assert_uint_eq(freed[i], 0);
	freed[i] = 1;
	freed_count++;
}

static void setup(void)
{
	unsigned i;

	for (i = 0; i < POOL_TABLES; i++) {
		fm.bufs[i] = aligned_alloc(EPT_PAGE_4K, EPT_PAGE_4K);
		ck_assert_ptr_nonnull(fm.bufs[i]);
		memset(fm.bufs[i], 0xa5, EPT_PAGE_4K); /* alloc_table must zero */
	}
	fm.used = 0;
	fm.limit = POOL_TABLES;
	ck_assert_int_eq(ept_init(&ept, &fake_ops), HV_OK);
}

static void teardown(void)
{
	unsigned i;

	for (i = 0; i < POOL_TABLES; i++)
		free(fm.bufs[i]);
}

static bool is_pool_table(uint64_t pa)
{
	return pa >= POOL_BASE && pa < POOL_BASE + EPT_PAGE_4K * fm.used && !(pa & (EPT_PAGE_4K - 1));
}

/* Checks a non-leaf entry: RWX, no other flag bits but the split mark, pointing at an allocated table. */
static uint64_t *ck_next_table(uint64_t entry)
{
	ck_assert_uint_eq(entry & ~EPT_ADDR_MASK & ~EPT_SW_SPLIT, EPT_RWX);
	ck_assert(is_pool_table(entry & EPT_ADDR_MASK));
	return fake_table(&fm, entry & EPT_ADDR_MASK);
}

static void ck_translates(uint64_t gpa, uint64_t want_hpa, uint64_t want_perms)
{
	uint64_t hpa = 0, perms = 0;

	ck_assert_int_eq(ept_translate(&ept, gpa, &hpa, &perms), HV_OK);
	ck_assert_uint_eq(hpa, want_hpa);
	ck_assert_uint_eq(perms, want_perms);
}

static void ck_unmapped(uint64_t gpa)
{
	uint64_t hpa = 0xdead, perms = 0xdead;

	ck_assert_int_eq(ept_translate(&ept, gpa, &hpa, &perms), HV_ENOENT);
}

START_TEST(test_init_allocates_only_pml4)
{
	ck_assert_uint_eq(ept.tables, 1);
	ck_assert_uint_eq(ept.pml4_pa, POOL_BASE);
	ck_assert_uint_eq(ept.pages_4k, 0);
	ck_assert_uint_eq(ept.pages_2m, 0);
	ck_unmapped(0);
}
END_TEST

START_TEST(test_init_out_of_memory)
{
	struct ept e2;

	fm.limit = fm.used;
	ck_assert_int_eq(ept_init(&e2, &fake_ops), HV_ENOMEM);
}
END_TEST

START_TEST(test_32m_large_uses_2m_pages_and_three_tables)
{
	ck_assert_int_eq(ept_map(&ept, 0, 0x40000000, 32 * MiB, EPT_RWX, true), HV_OK);
	ck_assert_uint_eq(ept.pages_2m, 16);
	ck_assert_uint_eq(ept.pages_4k, 0);
	ck_assert_uint_eq(ept.tables, 3);
	ck_assert_uint_eq(fm.used, 3);
}
END_TEST

START_TEST(test_32m_unaligned_hpa_uses_4k_pages)
{
	ck_assert_int_eq(ept_map(&ept, 0, 0x1000, 32 * MiB, EPT_RWX, true), HV_OK);
	ck_assert_uint_eq(ept.pages_2m, 0);
	ck_assert_uint_eq(ept.pages_4k, 8192);
	ck_assert_uint_eq(ept.tables, 1 + 1 + 1 + 16);
	ck_translates(0, 0x1000, EPT_RWX);
	ck_translates(32 * MiB - 1, 32 * MiB - 1 + 0x1000, EPT_RWX);
}
END_TEST

START_TEST(test_32m_large_false_uses_4k_pages)
{
	ck_assert_int_eq(ept_map(&ept, 0, 0x40000000, 32 * MiB, EPT_RWX, false), HV_OK);
	ck_assert_uint_eq(ept.pages_2m, 0);
	ck_assert_uint_eq(ept.pages_4k, 8192);
	ck_assert_uint_eq(ept.tables, 1 + 1 + 1 + 16);
}
END_TEST

/* gpa 1 MiB .. 6 MiB + 12 KiB: 4K up to 2 MiB, two 2M pages, then a 4K tail. */
#define MIX_GPA (1 * MiB)
#define MIX_HPA (0x40000000 + 1 * MiB)
#define MIX_SIZE (1 * MiB + 4 * MiB + 0x3000)

START_TEST(test_mixed_4k_head_2m_body_4k_tail)
{
	ck_assert_int_eq(ept_map(&ept, MIX_GPA, MIX_HPA, MIX_SIZE, EPT_READ | EPT_EXEC, true), HV_OK);
	ck_assert_uint_eq(ept.pages_4k, 256 + 3);
	ck_assert_uint_eq(ept.pages_2m, 2);
	ck_assert_uint_eq(ept.tables, 3 + 2); /* PML4, PDPT, PD + PTs for [0, 2M) and [6M, 8M) */
}
END_TEST

START_TEST(test_gpa_hpa_differently_aligned_uses_4k_only)
{
	/* Both 4K aligned, but gpa % 2M != hpa % 2M: no 2M page can ever fit. */
	ck_assert_int_eq(ept_map(&ept, 2 * MiB, 0x40000000 + 0x1000, 4 * MiB, EPT_RWX, true), HV_OK);
	ck_assert_uint_eq(ept.pages_2m, 0);
	ck_assert_uint_eq(ept.pages_4k, 1024);
}
END_TEST

START_TEST(test_translate_many_addresses)
{
	uint64_t off;

	ck_assert_int_eq(ept_map(&ept, MIX_GPA, MIX_HPA, MIX_SIZE, EPT_READ | EPT_EXEC, true), HV_OK);
	/* Every page, at an offset that changes from page to page. */
	for (off = 0; off < MIX_SIZE; off += EPT_PAGE_4K) {
		uint64_t o = off + ((off >> 12) * 0x107) % EPT_PAGE_4K;

		ck_translates(MIX_GPA + o, MIX_HPA + o, EPT_READ | EPT_EXEC);
	}
	ck_translates(MIX_GPA + MIX_SIZE - 1, MIX_HPA + MIX_SIZE - 1, EPT_READ | EPT_EXEC);
	ck_translates(2 * MiB + 0x1abcde, MIX_HPA - MIX_GPA + 2 * MiB + 0x1abcde, EPT_READ | EPT_EXEC);
	ck_unmapped(MIX_GPA - 1);
	ck_unmapped(0);
	ck_unmapped(MIX_GPA + MIX_SIZE);
	ck_unmapped(MIX_GPA + MIX_SIZE + 0x1000);
	ck_unmapped(8 * MiB);
	ck_unmapped(1ull << 30);
	ck_unmapped(EPT_GPA_LIMIT - 1);
	/* NULL outputs are allowed. */
	ck_assert_int_eq(ept_translate(&ept, MIX_GPA, NULL, NULL), HV_OK);
}
END_TEST

START_TEST(test_translate_holes_between_ranges)
{
	ck_assert_int_eq(ept_map(&ept, 0, 0x80000000, 2 * MiB, EPT_RWX, true), HV_OK);
	ck_assert_int_eq(ept_map(&ept, 4 * MiB, 0x90000000, 0x2000, EPT_READ, true), HV_OK);
	ck_assert_int_eq(ept_map(&ept, 4 * MiB + 0x4000, 0xa0000000, 0x1000, EPT_READ | EPT_WRITE, true), HV_OK);
	ck_translates(0x1234, 0x80001234, EPT_RWX);
	ck_unmapped(2 * MiB);
	ck_unmapped(4 * MiB - 1);
	ck_translates(4 * MiB + 0x1fff, 0x90001fff, EPT_READ);
	ck_unmapped(4 * MiB + 0x2000);
	ck_unmapped(4 * MiB + 0x3fff);
	ck_translates(4 * MiB + 0x4010, 0xa0000010, EPT_READ | EPT_WRITE);
	ck_unmapped(4 * MiB + 0x5000);
}
END_TEST

START_TEST(test_translate_beyond_gpa_limit)
{
	/* Addresses past 2^48 must not alias onto the low mapping. */
	ck_assert_int_eq(ept_map(&ept, 0, 0x40000000, 2 * MiB, EPT_RWX, true), HV_OK);
	ck_unmapped(EPT_GPA_LIMIT);
	ck_unmapped(EPT_GPA_LIMIT + 0x1000);
	ck_unmapped(UINT64_MAX & ~0xfffull);
}
END_TEST

/* Indices 3 / 5 / 7 / 9 at PML4 / PDPT / PD / PT. */
#define BIT_GPA ((3ull << 39) | (5ull << 30) | (7ull << 21))

START_TEST(test_entry_bits_4k_leaf)
{
	uint64_t hpa = 0x000ffedcba987000ull, *t, leaf;

	ck_assert_int_eq(ept_map(&ept, BIT_GPA + (9ull << 12), hpa, 0x1000, EPT_READ | EPT_EXEC, true), HV_OK);
	t = fake_table(&fm, ept.pml4_pa);
	t = ck_next_table(t[3]);
	t = ck_next_table(t[5]);
	t = ck_next_table(t[7]);
	leaf = t[9];
	ck_assert_uint_eq(leaf, hpa | EPT_READ | EPT_EXEC | EPT_MEMTYPE_WB);
	ck_assert_uint_eq(leaf & EPT_LARGE, 0);
	ck_assert_uint_eq(leaf & EPT_WRITE, 0);
	ck_assert_uint_eq((leaf >> 3) & 7, 6);
	ck_assert_uint_eq(leaf & EPT_ADDR_MASK, hpa);
	ck_assert_uint_eq(t[8], 0);
	ck_assert_uint_eq(t[10], 0);
	ck_translates(BIT_GPA + (9ull << 12) + 0xabc, hpa + 0xabc, EPT_READ | EPT_EXEC);
}
END_TEST

START_TEST(test_entry_bits_2m_leaf)
{
	uint64_t hpa = 0x0001234567800000ull & ~(EPT_PAGE_2M - 1), *t, leaf;

	ck_assert_int_eq(ept_map(&ept, BIT_GPA, hpa, 2 * MiB, EPT_READ | EPT_WRITE, true), HV_OK);
	t = fake_table(&fm, ept.pml4_pa);
	t = ck_next_table(t[3]);
	t = ck_next_table(t[5]);
	leaf = t[7];
	ck_assert_uint_eq(leaf, hpa | EPT_READ | EPT_WRITE | EPT_MEMTYPE_WB | EPT_LARGE);
	ck_assert_uint_eq(leaf & EPT_EXEC, 0);
	ck_assert_uint_eq(t[6], 0);
	ck_assert_uint_eq(t[8], 0);
	ck_translates(BIT_GPA + 0x12345, hpa + 0x12345, EPT_READ | EPT_WRITE);
}
END_TEST

START_TEST(test_overlap_refused_nothing_installed)
{
	uint64_t tables;

	ck_assert_int_eq(ept_map(&ept, 2 * MiB, 0x40000000, 2 * MiB, EPT_RWX, true), HV_OK);
	tables = ept.tables;
	/* Tail overlaps the head of the existing mapping, head overlaps its tail. */
	ck_assert_int_eq(ept_map(&ept, 0, 0x50000000, 2 * MiB + 0x1000, EPT_RWX, false), HV_EEXIST);
	ck_assert_int_eq(ept_map(&ept, 3 * MiB, 0x50000000, 2 * MiB, EPT_RWX, true), HV_EEXIST);
	ck_assert_int_eq(ept_map(&ept, 2 * MiB, 0x50000000, 2 * MiB, EPT_RWX, true), HV_EEXIST);
	ck_assert_int_eq(ept_map(&ept, 3 * MiB + 0x5000, 0x50000000, 0x1000, EPT_RWX, true), HV_EEXIST);
	ck_assert_int_eq(ept_map(&ept, 0, 0x50000000, 8 * MiB, EPT_RWX, true), HV_EEXIST);
	ck_assert_uint_eq(ept.pages_2m, 1);
	ck_assert_uint_eq(ept.pages_4k, 0);
	ck_assert_uint_eq(ept.tables, tables);
	ck_unmapped(0);
	ck_unmapped(2 * MiB - 0x1000);
	ck_unmapped(4 * MiB);
	ck_unmapped(5 * MiB - 1);
	ck_translates(3 * MiB + 0x5000, 0x40000000 + 1 * MiB + 0x5000, EPT_RWX);
	/* Adjacent ranges are fine. */
	ck_assert_int_eq(ept_map(&ept, 0, 0x50000000, 2 * MiB, EPT_READ, true), HV_OK);
	ck_assert_int_eq(ept_map(&ept, 4 * MiB, 0x60000000, 0x1000, EPT_READ, true), HV_OK);
	ck_translates(2 * MiB - 1, 0x50000000 + 2 * MiB - 1, EPT_READ);
	ck_translates(4 * MiB, 0x60000000, EPT_READ);
}
END_TEST

static const struct bad_map {
	uint64_t gpa, hpa, size, perms;
	int err;
} bad_maps[] = {
	{ 0x800, 0, 0x1000, EPT_RWX, HV_EINVAL },                 /* gpa unaligned */
	{ 0, 0x10, 0x1000, EPT_RWX, HV_EINVAL },                  /* hpa unaligned */
	{ 0, 0, 0x1001, EPT_RWX, HV_EINVAL },                     /* size unaligned */
	{ 0, 0, 0, EPT_RWX, HV_EINVAL },                          /* size 0 */
	{ 0, 0, 0x1000, 0, HV_EINVAL },                           /* no permissions */
	{ 0, 0, 0x1000, EPT_WRITE, HV_EINVAL },                   /* write without read */
	{ 0, 0, 0x1000, EPT_EXEC, HV_EINVAL },                    /* exec-only */
	{ 0, 0, 0x1000, EPT_WRITE | EPT_EXEC, HV_EINVAL },
	{ 0, 0, 0x1000, EPT_RWX | EPT_LARGE, HV_EINVAL },         /* unknown bits */
	{ 0, 0, 0x1000, EPT_READ | EPT_MEMTYPE_WB, HV_EINVAL },
	{ 0, 0, 0x1000, EPT_READ | (1ull << 63), HV_EINVAL },
	{ EPT_GPA_LIMIT, 0, 0x1000, EPT_RWX, HV_ERANGE },         /* gpa beyond 2^48 */
	{ EPT_GPA_LIMIT - 0x1000, 0, 0x2000, EPT_RWX, HV_ERANGE }, /* end beyond 2^48 */
	{ UINT64_MAX & ~0xfffull, 0, 0x2000, EPT_RWX, HV_ERANGE },
	{ 0x1000, 0, UINT64_MAX & ~0xfffull, EPT_RWX, HV_ERANGE }, /* gpa + size wraps */
	{ 0, 1ull << 52, 0x1000, EPT_RWX, HV_ERANGE },            /* hpa beyond 52 bits */
	{ 0, (1ull << 52) - 0x1000, 0x2000, EPT_RWX, HV_ERANGE }, /* hpa end beyond 52 bits */
};

START_TEST(test_bad_args)
{
	const struct bad_map *b = &bad_maps[_i];

	ck_assert_int_eq(ept_map(&ept, b->gpa, b->hpa, b->size, b->perms, true), b->err);
	ck_assert_int_eq(ept_map(&ept, b->gpa, b->hpa, b->size, b->perms, false), b->err);
	ck_assert_uint_eq(ept.tables, 1);
	ck_assert_uint_eq(ept.pages_4k + ept.pages_2m, 0);
	ck_unmapped(0);
}
END_TEST

START_TEST(test_last_page_below_limits_accepted)
{
	ck_assert_int_eq(ept_map(&ept, EPT_GPA_LIMIT - 0x1000, (1ull << 52) - 0x1000, 0x1000, EPT_READ, true), HV_OK);
	ck_translates(EPT_GPA_LIMIT - 1, (1ull << 52) - 1, EPT_READ);
	ck_assert_uint_eq(ept.tables, 4);
}
END_TEST

START_TEST(test_out_of_table_memory)
{
	fm.limit = 3; /* PML4 + PDPT + PD: no room for a page table */
	ck_assert_int_eq(ept_map(&ept, 0, 0x40000000, 0x1000, EPT_RWX, true), HV_ENOMEM);
	ck_assert_uint_eq(ept.tables, 3);
	ck_assert_uint_eq(ept.pages_4k, 0);
	ck_unmapped(0);
	/* The same budget still fits 2M pages, which need no page table. */
	ck_assert_int_eq(ept_map(&ept, 0, 0x40000000, 4 * MiB, EPT_RWX, true), HV_OK);
	ck_assert_uint_eq(ept.pages_2m, 2);
	/* A new PDPT region runs out again. */
	ck_assert_int_eq(ept_map(&ept, 1ull << 39, 0x40000000, 2 * MiB, EPT_RWX, true), HV_ENOMEM);
	ck_unmapped(1ull << 39);
}
END_TEST

START_TEST(test_ept_pointer)
{
	uint64_t p = ept_pointer(&ept, false), ad = ept_pointer(&ept, true);

	ck_assert_uint_eq(p & 7, 6);                 /* write-back */
	ck_assert_uint_eq((p >> 3) & 7, 3);          /* walk length 4 - 1 */
	ck_assert_uint_eq(p & EPTP_AD_ENABLE, 0);
	ck_assert_uint_eq(p & EPT_ADDR_MASK, ept.pml4_pa);
	ck_assert_uint_eq(p, POOL_BASE | (3 << 3) | 6);
	ck_assert_uint_eq(ad, p | (1ull << 6));
}
END_TEST

/* The PD entry (level 1) covering gpa, reached through the fake memory. */
static uint64_t *pd_entry(uint64_t gpa)
{
	uint64_t *t = fake_table(&fm, ept.pml4_pa);

	t = ck_next_table(t[(gpa >> 39) & 511]);
	t = ck_next_table(t[(gpa >> 30) & 511]);
	return &t[(gpa >> 21) & 511];
}

#define SPLIT_HPA 0x40000000ull
#define SPLIT_SIZE (32 * MiB)

/* Every 4 KiB page of [gpa, gpa + size) maps to hpa + offset with perms. */
static void ck_range_translates(uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms)
{
	uint64_t off;

	for (off = 0; off < size; off += EPT_PAGE_4K) {
		ck_translates(gpa + off, hpa + off, perms);
		ck_translates(gpa + off + 0xfff, hpa + off + 0xfff, perms);
	}
}

START_TEST(test_split_32m_of_2m_pages)
{
	uint64_t off, tables;

	ck_assert_int_eq(ept_map(&ept, 0, SPLIT_HPA, SPLIT_SIZE, EPT_READ | EPT_WRITE, true), HV_OK);
	ck_assert_uint_eq(ept.pages_2m, 16);
	tables = ept.tables;
	ck_assert_uint_eq(tables, 3);
	for (off = 0; off < SPLIT_SIZE; off += EPT_PAGE_4K)
		ck_assert_ptr_null(ept_leaf_4k(&ept, off));

	ck_assert_int_eq(ept_split_range(&ept, 0, SPLIT_SIZE), 16);
	ck_assert_uint_eq(ept.tables, tables + 16);
	ck_assert_uint_eq(fm.used, tables + 16);
	ck_assert_uint_eq(ept.pages_2m, 0);
	ck_assert_uint_eq(ept.pages_4k, 8192);
	ck_range_translates(0, SPLIT_HPA, SPLIT_SIZE, EPT_READ | EPT_WRITE);
	ck_unmapped(SPLIT_SIZE);
	/* Each PD entry now points at a complete page table of 4 KiB leaves. */
	for (off = 0; off < SPLIT_SIZE; off += EPT_PAGE_2M) {
		uint64_t *pt = ck_next_table(*pd_entry(off));
		unsigned i;

		for (i = 0; i < EPT_ENTRIES; i++) {
			uint64_t want = (SPLIT_HPA + off + (uint64_t)i * EPT_PAGE_4K) |
					EPT_READ | EPT_WRITE | EPT_MEMTYPE_WB;

			ck_assert_uint_eq(pt[i], want);
			ck_assert_uint_eq(pt[i] & EPT_LARGE, 0);
			ck_assert_uint_eq((pt[i] >> 3) & 7, 6);
			ck_assert_ptr_eq(ept_leaf_4k(&ept, off + (uint64_t)i * EPT_PAGE_4K), &pt[i]);
			ck_assert_ptr_eq(ept_leaf_4k(&ept, off + (uint64_t)i * EPT_PAGE_4K + 0x123), &pt[i]);
		}
	}
	/* Splitting again finds nothing to split and allocates nothing. */
	ck_assert_int_eq(ept_split_range(&ept, 0, SPLIT_SIZE), 0);
	ck_assert_uint_eq(ept.tables, tables + 16);
	ck_assert_uint_eq(ept.pages_4k, 8192);
}
END_TEST

/* Flags other than the address and bit 7 carry over: perms, memory type, ignore-PAT, A/D. */
START_TEST(test_split_preserves_flags)
{
	const uint64_t gpa = BIT_GPA, hpa = 0x0001234567800000ull & ~(EPT_PAGE_2M - 1);
	uint64_t *pde, *pt, flags;
	unsigned i;

	ck_assert_int_eq(ept_map(&ept, gpa, hpa, 2 * MiB, EPT_READ | EPT_EXEC, true), HV_OK);
	pde = pd_entry(gpa);
	*pde |= EPT_IGNORE_PAT | EPT_ACCESSED | EPT_DIRTY;
	flags = EPT_READ | EPT_EXEC | EPT_MEMTYPE_WB | EPT_IGNORE_PAT | EPT_ACCESSED | EPT_DIRTY;
	ck_assert_uint_eq(*pde, hpa | flags | EPT_LARGE);
	ck_assert_int_eq(ept_split_range(&ept, gpa + 0x5000, 0x1000), 1);
	pt = ck_next_table(*pde);
	for (i = 0; i < EPT_ENTRIES; i++) {
		ck_assert_uint_eq(pt[i], (hpa + (uint64_t)i * EPT_PAGE_4K) | flags);
		ck_assert_uint_eq(pt[i] & EPT_LARGE, 0);
	}
	ck_range_translates(gpa, hpa, 2 * MiB, EPT_READ | EPT_EXEC);
}
END_TEST

START_TEST(test_split_4k_range_splits_nothing)
{
	uint64_t tables;

	ck_assert_int_eq(ept_map(&ept, 0, SPLIT_HPA, 4 * MiB, EPT_RWX, false), HV_OK);
	tables = ept.tables;
	ck_assert_ptr_nonnull(ept_leaf_4k(&ept, 0));
	ck_assert_int_eq(ept_split_range(&ept, 0, 4 * MiB), 0);
	ck_assert_uint_eq(ept.tables, tables);
	ck_assert_uint_eq(fm.used, tables);
	ck_assert_uint_eq(ept.pages_4k, 1024);
	ck_assert_uint_eq(ept.pages_2m, 0);
	ck_range_translates(0, SPLIT_HPA, 4 * MiB, EPT_RWX);
	/* Nor does an unmapped range, or an empty one. */
	ck_assert_int_eq(ept_split_range(&ept, 1ull << 30, 8 * MiB), 0);
	ck_assert_int_eq(ept_split_range(&ept, 0, 0), 0);
	ck_assert_uint_eq(ept.tables, tables);
}
END_TEST

START_TEST(test_split_partial_range)
{
	uint64_t off;

	ck_assert_int_eq(ept_map(&ept, 0, SPLIT_HPA, SPLIT_SIZE, EPT_RWX, true), HV_OK);
	/* [3 MiB, 7 MiB + 4 KiB) touches the 2 MiB leaves at 2, 4 and 6 MiB. */
	ck_assert_int_eq(ept_split_range(&ept, 3 * MiB, 4 * MiB + 0x1000), 3);
	ck_assert_uint_eq(ept.tables, 3 + 3);
	ck_assert_uint_eq(ept.pages_2m, 13);
	ck_assert_uint_eq(ept.pages_4k, 3 * 512);
	for (off = 0; off < SPLIT_SIZE; off += EPT_PAGE_2M) {
		bool split = off >= 2 * MiB && off < 8 * MiB;

		ck_assert(!!(*pd_entry(off) & EPT_LARGE) == !split);
		ck_assert((ept_leaf_4k(&ept, off) != NULL) == split);
		ck_assert((ept_leaf_4k(&ept, off + EPT_PAGE_2M - 0x1000) != NULL) == split);
	}
	ck_range_translates(0, SPLIT_HPA, SPLIT_SIZE, EPT_RWX);
	/* A range ending exactly at a 2 MiB boundary does not touch the next leaf. */
	ck_assert_int_eq(ept_split_range(&ept, 8 * MiB, 2 * MiB), 1);
	ck_assert_ptr_null(ept_leaf_4k(&ept, 10 * MiB));
	ck_assert_ptr_nonnull(ept_leaf_4k(&ept, 10 * MiB - 0x1000));
	ck_assert_uint_eq(ept.pages_2m, 12);
	/* A single byte in the middle of a leaf splits that leaf. */
	ck_assert_int_eq(ept_split_range(&ept, 31 * MiB, 1), 1);
	ck_assert_ptr_nonnull(ept_leaf_4k(&ept, 30 * MiB));
	ck_assert_ptr_null(ept_leaf_4k(&ept, 30 * MiB - 1));
	ck_assert_uint_eq(ept.pages_2m, 11);
	ck_assert_uint_eq(ept.pages_4k, 5 * 512);
	ck_assert_uint_eq(ept.tables, 3 + 5);
	/* 2 MiB long but starting mid-leaf: touches the leaves at 12 and 14 MiB. */
	ck_assert_int_eq(ept_split_range(&ept, 13 * MiB, 2 * MiB), 2);
	ck_assert_ptr_nonnull(ept_leaf_4k(&ept, 12 * MiB));
	ck_assert_ptr_nonnull(ept_leaf_4k(&ept, 16 * MiB - 0x1000));
	ck_assert_ptr_null(ept_leaf_4k(&ept, 16 * MiB));
	ck_assert_uint_eq(ept.pages_2m, 9);
	ck_assert_uint_eq(ept.pages_4k, 7 * 512);
	ck_assert_uint_eq(ept.tables, 3 + 7);
	ck_range_translates(0, SPLIT_HPA, SPLIT_SIZE, EPT_RWX);
}
END_TEST

/* A mixed map: only the 2 MiB leaves split; the 4K head and tail stay as they were. */
START_TEST(test_split_mixed_map)
{
	ck_assert_int_eq(ept_map(&ept, MIX_GPA, MIX_HPA, MIX_SIZE, EPT_READ | EPT_EXEC, true), HV_OK);
	ck_assert_int_eq(ept_split_range(&ept, MIX_GPA, MIX_SIZE), 2);
	ck_assert_uint_eq(ept.pages_2m, 0);
	ck_assert_uint_eq(ept.pages_4k, 256 + 3 + 1024);
	ck_assert_uint_eq(ept.tables, 5 + 2);
	ck_range_translates(MIX_GPA, MIX_HPA, MIX_SIZE, EPT_READ | EPT_EXEC);
	ck_unmapped(MIX_GPA - 1);
	ck_unmapped(MIX_GPA + MIX_SIZE);
}
END_TEST

START_TEST(test_leaf_4k)
{
	uint64_t *leaf;

	ck_assert_ptr_null(ept_leaf_4k(&ept, 0));
	ck_assert_int_eq(ept_map(&ept, 2 * MiB, SPLIT_HPA, 2 * MiB, EPT_RWX, true), HV_OK);
	ck_assert_int_eq(ept_map(&ept, 4 * MiB, 0x50000000, 0x1000, EPT_READ, true), HV_OK);
	ck_assert_ptr_null(ept_leaf_4k(&ept, 0));          /* unmapped */
	ck_assert_ptr_null(ept_leaf_4k(&ept, 2 * MiB));    /* inside a 2M leaf */
	ck_assert_ptr_null(ept_leaf_4k(&ept, 3 * MiB + 0x5000));
	ck_assert_ptr_null(ept_leaf_4k(&ept, 4 * MiB + 0x1000)); /* unmapped, in an existing PT */
	leaf = ept_leaf_4k(&ept, 4 * MiB + 0x10);
	ck_assert_ptr_nonnull(leaf);
	ck_assert_uint_eq(*leaf, 0x50000000 | EPT_READ | EPT_MEMTYPE_WB);
	ck_assert_int_eq(ept_split_range(&ept, 2 * MiB, 2 * MiB), 1);
	leaf = ept_leaf_4k(&ept, 3 * MiB + 0x5abc);
	ck_assert_ptr_nonnull(leaf);
	ck_assert_uint_eq(*leaf, (SPLIT_HPA + 1 * MiB + 0x5000) | EPT_RWX | EPT_MEMTYPE_WB);
}
END_TEST

START_TEST(test_update_range_write_protect)
{
	const uint64_t lo = 5 * MiB + 0x3000, size = 3 * MiB + 0x2000; /* crosses 2 MiB boundaries */
	uint64_t off;

	ck_assert_int_eq(ept_map(&ept, 0, SPLIT_HPA, 16 * MiB, EPT_RWX, true), HV_OK);
	ck_assert_int_eq(ept_split_range(&ept, 0, 16 * MiB), 8);
	ck_assert_int_eq(ept_update_range(&ept, lo, size, EPT_WRITE, 0), HV_OK);
	for (off = 0; off < 16 * MiB; off += EPT_PAGE_4K) {
		bool in = off >= lo && off < lo + size;
		uint64_t *leaf = ept_leaf_4k(&ept, off);

		ck_translates(off + 0x7ff, SPLIT_HPA + off + 0x7ff, in ? EPT_READ | EPT_EXEC : EPT_RWX);
		/* Only the write bit changed: address, memory type, no bit 7. */
		ck_assert_uint_eq(*leaf, (SPLIT_HPA + off) | EPT_MEMTYPE_WB | (in ? EPT_READ | EPT_EXEC : EPT_RWX));
	}
	ck_assert_uint_eq(ept.pages_4k, 4096);
	/* And back again. */
	ck_assert_int_eq(ept_update_range(&ept, lo, size, 0, EPT_WRITE), HV_OK);
	ck_range_translates(0, SPLIT_HPA, 16 * MiB, EPT_RWX);
	/* Clear and set together: entry = (entry & ~clear) | set. */
	ck_assert_int_eq(ept_update_range(&ept, 0, 0x2000, EPT_WRITE | EPT_EXEC, EPT_DIRTY), HV_OK);
	ck_assert_uint_eq(*ept_leaf_4k(&ept, 0x1000), (SPLIT_HPA + 0x1000) | EPT_READ | EPT_MEMTYPE_WB | EPT_DIRTY);
	ck_translates(0x1000, SPLIT_HPA + 0x1000, EPT_READ);
	ck_translates(0x2000, SPLIT_HPA + 0x2000, EPT_RWX);
	/* An empty range changes nothing. */
	ck_assert_int_eq(ept_update_range(&ept, 0x2000, 0, EPT_RWX, 0), HV_OK);
	ck_translates(0x2000, SPLIT_HPA + 0x2000, EPT_RWX);
}
END_TEST

START_TEST(test_update_range_2m_leaf_einval)
{
	ck_assert_int_eq(ept_map(&ept, 0, SPLIT_HPA, 2 * MiB, EPT_RWX, false), HV_OK);
	ck_assert_int_eq(ept_map(&ept, 2 * MiB, SPLIT_HPA + 2 * MiB, 2 * MiB, EPT_RWX, true), HV_OK);
	ck_assert_int_eq(ept_update_range(&ept, 2 * MiB, 0x1000, EPT_WRITE, 0), HV_EINVAL);
	ck_assert_uint_eq(*pd_entry(2 * MiB), (SPLIT_HPA + 2 * MiB) | EPT_RWX | EPT_MEMTYPE_WB | EPT_LARGE);
	ck_translates(2 * MiB, SPLIT_HPA + 2 * MiB, EPT_RWX);
	/* A range that runs from 4K leaves into the 2M leaf: refused there. */
	ck_assert_int_eq(ept_update_range(&ept, 1 * MiB, 2 * MiB, EPT_WRITE, 0), HV_EINVAL);
	ck_translates(3 * MiB, SPLIT_HPA + 3 * MiB, EPT_RWX);
	ck_assert_uint_eq(*pd_entry(2 * MiB), (SPLIT_HPA + 2 * MiB) | EPT_RWX | EPT_MEMTYPE_WB | EPT_LARGE);
	/* After a split the same call succeeds. */
	ck_assert_int_eq(ept_split_range(&ept, 2 * MiB, 2 * MiB), 1);
	ck_assert_int_eq(ept_update_range(&ept, 1 * MiB, 2 * MiB, EPT_WRITE, 0), HV_OK);
	ck_range_translates(1 * MiB, SPLIT_HPA + 1 * MiB, 2 * MiB, EPT_READ | EPT_EXEC);
	ck_translates(1 * MiB - 1, SPLIT_HPA + 1 * MiB - 1, EPT_RWX);
	ck_translates(3 * MiB, SPLIT_HPA + 3 * MiB, EPT_RWX);
}
END_TEST

START_TEST(test_update_range_unmapped_enoent)
{
	ck_assert_int_eq(ept_map(&ept, 0, SPLIT_HPA, 0x4000, EPT_RWX, true), HV_OK);
	ck_assert_int_eq(ept_map(&ept, 0x5000, SPLIT_HPA + 0x5000, 0x1000, EPT_RWX, true), HV_OK);
	/* Page 4 is a hole. */
	ck_assert_int_eq(ept_update_range(&ept, 0x2000, 0x4000, EPT_WRITE, 0), HV_ENOENT);
	ck_unmapped(0x4000);
	/* Entries before the hole are updated; those after it are not. */
	ck_translates(0x1000, SPLIT_HPA + 0x1000, EPT_RWX);
	ck_translates(0x2000, SPLIT_HPA + 0x2000, EPT_READ | EPT_EXEC);
	ck_translates(0x3000, SPLIT_HPA + 0x3000, EPT_READ | EPT_EXEC);
	ck_translates(0x5000, SPLIT_HPA + 0x5000, EPT_RWX);
	/* Wholly unmapped ranges, including ones with no tables at all. */
	ck_assert_int_eq(ept_update_range(&ept, 0x4000, 0x1000, EPT_WRITE, 0), HV_ENOENT);
	ck_assert_int_eq(ept_update_range(&ept, 1ull << 39, 0x1000, EPT_WRITE, 0), HV_ENOENT);
	ck_assert_int_eq(ept_update_range(&ept, 0x5000, 0x2000, 0, EPT_WRITE), HV_ENOENT);
	ck_unmapped(0x6000);
}
END_TEST

START_TEST(test_split_out_of_memory)
{
	unsigned used;
	int rc;

	ck_assert_int_eq(ept_map(&ept, 0, SPLIT_HPA, SPLIT_SIZE, EPT_RWX, true), HV_OK);
	used = fm.used;
	fm.limit = used + 5; /* room for 5 of the 16 page tables */
	ck_assert_int_eq(ept_split_range(&ept, 0, SPLIT_SIZE), HV_ENOMEM);
	ck_assert_uint_eq(fm.used, used + 5);
	ck_assert_uint_eq(ept.tables, 3 + 5);
	ck_assert_uint_eq(ept.pages_2m, 11);
	ck_assert_uint_eq(ept.pages_4k, 5 * 512);
	/* The mapping is the same either way. */
	ck_range_translates(0, SPLIT_HPA, SPLIT_SIZE, EPT_RWX);
	ck_assert_ptr_nonnull(ept_leaf_4k(&ept, 10 * MiB - 0x1000));
	ck_assert_ptr_null(ept_leaf_4k(&ept, 10 * MiB));
	/* With no room at all: ENOMEM at once, nothing changed. */
	ck_assert_int_eq(ept_split_range(&ept, 10 * MiB, 0x1000), HV_ENOMEM);
	ck_assert_uint_eq(ept.pages_2m, 11);
	ck_assert_ptr_null(ept_leaf_4k(&ept, 10 * MiB));
	/* Already-split leaves need no memory. */
	ck_assert_int_eq(ept_split_range(&ept, 0, 10 * MiB), 0);
	/* More memory: the rest splits. */
	fm.limit = POOL_TABLES;
	rc = ept_split_range(&ept, 0, SPLIT_SIZE);
	ck_assert_int_eq(rc, 11);
	ck_assert_uint_eq(ept.pages_2m, 0);
	ck_assert_uint_eq(ept.pages_4k, 8192);
	ck_assert_uint_eq(ept.tables, 3 + 16);
	ck_range_translates(0, SPLIT_HPA, SPLIT_SIZE, EPT_RWX);
}
END_TEST

/* The bytes of every table allocated so far, and the EPT's counters. */
struct ept_image {
	uint8_t bytes[POOL_TABLES][EPT_PAGE_4K];
	unsigned used;
	uint64_t tables, pages_4k, pages_2m;
};

static struct ept_image before_img, after_img;

static void ept_snapshot(struct ept_image *img)
{
	unsigned i;

	img->used = fm.used;
	for (i = 0; i < fm.used; i++)
		memcpy(img->bytes[i], fm.bufs[i], EPT_PAGE_4K);
	img->tables = ept.tables;
	img->pages_4k = ept.pages_4k;
	img->pages_2m = ept.pages_2m;
}

/* The tables of the snapshot 'was' hold the same bytes now, and the counters match. */
static void ck_same_ept(const struct ept_image *was)
{
	unsigned i;

	ept_snapshot(&after_img);
	for (i = 0; i < was->used; i++)
		ck_assert_mem_eq(after_img.bytes[i], was->bytes[i], EPT_PAGE_4K);
	ck_assert_uint_eq(after_img.tables, was->tables);
	ck_assert_uint_eq(after_img.pages_4k, was->pages_4k);
	ck_assert_uint_eq(after_img.pages_2m, was->pages_2m);
}

START_TEST(test_merge_after_split_same_ept)
{
	ck_assert_int_eq(ept_map(&ept, 0, SPLIT_HPA, SPLIT_SIZE, EPT_RWX, true), HV_OK);
	ept_snapshot(&before_img);
	ck_assert_int_eq(ept_split_range(&ept, 0, SPLIT_SIZE), 16);
	ck_assert_uint_eq(*pd_entry(0) & EPT_SW_SPLIT, EPT_SW_SPLIT);
	ck_assert_int_eq(ept_merge_range(&ept, 0, SPLIT_SIZE), 16);
	ck_same_ept(&before_img);
	ck_assert_uint_eq(ept.free_tables, 16);
	ck_range_translates(0, SPLIT_HPA, SPLIT_SIZE, EPT_RWX);
	/* Nothing left to merge; a second split takes its tables from the free list. */
	ck_assert_int_eq(ept_merge_range(&ept, 0, SPLIT_SIZE), 0);
	ck_assert_int_eq(ept_split_range(&ept, 0, SPLIT_SIZE), 16);
	ck_assert_uint_eq(fm.used, before_img.used + 16);
	ck_assert_uint_eq(ept.free_tables, 0);
	ck_range_translates(0, SPLIT_HPA, SPLIT_SIZE, EPT_RWX);
	ck_assert_int_eq(ept_merge_range(&ept, 0, SPLIT_SIZE), 16);
	ck_same_ept(&before_img);
}
END_TEST

/* Leaves that differ in permissions or address stay split; accessed/dirty differences do not count. */
START_TEST(test_merge_leaves_unmergeable_split)
{
	uint64_t *leaf, pde2, pde4;

	ck_assert_int_eq(ept_map(&ept, 0, SPLIT_HPA, 8 * MiB, EPT_RWX, true), HV_OK);
	ept_snapshot(&before_img);
	ck_assert_int_eq(ept_split_range(&ept, 0, 8 * MiB), 4);
	ck_assert_int_eq(ept_update_range(&ept, 2 * MiB + 0x7000, 0x1000, EPT_WRITE, 0), HV_OK);
	leaf = ept_leaf_4k(&ept, 4 * MiB + 0x3000);
	*leaf = (*leaf & ~EPT_ADDR_MASK) | (SPLIT_HPA + 0x3000); /* no longer contiguous */
	ck_assert_int_eq(ept_update_range(&ept, 6 * MiB + 0x1000, 0x2000, 0, EPT_ACCESSED | EPT_DIRTY), HV_OK);
	pde2 = *pd_entry(2 * MiB);
	pde4 = *pd_entry(4 * MiB);

	ck_assert_int_eq(ept_merge_range(&ept, 0, 8 * MiB), 2);
	ck_assert_uint_eq(*pd_entry(0), SPLIT_HPA | EPT_RWX | EPT_MEMTYPE_WB | EPT_LARGE);
	ck_assert_uint_eq(*pd_entry(6 * MiB), (SPLIT_HPA + 6 * MiB) | EPT_RWX | EPT_MEMTYPE_WB | EPT_LARGE |
						       EPT_ACCESSED | EPT_DIRTY);
	ck_assert_uint_eq(*pd_entry(2 * MiB), pde2);
	ck_assert_uint_eq(*pd_entry(4 * MiB), pde4);
	ck_translates(2 * MiB + 0x7000, SPLIT_HPA + 2 * MiB + 0x7000, EPT_READ | EPT_EXEC);
	ck_translates(2 * MiB + 0x8000, SPLIT_HPA + 2 * MiB + 0x8000, EPT_RWX);
	ck_translates(4 * MiB + 0x3000, SPLIT_HPA + 0x3000, EPT_RWX);
	ck_assert_uint_eq(ept.pages_2m, 2);
	ck_assert_uint_eq(ept.pages_4k, 2 * 512);
	ck_assert_uint_eq(ept.tables, before_img.tables + 2);

	/* Once the leaves agree again, they merge, and the EPT is as mapped (A/D aside). */
	ck_assert_int_eq(ept_update_range(&ept, 2 * MiB + 0x7000, 0x1000, 0, EPT_WRITE), HV_OK);
	*leaf = (*leaf & ~EPT_ADDR_MASK) | (SPLIT_HPA + 4 * MiB + 0x3000);
	ck_assert_int_eq(ept_merge_range(&ept, 0, 8 * MiB), 2);
	*pd_entry(6 * MiB) &= ~(EPT_ACCESSED | EPT_DIRTY);
	ck_same_ept(&before_img);
}
END_TEST

/* Only tables made by a split merge: a range mapped with 4 KiB pages from the start stays so. */
START_TEST(test_merge_keeps_4k_maps)
{
	ck_assert_int_eq(ept_map(&ept, 0, SPLIT_HPA, 4 * MiB, EPT_RWX, false), HV_OK);
	ck_assert_int_eq(ept_map(&ept, 4 * MiB, SPLIT_HPA + 4 * MiB, 4 * MiB, EPT_RWX, true), HV_OK);
	ept_snapshot(&before_img);
	ck_assert_int_eq(ept_merge_range(&ept, 0, 8 * MiB), 0);
	ck_same_ept(&before_img);
	ck_assert_int_eq(ept_split_range(&ept, 0, 8 * MiB), 2);
	ck_assert_int_eq(ept_merge_range(&ept, 0, 8 * MiB), 2);
	ck_same_ept(&before_img);
	ck_assert_ptr_nonnull(ept_leaf_4k(&ept, 2 * MiB));
	/* Unmapped and empty ranges merge nothing; past the GPA limit is refused. */
	ck_assert_int_eq(ept_merge_range(&ept, 1ull << 39, 8 * MiB), 0);
	ck_assert_int_eq(ept_merge_range(&ept, 0, 0), 0);
	ck_assert_int_eq(ept_merge_range(&ept, EPT_GPA_LIMIT, EPT_PAGE_2M), HV_ERANGE);
}
END_TEST

/* A range touching part of the split leaves merges only the 2 MiB regions it touches. */
START_TEST(test_merge_partial_range)
{
	ck_assert_int_eq(ept_map(&ept, 0, SPLIT_HPA, 8 * MiB, EPT_RWX, true), HV_OK);
	ck_assert_int_eq(ept_split_range(&ept, 0, 8 * MiB), 4);
	ck_assert_int_eq(ept_merge_range(&ept, 3 * MiB, 0x1000), 1);
	ck_assert_ptr_nonnull(ept_leaf_4k(&ept, 2 * MiB - 0x1000));
	ck_assert_ptr_null(ept_leaf_4k(&ept, 2 * MiB));
	ck_assert_ptr_nonnull(ept_leaf_4k(&ept, 4 * MiB));
	ck_assert_uint_eq(ept.pages_2m, 1);
	ck_range_translates(0, SPLIT_HPA, 8 * MiB, EPT_RWX);
}
END_TEST

/* A merged-away table is reused, zeroed, by a later map. */
START_TEST(test_freed_table_reused_by_map)
{
	unsigned used;

	ck_assert_int_eq(ept_map(&ept, 0, SPLIT_HPA, 2 * MiB, EPT_RWX, true), HV_OK);
	ck_assert_int_eq(ept_split_range(&ept, 0, 2 * MiB), 1);
	ck_assert_int_eq(ept_merge_range(&ept, 0, 2 * MiB), 1);
	used = fm.used;
	ck_assert_int_eq(ept_map(&ept, 2 * MiB, SPLIT_HPA + 2 * MiB, 0x1000, EPT_READ, true), HV_OK);
	ck_assert_uint_eq(fm.used, used);
	ck_assert_uint_eq(ept.free_tables, 0);
	ck_translates(2 * MiB, SPLIT_HPA + 2 * MiB, EPT_READ);
	ck_unmapped(2 * MiB + 0x1000);
	ck_unmapped(4 * MiB - 0x1000);
}
END_TEST

/* Destroying gives back every table once: the walk's, split ones, and merged-away ones on the free list. */
START_TEST(test_destroy_gives_back_every_table)
{
	const struct ept_mem mem = { fake_alloc, fake_table, &fm, fake_free };

	memset(freed, 0, sizeof(freed));
	freed_count = 0;
	fm.used = 0;
	ck_assert_int_eq(ept_init(&ept, &mem), HV_OK);
	ck_assert_int_eq(ept_map(&ept, 0, SPLIT_HPA, 8 * MiB, EPT_RWX, true), HV_OK);
	ck_assert_int_eq(ept_map(&ept, 1ull << 39, SPLIT_HPA, 0x3000, EPT_RWX, true), HV_OK);
	ck_assert_int_eq(ept_split_range(&ept, 0, 8 * MiB), 4);
	ck_assert_int_eq(ept_merge_range(&ept, 0, 4 * MiB), 2);
	ck_assert_uint_eq(ept.free_tables, 2);
	ept_destroy(&ept);
	ck_assert_uint_eq(freed_count, fm.used);
	ck_assert_uint_eq(ept.pml4_pa, 0);
	ck_assert_uint_eq(ept.tables + ept.free_tables, 0);
	ept_destroy(&ept); /* an empty EPT: nothing more */
	ck_assert_uint_eq(freed_count, fm.used);
}
END_TEST

static Suite *ept_suite(void)
{
	Suite *s = suite_create("ept");
	TCase *tc = tcase_create("ept");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_init_allocates_only_pml4);
	tcase_add_test(tc, test_init_out_of_memory);
	tcase_add_test(tc, test_32m_large_uses_2m_pages_and_three_tables);
	tcase_add_test(tc, test_32m_unaligned_hpa_uses_4k_pages);
	tcase_add_test(tc, test_32m_large_false_uses_4k_pages);
	tcase_add_test(tc, test_mixed_4k_head_2m_body_4k_tail);
	tcase_add_test(tc, test_gpa_hpa_differently_aligned_uses_4k_only);
	tcase_add_test(tc, test_translate_many_addresses);
	tcase_add_test(tc, test_translate_holes_between_ranges);
	tcase_add_test(tc, test_translate_beyond_gpa_limit);
	tcase_add_test(tc, test_entry_bits_4k_leaf);
	tcase_add_test(tc, test_entry_bits_2m_leaf);
	tcase_add_test(tc, test_overlap_refused_nothing_installed);
	tcase_add_loop_test(tc, test_bad_args, 0, sizeof(bad_maps) / sizeof(bad_maps[0]));
	tcase_add_test(tc, test_last_page_below_limits_accepted);
	tcase_add_test(tc, test_out_of_table_memory);
	tcase_add_test(tc, test_ept_pointer);
	tcase_add_test(tc, test_split_32m_of_2m_pages);
	tcase_add_test(tc, test_split_preserves_flags);
	tcase_add_test(tc, test_split_4k_range_splits_nothing);
	tcase_add_test(tc, test_split_partial_range);
	tcase_add_test(tc, test_split_mixed_map);
	tcase_add_test(tc, test_leaf_4k);
	tcase_add_test(tc, test_update_range_write_protect);
	tcase_add_test(tc, test_update_range_2m_leaf_einval);
	tcase_add_test(tc, test_update_range_unmapped_enoent);
	tcase_add_test(tc, test_split_out_of_memory);
	tcase_add_test(tc, test_merge_after_split_same_ept);
	tcase_add_test(tc, test_merge_leaves_unmergeable_split);
	tcase_add_test(tc, test_merge_keeps_4k_maps);
	tcase_add_test(tc, test_merge_partial_range);
	tcase_add_test(tc, test_freed_table_reused_by_map);
	tcase_add_test(tc, test_destroy_gives_back_every_table);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(ept_suite());
}
