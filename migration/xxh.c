/* The page hash's code path (xxh.h). */
#include "migration/xxh.h"

static migr_page_hash_fn *const paths[MIGR_XXH_PATHS] = {
	[MIGR_XXH_SCALAR] = migr_page_hash_scalar,
	[MIGR_XXH_SSE2] = migr_page_hash_sse2,
	[MIGR_XXH_AVX2] = migr_page_hash_avx2,
	[MIGR_XXH_AVX512] = migr_page_hash_avx512,
};

static const char *const names[MIGR_XXH_PATHS] = {
	[MIGR_XXH_SCALAR] = "scalar",
	[MIGR_XXH_SSE2] = "SSE2",
	[MIGR_XXH_AVX2] = "AVX2",
	[MIGR_XXH_AVX512] = "AVX-512F",
};

migr_page_hash_fn *migr_page_hash_now = migr_page_hash_scalar;

uint64_t migr_page_hash_scalar(const void *page)
{
	return XXH3_64bits(page, MIGR_PAGE_SIZE);
}

enum migr_xxh_path migr_xxh_pick(const struct migr_cpu *cpu, enum migr_xxh_path max)
{
	/* SSE2 state is enabled by any OS that runs x86-64 code (CR4.OSFXSR); the wider ones are in XCR0. */
	if (max < MIGR_XXH_SSE2 || !(cpu->leaf1_edx & MIGR_CPU1_EDX_SSE2))
		return MIGR_XXH_SCALAR;
	if (max < MIGR_XXH_AVX2 || !migr_cpu_avx2(cpu))
		return MIGR_XXH_SSE2;
	if (max < MIGR_XXH_AVX512 || !migr_cpu_avx512f(cpu))
		return MIGR_XXH_AVX2;
	return MIGR_XXH_AVX512;
}

enum migr_xxh_path migr_xxh_use(const struct migr_cpu *cpu, enum migr_xxh_path max)
{
	enum migr_xxh_path p = migr_xxh_pick(cpu, max);

	migr_page_hash_now = paths[p];
	return p;
}

enum migr_xxh_path migr_xxh_now(void)
{
	enum migr_xxh_path p = MIGR_XXH_SCALAR;

	while (p < MIGR_XXH_PATHS && paths[p] != migr_page_hash_now)
		p++;
	return p;
}

const char *migr_xxh_path_name(enum migr_xxh_path p)
{
	return p < MIGR_XXH_PATHS ? names[p] : "?";
}
