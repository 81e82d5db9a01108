/* Running one vCPU for one time slice: VM entries and exits until the slice ends. */
#include <stdio.h>
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/time.h"
#include "kernel/arch/x86/vmx/debug.h"
#include "kernel/arch/x86/vmx/exit.h"
#include "kernel/arch/x86/vmx/irq.h"
#include "kernel/arch/x86/vmx/tsc.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/arch/x86/vmx/vmsr.h"
#include "kernel/arch/x86/vmx/vmx.h"
#include "kernel/vmm/arch.h"
#include "kernel/vmm/vm.h"

#define PREEMPTION_TIMER_MAX 0xffffffffull

/* The host's FPU/SSE state while a guest's is loaded: VM exits do not switch it. */
static uint8_t host_fpu[VCPU_FPU_AREA] __attribute__((aligned(16)));

static void vcpu_entry_failed(struct vcpu *v, int rc)
{
	uint64_t err = 0;

	if (rc == 2)
		vmread(VM_INSTRUCTION_ERROR, &err);
	v->arch.entry_failures++;
	snprintf(v->arch.stop_reason, sizeof(v->arch.stop_reason), "%s: %s failed (%s, VM-instruction error %llu)",
		 v->name, v->arch.launched ? "VMRESUME" : "VMLAUNCH", rc == 1 ? "VMfailInvalid" : "VMfailValid",
		 (unsigned long long)err);
}

enum vcpu_run_end vcpu_arch_run(struct vcpu *v, uint64_t slice_end)
{
	enum vcpu_run_end end = VCPU_RUN_YIELD;
	unsigned shift = vmx_get_caps()->preemption_timer_shift;
	struct vcpu_debug host_debug;

	/*
	 * The guest's DR0-DR3 and DR6 stay loaded across the exits of a slice:
	 * host code sets no breakpoints and runs with DR7 as a VM exit leaves it
	 * (0x400, all disabled), so they cannot fire in the host.
	 */
	vmx_debug_switch(&host_debug, &v->arch.debug);
	vmsr_switch_to(v);
	while (v->vm->state == VM_RUNNING && v->se.state == SCHED_RUNNABLE) {
		uint64_t now = time_now(), timer, stop = slice_end, event;
		int rc;

		if (now >= slice_end)
			break;
		/* An exit handler may have loaded another VMCS (a harvest drains every vCPU's log). */
		if (vmcs_load(v)) {
			snprintf(v->arch.stop_reason, sizeof(v->arch.stop_reason), "%s: VMPTRLD failed", v->name);
			end = VCPU_RUN_STOP_VM;
			break;
		}
		vmx_irq_prepare(v, vmx_guest_tsc(v, now));
		/* The guest runs until its slice ends or its next timer interrupt falls due (on its clock), whichever is first. */
		event = v->id == 0 && vdev_irqs_on(&v->vm->dev) ? vdev_next_event(v->vm) : VDEV_NEVER;
		if (event != VDEV_NEVER) {
			event = vmx_host_deadline(v, now, event);
			if (event < stop)
				stop = event;
		}
		timer = (stop - now) >> shift;
		vmcs_write32(VMX_PREEMPTION_TIMER_VALUE, timer > PREEMPTION_TIMER_MAX ? PREEMPTION_TIMER_MAX : timer);

		/* No host code may touch SSE between these two pairs (kernel code is general-regs-only). */
		fxsave(host_fpu);
		fxrstor(v->arch.fpu);
		rc = vmx_run(&v->arch.regs, v->arch.launched);
		fxsave(v->arch.fpu);
		fxrstor(host_fpu);

		if (rc) {
			vcpu_entry_failed(v, rc);
			end = VCPU_RUN_STOP_VM;
			break;
		}
		v->arch.launched = true;
		if (exit_dispatch(v) == EXIT_STOP_VM) {
			end = VCPU_RUN_STOP_VM;
			break;
		}
	}
	vmx_debug_switch(&v->arch.debug, &host_debug);
	return end;
}
