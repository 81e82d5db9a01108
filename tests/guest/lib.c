#include "tests/guest/lib.h"

/* rep movs/stos: short, and a C loop here could be turned back into a call. */
void *memset(void *dst, int c, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return dst;
}

uint64_t udiv64(uint64_t n, uint64_t d, uint64_t *rem)
{
	uint64_t q = 0, r = 0;

	if (d == 0) {
		if (rem)
			*rem = 0;
		return UINT64_MAX;
	}
	if ((d >> 32) == 0) {
		/* Two 64/32 steps; the high remainder < d keeps DIVL from overflowing. */
		uint32_t d32 = (uint32_t)d, hi = (uint32_t)(n >> 32);
		uint32_t qhi = hi / d32, r32 = hi % d32, qlo;

		__asm__("divl %4" : "=a"(qlo), "=d"(r32) : "a"((uint32_t)n), "d"(r32), "rm"(d32));
		q = ((uint64_t)qhi << 32) | qlo;
		r = r32;
	} else {
		/* Rare (callers divide by TSC spans > 4G ticks): bit by bit. */
		for (int i = 63; i >= 0; i--) {
			uint64_t carry = r >> 63;

			r = (r << 1) | ((n >> i) & 1);
			if (carry || r >= d) {
				r -= d;
				q |= 1ull << i;
			}
		}
	}
	if (rem)
		*rem = r;
	return q;
}
