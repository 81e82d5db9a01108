/* Device state to and from DEVICE_STATE records (migration/hv_dev.h). */
#include "migration/hv_dev.h"

#include <string.h>
#include "drivers/uart16550.h"
#include "kernel/lib/err.h"
#include "migration/stream.h"

#define PIT_COUNT_MAX 0xffffu
#define PIT_MODE_MAX 5u
#define PIC_STEPS ((1u << 0) | (1u << 2) | (1u << 3) | (1u << 4)) /* init_step 0 (ready), or the ICW expected */

static long put(uint8_t *buf, size_t cap, uint32_t device, const void *state, size_t n)
{
	struct migr_device_state h = { device, 0 };

	if (cap < sizeof(h) + n)
		return HV_ERANGE;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), state, n);
	return (long)(sizeof(h) + n);
}

static uint8_t bit(bool on, uint8_t flag) { return on ? flag : 0; }

static struct migr_pic_pair pic_of(const struct vpic *p)
{
	struct migr_pic_pair w;
	unsigned i;

	memset(&w, 0, sizeof(w));
	for (i = 0; i < 2; i++) {
		const struct vpic_chip *c = &p->chip[i];

		w.chip[i] = (struct migr_pic_chip){
			c->irr, c->isr, c->imr, c->lines, c->vector_base, c->init_step,
			(uint8_t)(bit(c->need_icw3, MIGR_PIC_NEED_ICW3) | bit(c->need_icw4, MIGR_PIC_NEED_ICW4) |
				  bit(c->auto_eoi, MIGR_PIC_AUTO_EOI) | bit(c->read_isr, MIGR_PIC_READ_ISR) |
				  bit(c->initialized, MIGR_PIC_INITIALIZED)), 0 };
	}
	return w;
}

static struct migr_pit pit_of(const struct vpit *p)
{
	struct migr_pit w;
	unsigned i;

	memset(&w, 0, sizeof(w));
	for (i = 0; i < VPIT_CHANNELS; i++) {
		const struct vpit_channel *c = &p->ch[i];

		w.ch[i] = (struct migr_pit_channel){
			.load_tsc = c->load_tsc, .irqs = c->irqs, .reload = c->reload, .latch = c->latch,
			.mode = c->mode, .access = c->access, .write_lsb = c->write_lsb,
			.flags = (uint8_t)(bit(c->counting, MIGR_PIT_COUNTING) | bit(c->write_msb_next, MIGR_PIT_WRITE_MSB_NEXT) |
					   bit(c->read_msb_next, MIGR_PIT_READ_MSB_NEXT) | bit(c->latched, MIGR_PIT_LATCHED)) };
	}
	w.port_b = p->port_b;
	w.flags = bit(p->refresh, MIGR_PIT_REFRESH);
	return w;
}

static struct migr_uart16550a uart_of(const struct vuart *u)
{
	struct migr_uart16550a w;
	unsigned i;

	memset(&w, 0, sizeof(w));
	w.ier = u->ier, w.lcr = u->lcr, w.mcr = u->mcr, w.scr = u->scr, w.dll = u->dll, w.dlm = u->dlm;
	w.fcr = u->fcr;
	w.flags = bit(u->thre_pending, MIGR_UART_THRE_PENDING);
	w.rx_count = (uint8_t)u->rx_count;
	for (i = 0; i < u->rx_count && i < VUART_RX_FIFO; i++)
		w.rx[i] = u->rx[(u->rx_head + i) % VUART_RX_FIFO];
	return w;
}

long migr_hv_dev_encode(const struct vdev *d, const struct vuart *u, uint32_t i, uint8_t *buf, size_t cap)
{
	struct migr_pic_pair pic;
	struct migr_pit pit;
	struct migr_rtc rtc;
	struct migr_uart16550a uart;

	switch (i) {
	case 0:
		pic = pic_of(&d->pic);
		return put(buf, cap, MIGR_DEV_PIC8259_PAIR, &pic, sizeof(pic));
	case 1:
		pit = pit_of(&d->pit);
		return put(buf, cap, MIGR_DEV_PIT8254, &pit, sizeof(pit));
	case 2:
		memset(&rtc, 0, sizeof(rtc));
		rtc.reset_tsc = d->rtc.reset_tsc;
		rtc.index = d->rtc.index;
		memcpy(rtc.ram, d->rtc.ram, sizeof(rtc.ram));
		return put(buf, cap, MIGR_DEV_RTC_CMOS, &rtc, sizeof(rtc));
	case 3:
		uart = uart_of(u);
		return put(buf, cap, MIGR_DEV_UART16550A, &uart, sizeof(uart));
	default:
		return 0;
	}
}

