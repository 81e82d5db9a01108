/*
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012): a keyed pseudo-random function of short inputs. Used where an
 * off-path attacker must not predict a value, e.g. TCP initial sequence
 * numbers (RFC 6528). Pure code, tested against the paper's test vector.
 */
#ifndef HV_NET_SIPHASH_H
#define HV_NET_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_LEN 16

uint64_t siphash24(const uint8_t key[SIPHASH_KEY_LEN], const void *msg, size_t len);

#endif
