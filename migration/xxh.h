/*
 * XXH3-64, the per-page checksum, from Debian's header-only libxxhash-dev.
 * Inlined and scalar so that it builds freestanding with
 * -mgeneral-regs-only (no SSE in the hypervisor) and needs no allocator.
 * A build that may use vector registers says which paths on its command
 * line (the Linux program: linerate/linerate.mk); the hash is the same.
 */
#ifndef MIGR_XXH_H
#define MIGR_XXH_H

#define XXH_INLINE_ALL
#ifndef XXH_VECTOR
#define XXH_VECTOR XXH_SCALAR
#endif
/*
 * Loads through a packed struct, not memcpy: -ffreestanding implies
 * -fno-builtin, so every 8-byte read became a call into newlib's memcpy
 * (measured in Bochs: 6.5 instructions per byte hashed instead of ~1).
 */
#define XXH_FORCE_MEMORY_ACCESS 1
#include <xxhash.h>

#include <stdint.h>
#include "migration/stream.h"

static inline uint64_t migr_page_hash(const void *page)
{
	return XXH3_64bits(page, MIGR_PAGE_SIZE);
}

#endif
