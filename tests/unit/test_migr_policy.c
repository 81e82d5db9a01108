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
#include "tests/unit/check_run.h"

#define STEP_MS 250u
#define MIB (1024ull * 1024)
#define VCPUS 4
/* The hot guest's average VM-wide throttle, in percent (the same guest throttled from its full copy on: above 60). */
#define AVG_THROTTLE_HOT_MAX 40.0

struct sim {
	/* the guest and the link */
	double ram_pages, hot_pages;
	double write_pps[VCPUS]; /* unthrottled page writes per second, spread over the hot set */
	unsigned nvcpu;
	double link; /* bytes/s */
	uint64_t window_ms; /* non-zero: no bandwidth measured before this, as the sender's window */
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
	uint64_t pass1_control_ms; /* time a throttle or a limit was in force during the full copy */
	double throttle_pct_ms;    /* VM-wide throttle x time, for its average */
};

/* Any reason will do (expect()). */
#define ANY_REASON MIGR_WHY_COUNT

/* The policy's decision on st, whose action (and reason, unless ANY_REASON) must be the ones given. */
static struct migr_decision expect(const struct migr_limits *lim, const struct migr_stats *st, uint32_t action,
				   uint32_t reason)
{
	struct migr_decision d;

	migr_policy_decide(lim, st, &d);
	ck_assert_msg(d.action == action && (reason == ANY_REASON || d.reason == reason),
		      "action %u (%s), expected %u (%s)", d.action, migr_reason_str(d.reason), action,
		      migr_reason_str(reason));
	return d;
}

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
		.bandwidth = s->t_ms >= s->window_ms ? (uint64_t)bw(s) : 0,
		.sent_bytes = (uint64_t)(s->sent * MIGR_PAGE_SIZE),
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
	if (s->pass == 1 && (s->throttle || s->limit))
		s->pass1_control_ms += STEP_MS;
	s->throttle_pct_ms += (double)s->throttle * STEP_MS;
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
	/* As the sender counts: pages first dirtied over the last second, or since the harvest if nearer. */
	for (i = 0; i < 4 && s->t_ms - i * STEP_MS > s->pass_start_ms; i++)
		window += s->harvested_in_window[i];
	window = window * 1000.0 / (double)(i * STEP_MS);
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
	d = expect(&lim, &st, MIGR_ACT_SET_DIRTY_LIMIT, ANY_REASON);
	ck_assert_uint_eq(d.dirty_limit, 844);
	ck_assert_uint_eq(d.max_pct, 99);
	/* Without the cap the same remainder fits. */
	lim.bandwidth_cap = 0;
	d = expect(&lim, &st, MIGR_ACT_SWITCHOVER, ANY_REASON);

	/* Whole run: an idle 256 MiB guest over a 100 MiB/s link capped at 20 takes ~12.8 s. */
	sim_init(&s, 256, 0, 100, 2);
	s.lim.bandwidth_cap = 20 * MIB;
	run(&s, 60000);
	ck_assert(s.done);
	ck_assert_uint_ge(s.t_ms, 12500);
	ck_assert_uint_le(s.t_ms, 13000);
}
END_TEST

/*
 * A later pass sends slower than the window measured (scattered pages, not the first pass's long
 * runs): the pause is estimated at the later pass's rate, never at a faster one.
 */
START_TEST(test_pause_at_later_pass_rate)
{
	static const struct {
		uint64_t left_mib, pass_mib_s, expect_ms, pause_mib_s;
		int switches;
	} cases[] = {
		{ 120, 0, 200, 600, 1 },    /* the window's rate: 200 ms fits the 240 ms target */
		{ 120, 300, 400, 300, 0 },  /* the pass so far moved 300 MiB/s: too long */
		{ 60, 300, 200, 300, 1 },   /* half as much left fits at that rate */
		{ 60, 1200, 100, 600, 1 },  /* a pass faster than the window does not shorten it */
	};
	struct migr_limits lim = { .downtime_ms = 300, .max_throttle_pct = 99 };
	struct migr_stats st = { .pass = 2, .bandwidth = 600 * MIB, .dirty_rate = 100 };
	struct migr_decision d;
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		st.remaining_bytes = cases[i].left_mib * MIB;
		st.pass_bandwidth = cases[i].pass_mib_s * MIB;
		migr_policy_decide(&lim, &st, &d);
		ck_assert_uint_eq(d.expected_downtime_ms, cases[i].expect_ms);
		ck_assert_uint_eq(d.pause_bandwidth, cases[i].pause_mib_s * MIB);
		ck_assert_int_eq(d.action == MIGR_ACT_SWITCHOVER, cases[i].switches);
	}
}
END_TEST

