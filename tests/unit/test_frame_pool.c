/* Unit tests for kernel/core/frame_pool.c: the pure frame pool arithmetic. */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include "kernel/core/frame_pool.h"
#include "kernel/lib/err.h"
#include "tests/unit/check_run.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)

static struct frame_pool p;

static void setup(void) { frame_pool_init(&p); }

/* Whether [base, end) is one of the pool's regions. */
static bool has_region(uint64_t base, uint64_t end)
{
	unsigned i;

	for (i = 0; i < p.count; i++)
		if (p.regions[i].base == base && p.regions[i].end == end)
			return true;
	return false;
}

static unsigned nonempty_regions(void)
{
	unsigned i, n = 0;

	for (i = 0; i < p.count; i++)
		n += p.regions[i].end > p.regions[i].base;
	return n;
}

START_TEST(test_init_is_empty)
{
	p.count = 5;
	frame_pool_init(&p);
	ck_assert_uint_eq(p.count, 0);
	ck_assert_uint_eq(frame_pool_free_bytes(&p), 0);
	ck_assert_uint_eq(frame_pool_take(&p, FRAME_SIZE, FRAME_SIZE), 0);
}
END_TEST

START_TEST(test_add_trims_to_whole_frames)
{
	ck_assert_int_eq(frame_pool_add(&p, 0x101234, 0x105678), HV_OK);
	ck_assert_uint_eq(p.count, 1);
	ck_assert(has_region(0x102000, 0x105000));
	ck_assert_uint_eq(frame_pool_free_bytes(&p), 0x3000);
	ck_assert_int_eq(frame_pool_add(&p, 0x200000, 0x300000), HV_OK);
	ck_assert(has_region(0x200000, 0x300000));
	ck_assert_uint_eq(frame_pool_free_bytes(&p), 0x3000 + MiB);
}
END_TEST

START_TEST(test_add_ignores_empty_ranges)
{
	ck_assert_int_eq(frame_pool_add(&p, 0x1000, 0x1000), HV_OK);  /* empty */
	ck_assert_int_eq(frame_pool_add(&p, 0x3000, 0x2000), HV_OK);  /* inverted */
	ck_assert_int_eq(frame_pool_add(&p, 0x1001, 0x1fff), HV_OK);  /* no whole frame */
	ck_assert_int_eq(frame_pool_add(&p, 0x1800, 0x2800), HV_OK);  /* straddles, still none */
	ck_assert_uint_eq(p.count, 0);
	ck_assert_uint_eq(frame_pool_free_bytes(&p), 0);
}
END_TEST

START_TEST(test_add_region_limit)
{
	unsigned i;

	for (i = 0; i < FRAMES_MAX_REGIONS; i++)
		ck_assert_int_eq(frame_pool_add(&p, (i + 1) * 2 * MiB, (i + 1) * 2 * MiB + 0x1000), HV_OK);
	ck_assert_int_eq(frame_pool_add(&p, 1ull << 32, (1ull << 32) + 0x1000), HV_ENOMEM);
	ck_assert_uint_eq(p.count, FRAMES_MAX_REGIONS);
	ck_assert_uint_eq(frame_pool_free_bytes(&p), FRAMES_MAX_REGIONS * 0x1000);
	/* Empty ranges are still fine when full. */
	ck_assert_int_eq(frame_pool_add(&p, 0x5000, 0x5000), HV_OK);
}
END_TEST

START_TEST(test_reserve_hole_splits_region)
{
	frame_pool_add(&p, 0x100000, 0x200000);
	ck_assert_int_eq(frame_pool_reserve(&p, 0x140001, 0x14ffff), HV_OK); /* rounds outward */
	ck_assert_uint_eq(nonempty_regions(), 2);
	ck_assert(has_region(0x100000, 0x140000));
	ck_assert(has_region(0x150000, 0x200000));
	ck_assert_uint_eq(frame_pool_free_bytes(&p), MiB - 0x10000);
}
END_TEST

START_TEST(test_reserve_trims_front_and_back)
{
	frame_pool_add(&p, 0x100000, 0x200000);
	ck_assert_int_eq(frame_pool_reserve(&p, 0, 0x110000), HV_OK);
	ck_assert(has_region(0x110000, 0x200000));
	ck_assert_int_eq(frame_pool_reserve(&p, 0x1f0000, 0x300000), HV_OK);
	ck_assert(has_region(0x110000, 0x1f0000));
	ck_assert_int_eq(frame_pool_reserve(&p, 0x110000, 0x111000), HV_OK); /* exactly the first frame */
	ck_assert_int_eq(frame_pool_reserve(&p, 0x1ef000, 0x1f0000), HV_OK); /* exactly the last frame */
	ck_assert(has_region(0x111000, 0x1ef000));
	ck_assert_uint_eq(nonempty_regions(), 1);
	ck_assert_uint_eq(frame_pool_free_bytes(&p), 0x1ef000 - 0x111000);
}
END_TEST

