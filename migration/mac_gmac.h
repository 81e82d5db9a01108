/*
 * AES-256-GMAC, record MAC 3 of docs/migration-stream.md: GCM (NIST SP
 * 800-38D) with the record as additional data and nothing to encrypt, under
 * the session key, with a 96-bit IV made of the record's nonce block. AES
 * comes from mbed TLS (two blocks a record and one per session); GHASH, the
 * per-byte work, from OpenSSL's x86-64 assembly (mac_gmac_openssl_asm.c).
 * GHASH has two paths: PCLMULQDQ with SSSE3, and AVX, which hashes 8 blocks
 * a step. A CPU with neither has no GHASH here, and then migr_mac_find()
 * does not offer the algorithm. Every path gives the same tags.
 */
#ifndef MIGR_MAC_GMAC_H
#define MIGR_MAC_GMAC_H

#include "migration/cpu.h"

enum migr_ghash_path {
	MIGR_GHASH_NONE,
	MIGR_GHASH_CLMUL, /* PCLMULQDQ on 128-bit registers, 4 blocks a step */
	MIGR_GHASH_AVX,   /* VEX-encoded PCLMULQDQ, 8 blocks a step */
	MIGR_GHASH_PATHS
};

/* Pure: the widest path up to max that the CPU's instructions and XCR0 allow. */
enum migr_ghash_path migr_ghash_pick(const struct migr_cpu *cpu, enum migr_ghash_path max);

/* Sessions keyed from now on take migr_ghash_pick(cpu, max); returns that path. */
enum migr_ghash_path migr_ghash_use(const struct migr_cpu *cpu, enum migr_ghash_path max);

/* The path migr_ghash_use() set last (MIGR_GHASH_NONE before any). */
enum migr_ghash_path migr_ghash_now(void);

const char *migr_ghash_path_name(enum migr_ghash_path p);

#endif
