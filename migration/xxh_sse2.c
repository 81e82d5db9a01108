/* The page hash with SSE2 (xxh.h); this file alone is built with SSE2 enabled. */
#define XXH_VECTOR XXH_SSE2
#include "migration/xxh.h"

uint64_t migr_page_hash_sse2(const void *page)
{
	return XXH3_64bits(page, MIGR_PAGE_SIZE);
}
