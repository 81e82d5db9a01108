/*
 * The code path OpenSSL's x86-64 Poly1305 assembly takes
 * (migration/mac_poly_openssl_asm.c). The assembly dispatches on
 * OPENSSL_ia32cap_P, which the glue defines: zero until migr_poly_use()
 * fills it, so a caller that never asks gets the scalar code. Which path
 * runs changes no tag.
 */
#ifndef MIGR_MAC_POLY_ASM_H
#define MIGR_MAC_POLY_ASM_H

#include <stdint.h>
#include "migration/cpu.h"

enum migr_poly_path {
	MIGR_POLY_SCALAR,  /* general registers: 64-bit limbs, mulq */
	MIGR_POLY_AVX,     /* 2 blocks a step in 128-bit registers */
	MIGR_POLY_AVX2,    /* 4 blocks a step in 256-bit registers */
	MIGR_POLY_AVX512,  /* 8 blocks a step in 512-bit registers (AVX-512F), for 512 bytes and more a call */
	MIGR_POLY_IFMA,    /* radix 2^44 with 52-bit multiply-adds (AVX-512 IFMA, VL): 8 blocks a step in half the instructions */
	MIGR_POLY_PATHS
};

/*
 * Pure: the OPENSSL_ia32cap_P words (CPUID.1 EDX, CPUID.1 ECX, CPUID.7.0 EBX,
 * CPUID.7.0 ECX) that let the assembly take the widest path up to max that
 * both the CPU and XCR0 allow; returns that path.
 */
enum migr_poly_path migr_poly_caps(const struct migr_cpu *cpu, enum migr_poly_path max, uint32_t cap[4]);

/* Sets OPENSSL_ia32cap_P from migr_poly_caps() for the tags started from now on; returns the path. */
enum migr_poly_path migr_poly_use(const struct migr_cpu *cpu, enum migr_poly_path max);

/* The path migr_poly_use() set last (MIGR_POLY_SCALAR before any). */
enum migr_poly_path migr_poly_now(void);

const char *migr_poly_path_name(enum migr_poly_path p);

#endif
