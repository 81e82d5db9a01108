/* Unit tests for kernel/core/sched.c: round-robin policy driven by a fake clock. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include "kernel/core/sched.h"
#include "kernel/lib/err.h"
#include "tests/unit/check_run.h"

#define SLICE 1000

static struct sched s;
static struct sched_entity ents[SCHED_MAX_ENTITIES + 1];
static const char *const names[] = { "e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8",
				     "e9", "e10", "e11", "e12", "e13", "e14", "e15", "e16" };

static void add_n(unsigned n, enum sched_kind kind)
{
	unsigned i, base = s.count;

	for (i = 0; i < n; i++)
		ck_assert_int_eq(sched_add(&s, &ents[base + i], names[base + i], kind, NULL, &ents[base + i]), HV_OK);
}

static void setup(void) { sched_init(&s, SLICE); }

/* Expects the picks at time now to be exactly the entities listed (by index). */
static void ck_picks(uint64_t now, const int *order, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		struct sched_entity *e = sched_pick(&s, now);

		ck_assert_ptr_nonnull(e);
		ck_assert_str_eq(e->name, names[order[i]]);
		ck_assert_ptr_eq(e, &ents[order[i]]);
	}
}

START_TEST(test_init_and_add)
{
	int owner;

	ck_assert_uint_eq(s.slice, SLICE);
	ck_assert_uint_eq(s.count, 0);
	ck_assert_uint_eq(s.idle_ticks, 0);
	ents[0].runtime = 77; /* add resets the entity */
	ents[0].state = SCHED_STOPPED;
	ck_assert_int_eq(sched_add(&s, &ents[0], "vcpu0", SCHED_KIND_VCPU, NULL, &owner), HV_OK);
	ck_assert_uint_eq(s.count, 1);
	ck_assert_ptr_eq(s.entities[0], &ents[0]);
	ck_assert_str_eq(ents[0].name, "vcpu0");
	ck_assert_int_eq(ents[0].kind, SCHED_KIND_VCPU);
	ck_assert_ptr_eq(ents[0].owner, &owner);
	ck_assert_int_eq(ents[0].state, SCHED_RUNNABLE);
	ck_assert_uint_eq(ents[0].runtime, 0);
	ck_assert_uint_eq(ents[0].slices, 0);
}
END_TEST

START_TEST(test_pick_empty_is_null)
{
	ck_assert_ptr_null(sched_pick(&s, 0));
	ck_assert_uint_eq(sched_next_wake(&s), SCHED_NEVER);
}
END_TEST

START_TEST(test_round_robin_order)
{
	static const int order[] = { 0, 1, 2, 0, 1, 2, 0, 1, 2, 0 };

	add_n(3, SCHED_KIND_VCPU);
	ck_picks(0, order, 10);
	ck_assert_uint_eq(ents[0].slices, 4);
	ck_assert_uint_eq(ents[1].slices, 3);
	ck_assert_uint_eq(ents[2].slices, 3);
}
END_TEST

START_TEST(test_single_entity_picked_every_time)
{
	static const int order[] = { 0, 0, 0 };

	add_n(1, SCHED_KIND_TASK);
	ck_picks(5, order, 3);
	ck_assert_uint_eq(ents[0].slices, 3);
}
END_TEST

START_TEST(test_blocked_skipped_until_deadline)
{
	static const int without_1[] = { 0, 2, 0, 2, 0, 2 };
	static const int with_1[] = { 0, 1, 2, 0, 1, 2 };

	add_n(3, SCHED_KIND_VCPU);
	sched_block(&ents[1], 100);
	ck_assert_int_eq(ents[1].state, SCHED_BLOCKED);
	ck_assert_uint_eq(ents[1].wake_at, 100);
	ck_picks(0, without_1, 6);
	ck_picks(99, without_1, 6);
	ck_assert_int_eq(ents[1].state, SCHED_BLOCKED);
	ck_assert_uint_eq(ents[1].slices, 0);
	/* wake_at == now is due. */
	ck_picks(100, with_1, 6);
	ck_assert_int_eq(ents[1].state, SCHED_RUNNABLE);
	ck_assert_uint_eq(ents[1].slices, 2);
}
END_TEST

START_TEST(test_all_blocked_then_idle_until_next_wake)
{
	uint64_t now = 0, next;
	struct sched_entity *e;

	add_n(2, SCHED_KIND_VCPU);
	sched_block(&ents[0], 5000);
	sched_block(&ents[1], 3000);
	ck_assert_ptr_null(sched_pick(&s, now));
	next = sched_next_wake(&s);
	ck_assert_uint_eq(next, 3000);
	sched_charge_idle(&s, next - now);
	now = next;
	e = sched_pick(&s, now);
	ck_assert_ptr_eq(e, &ents[1]);
	ck_assert_uint_eq(sched_next_wake(&s), 5000);
	sched_block(e, SCHED_NEVER);
	ck_assert_ptr_null(sched_pick(&s, now));
	sched_charge_idle(&s, 5000 - now);
	ck_assert_ptr_eq(sched_pick(&s, 5000), &ents[0]);
	ck_assert_uint_eq(s.idle_ticks, 5000);
	/* Only the one waiting forever is left blocked. */
	ck_assert_uint_eq(sched_next_wake(&s), SCHED_NEVER);
}
END_TEST

