/*
 * Poly1305 for the record MAC (mac_poly.h) from OpenSSL's x86-64 assembly,
 * its scalar code only: radix 2^64 with mulq and add-with-carry, 2.4
 * instructions per byte against 5.3 for libsodium's portable C (64-bit limbs)
 * and 10.4 for mbed TLS's 32-bit limbs (tests/bench/poly1305.c). In an emulator a byte
 * costs its instructions, and the MAC is the stream's largest per-byte cost.
 * It uses general registers only, as the hypervisor must.
 *
 * mk/openssl-poly.mk generates the assembly unmodified from OpenSSL's
 * perlasm with no vector code and no CPU dispatch, so the object has just the
 * three entry points below (and two ChaCha20-Poly1305 helpers nothing calls).
 * What OpenSSL's C layer adds on top of them, the buffering of partial blocks
 * and the final block's padding (RFC 8439, section 2.5.1), is here.
 */
#include <string.h>
#include "migration/mac_poly.h"
#include "mbedtls/platform_util.h"

#define POLY_BLOCK 16

/* The assembly's entry points (OpenSSL's crypto/poly1305/asm/poly1305-x86_64.pl). */
int poly1305_init(void *ctx, const uint8_t key[16], void *func[2]);
void poly1305_blocks(void *ctx, const uint8_t *inp, size_t len, uint32_t padbit);
void poly1305_emit(void *ctx, uint8_t mac[16], const uint32_t nonce[4]);

struct poly_asm {
	uint64_t acc[8];      /* the assembly's accumulator and r: 40 bytes used */
	uint32_t s[4];        /* the key's second half, added at the end */
	uint8_t buf[POLY_BLOCK]; /* a partial block waiting for more input */
	size_t held;
};
_Static_assert(sizeof(struct poly_asm) <= sizeof(struct migr_mac_state), "Poly1305 state fits");

const char migr_poly_impl[] = "OpenSSL 3.0 poly1305-x86_64 scalar assembly";

static struct poly_asm *poly(struct migr_mac_state *st)
{
	return (struct poly_asm *)(void *)st->opaque;
}

void migr_poly_start(struct migr_mac_state *st, const uint8_t otk[MIGR_POLY_KEY_SIZE])
{
	struct poly_asm *p = poly(st);
	void *fn[2]; /* the routines dispatch would pick: always the ones named above in this build */

	(void)poly1305_init(p->acc, otk, fn); /* clamps r, clears the accumulator; 1 for a key */
	memcpy(p->s, otk + 16, sizeof(p->s));
	p->held = 0;
}

void migr_poly_update(struct migr_mac_state *st, const void *in, size_t n)
{
	struct poly_asm *p = poly(st);
	const uint8_t *b = in;
	size_t whole;

	if (p->held) {
		size_t take = POLY_BLOCK - p->held < n ? POLY_BLOCK - p->held : n;

		memcpy(p->buf + p->held, b, take);
		p->held += take;
		b += take;
		n -= take;
		if (p->held < POLY_BLOCK)
			return;
		poly1305_blocks(p->acc, p->buf, POLY_BLOCK, 1);
		p->held = 0;
	}
	whole = n & ~(size_t)(POLY_BLOCK - 1);
	if (whole)
		poly1305_blocks(p->acc, b, whole, 1);
	if (n > whole) {
		memcpy(p->buf, b + whole, n - whole);
		p->held = n - whole;
	}
}

void migr_poly_finish(struct migr_mac_state *st, uint8_t tag[MIGR_TAG_SIZE])
{
	struct poly_asm *p = poly(st);

	/* A last partial block ends with a 1 byte and zeros, and takes no 2^128 bit (padbit 0). */
	if (p->held) {
		p->buf[p->held] = 1;
		memset(p->buf + p->held + 1, 0, POLY_BLOCK - p->held - 1);
		poly1305_blocks(p->acc, p->buf, POLY_BLOCK, 0);
	}
	poly1305_emit(p->acc, tag, p->s);
	mbedtls_platform_zeroize(p, sizeof(*p));
}
