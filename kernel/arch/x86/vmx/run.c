/* Running one vCPU for one time slice: VM entries and exits until the slice ends. */
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/time.h"
#include "kernel/arch/x86/vmx/debug.h"
#include "kernel/arch/x86/vmx/exit.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/arch/x86/vmx/vmx.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/vm.h"

#define PREEMPTION_TIMER_MAX 0xffffffffull

/* The host's FPU/SSE state while a guest's is loaded: VM exits do not switch it. */
static uint8_t host_fpu[VCPU_FPU_AREA] __attribute__((aligned(16)));

static void vcpu_entry_failed(struct vcpu *v, int rc)
{
	uint64_t err = 0;

	if (rc == 2)
		vmread(VM_INSTRUCTION_ERROR, &err);
	v->entry_failures++;
	vm_stop(v->vm, "%s: %s failed (%s, VM-instruction error %llu)", v->name, v->launched ? "VMRESUME" : "VMLAUNCH",
		rc == 1 ? "VMfailInvalid" : "VMfailValid", (unsigned long long)err);
}

void vcpu_run(struct vcpu *v, uint64_t slice_end)
{
	unsigned shift = vmx_get_caps()->preemption_timer_shift;
	struct vcpu_debug host_debug;

	/*
	 * The guest's DR0-DR3 and DR6 stay loaded across the exits of a slice:
	 * host code sets no breakpoints and runs with DR7 as a VM exit leaves it
	 * (0x400, all disabled), so they cannot fire in the host.
	 */
	vmx_debug_switch(&host_debug, &v->debug);
	while (v->vm->state == VM_RUNNING && v->se.state == SCHED_RUNNABLE) {
		uint64_t now = time_now(), timer;
		int rc;

		if (now >= slice_end)
			break;
		/* An exit handler may have loaded another VMCS (a harvest drains every vCPU's log). */
		if (vmcs_load(v)) {
			vm_stop(v->vm, "%s: VMPTRLD failed", v->name);
			break;
		}
		timer = (slice_end - now) >> shift;
		vmcs_write32(VMX_PREEMPTION_TIMER_VALUE, timer > PREEMPTION_TIMER_MAX ? PREEMPTION_TIMER_MAX : timer);

		/* No host code may touch SSE between these two pairs (kernel code is general-regs-only). */
		fxsave(host_fpu);
		fxrstor(v->fpu);
		rc = vmx_run(&v->regs, v->launched);
		fxsave(v->fpu);
		fxrstor(host_fpu);

		if (rc) {
			vcpu_entry_failed(v, rc);
			break;
		}
		v->launched = true;
		if (exit_dispatch(v) == EXIT_STOP_VM)
			break;
	}
	vmx_debug_switch(&v->debug, &host_debug);
}
