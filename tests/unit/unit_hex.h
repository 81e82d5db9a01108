/* Hex strings of test vectors as bytes, for tests built with Check. */
#ifndef UNIT_HEX_H
#define UNIT_HEX_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>

/* Decodes s (two digits a byte) into out; returns the byte count. */
static inline size_t unit_unhex(const char *s, uint8_t *out)
{
	size_t n = 0;

	for (; s[0] && s[1]; s += 2) {
		unsigned v;

		ck_assert_int_eq(sscanf(s, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
	}
	return n;
}

#endif
