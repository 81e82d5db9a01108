/*
 * One Poly1305 (RFC 8439, section 2.5) under the record MAC of
 * mac_mbedtls.c: migration/mac_poly_openssl_asm.c (OpenSSL's assembly, its
 * scalar or vector path by CPU: mac_poly_asm.h), which the hypervisor,
 * ferry-migrate and the host tests all link. Every path gives the same
 * tags; the host tests check each against mbed TLS's Poly1305.
 *
 * The calls come in one sequence per tag, start, update..., finish, with no
 * other tag started in between on the same thread.
 */
#ifndef MIGR_MAC_POLY_H
#define MIGR_MAC_POLY_H

#include <stddef.h>
#include <stdint.h>
#include "migration/mac.h"

#define MIGR_POLY_KEY_SIZE 32

void migr_poly_start(struct migr_mac_state *st, const uint8_t otk[MIGR_POLY_KEY_SIZE]);
void migr_poly_update(struct migr_mac_state *st, const void *p, size_t n);
void migr_poly_finish(struct migr_mac_state *st, uint8_t tag[MIGR_TAG_SIZE]);

/* Which library computes the tags, for reports and test logs. */
extern const char migr_poly_impl[];

#endif
