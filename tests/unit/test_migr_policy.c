/*
 * Unit tests for migration/policy.c: single decisions, then whole
 * migrations simulated on a fake clock (a guest writing a hot set at a given
 * rate per vCPU, a link of a given bandwidth, the throttle applied the way
 * the scheduler does), called every 250 ms and at each pass boundary.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include "migration/policy.h"
#include "migration/stream.h"

#define STEP_MS 250u
#define MIB (1024ull * 1024)
#define VCPUS 4

struct sim {
	/* the guest and the link */
	double ram_pages, hot_pages;
	double write_pps[VCPUS]; /* unthrottled page writes per second, spread over the hot set */
	unsigned nvcpu;
	double link; /* bytes/s */
	struct migr_limits lim;
	/* the migration */
	double to_send, dirty, sent, pass_start_ms, harvested_in_window[4];
	uint32_t pass, throttle, max_pct;
	uint64_t limit, t_ms, control_since;
	double peak_throttle;
	/* the outcome */
	int done;
	struct migr_decision last;
	double downtime_ms;
	uint32_t passes_before_final;
	unsigned throttle_sets, limit_sets;
};

static void sim_init(struct sim *s, double ram_mib, double hot_share, double link_mib_s, unsigned nvcpu)
{
	*s = (struct sim){ 0 };
	s->ram_pages = ram_mib * MIB / MIGR_PAGE_SIZE;
	s->hot_pages = s->ram_pages * hot_share;
	s->link = link_mib_s * MIB;
	s->nvcpu = nvcpu;
	s->to_send = s->ram_pages;
	s->pass = 1;
	s->lim.max_throttle_pct = 99;
}

/* What each vCPU writes under the control in force: VM-wide percent, or the limit split max-min fair. */
static void rates(const struct sim *s, double *out)
{
	double left = (double)s->limit, share, floor_share;
	unsigned i, open = s->nvcpu, fixed[VCPUS] = { 0 }, changed = 1;

	for (i = 0; i < s->nvcpu; i++)
		out[i] = s->write_pps[i] * (100 - s->throttle) / 100.0;
	if (!s->limit)
		return;
	while (changed && open) {
		changed = 0;
		share = left / open;
		for (i = 0; i < s->nvcpu; i++)
			if (!fixed[i] && s->write_pps[i] <= share) {
				fixed[i] = 1;
				out[i] = s->write_pps[i];
				left -= out[i];
				open--;
				changed = 1;
			}
	}
	for (i = 0; i < s->nvcpu; i++)
		if (!fixed[i]) {
			floor_share = s->write_pps[i] * (100 - s->max_pct) / 100.0;
			out[i] = left / open > floor_share ? left / open : floor_share;
		}
}

static double bw(const struct sim *s)
{
	return s->lim.bandwidth_cap && s->lim.bandwidth_cap < s->link ? (double)s->lim.bandwidth_cap : s->link;
}

static void apply(struct sim *s, const struct migr_decision *d)
{
	double r[VCPUS];
	unsigned i;

	s->last = *d;
	switch (d->action) {
	case MIGR_ACT_SET_THROTTLE:
		ck_assert_uint_le(d->throttle_pct, s->lim.max_throttle_pct);
		s->throttle = d->throttle_pct;
		s->limit = 0;
		s->control_since = s->t_ms;
		s->throttle_sets++;
		break;
	case MIGR_ACT_SET_DIRTY_LIMIT:
		ck_assert_uint_gt(d->dirty_limit, 0);
		ck_assert_uint_le(d->max_pct, s->lim.max_throttle_pct);
		s->limit = d->dirty_limit;
		s->max_pct = d->max_pct;
		s->throttle = 0;
		s->control_since = s->t_ms;
		s->limit_sets++;
		break;
	case MIGR_ACT_SWITCHOVER:
		s->passes_before_final = s->pass;
		s->downtime_ms = (s->to_send + s->dirty) * MIGR_PAGE_SIZE * 1000.0 / bw(s);
		s->sent += s->to_send + s->dirty;
		s->done = 1;
		break;
	case MIGR_ACT_GIVE_UP:
		s->done = 1;
		break;
	}
	rates(s, r);
	for (i = 0; i < s->nvcpu; i++)
		if (s->write_pps[i] > 0 && 1 - r[i] / s->write_pps[i] > s->peak_throttle)
			s->peak_throttle = 1 - r[i] / s->write_pps[i];
}

