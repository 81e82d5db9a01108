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

void vuart_flush_idle(struct vuart *u, uint64_t now, uint64_t idle)
{
	unsigned i;

	for (i = 0; i < HV_MAX_VCPUS; i++)
		if (u->len[i] && now - u->last_out[i] >= idle)
			vuart_flush(u, i);
}

static void vuart_put(struct vuart *u, unsigned vcpu, uint64_t now, uint8_t c)
{
	u->bytes_out++;
	u->last_out[vcpu] = now;
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

bool vuart_receive(struct vuart *u, uint8_t byte)
{
	if (u->rx_count == VUART_RX_FIFO)
		return false;
	u->rx[(u->rx_head + u->rx_count++) % VUART_RX_FIFO] = byte;
	u->bytes_in++;
	return true;
}

static uint8_t rx_pop(struct vuart *u)
{
	uint8_t b;

	if (!u->rx_count)
		return 0;
	b = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % VUART_RX_FIFO;
	u->rx_count--;
	return b;
}

/* The highest-priority interrupt raised and enabled (data sheet table 4), as IIR reports it. */
static uint8_t iir(const struct vuart *u)
{
	uint8_t fifo = (u->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO_ON : 0;

	if ((u->ier & UART_IER_RDI) && u->rx_count)
		return fifo | UART_IIR_RDI;
	if ((u->ier & UART_IER_THRI) && u->thre_pending)
		return fifo | UART_IIR_THRI;
	return fifo | UART_IIR_NO_INT;
}

bool vuart_irq(const struct vuart *u) { return (u->mcr & UART_MCR_OUT2) && !(iir(u) & UART_IIR_NO_INT); }

/* In loopback the modem outputs drive the modem inputs: RTS to CTS, DTR to DSR, OUT1 to RI, OUT2 to DCD. */
static uint8_t msr(const struct vuart *u)
{
	if (!(u->mcr & UART_MCR_LOOP))
		return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS; /* a terminal is always there */
	return (uint8_t)(((u->mcr & UART_MCR_RTS) ? UART_MSR_CTS : 0) | ((u->mcr & UART_MCR_DTR) ? UART_MSR_DSR : 0) |
			 ((u->mcr & UART_MCR_OUT1) ? UART_MSR_RI : 0) | ((u->mcr & UART_MCR_OUT2) ? UART_MSR_DCD : 0));
}

static void write_reg(struct vuart *u, unsigned vcpu, uint64_t now, unsigned reg, uint8_t v)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_THR:
		if (dlab) {
			u->dll = v;
			break;
		}
		if (u->mcr & UART_MCR_LOOP)
			vuart_receive(u, v);
		else
			vuart_put(u, vcpu, now, v);
		/* Sent at once: THR is empty again, which raises THRE anew. */
		u->thre_pending = true;
		break;
	case UART_IER:
		if (dlab) {
			u->dlm = v;
			break;
		}
		/* Enabling THRE while THR is empty (always, here) raises it. */
		if ((v & UART_IER_THRI) && !(u->ier & UART_IER_THRI))
			u->thre_pending = true;
		u->ier = v & UART_IER_MASK;
		break;
	case UART_FCR:
		u->fcr = v & UART_FCR_ENABLE;
		if (v & UART_FCR_CLEAR_RX)
			u->rx_count = 0;
		break;
	case UART_LCR: u->lcr = v; break;
	case UART_MCR: u->mcr = v & UART_MCR_MASK; break;
	case UART_SCR: u->scr = v; break;
	default: break; /* LSR and MSR: writes have no effect we model */
	}
}

static uint8_t read_reg(struct vuart *u, unsigned reg)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	uint8_t v;

	switch (reg) {
	case UART_RBR: return dlab ? u->dll : rx_pop(u);
	case UART_IER: return dlab ? u->dlm : u->ier;
	case UART_IIR:
		v = iir(u);
		/* Reading IIR while it reports THRE is what clears THRE. */
		if ((v & ~UART_IIR_FIFO_ON) == UART_IIR_THRI)
			u->thre_pending = false;
		return v;
	case UART_LCR: return u->lcr;
	case UART_MCR: return u->mcr;
	case UART_LSR: return (uint8_t)(UART_LSR_THR_EMPTY | UART_LSR_TX_IDLE | (u->rx_count ? UART_LSR_DATA_READY : 0));
	case UART_MSR: return msr(u);
	default: return u->scr;
	}
}

void vuart_access(struct vuart *u, unsigned vcpu, uint64_t now, uint16_t port, bool in, uint8_t *val)
{
	unsigned reg = port - u->base;

	if (vcpu >= HV_MAX_VCPUS)
		return;
	if (in)
		*val = read_reg(u, reg);
	else
		write_reg(u, vcpu, now, reg, *val);
}
