/* The page hash with AVX-512F (xxh.h); this file alone is built with AVX-512F enabled. */
#define XXH_VECTOR XXH_AVX512
#include "migration/xxh.h"

uint64_t migr_page_hash_avx512(const void *page)
{
	return XXH3_64bits(page, MIGR_PAGE_SIZE);
}
