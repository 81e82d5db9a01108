/* The host's housekeeping task: a status line every second, and the run_for limit. */
#ifndef HV_KERNEL_VMM_MONITOR_H
#define HV_KERNEL_VMM_MONITOR_H

#include <stdint.h>
#include "kernel/task.h"
#include "kernel/vmm/vm.h"

struct monitor {
	struct host_task task;
	struct vm *vm;          /* NULL before a VM exists */
	uint64_t period_ticks;
	uint64_t next_report;
	uint64_t stop_at;       /* TSC; 0 = never */
};

int monitor_start(struct monitor *m, struct sched *s, struct vm *vm, uint32_t run_for_ms);

#endif
