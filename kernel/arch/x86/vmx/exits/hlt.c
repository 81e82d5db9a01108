/* HLT: the vCPU waits. With interrupts off nothing can wake it, so it is done. */
#include "kernel/arch/x86/hw/msr.h"
#include "kernel/arch/x86/time.h"
#include "kernel/arch/x86/vmx/exit.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/vm.h"

/*
 * No virtual interrupt controller yet: a HLT with interrupts on sleeps this
 * long and resumes, as if a timer interrupt had come.
 */
#define HLT_WAKE_US 1000

enum exit_action exit_hlt(struct vcpu *v)
{
	if (!(vmcs_read64(GUEST_RFLAGS) & RFLAGS_IF)) {
		log_info("vmx", "%s: halted with interrupts off", v->name);
		vcpu_finish(v, 0);
		return EXIT_SKIP_INSN;
	}
	sched_block(&v->se, time_now() + time_us_to_ticks(HLT_WAKE_US));
	return EXIT_SKIP_INSN;
}
