/*
 * A rate over a sliding window of fixed buckets (e.g. dirtied pages per
 * second over the last second). Pure: time comes in as TSC ticks.
 */
#ifndef HV_KERNEL_CORE_RATE_H
#define HV_KERNEL_CORE_RATE_H

#include <stdint.h>

#define RATE_BUCKETS 11 /* the current, filling bucket plus 10 complete ones */

struct rate_window {
	uint64_t bucket_ticks;
	uint64_t current;                /* absolute index (now / bucket_ticks) of the filling bucket */
	uint64_t counts[RATE_BUCKETS];
	uint64_t total;                  /* everything ever added */
};

void rate_init(struct rate_window *r, uint64_t bucket_ticks, uint64_t now);
void rate_add(struct rate_window *r, uint64_t now, uint64_t count);

/*
 * Events per second over the complete buckets of the window (the filling
 * one is left out, so the figure does not sag at each bucket's start).
 */
uint64_t rate_per_second(struct rate_window *r, uint64_t now, uint64_t ticks_per_second);

#endif
