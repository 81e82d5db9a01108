/* Unit tests for kernel/core/throttle_ctl.c: the dirty-rate limit controller. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include "kernel/core/throttle_ctl.h"
#include "tests/unit/check_run.h"

#define MAXP 99

/* One controller step for n vCPUs; out is pre-filled with a canary. */
static void step(const uint64_t *rate, const unsigned *cur, unsigned n, uint64_t target, unsigned max_pct,
		 unsigned *out)
{
	unsigned i;

	for (i = 0; i < THROTTLE_CTL_MAX_VCPUS; i++)
		out[i] = 0xdead;
	throttle_ctl_dirty_limit(rate, cur, n, target, max_pct, out);
	for (i = n; i < THROTTLE_CTL_MAX_VCPUS; i++)
		ck_assert_uint_eq(out[i], 0xdead);
}

/* The rate a vCPU that dirties r0 unthrottled shows at throttle p. */
static uint64_t model_rate(uint64_t r0, unsigned p) { return r0 * (100 - p) / 100; }

/* The smallest throttle at which r0 meets target. */
static unsigned ideal_pct(uint64_t r0, uint64_t target)
{
	unsigned p;

	for (p = 0; p < 100 && model_rate(r0, p) > target; p++)
		;
	return p;
}

/* Applies the controller to the rate model until it settles; returns the last throttles. */
static void converge(const uint64_t *r0, unsigned n, uint64_t target, unsigned max_pct, unsigned *cur,
		     unsigned steps)
{
	uint64_t rate[THROTTLE_CTL_MAX_VCPUS];
	unsigned out[THROTTLE_CTL_MAX_VCPUS], i, k;

	for (k = 0; k < steps; k++) {
		for (i = 0; i < n; i++)
			rate[i] = model_rate(r0[i], cur[i]);
		step(rate, cur, n, target, max_pct, out);
		for (i = 0; i < n; i++) {
			ck_assert_uint_le(out[i], max_pct);
			cur[i] = out[i];
		}
	}
}

START_TEST(test_one_writer_first_step_halfway)
{
	uint64_t rate[1] = { 1000 };
	unsigned cur[1] = { 0 }, out[THROTTLE_CTL_MAX_VCPUS];

	/* Target 300 of 1000: 70% called for, the first step goes half of it. */
	step(rate, cur, 1, 300, MAXP, out);
	ck_assert_uint_eq(out[0], 35);
	/* Odd distance: the half rounds towards the target. */
	step(rate, cur, 1, 250, MAXP, out); /* 75% */
	ck_assert_uint_eq(out[0], 38);
	/* From 35, measured at 650 (unthrottled 1000): half of the 35 left. */
	rate[0] = 650;
	cur[0] = 35;
	step(rate, cur, 1, 300, MAXP, out);
	ck_assert_uint_eq(out[0], 53);
	/* Already there: stays. */
	rate[0] = 300;
	cur[0] = 70;
	step(rate, cur, 1, 300, MAXP, out);
	ck_assert_uint_eq(out[0], 70);
	/* One point away: reaches it. */
	rate[0] = 310;
	cur[0] = 69;
	step(rate, cur, 1, 300, MAXP, out);
	ck_assert_uint_eq(out[0], 70);
}
END_TEST

START_TEST(test_one_writer_converges)
{
	static const struct { uint64_t r0, target; } cases[] = {
		{ 1000, 300 }, { 777, 200 }, { 100000, 12345 }, { 5000, 4999 }, { 1234567, 1 }, { 999, 998 },
	};
	unsigned c;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		unsigned cur[1] = { 0 }, ideal = ideal_pct(cases[c].r0, cases[c].target), k;

		if (ideal > MAXP)
			ideal = MAXP;
		converge(&cases[c].r0, 1, cases[c].target, MAXP, cur, 30);
		/* Settled within a point of the throttle that meets the target, and stays there. */
		for (k = 0; k < 5; k++) {
			ck_assert_uint_le(cur[0] > ideal ? cur[0] - ideal : ideal - cur[0], 1);
			converge(&cases[c].r0, 1, cases[c].target, MAXP, cur, 1);
		}
		ck_assert_uint_gt(cur[0], 0);
	}
}
END_TEST

