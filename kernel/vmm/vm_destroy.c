/* A VM's end on this host: apart from vm.c, which the exit handlers sit below. */
#include "kernel/vmm/vm.h"

#include "kernel/arch/x86/frames.h"
#include "kernel/lib/err.h"
#include "kernel/lib/log.h"

void vm_destroy(struct vm *vm)
{
	unsigned i;
	int rc;

	if (vm->dirty.logging)
		(void)dirty_log_stop(vm);
	for (i = 0; i < vm->vcpu_count; i++) {
		sched_stop(&vm->vcpus[i].se);
		(void)sched_remove(vm->sched, &vm->vcpus[i].se);
	}
	/* The dirty-rate controller is a task on the VM's memory: it goes with it. */
	vm->throttle.dirty_limit = 0;
	if (vm->throttle.ctl_task.run)
		(void)sched_remove(vm->sched, &vm->throttle.ctl_task.se);
	vm->throttle.ctl_task.run = NULL;
	rc = vm->ram_hpa ? frames_free(vm->ram_hpa, vm->ram_size) : HV_OK;
	if (rc)
		log_err("vm", "vm%u: RAM at %#llx not given back: %s", vm->id, (unsigned long long)vm->ram_hpa,
			hv_strerror(rc));
	log_info("vm", "vm%u: destroyed, %llu MiB of RAM given back", vm->id, (unsigned long long)(vm->ram_size >> 20));
	vm->ram_hpa = 0;
	vm->vcpu_count = 0;
	vm->state = VM_STOPPED;
}