/*
 * Nothing left at a pass boundary: switch over even before any bandwidth
 * was measured (an idle or all-zero VM whose full copy took under the
 * sender's one-second window), instead of opening empty pass after empty pass.
 */
START_TEST(test_nothing_left_switches_over)
{
	struct migr_limits lim = { .max_throttle_pct = 99 };
	struct migr_stats st = { .pass = 1, .pass_done = 1, .remaining_bytes = 0, .elapsed_ms = 40 };
	struct migr_decision d;

	d = expect(&lim, &st, MIGR_ACT_SWITCHOVER, MIGR_WHY_DOWNTIME_FITS);
	ck_assert_uint_eq(d.expected_downtime_ms, 0);
	/* Within a pass nothing is known of what it leaves: measuring goes on. */
	st.pass_done = 0;
	d = expect(&lim, &st, MIGR_ACT_CONTINUE, MIGR_WHY_MEASURING);
}
END_TEST

START_TEST(test_single_decisions)
{
	struct migr_limits lim = { .max_throttle_pct = 90 };
	struct migr_stats st = { .pass = 2, .remaining_bytes = 1 << 30 };
	struct migr_decision d;

	/* No bandwidth yet: measure; for too long: give up. */
	d = expect(&lim, &st, MIGR_ACT_CONTINUE, MIGR_WHY_MEASURING);
	ck_assert_uint_eq(d.expected_downtime_ms, UINT64_MAX);
	st.stalled_ms = MIGR_POLICY_STALL_MS;
	d = expect(&lim, &st, MIGR_ACT_GIVE_UP, MIGR_WHY_LINK_STALLED);
	/*
	 * Default downtime: 300 ms, of which the estimate may take 80%: 241 ms
	 * of data does not fit (nor does 300), 240 does.
	 */
	st.stalled_ms = 0;
	st.bandwidth = 1000 * 1000;
	st.remaining_bytes = 300000;
	d = expect(&lim, &st, MIGR_ACT_CONTINUE, ANY_REASON);
	st.remaining_bytes = 241000;
	migr_policy_decide(&lim, &st, &d);
	ck_assert_uint_eq(d.expected_downtime_ms, 241);
	ck_assert_uint_eq(d.action, MIGR_ACT_CONTINUE);
	ck_assert_uint_eq(d.reason, MIGR_WHY_CONVERGING);
	st.remaining_bytes = 240000;
	d = expect(&lim, &st, MIGR_ACT_SWITCHOVER, ANY_REASON);
	lim.downtime_ms = 100;
	d = expect(&lim, &st, MIGR_ACT_CONTINUE, ANY_REASON);
	/* A throttle younger than the settle time is left alone. */
	st.dirty_rate = 100000;
	st.throttle_pct = 20;
	st.control_age_ms = MIGR_POLICY_SETTLE_MS - 1;
	d = expect(&lim, &st, MIGR_ACT_CONTINUE, MIGR_WHY_THROTTLE_HELD);
	/* Settled and far off: raised, capped at the maximum. */
	st.control_age_ms = MIGR_POLICY_SETTLE_MS;
	d = expect(&lim, &st, MIGR_ACT_SET_THROTTLE, ANY_REASON);
	ck_assert_uint_eq(d.throttle_pct, 90);
	ck_assert_uint_eq(d.reason, MIGR_WHY_THROTTLE_AT_MAX);
	/*
	 * Lower, but not calm, within a pass: held (a falling rate may be a
	 * working set filling up); calm: lowered, within a pass and at the
	 * boundary.
	 */
	st.dirty_rate = 4000;
	st.bandwidth = 100 * 1000 * 1000;
	st.remaining_bytes = 1ull << 34;
	d = expect(&lim, &st, MIGR_ACT_CONTINUE, MIGR_WHY_THROTTLE_HELD);
	st.dirty_rate = 10;
	d = expect(&lim, &st, MIGR_ACT_SET_THROTTLE, ANY_REASON);
	ck_assert_uint_eq(d.throttle_pct, 0);
	st.pass_done = 1;
	d = expect(&lim, &st, MIGR_ACT_SET_THROTTLE, ANY_REASON);
	ck_assert_uint_eq(d.throttle_pct, 0);
	ck_assert_str_eq(migr_reason_str(MIGR_WHY_DOWNTIME_FITS), "what remains fits the downtime limit");
	ck_assert_str_eq(migr_reason_str(MIGR_WHY_COUNT), "unknown");
}
END_TEST