START_TEST(test_non_writer_stays_zero)
{
	uint64_t rate[1] = { 0 };
	unsigned cur[1] = { 0 }, out[THROTTLE_CTL_MAX_VCPUS];

	step(rate, cur, 1, 100, MAXP, out);
	ck_assert_uint_eq(out[0], 0);
	step(rate, cur, 1, 0, MAXP, out);
	ck_assert_uint_eq(out[0], 0);
	converge(rate, 1, 0, MAXP, cur, 10);
	ck_assert_uint_eq(cur[0], 0);
	/* Beside a heavy writer too. */
	{
		uint64_t r2[2] = { 0, 1000 };
		unsigned c2[2] = { 0, 0 };

		converge(r2, 2, 100, MAXP, c2, 30);
		ck_assert_uint_eq(c2[0], 0);
		ck_assert_uint_ge(c2[1], 89);
		ck_assert_uint_le(c2[1], 91);
	}
}
END_TEST

/* Max-min fairness: the light writer below an equal share keeps full speed. */
START_TEST(test_two_writers_max_min)
{
	uint64_t rate[2] = { 100, 1000 };
	unsigned cur[2] = { 0, 0 }, out[THROTTLE_CTL_MAX_VCPUS];

	/* Target 600: equal share 300; the light one needs 100, the heavy one gets 500. */
	step(rate, cur, 2, 600, MAXP, out);
	ck_assert_uint_eq(out[0], 0);
	ck_assert_uint_eq(out[1], 25); /* halfway to 50 */
	converge(rate, 2, 600, MAXP, cur, 30);
	ck_assert_uint_eq(cur[0], 0);
	ck_assert_uint_eq(cur[1], 50);
	/* Order does not matter. */
	{
		uint64_t r2[2] = { 1000, 100 };
		unsigned c2[2] = { 0, 0 };

		converge(r2, 2, 600, MAXP, c2, 30);
		ck_assert_uint_eq(c2[0], 50);
		ck_assert_uint_eq(c2[1], 0);
	}
}
END_TEST

/* Both above the equal share: both throttled down to the same rate. */
START_TEST(test_two_writers_both_above_share)
{
	uint64_t r0[2] = { 400, 1000 };
	unsigned cur[2] = { 0, 0 };

	converge(r0, 2, 400, MAXP, cur, 30);
	ck_assert_uint_eq(cur[0], 50);
	ck_assert_uint_eq(cur[1], 80);
	ck_assert_uint_le(model_rate(r0[0], cur[0]) + model_rate(r0[1], cur[1]), 400);
}
END_TEST

START_TEST(test_three_writers_max_min)
{
	uint64_t r0[3] = { 1000, 100, 400 };
	unsigned cur[3] = { 0, 0, 0 };

	/* Shares: 200 (100 used), 250, 250. */
	converge(r0, 3, 600, MAXP, cur, 30);
	ck_assert_uint_eq(cur[1], 0);
	ck_assert_uint_ge(cur[2], 37);
	ck_assert_uint_le(cur[2], 38);
	ck_assert_uint_eq(cur[0], 75);
	ck_assert_uint_le(model_rate(r0[0], cur[0]) + model_rate(r0[1], cur[1]) + model_rate(r0[2], cur[2]), 600);
}
END_TEST

/* Target above the total: nobody is throttled; a throttle in force steps down halfway. */
START_TEST(test_target_above_total_releases)
{
	static const unsigned expect[] = { 20, 10, 5, 2, 1, 0, 0 };
	uint64_t r0[2] = { 300, 500 }, rate[2];
	unsigned cur[2] = { 0, 40 }, out[THROTTLE_CTL_MAX_VCPUS], k;

	for (k = 0; k < sizeof(expect) / sizeof(expect[0]); k++) {
		rate[0] = model_rate(r0[0], cur[0]);
		rate[1] = model_rate(r0[1], cur[1]);
		step(rate, cur, 2, 1000, MAXP, out);
		ck_assert_uint_eq(out[0], 0);
		ck_assert_uint_eq(out[1], expect[k]);
		cur[0] = out[0];
		cur[1] = out[1];
	}
	/* Exactly the total: still nothing to do. */
	step(r0, (unsigned[2]){ 0, 0 }, 2, 800, MAXP, out);
	ck_assert_uint_eq(out[0], 0);
	ck_assert_uint_eq(out[1], 0);
}
END_TEST

START_TEST(test_max_pct_clamps)
{
	uint64_t r0[2] = { 10000, 20000 }, rate[1] = { 10000 };
	unsigned cur[2] = { 0, 0 }, out[THROTTLE_CTL_MAX_VCPUS], c1[1] = { 0 };

	/* 99.9% called for, at most 80. */
	step(rate, c1, 1, 10, 80, out);
	ck_assert_uint_eq(out[0], 40);
	converge(r0, 1, 10, 80, c1, 30);
	ck_assert_uint_eq(c1[0], 80);
	converge(r0, 2, 10, 60, cur, 30);
	ck_assert_uint_eq(cur[0], 60);
	ck_assert_uint_eq(cur[1], 60);
	/* max_pct 0: never throttled. */
	cur[0] = cur[1] = 0;
	converge(r0, 2, 10, 0, cur, 5);
	ck_assert_uint_eq(cur[0], 0);
	ck_assert_uint_eq(cur[1], 0);
	/* Below max_pct the clamp does not bite. */
	cur[0] = 0;
	converge(r0, 1, 5000, 80, cur, 30);
	ck_assert_uint_eq(cur[0], 50);
}
END_TEST

