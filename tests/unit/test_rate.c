/* Unit tests for kernel/core/rate.c: a sliding-window rate over fixed buckets. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include "kernel/core/rate.h"
#include "tests/unit/check_run.h"

/* 100-tick buckets at 1000 ticks/s: the 10 complete buckets are 1000 ticks = 1 s. */
#define BUCKET 100ull
#define TPS 1000ull
#define WINDOW ((RATE_BUCKETS - 1) * BUCKET)

static struct rate_window r;

START_TEST(test_init)
{
	unsigned i;

	rate_init(&r, BUCKET, 12345);
	ck_assert_uint_eq(r.bucket_ticks, BUCKET);
	ck_assert_uint_eq(r.current, 123);
	ck_assert_uint_eq(r.total, 0);
	for (i = 0; i < RATE_BUCKETS; i++)
		ck_assert_uint_eq(r.counts[i], 0);
	ck_assert_uint_eq(rate_per_second(&r, 12345, TPS), 0);
	ck_assert_uint_eq(rate_per_second(&r, 12345 + 5 * WINDOW, TPS), 0);
	/* A zero bucket length is taken as 1 tick rather than dividing by zero. */
	rate_init(&r, 0, 77);
	ck_assert_uint_eq(r.bucket_ticks, 1);
	ck_assert_uint_eq(r.current, 77);
	rate_add(&r, 77, 3);
	ck_assert_uint_eq(rate_per_second(&r, 78, 10), 3);
}
END_TEST

/* One event per tick: the rate climbs by 100/s per completed bucket, then holds at 1000/s. */
START_TEST(test_steady_one_per_tick)
{
	uint64_t t;

	rate_init(&r, BUCKET, 0);
	for (t = 0; t < 5000; t++) {
		rate_add(&r, t, 1);
		if (t < WINDOW)
			ck_assert_uint_eq(rate_per_second(&r, t, TPS), t / BUCKET * BUCKET);
		else
			ck_assert_uint_eq(rate_per_second(&r, t, TPS), 1000);
	}
	ck_assert_uint_eq(r.total, 5000);
	/* Asking twice at the same time changes nothing. */
	ck_assert_uint_eq(rate_per_second(&r, 4999, TPS), 1000);
	ck_assert_uint_eq(rate_per_second(&r, 4999, TPS), 1000);
}
END_TEST

/* The same with a start time that is not bucket-aligned and far from zero. */
START_TEST(test_steady_unaligned_start)
{
	const uint64_t start = 987654321ull * BUCKET + 50; /* half-way into a bucket */
	uint64_t t;

	rate_init(&r, BUCKET, start);
	for (t = start; t < start + 4000; t++)
		rate_add(&r, t, 1);
	ck_assert_uint_eq(rate_per_second(&r, start + 4000 - 1, TPS), 1000);
	ck_assert_uint_eq(r.total, 4000);
	/* The first bucket held only 50 events: it is in the window just after it fills up. */
	rate_init(&r, BUCKET, start);
	for (t = start; t < start - 50 + WINDOW; t++)
		rate_add(&r, t, 1);
	ck_assert_uint_eq(rate_per_second(&r, start - 50 + WINDOW, TPS), 950);
	ck_assert_uint_eq(rate_per_second(&r, start - 50 + WINDOW + BUCKET, TPS), 900);
}
END_TEST

START_TEST(test_filling_bucket_not_counted)
{
	rate_init(&r, BUCKET, 0);
	rate_add(&r, 0, 500);
	rate_add(&r, 99, 500);
	/* All 1000 events are in the filling bucket [0, 100). */
	ck_assert_uint_eq(rate_per_second(&r, 0, TPS), 0);
	ck_assert_uint_eq(rate_per_second(&r, 99, TPS), 0);
	ck_assert_uint_eq(r.total, 1000);
	/* Complete at tick 100: 1000 events over a 1 s window. */
	ck_assert_uint_eq(rate_per_second(&r, 100, TPS), 1000);
	/* Events in the new filling bucket do not show yet. */
	rate_add(&r, 150, 400);
	ck_assert_uint_eq(rate_per_second(&r, 199, TPS), 1000);
	ck_assert_uint_eq(rate_per_second(&r, 200, TPS), 1400);
}
END_TEST

