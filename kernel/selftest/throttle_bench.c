#include "kernel/selftest/throttle_bench.h"

#include <stdio.h>
#include "drivers/poweroff.h"
#include "kernel/arch/x86/time.h"
#include "kernel/lib/err.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/vm.h"

#define SETTLE_PERIODS 3                  /* let a new throttle apply for whole periods first */
#define RELEASE_HOLD_US 300000            /* time at 99% before the release */
#define RELEASE_WAIT_US 50000
#define PAUSE_US 100000                   /* how long the pause check holds the VM */
#define DIRTY_SETTLE_US 3000000           /* the controller's steps to reach the limit */

enum bench_phase {
	PH_SETTLE, PH_MEASURE, PH_HOLD, PH_RELEASED, PH_PAUSE_HOLD, PH_PAUSED,
	PH_DIRTY_START, PH_DIRTY_BASE, PH_DIRTY_SETTLE, PH_DIRTY_MEASURE,
};

static const unsigned levels_quick[] = { 0, 50, 99 };
static const unsigned levels_full[] = { 0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99 };

/* HV_HC_WORK_COUNTER: where vCPU vcpu's guest counts its work. */
static void bench_note_counter(void *ctx, unsigned vcpu, uint64_t gpa)
{
	struct throttle_bench *b = ctx;

	if (vcpu < HV_MAX_VCPUS)
		b->counter_gpa[vcpu] = gpa;
}

/* vCPU i's guest work counter (0 if the guest registered none). */
static uint64_t bench_work(const struct throttle_bench *b, unsigned i)
{
	uint64_t gpa = b->counter_gpa[i];
	const volatile uint64_t *counter = gpa ? vm_gpa_to_hva(b->vm, gpa, sizeof(uint64_t)) : NULL;

	return counter ? *counter : 0;
}

/* Ticks the scheduler has granted vCPU i so far. */
static uint64_t bench_granted(const struct throttle_bench *b, unsigned i)
{
	struct throttle_times t;

	throttle_get_times(&b->vm->vcpus[i], &t);
	return t.granted;
}

static void bench_sample(struct throttle_bench *b, uint64_t now)
{
	unsigned i;

	b->t0 = now;
	for (i = 0; i < b->vm->vcpu_count; i++) {
		b->c0[i] = bench_work(b, i);
		b->d0[i] = b->vm->vcpus[i].dirty.rate.total;
		b->r0[i] = bench_granted(b, i);
	}
}

/* Throttle in hundredths of a percent that work c in t ticks shows against the 0% window. */
static uint64_t bench_actual(const struct throttle_bench *b, unsigned i, uint64_t c, uint64_t t)
{
	uint64_t ratio;

	if (!b->base[i] || !t)
		return 0;
	ratio = c * b->base_ticks * 10000 / (t * b->base[i]); /* work rate relative to 0%, x10000 */
	return ratio >= 10000 ? 0 : 10000 - ratio;
}

static void bench_level_done(struct throttle_bench *b, uint64_t now)
{
	struct vm *vm = b->vm;
	uint64_t t = now - b->t0, sum = 0, c[HV_MAX_VCPUS], granted;
	char line[160];
	unsigned i, target = b->levels[b->level];
	int n = 0;

	for (i = 0; i < vm->vcpu_count; i++)
		c[i] = bench_work(b, i) - b->c0[i];
	if (target == 0) {
		b->base_ticks = t;
		for (i = 0; i < vm->vcpu_count; i++)
			b->base[i] = c[i];
	}
	for (i = 0; i < vm->vcpu_count; i++) {
		uint64_t a = bench_actual(b, i, c[i], t);

		sum += a;
		n += snprintf(line + n, sizeof(line) - (size_t)n, " vcpu%u=%llu.%02llu", i, (unsigned long long)(a / 100),
			      (unsigned long long)(a % 100));
	}
	sum /= vm->vcpu_count;
	/* The scheduler's own view, for comparison: the share of the window vCPU 0 was granted. */
	granted = (bench_granted(b, 0) - b->r0[0]) * 10000 * vm->vcpu_count / t;
	log_info("throttle", "bench: target=%u actual=%llu.%02llu work=%llu ticks=%llu granted=%llu.%02llu%s", target,
		 (unsigned long long)(sum / 100), (unsigned long long)(sum % 100), (unsigned long long)c[0],
		 (unsigned long long)t, (unsigned long long)(granted / 100), (unsigned long long)(granted % 100), line);
}

static void bench_finish(struct throttle_bench *b)
{
	log_info("throttle", "bench: done");
	vm_log_stats(b->vm);
	poweroff();
}

static void bench_release_report(struct throttle_bench *b)
{
	struct vm *vm = b->vm;
	uint64_t worst = 0;
	char line[120];
	unsigned i;
	int n = 0;

	for (i = 0; i < vm->vcpu_count; i++) {
		uint64_t ticks, us;

		us = throttle_release_wait(&vm->vcpus[i], &ticks) ? time_ticks_to_us(ticks) : UINT64_MAX; /* never ran again */
		worst = us > worst ? us : worst;
		n += snprintf(line + n, sizeof(line) - (size_t)n, " vcpu%u=%llu", i, (unsigned long long)us);
	}
	log_info("throttle", "bench: release from 99%% latency_max_us=%llu%s", (unsigned long long)worst, line);
}

