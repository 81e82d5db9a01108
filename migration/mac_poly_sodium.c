/*
 * Poly1305 for the record MAC (mac_poly.h) from libsodium's portable "donna"
 * code, 64-bit limbs with 64x64->128-bit multiplies: about a third of the
 * instructions per byte of mbed TLS 2.28's 32-bit limbs, which is what a byte
 * costs in an emulator, and general registers only, as the hypervisor needs.
 * Built unmodified by mk/sodium.mk; only its implementation table is used,
 * not libsodium's run-time dispatch (which needs the rest of the library).
 */
#include "migration/mac_poly.h"
#include "mbedtls/platform_util.h"
#include "poly1305/donna/poly1305_donna.h"
#include "sodium/crypto_onetimeauth_poly1305.h"
#include "sodium/utils.h"

_Static_assert(sizeof(crypto_onetimeauth_poly1305_state) <= sizeof(struct migr_mac_state), "Poly1305 state fits");
_Static_assert(_Alignof(crypto_onetimeauth_poly1305_state) <= _Alignof(struct migr_mac_state),
	       "Poly1305 state alignment");
_Static_assert(crypto_onetimeauth_poly1305_KEYBYTES == MIGR_POLY_KEY_SIZE, "Poly1305 key size");
_Static_assert(crypto_onetimeauth_poly1305_BYTES == MIGR_TAG_SIZE, "Poly1305 tag size");

const char migr_poly_impl[] = "libsodium 1.0.18 poly1305 donna64";

#define DONNA (&crypto_onetimeauth_poly1305_donna_implementation)

static crypto_onetimeauth_poly1305_state *poly(struct migr_mac_state *st)
{
	return (crypto_onetimeauth_poly1305_state *)(void *)st->opaque;
}

/* The donna functions return 0 always: there is nothing to check. */
void migr_poly_start(struct migr_mac_state *st, const uint8_t otk[MIGR_POLY_KEY_SIZE])
{
	(void)DONNA->onetimeauth_init(poly(st), otk);
}

void migr_poly_update(struct migr_mac_state *st, const void *p, size_t n)
{
	(void)DONNA->onetimeauth_update(poly(st), p, n);
}

void migr_poly_finish(struct migr_mac_state *st, uint8_t tag[MIGR_TAG_SIZE])
{
	(void)DONNA->onetimeauth_final(poly(st), tag);
}

/*
 * The donna code wipes its state with libsodium's sodium_memzero, which
 * lives in utils.c beside the library's allocator; mbed TLS's zeroize does
 * the same job (a write the compiler may not drop).
 */
void sodium_memzero(void *const pnt, const size_t len)
{
	mbedtls_platform_zeroize(pnt, len);
}
