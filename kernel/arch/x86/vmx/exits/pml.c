/* Page-modification log full: move its 512 entries into the VM's dirty bitmap and go on. */
#include "kernel/arch/x86/vmx/exit.h"
#include "kernel/vmm/dirty.h"
#include "kernel/vmm/vm.h"

enum exit_action exit_pml_full(struct vcpu *v)
{
	v->vm->dirty.pml_full_exits++;
	dirty_pml_drain(v);
	return EXIT_RESUME;
}
