#include "kernel/vmm/vpic.h"

#include <string.h>

#define SPURIOUS_LEVEL 7 /* an acknowledge with nothing to give answers with IRQ 7 of the chip */

void vpic_reset(struct vpic *p) { memset(p, 0, sizeof(*p)); }

bool vpic_claims(uint16_t port)
{
	return port == VPIC_MASTER_CMD || port == VPIC_MASTER_DATA || port == VPIC_SLAVE_CMD ||
	       port == VPIC_SLAVE_DATA;
}

/* Highest-priority level set in bits (0 is highest); 8 when none. */
static unsigned top(uint8_t bits) { return bits ? (unsigned)__builtin_ctz(bits) : 8; }

/* The level a chip would raise INTR for: requested, unmasked, above everything in service; 8 when none. */
static unsigned chip_request(const struct vpic_chip *c)
{
	unsigned req;

	/* Checked before every VM entry: the common answer, nothing, comes first. */
	if (!c->initialized || !(c->irr & ~c->imr))
		return 8;
	req = top(c->irr & ~c->imr);
	return req < top(c->isr) ? req : 8;
}

/* The slave's INTR is the master's cascade line. */
static void cascade(struct vpic *p)
{
	vpic_set_irq(p, VPIC_CASCADE_IRQ, chip_request(&p->chip[1]) != 8);
}

void vpic_set_irq(struct vpic *p, unsigned irq, bool level)
{
	struct vpic_chip *c = &p->chip[irq / 8 & 1];
	uint8_t bit = (uint8_t)(1u << (irq % 8));

	if (level && !(c->lines & bit))
		c->irr |= bit;
	if (level)
		c->lines |= bit;
	else
		c->lines &= (uint8_t)~bit;
	if (irq >= 8)
		cascade(p);
}

bool vpic_pending(const struct vpic *p) { return chip_request(&p->chip[0]) != 8; }

/* One chip's acknowledge: returns the level it serves (SPURIOUS_LEVEL when its request went away). */
static unsigned chip_ack(struct vpic_chip *c)
{
	unsigned level = chip_request(c);

	if (level == 8)
		return SPURIOUS_LEVEL;
	c->irr &= (uint8_t)~(1u << level);
	if (!c->auto_eoi)
		c->isr |= (uint8_t)(1u << level);
	return level;
}

uint8_t vpic_ack(struct vpic *p)
{
	unsigned level = chip_ack(&p->chip[0]);
	uint8_t vector;

	if (level == VPIC_CASCADE_IRQ && (p->chip[0].lines & (1u << VPIC_CASCADE_IRQ))) {
		vector = (uint8_t)(p->chip[1].vector_base + chip_ack(&p->chip[1]));
		/* The cascade line's edge was consumed: the slave's next request must raise it again. */
		p->chip[0].lines &= (uint8_t)~(1u << VPIC_CASCADE_IRQ);
		cascade(p);
		return vector;
	}
	return (uint8_t)(p->chip[0].vector_base + level);
}

static void chip_eoi(struct vpic_chip *c, uint8_t ocw2)
{
	if (ocw2 & VPIC_OCW2_SL)
		c->isr &= (uint8_t)~(1u << (ocw2 & VPIC_OCW2_LEVEL_MASK));
	else if (top(c->isr) < 8)
		c->isr &= (uint8_t)~(1u << top(c->isr));
}

static void chip_command(struct vpic_chip *c, uint8_t v)
{
	if (v & VPIC_ICW1) {
		/* ICW1 starts initialisation: masks, requests and service all clear. */
		c->irr = c->isr = c->imr = 0;
		c->lines = 0;
		c->auto_eoi = false;
		c->read_isr = false;
		c->need_icw3 = !(v & VPIC_ICW1_SINGLE);
		c->need_icw4 = v & VPIC_ICW1_IC4;
		c->init_step = 2;
		return;
	}
	if (v & VPIC_OCW3) {
		if (v & VPIC_OCW3_RR)
			c->read_isr = v & VPIC_OCW3_RIS;
		return;
	}
	if (v & VPIC_OCW2_EOI)
		chip_eoi(c, v);
}

static void chip_data(struct vpic_chip *c, uint8_t v)
{
	switch (c->init_step) {
	case 2:
		c->vector_base = v & VPIC_VECTOR_BASE_MASK;
		c->init_step = c->need_icw3 ? 3 : c->need_icw4 ? 4 : 0;
		break;
	case 3:
		c->init_step = c->need_icw4 ? 4 : 0; /* the cascade wiring is fixed: IRQ 2 */
		break;
	case 4:
		c->auto_eoi = v & VPIC_ICW4_AEOI;
		c->init_step = 0;
		break;
	default:
		c->imr = v; /* OCW1 */
		return;
	}
	if (c->init_step == 0)
		c->initialized = true;
}

void vpic_io(struct vpic *p, uint16_t port, bool in, uint8_t *val)
{
	struct vpic_chip *c = &p->chip[port == VPIC_SLAVE_CMD || port == VPIC_SLAVE_DATA];
	bool data = port == VPIC_MASTER_DATA || port == VPIC_SLAVE_DATA;

	if (in) {
		*val = data ? c->imr : c->read_isr ? c->isr : c->irr;
		return;
	}
	if (data)
		chip_data(c, *val);
	else
		chip_command(c, *val);
	cascade(p);
}