START_TEST(test_silence_empties_window)
{
	uint64_t t, c;

	rate_init(&r, BUCKET, 0);
	for (t = 0; t < 3000; t++) /* buckets 0..29 hold 100 each */
		rate_add(&r, t, 1);
	ck_assert_uint_eq(rate_per_second(&r, 3000, TPS), 1000);
	/* With nothing added, each further bucket drops one full bucket out. */
	for (c = 30; c <= 45; c++) {
		uint64_t want = c < 40 ? (40 - c) * 100 : 0;

		ck_assert_uint_eq(rate_per_second(&r, c * BUCKET, TPS), want);
		ck_assert_uint_eq(rate_per_second(&r, c * BUCKET + BUCKET - 1, TPS), want);
	}
	ck_assert_uint_eq(r.total, 3000);
}
END_TEST

START_TEST(test_silence_longer_than_window_in_one_step)
{
	uint64_t t;
	const uint64_t gaps[] = { WINDOW + BUCKET, WINDOW + BUCKET + 1, 2 * WINDOW, 123456789, 1ull << 40 };
	unsigned i;

	for (i = 0; i < sizeof(gaps) / sizeof(gaps[0]); i++) {
		rate_init(&r, BUCKET, 0);
		for (t = 0; t < 2000; t++)
			rate_add(&r, t, 1);
		ck_assert_uint_eq(rate_per_second(&r, 1999, TPS), 1000);
		/* Last event at 1999 (bucket 19): once bucket 30 fills, all of it is gone. */
		ck_assert_uint_eq(rate_per_second(&r, 1999 + gaps[i], TPS), 0);
		/* And new events count from scratch. */
		rate_add(&r, 1999 + gaps[i], 7);
		ck_assert_uint_eq(rate_per_second(&r, 1999 + gaps[i], TPS), 0);
		ck_assert_uint_eq(rate_per_second(&r, 1999 + gaps[i] + BUCKET, TPS), 7);
		ck_assert_uint_eq(r.total, 2007);
	}
	/* Silence of exactly the window after the last complete bucket: the last bucket is still in. */
	rate_init(&r, BUCKET, 0);
	for (t = 0; t < 2000; t++)
		rate_add(&r, t, 1);
	ck_assert_uint_eq(rate_per_second(&r, 2999, TPS), 100);
	ck_assert_uint_eq(rate_per_second(&r, 3000, TPS), 0);
}
END_TEST

/* A burst in bucket B counts in buckets B+1 .. B+10 (RATE_BUCKETS - 1 of them), not in B+11. */
START_TEST(test_burst_ages_out)
{
	const uint64_t b = 50;
	uint64_t c;

	rate_init(&r, BUCKET, 0);
	rate_add(&r, b * BUCKET + 30, 700);
	ck_assert_uint_eq(rate_per_second(&r, b * BUCKET + 99, TPS), 0);
	for (c = b + 1; c <= b + RATE_BUCKETS - 1; c++) {
		ck_assert_uint_eq(rate_per_second(&r, c * BUCKET, TPS), 700);
		ck_assert_uint_eq(rate_per_second(&r, c * BUCKET + BUCKET - 1, TPS), 700);
	}
	ck_assert_uint_eq(rate_per_second(&r, (b + RATE_BUCKETS) * BUCKET, TPS), 0);
	ck_assert_uint_eq(r.total, 700);
}
END_TEST