/* The full copy sends every page once whatever the guest writes: no throttle before the second pass. */
START_TEST(test_first_pass_unthrottled)
{
	struct migr_limits lim = { .max_throttle_pct = 99 };
	struct migr_stats st = { .pass = 1, .remaining_bytes = 1ull << 34, .bandwidth = 100 * 1000 * 1000,
				 .dirty_rate = 100000, .elapsed_ms = 5000, .control_age_ms = 5000 };
	struct migr_decision d;
	struct sim s;

	d = expect(&lim, &st, MIGR_ACT_CONTINUE, MIGR_WHY_FIRST_PASS);
	/* One in force during the full copy is released. */
	st.throttle_pct = 50;
	d = expect(&lim, &st, MIGR_ACT_SET_THROTTLE, ANY_REASON);
	ck_assert_uint_eq(d.throttle_pct, 0);
	/* The same rate in the second pass is throttled. */
	st.throttle_pct = 0;
	st.pass = 2;
	d = expect(&lim, &st, MIGR_ACT_SET_THROTTLE, ANY_REASON);
	ck_assert_uint_gt(d.throttle_pct, 50);

	/* The hot guest still converges within its budget, untouched during its full copy. */
	hot_guest(&s);
	run(&s, 600000);
	ck_assert(s.done);
	ck_assert_uint_eq(s.last.reason, MIGR_WHY_DOWNTIME_FITS);
	ck_assert_double_le(s.downtime_ms, MIGR_DOWNTIME_DEFAULT_MS);
	ck_assert_double_le(s.sent, 1.5 * s.ram_pages);
	ck_assert_uint_gt(s.throttle_sets, 0);
	ck_assert_uint_eq(s.pass1_control_ms, 0);
	ck_assert_double_lt(s.throttle_pct_ms / (double)s.t_ms, AVG_THROTTLE_HOT_MAX);
}
END_TEST

/* Calm within a pass, throttle settled: lowered there, not only at the next boundary. */
START_TEST(test_throttle_lowered_within_pass)
{
	struct sim s;
	uint32_t pass;

	hot_guest(&s);
	while (!s.done && !(s.pass >= 2 && s.throttle > 0))
		step(&s);
	ck_assert(!s.done);
	pass = s.pass;
	/* The guest stops writing: within the same pass the throttle goes. */
	s.write_pps[0] = s.write_pps[1] = 0;
	while (!s.done && s.pass == pass && s.throttle > 0)
		step(&s);
	ck_assert_uint_eq(s.pass, pass);
	ck_assert_uint_eq(s.throttle, 0);
}
END_TEST

/*
 * A hot set all dirty reads calm under the throttle: a guest that wrote
 * above the target free keeps its throttle within the pass, and has it
 * lowered at the boundary on what the whole pass dirtied.
 */
START_TEST(test_calm_hot_set_held_within_pass)
{
	struct migr_limits lim = { .max_throttle_pct = 99 };
	struct migr_stats st = { .pass = 3, .remaining_bytes = 1ull << 30, .bandwidth = 250000, .throttle_pct = 93,
				 .control_age_ms = MIGR_POLICY_SETTLE_MS, .elapsed_ms = 30000, .dirty_rate = 2 };
	uint64_t target = 250000 / MIGR_PAGE_SIZE * 33 / 100;
	struct migr_decision d;

	/* Free rate unknown: calm within the pass is taken at its word. */
	d = expect(&lim, &st, MIGR_ACT_SET_THROTTLE, ANY_REASON);
	ck_assert_uint_lt(d.throttle_pct, 93);
	/* It wrote 155 pages/s free, far above the target: held. */
	st.free_dirty_rate = 155;
	ck_assert_uint_gt(st.free_dirty_rate, target);
	d = expect(&lim, &st, MIGR_ACT_CONTINUE, MIGR_WHY_THROTTLE_HELD);
	/* At the boundary the pass's own rate decides: calm over a whole pass, lowered. */
	st.pass_done = 1;
	d = expect(&lim, &st, MIGR_ACT_SET_THROTTLE, ANY_REASON);
	ck_assert_uint_lt(d.throttle_pct, 93);
	/* A free rate under the target does not hold it either. */
	st.pass_done = 0;
	st.free_dirty_rate = target;
	d = expect(&lim, &st, MIGR_ACT_SET_THROTTLE, ANY_REASON);
}
END_TEST

