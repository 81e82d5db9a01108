/*
 * Mode strio (docs/test-guest.md): string port I/O, which the hypervisor
 * carries out for the guest element by element (kernel/arch/x86/vmx/exits/io.c).
 * A line goes out with one REP OUTSB; 100 bytes come in with REP INSB from
 * the UART's line-status register into a buffer that crosses a page; 64
 * words come in backwards (DF set) with REP INSW from a port no device
 * claims. Every byte is checked, and the bytes around each buffer too.
 */
#include "tests/guest/strio.h"

#include <stdint.h>
#include "tests/guest/console.h"

#define LSR_IDLE 0x60       /* transmitter empty and idle, nothing received */
#define UNCLAIMED_PORT 0x2e8 /* COM4's base: no device here */
#define FILL 0x5a
#define IN_BYTES 100u
#define IN_WORDS 64u

static uint8_t pages[8192] __attribute__((aligned(4096)));
static uint16_t words[IN_WORDS + 2];

static uint32_t bytes_in(void)
{
	uint8_t *start = pages + 4096 - IN_BYTES / 2, *p = start;
	uint32_t n = IN_BYTES, bad = 0, i;

	for (i = 0; i < sizeof(pages); i++)
		pages[i] = FILL;
	__asm__ volatile("cld; rep insb" : "+D"(p), "+c"(n) : "d"((uint16_t)COM1_LSR) : "memory");
	for (i = 0; i < IN_BYTES; i++)
		bad += start[i] != LSR_IDLE;
	bad += start[-1] != FILL || start[IN_BYTES] != FILL;
	bad += p != start + IN_BYTES || n != 0;
	return bad;
}

static uint32_t words_in_backwards(void)
{
	uint16_t *p = &words[IN_WORDS];
	uint32_t n = IN_WORDS, bad = 0, i;

	for (i = 0; i < IN_WORDS + 2; i++)
		words[i] = 0x1234;
	__asm__ volatile("std; rep insw; cld" : "+D"(p), "+c"(n) : "d"((uint16_t)UNCLAIMED_PORT) : "memory");
	for (i = 1; i <= IN_WORDS; i++)
		bad += words[i] != 0xffff; /* an empty bus reads all ones */
	bad += words[0] != 0x1234 || words[IN_WORDS + 1] != 0x1234;
	bad += p != &words[0] || n != 0;
	return bad;
}

void strio_run(void)
{
	static const char line[] = "guest: strio out ok\n";
	uint32_t bad;

	con_write_rep(line, sizeof(line) - 1);
	bad = bytes_in() + words_in_backwards();
	con_printf("guest: strio in %s bad=%u lsr=0x%x\n", bad ? "BAD" : "ok", bad, pages[4096 - IN_BYTES / 2]);
}
