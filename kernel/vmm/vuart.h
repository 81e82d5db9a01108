/*
 * The guest's COM1: a 16550A (National Semiconductor PC16550D data sheet)
 * with its interrupts. Transmission is instant: a byte written to THR goes
 * out at once, so THR is always empty again and LSR always reads
 * "transmitter empty"; the THRE interrupt follows the data sheet (raised
 * when THR empties or when it is enabled while empty, cleared by reading
 * IIR or writing THR). Received bytes (from the host's console) wait in a
 * 16-byte FIFO and raise the receive interrupt while any is there.
 * Loopback mode (MCR) reflects the modem lines and returns what is sent.
 * The interrupt line is IRQ 4, gated by MCR.OUT2 as on a PC. Not modelled:
 * baud rates, line errors, the character timeout, modem-status interrupts.
 *
 * Output becomes host console lines prefixed with the VM and vCPU that
 * wrote them; a line without its newline yet is shown once the guest has
 * written nothing for a while (a shell prompt). Knows nothing of VT-x.
 */
#ifndef HV_KERNEL_VMM_VUART_H
#define HV_KERNEL_VMM_VUART_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/guest_abi.h"

#define VUART_LINE_MAX 200
#define VUART_RX_FIFO 16
#define VUART_IRQ 4

struct vuart {
	uint16_t base;
	uint8_t lcr, ier, mcr, scr, dll, dlm;
	uint8_t fcr;            /* FIFO enable, as last written */
	bool thre_pending;      /* the THRE interrupt is raised */
	uint8_t rx[VUART_RX_FIFO];
	unsigned rx_head, rx_count;
	unsigned vm_id;
	char line[HV_MAX_VCPUS][VUART_LINE_MAX]; /* one line buffer per vCPU: no interleaving */
	unsigned len[HV_MAX_VCPUS];
	uint64_t last_out[HV_MAX_VCPUS];         /* guest TSC of each vCPU's last byte */
	uint64_t bytes_out;
	uint64_t bytes_in;
};

void vuart_init(struct vuart *u, uint16_t base, unsigned vm_id);
bool vuart_claims(const struct vuart *u, uint16_t port);
/* One byte-wide access by vCPU vcpu at TSC now; reads return their value in *val. */
void vuart_access(struct vuart *u, unsigned vcpu, uint64_t now, uint16_t port, bool in, uint8_t *val);
/* The level of the interrupt line (IRQ 4). */
bool vuart_irq(const struct vuart *u);
/* A byte from the outside world; false when the FIFO is full (the caller keeps it). */
bool vuart_receive(struct vuart *u, uint8_t byte);
/* Emits what a vCPU wrote without a newline yet (when the VM stops). */
void vuart_flush(struct vuart *u, unsigned vcpu);
/* Emits every vCPU's unfinished line whose last byte is older than idle ticks at now. */
void vuart_flush_idle(struct vuart *u, uint64_t now, uint64_t idle);

#endif
