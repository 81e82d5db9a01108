/*
 * A bitmap over guest RAM at 4 KiB granularity: one bit per guest page.
 * Pure: the storage is the caller's. Used for the dirty log (written pages
 * since the last harvest) and for the harvest handed to migration.
 */
#ifndef HV_KERNEL_CORE_DIRTY_BITMAP_H
#define HV_KERNEL_CORE_DIRTY_BITMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIRTY_BITS_PER_WORD 64

struct dirty_bitmap {
	uint64_t *words;
	uint64_t pages;       /* bits in use; bits past it in the last word stay 0 */
};

/* Words needed for pages bits. */
static inline size_t dirty_bitmap_words(uint64_t pages) { return (size_t)((pages + 63) / 64); }

/* Attaches storage of dirty_bitmap_words(pages) words and clears it. */
void dirty_bitmap_init(struct dirty_bitmap *b, uint64_t *words, uint64_t pages);

/* Returns false (and changes nothing) when page is past the end. */
bool dirty_bitmap_set(struct dirty_bitmap *b, uint64_t page);
bool dirty_bitmap_test(const struct dirty_bitmap *b, uint64_t page);
void dirty_bitmap_clear_all(struct dirty_bitmap *b);

/*
 * Moves every set bit of from into to (to |= from; from = 0), a word at a
 * time; both must cover the same number of pages. Returns the bits moved.
 */
uint64_t dirty_bitmap_take(struct dirty_bitmap *from, struct dirty_bitmap *to);

uint64_t dirty_bitmap_count(const struct dirty_bitmap *b);

/*
 * Finds the first run of set bits at or after *page: on success stores its
 * first page in *page and its length in *len and returns true; returns
 * false when no bit is set from *page on. Skips clear words 64 pages at a time.
 */
bool dirty_bitmap_next_run(const struct dirty_bitmap *b, uint64_t *page, uint64_t *len);

#endif
