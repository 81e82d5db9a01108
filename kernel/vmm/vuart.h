/*
 * The guest's COM1: a 16550 with just enough behaviour for a guest that
 * polls the line status and writes bytes. Output becomes host console lines
 * prefixed with the VM and vCPU that wrote them. Knows nothing of VT-x.
 */
#ifndef HV_KERNEL_VMM_VUART_H
#define HV_KERNEL_VMM_VUART_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/guest_abi.h"

#define VUART_LINE_MAX 200

struct vuart {
	uint16_t base;
	uint8_t lcr, ier, mcr, scr, dll, dlm;
	unsigned vm_id;
	char line[HV_MAX_VCPUS][VUART_LINE_MAX]; /* one line buffer per vCPU: no interleaving */
	unsigned len[HV_MAX_VCPUS];
	uint64_t bytes_out;
};

void vuart_init(struct vuart *u, uint16_t base, unsigned vm_id);
bool vuart_claims(const struct vuart *u, uint16_t port);
/* One byte-wide access by vCPU vcpu; reads return their value in *val. */
void vuart_access(struct vuart *u, unsigned vcpu, uint16_t port, bool in, uint8_t *val);
/* Emits what a vCPU wrote without a newline yet (when the VM stops). */
void vuart_flush(struct vuart *u, unsigned vcpu);

#endif