/* A deferred entity lets every eligible one go first until its deadline, then takes its turn as any other. */
START_TEST(test_deferred_runs_only_when_nothing_else_can)
{
	static const int others[] = { 0, 1, 0, 1 };
	static const int all[] = { 1, 2, 0, 1, 2, 0 };

	add_n(2, SCHED_KIND_VCPU);
	add_n(1, SCHED_KIND_TASK);
	sched_defer(&ents[2], 500);
	ck_assert_int_eq(ents[2].state, SCHED_DEFERRED);
	ck_picks(0, others, 4);
	ck_assert_uint_eq(ents[2].slices, 0);
	/* Both vCPUs blocked: the CPU is not left idle while the deferred task has work. */
	sched_block(&ents[0], 400);
	sched_block(&ents[1], 450);
	ck_assert_ptr_eq(sched_pick(&s, 100), &ents[2]);
	ck_assert_int_eq(ents[2].state, SCHED_DEFERRED);
	ck_assert_ptr_eq(sched_pick(&s, 200), &ents[2]);
	/* A vCPU that wakes goes first again. */
	ck_assert_ptr_eq(sched_pick(&s, 400), &ents[0]);
	ck_assert_ptr_eq(sched_pick(&s, 420), &ents[0]);
	/* At its deadline the task is runnable: round-robin with the others. */
	ck_picks(500, all, 6);
	ck_assert_int_eq(ents[2].state, SCHED_RUNNABLE);
	/* Woken early, it is runnable at once. */
	sched_defer(&ents[2], 10000);
	sched_wake(&ents[2]);
	ck_assert_int_eq(ents[2].state, SCHED_RUNNABLE);
	/* Stopped stays stopped. */
	sched_stop(&ents[2]);
	sched_defer(&ents[2], 10000);
	ck_assert_int_eq(ents[2].state, SCHED_STOPPED);
}
END_TEST

START_TEST(test_next_wake_is_earliest_blocked)
{
	add_n(4, SCHED_KIND_VCPU);
	ck_assert_uint_eq(sched_next_wake(&s), SCHED_NEVER);
	sched_block(&ents[0], 300);
	sched_block(&ents[1], 200);
	sched_block(&ents[2], SCHED_NEVER);
	ck_assert_uint_eq(sched_next_wake(&s), 200);
	/* Runnable and stopped entities do not count, whatever their old wake_at. */
	ents[3].wake_at = 1;
	ck_assert_uint_eq(sched_next_wake(&s), 200);
	sched_stop(&ents[1]);
	ck_assert_uint_eq(sched_next_wake(&s), 300);
	ck_assert_ptr_eq(sched_pick(&s, 300), &ents[0]);
	ck_assert_uint_eq(sched_next_wake(&s), SCHED_NEVER);
}
END_TEST

START_TEST(test_wake_makes_runnable)
{
	static const int order[] = { 1, 0, 1, 0 }; /* the cursor is past 0 */
	unsigned i;

	add_n(2, SCHED_KIND_VCPU);
	sched_block(&ents[1], SCHED_NEVER);
	for (i = 0; i < 10; i++)
		ck_assert_ptr_eq(sched_pick(&s, UINT64_MAX - 1), &ents[0]);
	sched_wake(&ents[1]);
	ck_assert_int_eq(ents[1].state, SCHED_RUNNABLE);
	ck_picks(0, order, 4);
	/* Waking a runnable entity changes nothing. */
	sched_wake(&ents[0]);
	ck_assert_int_eq(ents[0].state, SCHED_RUNNABLE);
}
END_TEST

START_TEST(test_stopped_never_picked)
{
	static const int order[] = { 0, 2, 0, 2 };
	unsigned i;

	add_n(3, SCHED_KIND_VCPU);
	sched_stop(&ents[1]);
	ck_assert_int_eq(ents[1].state, SCHED_STOPPED);
	ck_picks(0, order, 4);
	/* Neither blocking nor waking brings it back. */
	sched_block(&ents[1], 10);
	ck_assert_int_eq(ents[1].state, SCHED_STOPPED);
	sched_wake(&ents[1]);
	ck_assert_int_eq(ents[1].state, SCHED_STOPPED);
	for (i = 0; i < 100; i++)
		ck_assert_ptr_ne(sched_pick(&s, 1000 + i), &ents[1]);
	ck_assert_uint_eq(ents[1].slices, 0);
	/* A blocked entity can be stopped too. */
	sched_block(&ents[2], 50);
	sched_stop(&ents[2]);
	sched_stop(&ents[0]);
	ck_assert_ptr_null(sched_pick(&s, UINT64_MAX));
}
END_TEST

START_TEST(test_any_alive_by_kind)
{
	ck_assert(!sched_any_alive(&s, SCHED_KIND_VCPU));
	ck_assert(!sched_any_alive(&s, SCHED_KIND_TASK));
	add_n(2, SCHED_KIND_VCPU);
	add_n(1, SCHED_KIND_TASK);
	ck_assert(sched_any_alive(&s, SCHED_KIND_VCPU));
	ck_assert(sched_any_alive(&s, SCHED_KIND_TASK));
	sched_stop(&ents[0]);
	sched_block(&ents[1], SCHED_NEVER); /* blocked is still alive */
	ck_assert(sched_any_alive(&s, SCHED_KIND_VCPU));
	sched_stop(&ents[1]);
	ck_assert(!sched_any_alive(&s, SCHED_KIND_VCPU));
	ck_assert(sched_any_alive(&s, SCHED_KIND_TASK));
	sched_stop(&ents[2]);
	ck_assert(!sched_any_alive(&s, SCHED_KIND_TASK));
}
END_TEST

