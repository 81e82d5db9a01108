/*
 * VM-exit handling: the exit is decoded once into vcpu->exit, counted, and
 * handed to the one handler of its reason (a table; empty slots stop the VM).
 */
#ifndef HV_KERNEL_VMX_EXIT_H
#define HV_KERNEL_VMX_EXIT_H

struct vcpu;

enum exit_action {
	EXIT_RESUME,     /* re-enter at the same instruction */
	EXIT_SKIP_INSN,  /* the instruction was emulated: advance RIP, re-enter */
	EXIT_STOP_VM,    /* the handler stopped the VM (vm_stop has logged why) */
};

typedef enum exit_action (*exit_handler_fn)(struct vcpu *v);

enum exit_action exit_dispatch(struct vcpu *v);

/* Handlers, one per exit reason (kernel/arch/x86/vmx/exits/). */
enum exit_action exit_exception_nmi(struct vcpu *v);
enum exit_action exit_external_interrupt(struct vcpu *v);
enum exit_action exit_triple_fault(struct vcpu *v);
enum exit_action exit_cpuid(struct vcpu *v);
enum exit_action exit_hlt(struct vcpu *v);
enum exit_action exit_vmcall(struct vcpu *v);
enum exit_action exit_io(struct vcpu *v);
enum exit_action exit_ept_violation(struct vcpu *v);
enum exit_action exit_preemption_timer(struct vcpu *v);
enum exit_action exit_pml_full(struct vcpu *v);
enum exit_action exit_entry_failure(struct vcpu *v);
enum exit_action exit_unhandled(struct vcpu *v);

/* Logs the guest's registers and the exit, for every path that stops a VM. */
void exit_dump_guest(const struct vcpu *v);

#endif
