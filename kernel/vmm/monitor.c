#include "kernel/vmm/monitor.h"

#include "drivers/poweroff.h"
#include "kernel/arch/x86/frames.h"
#include "kernel/arch/x86/host_timer.h"
#include "kernel/arch/x86/time.h"
#include "kernel/arch/x86/trap.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/arch.h"

#define MONITOR_PERIOD_US 1000000

static const char *const vm_state_names[] = { "running", "stopped", "finished" };

static uint64_t vm_exits(const struct vm *vm)
{
	uint64_t total = 0;
	unsigned i;

	for (i = 0; i < vm->vcpu_count; i++)
		total += vcpu_arch_exits(&vm->vcpus[i]);
	return total;
}

static void monitor_run(struct host_task *t, uint64_t now)
{
	struct monitor *m = t->ctx;

	if (m->stop_at && now >= m->stop_at) {
		log_info("host", "run_for reached after %llu ms: powering off",
			 (unsigned long long)(time_uptime_us() / 1000));
		if (m->vm)
			vm_log_stats(m->vm);
		poweroff();
	}
	if (now >= m->next_report) {
		if (m->vm)
			log_info("host", "uptime %llu ms, vm%u %s, %llu exits, %llu guest errors, %llu host ticks, "
				 "%llu host NMIs, %llu KiB free",
				 (unsigned long long)(time_uptime_us() / 1000), m->vm->id, vm_state_names[m->vm->state],
				 (unsigned long long)vm_exits(m->vm), (unsigned long long)m->vm->guest_errors,
				 (unsigned long long)host_timer_ticks(), (unsigned long long)trap_nmi_count(),
				 (unsigned long long)(frames_free_bytes() >> 10));
		else
			log_info("host", "uptime %llu ms, no VM, %llu KiB free", (unsigned long long)(time_uptime_us() / 1000),
				 (unsigned long long)(frames_free_bytes() >> 10));
		m->next_report += m->period_ticks;
	}
	sched_block(&t->se, m->stop_at && m->stop_at < m->next_report ? m->stop_at : m->next_report);
}

int monitor_start(struct monitor *m, struct sched *s, struct vm *vm, uint32_t run_for_ms)
{
	uint64_t now = time_now();

	m->vm = vm;
	m->period_ticks = time_us_to_ticks(MONITOR_PERIOD_US);
	m->next_report = now + m->period_ticks;
	m->stop_at = run_for_ms ? now + time_us_to_ticks((uint64_t)run_for_ms * 1000) : 0;
	m->task = (struct host_task){ .name = "monitor", .run = monitor_run, .ctx = m };
	return task_add(s, &m->task);
}
