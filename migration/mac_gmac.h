/*
 * AES-256-GMAC, record MAC 3 of docs/migration-stream.md: GCM (NIST SP
 * 800-38D) with the record as additional data and nothing to encrypt, under
 * the session key, with a 96-bit IV made of the record's nonce block. AES
 * comes from mbed TLS (two blocks a record and one per session); GHASH, the
 * per-byte work, from OpenSSL's x86-64 assembly (mac_gmac_openssl_asm.c).
 * GHASH has two paths: PCLMULQDQ with SSSE3, and AVX, which hashes 8 blocks
 * a step. A CPU with neither has no GHASH here, and then migr_mac_find()
 * does not offer the algorithm. A build may add a third, on 512-bit
 * registers (migr_ghash_wide_set: the Linux program's comes from Intel's
 * ipsec-mb, linerate/ghash_ipsecmb.c), which OpenSSL 3.0's assembly lacks.
 * Every path gives the same tags.
 */
#ifndef MIGR_MAC_GMAC_H
#define MIGR_MAC_GMAC_H

#include <stddef.h>
#include <stdint.h>
#include "migration/cpu.h"

enum migr_ghash_path {
	MIGR_GHASH_NONE,
	MIGR_GHASH_CLMUL, /* PCLMULQDQ on 128-bit registers, 4 blocks a step */
	MIGR_GHASH_AVX,   /* VEX-encoded PCLMULQDQ, 8 blocks a step */
	MIGR_GHASH_WIDE,  /* VPCLMULQDQ on 512-bit registers, where the build set one */
	MIGR_GHASH_PATHS
};

/* Bytes of a wide path's table of H's powers, at most. */
#define MIGR_GHASH_WIDE_TABLE 1024u

/*
 * A GHASH the build links beside OpenSSL's. xi is the running hash and the
 * table what init() made of H, both as OpenSSL's assembly lays them out:
 * xi in GCM's byte order, H (to init) in two big-endian halves; len is a
 * multiple of 16.
 */
struct migr_ghash_wide {
	const char *name;
	void (*init)(void *table, const uint64_t h[2]);
	void (*ghash)(uint64_t xi[2], const void *table, const uint8_t *in, size_t len);
};

/* From now on the wide path is w (NULL: none); before it, a build has none. */
void migr_ghash_wide_set(const struct migr_ghash_wide *w);

/* Pure: the widest path up to max that the CPU's instructions and XCR0 allow. */
enum migr_ghash_path migr_ghash_pick(const struct migr_cpu *cpu, enum migr_ghash_path max);

/* Sessions keyed from now on take migr_ghash_pick(cpu, max), below the wide path if none is set; returns it. */
enum migr_ghash_path migr_ghash_use(const struct migr_cpu *cpu, enum migr_ghash_path max);

/* The path migr_ghash_use() set last (MIGR_GHASH_NONE before any). */
enum migr_ghash_path migr_ghash_now(void);

const char *migr_ghash_path_name(enum migr_ghash_path p);

#endif
