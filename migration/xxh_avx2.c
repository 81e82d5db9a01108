/* The page hash with AVX2 (xxh.h); this file alone is built with AVX2 enabled. */
#define XXH_VECTOR XXH_AVX2
#include "migration/xxh.h"

uint64_t migr_page_hash_avx2(const void *page)
{
	return XXH3_64bits(page, MIGR_PAGE_SIZE);
}
