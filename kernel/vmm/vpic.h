/*
 * The guest's 8259A programmable interrupt controllers, master and slave
 * cascaded on IRQ 2 as in a PC (Intel 8259A data sheet). Edge-triggered
 * lines, fully nested priority (IRQ 0 highest), normal or automatic EOI,
 * specific and non-specific EOI, IRR/ISR reads through OCW3. Not modelled:
 * level-triggered mode (ELCR), rotation, special mask, poll mode, buffered
 * mode. Knows nothing of VT-x: the vCPU asks whether an interrupt is
 * pending and acknowledges it as the CPU's INTA cycle would.
 */
#ifndef HV_KERNEL_VMM_VPIC_H
#define HV_KERNEL_VMM_VPIC_H

#include <stdbool.h>
#include <stdint.h>

#define VPIC_MASTER_CMD 0x20
#define VPIC_MASTER_DATA 0x21
#define VPIC_SLAVE_CMD 0xa0
#define VPIC_SLAVE_DATA 0xa1
#define VPIC_CASCADE_IRQ 2
#define VPIC_LINES 16

/* Command port writes: ICW1 has bit 4 set; OCW3 has bit 3 set; otherwise OCW2. */
#define VPIC_ICW1 0x10
#define VPIC_ICW1_IC4 0x01       /* ICW4 follows */
#define VPIC_ICW1_SINGLE 0x02    /* no cascade: no ICW3 */
#define VPIC_ICW1_LTIM 0x08      /* level-triggered: not modelled */
#define VPIC_ICW4_AEOI 0x02
#define VPIC_OCW3 0x08
#define VPIC_OCW3_RR 0x02        /* read register command */
#define VPIC_OCW3_RIS 0x01       /* 1: ISR, 0: IRR */
#define VPIC_OCW2_EOI 0x20
#define VPIC_OCW2_SL 0x40        /* specific: the level is in bits 2:0 */
#define VPIC_OCW2_LEVEL_MASK 0x07
#define VPIC_VECTOR_BASE_MASK 0xf8

/* One chip's registers. */
struct vpic_chip {
	uint8_t irr, isr, imr;
	uint8_t lines;           /* line levels, for edge detection */
	uint8_t vector_base;     /* ICW2 */
	uint8_t init_step;       /* 0: ready; 2, 3, 4: the ICW expected next */
	bool need_icw3, need_icw4;
	bool auto_eoi;
	bool read_isr;           /* OCW3: reads of the command port return ISR, else IRR */
	bool initialized;        /* no interrupt leaves a chip before its first ICW sequence */
};

/* The pair, as the guest sees it: a plain value, saved and loaded whole. */
struct vpic {
	struct vpic_chip chip[2];  /* 0: master (IRQ 0-7), 1: slave (IRQ 8-15) */
};

void vpic_reset(struct vpic *p);
bool vpic_claims(uint16_t port);
/* One byte-wide access; reads return their value in *val. */
void vpic_io(struct vpic *p, uint16_t port, bool in, uint8_t *val);
/* Drives line irq (0..15) to level; a rising edge requests the interrupt. */
void vpic_set_irq(struct vpic *p, unsigned irq, bool level);
/* Whether an unmasked request outranks everything in service: the CPU's INTR line. */
bool vpic_pending(const struct vpic *p);
/* The CPU's acknowledge: the vector to deliver, its request moved to in-service. Only after vpic_pending(). */
uint8_t vpic_ack(struct vpic *p);

#endif
