/* The per-CPU loop that carries out the scheduler's decisions. */
#include "kernel/sched_loop.h"

#include "drivers/serial.h"
#include "kernel/arch/x86/host_timer.h"
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/time.h"

/* Waits shorter than this spin: arming the timer and halting would take longer. */
#define IDLE_SPIN_MAX_US 20
/* While console output waits, the idle loop wakes this often to feed the UART (16 bytes take 1.4 ms). */
#define IDLE_CONSOLE_US 1000

static unsigned sched_polling;

void sched_loop_poll(bool on)
{
	if (on)
		sched_polling++;
	else if (sched_polling)
		sched_polling--;
}

/* Nothing may run before wake: halt until then (the host tick bounds the wait otherwise). */
static void sched_idle(struct sched *s, uint64_t now)
{
	uint64_t wake = sched_next_wake(s);

	if (serial_pending() && wake > now + time_us_to_ticks(IDLE_CONSOLE_US))
		wake = now + time_us_to_ticks(IDLE_CONSOLE_US);
	/* Polling: spin, back to the loop at least every IDLE_CONSOLE_US (interrupts are taken there). */
	if (sched_polling && wake > now + time_us_to_ticks(IDLE_CONSOLE_US))
		wake = now + time_us_to_ticks(IDLE_CONSOLE_US);
	if (wake != SCHED_NEVER && (sched_polling || wake <= now + time_us_to_ticks(IDLE_SPIN_MAX_US))) {
		while (time_now() < wake)
			cpu_relax();
	} else if (wake != SCHED_NEVER) {
		host_timer_sleep_until(wake);
	} else {
		irq_enable_and_halt();
	}
	sched_charge_idle(s, time_now() - now);
}

void sched_loop(struct sched *s)
{
	/* Time between two entities (picking, interrupts) is charged to the next one: nothing goes unaccounted. */
	uint64_t mark = time_now();

	for (;;) {
		uint64_t start = time_now(), end;
		struct sched_entity *e = sched_pick(s, start);

		if (!e) {
			sched_idle(s, start);
			mark = time_now();
			continue;
		}
		e->run(e, start, start + sched_grant(s, e));
		end = time_now();
		sched_charge(e, end - mark);
		mark = end;
		serial_poll();
		/*
		 * Take interrupts that arrived while host code ran with them off.
		 * Bochs does not turn an interrupt into an external-interrupt exit
		 * while the guest runs with RFLAGS.IF clear, so this window is also
		 * where such interrupts are served: at most one slice late.
		 */
		irq_window();
	}
}
