#include "kernel/core/dirty_bitmap.h"
#include "kernel/lib/bitmap.h"

void dirty_bitmap_init(struct dirty_bitmap *b, uint64_t *words, uint64_t pages)
{
	b->words = words;
	b->pages = pages;
	dirty_bitmap_clear_all(b);
}

bool dirty_bitmap_set(struct dirty_bitmap *b, uint64_t page)
{
	if (page >= b->pages)
		return false;
	b->words[page / 64] |= 1ull << (page % 64);
	return true;
}

bool dirty_bitmap_test(const struct dirty_bitmap *b, uint64_t page)
{
	return page < b->pages && (b->words[page / 64] >> (page % 64) & 1);
}

void dirty_bitmap_clear_all(struct dirty_bitmap *b)
{
	size_t i, n = dirty_bitmap_words(b->pages);

	for (i = 0; i < n; i++)
		b->words[i] = 0;
}

uint64_t dirty_bitmap_take(struct dirty_bitmap *from, struct dirty_bitmap *to)
{
	size_t i, n = dirty_bitmap_words(from->pages);
	uint64_t moved = 0;

	for (i = 0; i < n; i++) {
		uint64_t w = from->words[i];

		if (!w)
			continue;
		from->words[i] = 0;
		moved += (uint64_t)__builtin_popcountll(w & ~to->words[i]);
		to->words[i] |= w;
	}
	return moved;
}

uint64_t dirty_bitmap_count(const struct dirty_bitmap *b)
{
	size_t i, n = dirty_bitmap_words(b->pages);
	uint64_t count = 0;

	for (i = 0; i < n; i++)
		count += (uint64_t)__builtin_popcountll(b->words[i]);
	return count;
}

bool dirty_bitmap_next_run(const struct dirty_bitmap *b, uint64_t *page, uint64_t *len)
{
	uint64_t start = bitmap_next_set(b->words, b->pages, *page);

	if (start >= b->pages)
		return false;
	*page = start;
	*len = bitmap_next_clear(b->words, b->pages, start) - start;
	return true;
}