START_TEST(test_charge_accumulates)
{
	add_n(2, SCHED_KIND_VCPU);
	sched_charge(&ents[0], 10);
	sched_charge(&ents[0], 32);
	sched_charge(&ents[1], 5);
	sched_charge(&ents[0], 0);
	ck_assert_uint_eq(ents[0].runtime, 42);
	ck_assert_uint_eq(ents[1].runtime, 5);
	sched_charge_idle(&s, 7);
	sched_charge_idle(&s, 8);
	ck_assert_uint_eq(s.idle_ticks, 15);
	/* Charging does not count as a slice; picking does. */
	ck_assert_uint_eq(ents[0].slices, 0);
	ck_assert_ptr_eq(sched_pick(&s, 0), &ents[0]);
	ck_assert_uint_eq(ents[0].slices, 1);
	ck_assert_uint_eq(ents[0].runtime, 42);
}
END_TEST

START_TEST(test_max_entities)
{
	struct sched_entity *seen[SCHED_MAX_ENTITIES];
	unsigned i, j;

	add_n(SCHED_MAX_ENTITIES, SCHED_KIND_TASK);
	ck_assert_int_eq(sched_add(&s, &ents[SCHED_MAX_ENTITIES], "extra", SCHED_KIND_TASK, NULL, NULL), HV_ENOMEM);
	ck_assert_uint_eq(s.count, SCHED_MAX_ENTITIES);
	/* One full round visits each of the 16 exactly once, the extra never. */
	for (i = 0; i < SCHED_MAX_ENTITIES; i++) {
		seen[i] = sched_pick(&s, 0);
		ck_assert_ptr_ne(seen[i], &ents[SCHED_MAX_ENTITIES]);
		for (j = 0; j < i; j++)
			ck_assert_ptr_ne(seen[i], seen[j]);
	}
	ck_assert_ptr_eq(sched_pick(&s, 0), seen[0]);
}
END_TEST

/* N entities, each charged a slice per pick: equal picks and equal runtime. */
static void run_fairness(unsigned n, unsigned picks)
{
	uint64_t now = 0;
	unsigned i;

	add_n(n, SCHED_KIND_VCPU);
	for (i = 0; i < picks; i++) {
		struct sched_entity *e = sched_pick(&s, now);

		ck_assert_ptr_nonnull(e);
		sched_charge(e, s.slice);
		now += s.slice;
	}
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(ents[i].slices, picks / n);
		ck_assert_uint_eq(ents[i].runtime, (uint64_t)(picks / n) * SLICE);
	}
	ck_assert_uint_eq(s.idle_ticks, 0);
}

START_TEST(test_fairness_8_entities_1000_picks) { run_fairness(8, 1000); }
END_TEST

START_TEST(test_fairness_5_entities_1000_picks) { run_fairness(5, 1000); }
END_TEST

START_TEST(test_fairness_with_periodic_blocking)
{
	uint64_t now = 0;
	unsigned i;

	/* Entity 0 sleeps a short while after each of its slices; the rest stay fair. */
	add_n(4, SCHED_KIND_VCPU);
	for (i = 0; i < 1000; i++) {
		struct sched_entity *e = sched_pick(&s, now);

		ck_assert_ptr_nonnull(e);
		sched_charge(e, SLICE);
		if (e == &ents[0])
			sched_block(e, now + 5 * SLICE);
		now += SLICE;
	}
	/* The always-runnable ones differ by at most the last, partial round. */
	for (i = 2; i < 4; i++) {
		uint64_t a = ents[1].runtime, b = ents[i].runtime;

		ck_assert_uint_le(a > b ? a - b : b - a, SLICE);
		ck_assert_uint_lt(ents[0].runtime, b);
	}
	ck_assert_uint_gt(ents[0].slices, 0);
	ck_assert_uint_eq(ents[0].slices + ents[1].slices + ents[2].slices + ents[3].slices, 1000);
}
END_TEST

/*
 * Throttle tests: a small simulator with a fake clock. Each step picks an
 * entity, runs it for min(grant, what it wants) plus a fixed overhead (VM
 * entry and exit), charges it all, and idles to sched_next_wake() when
 * nothing is eligible.
 */
#define OVERHEAD 37
#define NPERIODS 1000
#define P20000 20000ull
#define P20011 20011ull /* not divisible by 100 * 3: rounding remainders matter */

static uint64_t sim_now;
static uint64_t sim_want[SCHED_MAX_ENTITIES + 1]; /* ticks wanted per run; 0 = more than any grant */

static void throttle_setup(void)
{
	unsigned i;

	sched_init(&s, SLICE);
	sim_now = 0;
	for (i = 0; i <= SCHED_MAX_ENTITIES; i++)
		sim_want[i] = 0;
}

