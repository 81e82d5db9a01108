/* A vCPU's end: apart from vm.c, which the exit handlers sit below. */
#include "kernel/vmm/vm.h"

#include "kernel/lib/log.h"

void vcpu_finish(struct vcpu *v, int status)
{
	struct vm *vm = v->vm;
	unsigned i;

	v->stop_status = status;
	sched_stop(&v->se);
	vuart_flush(&vm->console, v->id);
	log_info("vm", "%s finished with status %d", v->name, status);
	for (i = 0; i < vm->vcpu_count; i++)
		if (vm->vcpus[i].se.state != SCHED_STOPPED)
			return;
	vm->state = VM_FINISHED;
	log_info("vm", "vm%u finished: every vCPU is done", vm->id);
}
