/*
 * AES-256-GMAC for the record MAC (mac_gmac.h). GHASH is the per-byte work:
 * OpenSSL's x86-64 assembly (crypto/modes/asm/ghash-x86_64.pl, generated
 * unmodified by mk/openssl-poly.mk), or the wide path a build set, does it.
 * OpenSSL's did, on the host these figures come from, in 0.10 ns a byte
 * on its AVX path against Poly1305's 0.18 on AVX-512 IFMA, but in 106
 * instructions per 128 bytes against Poly1305's 61: an emulator, where a
 * byte costs its instructions, is better served by Poly1305, and
 * migr_mac_pick() measures which one a host proposes. What OpenSSL's C
 * layer (gcm128.c) adds on top is here, from SP 800-38D: H = AES_K(0) in the
 * byte order the assembly's init takes, the partial block's zero padding,
 * the length block and the tag, GHASH_H(A || 0^v || [len(A)]64 || [0]64)
 * XOR AES_K(J0) with J0 = IV || 0^31 || 1, where A is the nonce block
 * followed by the record.
 *
 * The IV is the nonce block's three fields in 96 bits: connection index and
 * direction in 16 bits each (both are small, below), sequence in 64. It
 * never repeats under a session key, which a GCM tag needs.
 */
#include <string.h>
#include "migration/mac.h"
#include "migration/mac_gmac.h"
#include "migration/stream.h"
#include "mbedtls/aes.h"

#define GCM_BLOCK 16

_Static_assert(MIGR_CONN_MAX < 0x10000, "a connection index fits the IV's 16 bits");

/* The assembly's entry points; Xi is the hash in GCM's byte order, H in two big-endian halves. */
typedef void ghash_fn(uint64_t xi[2], const void *htable, const uint8_t *in, size_t len);
void gcm_init_clmul(void *htable, const uint64_t h[2]);
void gcm_ghash_clmul(uint64_t xi[2], const void *htable, const uint8_t *in, size_t len);
void gcm_init_avx(void *htable, const uint64_t h[2]);
void gcm_ghash_avx(uint64_t xi[2], const void *htable, const uint8_t *in, size_t len);

struct gmac_session {
	union {
		_Alignas(64) uint64_t htable[32]; /* H's powers as OpenSSL's init laid them out (its u128[16]) */
		_Alignas(64) uint8_t wide[MIGR_GHASH_WIDE_TABLE]; /* or as the wide path's did */
	};
	ghash_fn *ghash; /* the path the table was made for: a session never mixes two */
	mbedtls_aes_context aes;
};
_Static_assert(sizeof(struct gmac_session) <= sizeof(struct migr_mac_session), "GMAC session fits");

struct gmac_state {
	uint64_t xi[2];
	const struct gmac_session *s;
	uint8_t ek0[GCM_BLOCK];
	uint8_t buf[GCM_BLOCK];
	size_t held;
	uint64_t len; /* bytes of additional data so far */
};
_Static_assert(sizeof(struct gmac_state) <= sizeof(struct migr_mac_state), "GMAC state fits");

static const char *const path_names[MIGR_GHASH_PATHS] = {
	[MIGR_GHASH_NONE] = "none",
	[MIGR_GHASH_CLMUL] = "PCLMULQDQ",
	[MIGR_GHASH_AVX] = "AVX",
	[MIGR_GHASH_WIDE] = "VPCLMULQDQ-512",
};

static enum migr_ghash_path ghash_path = MIGR_GHASH_NONE;
static const struct migr_ghash_wide *ghash_wide;

void migr_ghash_wide_set(const struct migr_ghash_wide *w)
{
	ghash_wide = w;
}

const char *migr_ghash_path_name(enum migr_ghash_path p)
{
	return p < MIGR_GHASH_PATHS ? path_names[p] : "?";
}

enum migr_ghash_path migr_ghash_pick(const struct migr_cpu *cpu, enum migr_ghash_path max)
{
	const uint32_t clmul = MIGR_CPU1_PCLMULQDQ | MIGR_CPU1_SSSE3;

	if (max < MIGR_GHASH_CLMUL || (cpu->leaf1_ecx & clmul) != clmul || !(cpu->leaf1_edx & MIGR_CPU1_EDX_SSE2))
		return MIGR_GHASH_NONE;
	if (max < MIGR_GHASH_AVX || !migr_cpu_avx(cpu))
		return MIGR_GHASH_CLMUL;
	if (max < MIGR_GHASH_WIDE || !migr_cpu_vpclmul512(cpu))
		return MIGR_GHASH_AVX;
	return MIGR_GHASH_WIDE;
}

enum migr_ghash_path migr_ghash_use(const struct migr_cpu *cpu, enum migr_ghash_path max)
{
	if (!ghash_wide && max > MIGR_GHASH_AVX)
		max = MIGR_GHASH_AVX;
	ghash_path = migr_ghash_pick(cpu, max);
	return ghash_path;
}

