#include "drivers/pit.h"

#include "kernel/arch/x86/hw/hwops.h"

uint64_t pit_measure_tsc(unsigned ms)
{
	uint32_t count = PIT_HZ * ms / 1000;
	uint8_t b = inb(PIT_PORT_B);
	uint64_t start, end;

	/* Gate on, speaker off; mode 0 raises OUT2 when the count reaches zero. */
	outb(PIT_PORT_B, (uint8_t)((b & ~PIT_PORT_B_SPEAKER) | PIT_PORT_B_GATE2));
	outb(PIT_COMMAND, PIT_CMD_CH2_LOHI_MODE0);
	outb(PIT_CH2_DATA, (uint8_t)count);
	outb(PIT_CH2_DATA, (uint8_t)(count >> 8));
	start = rdtsc();
	while (!(inb(PIT_PORT_B) & PIT_PORT_B_OUT2))
		;
	end = rdtsc();
	outb(PIT_PORT_B, b);
	return end - start;
}
