/*
 * ferry-migrate's source side on the host, as it runs: dirty tracking by
 * userfaultfd async write-protection with PAGEMAP_SCAN (where the kernel
 * has it) and by the writers' own record, and the writer threads with
 * their pause, throttle, dirty limit and self-check.
 *
 * The property that matters: a copy of the memory updated only from
 * harvests, as a destination is, equals the memory after the writers are
 * paused and a last harvest is taken, while writers ran the whole time;
 * also where the zero-page check answers for pages it does not read.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "kernel/lib/err.h"
#include "linerate/guest.h"
#include "linerate/track.h"
#include "linerate/vm.h"
#include "tests/unit/check_run.h"

#define PAGES 1024u

static const uint32_t kinds[] = { LR_TRACK_PAGEMAP, LR_TRACK_SELF };

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000 };

	nanosleep(&ts, NULL);
}

/* The tracker of loop index i, or 0 (and a note) when this kernel cannot run it. */
static int open_tracker(struct lr_track *t, struct lr_guest *g, int i)
{
	char why[160];

	if (kinds[i] == LR_TRACK_PAGEMAP && !lr_track_pagemap_available()) {
		printf("test_lr_track: no userfaultfd async write-protection here; the pagemap tracker is not tested\n");
		return 0;
	}
	ck_assert_int_eq(lr_track_init(t, g, kinds[i], why, sizeof(why)), 0);
	ck_assert_uint_eq(t->kind, kinds[i] == LR_TRACK_PAGEMAP ? LR_TRACKER_PAGEMAP : LR_TRACKER_SELF);
	return 1;
}

static void poke(struct lr_guest *g, uint64_t p)
{
	g->mem[p * LR_PAGE + 8] ^= 0x5a;
	if (g->on_write)
		g->on_write(g->on_write_ctx, lr_guest_owner(g, p), p);
}

static uint64_t count(const uint64_t *bm)
{
	uint64_t n = 0, i;

	for (i = 0; i < PAGES / 64; i++)
		n += (uint64_t)__builtin_popcountll(bm[i]);
	return n;
}

/* Exactly the pages written since the last harvest, every round; bits already set stay set. */
START_TEST(test_harvest_exact)
{
	struct lr_guest g;
	struct lr_track t;
	uint64_t bm[PAGES / 64], rates[LR_WRITERS_MAX], p;
	int round;

	ck_assert_int_eq(lr_guest_init(&g, PAGES * LR_PAGE, 0, 1), 0);
	if (!open_tracker(&t, &g, _i)) {
		lr_guest_free(&g);
		return;
	}
	g.nwriters = 2; /* slices for the per-writer rates; no threads */
	ck_assert_int_eq(lr_track_ops.start(&t), 0);
	for (round = 0; round < 3; round++) {
		memset(bm, 0, sizeof(bm));
		for (p = (uint64_t)round; p < PAGES / 2; p += 7) /* 147 pages or so, all in writer 0's slice */
			poke(&g, p);
		ck_assert_uint_eq(lr_track_ops.pending(&t), (PAGES / 2 - (uint64_t)round + 6) / 7);
		ck_assert_uint_eq(lr_track_ops.vcpu_rates(&t, rates, LR_WRITERS_MAX), 2);
		ck_assert_uint_gt(rates[0], 0);
		ck_assert_uint_eq(rates[1], 0);
		bm[0] = 1ull << round; /* already set: not counted again */
		ck_assert_int_eq(lr_track_ops.harvest(&t, bm, PAGES), (long)((PAGES / 2 - (uint64_t)round + 6) / 7) - 1);
		for (p = 0; p < PAGES; p++)
			ck_assert_int_eq((int)((bm[p / 64] >> (p % 64)) & 1), p < PAGES / 2 && p % 7 == (uint64_t)round);
		/* Nothing written since: the next harvest is empty. */
		memset(bm, 0, sizeof(bm));
		ck_assert_int_eq(lr_track_ops.harvest(&t, bm, PAGES), 0);
		ck_assert_uint_eq(count(bm), 0);
	}
	ck_assert_int_lt(lr_track_ops.harvest(&t, bm, PAGES - 1), 0); /* the wrong size is refused */
	lr_track_ops.stop(&t);
	lr_track_free(&t);
	lr_guest_free(&g);
}
END_TEST

