/*
 * The host console: a 16550 UART with a transmit ring. Writers never wait
 * for the line: bytes go to the ring and serial_poll(), called from the
 * scheduler's loop, moves them to the UART's FIFO while it has room. At
 * 115200 baud a log line takes ~9 ms to send, time no VM should lose.
 */
#ifndef HV_DRIVERS_SERIAL_H
#define HV_DRIVERS_SERIAL_H

#include <stdbool.h>
#include <stdint.h>

#define SERIAL_RING_SIZE (64u * 1024u)
#define SERIAL_FIFO_SIZE 16u

/* Sets 115200 baud, 8N1, FIFOs on: neither BIOS nor every loader does it for us. */
void serial_init(uint16_t base);
/* Queues len bytes; when the ring is full, waits for the UART to make room. */
void serial_write(const char *s, unsigned long len);
/* Moves queued bytes to the UART while its FIFO is empty; never waits. */
void serial_poll(void);
/* A received byte, or -1 when none waits; never waits. */
int serial_getc(void);
/* True while bytes wait in the ring. */
bool serial_pending(void);
/* Sends everything queued and waits until the last byte has left (before powering off). */
void serial_drain(void);

#endif
