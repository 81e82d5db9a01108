/*
 * The page hash's code paths (xxh.h): which one runs, without xxHash's
 * header, for the owners that choose it at start-up.
 */
#ifndef MIGR_XXH_PATH_H
#define MIGR_XXH_PATH_H

#include <stdint.h>
#include "migration/cpu.h"

enum migr_xxh_path {
	MIGR_XXH_SCALAR,
	MIGR_XXH_SSE2,
	MIGR_XXH_AVX2,
	MIGR_XXH_AVX512, /* AVX-512F */
	MIGR_XXH_PATHS
};

typedef uint64_t migr_page_hash_fn(const void *page);

/* The page hash on each path; call one only where migr_xxh_pick() allows it. */
migr_page_hash_fn migr_page_hash_scalar, migr_page_hash_sse2, migr_page_hash_avx2, migr_page_hash_avx512;

/* The path the page hash takes now (migr_xxh_use). */
extern migr_page_hash_fn *migr_page_hash_now;

/* Pure: the widest path up to max that the CPU's instructions and XCR0's enabled state both allow. */
enum migr_xxh_path migr_xxh_pick(const struct migr_cpu *cpu, enum migr_xxh_path max);

/* Makes the page hash take migr_xxh_pick(cpu, max) from now on; returns that path. */
enum migr_xxh_path migr_xxh_use(const struct migr_cpu *cpu, enum migr_xxh_path max);

/* The path the page hash takes now. */
enum migr_xxh_path migr_xxh_now(void);

const char *migr_xxh_path_name(enum migr_xxh_path p);

#endif
