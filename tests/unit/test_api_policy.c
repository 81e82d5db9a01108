/* Unit tests for net/api/api_policy.c (who gives way, how long each phase lasts) and net/siphash.c. */
#include <check.h>
#include <stdlib.h>
#include "net/api/api_policy.h"
#include "net/siphash.h"
#include "tests/unit/check_run.h"

#define N 4

static struct api_slot_view slots[N];

static void fill(bool authed)
{
	unsigned i;

	for (i = 0; i < N; i++)
		slots[i] = (struct api_slot_view){ .in_use = true, .authed = authed, .phase = API_PH_IDLE, .since = 100 + i };
}

START_TEST(test_victim_oldest_stranger)
{
	fill(false);
	ck_assert_int_eq(api_pick_victim(slots, N, UINT64_MAX), 0);
	slots[0].authed = true;
	slots[2].since = 50;
	ck_assert_int_eq(api_pick_victim(slots, N, UINT64_MAX), 2);
	/* Mid-request strangers give way too: only a valid token protects a connection. */
	slots[2].phase = API_PH_BODY;
	ck_assert_int_eq(api_pick_victim(slots, N, UINT64_MAX), 2);
}
END_TEST

/* A fresh stranger has API_GRACE_MS to send its first request; a closing connection has no grace. */
START_TEST(test_victim_grace)
{
	fill(false);
	ck_assert_int_eq(api_pick_victim(slots, N, 99), -1);
	ck_assert_int_eq(api_pick_victim(slots, N, 100), 0);
	slots[0].authed = true;
	ck_assert_int_eq(api_pick_victim(slots, N, 101), 1);
	ck_assert_int_eq(api_pick_victim(slots, N, 100), -1);
	slots[3].phase = API_PH_CLOSING;
	ck_assert_int_eq(api_pick_victim(slots, N, 0), 3);
}
END_TEST

START_TEST(test_victim_closing_first)
{
	fill(false);
	slots[3].phase = API_PH_CLOSING;
	slots[3].authed = true;
	ck_assert_int_eq(api_pick_victim(slots, N, UINT64_MAX), 3);
}
END_TEST

/* The operator is never cut mid-request, nor while an answer or a pipelined request waits. */
START_TEST(test_victim_none_when_operator_busy)
{
	fill(true);
	ck_assert_int_eq(api_pick_victim(slots, N, UINT64_MAX), -1);  /* idle, but not quiet */
	slots[0].quiet = slots[1].quiet = slots[2].quiet = slots[3].quiet = true;
	slots[0].phase = API_PH_HEAD;
	slots[1].phase = API_PH_BODY;
	slots[2].phase = API_PH_SEND;
	slots[3].phase = API_PH_NEW;
	ck_assert_int_eq(api_pick_victim(slots, N, UINT64_MAX), -1);
	slots[1].in_use = false;  /* a free slot is not a victim: the caller takes free slots first */
	ck_assert_int_eq(api_pick_victim(slots, N, UINT64_MAX), -1);
	ck_assert_int_eq(api_pick_victim(slots, 0, UINT64_MAX), -1);
}
END_TEST

/* The operator's quiet kept-alive connections give way, the longest idle first, after API_GRACE_MS of idling. */
START_TEST(test_victim_operator_idle_longest)
{
	unsigned i;

	fill(true);
	for (i = 0; i < N; i++) {
		slots[i].quiet = true;
		slots[i].idle_since = 500 - i;  /* accepted in order, answered last in reverse */
	}
	ck_assert_int_eq(api_pick_victim(slots, N, UINT64_MAX), 3);
	ck_assert_int_eq(api_pick_victim(slots, N, 496), -1);  /* none has idled long enough */
	ck_assert_int_eq(api_pick_victim(slots, N, 498), 3);
	slots[3].quiet = false;  /* its next request has arrived, unparsed */
	ck_assert_int_eq(api_pick_victim(slots, N, 498), 2);
	/* Any stranger past its grace goes before the operator, however long the operator idled. */
	slots[1].authed = false;
	slots[1].phase = API_PH_HEAD;
	ck_assert_int_eq(api_pick_victim(slots, N, 498), 1);
	ck_assert_int_eq(api_pick_victim(slots, N, 100), -1);  /* neither its grace nor their idling is over */
	slots[0].phase = API_PH_CLOSING;
	ck_assert_int_eq(api_pick_victim(slots, N, 0), 0);
}
END_TEST

START_TEST(test_phase_timeouts)
{
	/* A head must come quickly; a kept-alive operator may idle longer; every phase ends. */
	ck_assert_uint_eq(api_phase_timeout_ms(API_PH_NEW), API_HEAD_TIMEOUT_MS);
	ck_assert_uint_eq(api_phase_timeout_ms(API_PH_HEAD), API_HEAD_TIMEOUT_MS);
	ck_assert_uint_lt(API_HEAD_TIMEOUT_MS, api_phase_timeout_ms(API_PH_IDLE));
	ck_assert_uint_eq(api_phase_timeout_ms(API_PH_IDLE), API_IDLE_TIMEOUT_MS);
	for (int p = 0; p < API_PH_COUNT; p++)
		ck_assert_uint_gt(api_phase_timeout_ms((enum api_phase)p), 0);
	ck_assert_uint_eq(api_phase_timeout_ms(API_PH_COUNT), 0);
}
END_TEST

/* The paper's test vector (key 00..0f, message 00..0e) and the reference implementation's first ones. */
START_TEST(test_siphash_vectors)
{
	uint8_t key[SIPHASH_KEY_LEN], msg[16];
	unsigned i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	ck_assert_uint_eq(siphash24(key, msg, 15), 0xa129ca6149be45e5ull);
	ck_assert_uint_eq(siphash24(key, msg, 0), 0x726fdb47dd0e0e31ull);
	ck_assert_uint_eq(siphash24(key, msg, 1), 0x74f839c593dc67fdull);
	ck_assert_uint_eq(siphash24(key, msg, 8), 0x93f5f5799a932462ull);
	/* Keyed: another key, another value. */
	key[0] ^= 1;
	ck_assert_uint_ne(siphash24(key, msg, 15), 0xa129ca6149be45e5ull);
}
END_TEST

static Suite *api_policy_suite(void)
{
	Suite *s = suite_create("api_policy");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_victim_oldest_stranger);
	tcase_add_test(tc, test_victim_grace);
	tcase_add_test(tc, test_victim_closing_first);
	tcase_add_test(tc, test_victim_none_when_operator_busy);
	tcase_add_test(tc, test_victim_operator_idle_longest);
	tcase_add_test(tc, test_phase_timeouts);
	tcase_add_test(tc, test_siphash_vectors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(api_policy_suite());
}
