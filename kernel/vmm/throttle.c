#include "kernel/vmm/throttle.h"

#include <string.h>
#include "kernel/arch/x86/time.h"
#include "kernel/core/throttle_ctl.h"
#include "kernel/lib/err.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/dirty.h"
#include "kernel/vmm/vm.h"

#define THROTTLE_CTL_PERIOD_US 200000 /* the controller's step; rates cover the last second */

void throttle_init(struct vm *vm, unsigned max_pct)
{
	memset(&vm->throttle, 0, sizeof(vm->throttle));
	vm->throttle.max_pct = max_pct > SCHED_THROTTLE_MAX ? SCHED_THROTTLE_MAX : max_pct;
}

/* Applies vm->throttle.pct to the scheduler: all vCPUs budgeted while any is throttled. */
static void throttle_apply(struct vm *vm)
{
	uint64_t now = time_now();
	bool any = false;
	unsigned i;

	for (i = 0; i < vm->vcpu_count; i++)
		any |= vm->throttle.pct[i] > 0;
	for (i = 0; i < vm->vcpu_count; i++)
		sched_set_throttle(vm->sched, &vm->vcpus[i].se, any, vm->throttle.pct[i], now);
}

int throttle_set_vm(struct vm *vm, unsigned pct)
{
	unsigned i;

	if (pct > vm->throttle.max_pct)
		return HV_EINVAL;
	if (pct == 0) {
		throttle_release(vm);
		return HV_OK;
	}
	for (i = 0; i < vm->vcpu_count; i++)
		vm->throttle.pct[i] = pct;
	throttle_apply(vm);
	return HV_OK;
}

int throttle_set_vcpu(struct vcpu *v, unsigned pct)
{
	struct vm *vm = v->vm;

	if (pct > vm->throttle.max_pct)
		return HV_EINVAL;
	vm->throttle.pct[v->id] = pct;
	throttle_apply(vm);
	return HV_OK;
}

unsigned throttle_get_vcpu(const struct vcpu *v) { return v->vm->throttle.pct[v->id]; }

void throttle_get_times(const struct vcpu *v, struct throttle_times *t)
{
	t->granted = v->se.runtime;
	t->throttled = v->se.throttled;
}

void throttle_release(struct vm *vm)
{
	struct sched_entity *released[HV_MAX_VCPUS];
	uint64_t now = time_now();
	unsigned i, n = 0;

	for (i = 0; i < vm->vcpu_count; i++) {
		vm->throttle.pct[i] = 0;
		if (vm->vcpus[i].se.state != SCHED_STOPPED)
			released[n++] = &vm->vcpus[i].se;
	}
	throttle_apply(vm);
	/* Every vCPU back on the CPU within one slice, not one slice each. */
	sched_share_next_slice(vm->sched, released, n, now);
}

bool throttle_release_wait(const struct vcpu *v, uint64_t *ticks)
{
	*ticks = v->se.release_wait;
	return !v->se.release_pending;
}

static void throttle_ctl_run(struct host_task *t, uint64_t now)
{
	struct vm *vm = t->ctx;
	uint64_t rate[HV_MAX_VCPUS];
	unsigned cur[HV_MAX_VCPUS], next[HV_MAX_VCPUS], i;

	if (vm->state != VM_RUNNING || !vm->throttle.dirty_limit) {
		sched_stop(&t->se);
		return;
	}
	for (i = 0; i < vm->vcpu_count; i++) {
		rate[i] = dirty_rate_vcpu(&vm->vcpus[i]);
		cur[i] = vm->throttle.pct[i];
	}
	throttle_ctl_dirty_limit(rate, cur, vm->vcpu_count, vm->throttle.dirty_limit, vm->throttle.max_pct, next);
	for (i = 0; i < vm->vcpu_count; i++) {
		if (next[i] != cur[i])
			log_debug("throttle", "%s: dirty rate %llu pages/s at %u%%: throttle %u%%", vm->vcpus[i].name,
				  (unsigned long long)rate[i], cur[i], next[i]);
		vm->throttle.pct[i] = next[i];
	}
	throttle_apply(vm);
	sched_block(&t->se, now + time_us_to_ticks(THROTTLE_CTL_PERIOD_US));
}

int throttle_dirty_limit_start(struct vm *vm, uint64_t pages_per_s)
{
	struct vm_throttle *t = &vm->throttle;
	int rc;

	if (!vm->dirty.logging)
		return HV_EINVAL; /* the controller needs measured dirty rates */
	t->dirty_limit = pages_per_s;
	if (t->ctl_task.run && t->ctl_task.se.state != SCHED_STOPPED)
		return HV_OK; /* already running: the new limit applies at its next step */
	if (t->ctl_task.run) {
		/* Stopped itself after an earlier limit was lifted: it is still the scheduler's. */
		t->ctl_task.se.state = SCHED_RUNNABLE;
		log_info("throttle", "vm%u: dirty-rate limit %llu pages/s", vm->id, (unsigned long long)pages_per_s);
		return HV_OK;
	}
	t->ctl_task = (struct host_task){ .name = "dirty-limit", .run = throttle_ctl_run, .ctx = vm };
	rc = task_add(vm->sched, &t->ctl_task);
	if (!rc)
		log_info("throttle", "vm%u: dirty-rate limit %llu pages/s", vm->id, (unsigned long long)pages_per_s);
	return rc;
}

void throttle_dirty_limit_stop(struct vm *vm)
{
	vm->throttle.dirty_limit = 0;
	throttle_release(vm);
}