/* One page as the sender sends it: zeros where the zero-page check says so, else the bytes read. */
static void send_page(uint8_t *shadow, struct lr_mem *m, uint64_t p)
{
	if (lr_mem_ops.page_is_zero(m, p))
		memset(shadow + p * LR_PAGE, 0, LR_PAGE);
	else
		ck_assert_int_eq(lr_mem_ops.read_page(m, p, shadow + p * LR_PAGE), 0);
}

/*
 * Pages p.. of the bitmap's run from p (at most LR_STAGE_PAGES), read as the sender does with
 * read_pages: into place in one call, zeros included. Returns the pages read.
 */
static uint64_t send_run(uint8_t *shadow, struct lr_mem *m, const uint64_t *bm, uint64_t p)
{
	uint32_t k = 1;

	while (k < LR_STAGE_PAGES && p + k < PAGES && (!bm || ((bm[(p + k) / 64] >> ((p + k) % 64)) & 1)))
		k++;
	ck_assert_int_eq(lr_mem_ops.read_pages(m, p, k, shadow + p * LR_PAGE), 0);
	return k;
}

/*
 * Writers at work the whole time, from before the tracking starts; a shadow fed only from
 * harvests ends equal to the memory. Loop index: the tracker, zero or filled memory, pages
 * read in place or through the stage (a copy of a run of pages, which no harvest may outlive),
 * then page by page or in runs (read_pages: long runs straight from memory, short ones staged).
 */
START_TEST(test_shadow_from_harvests)
{
	struct lr_guest g;
	struct lr_track t;
	struct lr_mem m;
	uint64_t bm[PAGES / 64], p, harvested = 0;
	uint8_t *shadow = malloc(PAGES * LR_PAGE), *stage = malloc(LR_STAGE_PAGES * LR_PAGE);
	int round;

	ck_assert_int_eq(lr_guest_init(&g, PAGES * LR_PAGE, _i / 2 % 2, 1), 0);
	if (!open_tracker(&t, &g, _i % 2)) {
		lr_guest_free(&g);
		free(shadow);
		free(stage);
		return;
	}
	m = (struct lr_mem){ .mem = g.mem, .bytes = PAGES * LR_PAGE, .track = &t, .stage = _i / 4 % 2 ? stage : NULL };
	ck_assert_int_eq(lr_guest_start(&g, LR_PAT_RANDOM, 3, 0, 25), 0);
	ck_assert_int_eq(lr_track_ops.start(&t), 0);
	for (p = 0; p < PAGES;) /* the first pass: everything */
		if (_i / 8)
			p += send_run(shadow, &m, NULL, p);
		else
			send_page(shadow, &m, p++);
	for (round = 0; round <= 10; round++) {
		if (round == 10)
			lr_guest_pause(&g); /* the switchover: the last harvest drains everything */
		else
			sleep_ms(10);
		memset(bm, 0, sizeof(bm));
		harvested += (uint64_t)lr_track_ops.harvest(&t, bm, PAGES);
		for (p = 0; p < PAGES;)
			if (!((bm[p / 64] >> (p % 64)) & 1))
				p++;
			else if (_i / 8)
				p += send_run(shadow, &m, bm, p);
			else
				send_page(shadow, &m, p++);
	}
	lr_track_ops.stop(&t);
	ck_assert_uint_gt(lr_guest_writes(&g), 0);
	ck_assert_uint_gt(harvested, 0);
	for (p = 0; p < PAGES; p++)
		ck_assert_msg(!memcmp(shadow + p * LR_PAGE, g.mem + p * LR_PAGE, LR_PAGE), "page %llu missed",
			      (unsigned long long)p);
	lr_guest_stop(&g);
	ck_assert_uint_eq(lr_guest_errors(&g), 0);
	ck_assert_uint_eq(lr_guest_check(&g, g.mem), 0);
	ck_assert_uint_eq(lr_guest_check(&g, shadow), 0);
	shadow[5 * LR_PAGE + 100] ^= 1; /* the check sees a single changed byte */
	ck_assert_uint_eq(lr_guest_check(&g, shadow), 1);
	lr_track_free(&t);
	lr_guest_free(&g);
	free(shadow);
	free(stage);
}
END_TEST

