/* What this machine's CPU and OS offer the stream's vector code (migration/cpu.h), for Linux programs. */
#ifndef LINERATE_HOST_CPU_H
#define LINERATE_HOST_CPU_H

#include <cpuid.h>
#include <stdint.h>
#include "migration/cpu.h"

static inline struct migr_cpu lr_host_cpu(void)
{
	struct migr_cpu c = { 0 };
	unsigned a, b, cx, d;

	if (__get_cpuid(1, &a, &b, &cx, &d)) {
		c.leaf1_ecx = cx;
		c.leaf1_edx = d;
	}
	if (__get_cpuid_count(7, 0, &a, &b, &cx, &d)) {
		c.leaf7_ebx = b;
		c.leaf7_ecx = cx;
	}
	if (c.leaf1_ecx & MIGR_CPU1_OSXSAVE) {
		uint32_t lo, hi;

		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		c.xcr0 = (uint64_t)hi << 32 | lo;
	}
	return c;
}

#endif