/* The contract: each new throttle is within [0, max_pct], even from a current one above it. */
START_TEST(test_max_pct_lowered_below_current)
{
	uint64_t rate[1] = { 100 }; /* 1000 unthrottled */
	unsigned cur[1] = { 90 }, out[THROTTLE_CTL_MAX_VCPUS];

	step(rate, cur, 1, 10, 50, out);
	ck_assert_uint_le(out[0], 50);
}
END_TEST

START_TEST(test_n_zero)
{
	unsigned out[THROTTLE_CTL_MAX_VCPUS];

	/* Nothing is read or written (the canary check in step). */
	step(NULL, NULL, 0, 1000, MAXP, out);
	step(NULL, NULL, 0, 0, MAXP, out);
	ck_assert_uint_eq(out[0], 0xdead);
}
END_TEST

START_TEST(test_n_one)
{
	uint64_t rate[1] = { 1000 };
	unsigned cur[1] = { 0 }, out[THROTTLE_CTL_MAX_VCPUS];

	/* The whole target is its share. */
	step(rate, cur, 1, 1000, MAXP, out);
	ck_assert_uint_eq(out[0], 0);
	step(rate, cur, 1, 999, MAXP, out);
	ck_assert_uint_eq(out[0], 1); /* 1% called for: the half rounds up to reach it */
	step(rate, cur, 1, 0, MAXP, out);
	ck_assert_uint_eq(out[0], 50); /* 100% called for, clamped to 99, halfway rounds up */
	cur[0] = 0;
	converge(rate, 1, 0, MAXP, cur, 30);
	ck_assert_uint_eq(cur[0], MAXP);
}
END_TEST

/* A rate measured while throttled is scaled back to the unthrottled rate. */
START_TEST(test_rate_scaled_back_by_current_throttle)
{
	uint64_t rate[2] = { 500, 1000 };
	unsigned cur[2] = { 50, 0 }, out[THROTTLE_CTL_MAX_VCPUS];

	/* 500 at 50% is 1000 unthrottled: to reach 300, 70%; halfway from 50 is 60. */
	step(rate, cur, 1, 300, MAXP, out);
	ck_assert_uint_eq(out[0], 60);
	/* Both are 1000 unthrottled: treated alike, each 70% called for. */
	step(rate, cur, 2, 600, MAXP, out);
	ck_assert_uint_eq(out[0], 60);
	ck_assert_uint_eq(out[1], 35);
	/* 500 at 50% (1000) is heavier than 600 at 0%: with target 1200 the 600 one keeps full speed. */
	rate[1] = 600;
	step(rate, cur, 2, 1200, MAXP, out);
	ck_assert_uint_eq(out[1], 0);
	ck_assert_uint_eq(out[0], 45); /* 1000 -> 600: 40% called for, halfway from 50 down */
	/* 10 at 90% is 100 unthrottled: under a target of 200 the throttle comes off. */
	rate[0] = 10;
	cur[0] = 90;
	step(rate, cur, 1, 200, MAXP, out);
	ck_assert_uint_eq(out[0], 45);
}
END_TEST

static Suite *throttle_ctl_suite(void)
{
	Suite *su = suite_create("throttle_ctl");
	TCase *tc = tcase_create("dirty_limit");

	tcase_add_test(tc, test_one_writer_first_step_halfway);
	tcase_add_test(tc, test_one_writer_converges);
	tcase_add_test(tc, test_non_writer_stays_zero);
	tcase_add_test(tc, test_two_writers_max_min);
	tcase_add_test(tc, test_two_writers_both_above_share);
	tcase_add_test(tc, test_three_writers_max_min);
	tcase_add_test(tc, test_target_above_total_releases);
	tcase_add_test(tc, test_max_pct_clamps);
	tcase_add_test(tc, test_max_pct_lowered_below_current);
	tcase_add_test(tc, test_n_zero);
	tcase_add_test(tc, test_n_one);
	tcase_add_test(tc, test_rate_scaled_back_by_current_throttle);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return check_run(throttle_ctl_suite());
}
