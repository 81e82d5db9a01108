/*
 * Bounded text shared by the command line and the management API: every
 * piece is a pointer and a length (words and JSON values are not
 * NUL-terminated), and every parser consumes all of its piece or fails.
 */
#ifndef HV_KERNEL_LIB_PARSE_H
#define HV_KERNEL_LIB_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Space, tab, CR or LF: what separates command-line words and JSON tokens. */
bool parse_is_space(char c);

/* A decimal 0..max without sign or leading zeros ("010" could be read as octal elsewhere); HV_EINVAL if not. */
int parse_dec(const char *s, size_t len, uint32_t max, uint32_t *out);

/* Exactly four dot-separated decimal octets a.b.c.d, in host byte order; HV_EINVAL if not. */
int ipv4_parse(const char *s, size_t len, uint32_t *out);

/* The netmask of a prefix length 0..32, in host byte order. */
uint32_t ipv4_mask(unsigned prefix);

/* A host can have it: not 0.0.0.0/8, loopback, multicast or the reserved/broadcast range. */
bool ipv4_is_unicast(uint32_t addr);

#endif