/* The same without looking in between: the window jumps several buckets at once. */
START_TEST(test_burst_ages_out_in_jumps)
{
	const uint64_t b = 50;
	uint64_t jump;

	for (jump = 1; jump <= RATE_BUCKETS + 2; jump++) {
		rate_init(&r, BUCKET, 0);
		rate_add(&r, b * BUCKET, 700);
		ck_assert_uint_eq(rate_per_second(&r, (b + jump) * BUCKET, TPS),
				  jump <= RATE_BUCKETS - 1 ? 700 : 0);
		/* Via rate_add too (it moves the window the same way). */
		rate_init(&r, BUCKET, 0);
		rate_add(&r, b * BUCKET, 700);
		rate_add(&r, (b + jump) * BUCKET + BUCKET - 1, 0);
		ck_assert_uint_eq(rate_per_second(&r, (b + jump) * BUCKET + BUCKET - 1, TPS),
				  jump <= RATE_BUCKETS - 1 ? 700 : 0);
	}
	/* Two bursts a few buckets apart age out one after the other. */
	rate_init(&r, BUCKET, 0);
	rate_add(&r, 10 * BUCKET, 300);
	rate_add(&r, 14 * BUCKET, 40);
	ck_assert_uint_eq(rate_per_second(&r, 15 * BUCKET, TPS), 340);
	ck_assert_uint_eq(rate_per_second(&r, 20 * BUCKET + 99, TPS), 340);
	ck_assert_uint_eq(rate_per_second(&r, 21 * BUCKET, TPS), 40);
	ck_assert_uint_eq(rate_per_second(&r, 24 * BUCKET + 99, TPS), 40);
	ck_assert_uint_eq(rate_per_second(&r, 25 * BUCKET, TPS), 0);
}
END_TEST

START_TEST(test_now_equals_start)
{
	rate_init(&r, BUCKET, 1000);
	ck_assert_uint_eq(rate_per_second(&r, 1000, TPS), 0);
	rate_add(&r, 1000, 5);
	ck_assert_uint_eq(rate_per_second(&r, 1000, TPS), 0);
	ck_assert_uint_eq(r.current, 10);
	ck_assert_uint_eq(r.total, 5);
	ck_assert_uint_eq(rate_per_second(&r, 1100, TPS), 5);
}
END_TEST

START_TEST(test_time_going_backwards)
{
	uint64_t t;

	rate_init(&r, BUCKET, 10000);
	/* Before the start: no crash, counted in total, the window does not move. */
	rate_add(&r, 5000, 3);
	rate_add(&r, 0, 4);
	ck_assert_uint_eq(r.current, 100);
	ck_assert_uint_eq(r.total, 7);
	ck_assert_uint_eq(rate_per_second(&r, 0, TPS), 0);
	ck_assert_uint_eq(r.current, 100);
	/* They landed in the filling bucket, and show once it completes. */
	ck_assert_uint_eq(rate_per_second(&r, 10100, TPS), 7);

	/* A full window, then a clock that steps back: nothing is lost or cleared. */
	rate_init(&r, BUCKET, 10000);
	for (t = 10000; t < 13000; t++)
		rate_add(&r, t, 1);
	ck_assert_uint_eq(rate_per_second(&r, 12999, TPS), 1000);
	ck_assert_uint_eq(rate_per_second(&r, 11000, TPS), 1000);
	ck_assert_uint_eq(rate_per_second(&r, 0, TPS), 1000);
	ck_assert_uint_eq(r.current, 129);
	rate_add(&r, 12000, 1); /* into the filling bucket 129 */
	ck_assert_uint_eq(rate_per_second(&r, 12500, TPS), 1000);
	/* Forward again: bucket 129 held 101, bucket 119 (now out) 100. */
	ck_assert_uint_eq(rate_per_second(&r, 13000, TPS), 1001);
	for (t = 13000; t < 15000; t++)
		rate_add(&r, t, 1);
	ck_assert_uint_eq(rate_per_second(&r, 15000, TPS), 1000);
	ck_assert_uint_eq(r.total, 5001);
}
END_TEST

START_TEST(test_total_counts_everything)
{
	uint64_t t, want = 0;

	rate_init(&r, BUCKET, 0);
	for (t = 0; t < 100000; t += 37) {
		rate_add(&r, t, t % 11);
		want += t % 11;
	}
	rate_add(&r, 50, 9); /* backwards too */
	want += 9;
	rate_add(&r, 1ull << 50, 1); /* after a long silence */
	want += 1;
	ck_assert_uint_eq(r.total, want);
	ck_assert_uint_eq(rate_per_second(&r, (1ull << 50) + WINDOW, TPS), 1);
	ck_assert_uint_eq(r.total, want);
}
END_TEST