/* Whether page p of g is in memory (mapped, for anonymous memory): a read of a page brings it in. */
static int resident(const struct lr_guest *g, uint64_t p)
{
	unsigned char v = 0;

	ck_assert_int_eq(mincore(g->mem + p * LR_PAGE, LR_PAGE, &v), 0);
	return v & 1;
}

/*
 * The zero-page check: a page never written is zero, and under the pagemap tracker it is not
 * read (it stays out of memory); a page of data is not zero, whether written before the
 * tracking started or since (once harvested); a page mapped but all zero is zero. Once the
 * tracking stops every page is read again.
 */
START_TEST(test_zero_check)
{
	struct lr_guest g;
	struct lr_track t;
	struct lr_mem m;
	uint64_t bm[PAGES / 64] = { 0 };

	ck_assert_int_eq(lr_guest_init(&g, PAGES * LR_PAGE, 1, 1), 0);
	if (!open_tracker(&t, &g, _i)) {
		lr_guest_free(&g);
		return;
	}
	m = (struct lr_mem){ .mem = g.mem, .bytes = PAGES * LR_PAGE, .track = &t };
	poke(&g, 3);
	g.mem[4 * LR_PAGE + 100] = 7;
	g.mem[4 * LR_PAGE + 100] = 0; /* mapped, all zero */
	ck_assert_int_eq(lr_track_ops.start(&t), 0);
	ck_assert_int_eq(lr_mem_ops.page_is_zero(&m, 3), 0);
	ck_assert_int_eq(lr_mem_ops.page_is_zero(&m, 4), 1);
	ck_assert_int_eq(lr_mem_ops.page_is_zero(&m, 10), 1);
	if (t.kind == LR_TRACKER_PAGEMAP) {
		ck_assert_int_eq(resident(&g, 10), 0);
		ck_assert_int_eq(lr_track_untouched(&t, 10), 1);
		ck_assert_int_eq(lr_track_untouched(&t, 4), 0);
	}
	ck_assert_int_eq(lr_track_untouched(&t, PAGES), 0); /* outside the memory: not known */
	if (t.kind == LR_TRACKER_PAGEMAP) { /* a run read whole: the untouched page comes as zeros, unread */
		uint8_t *run = malloc(8 * LR_PAGE), *stage = malloc(LR_STAGE_PAGES * LR_PAGE);

		memset(run, 0xa5, 8 * LR_PAGE);
		m.stage = stage;
		ck_assert_int_eq(lr_mem_ops.read_pages(&m, 3, 8, run), 0);
		ck_assert_int_eq(memcmp(run, g.mem + 3 * LR_PAGE, 2 * LR_PAGE), 0); /* pages 3 and 4 */
		for (size_t i = 2 * LR_PAGE; i < 8 * LR_PAGE; i++)
			ck_assert_int_eq(run[i], 0);
		ck_assert_int_eq(resident(&g, 10), 0);
		ck_assert_int_eq(lr_mem_ops.read_pages(&m, PAGES - 2, 3, run), HV_ERANGE);
		m.stage = NULL;
		free(run);
		free(stage);
	}
	poke(&g, 20); /* after the start: the harvest reports it, and from then on it is read */
	ck_assert_int_eq(lr_track_ops.harvest(&t, bm, PAGES), 1);
	ck_assert_int_eq(lr_mem_ops.page_is_zero(&m, 20), 0);
	ck_assert_int_eq(lr_track_untouched(&t, 20), 0);
	ck_assert_int_eq(lr_track_ops.harvest(&t, bm, PAGES), 0);
	ck_assert_int_eq(lr_mem_ops.page_is_zero(&m, 20), 0); /* known to hold data, harvest or not */
	lr_track_ops.stop(&t);
	ck_assert_int_eq(lr_track_untouched(&t, 11), 0);
	ck_assert_int_eq(lr_mem_ops.page_is_zero(&m, 11), 1);
	ck_assert_int_eq(resident(&g, 11), 1); /* read */
	lr_track_free(&t);
	lr_guest_free(&g);
}
END_TEST

