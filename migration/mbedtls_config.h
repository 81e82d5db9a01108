/*
 * mbed TLS configuration for the migration stream (MBEDTLS_CONFIG_FILE of
 * mk/mbedtls.mk): the primitives docs/migration-stream.md names and nothing
 * else. The same file configures the hypervisor's freestanding build and the
 * host build, so both run the same code.
 *
 * Deliberately absent: MBEDTLS_HAVE_ASM and every accelerated back end (AES-NI,
 * PadLock): the hypervisor is built with -mgeneral-regs-only and owns no
 * SSE state; MBEDTLS_HAVE_TIME*, entropy, net and file-system modules: the
 * kernel has none of them and the stream does not need them (its nonces
 * come from the VM hooks' random source); MBEDTLS_PLATFORM_C: plain libc
 * names are fine, and nothing we build allocates except md.c (host only).
 */
#ifndef MIGR_MBEDTLS_CONFIG_H
#define MIGR_MBEDTLS_CONFIG_H

/* Handshake proofs, key derivation and the HMAC record MAC. */
#define MBEDTLS_SHA256_C
/* Only for the host's cross-check of our HMAC against mbedtls_md_hmac(). */
#define MBEDTLS_MD_C

/* The Poly1305 record MAC, its one-time key from ChaCha20. */
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
/* The AEAD on the same primitives, for encrypting pages should the stream offer it. */
#define MBEDTLS_CHACHAPOLY_C

/*
 * AES-256 for the GMAC record MAC: one block a record and two a session
 * (mac_gmac_openssl_asm.c), so the portable code is fast enough. Its tables
 * are constants rather than built at the first key, which would write
 * shared state from whichever CPU keyed first.
 */
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES

/* mbedtls_platform_zeroize() (platform_util.c) wipes keys and contexts. */

#include "mbedtls/check_config.h"

#endif