/* Tiny per-vCPU rates (a working set all dirty) and rates near the threshold do not flip the tool. */
START_TEST(test_tool_choice_steady)
{
	/* 16 vCPUs under a 90% throttle, new-page rates of a nearly all-dirty working set. */
	static const uint64_t tiny[16] = { 75, 69, 76, 64, 57, 76, 75, 38, 55, 67, 72, 67, 63, 61, 69, 78 };
	uint64_t two[2], none[4] = { 0 };
	struct migr_limits lim = { .max_throttle_pct = 99 };
	struct migr_stats st = { .pass = 2, .remaining_bytes = 1ull << 36, .bandwidth = 125000000, .nvcpu = 16,
				 .vcpu_dirty_rate = tiny, .throttle_pct = 90, .control_age_ms = 5000 };
	struct migr_decision d;
	unsigned i;

	for (i = 0; i < 16; i++)
		st.dirty_rate += tiny[i];
	d = expect(&lim, &st, MIGR_ACT_SET_THROTTLE, ANY_REASON);
	/* A limit in force and no vCPU writing above the floor: the limit stays. */
	st.nvcpu = 4;
	st.vcpu_dirty_rate = none;
	st.dirty_rate = 0;
	st.throttle_pct = 0;
	st.dirty_limit = 10070;
	d = expect(&lim, &st, MIGR_ACT_CONTINUE, ANY_REASON);
	/* Near the threshold the tool in force stays: a limit with the lighter at 55% of the heavier... */
	st.nvcpu = 2;
	st.vcpu_dirty_rate = two;
	two[0] = 10000;
	two[1] = 5500;
	st.dirty_rate = two[0] + two[1];
	d = expect(&lim, &st, MIGR_ACT_CONTINUE, MIGR_WHY_THROTTLE_AT_MAX);
	/* ...and a VM-wide throttle with it at 40%... */
	st.dirty_limit = 0;
	st.throttle_pct = 50;
	two[1] = 4000;
	st.dirty_rate = two[0] + two[1];
	d = expect(&lim, &st, MIGR_ACT_SET_THROTTLE, ANY_REASON);
	ck_assert_uint_gt(d.throttle_pct, 50);
	/* ...but a clear lone writer still gets the limit. */
	two[1] = 2000;
	st.dirty_rate = two[0] + two[1];
	d = expect(&lim, &st, MIGR_ACT_SET_DIRTY_LIMIT, ANY_REASON);
}
END_TEST

/* A stop-and-wait burst of 16 connections, 4 MiB chunks, 10 Gb/s, 5 ms: what the pause really lasts. */
#define SAW_LINE 1.25e9
#define SAW_CONNS 16u
#define SAW_CHUNK (4 * MIB)
#define SAW_RTT_S 0.005
static double saw_pause_ms(double bytes)
{
	double share = SAW_LINE / SAW_CONNS, rounds = ceil(ceil(bytes / SAW_CHUNK) / SAW_CONNS);

	return ((rounds * SAW_CHUNK < bytes ? rounds * SAW_CHUNK : bytes) / share + rounds * SAW_RTT_S + SAW_RTT_S) *
	       1000;
}

