/* The per-CPU loop that carries out the scheduler's decisions (kernel/core/sched.h). */
#ifndef HV_KERNEL_SCHED_LOOP_H
#define HV_KERNEL_SCHED_LOOP_H

#include <stdbool.h>
#include "kernel/core/sched.h"

/*
 * While polling is on, an idle CPU spins instead of halting: nothing waits
 * for a timer interrupt to be woken, and (in an emulator that skips the
 * time a halted CPU would sleep) this host's clock keeps pace with the
 * work it does. A migration turns it on while it runs, as its pause is
 * latency bound. Calls nest: each sched_loop_poll(true) needs its false.
 */
void sched_loop_poll(bool on);

/* Runs the scheduler's entities forever, and idles when none is runnable. */
void sched_loop(struct sched *s) __attribute__((noreturn));

#endif
