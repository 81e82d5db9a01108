/*
 * The Internet checksum with one ADC per eight bytes. lwIP's own loop adds
 * 32-bit words and tests each carry, about ten instructions per eight bytes;
 * every TCP segment is summed once on each side, and in an emulator that
 * counts instructions (Bochs) that loop cost more than the segment's copy.
 * A one's-complement sum does not depend on where the words start, only on
 * how the bytes pair up from the first: unaligned 8-byte loads pair them
 * as 16-bit loads from the start would, so no alignment step is needed.
 */
#include "net/chksum.h"

#include <stddef.h>
#include <string.h>

/* Adds blocks 64-byte blocks from p to acc with end-around carry. */
static uint64_t add_blocks(const uint8_t *p, size_t blocks, uint64_t acc)
{
	if (!blocks)
		return acc;
	/* LEA and DEC leave CF alone: one carry chain runs through the whole loop. */
	__asm__("clc\n"
		"1:\n\t"
		"adcq 0(%[p]), %[acc]\n\t"
		"adcq 8(%[p]), %[acc]\n\t"
		"adcq 16(%[p]), %[acc]\n\t"
		"adcq 24(%[p]), %[acc]\n\t"
		"adcq 32(%[p]), %[acc]\n\t"
		"adcq 40(%[p]), %[acc]\n\t"
		"adcq 48(%[p]), %[acc]\n\t"
		"adcq 56(%[p]), %[acc]\n\t"
		"leaq 64(%[p]), %[p]\n\t"
		"decq %[n]\n\t"
		"jnz 1b\n\t"
		"adcq $0, %[acc]"
		: [acc] "+r"(acc), [p] "+r"(p), [n] "+r"(blocks)
		:
		: "cc", "memory");
	return acc;
}

static uint64_t add_carry(uint64_t acc, uint64_t w)
{
	acc += w;
	return acc + (acc < w);
}

uint16_t net_chksum(const void *data, int len)
{
	const uint8_t *p = data;
	size_t n = len > 0 ? (size_t)len : 0;
	uint64_t acc = add_blocks(p, n / 64, 0), w;

	p += n / 64 * 64;
	n %= 64;
	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		acc = add_carry(acc, w);
	}
	if (n) {
		w = 0;
		memcpy(&w, p, n); /* the tail's bytes in load order, zero-padded */
		acc = add_carry(acc, w);
	}
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	return (uint16_t)acc;
}
