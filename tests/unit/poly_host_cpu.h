/* What this host's CPU and OS offer OpenSSL's Poly1305 assembly (migration/mac_poly_asm.h), for host programs. */
#ifndef TESTS_UNIT_POLY_HOST_CPU_H
#define TESTS_UNIT_POLY_HOST_CPU_H

#include <cpuid.h>
#include <stdint.h>
#include "migration/mac_poly_asm.h"

#define POLY_HOST_OSXSAVE (1u << 27) /* CPUID.1 ECX: XGETBV works */

static inline struct migr_poly_cpu poly_host_cpu(void)
{
	struct migr_poly_cpu c = { 0 };
	unsigned a, b, cx, d;

	if (__get_cpuid(1, &a, &b, &cx, &d)) {
		c.leaf1_ecx = cx;
		c.leaf1_edx = d;
	}
	if (__get_cpuid_count(7, 0, &a, &b, &cx, &d)) {
		c.leaf7_ebx = b;
		c.leaf7_ecx = cx;
	}
	if (c.leaf1_ecx & POLY_HOST_OSXSAVE) {
		uint32_t lo, hi;

		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		c.xcr0 = (uint64_t)hi << 32 | lo;
	}
	return c;
}

#endif