static uint64_t absdiff(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

/* Runs the simulation until the clock reaches until (a run may end past it). */
static void sim_run(uint64_t until, uint64_t overhead)
{
	while (sim_now < until) {
		struct sched_entity *e = sched_pick(&s, sim_now);
		uint64_t grant, want, run;

		if (!e) {
			uint64_t next = sched_next_wake(&s);

			ck_assert_uint_gt(next, sim_now);
			if (next > until)
				next = until;
			sched_charge_idle(&s, next - sim_now);
			sim_now = next;
			continue;
		}
		ck_assert(e->state == SCHED_RUNNABLE || e->state == SCHED_DEFERRED);
		grant = sched_grant(&s, e);
		ck_assert_uint_gt(grant, 0);
		ck_assert_uint_le(grant, s.slice);
		if (e->budgeted) {
			ck_assert_int_gt(e->budget, 0);
			ck_assert_uint_le(grant, (uint64_t)e->budget);
		}
		want = sim_want[e - ents];
		run = (want && want < grant ? want : grant) + overhead;
		sched_charge(e, run);
		sim_now += run;
	}
}

/* n vCPUs, period set at time 0, each budgeted at pct[i] from time 0. */
static void throttle_vcpus(unsigned n, uint64_t period, const unsigned *pct)
{
	unsigned i;

	add_n(n, SCHED_KIND_VCPU);
	sched_set_period(&s, period, 0);
	for (i = 0; i < n; i++)
		sched_set_throttle(&s, &ents[i], true, pct[i], 0);
}

static const unsigned share_pcts[] = { 1, 10, 33, 50, 90, 95, 99 };
#define N_SHARE_PCTS (sizeof(share_pcts) / sizeof(share_pcts[0]))

START_TEST(test_throttle_default_period_and_set)
{
	ck_assert_uint_eq(s.period, 10 * SLICE);
	ck_assert_uint_eq(s.period_start, 0);
	sched_set_period(&s, P20011, 1234);
	ck_assert_uint_eq(s.period, P20011);
	ck_assert_uint_eq(s.period_start, 1234);
	/* Budgets follow the period: a fresh entity at 50% gets half of what is left of it. */
	add_n(1, SCHED_KIND_VCPU);
	sched_set_throttle(&s, &ents[0], true, 50, 1234 + 11);
	ck_assert(ents[0].budgeted);
	ck_assert_uint_eq(ents[0].throttle, 50);
	ck_assert_int_eq(ents[0].budget, (int64_t)(P20011 - 11) / 2);
	/* Above the maximum clamps. */
	sched_set_throttle(&s, &ents[0], true, 150, 1234 + 12);
	ck_assert_uint_eq(ents[0].throttle, SCHED_THROTTLE_MAX);
}
END_TEST

/* One vCPU at p%: over 1000 periods exactly (100 - p)% of the time. */
START_TEST(test_throttle_exact_share_1_vcpu)
{
	unsigned p = share_pcts[_i];
	uint64_t expect = NPERIODS * P20000 * (100 - p) / 100;

	throttle_vcpus(1, P20000, &p);
	sim_run(NPERIODS * P20000, 0);
	ck_assert_uint_eq(sim_now, NPERIODS * P20000);
	ck_assert_uint_eq(ents[0].runtime, expect);
	ck_assert_int_eq(ents[0].budget, 0);
	ck_assert_uint_eq(s.idle_ticks, NPERIODS * P20000 - expect);
}
END_TEST

/* Three vCPUs at p% with a period that leaves remainders: still exact to a tick. */
START_TEST(test_throttle_exact_share_3_vcpus_remainders)
{
	unsigned p = share_pcts[_i], pct[3] = { p, p, p }, i;
	uint64_t scaled = NPERIODS * P20011 * (100 - p); /* expected runtime, times 300 */
	uint64_t total = 0;

	throttle_vcpus(3, P20011, pct);
	sim_run(NPERIODS * P20011, 0);
	for (i = 0; i < 3; i++) {
		ck_assert_uint_le(absdiff(ents[i].runtime * 300, scaled), 299);
		ck_assert_uint_eq(ents[i].runtime, scaled / 300); /* carried remainders: floor of the exact total */
		total += ents[i].runtime;
	}
	ck_assert_uint_eq(total + s.idle_ticks, NPERIODS * P20011);
}
END_TEST

START_TEST(test_throttle_exact_share_mixed_throttles)
{
	static const unsigned pct[3] = { 1, 33, 90 };
	unsigned i;

	throttle_vcpus(3, P20011, pct);
	sim_run(NPERIODS * P20011, 0);
	for (i = 0; i < 3; i++)
		ck_assert_uint_eq(ents[i].runtime, NPERIODS * P20011 * (100 - pct[i]) / 300);
}
END_TEST

/* Every run overshoots by the overhead; the overrun is paid back out of the next budget. */
static void run_overrun(unsigned n, uint64_t period, unsigned p, uint64_t overhead)
{
	unsigned pct[3] = { p, p, p }, i;
	uint64_t expect = NPERIODS * period * (100 - p) / (100 * n);

	throttle_vcpus(n, period, pct);
	sim_run(NPERIODS * period, overhead);
	for (i = 0; i < n; i++) {
		/* The books balance exactly: runtime plus what is left (a debt) is what was granted. */
		ck_assert_int_le(ents[i].budget, 0);
		ck_assert_uint_eq((uint64_t)((int64_t)ents[i].runtime + ents[i].budget), expect);
		/* Only the last period's overrun is still outstanding. */
		ck_assert_uint_ge(ents[i].runtime, expect);
		ck_assert_uint_le(ents[i].runtime - expect, overhead);
	}
}

START_TEST(test_throttle_overrun_paid_back_1_vcpu) { run_overrun(1, P20000, 50, OVERHEAD); }
END_TEST

START_TEST(test_throttle_overrun_paid_back_3_vcpus) { run_overrun(3, P20011, share_pcts[_i], OVERHEAD); }
END_TEST

START_TEST(test_throttle_overrun_paid_back_big_overhead)
{
	/* 250 ticks per run: unpaid, each would take 6250 a period instead of 6003. */
	run_overrun(3, P20011, 10, 250);
}
END_TEST

/* Blocked for several periods, an entity comes back to one period's budget, not a burst. */
START_TEST(test_throttle_unused_budget_not_carried)
{
	unsigned p = 50;
	uint64_t half = P20000 / 2, r;

	throttle_vcpus(1, P20000, &p);
	sim_run(3 * P20000, 0);
	ck_assert_uint_eq(ents[0].runtime, 3 * half);
	/* Blocked from 3P until the middle of period 8. */
	sched_block(&ents[0], 8 * P20000 + P20000 / 2);
	r = ents[0].runtime;
	sim_run(8 * P20000 + P20000 / 2, 0);
	ck_assert_uint_eq(ents[0].runtime, r);
	ck_assert_uint_eq(sim_now, 8 * P20000 + P20000 / 2);
	/* Rest of period 8: at most one period's budget (it is all still there: it was asleep). */
	sim_run(9 * P20000, 0);
	ck_assert_uint_le(ents[0].runtime - r, half);
	ck_assert_uint_eq(ents[0].runtime - r, half);
	/* Period 9: one period's budget again. */
	r = ents[0].runtime;
	sim_run(10 * P20000, 0);
	ck_assert_uint_eq(ents[0].runtime - r, half);
	ck_assert_uint_eq(s.idle_ticks + ents[0].runtime, 10 * P20000);
}
END_TEST

/* A vCPU that halts often leaves budget unused; the next period does not get it. */
START_TEST(test_throttle_unused_budget_not_carried_partial_use)
{
	unsigned p = 20;
	uint64_t r;

	throttle_vcpus(1, P20000, &p);
	sched_set_throttle(&s, &ents[0], true, p, 0);
	/* Period 0: uses 3000 of its 16000, then sleeps to the end of period 1. */
	sim_want[0] = 1000;
	sim_run(3000, 0);
	ck_assert_uint_eq(ents[0].runtime, 3000);
	ck_assert_int_eq(ents[0].budget, 16000 - 3000);
	sched_block(&ents[0], 2 * P20000);
	sim_run(2 * P20000, 0);
	r = ents[0].runtime;
	sim_run(3 * P20000, 0);
	ck_assert_uint_eq(ents[0].runtime - r, 16000);
	ck_assert_int_eq(ents[0].budget, 0);
}
END_TEST

/* At 0% a budgeted vCPU gets its fair share, period / vcpus, and nothing more. */
START_TEST(test_throttle_zero_pct_full_fair_share)
{
	static const unsigned pct[3] = { 0, 0, 0 };
	uint64_t total = 0;
	unsigned i;

	throttle_vcpus(3, P20011, pct);
	sim_run(NPERIODS * P20011, 0);
	for (i = 0; i < 3; i++) {
		ck_assert_uint_le(absdiff(ents[i].runtime * 3, NPERIODS * P20011), 2);
		total += ents[i].runtime;
	}
	ck_assert_uint_le(s.idle_ticks, 3);
	ck_assert_uint_le(absdiff(total, NPERIODS * P20011), 3);
}
END_TEST

START_TEST(test_throttle_zero_pct_no_more_than_share)
{
	static const unsigned pct[3] = { 0, 0, 0 };

	/* The other two are blocked (still alive): e0 may not take their time. */
	throttle_vcpus(3, P20011, pct);
	sched_block(&ents[1], SCHED_NEVER);
	sched_block(&ents[2], SCHED_NEVER);
	sim_run(NPERIODS * P20011, 0);
	ck_assert_uint_eq(ents[0].runtime, NPERIODS * P20011 / 3);
	ck_assert_uint_eq(s.idle_ticks, NPERIODS * P20011 - ents[0].runtime);
	ck_assert_uint_eq(ents[1].runtime + ents[2].runtime, 0);
	/* Unbudgeted, it would take it all. */
	sched_set_throttle(&s, &ents[0], false, 0, sim_now);
	sim_run((NPERIODS + 10) * P20011, 0);
	ck_assert_uint_le(ents[0].runtime - (NPERIODS * P20011 / 3 + 10 * P20011), SLICE); /* the last run may overshoot */
	ck_assert_uint_eq(s.idle_ticks, NPERIODS * P20011 - NPERIODS * P20011 / 3);
}
END_TEST

/* A new throttle applies from the next period: the whole of that period runs at it. */
START_TEST(test_throttle_change_within_one_period)
{
	unsigned p = 20;
	uint64_t r;

	throttle_vcpus(1, P20000, &p);
	sim_run(5 * P20000 + 3000, OVERHEAD);
	sched_set_throttle(&s, &ents[0], true, 70, sim_now);
	ck_assert_uint_eq(ents[0].throttle, 70);
	sim_run(6 * P20000, OVERHEAD);
	r = ents[0].runtime;
	sim_run(7 * P20000, OVERHEAD);
	/* The period after the change: 30% of it (give or take one overrun). */
	ck_assert_uint_le(absdiff(ents[0].runtime - r, 6000), OVERHEAD);
	/* And back down: from the next period, 100%... limited to 99% at most. */
	sched_set_throttle(&s, &ents[0], true, 0, sim_now);
	sim_run(8 * P20000, OVERHEAD);
	r = ents[0].runtime;
	sim_run(9 * P20000, OVERHEAD);
	ck_assert_uint_le(absdiff(ents[0].runtime - r, P20000), OVERHEAD);
}
END_TEST

START_TEST(test_throttle_change_exact_without_overhead)
{
	unsigned p = 10;
	uint64_t r;

	throttle_vcpus(1, P20000, &p);
	sim_run(2 * P20000 + 100, 0);
	sched_set_throttle(&s, &ents[0], true, 95, sim_now);
	/* The current period keeps its old budget. */
	sim_run(3 * P20000, 0);
	ck_assert_uint_eq(ents[0].runtime, 3 * 18000);
	r = ents[0].runtime;
	sim_run(4 * P20000, 0);
	ck_assert_uint_eq(ents[0].runtime - r, 1000);
}
END_TEST

/* Release lifts the limit at once: out of budget, it is eligible again at the same now. */
START_TEST(test_throttle_release_immediately_eligible)
{
	unsigned p = 50;
	struct sched_entity *e;
	uint64_t now;

	throttle_vcpus(1, P20000, &p);
	sim_run(3 * P20000 + 1, 0);
	/* Its budget for period 3 (10000) is used up by 3P + 10000. */
	sim_run(3 * P20000 + 10000, 0);
	now = sim_now;
	ck_assert_uint_eq(now, 3 * P20000 + 10000);
	ck_assert_int_eq(ents[0].budget, 0);
	ck_assert_ptr_null(sched_pick(&s, now));
	ck_assert_uint_eq(sched_next_wake(&s), 4 * P20000);
	sched_set_throttle(&s, &ents[0], false, 0, now);
	ck_assert(!ents[0].budgeted);
	ck_assert_uint_eq(ents[0].throttle, 0);
	e = sched_pick(&s, now);
	ck_assert_ptr_eq(e, &ents[0]);
	ck_assert_uint_eq(sched_next_wake(&s), SCHED_NEVER);
	ck_assert_uint_eq(sched_grant(&s, e), SLICE);
	/* Unbudgeted, charges leave the budget alone. */
	sched_charge(e, 5000);
	ck_assert_int_eq(e->budget, 0);
	ck_assert_ptr_eq(sched_pick(&s, now + 5000), &ents[0]);
}
END_TEST

/* Release while in debt (an overrun): still eligible at once, the debt forgiven. */
START_TEST(test_throttle_release_in_debt)
{
	unsigned p = 90;

	throttle_vcpus(1, P20000, &p);
	sim_run(P20000 / 2, 500);
	ck_assert_int_lt(ents[0].budget, 0);
	ck_assert_ptr_null(sched_pick(&s, sim_now));
	sched_set_throttle(&s, &ents[0], false, 0, sim_now);
	ck_assert_ptr_eq(sched_pick(&s, sim_now), &ents[0]);
	/* Budgeted again at 50% mid-period: half of what is left of this period. */
	sched_set_throttle(&s, &ents[0], true, 50, sim_now);
	ck_assert_int_eq(ents[0].budget, (int64_t)(P20000 - sim_now) / 2);
}
END_TEST

START_TEST(test_throttle_grant)
{
	add_n(2, SCHED_KIND_VCPU);
	sched_set_period(&s, P20000, 0);
	/* Unbudgeted: a slice, whatever the budget field holds. */
	ck_assert_uint_eq(sched_grant(&s, &ents[0]), SLICE);
	ents[0].budget = 5;
	ck_assert_uint_eq(sched_grant(&s, &ents[0]), SLICE);
	/* Budgeted: min(slice, budget). */
	sched_set_throttle(&s, &ents[1], true, 0, 0);
	ck_assert_int_eq(ents[1].budget, (int64_t)P20000 / 2);
	ck_assert_uint_eq(sched_grant(&s, &ents[1]), SLICE);
	sched_charge(&ents[1], P20000 / 2 - SLICE);
	ck_assert_int_eq(ents[1].budget, SLICE);
	ck_assert_uint_eq(sched_grant(&s, &ents[1]), SLICE);
	sched_charge(&ents[1], 1);
	ck_assert_uint_eq(sched_grant(&s, &ents[1]), SLICE - 1);
	sched_charge(&ents[1], SLICE - 2 - 300);
	ck_assert_uint_eq(sched_grant(&s, &ents[1]), 301);
	sched_charge(&ents[1], 300);
	ck_assert_uint_eq(sched_grant(&s, &ents[1]), 1);
	/* Out of budget: not picked (e0 is), and the next period refills it. */
	sched_charge(&ents[1], 1);
	ck_assert_int_eq(ents[1].budget, 0);
	ck_assert_ptr_eq(sched_pick(&s, 100), &ents[0]);
	ck_assert_ptr_eq(sched_pick(&s, 100), &ents[0]);
	ck_assert_ptr_eq(sched_pick(&s, P20000), &ents[1]);
	ck_assert_uint_eq(sched_grant(&s, &ents[1]), SLICE);
}
END_TEST

/* throttled: the fair share withheld, about p% of it. */
START_TEST(test_throttle_withheld_accumulates)
{
	unsigned p = 30;

	throttle_vcpus(1, P20000, &p);
	sim_run(NPERIODS * P20000, OVERHEAD);
	ck_assert_uint_eq(ents[0].throttled, NPERIODS * P20000 * 30 / 100);
}
END_TEST

START_TEST(test_throttle_withheld_accumulates_3_vcpus)
{
	unsigned p = share_pcts[_i], pct[3] = { p, p, p }, i;
	uint64_t exact300 = NPERIODS * P20011 * p; /* withheld, times 300 */

	throttle_vcpus(3, P20011, pct);
	sim_run(NPERIODS * P20011, OVERHEAD);
	for (i = 0; i < 3; i++) {
		/* Within a tick per period of p% of the fair share. */
		ck_assert_uint_le(absdiff(ents[i].throttled * 300, exact300), NPERIODS * 300);
		/* And the withheld time plus the runtime is the whole share, to a tick per period and one overrun. */
		ck_assert_uint_le(absdiff((ents[i].throttled + ents[i].runtime) * 3, NPERIODS * P20011),
				  3 * (NPERIODS + OVERHEAD));
	}
}
END_TEST

START_TEST(test_throttle_withheld_zero_when_unthrottled)
{
	static const unsigned pct[2] = { 0, 0 };

	throttle_vcpus(2, P20000, pct);
	add_n(1, SCHED_KIND_VCPU); /* not budgeted */
	sim_run(100 * P20000, OVERHEAD);
	ck_assert_uint_eq(ents[0].throttled, 0);
	ck_assert_uint_eq(ents[1].throttled, 0);
	ck_assert_uint_eq(ents[2].throttled, 0);
}
END_TEST

/* A host task is never budgeted: it runs while the vCPUs wait for budget and takes the rest. */
START_TEST(test_throttle_task_runs_while_vcpus_out_of_budget)
{
	static const unsigned pct[2] = { 50, 50 };
	uint64_t vcpu_expect = NPERIODS * P20000 / 4;

	throttle_vcpus(2, P20000, pct);
	add_n(1, SCHED_KIND_TASK);
	ck_assert(!ents[2].budgeted);
	sim_run(NPERIODS * P20000, OVERHEAD);
	ck_assert_uint_le(ents[0].runtime - vcpu_expect, OVERHEAD);
	ck_assert_uint_le(ents[1].runtime - vcpu_expect, OVERHEAD);
	ck_assert_uint_eq(s.idle_ticks, 0);
	/* The task ran the other half (what the last run overshot the end aside). */
	ck_assert_uint_le(absdiff(ents[2].runtime, NPERIODS * P20000 / 2), SLICE + 3 * OVERHEAD);
	ck_assert_uint_eq(ents[2].throttled, 0);
	/* The task counts for nobody's share: at 0%, each vCPU's budget is half the period. */
	sched_set_throttle(&s, &ents[0], true, 0, sim_now);
	sched_set_throttle(&s, &ents[1], true, 0, sim_now);
	sim_run((NPERIODS + 2) * P20000, OVERHEAD);
	ck_assert_ptr_nonnull(sched_pick(&s, (NPERIODS + 3) * P20000));
	ck_assert_int_eq(ents[0].budget, (int64_t)P20000 / 2);
	ck_assert_int_eq(ents[1].budget, (int64_t)P20000 / 2);
}
END_TEST

/* Nothing eligible but the deferred task: no idle time, and the next wake is its deadline at the latest. */
START_TEST(test_deferred_takes_throttled_time)
{
	unsigned p = 90;

	throttle_vcpus(1, P20000, &p);
	add_n(1, SCHED_KIND_TASK);
	sched_defer(&ents[1], SCHED_NEVER - 1);
	ck_assert_uint_eq(sched_next_wake(&s), SCHED_NEVER - 1);
	sim_run(10 * P20000, 0);
	ck_assert_uint_eq(ents[0].runtime, 10 * 2000);
	ck_assert_uint_eq(s.idle_ticks, 0);
	ck_assert_uint_eq(ents[1].runtime, 10 * P20000 - 10 * 2000);
}
END_TEST

/* The task also runs when it is the only thing runnable. */
START_TEST(test_throttle_task_alone_with_throttled_vcpu)
{
	unsigned p = 99;

	throttle_vcpus(1, P20000, &p);
	add_n(1, SCHED_KIND_TASK);
	sim_run(10 * P20000, 0);
	ck_assert_uint_eq(ents[0].runtime, 10 * 200);
	ck_assert_uint_eq(ents[1].runtime, 10 * P20000 - 10 * 200);
	ck_assert_uint_eq(s.idle_ticks, 0);
}
END_TEST

/* A release caps the next grants to share one slice and stamps, at each entity's pick, how long it waited. */
START_TEST(test_release_shares_slice_and_stamps_wait_at_pick)
{
	struct sched_entity *rel[2] = { &ents[0], &ents[1] };

	add_n(3, SCHED_KIND_VCPU);
	sched_share_next_slice(&s, rel, 2, 1000);
	ck_assert(ents[0].release_pending && ents[1].release_pending && !ents[2].release_pending);
	ck_assert_uint_eq(sched_grant(&s, &ents[0]), SLICE / 2);
	ck_assert_uint_eq(sched_grant(&s, &ents[2]), SLICE);
	ck_assert_ptr_eq(sched_pick(&s, 1250), &ents[0]);
	ck_assert(!ents[0].release_pending);
	ck_assert_uint_eq(ents[0].release_wait, 250);
	sched_charge(&ents[0], SLICE / 2);
	ck_assert_uint_eq(sched_grant(&s, &ents[0]), SLICE); /* the cap was for one grant only */
	ck_assert_ptr_eq(sched_pick(&s, 1900), &ents[1]);
	ck_assert_uint_eq(ents[1].release_wait, 900);
	ck_assert_ptr_eq(sched_pick(&s, 2000), &ents[2]);
	ck_assert_uint_eq(ents[2].release_wait, 0);
	/* Picked again: the first pick's stamp stays. */
	ck_assert_ptr_eq(sched_pick(&s, 5000), &ents[0]);
	ck_assert_uint_eq(ents[0].release_wait, 250);
}
END_TEST

static void run_nothing(struct sched_entity *e, uint64_t now, uint64_t deadline)
{
	(void)e;
	(void)now;
	(void)deadline;
}

START_TEST(test_add_keeps_run_operation)
{
	ck_assert_int_eq(sched_add(&s, &ents[0], "t", SCHED_KIND_TASK, run_nothing, NULL), HV_OK);
	ck_assert_ptr_eq((void *)ents[0].run, (void *)run_nothing);
}
END_TEST

/* A removed entity is never picked again; the others keep their round-robin order. */
START_TEST(test_remove_keeps_order)
{
	static const int before[] = { 0, 1 }, after[] = { 2, 3, 0, 2 };

	add_n(4, SCHED_KIND_VCPU);
	ck_picks(0, before, 2);
	ck_assert(sched_remove(&s, &ents[1]));
	ck_assert(!sched_remove(&s, &ents[1]));
	ck_assert_uint_eq(s.count, 3);
	ck_picks(0, after, 4); /* the cursor stayed on e2 */
	ck_assert(sched_remove(&s, &ents[3]));
	ck_assert(sched_remove(&s, &ents[0]));
	ck_assert(sched_remove(&s, &ents[2]));
	ck_assert_ptr_null(sched_pick(&s, 0));
	add_n(1, SCHED_KIND_TASK);
	ck_assert_ptr_eq(sched_pick(&s, 0), &ents[0]);
}
END_TEST

static Suite *sched_suite(void)
{
	Suite *su = suite_create("sched");
	TCase *tc = tcase_create("sched");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_init_and_add);
	tcase_add_test(tc, test_remove_keeps_order);
	tcase_add_test(tc, test_pick_empty_is_null);
	tcase_add_test(tc, test_deferred_runs_only_when_nothing_else_can);
	tcase_add_test(tc, test_deferred_takes_throttled_time);
	tcase_add_test(tc, test_round_robin_order);
	tcase_add_test(tc, test_single_entity_picked_every_time);
	tcase_add_test(tc, test_blocked_skipped_until_deadline);
	tcase_add_test(tc, test_all_blocked_then_idle_until_next_wake);
	tcase_add_test(tc, test_next_wake_is_earliest_blocked);
	tcase_add_test(tc, test_wake_makes_runnable);
	tcase_add_test(tc, test_stopped_never_picked);
	tcase_add_test(tc, test_any_alive_by_kind);
	tcase_add_test(tc, test_charge_accumulates);
	tcase_add_test(tc, test_max_entities);
	tcase_add_test(tc, test_fairness_8_entities_1000_picks);
	tcase_add_test(tc, test_fairness_5_entities_1000_picks);
	tcase_add_test(tc, test_fairness_with_periodic_blocking);
	suite_add_tcase(su, tc);

	tc = tcase_create("throttle");
	tcase_add_checked_fixture(tc, throttle_setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_throttle_default_period_and_set);
	tcase_add_loop_test(tc, test_throttle_exact_share_1_vcpu, 0, N_SHARE_PCTS);
	tcase_add_loop_test(tc, test_throttle_exact_share_3_vcpus_remainders, 0, N_SHARE_PCTS);
	tcase_add_test(tc, test_throttle_exact_share_mixed_throttles);
	tcase_add_test(tc, test_throttle_overrun_paid_back_1_vcpu);
	tcase_add_loop_test(tc, test_throttle_overrun_paid_back_3_vcpus, 0, N_SHARE_PCTS);
	tcase_add_test(tc, test_throttle_overrun_paid_back_big_overhead);
	tcase_add_test(tc, test_throttle_unused_budget_not_carried);
	tcase_add_test(tc, test_throttle_unused_budget_not_carried_partial_use);
	tcase_add_test(tc, test_throttle_zero_pct_full_fair_share);
	tcase_add_test(tc, test_throttle_zero_pct_no_more_than_share);
	tcase_add_test(tc, test_throttle_change_within_one_period);
	tcase_add_test(tc, test_throttle_change_exact_without_overhead);
	tcase_add_test(tc, test_throttle_release_immediately_eligible);
	tcase_add_test(tc, test_throttle_release_in_debt);
	tcase_add_test(tc, test_release_shares_slice_and_stamps_wait_at_pick);
	tcase_add_test(tc, test_add_keeps_run_operation);
	tcase_add_test(tc, test_throttle_grant);
	tcase_add_test(tc, test_throttle_withheld_accumulates);
	tcase_add_loop_test(tc, test_throttle_withheld_accumulates_3_vcpus, 0, N_SHARE_PCTS);
	tcase_add_test(tc, test_throttle_withheld_zero_when_unthrottled);
	tcase_add_test(tc, test_throttle_task_runs_while_vcpus_out_of_budget);
	tcase_add_test(tc, test_throttle_task_alone_with_throttled_vcpu);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return check_run(sched_suite());
}
