/*
 * The little of libc the test guest needs, and 64-bit division without
 * libgcc (there is no 32-bit libgcc to link against).
 */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H

#include <stddef.h>
#include <stdint.h>

/* gcc may emit calls to these even with -ffreestanding. */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);

/* n / d, and n % d in *rem if rem is not NULL; d == 0 gives UINT64_MAX. */
uint64_t udiv64(uint64_t n, uint64_t d, uint64_t *rem);

#endif
