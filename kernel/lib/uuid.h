/*
 * A VM's identity (RFC 4122 UUIDs): 16 bytes in the stream header and in
 * struct vm, 36 characters (8-4-4-4-12 hex digits) on the command line,
 * the console and the management API.
 */
#ifndef HV_KERNEL_LIB_UUID_H
#define HV_KERNEL_LIB_UUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UUID_LEN 16
#define UUID_TEXT_LEN 36 /* without the NUL */

/* The canonical text form, hex digits in either case; HV_EINVAL (out untouched) for anything else. */
int uuid_parse(const char *s, size_t len, uint8_t out[UUID_LEN]);

/* Lower-case canonical text, NUL-terminated. */
void uuid_format(const uint8_t u[UUID_LEN], char out[UUID_TEXT_LEN + 1]);

/* Turns 16 random bytes into a version-4 UUID (RFC 4122 4.4): version and variant bits set. */
void uuid_make_v4(uint8_t u[UUID_LEN]);

/* The nil UUID (all zero): no identity. */
bool uuid_is_nil(const uint8_t u[UUID_LEN]);

#endif