static void decide(struct sim *s, int pass_done, double dirty_rate, const uint64_t *vrate)
{
	struct migr_stats st = {
		.pass = s->pass,
		.pass_done = (uint32_t)pass_done,
		.remaining_bytes = (uint64_t)((s->to_send + s->dirty) * MIGR_PAGE_SIZE),
		.bandwidth = (uint64_t)bw(s),
		.dirty_rate = (uint64_t)dirty_rate,
		.nvcpu = s->nvcpu,
		.vcpu_dirty_rate = vrate,
		.elapsed_ms = s->t_ms,
		.throttle_pct = s->throttle,
		.dirty_limit = s->limit,
		.control_age_ms = s->t_ms - s->control_since,
	};
	struct migr_decision d;

	migr_policy_decide(&s->lim, &st, &d);
	apply(s, &d);
}

/* SIM_TRACE=1 prints each step, for tuning the policy by eye. */
static void trace(const struct sim *s, double rate)
{
	if (getenv("SIM_TRACE"))
		fprintf(stderr, "t %llu pass %u to_send %.0f dirty %.0f rate %.0f thr %u lim %llu sent %.0f\n",
			(unsigned long long)s->t_ms, s->pass, s->to_send, s->dirty, rate, s->throttle,
			(unsigned long long)s->limit, s->sent);
}

/* One 250 ms step: the guest writes, the link sends, the pass may end; then the policy decides. */
static void step(struct sim *s)
{
	double r[VCPUS], total = 0, fresh, sendable, window = 0, share;
	uint64_t vrate[VCPUS];
	unsigned i;
	int boundary = 0;

	rates(s, r);
	for (i = 0; i < s->nvcpu; i++)
		total += r[i];
	/* Random writes into the hot set: the share of them that lands on clean pages is new. */
	fresh = s->hot_pages > 0 ? (s->hot_pages - s->dirty) * (1 - exp(-total * STEP_MS / 1000.0 / s->hot_pages)) : 0;
	s->dirty += fresh;
	for (i = 3; i > 0; i--)
		s->harvested_in_window[i] = s->harvested_in_window[i - 1];
	s->harvested_in_window[0] = fresh;
	sendable = bw(s) * STEP_MS / 1000.0 / MIGR_PAGE_SIZE;
	if (sendable >= s->to_send) {
		s->sent += s->to_send;
		s->to_send = 0;
	} else {
		s->to_send -= sendable;
		s->sent += sendable;
	}
	s->t_ms += STEP_MS;
	for (i = 0; i < 4; i++)
		window += s->harvested_in_window[i];
	if (s->to_send == 0) {
		/* Harvest: the next pass sends what was dirtied; its rate is over the whole pass. */
		window = s->dirty * 1000.0 / (double)(s->t_ms - s->pass_start_ms);
		s->to_send = s->dirty;
		s->dirty = 0;
		s->pass++;
		s->pass_start_ms = s->t_ms;
		boundary = 1;
	}
	for (i = 0; i < s->nvcpu; i++) {
		share = total > 0 ? r[i] / total : 0;
		vrate[i] = (uint64_t)(window * share);
	}
	trace(s, window);
	decide(s, boundary, window, vrate);
}

static void run(struct sim *s, uint64_t max_ms)
{
	while (!s->done && s->t_ms < max_ms)
		step(s);
}

START_TEST(test_idle_one_pass)
{
	struct sim s;

	sim_init(&s, 256, 0, 100, 2);
	run(&s, 60000);
	ck_assert(s.done);
	ck_assert_uint_eq(s.last.action, MIGR_ACT_SWITCHOVER);
	ck_assert_uint_eq(s.last.reason, MIGR_WHY_DOWNTIME_FITS);
	/* The first pass is the only one before the final. */
	ck_assert_uint_eq(s.passes_before_final, 1);
	ck_assert_double_le(s.downtime_ms, MIGR_DOWNTIME_DEFAULT_MS);
	ck_assert_double_eq_tol(s.sent, s.ram_pages, 1);
	ck_assert_uint_eq(s.throttle_sets + s.limit_sets, 0);
}
END_TEST

/* Writers at 3x the link over a quarter of RAM, every vCPU alike. */
static void hot_guest(struct sim *s)
{
	unsigned i;

	sim_init(s, 1024, 0.25, 100, 2);
	for (i = 0; i < 2; i++)
		s->write_pps[i] = 3 * s->link / MIGR_PAGE_SIZE / 2;
}

START_TEST(test_hot_needs_throttle)
{
	struct sim s;

	hot_guest(&s);
	s.lim.max_throttle_pct = 0;
	run(&s, 600000);
	ck_assert(!s.done);
	ck_assert_uint_eq(s.last.reason, MIGR_WHY_THROTTLE_AT_MAX);
	ck_assert_uint_gt(s.pass, 20);
	ck_assert_double_eq(s.peak_throttle, 0);
}
END_TEST

