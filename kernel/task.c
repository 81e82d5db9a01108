#include "kernel/task.h"

/* A task does its bounded work and returns: it needs no deadline. */
static void task_run(struct sched_entity *e, uint64_t now, uint64_t deadline)
{
	struct host_task *t = e->owner;

	(void)deadline;
	t->run(t, now);
}

int task_add(struct sched *s, struct host_task *t) { return sched_add(s, &t->se, t->name, SCHED_KIND_TASK, task_run, t); }
