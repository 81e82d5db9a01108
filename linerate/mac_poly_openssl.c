/*
 * Poly1305 for the record MAC (migration/mac_poly.h) from OpenSSL 3's
 * libcrypto: its assembly picks the widest path the CPU offers (AVX-512 IFMA,
 * AVX2, AVX, scalar), 0.18 ns a byte on the AVX-512 host measured against
 * 0.64 for the scalar assembly alone, the hypervisor's (tests/bench/poly1305.c).
 * The hypervisor cannot link libcrypto; ferry-migrate can.
 *
 * EVP_MAC keeps its state behind an allocated context, so each tag gets its
 * own, freed by migr_poly_finish (the stream computes a tag in one go:
 * start, updates, finish). A context costs about half a microsecond, a few
 * percent of a 128 KiB record.
 *
 * What reaches OpenSSL is shaped, not only what the stream feeds: its AVX-512
 * path runs 8 blocks (128 bytes) at a time only when a call's block count is a
 * multiple of 8 (after one or three leading blocks when it is odd); any other
 * count takes the 4-way path throughout, 1.5 to 2.6 times slower. A PAGE_DATA
 * record's pages start 8 bytes into a block (its head is 280 bytes), so every
 * update over pages that the receiver makes as they arrive began with a
 * partial block and a count of the wrong shape: a 280-byte head then 128 KiB
 * of pages in cache measured 0.12-0.20 s/GiB, against 0.079 shaped (and 0.077
 * for the same bytes in one call). Here a call finishes the held partial block
 * by itself, hands over whole 128-byte groups in one call, the remaining whole
 * blocks in another, and holds back only a partial block.
 */
#include "migration/mac_poly.h"
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 16u
#define GROUP (8u * BLOCK) /* what the 8-way path takes at a time */

struct poly_state {
	EVP_MAC_CTX *ctx;
	size_t held;          /* bytes of a partial block, never a whole one */
	uint8_t hold[BLOCK];
};
_Static_assert(sizeof(struct poly_state) <= sizeof(struct migr_mac_state), "Poly1305 state fits");

const char migr_poly_impl[] = "OpenSSL 3 libcrypto EVP_MAC poly1305";

static EVP_MAC *poly_mac;
static pthread_once_t poly_once = PTHREAD_ONCE_INIT;

static void poly_fetch(void)
{
	poly_mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_POLY1305, NULL);
}

/*
 * A tag we cannot compute has no safe stand-in: any fixed value would let a
 * record through unchecked. OpenSSL fails here only without memory or without
 * its default provider, and the process stops.
 */
static void poly_fail(const char *what)
{
	fprintf(stderr, "ferry-migrate: OpenSSL Poly1305 %s failed\n", what);
	abort();
}

static struct poly_state *poly(struct migr_mac_state *st)
{
	return (struct poly_state *)(void *)st->opaque;
}

void migr_poly_start(struct migr_mac_state *st, const uint8_t otk[MIGR_POLY_KEY_SIZE])
{
	struct poly_state *p = poly(st);

	if (pthread_once(&poly_once, poly_fetch) != 0 || !poly_mac)
		poly_fail("fetch");
	p->held = 0;
	p->ctx = EVP_MAC_CTX_new(poly_mac);
	if (!p->ctx || !EVP_MAC_init(p->ctx, otk, MIGR_POLY_KEY_SIZE, NULL))
		poly_fail("init");
}

static void feed(struct poly_state *ps, const uint8_t *p, size_t n)
{
	if (n && !EVP_MAC_update(ps->ctx, p, n))
		poly_fail("update");
}

void migr_poly_update(struct migr_mac_state *st, const void *data, size_t n)
{
	struct poly_state *ps = poly(st);
	const uint8_t *p = data;
	size_t k;

	if (ps->held) {
		k = BLOCK - ps->held < n ? BLOCK - ps->held : n;
		memcpy(ps->hold + ps->held, p, k);
		ps->held += k;
		p += k;
		n -= k;
		if (ps->held < BLOCK)
			return;
		feed(ps, ps->hold, BLOCK);
		ps->held = 0;
	}
	k = n / GROUP * GROUP;
	feed(ps, p, k);
	feed(ps, p + k, (n - k) / BLOCK * BLOCK);
	k = n / BLOCK * BLOCK;
	memcpy(ps->hold, p + k, n - k);
	ps->held = n - k;
}

void migr_poly_finish(struct migr_mac_state *st, uint8_t tag[MIGR_TAG_SIZE])
{
	struct poly_state *p = poly(st);
	size_t len = 0;

	feed(p, p->hold, p->held);
	if (!EVP_MAC_final(p->ctx, tag, &len, MIGR_TAG_SIZE) || len != MIGR_TAG_SIZE)
		poly_fail("final");
	EVP_MAC_CTX_free(p->ctx);
	p->ctx = NULL;
}