START_TEST(test_hot_converges_with_throttle)
{
	struct sim s;

	hot_guest(&s);
	run(&s, 600000);
	ck_assert(s.done);
	ck_assert_uint_eq(s.last.action, MIGR_ACT_SWITCHOVER);
	ck_assert_uint_eq(s.last.reason, MIGR_WHY_DOWNTIME_FITS);
	ck_assert_double_le(s.downtime_ms, MIGR_DOWNTIME_DEFAULT_MS);
	/* Spread evenly over the vCPUs: the VM-wide throttle is the tool. */
	ck_assert_uint_gt(s.throttle_sets, 0);
	ck_assert_uint_eq(s.limit_sets, 0);
	ck_assert_double_le(s.sent, 1.5 * s.ram_pages);
	ck_assert_uint_lt(s.t_ms, 60000);
}
END_TEST

/* One vCPU of four writes: only it is held back, by the dirty-rate limit. */
START_TEST(test_single_writer_dirty_limit)
{
	struct sim s;

	sim_init(&s, 1024, 0.25, 100, 4);
	s.write_pps[0] = 3 * s.link / MIGR_PAGE_SIZE;
	s.write_pps[1] = 10;
	run(&s, 600000);
	ck_assert(s.done);
	ck_assert_uint_eq(s.last.reason, MIGR_WHY_DOWNTIME_FITS);
	ck_assert_uint_gt(s.limit_sets, 0);
	ck_assert_uint_eq(s.throttle_sets, 0);
	ck_assert_double_le(s.downtime_ms, MIGR_DOWNTIME_DEFAULT_MS);
	ck_assert_double_le(s.sent, 1.5 * s.ram_pages);
}
END_TEST

/* Convergence would need ~85%: with at most 50 the throttle stops there, and the timeout decides. */
START_TEST(test_max_throttle_and_timeout)
{
	struct sim s;

	hot_guest(&s);
	s.lim.max_throttle_pct = 50;
	s.lim.max_precopy_ms = 120000;
	s.lim.on_timeout = MIGR_TIMEOUT_FORCE;
	run(&s, 600000);
	ck_assert(s.done);
	ck_assert_double_le(s.peak_throttle, 0.5 + 1e-9);
	ck_assert_double_ge(s.peak_throttle, 0.5 - 1e-9);
	ck_assert_uint_eq(s.last.action, MIGR_ACT_SWITCHOVER);
	ck_assert_uint_eq(s.last.reason, MIGR_WHY_TIMEOUT_FORCE);
	ck_assert_uint_eq(s.t_ms, 120000);
	ck_assert_double_gt(s.downtime_ms, MIGR_DOWNTIME_DEFAULT_MS);

	hot_guest(&s);
	s.lim.max_throttle_pct = 50;
	s.lim.max_precopy_ms = 30000;
	s.lim.on_timeout = MIGR_TIMEOUT_ABORT;
	run(&s, 600000);
	ck_assert(s.done);
	ck_assert_uint_eq(s.last.action, MIGR_ACT_GIVE_UP);
	ck_assert_uint_eq(s.last.reason, MIGR_WHY_TIMEOUT_ABORT);
	ck_assert_uint_eq(s.t_ms, 30000);
}
END_TEST

/* A cap below the link: the downtime estimate and the throttle's target use the cap. */
START_TEST(test_bandwidth_cap)
{
	struct migr_limits lim = { .bandwidth_cap = 10 * MIB, .max_throttle_pct = 99 };
	struct migr_stats st = { .pass = 2, .remaining_bytes = 5 * MIB, .bandwidth = 100 * MIB,
				 .dirty_rate = 2000 };
	uint64_t v[2] = { 1000, 1000 };
	struct migr_decision d;
	struct sim s;

	migr_policy_decide(&lim, &st, &d);
	ck_assert_uint_eq(d.expected_downtime_ms, 500);
	/* 10 MiB/s is 2560 pages/s, a third of it 844: 2000 needs a throttle of 58%. */
	ck_assert_uint_eq(d.action, MIGR_ACT_SET_THROTTLE);
	ck_assert_uint_eq(d.throttle_pct, 58);
	st.nvcpu = 2;
	st.vcpu_dirty_rate = v;
	v[1] = 0;
	migr_policy_decide(&lim, &st, &d);
	ck_assert_uint_eq(d.action, MIGR_ACT_SET_DIRTY_LIMIT);
	ck_assert_uint_eq(d.dirty_limit, 844);
	ck_assert_uint_eq(d.max_pct, 99);
	/* Without the cap the same remainder fits. */
	lim.bandwidth_cap = 0;
	migr_policy_decide(&lim, &st, &d);
	ck_assert_uint_eq(d.action, MIGR_ACT_SWITCHOVER);

	/* Whole run: an idle 256 MiB guest over a 100 MiB/s link capped at 20 takes ~12.8 s. */
	sim_init(&s, 256, 0, 100, 2);
	s.lim.bandwidth_cap = 20 * MIB;
	run(&s, 60000);
	ck_assert(s.done);
	ck_assert_uint_ge(s.t_ms, 12500);
	ck_assert_uint_le(s.t_ms, 13000);
}
END_TEST

