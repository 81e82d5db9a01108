/* Exits that end the VM: triple fault, failed VM entry, and every reason without a handler. */
#include "kernel/arch/x86/vmx/exit.h"

#include <stdarg.h>
#include <stdio.h>
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/vm.h"

void exit_dump_guest(const struct vcpu *v)
{
	const struct vcpu_regs *r = &v->arch.regs;

	log_err("vmx", "%s: exit reason %u (%s) raw %#x qualification %#llx guest-physical %#llx", v->name,
		v->arch.exit.reason, exit_reason_name(v->arch.exit.reason), v->arch.exit.raw_reason,
		(unsigned long long)v->arch.exit.qualification, (unsigned long long)v->arch.exit.guest_phys);
	log_err("vmx", "%s: rip=%#llx rsp=%#llx rflags=%#llx cr0=%#llx cr3=%#llx cr4=%#llx efer=%#llx", v->name,
		(unsigned long long)vmcs_read64(GUEST_RIP), (unsigned long long)vmcs_read64(GUEST_RSP),
		(unsigned long long)vmcs_read64(GUEST_RFLAGS), (unsigned long long)vmcs_read64(GUEST_CR0),
		(unsigned long long)vmcs_read64(GUEST_CR3), (unsigned long long)vmcs_read64(GUEST_CR4),
		(unsigned long long)vmcs_read64(GUEST_IA32_EFER));
	log_err("vmx", "%s: rax=%#llx rbx=%#llx rcx=%#llx rdx=%#llx rsi=%#llx rdi=%#llx rbp=%#llx", v->name,
		(unsigned long long)r->rax, (unsigned long long)r->rbx, (unsigned long long)r->rcx,
		(unsigned long long)r->rdx, (unsigned long long)r->rsi, (unsigned long long)r->rdi,
		(unsigned long long)r->rbp);
	log_err("vmx", "%s: r8=%#llx r9=%#llx r10=%#llx r11=%#llx r12=%#llx r13=%#llx r14=%#llx r15=%#llx",
		v->name, (unsigned long long)r->r8, (unsigned long long)r->r9, (unsigned long long)r->r10,
		(unsigned long long)r->r11, (unsigned long long)r->r12, (unsigned long long)r->r13,
		(unsigned long long)r->r14, (unsigned long long)r->r15);
	log_err("vmx", "%s: cs=%#x ss=%#x ds=%#x cs.base=%#llx cs.ar=%#x interruptibility=%#x activity=%u", v->name,
		vmcs_read16(GUEST_CS_SELECTOR), vmcs_read16(GUEST_SS_SELECTOR), vmcs_read16(GUEST_DS_SELECTOR),
		(unsigned long long)vmcs_read64(GUEST_CS_BASE), vmcs_read32(GUEST_CS_AR_BYTES),
		vmcs_read32(GUEST_INTERRUPTIBILITY_INFO), vmcs_read32(GUEST_ACTIVITY_STATE));
}

enum exit_action exit_stop(struct vcpu *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->arch.stop_reason, sizeof(v->arch.stop_reason), fmt, ap);
	va_end(ap);
	return EXIT_STOP_VM;
}

enum exit_action exit_triple_fault(struct vcpu *v)
{
	exit_dump_guest(v);
	return exit_stop(v, "%s: triple fault at rip %#llx", v->name, (unsigned long long)v->arch.exit.rip);
}

enum exit_action exit_entry_failure(struct vcpu *v)
{
	exit_dump_guest(v);
	return exit_stop(v, "%s: VM entry failed: %s (reason %u), qualification %#llx", v->name,
		exit_reason_name(v->arch.exit.reason), v->arch.exit.reason, (unsigned long long)v->arch.exit.qualification);
}

enum exit_action exit_unhandled(struct vcpu *v)
{
	exit_dump_guest(v);
	return exit_stop(v, "%s: unhandled exit reason %u (%s) at rip %#llx", v->name, v->arch.exit.reason,
		exit_reason_name(v->arch.exit.reason), (unsigned long long)v->arch.exit.rip);
}
