/* Unit tests for kernel/core/dirty_bitmap.c: one bit per guest page over caller storage. */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/core/dirty_bitmap.h"
#include "tests/unit/check_run.h"

#define MAX_PAGES 8300
#define MAX_WORDS ((MAX_PAGES + 63) / 64)
#define GUARD 0x5a5a5a5a5a5a5a5aull

/*
 * Storage with a guard word on either side, so a write outside
 * dirty_bitmap_words(pages) words shows up (ASan would not see it: it stays
 * inside the array).
 */
struct store {
	uint64_t lo;
	uint64_t w[MAX_WORDS + 1];
};

static struct store sa, sb;

static void ck_guards(const struct store *s, uint64_t pages)
{
	size_t n = dirty_bitmap_words(pages);

	ck_assert_uint_eq(s->lo, GUARD);
	ck_assert_uint_eq(s->w[n], GUARD);
}

/* Fills the storage with garbage (init must clear it) and attaches it. */
static void init_dirty(struct dirty_bitmap *b, struct store *s, uint64_t pages)
{
	size_t n = dirty_bitmap_words(pages);

	ck_assert_uint_le(n, MAX_WORDS);
	s->lo = GUARD;
	memset(s->w, 0xff, sizeof(s->w));
	s->w[n] = GUARD;
	dirty_bitmap_init(b, s->w, pages);
	ck_assert_ptr_eq(b->words, s->w);
	ck_assert_uint_eq(b->pages, pages);
}

/* Bits past pages in the last word are 0, and nothing beyond the words was touched. */
static void ck_tail_clear(const struct dirty_bitmap *b, const struct store *s)
{
	size_t n = dirty_bitmap_words(b->pages);

	if (b->pages % 64)
		ck_assert_uint_eq(b->words[n - 1] >> (b->pages % 64), 0);
	ck_guards(s, b->pages);
}

/* Cheap deterministic PRNG (xorshift64*), so failures reproduce. */
static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static const uint64_t odd_sizes[] = { 1, 2, 63, 64, 65, 127, 128, 130, 200, 8192, 8193 };
#define N_SIZES (sizeof(odd_sizes) / sizeof(odd_sizes[0]))

START_TEST(test_words)
{
	ck_assert_uint_eq(dirty_bitmap_words(0), 0);
	ck_assert_uint_eq(dirty_bitmap_words(1), 1);
	ck_assert_uint_eq(dirty_bitmap_words(63), 1);
	ck_assert_uint_eq(dirty_bitmap_words(64), 1);
	ck_assert_uint_eq(dirty_bitmap_words(65), 2);
	ck_assert_uint_eq(dirty_bitmap_words(130), 3);
	ck_assert_uint_eq(dirty_bitmap_words(8192), 128);
	ck_assert_uint_eq(dirty_bitmap_words(8193), 129);
}
END_TEST

START_TEST(test_init_clears)
{
	struct dirty_bitmap b;
	uint64_t p, page = 0, len = 0;
	size_t i;

	init_dirty(&b, &sa, 8193);
	for (i = 0; i < dirty_bitmap_words(8193); i++)
		ck_assert_uint_eq(sa.w[i], 0);
	ck_guards(&sa, 8193);
	ck_assert_uint_eq(dirty_bitmap_count(&b), 0);
	for (p = 0; p < 8193; p++)
		ck_assert(!dirty_bitmap_test(&b, p));
	ck_assert(!dirty_bitmap_next_run(&b, &page, &len));
}
END_TEST

START_TEST(test_set_test_boundaries)
{
	struct dirty_bitmap b;
	const uint64_t pages = 8192, marks[] = { 0, 63, 64, pages - 1 };
	uint64_t p;
	size_t i;

	init_dirty(&b, &sa, pages);
	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		ck_assert(!dirty_bitmap_test(&b, marks[i]));
		ck_assert(dirty_bitmap_set(&b, marks[i]));
		ck_assert(dirty_bitmap_test(&b, marks[i]));
		ck_assert_uint_eq(dirty_bitmap_count(&b), i + 1);
	}
	/* Setting again is fine and idempotent. */
	ck_assert(dirty_bitmap_set(&b, 63));
	ck_assert_uint_eq(dirty_bitmap_count(&b), 4);
	ck_assert_uint_eq(sa.w[0], 1ull | 1ull << 63);
	ck_assert_uint_eq(sa.w[1], 1);
	ck_assert_uint_eq(sa.w[127], 1ull << 63);
	for (p = 0; p < pages; p++)
		ck_assert(dirty_bitmap_test(&b, p) == (p == 0 || p == 63 || p == 64 || p == pages - 1));
	ck_guards(&sa, pages);
}
END_TEST