enum migr_ghash_path migr_ghash_now(void)
{
	return ghash_path;
}

static uint64_t be64(const uint8_t *b)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

static void put_be64(uint8_t *b, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
}

/* AES of one block under the session's round keys, which encrypting does not change. */
static void aes_block(const struct gmac_session *s, const uint8_t in[GCM_BLOCK], uint8_t out[GCM_BLOCK])
{
	(void)mbedtls_aes_crypt_ecb((mbedtls_aes_context *)&s->aes, MBEDTLS_AES_ENCRYPT, in, out);
}

static void gmac_keyed(struct migr_mac *m)
{
	struct gmac_session *s = (struct gmac_session *)(void *)m->session.opaque;
	uint8_t h[GCM_BLOCK] = { 0 };
	uint64_t hw[2];

	mbedtls_aes_init(&s->aes);
	(void)mbedtls_aes_setkey_enc(&s->aes, m->key, 8 * MIGR_KEY_SIZE); /* a 256-bit key cannot be refused */
	aes_block(s, h, h);
	hw[0] = be64(h);
	hw[1] = be64(h + 8);
	if (ghash_path == MIGR_GHASH_WIDE) {
		ghash_wide->init(s->wide, hw);
		s->ghash = ghash_wide->ghash;
	} else if (ghash_path == MIGR_GHASH_AVX) {
		gcm_init_avx(s->htable, hw);
		s->ghash = gcm_ghash_avx;
	} else {
		/* MIGR_GHASH_NONE never gets here: migr_mac_find() does not offer GMAC without a path. */
		gcm_init_clmul(s->htable, hw);
		s->ghash = gcm_ghash_clmul;
	}
	migr_mac_wipe(h, sizeof(h));
	migr_mac_wipe(hw, sizeof(hw));
}

static void gmac_update(struct migr_mac_state *st, const void *in, size_t n);

static void gmac_init(struct migr_mac_state *st, const struct migr_mac *m, const uint8_t nb[16])
{
	struct gmac_state *g = (struct gmac_state *)(void *)st->opaque;
	uint8_t j0[GCM_BLOCK] = { 0 };

	g->s = (const struct gmac_session *)(const void *)m->session.opaque;
	memcpy(j0, nb, 2);          /* connection index, little-endian as in the nonce block */
	memcpy(j0 + 2, nb + 4, 2);  /* direction */
	memcpy(j0 + 4, nb + 8, 8);  /* sequence */
	j0[15] = 1;
	aes_block(g->s, j0, g->ek0);
	g->xi[0] = g->xi[1] = 0;
	g->held = 0;
	g->len = 0;
	/* As under the other MACs, the tag covers the nonce block too: each of its bits counts. */
	gmac_update(st, nb, 16);
}

static void gmac_update(struct migr_mac_state *st, const void *in, size_t n)
{
	struct gmac_state *g = (struct gmac_state *)(void *)st->opaque;
	const uint8_t *b = in;
	size_t whole;

	g->len += n;
	if (g->held) {
		size_t take = GCM_BLOCK - g->held < n ? GCM_BLOCK - g->held : n;

		memcpy(g->buf + g->held, b, take);
		g->held += take;
		b += take;
		n -= take;
		if (g->held < GCM_BLOCK)
			return;
		g->s->ghash(g->xi, g->s->htable, g->buf, GCM_BLOCK);
		g->held = 0;
	}
	whole = n & ~(size_t)(GCM_BLOCK - 1);
	if (whole)
		g->s->ghash(g->xi, g->s->htable, b, whole);
	if (n > whole) {
		memcpy(g->buf, b + whole, n - whole);
		g->held = n - whole;
	}
}

static void gmac_final(struct migr_mac_state *st, uint8_t tag[MIGR_TAG_SIZE])
{
	struct gmac_state *g = (struct gmac_state *)(void *)st->opaque;
	uint8_t last[2 * GCM_BLOCK] = { 0 }, x[GCM_BLOCK];
	size_t n = 0, i;

	if (g->held) {
		memcpy(last, g->buf, g->held);
		n = GCM_BLOCK;
	}
	put_be64(last + n, g->len * 8); /* [len(A)]64 || [len(C) = 0]64 */
	g->s->ghash(g->xi, g->s->htable, last, n + GCM_BLOCK);
	memcpy(x, g->xi, sizeof(x));
	for (i = 0; i < GCM_BLOCK; i++)
		tag[i] = (uint8_t)(x[i] ^ g->ek0[i]);
	migr_mac_wipe(g, sizeof(*g));
	migr_mac_wipe(last, sizeof(last));
	migr_mac_wipe(x, sizeof(x));
}

const struct migr_mac_ops migr_mac_gmac_ops = {
	.alg = MIGR_MAC_AES_GMAC,
	.name = "AES-256-GMAC",
	.keyed = gmac_keyed,
	.init = gmac_init,
	.update = gmac_update,
	.final = gmac_final,
	.hmac256 = migr_hmac_sha256,
};
