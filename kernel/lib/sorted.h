/* Searches in ascending arrays. */
#ifndef KERNEL_LIB_SORTED_H
#define KERNEL_LIB_SORTED_H

#include <stddef.h>
#include <stdint.h>

/* The index of the first of a[0..n) not below key (n if none), a ascending. */
static inline size_t u64_lower_bound(const uint64_t *a, size_t n, uint64_t key)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (a[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

#endif
