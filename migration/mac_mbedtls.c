/*
 * The record MACs and HMAC-SHA256 of docs/migration-stream.md ("The record
 * MAC") on mbed TLS's primitives, except Poly1305 itself: its per-byte cost
 * is the stream's largest, so each build takes the fastest sound one it can
 * use (mac_poly.h); the per-record ChaCha20 key (64 bytes of work) stays here.
 *
 * HMAC (RFC 2104) is composed here on two SHA-256 contexts held in the
 * caller's migr_mac_state rather than taken from md.c, whose HMAC allocates
 * its contexts: the hypervisor has no heap and this code allocates nothing.
 * The host tests check it against RFC 4231 and against mbedtls_md_hmac().
 */
#include <string.h>
#include "migration/mac.h"
#include "migration/mac_poly.h"
#include "mbedtls/chacha20.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/sha256.h"

#define SHA256_BLOCK 64

struct hmac_state {
	mbedtls_sha256_context inner, outer;
};
_Static_assert(sizeof(struct hmac_state) <= sizeof(struct migr_mac_state), "HMAC state fits");
_Static_assert(_Alignof(struct hmac_state) <= _Alignof(struct migr_mac_state), "HMAC state alignment");

_Static_assert(MIGR_KEY_SIZE == 32, "ChaCha20 takes a 256-bit key");
_Static_assert(MIGR_TAG_SIZE == 16, "tags are 128 bits: Poly1305's, or HMAC-SHA256 truncated");

/* SHA-256 of in-memory data cannot fail in mbed TLS 2.28; its return values carry nothing. */
static void hmac_start(struct hmac_state *h, const uint8_t *key, size_t key_len)
{
	uint8_t k[SHA256_BLOCK] = { 0 }, pad[SHA256_BLOCK];
	size_t i;

	if (key_len > SHA256_BLOCK)
		(void)mbedtls_sha256_ret(key, key_len, k, 0);
	else
		memcpy(k, key, key_len);
	mbedtls_sha256_init(&h->inner);
	mbedtls_sha256_init(&h->outer);
	for (i = 0; i < SHA256_BLOCK; i++)
		pad[i] = (uint8_t)(k[i] ^ 0x36);
	(void)mbedtls_sha256_starts_ret(&h->inner, 0);
	(void)mbedtls_sha256_update_ret(&h->inner, pad, sizeof(pad));
	for (i = 0; i < SHA256_BLOCK; i++)
		pad[i] = (uint8_t)(k[i] ^ 0x5c);
	(void)mbedtls_sha256_starts_ret(&h->outer, 0);
	(void)mbedtls_sha256_update_ret(&h->outer, pad, sizeof(pad));
	mbedtls_platform_zeroize(k, sizeof(k));
	mbedtls_platform_zeroize(pad, sizeof(pad));
}

static void hmac_finish(struct hmac_state *h, uint8_t out[32])
{
	uint8_t ih[32];

	(void)mbedtls_sha256_finish_ret(&h->inner, ih);
	(void)mbedtls_sha256_update_ret(&h->outer, ih, sizeof(ih));
	(void)mbedtls_sha256_finish_ret(&h->outer, out);
	mbedtls_sha256_free(&h->inner);
	mbedtls_sha256_free(&h->outer);
	mbedtls_platform_zeroize(ih, sizeof(ih));
}

void migr_hmac_sha256(const uint8_t *key, size_t key_len, const void *msg, size_t n, uint8_t out[32])
{
	struct hmac_state h;

	hmac_start(&h, key, key_len);
	(void)mbedtls_sha256_update_ret(&h.inner, msg, n);
	hmac_finish(&h, out);
}

static void hmac_rec_init(struct migr_mac_state *st, const struct migr_mac *m, const uint8_t nb[16])
{
	struct hmac_state *h = (struct hmac_state *)st->opaque;

	hmac_start(h, m->key, MIGR_KEY_SIZE);
	(void)mbedtls_sha256_update_ret(&h->inner, nb, 16);
}

static void hmac_rec_update(struct migr_mac_state *st, const void *p, size_t n)
{
	(void)mbedtls_sha256_update_ret(&((struct hmac_state *)st->opaque)->inner, p, n);
}

static void hmac_rec_final(struct migr_mac_state *st, uint8_t tag[MIGR_TAG_SIZE])
{
	uint8_t full[32];

	hmac_finish((struct hmac_state *)st->opaque, full);
	memcpy(tag, full, MIGR_TAG_SIZE);
	mbedtls_platform_zeroize(full, sizeof(full));
}

/*
 * The record's one-time Poly1305 key: the first 32 bytes of the ChaCha20
 * block under the session key whose input words 12-15 (block counter and
 * nonce in RFC 8439's terms) are the 16-byte nonce block itself. The whole
 * block is used, so no two records of a session share a key, however long
 * it runs; for connection 0 this is exactly RFC 8439's poly1305_key_gen
 * with nonce = direction || sequence.
 */
static void poly_one_time_key(const uint8_t key[MIGR_KEY_SIZE], const uint8_t nb[16], uint8_t otk[MIGR_POLY_KEY_SIZE])
{
	static const uint8_t zero[MIGR_POLY_KEY_SIZE];
	mbedtls_chacha20_context c;
	uint32_t counter = (uint32_t)nb[0] | (uint32_t)nb[1] << 8 | (uint32_t)nb[2] << 16 | (uint32_t)nb[3] << 24;

	/* With a 32-byte key, a 12-byte nonce and 32 bytes of output ChaCha20 cannot fail. */
	mbedtls_chacha20_init(&c);
	(void)mbedtls_chacha20_setkey(&c, key);
	(void)mbedtls_chacha20_starts(&c, nb + 4, counter);
	(void)mbedtls_chacha20_update(&c, MIGR_POLY_KEY_SIZE, zero, otk);
	mbedtls_chacha20_free(&c);
}

static void poly_init(struct migr_mac_state *st, const struct migr_mac *m, const uint8_t nb[16])
{
	uint8_t otk[MIGR_POLY_KEY_SIZE];

	poly_one_time_key(m->key, nb, otk);
	migr_poly_start(st, otk);
	migr_poly_update(st, nb, 16);
	mbedtls_platform_zeroize(otk, sizeof(otk));
}

const struct migr_mac_ops migr_mac_hmac_sha256_ops = {
	.alg = MIGR_MAC_HMAC_SHA256_128,
	.name = "HMAC-SHA256-128",
	.init = hmac_rec_init,
	.update = hmac_rec_update,
	.final = hmac_rec_final,
	.hmac256 = migr_hmac_sha256,
};

const struct migr_mac_ops migr_mac_poly1305_ops = {
	.alg = MIGR_MAC_POLY1305,
	.name = "Poly1305",
	.init = poly_init,
	.update = migr_poly_update,
	.final = migr_poly_finish,
	.hmac256 = migr_hmac_sha256,
};
