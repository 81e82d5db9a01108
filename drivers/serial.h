/* The host console: a 16550 UART driven by polling. */
#ifndef HV_DRIVERS_SERIAL_H
#define HV_DRIVERS_SERIAL_H

#include <stdint.h>

/* Sets 115200 baud, 8N1: neither BIOS nor every loader does it for us. */
void serial_init(uint16_t base);
void serial_write(const char *s, unsigned long len);
/* Waits until the last byte has left the UART (before powering off). */
void serial_drain(void);

#endif
