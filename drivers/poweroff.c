#include "drivers/poweroff.h"

#include "drivers/serial.h"
#include "kernel/arch/x86/hw/hwops.h"

void poweroff(void)
{
	const char *s = "Shutdown";

	serial_drain();
	while (*s)
		outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*s++);
	outb(QEMU_DEBUG_EXIT_PORT, 0);
	cpu_halt_forever();
}
