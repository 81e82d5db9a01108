#include "drivers/serial.h"

#include "drivers/uart16550.h"
#include "kernel/arch/x86/hw/hwops.h"

static uint16_t serial_base;
static char ring[SERIAL_RING_SIZE];
static uint32_t head, tail; /* free-running: head - tail bytes are queued */

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

void serial_poll(void)
{
	unsigned n;

	if (!serial_base || head == tail || !(inb(serial_base + UART_LSR) & UART_LSR_THR_EMPTY))
		return;
	/* THR empty with FIFOs on means the whole transmit FIFO is free. */
	for (n = 0; n < SERIAL_FIFO_SIZE && head != tail; n++)
		outb(serial_base + UART_THR, (uint8_t)ring[tail++ % SERIAL_RING_SIZE]);
}

bool serial_pending(void) { return head != tail; }

int serial_getc(void)
{
	if (!serial_base || !(inb(serial_base + UART_LSR) & UART_LSR_DATA_READY))
		return -1;
	return inb(serial_base + UART_RBR);
}

void serial_write(const char *s, unsigned long len)
{
	unsigned long i;

	for (i = 0; i < len; i++) {
		while (head - tail == SERIAL_RING_SIZE) {
			serial_poll();
			cpu_relax();
		}
		ring[head++ % SERIAL_RING_SIZE] = s[i];
	}
}

void serial_drain(void)
{
	if (!serial_base)
		return;
	while (head != tail) {
		serial_poll();
		cpu_relax();
	}
	while (!(inb(serial_base + UART_LSR) & UART_LSR_TX_IDLE))
		cpu_relax();
}
