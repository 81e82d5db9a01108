/*
 * XXH3-64, the per-page checksum, from Debian's header-only libxxhash-dev.
 *
 * The page hash runs the widest of xxHash's code paths that the CPU and the
 * OS allow: scalar, SSE2, AVX2 or AVX-512F (xxh_sse2.c, xxh_avx2.c,
 * xxh_avx512.c, each built with its instruction set and nothing else). Every
 * path gives the same hash, so the choice changes nothing on the wire; it
 * changes the cost, which in an emulator is the instruction count (about 1.2
 * instructions a byte scalar, a tenth of that with AVX-512). The owner
 * chooses once, with migr_xxh_use(); until then the hash is scalar. The rest
 * of XXH3 here (the digest over the page hashes, once a migration) is scalar
 * and inlined, so that it builds freestanding with -mgeneral-regs-only and
 * needs no allocator.
 *
 * Vector registers in the hypervisor: kernel/arch/x86/xstate.h says when the
 * host may touch them.
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
#include "migration/xxh_path.h"

/* XXH3-64 of one page. */
static inline uint64_t migr_page_hash(const void *page)
{
	return migr_page_hash_now(page);
}

#endif
