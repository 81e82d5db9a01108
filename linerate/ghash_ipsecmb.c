/*
 * GHASH on 512-bit registers from Intel's ipsec-mb (Debian's libipsec-mb-dev): four blocks a
 * carry-less multiply where OpenSSL 3.0's AVX path does one. ferry-migrate's start-up timing of
 * AES-256-GMAC read 0.046 ns a byte with it against 0.092 on OpenSSL's AVX path, on the Xeon the
 * line-rate benchmark ran on. Only its GHASH is used (the GMAC around it stays
 * mac_gmac_openssl_asm.c's, the same for every path), through the function table the library
 * fills for the CPU it finds.
 */
#include "linerate/ghash_ipsecmb.h"

#include <intel-ipsec-mb.h>
#include <string.h>

_Static_assert(sizeof(struct gcm_key_data) <= MIGR_GHASH_WIDE_TABLE, "ipsec-mb's GHASH table fits");

static ghash_t imb_ghash;
static aes_gcm_pre_t imb_ghash_pre;

/* H from OpenSSL's two big-endian halves back to the block it was. */
static void wide_init(void *table, const uint64_t h[2])
{
	uint8_t b[16];
	int i;

	for (i = 0; i < 8; i++) {
		b[i] = (uint8_t)(h[0] >> (56 - 8 * i));
		b[8 + i] = (uint8_t)(h[1] >> (56 - 8 * i));
	}
	imb_ghash_pre(b, table);
	memset(b, 0, sizeof(b));
	__asm__ volatile("" : : "r"(b) : "memory"); /* the wipe stays */
}

/* The library takes the running hash in and gives it back through its tag, in GCM's byte order. */
static void wide_ghash(uint64_t xi[2], const void *table, const uint8_t *in, size_t len)
{
	imb_ghash(table, in, len, xi, 16);
}

static const struct migr_ghash_wide wide = { "ipsec-mb", wide_init, wide_ghash };

const struct migr_ghash_wide *lr_ghash_ipsecmb(void)
{
	IMB_MGR *m;
	IMB_ARCH arch = IMB_ARCH_NONE;
	int ok;

	if (imb_ghash)
		return &wide;
	m = alloc_mb_mgr(0);
	if (!m)
		return NULL;
	init_mb_mgr_auto(m, &arch);
	ok = !imb_get_errno(m) && arch == IMB_ARCH_AVX512 && (m->features & IMB_FEATURE_VPCLMULQDQ) && m->ghash &&
	     m->ghash_pre;
	if (ok) {
		imb_ghash = m->ghash;
		imb_ghash_pre = m->ghash_pre;
	}
	free_mb_mgr(m);
	return ok ? &wide : NULL;
}