/*
 * The stage: the next pages the pass sends are copied at the first read, scattered ones gathered,
 * and a copy made before a harvest is never served after it (the write the harvest reports would
 * be lost). A page the pass does not send is not copied.
 */
START_TEST(test_stage_fresh_after_harvest)
{
	struct lr_guest g;
	struct lr_track t;
	struct lr_mem m;
	uint64_t bm[PAGES / 64] = { 0 }, sending[PAGES / 64] = { 0 };
	uint8_t *stage = malloc(LR_STAGE_PAGES * LR_PAGE), page[LR_PAGE];

	ck_assert_int_eq(lr_guest_init(&g, PAGES * LR_PAGE, 0, 1), 0);
	if (!open_tracker(&t, &g, _i)) {
		lr_guest_free(&g);
		free(stage);
		return;
	}
	m = (struct lr_mem){ .mem = g.mem, .bytes = PAGES * LR_PAGE, .track = &t, .stage = stage };
	ck_assert_int_eq(lr_track_ops.start(&t), 0);
	ck_assert_int_eq(lr_mem_ops.page_is_zero(&m, 5), 0);
	ck_assert_int_eq(lr_mem_ops.read_page(&m, 5, page), 0);
	ck_assert_ptr_nonnull(m.stage); /* the kernel's copy ran */
	ck_assert_uint_eq(m.stage_gfn[0], 5);
	ck_assert_uint_eq(m.stage_n, LR_STAGE_PAGES);
	ck_assert_uint_eq(m.stage_gfn[LR_STAGE_PAGES - 1], 5 + LR_STAGE_PAGES - 1);
	ck_assert_mem_eq(page, g.mem + 5 * LR_PAGE, LR_PAGE);
	/* The pass sends pages 40-43, 50, 130 and 1000: one copy gathers all seven. */
	sending[0] = 0xfull << 40 | 1ull << 50;
	sending[2] = 1ull << 2;
	sending[15] = 1ull << 40;
	m.sending = sending;
	ck_assert_int_eq(lr_mem_ops.read_page(&m, 40, page), 0);
	ck_assert_uint_eq(m.stage_n, 7);
	ck_assert_uint_eq(m.stage_gfn[4], 50);
	ck_assert_uint_eq(m.stage_gfn[5], 130);
	ck_assert_uint_eq(m.stage_gfn[6], 1000);
	ck_assert_mem_eq(page, g.mem + 40 * LR_PAGE, LR_PAGE);
	ck_assert_int_eq(lr_mem_ops.read_page(&m, 130, page), 0);
	ck_assert_uint_eq(m.stage_gfn[0], 40); /* served from that copy */
	ck_assert_mem_eq(page, g.mem + 130 * LR_PAGE, LR_PAGE);
	ck_assert_int_eq(lr_mem_ops.read_page(&m, 1000, page), 0);
	ck_assert_uint_eq(m.stage_gfn[0], 40);
	ck_assert_mem_eq(page, g.mem + 1000 * LR_PAGE, LR_PAGE);
	ck_assert_int_eq(lr_mem_ops.read_page(&m, 45, page), 0); /* not gathered: a copy of its own */
	ck_assert_uint_eq(m.stage_gfn[0], 45);
	ck_assert_uint_eq(m.stage_n, 7 - 4 + 1);
	ck_assert_mem_eq(page, g.mem + 45 * LR_PAGE, LR_PAGE);
	m.sending = NULL;
	ck_assert_int_eq(lr_mem_ops.read_page(&m, 5, page), 0); /* pages 5-36 copied again */
	ck_assert_uint_eq(m.stage_gfn[0], 5);
	poke(&g, 6); /* after the copy of page 6 */
	ck_assert_int_eq(lr_track_ops.harvest(&t, bm, PAGES), 1);
	ck_assert_int_eq(lr_mem_ops.read_page(&m, 6, page), 0);
	ck_assert_mem_eq(page, g.mem + 6 * LR_PAGE, LR_PAGE);
	poke(&g, 7);
	lr_track_ops.stop(&t); /* the last word on page 7 comes after the stop: read it afresh */
	ck_assert_int_eq(lr_mem_ops.read_page(&m, 7, page), 0);
	ck_assert_mem_eq(page, g.mem + 7 * LR_PAGE, LR_PAGE);
	lr_track_free(&t);
	lr_guest_free(&g);
	free(stage);
}
END_TEST