/* 1e9 events/s with a 50 MHz clock, for several bucket lengths. */
START_TEST(test_large_counts_no_overflow)
{
	static const uint64_t tps = 50000000, per_s = 1000000000;
	static const uint64_t buckets[] = {
		5000000, /* 100 ms: the window is exactly 1 s */
		3000000, /* 60 ms: window 0.6 s, ticks_per_second not a multiple of it */
		7000000, /* 140 ms: window 1.4 s, longer than a second */
		100,     /* 2 us */
	};
	unsigned i;

	for (i = 0; i < sizeof(buckets) / sizeof(buckets[0]); i++) {
		const uint64_t bt = buckets[i];
		const uint64_t start = 3ull << 40; /* ~6 hours of uptime at 50 MHz */
		uint64_t c, want;

		/* Events per bucket, per_s * bt / tps, is exact for these bucket lengths. */
		ck_assert_uint_eq(per_s * bt % tps, 0);
		rate_init(&r, bt, start);
		for (c = 0; c < 3 * RATE_BUCKETS; c++)
			rate_add(&r, start + c * bt, per_s * bt / tps);
		want = per_s;
		ck_assert_uint_eq(rate_per_second(&r, start + c * bt - 1, tps), want);
		ck_assert_uint_eq(r.total, 3 * RATE_BUCKETS * (per_s * bt / tps));
	}
	/* A 3 GHz TSC, 100 ms buckets, 1e9 events/s: still exact. */
	rate_init(&r, 300000000, 0);
	for (i = 0; i < 2 * RATE_BUCKETS; i++)
		rate_add(&r, (uint64_t)i * 300000000, 100000000);
	ck_assert_uint_eq(rate_per_second(&r, (uint64_t)i * 300000000 - 1, 3000000000ull), 1000000000);
}
END_TEST

/*
 * A measured TSC frequency that is no round number, with the bucket rounded
 * down as time_us_to_ticks does: sum * ticks_per_second alone would overflow
 * 64 bits for 1e10 events/s, the result must still be the exact floor.
 */
START_TEST(test_odd_tsc_frequency_exact)
{
	static const uint64_t per_bucket[] = { 1, 999, 100000000, 1000000000 };
	const uint64_t tps = 2893437123ull, bt = tps / 10;
	unsigned i, c;

	for (i = 0; i < sizeof(per_bucket) / sizeof(per_bucket[0]); i++) {
		unsigned __int128 sum = (unsigned __int128)per_bucket[i] * (RATE_BUCKETS - 1);
		uint64_t want = (uint64_t)(sum * tps / ((RATE_BUCKETS - 1) * bt));

		rate_init(&r, bt, 0);
		for (c = 0; c < RATE_BUCKETS; c++)
			rate_add(&r, (uint64_t)c * bt + c, per_bucket[i]);
		ck_assert_uint_eq(rate_per_second(&r, (uint64_t)RATE_BUCKETS * bt, tps), want);
	}
}
END_TEST

static Suite *rate_suite(void)
{
	Suite *s = suite_create("rate");
	TCase *tc = tcase_create("rate");

	tcase_add_test(tc, test_init);
	tcase_add_test(tc, test_steady_one_per_tick);
	tcase_add_test(tc, test_steady_unaligned_start);
	tcase_add_test(tc, test_filling_bucket_not_counted);
	tcase_add_test(tc, test_silence_empties_window);
	tcase_add_test(tc, test_silence_longer_than_window_in_one_step);
	tcase_add_test(tc, test_burst_ages_out);
	tcase_add_test(tc, test_burst_ages_out_in_jumps);
	tcase_add_test(tc, test_now_equals_start);
	tcase_add_test(tc, test_time_going_backwards);
	tcase_add_test(tc, test_total_counts_everything);
	tcase_add_test(tc, test_large_counts_no_overflow);
	tcase_add_test(tc, test_odd_tsc_frequency_exact);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(rate_suite());
}
