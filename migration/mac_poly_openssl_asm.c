/*
 * Poly1305 for the record MAC (mac_poly.h) from OpenSSL's x86-64 assembly:
 * its scalar code (radix 2^64 with mulq and add-with-carry, 2.4
 * instructions per byte against 5.3 for libsodium's portable C and 10.4 for
 * mbed TLS's 32-bit limbs, tests/bench/poly1305.c), its AVX, AVX2 and
 * AVX-512F code (radix 2^26, 2, 4 or 8 blocks a step) and its AVX-512 IFMA
 * code (radix 2^44, 8 blocks a step in 61 instructions where AVX-512F takes
 * about 130). In an emulator a byte
 * costs its instructions whatever their width, and the MAC is the stream's
 * largest per-byte cost, so the widest path the CPU and the OS allow wins.
 *
 * mk/openssl-poly.mk generates the assembly unmodified from OpenSSL's
 * perlasm. poly1305_init picks the blocks and emit routines from
 * OPENSSL_ia32cap_P, defined here and filled by migr_poly_use()
 * (mac_poly_asm.h); every later call goes through the pointers it returned.
 * The vector routines end with VZEROUPPER or VZEROALL. What OpenSSL's C
 * layer adds on top, the buffering of partial blocks and the final block's
 * padding (RFC 8439, section 2.5.1), is here.
 */
#include <string.h>
#include "migration/cpu.h"
#include "migration/mac_poly.h"
#include "migration/mac_poly_asm.h"
#include "mbedtls/platform_util.h"

#define POLY_BLOCK 16
/*
 * The IFMA code takes its 8-way loop only for a whole number of 8-block groups: other block counts
 * go down its 4-way loop, at twice the instructions per byte. On that path input is handed over in
 * groups, the rest held. The other paths take any whole blocks; there, in Bochs, holding groups
 * back doubled the AVX-512F path's cost per byte, so they get blocks as before.
 */
#define POLY_GROUP (8 * POLY_BLOCK)
static size_t poly_group = POLY_BLOCK; /* POLY_GROUP on the IFMA path; a tag keeps what its start saw */

/*
 * Read by the assembly, rip-relative. Only the bits of the path chosen are
 * set: the assembly tests them, and nothing else of OpenSSL reads them here.
 */
__attribute__((visibility("hidden"))) uint32_t OPENSSL_ia32cap_P[4];

/* The assembly's entry points (OpenSSL's crypto/poly1305/asm/poly1305-x86_64.pl). */
typedef void poly_blocks_fn(void *ctx, const uint8_t *inp, size_t len, uint32_t padbit);
typedef void poly_emit_fn(void *ctx, uint8_t mac[16], const uint32_t nonce[4]);
int poly1305_init(void *ctx, const uint8_t key[16], void *func[2]);

struct poly_asm {
	/* The assembly's context: hash and r, and for the vector paths r's powers (OpenSSL's double[24]). */
	uint64_t ctx[24];
	poly_blocks_fn *blocks;
	poly_emit_fn *emit;
	uint32_t s[4];        /* the key's second half, added at the end */
	uint8_t buf[POLY_GROUP]; /* less than group bytes, waiting for more input */
	size_t held;
	size_t group;         /* what the blocks routine is handed at a time: its path's, fixed at the start */
};
_Static_assert(sizeof(struct poly_asm) <= sizeof(struct migr_mac_state), "Poly1305 state fits");

const char migr_poly_impl[] = "OpenSSL 3.0 poly1305-x86_64 assembly";

static const char *const path_names[MIGR_POLY_PATHS] = {
	[MIGR_POLY_SCALAR] = "scalar",
	[MIGR_POLY_AVX] = "AVX",
	[MIGR_POLY_AVX2] = "AVX2",
	[MIGR_POLY_AVX512] = "AVX-512F",
	[MIGR_POLY_IFMA] = "AVX-512 IFMA",
};

const char *migr_poly_path_name(enum migr_poly_path p)
{
	return p < MIGR_POLY_PATHS ? path_names[p] : "?";
}

enum migr_poly_path migr_poly_caps(const struct migr_cpu *cpu, enum migr_poly_path max, uint32_t cap[4])
{
	const uint32_t vec7 = MIGR_CPU7_AVX2 | MIGR_CPU7_AVX512F | MIGR_CPU7_AVX512IFMA | MIGR_CPU7_AVX512BW |
			      MIGR_CPU7_AVX512VL;