START_TEST(test_set_past_end_changes_nothing)
{
	struct dirty_bitmap b;
	const uint64_t pages = 130;
	const uint64_t bad[] = { 130, 131, 191, 192, 193, 1000, UINT64_MAX - 63, UINT64_MAX };
	uint64_t before[3];
	size_t i;

	init_dirty(&b, &sa, pages);
	ck_assert(dirty_bitmap_set(&b, 5));
	ck_assert(dirty_bitmap_set(&b, 129));
	memcpy(before, sa.w, sizeof(before));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert(!dirty_bitmap_set(&b, bad[i]));
		ck_assert(!dirty_bitmap_test(&b, bad[i]));
	}
	ck_assert(memcmp(before, sa.w, sizeof(before)) == 0);
	ck_assert_uint_eq(dirty_bitmap_count(&b), 2);
	ck_tail_clear(&b, &sa);
}
END_TEST

/* Every size: set every page and every page past the end; only in-range bits stick. */
START_TEST(test_odd_sizes_fill)
{
	struct dirty_bitmap b;
	const uint64_t pages = odd_sizes[_i];
	const size_t n = dirty_bitmap_words(pages);
	uint64_t p, page = 0, len = 0;

	init_dirty(&b, &sa, pages);
	for (p = 0; p < n * 64 + 70; p++)
		ck_assert(dirty_bitmap_set(&b, p) == (p < pages));
	ck_assert_uint_eq(dirty_bitmap_count(&b), pages);
	ck_tail_clear(&b, &sa);
	for (p = 0; p < n * 64 + 70; p++)
		ck_assert(dirty_bitmap_test(&b, p) == (p < pages));
	/* A full bitmap is a single run of all pages. */
	ck_assert(dirty_bitmap_next_run(&b, &page, &len));
	ck_assert_uint_eq(page, 0);
	ck_assert_uint_eq(len, pages);
	page = pages;
	ck_assert(!dirty_bitmap_next_run(&b, &page, &len));
	/* From the middle of the run: the rest of it. */
	page = pages / 2;
	ck_assert(dirty_bitmap_next_run(&b, &page, &len));
	ck_assert_uint_eq(page, pages / 2);
	ck_assert_uint_eq(len, pages - pages / 2);
	/* The last page alone. */
	page = pages - 1;
	ck_assert(dirty_bitmap_next_run(&b, &page, &len));
	ck_assert_uint_eq(page, pages - 1);
	ck_assert_uint_eq(len, 1);
	dirty_bitmap_clear_all(&b);
	ck_assert_uint_eq(dirty_bitmap_count(&b), 0);
	ck_tail_clear(&b, &sa);
}
END_TEST

START_TEST(test_odd_sizes_last_page_only)
{
	struct dirty_bitmap b;
	const uint64_t pages = odd_sizes[_i];
	uint64_t page = 0, len = 0;

	init_dirty(&b, &sa, pages);
	ck_assert(dirty_bitmap_set(&b, pages - 1));
	ck_assert(!dirty_bitmap_set(&b, pages));
	ck_assert_uint_eq(dirty_bitmap_count(&b), 1);
	ck_assert(dirty_bitmap_next_run(&b, &page, &len));
	ck_assert_uint_eq(page, pages - 1);
	ck_assert_uint_eq(len, 1);
	page = pages;
	ck_assert(!dirty_bitmap_next_run(&b, &page, &len));
	ck_tail_clear(&b, &sa);
}
END_TEST

START_TEST(test_clear_all)
{
	struct dirty_bitmap b;
	uint64_t p, page = 0, len = 0;

	init_dirty(&b, &sa, 8193);
	for (p = 0; p < 8193; p += 7)
		ck_assert(dirty_bitmap_set(&b, p));
	ck_assert(dirty_bitmap_set(&b, 8192));
	ck_assert_uint_gt(dirty_bitmap_count(&b), 1000);
	dirty_bitmap_clear_all(&b);
	ck_assert_uint_eq(dirty_bitmap_count(&b), 0);
	for (p = 0; p < 8193; p++)
		ck_assert(!dirty_bitmap_test(&b, p));
	for (p = 0; p < dirty_bitmap_words(8193); p++)
		ck_assert_uint_eq(sa.w[p], 0);
	ck_assert(!dirty_bitmap_next_run(&b, &page, &len));
	ck_guards(&sa, 8193);
	/* Usable again afterwards. */
	ck_assert(dirty_bitmap_set(&b, 4000));
	ck_assert_uint_eq(dirty_bitmap_count(&b), 1);
}
END_TEST