/* ---- decoding: every field checked, then applied ---- */

static int pic_load(const struct migr_pic_pair *w, struct vpic *p)
{
	struct vpic n;
	unsigned i;

	for (i = 0; i < 2; i++) {
		const struct migr_pic_chip *c = &w->chip[i];

		if (c->flags & ~MIGR_PIC_FLAGS || c->vector_base & ~VPIC_VECTOR_BASE_MASK || c->init_step > 4 ||
		    !((PIC_STEPS >> c->init_step) & 1))
			return HV_EINVAL;
		/* Automatic EOI never sets ISR; an uninitialised chip has raised nothing. */
		if ((c->flags & MIGR_PIC_AUTO_EOI && c->isr) || (!(c->flags & MIGR_PIC_INITIALIZED) && c->isr))
			return HV_EINVAL;
		n.chip[i] = (struct vpic_chip){ .irr = c->irr, .isr = c->isr, .imr = c->imr, .lines = c->lines,
						.vector_base = c->vector_base, .init_step = c->init_step,
						.need_icw3 = c->flags & MIGR_PIC_NEED_ICW3,
						.need_icw4 = c->flags & MIGR_PIC_NEED_ICW4,
						.auto_eoi = c->flags & MIGR_PIC_AUTO_EOI,
						.read_isr = c->flags & MIGR_PIC_READ_ISR,
						.initialized = c->flags & MIGR_PIC_INITIALIZED };
	}
	*p = n;
	return HV_OK;
}

static bool pit_channel_ok(const struct migr_pit_channel *c, unsigned i)
{
	const struct migr_pit_channel zero = { 0 };

	if (i == 1)
		return !memcmp(c, &zero, sizeof(zero)); /* not wired: never programmed */
	if (c->reload > PIT_COUNT_MAX || c->mode > PIT_MODE_MAX || c->access > VPIT_ACCESS_LOHI ||
	    c->flags & ~MIGR_PIT_CH_FLAGS)
		return false;
	/* Only a lobyte/hibyte access is ever half-way through a write or a read. */
	if (c->access != VPIT_ACCESS_LOHI && c->flags & (MIGR_PIT_WRITE_MSB_NEXT | MIGR_PIT_READ_MSB_NEXT))
		return false;
	if (!(c->flags & MIGR_PIT_COUNTING) && c->irqs)
		return false;
	return !(c->mode == VPIT_MODE_ONESHOT && c->irqs > 1) && (i == 0 || !c->irqs);
}

static int pit_load(const struct migr_pit *w, struct vpit *p)
{
	struct vpit n = *p; /* this host's TSC rate stays */
	unsigned i;

	if (w->port_b & ~VPIT_PORT_B_WRITABLE || w->flags & ~MIGR_PIT_REFRESH)
		return HV_EINVAL;
	for (i = 0; i < VPIT_CHANNELS; i++) {
		const struct migr_pit_channel *c = &w->ch[i];

		if (!pit_channel_ok(c, i))
			return HV_EINVAL;
		n.ch[i] = (struct vpit_channel){ .reload = c->reload, .mode = c->mode, .access = c->access,
						 .counting = c->flags & MIGR_PIT_COUNTING,
						 .write_msb_next = c->flags & MIGR_PIT_WRITE_MSB_NEXT,
						 .read_msb_next = c->flags & MIGR_PIT_READ_MSB_NEXT,
						 .write_lsb = c->write_lsb, .latched = c->flags & MIGR_PIT_LATCHED,
						 .latch = c->latch, .load_tsc = c->load_tsc, .irqs = c->irqs };
	}
	n.port_b = w->port_b;
	n.refresh = w->flags & MIGR_PIT_REFRESH;
	*p = n;
	return HV_OK;
}

static int rtc_load(const struct migr_rtc *w, struct vrtc *r)
{
	/* Registers C and D are read-only: no guest changed them from their reset values. */
	if (w->index > VRTC_INDEX_MASK || w->ram[VRTC_REG_C] || w->ram[VRTC_REG_D] != VRTC_REG_D_VRT)
		return HV_EINVAL;
	r->reset_tsc = w->reset_tsc;
	r->index = w->index;
	memcpy(r->ram, w->ram, sizeof(r->ram));
	return HV_OK;
}