	cap[0] = cpu->leaf1_edx;
	cap[1] = cpu->leaf1_ecx & ~MIGR_CPU1_AVX;
	cap[2] = cpu->leaf7_ebx & ~vec7;
	cap[3] = cpu->leaf7_ecx;
	/* Each path needs its instructions from CPUID and its registers' state from XCR0, and the narrower ones. */
	if (max < MIGR_POLY_AVX || !migr_cpu_avx(cpu))
		return MIGR_POLY_SCALAR;
	cap[1] |= MIGR_CPU1_AVX;
	if (max < MIGR_POLY_AVX2 || !migr_cpu_avx2(cpu))
		return MIGR_POLY_AVX;
	cap[2] |= MIGR_CPU7_AVX2;
	if (max < MIGR_POLY_AVX512 || !migr_cpu_avx512f(cpu))
		return MIGR_POLY_AVX2;
	cap[2] |= cpu->leaf7_ebx & (MIGR_CPU7_AVX512F | MIGR_CPU7_AVX512BW | MIGR_CPU7_AVX512VL);
	/* poly1305_init takes radix 2^44 only when F, IFMA and VL are all set. */
	if (max < MIGR_POLY_IFMA || !migr_cpu_avx512ifma(cpu))
		return MIGR_POLY_AVX512;
	cap[2] |= MIGR_CPU7_AVX512IFMA | MIGR_CPU7_AVX512VL;
	return MIGR_POLY_IFMA;
}

static enum migr_poly_path poly_path = MIGR_POLY_SCALAR;

enum migr_poly_path migr_poly_use(const struct migr_cpu *cpu, enum migr_poly_path max)
{
	poly_path = migr_poly_caps(cpu, max, OPENSSL_ia32cap_P);
	poly_group = poly_path == MIGR_POLY_IFMA ? POLY_GROUP : POLY_BLOCK;
	return poly_path;
}

enum migr_poly_path migr_poly_now(void)
{
	return poly_path;
}

static struct poly_asm *poly(struct migr_mac_state *st)
{
	return (struct poly_asm *)(void *)st->opaque;
}

void migr_poly_start(struct migr_mac_state *st, const uint8_t otk[MIGR_POLY_KEY_SIZE])
{
	struct poly_asm *p = poly(st);
	void *fn[2];

	(void)poly1305_init(p->ctx, otk, fn); /* clamps r, clears the hash, picks the routines; 1 for a key */
	p->blocks = (poly_blocks_fn *)fn[0];
	p->emit = (poly_emit_fn *)fn[1];
	memcpy(p->s, otk + 16, sizeof(p->s));
	p->held = 0;
	p->group = poly_group;
}

void migr_poly_update(struct migr_mac_state *st, const void *in, size_t n)
{
	struct poly_asm *p = poly(st);
	const uint8_t *b = in;
	size_t whole;

	if (p->held) {
		size_t take = p->group - p->held < n ? p->group - p->held : n;

		memcpy(p->buf + p->held, b, take);
		p->held += take;
		b += take;
		n -= take;
		if (p->held < p->group)
			return;
		p->blocks(p->ctx, p->buf, p->group, 1);
		p->held = 0;
	}
	whole = n & ~(p->group - 1);
	if (whole)
		p->blocks(p->ctx, b, whole, 1);
	if (n > whole) {
		memcpy(p->buf, b + whole, n - whole);
		p->held = n - whole;
	}
}

void migr_poly_finish(struct migr_mac_state *st, uint8_t tag[MIGR_TAG_SIZE])
{
	struct poly_asm *p = poly(st);
	size_t whole = p->held & ~(size_t)(POLY_BLOCK - 1), part = p->held - whole;

	if (whole)
		p->blocks(p->ctx, p->buf, whole, 1);
	/* A last partial block ends with a 1 byte and zeros, and takes no 2^128 bit (padbit 0). */
	if (part) {
		p->buf[whole + part] = 1;
		memset(p->buf + whole + part + 1, 0, POLY_BLOCK - part - 1);
		p->blocks(p->ctx, p->buf + whole, POLY_BLOCK, 0);
	}
	p->emit(p->ctx, tag, p->s);
	mbedtls_platform_zeroize(p, sizeof(*p));
}
