#include "kernel/vmm/vpit.h"

#include <string.h>

#define COUNT_WRAP 0x10000u

void vpit_reset(struct vpit *p, uint64_t tsc_hz)
{
	memset(p, 0, sizeof(*p));
	p->tsc_hz = tsc_hz;
}

bool vpit_claims(uint16_t port)
{
	return (port >= VPIT_CH0 && port <= VPIT_COMMAND) || port == VPIT_PORT_B;
}

uint64_t vpit_ticks(uint64_t tsc_ticks, uint64_t tsc_hz)
{
	return tsc_ticks / tsc_hz * VPIT_HZ + tsc_ticks % tsc_hz * VPIT_HZ / tsc_hz;
}

/* Rounded up: the first TSC tick at which pit_ticks have passed. */
uint64_t vpit_tsc(uint64_t pit_ticks, uint64_t tsc_hz)
{
	return pit_ticks / VPIT_HZ * tsc_hz + (pit_ticks % VPIT_HZ * tsc_hz + VPIT_HZ - 1) / VPIT_HZ;
}

static uint32_t reload(const struct vpit_channel *c) { return c->reload ? c->reload : COUNT_WRAP; }

static bool periodic(const struct vpit_channel *c)
{
	return c->mode == VPIT_MODE_RATE || c->mode == VPIT_MODE_SQUARE;
}

static uint64_t elapsed(const struct vpit *p, const struct vpit_channel *c, uint64_t now)
{
	return now > c->load_tsc ? vpit_ticks(now - c->load_tsc, p->tsc_hz) : 0;
}

/* The counting element now. */
static uint16_t count(const struct vpit *p, const struct vpit_channel *c, uint64_t now)
{
	uint64_t e = elapsed(p, c, now);

	if (!c->counting)
		return (uint16_t)c->reload;
	if (periodic(c))
		return (uint16_t)(reload(c) - e % reload(c));
	return (uint16_t)((reload(c) + COUNT_WRAP - e % COUNT_WRAP) % COUNT_WRAP);
}

/* Mode 0's output: high from the terminal count on. */
static bool out_high(const struct vpit *p, const struct vpit_channel *c, uint64_t now)
{
	if (!c->counting)
		return c->mode != VPIT_MODE_ONESHOT;
	if (periodic(c))
		return true;
	return elapsed(p, c, now) >= reload(c);
}

static uint8_t read_counter(struct vpit *p, struct vpit_channel *c, uint64_t now)
{
	uint16_t v = c->latched ? c->latch : count(p, c, now);
	bool msb;

	switch (c->access) {
	case VPIT_ACCESS_LSB: msb = false; c->latched = false; break;
	case VPIT_ACCESS_MSB: msb = true; c->latched = false; break;
	default:
		msb = c->read_msb_next;
		c->read_msb_next = !msb;
		if (msb)
			c->latched = false;
		break;
	}
	return (uint8_t)(msb ? v >> 8 : v);
}

static void write_counter(struct vpit_channel *c, uint64_t now, uint8_t v)
{
	switch (c->access) {
	case VPIT_ACCESS_LSB: c->reload = v; break;
	case VPIT_ACCESS_MSB: c->reload = (uint32_t)v << 8; break;
	default:
		if (!c->write_msb_next) {
			c->write_lsb = v;
			c->write_msb_next = true;
			return;
		}
		c->reload = c->write_lsb | (uint32_t)v << 8;
		c->write_msb_next = false;
		break;
	}
	c->counting = true;
	c->load_tsc = now;
	c->irqs = 0;
}

static void write_control(struct vpit *p, uint64_t now, uint8_t v)
{
	unsigned sel = v >> VPIT_CW_CHANNEL_SHIFT;
	unsigned access = (v >> VPIT_CW_ACCESS_SHIFT) & VPIT_CW_ACCESS_MASK;
	struct vpit_channel *c;

	if (sel == VPIT_CW_READBACK || sel == 1)
		return; /* read-back is not modelled; channel 1 (DRAM refresh) has no use here */
	c = &p->ch[sel];
	if (access == VPIT_ACCESS_LATCH) {
		if (!c->latched) {
			c->latch = count(p, c, now);
			c->latched = true;
			c->read_msb_next = false;
		}
		return;
	}
	c->access = (uint8_t)access;
	c->mode = (uint8_t)((v >> VPIT_CW_MODE_SHIFT) & VPIT_CW_MODE_MASK);
	/* Modes 6 and 7 are 2 and 3. */
	if (c->mode > VPIT_MODE_SQUARE + 2)
		c->mode -= 4;
	c->counting = false;
	c->irqs = 0;
	c->latched = false;
	c->write_msb_next = false;
	c->read_msb_next = false;
}

void vpit_io(struct vpit *p, uint64_t now, uint16_t port, bool in, uint8_t *val)
{
	struct vpit_channel *c2 = &p->ch[2];

	if (port == VPIT_PORT_B) {
		if (in) {
			p->refresh = !p->refresh;
			*val = (uint8_t)(p->port_b | (p->refresh ? VPIT_PORT_B_REFRESH : 0) |
					 (out_high(p, c2, now) ? VPIT_PORT_B_OUT2 : 0));
			return;
		}
		/* A rising gate restarts channel 2's count (modes 1, 2, 3, 5 reload on it). */
		if ((*val & VPIT_PORT_B_GATE2) && !(p->port_b & VPIT_PORT_B_GATE2) && c2->counting &&
		    c2->mode != VPIT_MODE_ONESHOT)
			c2->load_tsc = now;
		p->port_b = *val & VPIT_PORT_B_WRITABLE;
		return;
	}
	if (port == VPIT_COMMAND) {
		if (!in)
			write_control(p, now, *val);
		else
			*val = 0xff; /* the control register cannot be read */
		return;
	}
	if (port == VPIT_CH0 + 1) {
		if (in)
			*val = 0xff; /* channel 1 is not wired */
		return;
	}
	if (in)
		*val = read_counter(p, &p->ch[port - VPIT_CH0], now);
	else
		write_counter(&p->ch[port - VPIT_CH0], now, *val);
}

uint64_t vpit_irqs_due(const struct vpit *p, uint64_t now)
{
	const struct vpit_channel *c = &p->ch[0];
	uint64_t e;

	if (!c->counting)
		return 0; /* before every VM entry: the channel the test guest never programs costs nothing */
	e = elapsed(p, c, now);
	if (periodic(c))
		return e / reload(c);
	return e >= reload(c) ? 1 : 0;
}

unsigned vpit_update(struct vpit *p, uint64_t now)
{
	uint64_t due = vpit_irqs_due(p, now), fresh = due > p->ch[0].irqs ? due - p->ch[0].irqs : 0;

	p->ch[0].irqs = due;
	return fresh > 0xffffu ? 0xffffu : (unsigned)fresh;
}

uint64_t vpit_next_irq(const struct vpit *p)
{
	const struct vpit_channel *c = &p->ch[0];

	if (!c->counting || (!periodic(c) && c->irqs))
		return VPIT_NEVER;
	return c->load_tsc + vpit_tsc((c->irqs + 1) * reload(c), p->tsc_hz);
}
