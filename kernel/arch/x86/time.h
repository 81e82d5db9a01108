/* Host time: the TSC, calibrated once against the PIT. */
#ifndef HV_KERNEL_ARCH_X86_TIME_H
#define HV_KERNEL_ARCH_X86_TIME_H

#include <stdint.h>

void time_init(void);
uint64_t time_now(void);          /* TSC ticks */
uint64_t time_tsc_hz(void);
uint64_t time_uptime_us(void);    /* since time_init(); 0 before it */
uint64_t time_us_to_ticks(uint64_t us);
uint64_t time_ticks_to_us(uint64_t ticks);

#endif
