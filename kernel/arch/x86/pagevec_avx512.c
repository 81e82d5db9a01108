/*
 * The AVX-512F paths of pagevec.h; this file alone is built with AVX-512F
 * enabled (Makefile), and runs only once pagevec_use(true) was called.
 */
#include "kernel/arch/x86/pagevec.h"

#include <immintrin.h>

void page_copy_avx512(void *dst, const void *src)
{
	const uint8_t *s = src;
	uint8_t *d = dst;
	unsigned i;

	for (i = 0; i < PAGEVEC_SIZE; i += 256) {
		__m512i a = _mm512_loadu_si512(s + i), b = _mm512_loadu_si512(s + i + 64);
		__m512i c = _mm512_loadu_si512(s + i + 128), e = _mm512_loadu_si512(s + i + 192);

		_mm512_storeu_si512(d + i, a);
		_mm512_storeu_si512(d + i + 64, b);
		_mm512_storeu_si512(d + i + 128, c);
		_mm512_storeu_si512(d + i + 192, e);
	}
}

bool page_is_zero_avx512(const void *p)
{
	const uint8_t *b = p;
	__m512i acc = _mm512_loadu_si512(b), x, y;
	unsigned i;

	if (_mm512_test_epi64_mask(acc, acc))
		return false; /* most pages of data */
	for (i = 0; i < PAGEVEC_SIZE; i += 512) { /* 512 bytes a test: about 14 instructions */
		x = _mm512_or_si512(_mm512_or_si512(_mm512_loadu_si512(b + i), _mm512_loadu_si512(b + i + 64)),
				    _mm512_or_si512(_mm512_loadu_si512(b + i + 128), _mm512_loadu_si512(b + i + 192)));
		y = _mm512_or_si512(_mm512_or_si512(_mm512_loadu_si512(b + i + 256), _mm512_loadu_si512(b + i + 320)),
				    _mm512_or_si512(_mm512_loadu_si512(b + i + 384), _mm512_loadu_si512(b + i + 448)));
		acc = _mm512_or_si512(x, y);
		if (_mm512_test_epi64_mask(acc, acc))
			return false;
	}
	return true;
}