START_TEST(test_count)
{
	struct dirty_bitmap b;
	uint64_t p;

	init_dirty(&b, &sa, 8193);
	ck_assert_uint_eq(dirty_bitmap_count(&b), 0);
	for (p = 0; p < 8193; p += 3)
		ck_assert(dirty_bitmap_set(&b, p));
	ck_assert_uint_eq(dirty_bitmap_count(&b), (8193 + 2) / 3);
	for (p = 64; p < 128; p++)
		dirty_bitmap_set(&b, p);
	/* [64, 128): 64 pages, of which those = 0 mod 3 were already counted. */
	ck_assert_uint_eq(dirty_bitmap_count(&b), (8193 + 2) / 3 + 64 - 21);
}
END_TEST

START_TEST(test_take_into_empty)
{
	struct dirty_bitmap from, to;
	const uint64_t pages = 130;
	const uint64_t marks[] = { 0, 63, 64, 65, 127, 128, 129 };
	uint64_t p;
	size_t i;

	init_dirty(&from, &sa, pages);
	init_dirty(&to, &sb, pages);
	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		ck_assert(dirty_bitmap_set(&from, marks[i]));
	ck_assert_uint_eq(dirty_bitmap_take(&from, &to), 7);
	ck_assert_uint_eq(dirty_bitmap_count(&from), 0);
	ck_assert_uint_eq(dirty_bitmap_count(&to), 7);
	for (p = 0; p < pages; p++) {
		ck_assert(!dirty_bitmap_test(&from, p));
		ck_assert(dirty_bitmap_test(&to, p) ==
			  (p == 0 || p == 63 || p == 64 || p == 65 || p == 127 || p == 128 || p == 129));
	}
	ck_tail_clear(&from, &sa);
	ck_tail_clear(&to, &sb);
	/* Taking from an empty source moves nothing and changes nothing. */
	ck_assert_uint_eq(dirty_bitmap_take(&from, &to), 0);
	ck_assert_uint_eq(dirty_bitmap_count(&to), 7);
}
END_TEST

START_TEST(test_take_into_nonempty_counts_only_new)
{
	struct dirty_bitmap from, to;
	const uint64_t pages = 200;
	uint64_t p;

	init_dirty(&from, &sa, pages);
	init_dirty(&to, &sb, pages);
	/* Source: 60..70 and 127..128 and 199. Destination: 63, 64, 128, 150. */
	for (p = 60; p <= 70; p++)
		dirty_bitmap_set(&from, p);
	dirty_bitmap_set(&from, 127);
	dirty_bitmap_set(&from, 128);
	dirty_bitmap_set(&from, 199);
	dirty_bitmap_set(&to, 63);
	dirty_bitmap_set(&to, 64);
	dirty_bitmap_set(&to, 128);
	dirty_bitmap_set(&to, 150);
	/* 14 source bits, 3 of them (63, 64, 128) already in the destination. */
	ck_assert_uint_eq(dirty_bitmap_take(&from, &to), 11);
	ck_assert_uint_eq(dirty_bitmap_count(&from), 0);
	ck_assert_uint_eq(dirty_bitmap_count(&to), 15);
	for (p = 0; p < pages; p++)
		ck_assert(dirty_bitmap_test(&to, p) ==
			  ((p >= 60 && p <= 70) || p == 127 || p == 128 || p == 150 || p == 199));
	ck_tail_clear(&from, &sa);
	ck_tail_clear(&to, &sb);
	/* Same bits again: all already there, nothing new. */
	dirty_bitmap_set(&from, 63);
	dirty_bitmap_set(&from, 199);
	ck_assert_uint_eq(dirty_bitmap_take(&from, &to), 0);
	ck_assert_uint_eq(dirty_bitmap_count(&from), 0);
	ck_assert_uint_eq(dirty_bitmap_count(&to), 15);
}
END_TEST

