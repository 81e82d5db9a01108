/*
 * The log-dirty self-check (dirty.check=<ms> on the command line): proves,
 * while the guest runs, that the dirty log never misses a write. It keeps a
 * shadow copy of guest RAM that, like a migration's destination, is updated
 * only from harvested pages. Every period it writes the shared page (a
 * hypervisor write), harvests and copies, and checks that:
 *   - every page the guest announced (guest.announce=1) before the previous
 *     harvest has been harvested by now (missed = 0);
 *   - the hypervisor's own write was harvested (host_missed = 0);
 *   - every harvested page of the guest's data region was announced in
 *     this round or the one before, as a write can straddle a harvest
 *     (extra: 0 with write protection; PML may report more);
 * One period after the last of dirty.rounds harvests comes the final pass
 * of a migration: log-dirty stops, then a last harvest is copied and checked
 * in the same way, and with the guest not running the shadow must equal
 * guest RAM byte for byte (stale = 0): the stop lost no write.
 * With dirty.verify=0 it only harvests and times the harvests (benchmarks).
 */
#ifndef HV_KERNEL_SELFTEST_DIRTY_CHECK_H
#define HV_KERNEL_SELFTEST_DIRTY_CHECK_H

#include <stdint.h>
#include "kernel/core/dirty_bitmap.h"
#include "kernel/task.h"
#include "kernel/vmm/dirty.h"

struct vm;

struct dirty_check_params {
	uint32_t period_ms;             /* between harvests */
	uint32_t rounds;                /* harvests before the verdict */
	uint32_t verify;                /* 0: only harvest and time it (benchmarks) */
	enum dirty_backend backend;     /* what log-dirty mode asks for */
};

struct dirty_check {
	struct host_task task;
	struct vm *vm;
	uint64_t period_ticks;
	uint32_t rounds, round;
	uint32_t verify;                /* 0: only harvest and time it (benchmarks) */
	uint8_t *shadow;
	struct dirty_bitmap harvest;    /* this round's harvest */
	struct dirty_bitmap announced;  /* announced since the last harvest */
	struct dirty_bitmap carry;      /* announced before the last harvest, not yet harvested */
	struct dirty_bitmap previous;   /* everything announced before the last harvest */
	uint64_t harvested, announced_total, missed, host_missed, extra, stale;
	uint64_t harvest_ticks;         /* time spent in dirty_harvest() while logging */
	uint64_t final_pages;           /* harvested after the stop, in the final pass */
};

/* Starts log-dirty mode on vm and the check task; HV_* error if either fails. */
int dirty_check_start(struct dirty_check *c, struct sched *s, struct vm *vm, const struct dirty_check_params *p);

#endif