START_TEST(test_switchover_margin)
{
	double share = SAW_LINE / SAW_CONNS, rate = SAW_CONNS * SAW_CHUNK / (SAW_CHUNK / share + SAW_RTT_S);
	struct migr_limits lim = { .max_throttle_pct = 99 };
	struct migr_stats st = { .pass = 2, .bandwidth = (uint64_t)rate, .rtt_us = (uint32_t)(SAW_RTT_S * 1e6),
				 .conns = SAW_CONNS, .wait_chunk_bytes = SAW_CHUNK };
	struct migr_decision d;
	uint64_t mib, switched = 0;

	/* 336.5 MB at 1.1435 GB/s is 294 ms of data, but 81 chunks take 6 rounds: 357 ms. */
	st.remaining_bytes = 336500000;
	migr_policy_decide(&lim, &st, &d);
	ck_assert_uint_ne(d.action, MIGR_ACT_SWITCHOVER);
	ck_assert_uint_ge(d.expected_downtime_ms, 350);
	/* Whatever remains: a switchover only when the pause fits, and the estimate is never short. */
	for (mib = 1; mib <= 512; mib++) {
		st.remaining_bytes = mib * MIB;
		migr_policy_decide(&lim, &st, &d);
		ck_assert_double_ge((double)d.expected_downtime_ms + 1, saw_pause_ms((double)st.remaining_bytes));
		if (d.action == MIGR_ACT_SWITCHOVER) {
			ck_assert_double_le(saw_pause_ms((double)st.remaining_bytes), MIGR_DOWNTIME_DEFAULT_MS);
			switched++;
		}
	}
	ck_assert_uint_gt(switched, 200);
	/* Pipelined, 5 ms: the last acknowledgement and the commit are two round trips. */
	st.wait_chunk_bytes = 0;
	st.bandwidth = 1000 * 1000 * 1000;
	st.remaining_bytes = 235 * 1000 * 1000;
	migr_policy_decide(&lim, &st, &d);
	ck_assert_uint_eq(d.expected_downtime_ms, 245);
	ck_assert_uint_eq(d.action, MIGR_ACT_CONTINUE);
	st.remaining_bytes = 230 * 1000 * 1000;
	d = expect(&lim, &st, MIGR_ACT_SWITCHOVER, ANY_REASON);
}
END_TEST

/* After a pause was called off for running past its estimate, the next must fit by as much. */
START_TEST(test_overrun_shrinks_target)
{
	struct migr_limits lim = { .downtime_ms = 300, .max_throttle_pct = 99 };
	struct migr_stats st = { .pass = 3, .bandwidth = 1000 * 1000, .remaining_bytes = 200 * 1000 };
	struct migr_decision d;

	/* 200 ms of pages: within 80% of 300 ms. */
	d = expect(&lim, &st, MIGR_ACT_SWITCHOVER, MIGR_WHY_DOWNTIME_FITS);
	ck_assert_uint_eq(d.expected_downtime_ms, 200);
	/* A pause ran twice its estimate: the same 200 ms no longer fits 240 / 2, 110 ms does. */
	st.pause_overrun_pct = 200;
	migr_policy_decide(&lim, &st, &d);
	ck_assert_uint_ne(d.action, MIGR_ACT_SWITCHOVER);
	ck_assert_uint_eq(d.expected_downtime_ms, 200);
	st.remaining_bytes = 110 * 1000;
	expect(&lim, &st, MIGR_ACT_SWITCHOVER, MIGR_WHY_DOWNTIME_FITS);
	st.remaining_bytes = 121 * 1000;
	migr_policy_decide(&lim, &st, &d);
	ck_assert_uint_ne(d.action, MIGR_ACT_SWITCHOVER);
	/* 100 or less: as estimated, nothing changes. */
	st.pause_overrun_pct = 100;
	st.remaining_bytes = 200 * 1000;
	expect(&lim, &st, MIGR_ACT_SWITCHOVER, MIGR_WHY_DOWNTIME_FITS);
}
END_TEST

