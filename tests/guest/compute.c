#include "tests/guest/compute.h"

#include "tests/guest/arch.h"
#include "tests/guest/console.h"
#include "tests/guest/lib.h"

/* A unit is short (about 400 instructions) so that even 1% of a slice holds many. */
#define UNIT_ITERATIONS 100u

static volatile uint64_t work_units[HV_MAX_VCPUS];

static uint32_t compute_unit(uint32_t x)
{
	for (uint32_t i = 0; i < UNIT_ITERATIONS; i++)
		x = x * 1664525u + 1013904223u; /* an LCG: the result depends on every step */
	return x;
}

void compute_run(const struct hv_boot_params *bp, uint32_t vcpu)
{
	uint64_t ticks_per_ms = udiv64(bp->tsc_hz, 1000, NULL);
	uint32_t report_ms = bp->guest.report_ms ? bp->guest.report_ms : 1000;
	uint64_t start = rdtsc(), next_report = start + report_ms * ticks_per_ms;
	uint64_t last_units = 0, last_ms = 0;
	volatile uint64_t *units = &work_units[vcpu];
	uint32_t x = vcpu + 1;

	hc_work_counter(units);
	for (;;) {
		uint64_t now;

		x = compute_unit(x);
		*units = *units + 1;
		now = rdtsc();
		if (now < next_report)
			continue;
		uint64_t ms = udiv64(now - start, ticks_per_ms, NULL);
		uint64_t rate = ms > last_ms ? udiv64((*units - last_units) * 1000, ms - last_ms, NULL) : 0;

		con_printf("progress vcpu=%u t=%llu writes=%llu rate=%llu verified=0 errors=0 units=compute x=%x\n",
			   vcpu, ms, *units, rate, x);
		last_units = *units;
		last_ms = ms;
		next_report += report_ms * ticks_per_ms;
	}
}