START_TEST(test_reserve_full_cover_empties)
{
	frame_pool_add(&p, 0x100000, 0x200000);
	frame_pool_add(&p, 0x400000, 0x500000);
	ck_assert_int_eq(frame_pool_reserve(&p, 0x100000, 0x200000), HV_OK);
	ck_assert_int_eq(frame_pool_reserve(&p, 0x300000, 0x600000), HV_OK);
	ck_assert_uint_eq(nonempty_regions(), 0);
	ck_assert_uint_eq(frame_pool_free_bytes(&p), 0);
	ck_assert_uint_eq(frame_pool_take(&p, FRAME_SIZE, FRAME_SIZE), 0);
}
END_TEST

START_TEST(test_reserve_across_regions)
{
	frame_pool_add(&p, 0x100000, 0x200000);
	frame_pool_add(&p, 0x300000, 0x400000);
	frame_pool_add(&p, 0x500000, 0x600000);
	frame_pool_add(&p, 0x700000, 0x800000);
	ck_assert_int_eq(frame_pool_reserve(&p, 0x180000, 0x520000), HV_OK);
	ck_assert_uint_eq(nonempty_regions(), 3);
	ck_assert(has_region(0x100000, 0x180000));
	ck_assert(has_region(0x520000, 0x600000));
	ck_assert(has_region(0x700000, 0x800000));
	ck_assert_uint_eq(frame_pool_free_bytes(&p), 0x80000 + 0xe0000 + MiB);
}
END_TEST

START_TEST(test_reserve_outside_changes_nothing)
{
	frame_pool_add(&p, 0x100000, 0x200000);
	ck_assert_int_eq(frame_pool_reserve(&p, 0, 0x100000), HV_OK);
	ck_assert_int_eq(frame_pool_reserve(&p, 0x200000, 0x300000), HV_OK);
	ck_assert_int_eq(frame_pool_reserve(&p, 0x150000, 0x150000), HV_OK); /* empty */
	ck_assert_uint_eq(p.count, 1);
	ck_assert(has_region(0x100000, 0x200000));
}
END_TEST

START_TEST(test_take_aligned_keeps_gap)
{
	frame_pool_add(&p, 0x101000, 0x600000);
	ck_assert_uint_eq(frame_pool_take(&p, 0x1000, 2 * MiB), 0x200000);
	ck_assert(has_region(0x101000, 0x200000));
	ck_assert(has_region(0x201000, 0x600000));
	ck_assert_uint_eq(frame_pool_free_bytes(&p), 0x600000 - 0x101000 - 0x1000);
	ck_assert_uint_eq(frame_pool_take(&p, 2 * MiB, 2 * MiB), 0x400000);
	ck_assert(has_region(0x101000, 0x200000));
	ck_assert(has_region(0x201000, 0x400000));
	ck_assert_uint_eq(nonempty_regions(), 2);
	/* Both gaps still serve 4K-aligned requests, each only what fits. */
	ck_assert_uint_eq(frame_pool_take(&p, 0x1ff000, FRAME_SIZE), 0x201000);
	ck_assert_uint_eq(frame_pool_take(&p, 0xff000, FRAME_SIZE), 0x101000);
	ck_assert_uint_eq(frame_pool_free_bytes(&p), 0);
}
END_TEST

START_TEST(test_take_rounds_size_up)
{
	frame_pool_add(&p, 0x100000, 0x110000);
	ck_assert_uint_eq(frame_pool_take(&p, 1, FRAME_SIZE), 0x100000);
	ck_assert_uint_eq(frame_pool_take(&p, 0x1001, FRAME_SIZE), 0x101000);
	ck_assert_uint_eq(frame_pool_take(&p, 0x1000, FRAME_SIZE), 0x103000);
	ck_assert_uint_eq(frame_pool_free_bytes(&p), 0x10000 - 0x4000);
}
END_TEST

START_TEST(test_take_exhaustion)
{
	unsigned i;

	frame_pool_add(&p, 0x100000, 0x104000);
	ck_assert_uint_eq(frame_pool_take(&p, 0x5000, FRAME_SIZE), 0); /* larger than all */
	ck_assert_uint_eq(frame_pool_free_bytes(&p), 0x4000);
	for (i = 0; i < 4; i++)
		ck_assert_uint_eq(frame_pool_take(&p, FRAME_SIZE, FRAME_SIZE), 0x100000 + i * FRAME_SIZE);
	ck_assert_uint_eq(frame_pool_take(&p, FRAME_SIZE, FRAME_SIZE), 0);
	ck_assert_uint_eq(frame_pool_free_bytes(&p), 0);
}
END_TEST

