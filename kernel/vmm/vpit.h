/*
 * The guest's 8254 programmable interval timer (Intel 8254 data sheet) and
 * port 0x61's gate and output bits of channel 2. Time is the host's TSC,
 * passed in: a channel's count is computed from when it was loaded, so the
 * model needs no ticking, only the deadline of channel 0's next interrupt.
 * Channel 0 drives IRQ 0 in modes 0 (one shot), 2 and 3 (periodic);
 * channel 2's gate and output (mode 0) serve TSC calibration. Not
 * modelled: BCD counting, the read-back command, modes 1, 4 and 5 beyond
 * counting down, gate-low pauses.
 */
#ifndef HV_KERNEL_VMM_VPIT_H
#define HV_KERNEL_VMM_VPIT_H

#include <stdbool.h>
#include <stdint.h>

#define VPIT_HZ 1193182ull
#define VPIT_CH0 0x40
#define VPIT_CH2 0x42
#define VPIT_COMMAND 0x43
#define VPIT_PORT_B 0x61
#define VPIT_CHANNELS 3
#define VPIT_NEVER UINT64_MAX

/* Control word (port 0x43). */
#define VPIT_CW_CHANNEL_SHIFT 6
#define VPIT_CW_READBACK 3
#define VPIT_CW_ACCESS_SHIFT 4
#define VPIT_CW_ACCESS_MASK 3
#define VPIT_ACCESS_LATCH 0
#define VPIT_ACCESS_LSB 1
#define VPIT_ACCESS_MSB 2
#define VPIT_ACCESS_LOHI 3
#define VPIT_CW_MODE_SHIFT 1
#define VPIT_CW_MODE_MASK 7
#define VPIT_MODE_ONESHOT 0     /* interrupt on terminal count */
#define VPIT_MODE_RATE 2        /* rate generator */
#define VPIT_MODE_SQUARE 3      /* square wave */

/* Port 0x61 (NMI status and control). */
#define VPIT_PORT_B_GATE2 0x01
#define VPIT_PORT_B_SPEAKER 0x02
#define VPIT_PORT_B_REFRESH 0x10
#define VPIT_PORT_B_OUT2 0x20
#define VPIT_PORT_B_WRITABLE (VPIT_PORT_B_GATE2 | VPIT_PORT_B_SPEAKER)

struct vpit_channel {
	uint32_t reload;        /* the count written; 0 counts as 65536 */
	uint8_t mode;
	uint8_t access;         /* VPIT_ACCESS_* of the last control word */
	bool counting;          /* a count was written since the control word */
	bool write_msb_next;    /* lobyte/hibyte: the next write is the high byte */
	bool read_msb_next;
	uint8_t write_lsb;
	bool latched;
	uint16_t latch;
	uint64_t load_tsc;      /* when counting started */
	uint64_t irqs;          /* channel 0: interrupts raised since load_tsc */
};

/* The timer as the guest sees it: a plain value, saved and loaded whole. */
struct vpit {
	struct vpit_channel ch[VPIT_CHANNELS];
	uint8_t port_b;         /* the writable bits of port 0x61 */
	bool refresh;           /* toggles on each read of port 0x61 */
	uint64_t tsc_hz;
};

void vpit_reset(struct vpit *p, uint64_t tsc_hz);
bool vpit_claims(uint16_t port);
/* One byte-wide access at TSC now; reads return their value in *val. */
void vpit_io(struct vpit *p, uint64_t now, uint16_t port, bool in, uint8_t *val);
/* How many channel-0 interrupts fell due up to now and were not yet raised (they are raised by this call). */
unsigned vpit_update(struct vpit *p, uint64_t now);
/* Channel 0's interrupts due by now since it was loaded (raised or not). */
uint64_t vpit_irqs_due(const struct vpit *p, uint64_t now);
/* TSC of channel 0's next interrupt; VPIT_NEVER when none is due. */
uint64_t vpit_next_irq(const struct vpit *p);

/* Conversions between TSC ticks and PIT ticks, without overflow. */
uint64_t vpit_ticks(uint64_t tsc_ticks, uint64_t tsc_hz);
uint64_t vpit_tsc(uint64_t pit_ticks, uint64_t tsc_hz);

#endif
