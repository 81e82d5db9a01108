#include "kernel/arch/x86/time.h"

#include "drivers/pit.h"
#include "kernel/arch/x86/hw/hwops.h"

#define TIME_CALIBRATE_MS 20

static uint64_t tsc_hz;
static uint64_t tsc_boot;

void time_init(void)
{
	uint64_t ticks = pit_measure_tsc(TIME_CALIBRATE_MS);

	tsc_hz = ticks * (1000 / TIME_CALIBRATE_MS);
	tsc_boot = rdtsc();
}

uint64_t time_now(void) { return rdtsc(); }
uint64_t time_tsc_hz(void) { return tsc_hz; }

uint64_t time_ticks_to_us(uint64_t ticks)
{
	if (!tsc_hz)
		return 0;
	/* Split to avoid overflow for long uptimes without 128-bit division. */
	return ticks / tsc_hz * 1000000 + ticks % tsc_hz * 1000000 / tsc_hz;
}

uint64_t time_us_to_ticks(uint64_t us) { return us / 1000000 * tsc_hz + us % 1000000 * tsc_hz / 1000000; }

uint64_t time_uptime_us(void) { return tsc_boot ? time_ticks_to_us(rdtsc() - tsc_boot) : 0; }