static int uart_load(const struct migr_uart16550a *w, struct vuart *u)
{
	unsigned i;

	if (w->ier & ~UART_IER_MASK || w->mcr & ~UART_MCR_MASK || w->fcr & ~UART_FCR_ENABLE ||
	    w->flags & ~MIGR_UART_THRE_PENDING || w->rx_count > VUART_RX_FIFO)
		return HV_EINVAL;
	for (i = w->rx_count; i < VUART_RX_FIFO; i++)
		if (w->rx[i])
			return HV_EINVAL;
	u->ier = w->ier, u->lcr = w->lcr, u->mcr = w->mcr, u->scr = w->scr, u->dll = w->dll, u->dlm = w->dlm;
	u->fcr = w->fcr;
	u->thre_pending = w->flags & MIGR_UART_THRE_PENDING;
	memcpy(u->rx, w->rx, sizeof(u->rx));
	u->rx_head = 0;
	u->rx_count = w->rx_count;
	return HV_OK;
}

/* The first form: registers only; IIR, LSR and MSR are derived and not taken. */
static int uart_v1_load(const struct migr_uart16550 *w, struct vuart *u)
{
	if (w->ier & ~UART_IER_MASK || w->mcr & ~UART_MCR_MASK)
		return HV_EINVAL;
	u->ier = w->ier, u->lcr = w->lcr, u->mcr = w->mcr, u->scr = w->scr, u->dll = w->dll, u->dlm = w->dlm;
	return HV_OK;
}

int migr_hv_dev_decode(const uint8_t *body, uint32_t len, struct vdev *d, struct vuart *u, uint32_t *seen)
{
	struct migr_device_state h;
	union {
		struct migr_pic_pair pic;
		struct migr_pit pit;
		struct migr_rtc rtc;
		struct migr_uart16550a uart;
		struct migr_uart16550 uart_v1;
	} w;
	int rc;

	if (len < sizeof(h) || len - sizeof(h) > sizeof(w))
		return HV_EINVAL;
	memcpy(&h, body, sizeof(h));
	if (h.device == 0 || h.device >= MIGR_DEV_COUNT || (*seen >> h.device) & 1)
		return HV_EINVAL;
	memset(&w, 0, sizeof(w));
	memcpy(&w, body + sizeof(h), len - sizeof(h));
	switch (h.device) {
	case MIGR_DEV_PIC8259_PAIR: rc = len == sizeof(h) + sizeof(w.pic) ? pic_load(&w.pic, &d->pic) : HV_EINVAL; break;
	case MIGR_DEV_PIT8254: rc = len == sizeof(h) + sizeof(w.pit) ? pit_load(&w.pit, &d->pit) : HV_EINVAL; break;
	case MIGR_DEV_RTC_CMOS: rc = len == sizeof(h) + sizeof(w.rtc) ? rtc_load(&w.rtc, &d->rtc) : HV_EINVAL; break;
	case MIGR_DEV_UART16550A:
		rc = len == sizeof(h) + sizeof(w.uart) && !(*seen >> MIGR_DEV_UART16550 & 1) ? uart_load(&w.uart, u)
											      : HV_EINVAL;
		break;
	default: /* MIGR_DEV_UART16550 */
		rc = len == sizeof(h) + sizeof(w.uart_v1) && !(*seen >> MIGR_DEV_UART16550A & 1)
			     ? uart_v1_load(&w.uart_v1, u)
			     : HV_EINVAL;
		break;
	}
	if (!rc)
		*seen |= 1u << h.device;
	return rc;
}

static bool seen_dev(uint32_t seen, uint32_t device) { return (seen >> device) & 1; }

int migr_hv_dev_check(const struct vdev *d, const struct vuart *u, uint32_t seen, uint64_t guest_tsc)
{
	const struct vpit *p = &d->pit;
	unsigned i;

	for (i = 0; i < VPIT_CHANNELS && seen_dev(seen, MIGR_DEV_PIT8254); i++)
		if (p->ch[i].counting && p->ch[i].load_tsc > guest_tsc)
			return HV_EINVAL;
	if (seen_dev(seen, MIGR_DEV_PIT8254) && p->ch[0].irqs > vpit_irqs_due(p, guest_tsc))
		return HV_EINVAL;
	if (seen_dev(seen, MIGR_DEV_RTC_CMOS) && d->rtc.reset_tsc > guest_tsc)
		return HV_EINVAL;
	/* The PIC saw the UART's line at its level: an edge it missed would lose an interrupt. */
	if (seen_dev(seen, MIGR_DEV_PIC8259_PAIR) && !!(d->pic.chip[0].lines & (1u << VUART_IRQ)) != vuart_irq(u))
		return HV_EINVAL;
	return HV_OK;
}
