/*
 * The guest's CMOS real-time clock (MC146818): index port 0x70, data port
 * 0x71, 128 bytes of CMOS RAM. The clock reads a fixed epoch plus the time
 * since the model was reset, in BCD and 24-hour format; never "update in
 * progress". Not modelled: alarms, periodic and update interrupts (IRQ 8),
 * setting the clock (writes to its registers land in CMOS RAM and are
 * ignored by the clock).
 */
#ifndef HV_KERNEL_VMM_VRTC_H
#define HV_KERNEL_VMM_VRTC_H

#include <stdbool.h>
#include <stdint.h>

#define VRTC_INDEX 0x70
#define VRTC_DATA 0x71
#define VRTC_INDEX_MASK 0x7f     /* bit 7 of the index port is the NMI mask */
#define VRTC_RAM_SIZE 128

#define VRTC_SECONDS 0x00
#define VRTC_MINUTES 0x02
#define VRTC_HOURS 0x04
#define VRTC_WEEKDAY 0x06
#define VRTC_DAY 0x07
#define VRTC_MONTH 0x08
#define VRTC_YEAR 0x09
#define VRTC_REG_A 0x0a
#define VRTC_REG_B 0x0b
#define VRTC_REG_C 0x0c
#define VRTC_REG_D 0x0d
#define VRTC_CENTURY 0x32

#define VRTC_REG_A_DIVIDER 0x26  /* 32.768 kHz time base, 1024 Hz rate; UIP (bit 7) clear */
#define VRTC_REG_B_24H 0x02      /* 24-hour mode; DM (bit 2) clear: BCD */
#define VRTC_REG_D_VRT 0x80      /* valid RAM and time: the battery is good */

/* 2026-01-01 00:00:00 UTC, a Thursday: what the clock reads at reset. */
#define VRTC_EPOCH_DAYS 20454u   /* days from 1970-01-01 */

struct vrtc {
	uint8_t index;
	uint8_t ram[VRTC_RAM_SIZE];
	uint64_t reset_tsc;
	uint64_t tsc_hz;
};

void vrtc_reset(struct vrtc *r, uint64_t now, uint64_t tsc_hz);
bool vrtc_claims(uint16_t port);
void vrtc_io(struct vrtc *r, uint64_t now, uint16_t port, bool in, uint8_t *val);

#endif
