/*
 * The cryptography the stream needs, behind one small table so that the
 * codec and the state machines never name a library.
 *
 * mac_mbedtls.c implements two record MACs of docs/migration-stream.md on
 * mbed TLS: HMAC-SHA256-128 and Poly1305 with a per-record ChaCha20 key,
 * whose Poly1305 comes from the build's own (mac_poly.h); mac_gmac.c the
 * third, AES-256-GMAC. Which one a sender proposes is measured at start-up
 * (migr_mac_pick). migr_mac_unsound_test_ops (mac_test.c) is NOT a MAC: a
 * keyed checksum for host tests that need a stand-in with cheap, predictable
 * tags; migr_mac_find() never returns it.
 */
#ifndef MIGR_MAC_H
#define MIGR_MAC_H

#include <stddef.h>
#include <stdint.h>
#include "migration/stream.h"

/* Room for any implementation's running state (an HMAC-SHA256 context is ~220 bytes). */
struct migr_mac_state {
	_Alignas(64) unsigned char opaque[1024];
};

/*
 * What an algorithm derives from a session key once, rather than for every record (AES's round keys, H's
 * powers: a wide GHASH keeps 48 of them, mac_gmac.h).
 */
struct migr_mac_session {
	_Alignas(64) unsigned char opaque[1408];
};

struct migr_mac;

struct migr_mac_ops {
	uint32_t alg; /* enum migr_mac_alg, as announced in HELLO */
	const char *name;
	/* Fills m->session from m->key; NULL where an algorithm has nothing to derive. */
	void (*keyed)(struct migr_mac *m);
	/* Starts one record's tag under m; nb is the 16-byte nonce block (index, direction, sequence). */
	void (*init)(struct migr_mac_state *st, const struct migr_mac *m, const uint8_t nb[16]);
	void (*update)(struct migr_mac_state *st, const void *p, size_t n);
	void (*final)(struct migr_mac_state *st, uint8_t tag[MIGR_TAG_SIZE]);
	/* One-shot HMAC-SHA256 (or the test stand-in) for proofs and key derivation. */
	void (*hmac256)(const uint8_t *key, size_t key_len, const void *msg, size_t n, uint8_t out[32]);
};

/*
 * A session's record key with the algorithm that uses it. Set it with
 * migr_mac_set(), and do not copy it: the session may point into itself.
 */
struct migr_mac {
	const struct migr_mac_ops *ops;
	uint8_t key[MIGR_KEY_SIZE];
	struct migr_mac_session session;
};

/* m takes ops and key, and what ops derives from the key. */
void migr_mac_set(struct migr_mac *m, const struct migr_mac_ops *ops, const uint8_t key[MIGR_KEY_SIZE]);

/* Wipes m's key and session. */
void migr_mac_clear(struct migr_mac *m);

/* Zeroes n bytes of key material in a way the compiler keeps. */
void migr_mac_wipe(void *p, size_t n);

extern const struct migr_mac_ops migr_mac_hmac_sha256_ops;
extern const struct migr_mac_ops migr_mac_poly1305_ops;
extern const struct migr_mac_ops migr_mac_gmac_ops;
extern const struct migr_mac_ops migr_mac_unsound_test_ops;

/* The record MAC a sender proposes until migr_mac_pick() has measured which is fastest here. */
#define MIGR_MAC_DEFAULT MIGR_MAC_POLY1305

/* HMAC-SHA256 on mbed TLS (mac_mbedtls.c): every real MAC's hmac256. */
void migr_hmac_sha256(const uint8_t *key, size_t key_len, const void *msg, size_t n, uint8_t out[32]);

/* The real implementation of an algorithm named in HELLO, or NULL (also where this CPU cannot run it); mac_pick.c. */
const struct migr_mac_ops *migr_mac_find(uint32_t alg);

/*
 * Handshake derivations (docs/migration-stream.md, "The record MAC"):
 * label is "ferry A", "ferry B", "ferry key" or "ferry sid".
 */
void migr_mac_derive(const struct migr_mac_ops *ops, const uint8_t *secret, size_t secret_len,
		     const char *label, const uint8_t nonce_a[MIGR_NONCE_SIZE],
		     const uint8_t nonce_b[MIGR_NONCE_SIZE], uint8_t out[32]);

/* Constant-time comparison for tags and proofs. */
int migr_mac_equal(const uint8_t *a, const uint8_t *b, size_t n);

#endif