START_TEST(test_take_alignment_impossible)
{
	frame_pool_add(&p, 0x101000, 0x1ff000); /* no 2 MiB boundary inside */
	ck_assert_uint_eq(frame_pool_take(&p, FRAME_SIZE, 2 * MiB), 0);
	ck_assert_uint_eq(frame_pool_free_bytes(&p), 0xfe000);
	ck_assert_uint_eq(p.count, 1);
}
END_TEST

START_TEST(test_take_skips_small_regions)
{
	frame_pool_add(&p, 0x100000, 0x102000);
	frame_pool_add(&p, 0x300000, 0x400000);
	ck_assert_uint_eq(frame_pool_take(&p, 0x3000, FRAME_SIZE), 0x300000);
	ck_assert_uint_eq(frame_pool_take(&p, 0x2000, FRAME_SIZE), 0x100000);
}
END_TEST

START_TEST(test_frame_zero_never_handed_out)
{
	/* 0 means failure, so a region starting at 0 must not hand out address 0. */
	frame_pool_add(&p, 0, 0x4000);
	ck_assert_uint_eq(frame_pool_take(&p, FRAME_SIZE, FRAME_SIZE), 0x1000);
	ck_assert_uint_eq(frame_pool_free_bytes(&p), 0x2000);
}
END_TEST

START_TEST(test_many_aligned_gaps_stay_accounted)
{
	uint64_t initial, taken = 0, a;
	unsigned i;

	/* Every 2 MiB-aligned take leaves a gap region; far more takes than slots. */
	frame_pool_add(&p, 0x101000, 512 * MiB);
	initial = frame_pool_free_bytes(&p);
	for (i = 0; i < 3 * FRAMES_MAX_REGIONS; i++) {
		a = frame_pool_take(&p, FRAME_SIZE, 2 * MiB);
		if (a) {
			ck_assert_uint_eq(a % (2 * MiB), 0);
			taken += FRAME_SIZE;
		}
		ck_assert_uint_eq(taken + frame_pool_free_bytes(&p), initial);
	}
	ck_assert_uint_ge(taken, (FRAMES_MAX_REGIONS - 1) * FRAME_SIZE);
	/* Every gap is still there to serve unaligned requests. */
	while ((a = frame_pool_take(&p, FRAME_SIZE, FRAME_SIZE)) != 0)
		taken += FRAME_SIZE;
	ck_assert_uint_eq(taken, initial);
	ck_assert_uint_eq(frame_pool_free_bytes(&p), 0);
}
END_TEST

struct block {
	uint64_t base, end;
};

static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return rng_state >> 33;
}

START_TEST(test_random_takes_consistent)
{
	static const struct frame_region initial_regions[] = {
		{ 0x100000, 0x9f000 + 0x100000 }, { 0x400000, 0x2000000 }, { 0x2345000, 0x6000000 },
	};
	static struct block taken[4096];
	unsigned n = 0, i, j, iter;
	uint64_t initial, taken_bytes = 0;

	rng_state = 12345;
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(frame_pool_add(&p, initial_regions[i].base, initial_regions[i].end), HV_OK);
	ck_assert_int_eq(frame_pool_reserve(&p, 0x800000, 0x900000), HV_OK);
	ck_assert_int_eq(frame_pool_reserve(&p, 0x3000000, 0x3001000), HV_OK);
	initial = frame_pool_free_bytes(&p);
	for (iter = 0; iter < 4000 && n < 4096; iter++) {
		uint64_t size = 1 + rng() % (96 * KiB), align = FRAME_SIZE << (rng() % 10);
		uint64_t a = frame_pool_take(&p, size, align), rounded = (size + FRAME_SIZE - 1) & ~(FRAME_SIZE - 1);
		bool inside = false;

		if (a) {
			ck_assert_uint_eq(a % align, 0);
			for (i = 0; i < 3; i++)
				inside |= a >= initial_regions[i].base && a + rounded <= initial_regions[i].end;
			ck_assert(inside);
			ck_assert(!(a < 0x900000 && a + rounded > 0x800000));
			ck_assert(!(a < 0x3001000 && a + rounded > 0x3000000));
			for (j = 0; j < n; j++)
				ck_assert(a + rounded <= taken[j].base || a >= taken[j].end);
			taken[n++] = (struct block){ a, a + rounded };
			taken_bytes += rounded;
		}
		ck_assert_uint_eq(taken_bytes + frame_pool_free_bytes(&p), initial);
	}
	ck_assert_uint_gt(n, 500); /* the test really exercised the pool */
	ck_assert_uint_lt(frame_pool_free_bytes(&p), initial);
}
END_TEST

