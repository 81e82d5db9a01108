/*
 * VM-exit handling: the exit is decoded once into vcpu->arch.exit, counted, and
 * handed to the one handler of its reason (a table; empty slots stop the VM).
 */
#ifndef HV_KERNEL_ARCH_X86_VMX_EXIT_H
#define HV_KERNEL_ARCH_X86_VMX_EXIT_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;
struct vmx_event;

enum exit_action {
	EXIT_RESUME,     /* re-enter at the same instruction */
	EXIT_SKIP_INSN,  /* the instruction was emulated: advance RIP, re-enter */
	EXIT_STOP_VM,    /* the VM must stop: exit_stop() has recorded why */
};

/*
 * A handler leaves v's VMCS the current one: after it, the dispatcher
 * advances RIP (EXIT_SKIP_INSN) and sets up the next entry's event.
 */
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
enum exit_action exit_cr_access(struct vcpu *v);
enum exit_action exit_ept_violation(struct vcpu *v);
enum exit_action exit_preemption_timer(struct vcpu *v);
enum exit_action exit_pml_full(struct vcpu *v);
enum exit_action exit_rdmsr(struct vcpu *v);
enum exit_action exit_wrmsr(struct vcpu *v);
enum exit_action exit_interrupt_window(struct vcpu *v);
enum exit_action exit_entry_failure(struct vcpu *v);
enum exit_action exit_unhandled(struct vcpu *v);

/*
 * Delivers e to the guest at the next entry of the current VMCS's vCPU
 * (handlers, and the re-injection of interrupted events).
 */
void exit_inject(const struct vmx_event *e);
void exit_inject_exception(uint8_t vector, bool has_error_code, uint32_t error_code);

/*
 * Records why v's VM must stop (printf-style) and returns EXIT_STOP_VM: the
 * run ends and the VM model stops the VM with this reason.
 */
enum exit_action exit_stop(struct vcpu *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Logs the guest's registers and the exit, for every path that stops a VM. */
void exit_dump_guest(const struct vcpu *v);

#endif
