#include "drivers/serial.h"

#include "drivers/uart16550.h"
#include "kernel/hw/hwops.h"

static uint16_t serial_base;

void serial_init(uint16_t base)
{
	serial_base = base;
	outb(base + UART_IER, 0);
	outb(base + UART_LCR, UART_LCR_DLAB);
	outb(base + UART_DLL, 1); /* divisor 1: 115200 baud */
	outb(base + UART_DLM, 0);
	outb(base + UART_LCR, UART_LCR_8N1);
	outb(base + UART_FCR, UART_FCR_ENABLE_CLEAR);
	outb(base + UART_MCR, UART_MCR_DTR_RTS_OUT2);
}

void serial_write(const char *s, unsigned long len)
{
	unsigned long i;

	if (!serial_base)
		return;
	for (i = 0; i < len; i++) {
		while (!(inb(serial_base + UART_LSR) & UART_LSR_THR_EMPTY))
			cpu_relax();
		outb(serial_base + UART_THR, (uint8_t)s[i]);
	}
}

void serial_drain(void)
{
	if (!serial_base)
		return;
	while (!(inb(serial_base + UART_LSR) & UART_LSR_TX_IDLE))
		cpu_relax();
}