static void bench_pause_report(struct throttle_bench *b, uint64_t now)
{
	struct vm *vm = b->vm;
	uint64_t work = 0;
	unsigned i;

	for (i = 0; i < vm->vcpu_count; i++)
		work += bench_work(b, i) - b->c0[i];
	/* vm_pause() returns with no vCPU on the CPU: its latency is the call itself. */
	log_info("throttle", "bench: pause at 99%% latency_us=0 work_while_paused=%llu paused_us=%llu",
		 (unsigned long long)work, (unsigned long long)time_ticks_to_us(now - b->t0));
}

static void bench_dirty_report(struct throttle_bench *b, uint64_t now, const char *when)
{
	struct vm *vm = b->vm;
	uint64_t t = now - b->t0, hz = time_tsc_hz();
	unsigned i;

	for (i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *v = &vm->vcpus[i];
		uint64_t work = bench_work(b, i) - b->c0[i], dirty = v->dirty.rate.total - b->d0[i];

		log_info("throttle", "bench: dirty-limit %s vcpu%u work_per_s=%llu dirty_per_s=%llu throttle=%u", when, i,
			 (unsigned long long)(work * hz / t), (unsigned long long)(dirty * hz / t), throttle_get_vcpu(v));
	}
}

static void bench_run(struct host_task *t, uint64_t now)
{
	struct throttle_bench *b = t->ctx;
	uint64_t next = now;

	if (b->vm->state != VM_RUNNING) {
		sched_stop(&t->se);
		return;
	}
	switch (b->phase) {
	case PH_SETTLE:
		bench_sample(b, now);
		b->phase = PH_MEASURE;
		next = now + b->step_ticks;
		break;
	case PH_MEASURE:
		bench_level_done(b, now);
		if (++b->level < b->level_count) {
			throttle_set_vm(b->vm, b->levels[b->level]);
			b->phase = PH_SETTLE;
			next = now + b->settle_ticks;
		} else {
			throttle_set_vm(b->vm, 99);
			b->phase = PH_HOLD;
			next = now + time_us_to_ticks(RELEASE_HOLD_US);
		}
		break;
	case PH_HOLD:
		throttle_release(b->vm);
		b->phase = PH_RELEASED;
		next = now + time_us_to_ticks(RELEASE_WAIT_US);
		break;
	case PH_RELEASED:
		bench_release_report(b);
		throttle_set_vm(b->vm, 99);
		b->phase = PH_PAUSE_HOLD;
		next = now + time_us_to_ticks(RELEASE_HOLD_US);
		break;
	case PH_PAUSE_HOLD:
		/* Pause at 99% as a switchover would: no guest work may happen from here on. */
		vm_pause(b->vm);
		bench_sample(b, time_now());
		b->phase = PH_PAUSED;
		next = now + time_us_to_ticks(PAUSE_US);
		break;
	case PH_PAUSED:
		bench_pause_report(b, now);
		vm_resume(b->vm);
		throttle_release(b->vm);
		bench_finish(b);
		break;
	case PH_DIRTY_START:
		bench_sample(b, now);
		b->phase = PH_DIRTY_BASE;
		next = now + b->step_ticks;
		break;
	case PH_DIRTY_BASE:
		bench_dirty_report(b, now, "off");
		if (throttle_dirty_limit_start(b->vm, b->p.dirty_limit)) {
			log_err("throttle", "bench: the dirty-rate limit needs log-dirty mode (dirty.check=...)");
			bench_finish(b);
		}
		b->phase = PH_DIRTY_SETTLE;
		next = now + time_us_to_ticks(DIRTY_SETTLE_US);
		break;
	case PH_DIRTY_SETTLE:
		bench_sample(b, now);
		b->phase = PH_DIRTY_MEASURE;
		next = now + b->step_ticks;
		break;
	case PH_DIRTY_MEASURE:
		bench_dirty_report(b, now, "on");
		bench_finish(b);
		break;
	}
	sched_block(&t->se, next);
}

int throttle_bench_start(struct throttle_bench *b, struct sched *s, struct vm *vm, const struct throttle_bench_params *p)
{
	*b = (struct throttle_bench){ .vm = vm, .p = *p };
	b->step_ticks = time_us_to_ticks((uint64_t)p->step_ms * 1000);
	b->settle_ticks = s->period * SETTLE_PERIODS;
	if (p->run == THROTTLE_BENCH_RUN_DIRTY) {
		if (!p->dirty_limit)
			return HV_EINVAL;
		b->phase = PH_DIRTY_START;
	} else {
		b->levels = p->run == THROTTLE_BENCH_RUN_FULL ? levels_full : levels_quick;
		b->level_count = p->run == THROTTLE_BENCH_RUN_FULL
					 ? sizeof(levels_full) / sizeof(levels_full[0])
					 : sizeof(levels_quick) / sizeof(levels_quick[0]);
		b->phase = PH_SETTLE;
	}
	vm->test.work_counter = bench_note_counter;
	vm->test.work_counter_ctx = b;
	b->task = (struct host_task){ .name = "throttle-bench", .run = bench_run, .ctx = b };
	if (task_add(s, &b->task))
		return HV_ENOMEM;
	/* Let the guest start and register its counters first. */
	sched_block(&b->task.se, time_now() + b->step_ticks / 2);
	return HV_OK;
}
