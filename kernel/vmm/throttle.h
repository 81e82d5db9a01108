/*
 * vCPU throttling, carried out by the scheduler (kernel/core/sched.h): a VM or
 * one vCPU gets only (100 - p)% of its fair share of the CPU. While any
 * vCPU of a VM is throttled, every vCPU of that VM is held to its fair share
 * (a vCPU at 0% gets all of it): the time taken from the throttled ones goes
 * to the hypervisor's tasks and other VMs, not to their siblings, just as on
 * a host where each vCPU has a CPU of its own.
 */
#ifndef HV_KERNEL_VMM_THROTTLE_H
#define HV_KERNEL_VMM_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/guest_abi.h"
#include "kernel/task.h"

struct vm;
struct vcpu;

struct vm_throttle {
	unsigned max_pct;                  /* ceiling for this VM (throttle.max=) */
	unsigned pct[HV_MAX_VCPUS];        /* current throttle of each vCPU */
	uint64_t dirty_limit;              /* pages/s for the whole VM; 0 = off */
	struct host_task ctl_task;         /* the dirty-rate limit controller */
};

struct throttle_times {
	uint64_t granted;    /* TSC ticks the vCPU ran */
	uint64_t throttled;  /* TSC ticks of fair share withheld */
};

void throttle_init(struct vm *vm, unsigned max_pct);
/* HV_EINVAL (nothing changes) above the VM's ceiling. */
int throttle_set_vm(struct vm *vm, unsigned pct);
int throttle_set_vcpu(struct vcpu *v, unsigned pct);
unsigned throttle_get_vcpu(const struct vcpu *v);
void throttle_get_times(const struct vcpu *v, struct throttle_times *t);

/* Every vCPU back to full speed at once, whatever the throttle was. */
void throttle_release(struct vm *vm);

/*
 * How long the last throttle_release() took to reach v: TSC ticks from the
 * release to the scheduler's first pick of v after it. False while v has
 * not been picked since.
 */
bool throttle_release_wait(const struct vcpu *v, uint64_t *ticks);

/* Starts the dirty-rate limit controller (a host task) for vm. */
int throttle_dirty_limit_start(struct vm *vm, uint64_t pages_per_s);
/* Lifts the limit and releases every vCPU at once; the controller stops at its next step. */
void throttle_dirty_limit_stop(struct vm *vm);

#endif
