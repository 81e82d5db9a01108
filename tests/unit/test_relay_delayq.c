/* Unit tests for tools/relay/delayq.c: the delay relay's release times, on a fake clock. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include "tools/relay/delayq.h"
#include "tests/unit/check_run.h"

#define MS 1000000ull
#define US 1000ull

static struct delayq q;
static struct delayq_rec recs[8];

/* Nothing leaves before its delay: bytes pushed at t are held until t + delay, not a nanosecond less. */
START_TEST(test_held_for_delay)
{
	delayq_init(&q, recs, 8, 5 * MS, 100 * US);
	ck_assert_uint_eq(delayq_next_due(&q), UINT64_MAX);
	ck_assert_int_eq(delayq_push(&q, 1000 * MS, 1500), 0);
	ck_assert_uint_eq(delayq_next_due(&q), 1005 * MS);
	ck_assert_uint_eq(delayq_ready(&q, 1000 * MS), 0);
	ck_assert_uint_eq(delayq_ready(&q, 1005 * MS - 1), 0);
	ck_assert_uint_eq(delayq_ready(&q, 1005 * MS), 1500);
	ck_assert_uint_eq(q.queued, 1500);
}
END_TEST

/* Arrivals within the grain join one record whose release is the newest arrival's: later for the oldest bytes, never earlier. */
START_TEST(test_grain_joins_later)
{
	delayq_init(&q, recs, 8, 5 * MS, 100 * US);
	delayq_push(&q, 0, 100);
	delayq_push(&q, 60 * US, 200);
	delayq_push(&q, 99 * US, 300);
	ck_assert_uint_eq(q.count, 1);
	ck_assert_uint_eq(delayq_next_due(&q), 5 * MS + 99 * US);
	ck_assert_uint_eq(delayq_ready(&q, 5 * MS + 98 * US), 0);
	ck_assert_uint_eq(delayq_ready(&q, 5 * MS + 99 * US), 600);
	/* At the grain's end a new record starts. */
	delayq_push(&q, 100 * US, 1);
	ck_assert_uint_eq(q.count, 2);
	ck_assert_uint_eq(q.queued, 601);
}
END_TEST

/* Partial sends consume the head in order; the next record becomes due on its own time. */
START_TEST(test_partial_consume_in_order)
{
	delayq_init(&q, recs, 8, 2 * MS, 10 * US);
	delayq_push(&q, 0, 1000);
	delayq_push(&q, 1 * MS, 50);
	ck_assert_uint_eq(delayq_ready(&q, 2 * MS), 1000);
	delayq_consume(&q, 400);
	ck_assert_uint_eq(delayq_ready(&q, 2 * MS), 600);
	delayq_consume(&q, 600);
	ck_assert_uint_eq(delayq_ready(&q, 2 * MS), 0);
	ck_assert_uint_eq(delayq_next_due(&q), 3 * MS);
	ck_assert_uint_eq(delayq_ready(&q, 3 * MS), 50);
	/* Consuming more than the head holds takes only the head. */
	delayq_consume(&q, 999);
	ck_assert_uint_eq(q.count, 0);
	ck_assert_uint_eq(q.queued, 0);
}
END_TEST

/* The end of the stream leaves after the bytes before it and with its own delay; nothing is accepted after it. */
START_TEST(test_fin_after_data)
{
	delayq_init(&q, recs, 8, 5 * MS, 100 * US);
	delayq_push(&q, 0, 10);
	ck_assert_int_eq(delayq_push_fin(&q, 10 * US), 0);
	ck_assert(delayq_closed(&q));
	ck_assert_int_eq(delayq_push(&q, 20 * US, 1), -1);
	ck_assert_int_eq(delayq_push_fin(&q, 20 * US), -1);
	/* A byte count does not remove an end mark, nor the end mark a byte record. */
	delayq_consume(&q, DELAYQ_FIN);
	ck_assert_uint_eq(delayq_ready(&q, 5 * MS), 10);
	delayq_consume(&q, 10);
	ck_assert_uint_eq(delayq_ready(&q, 5 * MS), 0);
	ck_assert_uint_eq(delayq_ready(&q, 5 * MS + 10 * US), DELAYQ_FIN);
	delayq_consume(&q, 0);
	ck_assert_uint_eq(delayq_ready(&q, 5 * MS + 10 * US), DELAYQ_FIN);
	delayq_consume(&q, DELAYQ_FIN);
	ck_assert_uint_eq(q.count, 0);
}
END_TEST

/* A full queue refuses (the relay then stops reading) and takes again once the head leaves; the ring wraps. */
START_TEST(test_full_and_wrap)
{
	uint64_t t;

	delayq_init(&q, recs, 8, 1 * MS, 1 * US);
	for (t = 0; t < 8; t++)
		ck_assert_int_eq(delayq_push(&q, t * MS, 1 + t), 0);
	ck_assert(delayq_closed(&q));
	ck_assert_int_eq(delayq_push(&q, 8 * MS, 5), -1);
	ck_assert_uint_eq(q.queued, 36);
	for (t = 0; t < 20; t++) {
		uint64_t now = (t + 1) * MS;

		ck_assert_uint_eq(delayq_ready(&q, now), 1 + t);
		delayq_consume(&q, 1 + t);
		ck_assert_int_eq(delayq_push(&q, now, 9 + t), 0);
	}
	ck_assert_uint_eq(q.count, 8);
}
END_TEST

/* No delay: bytes are due when they arrive. */
START_TEST(test_zero_delay)
{
	delayq_init(&q, recs, 8, 0, 100 * US);
	delayq_push(&q, 42, 7);
	ck_assert_uint_eq(delayq_ready(&q, 42), 7);
}
END_TEST

static Suite *delayq_suite(void)
{
	Suite *s = suite_create("relay_delayq");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_held_for_delay);
	tcase_add_test(tc, test_grain_joins_later);
	tcase_add_test(tc, test_partial_consume_in_order);
	tcase_add_test(tc, test_fin_after_data);
	tcase_add_test(tc, test_full_and_wrap);
	tcase_add_test(tc, test_zero_delay);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(delayq_suite());
}
