/*
 * vCPU throttling, carried out by the scheduler (kernel/core/sched.h): a VM or
 * one vCPU gets only (100 - p)% of its fair share of the CPU. While any
 * vCPU of a VM is throttled, every vCPU of that VM is held to its fair share
 * (a vCPU at 0% gets all of it): the time taken from the throttled ones goes
 * to the hypervisor's tasks and other VMs, not to their siblings, just as on
 * a host where each vCPU has a CPU of its own.
 */
#ifndef HV_KERNEL_THROTTLE_H
#define HV_KERNEL_THROTTLE_H

#include <stdint.h>
#include "kernel/guest_abi.h"
#include "kernel/task.h"

struct vm;
struct vcpu;

struct vm_throttle {
	unsigned max_pct;                  /* ceiling for this VM (throttle.max=) */
	unsigned pct[HV_MAX_VCPUS];        /* current throttle of each vCPU */
	uint64_t dirty_limit;              /* pages/s for the whole VM; 0 = off */
	uint64_t release_at;               /* TSC of the last release */
	unsigned release_pending;          /* vCPUs not yet run since that release (bits) */
	uint64_t release_latency[HV_MAX_VCPUS]; /* release to first VM entry, TSC ticks */
	uint64_t work_counter_gpa[HV_MAX_VCPUS]; /* the guest's work counters (HV_HC_WORK_COUNTER) */
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

/* Called before each VM entry: records how long a release took to reach v. */
void throttle_note_entry(struct vcpu *v, uint64_t now);

/* Reads vCPU v's guest work counter (0 if the guest registered none). */
uint64_t throttle_work_counter(const struct vcpu *v);

/* Starts the dirty-rate limit controller (a host task) for vm. */
int throttle_dirty_limit_start(struct vm *vm, uint64_t pages_per_s);

#endif
