/*
 * HLT: the vCPU waits for an interrupt. With interrupts off nothing can wake
 * it, so it is done. Otherwise it sleeps until its devices' next interrupt
 * falls due (or until input wakes it), unless one is already pending. The
 * devices keep the guest's time: their deadline becomes this host's here.
 */
#include "kernel/arch/x86/hw/msr.h"
#include "kernel/arch/x86/time.h"
#include "kernel/arch/x86/vmx/exit.h"
#include "kernel/arch/x86/vmx/tsc.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/vm.h"

/* With no device interrupt ahead (the test guest programs none), a HLT sleeps this long and resumes. */
#define HLT_WAKE_US 1000

enum exit_action exit_hlt(struct vcpu *v)
{
	uint64_t now, wake, guest_now;

	if (!(vmcs_read64(GUEST_RFLAGS) & RFLAGS_IF)) {
		log_info("vmx", "%s: halted with interrupts off", v->name);
		vcpu_finish(v, 0);
		return EXIT_SKIP_INSN;
	}
	now = time_now();
	wake = now + time_us_to_ticks(HLT_WAKE_US);
	/* Device interrupts go to the boot vCPU only. */
	if (v->id == 0) {
		guest_now = vmx_guest_tsc(v, now);
		vdev_update(v->vm, guest_now);
		if (vdev_irq_pending(v->vm))
			return EXIT_SKIP_INSN; /* the next entry delivers it */
		if (vdev_next_event(v->vm) != VDEV_NEVER)
			wake = vmx_host_deadline(v, now, vdev_next_event(v->vm));
	}
	sched_block(&v->se, wake);
	return EXIT_SKIP_INSN;
}
