#include "kernel/vmm/vrtc.h"

#include <string.h>

#define SECS_PER_DAY 86400u
#define EPOCH_WEEKDAY 5         /* the RTC counts Sunday as 1: Thursday is 5 */

void vrtc_reset(struct vrtc *r, uint64_t now, uint64_t tsc_hz)
{
	memset(r, 0, sizeof(*r));
	r->reset_tsc = now;
	r->tsc_hz = tsc_hz;
	r->ram[VRTC_REG_A] = VRTC_REG_A_DIVIDER;
	r->ram[VRTC_REG_B] = VRTC_REG_B_24H;
	r->ram[VRTC_REG_D] = VRTC_REG_D_VRT;
}

bool vrtc_claims(uint16_t port) { return port == VRTC_INDEX || port == VRTC_DATA; }

static uint8_t bcd(unsigned v) { return (uint8_t)((v / 10) << 4 | v % 10); }

/* Year, month (1-12) and day (1-31) of a day count from 1970-01-01 (the proleptic Gregorian calendar). */
static void civil(uint64_t days, unsigned *y, unsigned *m, unsigned *d)
{
	uint64_t z = days + 719468, era = z / 146097, doe = z % 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;

	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = (unsigned)(yoe + era * 400 + (*m <= 2));
}

static uint8_t clock_reg(const struct vrtc *r, uint64_t now, uint8_t reg)
{
	uint64_t secs = (now > r->reset_tsc ? (now - r->reset_tsc) / r->tsc_hz : 0), days;
	unsigned y, m, d, s = (unsigned)(secs % SECS_PER_DAY);

	days = VRTC_EPOCH_DAYS + secs / SECS_PER_DAY;
	civil(days, &y, &m, &d);
	switch (reg) {
	case VRTC_SECONDS: return bcd(s % 60);
	case VRTC_MINUTES: return bcd(s / 60 % 60);
	case VRTC_HOURS: return bcd(s / 3600);
	case VRTC_WEEKDAY: return (uint8_t)((days - VRTC_EPOCH_DAYS + EPOCH_WEEKDAY - 1) % 7 + 1);
	case VRTC_DAY: return bcd(d);
	case VRTC_MONTH: return bcd(m);
	case VRTC_YEAR: return bcd(y % 100);
	default: return bcd(y / 100); /* VRTC_CENTURY */
	}
}

void vrtc_io(struct vrtc *r, uint64_t now, uint16_t port, bool in, uint8_t *val)
{
	uint8_t reg = r->index;

	if (port == VRTC_INDEX) {
		if (in)
			*val = 0xff; /* the index port is write-only */
		else
			r->index = *val & VRTC_INDEX_MASK;
		return;
	}
	if (!in) {
		if (reg != VRTC_REG_C && reg != VRTC_REG_D) /* status registers C and D are read-only */
			r->ram[reg] = *val;
		return;
	}
	switch (reg) {
	case VRTC_SECONDS: case VRTC_MINUTES: case VRTC_HOURS: case VRTC_WEEKDAY:
	case VRTC_DAY: case VRTC_MONTH: case VRTC_YEAR: case VRTC_CENTURY:
		*val = clock_reg(r, now, reg);
		break;
	default:
		*val = r->ram[reg];
		break;
	}
}
