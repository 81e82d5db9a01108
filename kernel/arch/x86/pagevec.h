/*
 * Whole-page copy and zero check for the migration stream's memory port:
 * with AVX-512F where the host enabled its state (xstate.h), else with the
 * string instructions (hw/strops.h). In an emulator that counts
 * instructions (Bochs), REP MOVSQ and REPE SCASQ cost one per 8 bytes and
 * a 512-bit load or store one per 64; on hardware REPE SCASQ is as slow.
 * Vector registers are used only where xstate.h allows: between a VM exit
 * and the next entry, with no task switch inside a call.
 */
#ifndef HV_KERNEL_ARCH_X86_PAGEVEC_H
#define HV_KERNEL_ARCH_X86_PAGEVEC_H

#include <stdbool.h>
#include <stdint.h>

#define PAGEVEC_SIZE 4096u

/* Takes the AVX-512F code from now on if avx512 (XCR0 has the AVX-512 state); returns whether it does. */
bool pagevec_use(bool avx512);

/* dst and src: PAGEVEC_SIZE bytes, any alignment, not overlapping. */
void page_copy(void *dst, const void *src);

/* Whether the PAGEVEC_SIZE bytes at p (8-byte aligned) are all zero; a page of data answers at its first bytes. */
bool page_is_zero(const void *p);

/* The AVX-512F code itself (pagevec_avx512.c), for page_copy and page_is_zero and for tests. */
void page_copy_avx512(void *dst, const void *src);
bool page_is_zero_avx512(const void *p);

#endif
