/*
 * The few x86 instructions the test guest needs, and its hypercalls
 * (VMCALL, kernel/guest_abi.h). 32-bit guest code only.
 */
#ifndef GUEST_ARCH_H
#define GUEST_ARCH_H

#include <stdint.h>
#include "kernel/guest_abi.h"

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" : : : "memory");
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(0));
}

static inline int32_t vmcall(uint32_t fn, uint32_t a1, uint32_t a2, uint32_t a3)
{
	int32_t ret;
	__asm__ volatile("vmcall"
			 : "=a"(ret)
			 : "a"(fn), "b"(a1), "c"(a2), "d"(a3)
			 : "memory");
	return ret;
}

/* Blocks until the TSC reaches deadline (may return early: callers re-check). */
static inline int32_t hc_sleep_until(uint64_t deadline)
{
	return vmcall(HV_HC_SLEEP_UNTIL, (uint32_t)deadline, (uint32_t)(deadline >> 32), 0);
}

static inline void hc_report_error(uint32_t pfn, uint32_t expected_gen, uint32_t found_gen)
{
	vmcall(HV_HC_REPORT_ERROR, pfn, expected_gen, found_gen);
}

/* This vCPU is done; never returns (halts if the hypervisor lets it run on). */
/* Log-dirty tests: tells the hypervisor which page the next write goes to. */
static inline void hc_will_write(uint32_t pfn)
{
	vmcall(HV_HC_TEST_WILL_WRITE, pfn, 0, 0);
}

/* Lets the host read this vCPU's work counter (throttle measurements). */
static inline void hc_work_counter(const volatile uint64_t *counter)
{
	vmcall(HV_HC_WORK_COUNTER, (uint32_t)(uintptr_t)counter, 0, 0);
}

static inline __attribute__((noreturn)) void hc_vcpu_stop(uint32_t status)
{
	for (;;) {
		vmcall(HV_HC_VCPU_STOP, status, 0, 0);
		__asm__ volatile("cli; hlt");
	}
}

#endif