START_TEST(test_take_randomized)
{
	static bool rf[MAX_PAGES], rt[MAX_PAGES];
	struct dirty_bitmap from, to;
	const uint64_t pages = odd_sizes[_i];
	uint64_t p, want_new = 0, want_total = 0;
	unsigned round;

	rng_state = 0x1234567 + pages;
	init_dirty(&from, &sa, pages);
	init_dirty(&to, &sb, pages);
	memset(rt, 0, sizeof(rt));
	for (round = 0; round < 3; round++) {
		memset(rf, 0, sizeof(rf));
		want_new = 0;
		for (p = 0; p < pages; p++) {
			if (rng() % 3 == 0) {
				rf[p] = true;
				ck_assert(dirty_bitmap_set(&from, p));
			}
		}
		for (p = 0; p < pages; p++) {
			if (rf[p] && !rt[p])
				want_new++;
			rt[p] = rt[p] || rf[p];
		}
		ck_assert_uint_eq(dirty_bitmap_take(&from, &to), want_new);
		ck_assert_uint_eq(dirty_bitmap_count(&from), 0);
		want_total = 0;
		for (p = 0; p < pages; p++) {
			ck_assert(dirty_bitmap_test(&to, p) == rt[p]);
			want_total += rt[p];
		}
		ck_assert_uint_eq(dirty_bitmap_count(&to), want_total);
		ck_tail_clear(&from, &sa);
		ck_tail_clear(&to, &sb);
	}
}
END_TEST

START_TEST(test_next_run_empty)
{
	struct dirty_bitmap b;
	uint64_t page = 0, len = 77;

	init_dirty(&b, &sa, 8193);
	ck_assert(!dirty_bitmap_next_run(&b, &page, &len));
	page = 8192;
	ck_assert(!dirty_bitmap_next_run(&b, &page, &len));
	page = 8193;
	ck_assert(!dirty_bitmap_next_run(&b, &page, &len));
	page = UINT64_MAX;
	ck_assert(!dirty_bitmap_next_run(&b, &page, &len));
}
END_TEST

/* Finds the run at or after from; asserts it is [want, want + want_len). */
static void ck_run(const struct dirty_bitmap *b, uint64_t from, uint64_t want, uint64_t want_len)
{
	uint64_t page = from, len = 0;

	ck_assert(dirty_bitmap_next_run(b, &page, &len));
	ck_assert_uint_eq(page, want);
	ck_assert_uint_eq(len, want_len);
}

static void ck_no_run(const struct dirty_bitmap *b, uint64_t from)
{
	uint64_t page = from, len = 0;

	ck_assert(!dirty_bitmap_next_run(b, &page, &len));
}

START_TEST(test_next_run_single_bits)
{
	struct dirty_bitmap b;

	init_dirty(&b, &sa, 8192);
	dirty_bitmap_set(&b, 0);
	dirty_bitmap_set(&b, 63);
	dirty_bitmap_set(&b, 64);  /* 63..64: a run of 2 across a word boundary */
	dirty_bitmap_set(&b, 200);
	dirty_bitmap_set(&b, 5000); /* many clear words before it */
	ck_run(&b, 0, 0, 1);
	ck_run(&b, 1, 63, 2);
	ck_run(&b, 63, 63, 2);
	ck_run(&b, 64, 64, 1);
	ck_run(&b, 65, 200, 1);
	ck_run(&b, 200, 200, 1);
	ck_run(&b, 201, 5000, 1);
	ck_no_run(&b, 5001);
}
END_TEST

START_TEST(test_next_run_across_words)
{
	struct dirty_bitmap b;
	uint64_t p;

	init_dirty(&b, &sa, 1000);
	for (p = 60; p <= 70; p++)
		dirty_bitmap_set(&b, p);
	for (p = 100; p < 300; p++) /* covers whole words 2..3 and spans four words */
		dirty_bitmap_set(&b, p);
	ck_run(&b, 0, 60, 11);
	ck_run(&b, 60, 60, 11);
	ck_run(&b, 64, 64, 7);  /* from the middle: the rest of the run */
	ck_run(&b, 63, 63, 8);
	ck_run(&b, 70, 70, 1);
	ck_run(&b, 71, 100, 200);
	ck_run(&b, 128, 128, 172);
	ck_run(&b, 255, 255, 45);
	ck_run(&b, 256, 256, 44);
	ck_run(&b, 299, 299, 1);
	ck_no_run(&b, 300);
}
END_TEST