/* Before the sender's one-second window fills: bytes sent / elapsed, once enough has gone. */
START_TEST(test_early_bandwidth)
{
	struct migr_limits lim = { .max_throttle_pct = 99 };
	struct migr_stats st = { .pass = 2, .pass_done = 1, .remaining_bytes = 100 * 1000 * 1000,
				 .elapsed_ms = 340, .sent_bytes = 4ull << 30 };
	struct migr_decision d;
	struct sim s;

	d = expect(&lim, &st, MIGR_ACT_SWITCHOVER, ANY_REASON);
	ck_assert_uint_eq(d.expected_downtime_ms, 100 * 1000 * 1000 / ((4ull << 30) * 1000 / 340) * 1000 +
						   100 * 1000 * 1000 % ((4ull << 30) * 1000 / 340) * 1000 /
							   ((4ull << 30) * 1000 / 340));
	/* Too little sent to tell: measuring. */
	st.sent_bytes = MIGR_POLICY_EARLY_BYTES - 1;
	migr_policy_decide(&lim, &st, &d);
	ck_assert_uint_eq(d.reason, MIGR_WHY_MEASURING);
	/* After the window, a zero is a measured zero: a stalled link is given up. */
	st.sent_bytes = 1ull << 30;
	st.elapsed_ms = 20000;
	st.stalled_ms = MIGR_POLICY_STALL_MS;
	migr_policy_decide(&lim, &st, &d);
	ck_assert_uint_eq(d.reason, MIGR_WHY_LINK_STALLED);

	/* Whole run: an idle 1 GiB guest on a 10 GiB/s link is copied in the first 250 ms and goes then. */
	sim_init(&s, 1024, 0, 10240, 2);
	s.window_ms = 1250;
	run(&s, 60000);
	ck_assert(s.done);
	ck_assert_uint_eq(s.last.reason, MIGR_WHY_DOWNTIME_FITS);
	ck_assert_double_eq_tol(s.sent, s.ram_pages, 1);
	ck_assert_uint_lt(s.t_ms, 1000);
}
END_TEST

/*
 * The pause pays for more than the last pages: one more harvest, what
 * the transport still holds unacknowledged crosses first, the vCPU and
 * device state after them, then two round trips. Remaining pages that fit alone do not
 * switch over when those do not fit with them.
 */
START_TEST(test_switchover_fixed_costs)
{
	struct migr_limits lim = { .max_throttle_pct = 99 };
	struct migr_stats st = { .pass = 3, .pass_done = 1, .bandwidth = 1000 * 1000, .remaining_bytes = 200000 };
	struct migr_decision d;

	migr_policy_decide(&lim, &st, &d);
	ck_assert_uint_eq(d.expected_downtime_ms, 200);
	ck_assert_uint_eq(d.action, MIGR_ACT_SWITCHOVER);
	/* 64 KiB in flight, 9 KiB of state, a 10 ms round trip: 200 + 65.5 + 9.2 + 20 ms. */
	st.queued_bytes = 65536;
	st.state_bytes = 9216;
	st.rtt_us = 10000;
	migr_policy_decide(&lim, &st, &d);
	ck_assert_uint_eq(d.expected_downtime_ms, (200000 + 65536 + 9216) / 1000 + 20);
	/* It would fit without what is on its way: new pages wait until that has crossed. */
	ck_assert_uint_eq(d.action, MIGR_ACT_DRAIN);
	ck_assert_uint_eq(d.reason, MIGR_WHY_DRAINING);
	/* Drained: the pause fits. */
	st.queued_bytes = 0;
	d = expect(&lim, &st, MIGR_ACT_SWITCHOVER, ANY_REASON);
	st.queued_bytes = 65536;
	/* Less left: the whole pause fits again. */
	st.remaining_bytes = 130000;
	migr_policy_decide(&lim, &st, &d);
	ck_assert_uint_le(d.expected_downtime_ms, MIGR_DOWNTIME_DEFAULT_MS * MIGR_POLICY_TARGET_PCT / 100);
	ck_assert_uint_eq(d.action, MIGR_ACT_SWITCHOVER);
	/* ...unless the harvest the pause makes does not fit with it: 40 ms more. */
	st.harvest_us = 40000;
	migr_policy_decide(&lim, &st, &d);
	ck_assert_uint_eq(d.expected_downtime_ms, (130000 + 65536 + 9216) / 1000 + 20 + 40);
	ck_assert_uint_eq(d.action, MIGR_ACT_DRAIN);
	/* Too much left even with nothing on its way: no drain, the copy goes on. */
	st.remaining_bytes = 230000;
	d = expect(&lim, &st, MIGR_ACT_CONTINUE, ANY_REASON);
	st.remaining_bytes = 130000;
	st.harvest_us = 0;
	/* Within a pass too: the limit is checked at every call, not only at a pass boundary. */
	st.pass_done = 0;
	st.remaining_bytes = 1ull << 30;
	lim.max_precopy_ms = 3000;
	st.elapsed_ms = 3000;
	d = expect(&lim, &st, MIGR_ACT_SWITCHOVER, MIGR_WHY_TIMEOUT_FORCE);
}
END_TEST

