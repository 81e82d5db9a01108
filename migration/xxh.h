/*
 * XXH3-64, the per-page checksum, from Debian's header-only libxxhash-dev.
 * Inlined and scalar so that it builds freestanding with
 * -mgeneral-regs-only (no SSE in the hypervisor) and needs no allocator.
 */
#ifndef MIGR_XXH_H
#define MIGR_XXH_H

#define XXH_INLINE_ALL
#define XXH_VECTOR XXH_SCALAR
#include <xxhash.h>

#include <stdint.h>
#include "migration/stream.h"

static inline uint64_t migr_page_hash(const void *page)
{
	return XXH3_64bits(page, MIGR_PAGE_SIZE);
}

#endif
