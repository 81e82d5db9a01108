/* The monotonic clock every part of ferry-migrate reads, in nanoseconds. */
#ifndef LR_CLOCK_H
#define LR_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t lr_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