/*
 * A guest that sleeps between its writes dirties as fast under a throttle
 * as without one. Read as "the throttle took p% off", its rate grows with
 * every raise and the throttle climbs to the maximum (a guest writing 10
 * pages/s under a 24 pages/s cap was held at 90%). Its free rate bounds
 * the estimate: the throttle stays where the free rate puts it, and a
 * guest whose free rate is under the target is not throttled at all.
 */
START_TEST(test_sleeping_writer_not_ratcheted)
{
	struct migr_limits lim = { .max_throttle_pct = 99, .bandwidth_cap = 100000 };
	struct migr_stats st = { .pass = 2, .remaining_bytes = 4ull << 20, .bandwidth = 250000 };
	struct migr_decision d;
	uint64_t target = 100000 / MIGR_PAGE_SIZE * 33 / 100;
	uint32_t peak = 0, i;

	/* Ten settled ticks of a guest at 10 pages/s whatever the throttle. */
	st.dirty_rate = st.free_dirty_rate = 10;
	for (i = 0; i < 10; i++) {
		migr_policy_decide(&lim, &st, &d);
		if (d.action == MIGR_ACT_SET_THROTTLE) {
			st.throttle_pct = d.throttle_pct;
			peak = d.throttle_pct > peak ? d.throttle_pct : peak;
		}
		ck_assert_uint_ne(d.action, MIGR_ACT_SET_DIRTY_LIMIT);
		st.control_age_ms = MIGR_POLICY_SETTLE_MS;
	}
	ck_assert_uint_eq(peak, 100 - target * 100 / 10);
	ck_assert_uint_eq(st.throttle_pct, peak);
	/* Held at 90% (as before): brought back to what its free rate needs. */
	st.throttle_pct = 90;
	d = expect(&lim, &st, MIGR_ACT_SET_THROTTLE, ANY_REASON);
	ck_assert_uint_eq(d.throttle_pct, peak);
	/* Free rate under the target: released, though its rate under the throttle is not calm. */
	st.dirty_rate = st.free_dirty_rate = target - 1;
	ck_assert_uint_gt(st.dirty_rate * 4, target);
	d = expect(&lim, &st, MIGR_ACT_SET_THROTTLE, ANY_REASON);
	ck_assert_uint_eq(d.throttle_pct, 0);
	/* A guest that writes more than it did free was measured short: the throttle's reading counts. */
	st.dirty_rate = 50;
	st.free_dirty_rate = 10;
	d = expect(&lim, &st, MIGR_ACT_SET_THROTTLE, ANY_REASON);
	ck_assert_uint_eq(d.throttle_pct, 99);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("migr_policy");
	TCase *tc = tcase_create("policy");

	tcase_add_test(tc, test_single_decisions);
	tcase_add_test(tc, test_nothing_left_switches_over);
	tcase_add_test(tc, test_idle_one_pass);
	tcase_add_test(tc, test_hot_needs_throttle);
	tcase_add_test(tc, test_hot_converges_with_throttle);
	tcase_add_test(tc, test_single_writer_dirty_limit);
	tcase_add_test(tc, test_max_throttle_and_timeout);
	tcase_add_test(tc, test_bandwidth_cap);
	tcase_add_test(tc, test_pause_at_later_pass_rate);
	tcase_add_test(tc, test_first_pass_unthrottled);
	tcase_add_test(tc, test_throttle_lowered_within_pass);
	tcase_add_test(tc, test_calm_hot_set_held_within_pass);
	tcase_add_test(tc, test_tool_choice_steady);
	tcase_add_test(tc, test_switchover_margin);
	tcase_add_test(tc, test_overrun_shrinks_target);
	tcase_add_test(tc, test_early_bandwidth);
	tcase_add_test(tc, test_switchover_fixed_costs);
	tcase_add_test(tc, test_sleeping_writer_not_ratcheted);
	suite_add_tcase(s, tc);
	return check_run(s);
}
