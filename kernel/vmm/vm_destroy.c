/* A VM's end on this host: apart from vm.c, which the exit handlers sit below. */
#include "kernel/vmm/vm.h"

#include "kernel/arch/x86/frames.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/arch.h"

void vm_destroy(struct vm *vm)
{
	uint64_t ram = vm->ram_hpa;
	unsigned i;

	/* Log-dirty mode first: stopping it reads every vCPU's VMCS and log. */
	dirty_release(vm);
	for (i = 0; i < vm->vcpu_count; i++) {
		/* A line the guest had not ended yet (a prompt) is its output too: shown, not dropped. */
		vuart_flush(&vm->console, i);
		sched_stop(&vm->vcpus[i].se);
		(void)sched_remove(vm->sched, &vm->vcpus[i].se);
		vcpu_arch_destroy(&vm->vcpus[i]);
	}
	/* The dirty-rate controller is a task on the VM's memory: it goes with it. */
	vm->throttle.dirty_limit = 0;
	if (vm->throttle.ctl_task.run)
		(void)sched_remove(vm->sched, &vm->throttle.ctl_task.se);
	vm->throttle.ctl_task.run = NULL;
	ept_destroy(&vm->ept);
	vm->eptp = 0;
	if (ram && frames_free(ram, vm->ram_size))
		log_err("vm", "vm%u: RAM at %#llx not given back", vm->id, (unsigned long long)ram);
	if (ram)
		log_info("vm", "vm%u: destroyed, %llu MiB of RAM and its page tables given back (%llu KiB free)",
			 vm->id, (unsigned long long)(vm->ram_size >> 20),
			 (unsigned long long)(frames_free_bytes() >> 10));
	vm->ram_hpa = 0;
	vm->vcpu_count = 0;
	vm->state = VM_STOPPED;
}
