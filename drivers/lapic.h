/* The local APIC in xAPIC (MMIO) mode: enable, EOI, and its timer. */
#ifndef HV_DRIVERS_LAPIC_H
#define HV_DRIVERS_LAPIC_H

#include <stdint.h>

#define LAPIC_DEFAULT_BASE 0xfee00000ull
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_ADDR_MASK 0xffffff000ull

#define LAPIC_ID 0x020
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INITIAL 0x380
#define LAPIC_TIMER_CURRENT 0x390
#define LAPIC_TIMER_DIVIDE 0x3e0

#define LAPIC_SVR_ENABLE (1u << 8)
#define LAPIC_LVT_MASKED (1u << 16)
#define LAPIC_LVT_PERIODIC (1u << 17)
#define LAPIC_DIVIDE_16 0x3u

/* Enables the LAPIC with spurious vector svr_vector. */
void lapic_init(uint8_t svr_vector);
void lapic_eoi(void);

/* Measures the timer's rate (ticks per second at divide 16) against the TSC. */
void lapic_timer_calibrate(uint64_t tsc_hz);
/* Starts a periodic interrupt on vector every period_us microseconds. */
void lapic_timer_periodic(uint8_t vector, uint32_t period_us);
/* One interrupt on vector after tsc_ticks of TSC time (the periodic timer stops). */
void lapic_timer_oneshot(uint8_t vector, uint64_t tsc_ticks, uint64_t tsc_hz);
uint64_t lapic_timer_hz(void);

#endif
