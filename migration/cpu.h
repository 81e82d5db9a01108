/*
 * What the CPU reports and what the OS enabled, for the stream's vector code
 * paths (the record MACs' Poly1305, mac_poly_asm.h, and GHASH, mac_gmac.h;
 * the page hash, xxh.h).
 * The owner reads it once (the hypervisor at boot, after it set XCR0; the
 * Linux program from the CPU it runs on) and the code picks its path from it.
 * Bit positions: Intel SDM vol. 2A, CPUID; XCR0's components: vol. 1, 13.1.
 */
#ifndef MIGR_CPU_H
#define MIGR_CPU_H

#include <stdint.h>

/* CPUID leaves 1 and 7.0, and XCR0 (0 when CR4.OSXSAVE is clear). */
struct migr_cpu {
	uint32_t leaf1_ecx, leaf1_edx, leaf7_ebx, leaf7_ecx;
	uint64_t xcr0;
};

#define MIGR_CPU1_EDX_SSE2 (1u << 26)   /* CPUID.1 EDX */
#define MIGR_CPU1_PCLMULQDQ (1u << 1)   /* CPUID.1 ECX */
#define MIGR_CPU1_SSSE3 (1u << 9)
#define MIGR_CPU1_OSXSAVE (1u << 27)
#define MIGR_CPU1_AVX (1u << 28)
#define MIGR_CPU7_AVX2 (1u << 5)        /* CPUID.7.0 EBX */
#define MIGR_CPU7_AVX512F (1u << 16)
#define MIGR_CPU7_AVX512IFMA (1u << 21)
#define MIGR_CPU7_AVX512BW (1u << 30)
#define MIGR_CPU7_AVX512VL (1u << 31)
#define MIGR_CPU7_ECX_VPCLMULQDQ (1u << 10) /* CPUID.7.0 ECX */
#define MIGR_XCR0_SSE_AVX 0x6ull        /* XMM and the upper halves of YMM */
#define MIGR_XCR0_AVX512 0xe0ull        /* opmask, upper halves of ZMM0-15, ZMM16-31 */

/* AVX instructions with their registers' state enabled (XCR0 is read only under OSXSAVE). */
static inline int migr_cpu_avx(const struct migr_cpu *c)
{
	return (c->leaf1_ecx & (MIGR_CPU1_OSXSAVE | MIGR_CPU1_AVX)) == (MIGR_CPU1_OSXSAVE | MIGR_CPU1_AVX) &&
	       (c->xcr0 & MIGR_XCR0_SSE_AVX) == MIGR_XCR0_SSE_AVX;
}

static inline int migr_cpu_avx2(const struct migr_cpu *c)
{
	return migr_cpu_avx(c) && (c->leaf7_ebx & MIGR_CPU7_AVX2);
}

static inline int migr_cpu_avx512f(const struct migr_cpu *c)
{
	return migr_cpu_avx2(c) && (c->leaf7_ebx & MIGR_CPU7_AVX512F) &&
	       (c->xcr0 & MIGR_XCR0_AVX512) == MIGR_XCR0_AVX512;
}

/* The 52-bit multiply-adds, also on 256-bit registers (OpenSSL's IFMA Poly1305 uses both widths). */
static inline int migr_cpu_avx512ifma(const struct migr_cpu *c)
{
	return migr_cpu_avx512f(c) && (c->leaf7_ebx & (MIGR_CPU7_AVX512IFMA | MIGR_CPU7_AVX512VL)) ==
					      (MIGR_CPU7_AVX512IFMA | MIGR_CPU7_AVX512VL);
}

/* Carry-less multiplies on 512-bit registers, with the byte and word forms a GHASH of them uses. */
static inline int migr_cpu_vpclmul512(const struct migr_cpu *c)
{
	return migr_cpu_avx512f(c) && (c->leaf7_ebx & (MIGR_CPU7_AVX512BW | MIGR_CPU7_AVX512VL)) ==
					      (MIGR_CPU7_AVX512BW | MIGR_CPU7_AVX512VL) &&
	       (c->leaf7_ecx & MIGR_CPU7_ECX_VPCLMULQDQ);
}

#endif