START_TEST(test_next_run_ends_at_last_page)
{
	struct dirty_bitmap b;
	const uint64_t pages = odd_sizes[_i];
	uint64_t p, first = pages > 70 ? pages - 70 : 0;

	init_dirty(&b, &sa, pages);
	for (p = first; p < pages; p++)
		dirty_bitmap_set(&b, p);
	ck_run(&b, 0, first, pages - first);
	ck_run(&b, pages - 1, pages - 1, 1);
	ck_no_run(&b, pages);
	ck_tail_clear(&b, &sa);
}
END_TEST

/* Random sets of varying density, walked run by run, rebuilt and compared. */
START_TEST(test_next_run_randomized)
{
	static bool ref[MAX_PAGES], seen[MAX_PAGES];
	static const unsigned density[] = { 2, 5, 50, 300 }; /* set ~1/density of runs' starts */
	struct dirty_bitmap b;
	const uint64_t pages = odd_sizes[_i];
	unsigned d;

	for (d = 0; d < sizeof(density) / sizeof(density[0]); d++) {
		uint64_t p, page, len, runs = 0, want_runs = 0, total = 0;

		rng_state = 0x9e3779b97f4a7c15ull ^ (pages * 131 + d);
		init_dirty(&b, &sa, pages);
		memset(ref, 0, sizeof(ref));
		memset(seen, 0, sizeof(seen));
		/* Runs of random length (up to 150) at random gaps. */
		for (p = rng() % 4; p < pages;) {
			uint64_t n = 1 + rng() % 150, q;

			if (rng() % density[d] == 0)
				n = 1;
			for (q = p; q < p + n && q < pages; q++) {
				ref[q] = true;
				ck_assert(dirty_bitmap_set(&b, q));
			}
			p = q + 1 + rng() % (density[d] * 3);
		}
		for (p = 0; p < pages; p++) {
			total += ref[p];
			if (ref[p] && (p == 0 || !ref[p - 1]))
				want_runs++;
		}
		ck_assert_uint_eq(dirty_bitmap_count(&b), total);
		page = 0;
		while (dirty_bitmap_next_run(&b, &page, &len)) {
			ck_assert_uint_ge(len, 1);
			ck_assert_uint_le(page + len, pages);
			/* Maximal: clear before and after. */
			ck_assert(page == 0 || !ref[page - 1]);
			ck_assert(page + len == pages || !ref[page + len]);
			for (p = page; p < page + len; p++) {
				ck_assert(ref[p]);
				ck_assert(!seen[p]);
				seen[p] = true;
			}
			runs++;
			ck_assert_uint_le(runs, pages);
			page += len;
		}
		ck_assert_uint_eq(runs, want_runs);
		ck_assert(memcmp(ref, seen, sizeof(ref)) == 0);
		/* Starting at random offsets: the rest of the run there, or the next run. */
		for (p = 0; p < 200; p++) {
			uint64_t from = rng() % (pages + 2), want = from, end;

			while (want < pages && !ref[want])
				want++;
			if (want >= pages) {
				ck_no_run(&b, from);
				continue;
			}
			for (end = want; end < pages && ref[end]; end++)
				;
			ck_run(&b, from, want, end - want);
		}
		ck_tail_clear(&b, &sa);
	}
}
END_TEST

static Suite *dirty_bitmap_suite(void)
{
	Suite *s = suite_create("dirty_bitmap");
	TCase *tc = tcase_create("dirty_bitmap");

	tcase_add_test(tc, test_words);
	tcase_add_test(tc, test_init_clears);
	tcase_add_test(tc, test_set_test_boundaries);
	tcase_add_test(tc, test_set_past_end_changes_nothing);
	tcase_add_loop_test(tc, test_odd_sizes_fill, 0, N_SIZES);
	tcase_add_loop_test(tc, test_odd_sizes_last_page_only, 0, N_SIZES);
	tcase_add_test(tc, test_clear_all);
	tcase_add_test(tc, test_count);
	tcase_add_test(tc, test_take_into_empty);
	tcase_add_test(tc, test_take_into_nonempty_counts_only_new);
	tcase_add_loop_test(tc, test_take_randomized, 0, N_SIZES);
	tcase_add_test(tc, test_next_run_empty);
	tcase_add_test(tc, test_next_run_single_bits);
	tcase_add_test(tc, test_next_run_across_words);
	tcase_add_loop_test(tc, test_next_run_ends_at_last_page, 0, N_SIZES);
	tcase_add_loop_test(tc, test_next_run_randomized, 0, N_SIZES);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(dirty_bitmap_suite());
}