/* A VM's RAM given back can be taken again whole: the freed block joins its neighbours. */
START_TEST(test_give_joins_neighbours)
{
	uint64_t a, b, c;

	ck_assert_int_eq(frame_pool_add(&p, 0x200000, 0x2200000), HV_OK);
	a = frame_pool_take(&p, 8 * MiB, 2 * MiB);
	b = frame_pool_take(&p, 8 * MiB, 2 * MiB);
	c = frame_pool_take(&p, 8 * MiB, 2 * MiB);
	ck_assert(a && b && c);
	ck_assert_uint_eq(frame_pool_take(&p, 16 * MiB, 2 * MiB), 0);
	ck_assert_int_eq(frame_pool_give(&p, a, 8 * MiB), HV_OK);
	ck_assert_int_eq(frame_pool_give(&p, c, 8 * MiB), HV_OK);
	ck_assert_int_eq(frame_pool_give(&p, b, 8 * MiB), HV_OK);
	ck_assert_uint_eq(frame_pool_free_bytes(&p), 32 * MiB);
	ck_assert_uint_eq(nonempty_regions(), 1);
	ck_assert(has_region(0x200000, 0x2200000));
	ck_assert_uint_eq(frame_pool_take(&p, 32 * MiB, 2 * MiB), 0x200000);
}
END_TEST

START_TEST(test_give_refuses_double_and_bad)
{
	uint64_t a;

	ck_assert_int_eq(frame_pool_add(&p, 0x100000, 0x500000), HV_OK);
	a = frame_pool_take(&p, 1 * MiB, FRAME_SIZE);
	ck_assert_int_eq(frame_pool_give(&p, a, 1 * MiB), HV_OK);
	ck_assert_int_eq(frame_pool_give(&p, a, 1 * MiB), HV_EINVAL);
	ck_assert_int_eq(frame_pool_give(&p, a + 0x800, FRAME_SIZE), HV_EINVAL);
	ck_assert_int_eq(frame_pool_give(&p, a, 0), HV_EINVAL);
	ck_assert_uint_eq(frame_pool_free_bytes(&p), 4 * MiB);
}
END_TEST

/* Frames given back apart from any region take a slot of their own. */
START_TEST(test_give_apart_adds_region)
{
	uint64_t a, b;

	ck_assert_int_eq(frame_pool_add(&p, 0x100000, 0x400000), HV_OK);
	a = frame_pool_take(&p, 1 * MiB, FRAME_SIZE);
	b = frame_pool_take(&p, 1 * MiB, FRAME_SIZE);
	(void)frame_pool_take(&p, 1 * MiB, FRAME_SIZE);
	ck_assert_uint_eq(frame_pool_free_bytes(&p), 0);
	ck_assert_int_eq(frame_pool_give(&p, b, 1 * MiB), HV_OK);
	ck_assert(has_region(b, b + 1 * MiB));
	ck_assert_int_eq(frame_pool_give(&p, a, 1 * MiB), HV_OK);
	ck_assert(has_region(a, b + 1 * MiB));
	ck_assert_uint_eq(nonempty_regions(), 1);
}
END_TEST

static Suite *frame_pool_suite(void)
{
	Suite *s = suite_create("frame_pool");
	TCase *tc = tcase_create("frame_pool");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_init_is_empty);
	tcase_add_test(tc, test_add_trims_to_whole_frames);
	tcase_add_test(tc, test_add_ignores_empty_ranges);
	tcase_add_test(tc, test_add_region_limit);
	tcase_add_test(tc, test_reserve_hole_splits_region);
	tcase_add_test(tc, test_reserve_trims_front_and_back);
	tcase_add_test(tc, test_reserve_full_cover_empties);
	tcase_add_test(tc, test_reserve_across_regions);
	tcase_add_test(tc, test_reserve_outside_changes_nothing);
	tcase_add_test(tc, test_take_aligned_keeps_gap);
	tcase_add_test(tc, test_take_rounds_size_up);
	tcase_add_test(tc, test_take_exhaustion);
	tcase_add_test(tc, test_take_alignment_impossible);
	tcase_add_test(tc, test_take_skips_small_regions);
	tcase_add_test(tc, test_frame_zero_never_handed_out);
	tcase_add_test(tc, test_many_aligned_gaps_stay_accounted);
	tcase_add_test(tc, test_random_takes_consistent);
	tcase_add_test(tc, test_give_joins_neighbours);
	tcase_add_test(tc, test_give_refuses_double_and_bad);
	tcase_add_test(tc, test_give_apart_adds_region);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(frame_pool_suite());
}
