#include "kernel/arch/x86/host_timer.h"

#include "drivers/lapic.h"
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/time.h"
#include "kernel/arch/x86/trap.h"
#include "kernel/lib/log.h"

static uint64_t ticks;

static void host_tick(uint8_t vector)
{
	(void)vector;
	ticks++;
}

void host_timer_init(void)
{
	lapic_init(VEC_SPURIOUS);
	lapic_timer_calibrate(time_tsc_hz());
	irq_register(VEC_LAPIC_TIMER, host_tick);
	lapic_timer_periodic(VEC_LAPIC_TIMER, HOST_TICK_US);
	log_info("lapic", "timer %llu kHz (divide 16), host tick every %u us",
		 (unsigned long long)(lapic_timer_hz() / 1000), HOST_TICK_US);
}

uint64_t host_timer_ticks(void) { return ticks; }

void host_timer_sleep_until(uint64_t deadline)
{
	uint64_t now = time_now();

	if (deadline <= now)
		return;
	lapic_timer_oneshot(VEC_LAPIC_TIMER, deadline - now, time_tsc_hz());
	irq_enable_and_halt();
	lapic_timer_periodic(VEC_LAPIC_TIMER, HOST_TICK_US);
}
