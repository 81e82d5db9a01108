/* Exits that end the VM: triple fault, failed VM entry, and every reason without a handler. */
#include "kernel/arch/x86/vmx/exit.h"

#include <stdarg.h>
#include <stdio.h>
#include "kernel/arch/x86/vmx/guest_view.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/vm.h"

#define INSN_MAX 15 /* the longest x86 instruction */

/*
 * The bytes at the guest's RIP, through its own paging and without touching
 * it, up to the first one that cannot be read: what the guest was running
 * when its VM stopped. Returns how many were read.
 */
static unsigned insn_bytes(const struct vcpu *v, uint8_t out[INSN_MAX])
{
	struct gpt_cpu cpu = vmx_guest_paging();
	struct gpt_mem mem = vmx_guest_ram(v->vm); /* GPT_PEEK: never written */
	bool is64 = vmx_guest_64bit(&cpu);
	uint64_t la = is64 ? vmcs_read64(GUEST_RIP) : vmcs_read64(GUEST_CS_BASE) + vmcs_read64(GUEST_RIP);
	uint64_t gpa;
	uint32_t pf_error, n = 0, k;

	while (n < INSN_MAX) {
		/* Outside 64-bit mode, compatibility mode included, the fetch wraps at 4 GiB. */
		if (gpt_translate(&cpu, &mem, is64 ? la + n : (uint32_t)(la + n), GPT_PEEK, &gpa, &pf_error) !=
		    GPT_OK)
			break;
		k = 0x1000 - (uint32_t)(gpa & 0xfff);
		k = k < INSN_MAX - n ? k : INSN_MAX - n;
		if (vm_guest_read(v->vm, gpa, out + n, k))
			break;
		n += k;
	}
	return n;
}

static void dump_insn(const struct vcpu *v)
{
	uint8_t b[INSN_MAX];
	char text[3 * INSN_MAX + 1] = "";
	unsigned n = insn_bytes(v, b), i;

	for (i = 0; i < n; i++)
		snprintf(text + 3 * i, sizeof(text) - 3 * i, "%02x ", b[i]);
	if (n)
		text[3 * n - 1] = 0;
	log_err("vmx", "%s: bytes at rip: %s", v->name, n ? text : "none readable (unmapped or outside RAM)");
}

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
	dump_insn(v);
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
