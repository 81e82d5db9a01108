/*
 * The throttle measurement (throttle.bench= on the command line): sets the
 * VM's throttle to each target in turn and measures the guest's own work
 * rate (from the work counters the guest registered) against the rate at
 * 0%, then the release latency from 99%; or, for the dirty-rate limit, each
 * vCPU's work and dirty rates without and with the limit. Prints one line
 * per measurement and powers the machine off when done.
 */
#ifndef HV_KERNEL_SELFTEST_THROTTLE_BENCH_H
#define HV_KERNEL_SELFTEST_THROTTLE_BENCH_H

#include <stdint.h>
#include <stdbool.h>
#include "kernel/guest_abi.h"
#include "kernel/task.h"

struct vm;

enum throttle_bench_run {
	THROTTLE_BENCH_RUN_QUICK, /* targets 0, 50, 99, then a release at 99 */
	THROTTLE_BENCH_RUN_FULL,  /* targets 0, 10, ..., 90, 95, 99, then a release at 99 */
	THROTTLE_BENCH_RUN_DIRTY, /* the dirty-rate limit: rates without, then with it */
};

struct throttle_bench_params {
	enum throttle_bench_run run;
	uint32_t step_ms;         /* measurement window */
	uint64_t dirty_limit;     /* pages/s, for THROTTLE_BENCH_RUN_DIRTY */
};

struct throttle_bench {
	struct host_task task;
	struct vm *vm;
	struct throttle_bench_params p;
	const unsigned *levels;
	unsigned level_count, level;
	int phase;
	uint64_t step_ticks, settle_ticks;
	uint64_t t0, c0[HV_MAX_VCPUS], d0[HV_MAX_VCPUS], r0[HV_MAX_VCPUS];
	uint64_t base_ticks, base[HV_MAX_VCPUS];  /* the 0% window */
	uint64_t counter_gpa[HV_MAX_VCPUS];       /* the guest's work counters (HV_HC_WORK_COUNTER) */
};

int throttle_bench_start(struct throttle_bench *b, struct sched *s, struct vm *vm, const struct throttle_bench_params *p);

#endif
