#include "kernel/vmm/vuart.h"

#include <string.h>
#include "drivers/uart16550.h"
#include "kernel/lib/log.h"

void vuart_init(struct vuart *u, uint16_t base, unsigned vm_id)
{
	memset(u, 0, sizeof(*u));
	u->base = base;
	u->vm_id = vm_id;
	u->lcr = UART_LCR_8N1;
}

bool vuart_claims(const struct vuart *u, uint16_t port) { return port >= u->base && port < u->base + UART_REG_COUNT; }

void vuart_flush(struct vuart *u, unsigned vcpu)
{
	if (!u->len[vcpu])
		return;
	log_info("guest", "[vm%u/vcpu%u] %.*s", u->vm_id, vcpu, (int)u->len[vcpu], u->line[vcpu]);
	u->len[vcpu] = 0;
}

static void vuart_put(struct vuart *u, unsigned vcpu, uint8_t c)
{
	u->bytes_out++;
	if (c == '\n') {
		vuart_flush(u, vcpu);
		return;
	}
	if (c == '\r')
		return;
	if (c < 0x20 || c > 0x7e)
		c = '?'; /* the host console shows only what the guest cannot use to forge lines */
	u->line[vcpu][u->len[vcpu]++] = (char)c;
	if (u->len[vcpu] == VUART_LINE_MAX)
		vuart_flush(u, vcpu);
}

void vuart_access(struct vuart *u, unsigned vcpu, uint16_t port, bool in, uint8_t *val)
{
	unsigned reg = port - u->base;
	bool dlab = u->lcr & UART_LCR_DLAB;

	if (vcpu >= HV_MAX_VCPUS)
		return;
	if (!in) {
		switch (reg) {
		case UART_THR: if (dlab) u->dll = *val; else vuart_put(u, vcpu, *val); break;
		case UART_IER: if (dlab) u->dlm = *val; else u->ier = *val; break;
		case UART_LCR: u->lcr = *val; break;
		case UART_MCR: u->mcr = *val; break;
		case UART_SCR: u->scr = *val; break;
		default: break; /* FCR and read-only registers: writes have no effect we model */
		}
		return;
	}
	switch (reg) {
	case UART_RBR: *val = dlab ? u->dll : 0; break;
	case UART_IER: *val = dlab ? u->dlm : u->ier; break;
	case UART_IIR: *val = UART_IIR_NO_INT; break;
	case UART_LCR: *val = u->lcr; break;
	case UART_MCR: *val = u->mcr; break;
	case UART_LSR: *val = UART_LSR_THR_EMPTY | UART_LSR_TX_IDLE; break;
	case UART_MSR: *val = 0; break;
	default: *val = u->scr; break;
	}
}