static uint64_t writes_in(struct lr_guest *g, long ms)
{
	uint64_t before = lr_guest_writes(g);

	sleep_ms(ms);
	return lr_guest_writes(g) - before;
}

/* Paused writers write nothing; the throttle and the dirty limit slow them; the rate holds them. */
START_TEST(test_writers_pace)
{
	struct lr_guest g;
	uint64_t flat, throttled, limited;

	ck_assert_int_eq(lr_guest_init(&g, 256 * LR_PAGE, 1, 0), 0);
	ck_assert_int_eq(lr_guest_start(&g, LR_PAT_HOT, 2, 0, 50), 0);
	flat = writes_in(&g, 200);
	ck_assert_uint_gt(flat, 1000);
	lr_guest_pause(&g);
	ck_assert_uint_eq(writes_in(&g, 50), 0);
	lr_guest_resume(&g);
	lr_guest_throttle(&g, 90);
	(void)writes_in(&g, 40); /* the period under way ends */
	throttled = writes_in(&g, 200);
	ck_assert_msg(throttled * 10 < flat * 8, "90%% throttle: %llu writes against %llu", (unsigned long long)throttled,
		      (unsigned long long)flat);
	lr_guest_throttle(&g, 0);
	lr_guest_dirty_limit(&g, 1000); /* 500 pages/s per writer */
	(void)writes_in(&g, 20);
	limited = writes_in(&g, 400);
	ck_assert_msg(limited <= 600, "dirty limit 1000/s: %llu writes in 400 ms", (unsigned long long)limited);
	ck_assert_uint_gt(limited, 0);
	lr_guest_stop(&g);
	ck_assert_uint_eq(lr_guest_errors(&g), 0);
	ck_assert_uint_eq(lr_guest_check(&g, g.mem), 0);
	lr_guest_free(&g);

	/* A writer held to a rate (4 MiB/s = 1024 pages/s for one writer) keeps to it. */
	ck_assert_int_eq(lr_guest_init(&g, 256 * LR_PAGE, 0, 0), 0);
	ck_assert_int_eq(lr_guest_start(&g, LR_PAT_SEQ, 1, 4, 25), 0);
	(void)writes_in(&g, 20);
	limited = writes_in(&g, 500);
	ck_assert_msg(limited <= 700, "4 MiB/s: %llu writes in 500 ms", (unsigned long long)limited);
	ck_assert_uint_gt(limited, 0);
	lr_guest_stop(&g);
	ck_assert_uint_eq(lr_guest_check(&g, g.mem), 0);
	lr_guest_free(&g);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lr_track");
	TCase *tc = tcase_create("track");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_harvest_exact, 0, 2);
	tcase_add_loop_test(tc, test_shadow_from_harvests, 0, 16);
	tcase_add_loop_test(tc, test_zero_check, 0, 2);
	tcase_add_loop_test(tc, test_stage_fresh_after_harvest, 0, 2);
	tcase_add_test(tc, test_writers_pace);
	suite_add_tcase(s, tc);
	return check_run(s);
}
