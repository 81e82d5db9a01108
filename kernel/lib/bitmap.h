/*
 * Scanning bitmaps of 64-bit words (bit i is bit i % 64 of word i / 64):
 * the dirty log, the pages a pass sends, the pages a stage gathers. One
 * scan for all of them, since each is on a migration's hot path and an
 * off-by-one at a word's edge skips or repeats a page.
 */
#ifndef HV_KERNEL_LIB_BITMAP_H
#define HV_KERNEL_LIB_BITMAP_H

#include <stdint.h>

/*
 * The first bit at or after from whose value is 1 after xor with flip (0: set bits, ~0: clear
 * bits), below nbits; nbits if there is none. Bits of the last word past nbits are never reported.
 */
static inline uint64_t bitmap_next_with(const uint64_t *words, uint64_t nbits, uint64_t from, uint64_t flip)
{
	uint64_t i = from / 64, n = (nbits + 63) / 64, w, bit;

	if (from >= nbits)
		return nbits;
	w = (words[i] ^ flip) & (~0ull << (from % 64));
	while (!w) {
		if (++i == n)
			return nbits;
		w = words[i] ^ flip;
	}
	bit = i * 64 + (uint64_t)__builtin_ctzll(w);
	return bit < nbits ? bit : nbits;
}

/* The first set bit at or after from, below nbits; nbits if none. */
static inline uint64_t bitmap_next_set(const uint64_t *words, uint64_t nbits, uint64_t from)
{
	return bitmap_next_with(words, nbits, from, 0);
}

/* The first clear bit at or after from, below nbits; nbits if none. */
static inline uint64_t bitmap_next_clear(const uint64_t *words, uint64_t nbits, uint64_t from)
{
	return bitmap_next_with(words, nbits, from, ~0ull);
}

#endif
