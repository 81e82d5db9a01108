/* The hypervisor's own work, scheduled beside vCPUs: each task runs briefly and blocks. */
#ifndef HV_KERNEL_TASK_H
#define HV_KERNEL_TASK_H

#include <stdint.h>
#include "kernel/core/sched.h"

struct host_task {
	const char *name;
	/* Does a bounded amount of work, then blocks t->se (sched_block) until it has more. */
	void (*run)(struct host_task *t, uint64_t now);
	void *ctx;
	struct sched_entity se;
};

/* Adds t to s as a task entity; HV_ENOMEM when s is full. */
int task_add(struct sched *s, struct host_task *t);

#endif
