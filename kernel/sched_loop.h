/* The per-CPU loop that carries out the scheduler's decisions (kernel/core/sched.h). */
#ifndef HV_KERNEL_SCHED_LOOP_H
#define HV_KERNEL_SCHED_LOOP_H

#include "kernel/core/sched.h"

/* Runs the scheduler's entities forever, and idles when none is runnable. */
void sched_loop(struct sched *s) __attribute__((noreturn));

#endif
