#include "kernel/arch/x86/random.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "kernel/arch/x86/hw/cpuid.h"
#include "kernel/arch/x86/hw/hwops.h"

#define RANDOM_RDRAND_TRIES 10 /* Intel's advice for a transient underflow */
#define RANDOM_GOLDEN 0x9e3779b97f4a7c15ull /* 2^64 / golden ratio: an odd multiplier spreads the TSC */

void random_bytes(void *buf, size_t n)
{
	static uint64_t mix;
	static int have_rdrand = -1;
	uint8_t *p = buf;
	uint64_t v, r;
	size_t k;
	unsigned t;

	if (have_rdrand < 0)
		have_rdrand = (cpuid(1, 0).ecx & CPUID_1_ECX_RDRAND) != 0;
	while (n) {
		mix = (mix + rdtsc()) * RANDOM_GOLDEN + 1;
		v = mix ^ (mix >> 29);
		for (t = 0; have_rdrand && t < RANDOM_RDRAND_TRIES; t++) {
			if (rdrand64(&r)) {
				v ^= r;
				break;
			}
		}
		k = n < sizeof(v) ? n : sizeof(v);
		memcpy(p, &v, k);
		p += k;
		n -= k;
	}
}
