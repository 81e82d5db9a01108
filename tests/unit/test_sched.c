/* Unit tests for kernel/sched.c: round-robin policy driven by a fake clock. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include "kernel/err.h"
#include "kernel/sched.h"

#define SLICE 1000

static struct sched s;
static struct sched_entity ents[SCHED_MAX_ENTITIES + 1];
static const char *const names[] = { "e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8",
				     "e9", "e10", "e11", "e12", "e13", "e14", "e15", "e16" };

static void add_n(unsigned n, enum sched_kind kind)
{
	unsigned i, base = s.count;

	for (i = 0; i < n; i++)
		ck_assert_int_eq(sched_add(&s, &ents[base + i], names[base + i], kind, &ents[base + i]), HV_OK);
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
	ck_assert_int_eq(sched_add(&s, &ents[0], "vcpu0", SCHED_KIND_VCPU, &owner), HV_OK);
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
	ck_assert_int_eq(sched_add(&s, &ents[SCHED_MAX_ENTITIES], "extra", SCHED_KIND_TASK, NULL), HV_ENOMEM);
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

static Suite *sched_suite(void)
{
	Suite *su = suite_create("sched");
	TCase *tc = tcase_create("sched");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_init_and_add);
	tcase_add_test(tc, test_pick_empty_is_null);
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
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(sched_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
