#include "kernel/arch/x86/vmx/exit.h"

#include "kernel/vmm/vm.h"
#include "kernel/arch/x86/vmx/vmcs.h"

#define INTERRUPTIBILITY_STI_MOVSS 0x3u /* blocking by STI and by MOV SS end with the instruction */

static const exit_handler_fn exit_handlers[EXIT_REASON_MAX] = {
	[EXIT_REASON_EXCEPTION_NMI] = exit_exception_nmi,
	[EXIT_REASON_EXTERNAL_INTERRUPT] = exit_external_interrupt,
	[EXIT_REASON_TRIPLE_FAULT] = exit_triple_fault,
	[EXIT_REASON_CPUID] = exit_cpuid,
	[EXIT_REASON_HLT] = exit_hlt,
	[EXIT_REASON_VMCALL] = exit_vmcall,
	[EXIT_REASON_IO_INSTRUCTION] = exit_io,
	[EXIT_REASON_EPT_VIOLATION] = exit_ept_violation,
	[EXIT_REASON_PREEMPTION_TIMER] = exit_preemption_timer,
	[EXIT_REASON_PML_FULL] = exit_pml_full,
};

static const char *const exit_names[EXIT_REASON_MAX] = {
	[EXIT_REASON_EXCEPTION_NMI] = "exception or NMI",
	[EXIT_REASON_EXTERNAL_INTERRUPT] = "external interrupt",
	[EXIT_REASON_TRIPLE_FAULT] = "triple fault",
	[EXIT_REASON_INIT_SIGNAL] = "INIT signal",
	[EXIT_REASON_SIPI] = "SIPI",
	[EXIT_REASON_INTERRUPT_WINDOW] = "interrupt window",
	[EXIT_REASON_NMI_WINDOW] = "NMI window",
	[EXIT_REASON_TASK_SWITCH] = "task switch",
	[EXIT_REASON_CPUID] = "CPUID",
	[EXIT_REASON_HLT] = "HLT",
	[EXIT_REASON_INVD] = "INVD",
	[EXIT_REASON_INVLPG] = "INVLPG",
	[EXIT_REASON_RDPMC] = "RDPMC",
	[EXIT_REASON_RDTSC] = "RDTSC",
	[EXIT_REASON_VMCALL] = "VMCALL",
	[EXIT_REASON_CR_ACCESS] = "control-register access",
	[EXIT_REASON_DR_ACCESS] = "debug-register access",
	[EXIT_REASON_IO_INSTRUCTION] = "I/O instruction",
	[EXIT_REASON_MSR_READ] = "RDMSR",
	[EXIT_REASON_MSR_WRITE] = "WRMSR",
	[EXIT_REASON_INVALID_GUEST_STATE] = "VM-entry failure: invalid guest state",
	[EXIT_REASON_MSR_LOADING] = "VM-entry failure: MSR loading",
	[EXIT_REASON_MWAIT] = "MWAIT",
	[EXIT_REASON_MONITOR_TRAP] = "monitor trap flag",
	[EXIT_REASON_MONITOR] = "MONITOR",
	[EXIT_REASON_PAUSE] = "PAUSE",
	[EXIT_REASON_MACHINE_CHECK] = "VM-entry failure: machine check",
	[EXIT_REASON_EPT_VIOLATION] = "EPT violation",
	[EXIT_REASON_EPT_MISCONFIG] = "EPT misconfiguration",
	[EXIT_REASON_INVEPT] = "INVEPT",
	[EXIT_REASON_RDTSCP] = "RDTSCP",
	[EXIT_REASON_PREEMPTION_TIMER] = "VMX-preemption timer",
	[EXIT_REASON_INVVPID] = "INVVPID",
	[EXIT_REASON_WBINVD] = "WBINVD",
	[EXIT_REASON_XSETBV] = "XSETBV",
	[EXIT_REASON_PML_FULL] = "page-modification log full",
};

const char *exit_reason_name(unsigned reason)
{
	return reason < EXIT_REASON_MAX && exit_names[reason] ? exit_names[reason] : "reason without a name";
}

static void exit_decode(struct vcpu *v)
{
	struct vcpu_exit *e = &v->exit;

	e->raw_reason = vmcs_read32(VM_EXIT_REASON);
	e->reason = e->raw_reason & VM_EXIT_REASON_BASIC_MASK;
	e->qualification = vmcs_read64(EXIT_QUALIFICATION);
	e->insn_len = vmcs_read32(VM_EXIT_INSTRUCTION_LEN);
	e->intr_info = vmcs_read32(VM_EXIT_INTR_INFO);
	e->rip = vmcs_read64(GUEST_RIP);
	e->guest_phys = e->reason == EXIT_REASON_EPT_VIOLATION || e->reason == EXIT_REASON_EPT_MISCONFIG
				? vmcs_read64(GUEST_PHYSICAL_ADDRESS)
				: 0;
}

static void exit_skip_instruction(struct vcpu *v)
{
	uint32_t intr = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);

	vmcs_write64(GUEST_RIP, v->exit.rip + v->exit.insn_len);
	if (intr & INTERRUPTIBILITY_STI_MOVSS)
		vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, intr & ~INTERRUPTIBILITY_STI_MOVSS);
}

enum exit_action exit_dispatch(struct vcpu *v)
{
	exit_handler_fn handler;
	enum exit_action action;

	exit_decode(v);
	if (v->exit.raw_reason & VM_EXIT_REASON_ENTRY_FAILURE) {
		v->entry_failures++;
		return exit_entry_failure(v);
	}
	v->exits_total++;
	if (v->exit.reason >= EXIT_REASON_MAX)
		return exit_unhandled(v);
	v->exits[v->exit.reason]++;
	handler = exit_handlers[v->exit.reason] ? exit_handlers[v->exit.reason] : exit_unhandled;
	action = handler(v);
	if (action == EXIT_SKIP_INSN)
		exit_skip_instruction(v);
	return action;
}