START_TEST(test_single_decisions)
{
	struct migr_limits lim = { .max_throttle_pct = 90 };
	struct migr_stats st = { .pass = 1, .remaining_bytes = 1 << 30 };
	struct migr_decision d;

	/* No bandwidth yet: measure; for too long: give up. */
	migr_policy_decide(&lim, &st, &d);
	ck_assert_uint_eq(d.action, MIGR_ACT_CONTINUE);
	ck_assert_uint_eq(d.reason, MIGR_WHY_MEASURING);
	ck_assert_uint_eq(d.expected_downtime_ms, UINT64_MAX);
	st.stalled_ms = MIGR_POLICY_STALL_MS;
	migr_policy_decide(&lim, &st, &d);
	ck_assert_uint_eq(d.action, MIGR_ACT_GIVE_UP);
	ck_assert_uint_eq(d.reason, MIGR_WHY_LINK_STALLED);
	/* Default downtime: 300 ms; 301 ms of data does not fit, 300 does. */
	st.stalled_ms = 0;
	st.bandwidth = 1000 * 1000;
	st.remaining_bytes = 301000;
	migr_policy_decide(&lim, &st, &d);
	ck_assert_uint_eq(d.expected_downtime_ms, 301);
	ck_assert_uint_eq(d.action, MIGR_ACT_CONTINUE);
	ck_assert_uint_eq(d.reason, MIGR_WHY_CONVERGING);
	st.remaining_bytes = 300000;
	migr_policy_decide(&lim, &st, &d);
	ck_assert_uint_eq(d.action, MIGR_ACT_SWITCHOVER);
	lim.downtime_ms = 100;
	migr_policy_decide(&lim, &st, &d);
	ck_assert_uint_eq(d.action, MIGR_ACT_CONTINUE);
	/* A throttle younger than the settle time is left alone. */
	st.dirty_rate = 100000;
	st.throttle_pct = 20;
	st.control_age_ms = MIGR_POLICY_SETTLE_MS - 1;
	migr_policy_decide(&lim, &st, &d);
	ck_assert_uint_eq(d.action, MIGR_ACT_CONTINUE);
	ck_assert_uint_eq(d.reason, MIGR_WHY_THROTTLE_HELD);
	/* Settled and far off: raised, capped at the maximum. */
	st.control_age_ms = MIGR_POLICY_SETTLE_MS;
	migr_policy_decide(&lim, &st, &d);
	ck_assert_uint_eq(d.action, MIGR_ACT_SET_THROTTLE);
	ck_assert_uint_eq(d.throttle_pct, 90);
	ck_assert_uint_eq(d.reason, MIGR_WHY_THROTTLE_AT_MAX);
	/* Calm within a pass: not lowered; at the boundary it is. */
	st.dirty_rate = 10;
	st.bandwidth = 100 * 1000 * 1000;
	st.remaining_bytes = 1ull << 34;
	migr_policy_decide(&lim, &st, &d);
	ck_assert_uint_eq(d.action, MIGR_ACT_CONTINUE);
	st.pass_done = 1;
	migr_policy_decide(&lim, &st, &d);
	ck_assert_uint_eq(d.action, MIGR_ACT_SET_THROTTLE);
	ck_assert_uint_eq(d.throttle_pct, 0);
	ck_assert_str_eq(migr_reason_str(MIGR_WHY_DOWNTIME_FITS), "what remains fits the downtime limit");
	ck_assert_str_eq(migr_reason_str(MIGR_WHY_COUNT), "unknown");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("migr_policy");
	TCase *tc = tcase_create("policy");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_single_decisions);
	tcase_add_test(tc, test_idle_one_pass);
	tcase_add_test(tc, test_hot_needs_throttle);
	tcase_add_test(tc, test_hot_converges_with_throttle);
	tcase_add_test(tc, test_single_writer_dirty_limit);
	tcase_add_test(tc, test_max_throttle_and_timeout);
	tcase_add_test(tc, test_bandwidth_cap);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
