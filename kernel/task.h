/* The hypervisor's own work, scheduled beside vCPUs: each task runs briefly and blocks. */
#ifndef HV_KERNEL_TASK_H
#define HV_KERNEL_TASK_H

#include <stdint.h>
#include "kernel/sched.h"

struct host_task {
	const char *name;
	/* Does a bounded amount of work, then blocks t->se (sched_block) until it has more. */
	void (*run)(struct host_task *t, uint64_t now);
	void *ctx;
	struct sched_entity se;
};

int task_add(struct sched *s, struct host_task *t);

/* Halts until the TSC reaches deadline (or an earlier interrupt), then restores the host tick. */
void host_timer_sleep_until(uint64_t deadline);

/* Runs the scheduler forever: vCPUs, tasks, and idle time when nothing is runnable. */
void sched_loop(struct sched *s) __attribute__((noreturn));

#endif
