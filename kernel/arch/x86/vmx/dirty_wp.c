/* The wp log-dirty backend's exit side: the first write to a write-protected page marks it and gets access back. */
#include "kernel/core/ept.h"
#include "kernel/core/frame_pool.h"
#include "kernel/vmm/dirty.h"
#include "kernel/vmm/vm.h"

bool dirty_wp_fault(struct vcpu *v, uint64_t gpa)
{
	struct vm *vm = v->vm;
	uint64_t *leaf;

	if (!vm->dirty.logging || vm->dirty.backend != DIRTY_BACKEND_WP || gpa >= vm->ram_size)
		return false;
	leaf = ept_leaf_4k(&vm->ept, gpa);
	if (!leaf)
		return false;
	/* The violation flushed this GPA's cached translations: no INVEPT needed to grant write. */
	*leaf |= EPT_WRITE;
	vm->dirty.wp_faults++;
	dirty_mark(vm, v, gpa / FRAME_SIZE);
	return true;
}
