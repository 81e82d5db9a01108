/*
 * Memory copied, filled and scanned with the string instructions.
 *
 * A REP MOVSQ moves eight bytes per iteration, and an emulator that counts
 * one tick per instruction or iteration (Bochs) charges it an eighth of a
 * tick per byte, where a loop of loads and stores costs four times that.
 * On hardware the microcode is as fast as a loop for page-sized blocks.
 * No privileged instruction: the host's unit tests use these as they are.
 * The direction flag is clear, as the ABI guarantees at every call.
 */
#ifndef HV_ARCH_X86_HW_STROPS_H
#define HV_ARCH_X86_HW_STROPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline void str_copy(void *dst, const void *src, size_t n)
{
	size_t q = n / 8;

	__asm__ volatile("rep movsq\n\t"
			 "movq %3, %%rcx\n\t"
			 "rep movsb"
			 : "+D"(dst), "+S"(src), "+c"(q)
			 : "r"(n % 8)
			 : "memory");
}

static inline void str_fill(void *dst, uint8_t byte, size_t n)
{
	size_t q = n / 8;

	__asm__ volatile("rep stosq\n\t"
			 "movq %3, %%rcx\n\t"
			 "rep stosb"
			 : "+D"(dst), "+c"(q)
			 : "a"(byte * 0x0101010101010101ull), "r"(n % 8)
			 : "memory");
}

/* True if the qwords 8-byte words at p are all zero; stops at the first that is not. */
static inline bool str_all_zero(const void *p, size_t qwords)
{
	bool zero;

	if (!qwords)
		return true;
	__asm__ volatile("repe scasq" : "+D"(p), "+c"(qwords), "=@ccz"(zero) : "a"(0ull) : "memory");
	return zero;
}

#endif
