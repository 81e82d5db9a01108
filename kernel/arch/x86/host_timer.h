/*
 * The host's timer: the LAPIC timer, a periodic tick that bounds idle
 * waits and counts host time, and a one-shot deadline for the idle loop.
 */
#ifndef HV_KERNEL_ARCH_X86_HOST_TIMER_H
#define HV_KERNEL_ARCH_X86_HOST_TIMER_H

#include <stdint.h>

#define HOST_TICK_US 10000 /* 100 Hz */

/* Calibrates the LAPIC timer against the TSC and starts the tick. */
void host_timer_init(void);

/* Ticks seen so far. */
uint64_t host_timer_ticks(void);

/* Halts until the TSC reaches deadline (or an earlier interrupt), then restores the tick. */
void host_timer_sleep_until(uint64_t deadline);

#endif
