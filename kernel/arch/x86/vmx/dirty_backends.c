/* The log-dirty backends of VT-x as operations (kernel/vmm/dirty_ops.h), and which one a start gets. */
#include "kernel/vmm/dirty_ops.h"

#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/vmx/dirty_vmx.h"
#include "kernel/arch/x86/vmx/vmx.h"
#include "kernel/core/ept.h"
#include "kernel/lib/err.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/vm.h"

int dirty_vmx_flush(struct vm *vm)
{
	if (invept(INVEPT_SINGLE_CONTEXT, vm->eptp)) {
		log_err("dirty", "vm%u: INVEPT failed", vm->id);
		return HV_EIO;
	}
	return HV_OK;
}

/* EPT write-protection: a page's first write takes a violation (dirty_wp_fault). */
static const struct dirty_ops dirty_wp_ops = {
	.backend = DIRTY_BACKEND_WP,
	.arm_clear = EPT_WRITE,
	.rearm_clear = EPT_WRITE,
	.disarm_set = EPT_WRITE,
	.flush = dirty_vmx_flush,
};

/*
 * PML with EPT accessed/dirty flags: clean pages get logged when written.
 * Outside logging the flags are left clear (the CPU ignores them then), so
 * that split tables merge back and a later start finds the EPT as created.
 */
static const struct dirty_ops dirty_pml_ops = {
	.backend = DIRTY_BACKEND_PML,
	.arm_clear = EPT_DIRTY | EPT_ACCESSED,
	.rearm_clear = EPT_DIRTY,
	.disarm_clear = EPT_DIRTY | EPT_ACCESSED,
	.prepare = dirty_pml_prepare,
	.start = dirty_pml_start,
	.stop = dirty_pml_stop,
	.collect = dirty_pml_collect,
	.flush = dirty_vmx_flush,
};

int dirty_arch_select(enum dirty_backend want, const struct dirty_ops **ops)
{
	const struct vmx_caps *caps = vmx_get_caps();
	bool pml = caps->pml && caps->ept_ad;

	if (want == DIRTY_BACKEND_PML && !pml)
		return HV_ENOTSUP;
	if (want == DIRTY_BACKEND_AUTO)
		want = pml ? DIRTY_BACKEND_PML : DIRTY_BACKEND_WP;
	*ops = want == DIRTY_BACKEND_PML ? &dirty_pml_ops : &dirty_wp_ops;
	return HV_OK;
}
