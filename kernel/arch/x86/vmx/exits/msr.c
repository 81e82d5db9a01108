/* RDMSR and WRMSR that the MSR bitmap sends here: emulated (kernel/arch/x86/vmx/vmsr.h), or #GP. */
#include "kernel/arch/x86/hw/msr.h"
#include "kernel/arch/x86/vmx/exit.h"
#include "kernel/arch/x86/vmx/vmsr.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/vm.h"

#define MSR_LOW_HALF 0xffffffffull
#define MSR_GP_LOGGED_MAX 32 /* a guest probing many MSRs logs this many lines, then only counts */

/* Like the CPU, a refused access raises #GP(0) and completes nothing: RIP stays on the instruction. */
static enum exit_action msr_refuse(struct vcpu *v, const char *what, uint32_t msr)
{
	if (v->arch.msr_gp++ < MSR_GP_LOGGED_MAX)
		log_info("msr", "%s: %s of MSR %#x refused: #GP", v->name, what, msr);
	exit_inject_exception(X86_VEC_GP, true, 0);
	return EXIT_RESUME;
}

enum exit_action exit_rdmsr(struct vcpu *v)
{
	uint32_t msr = (uint32_t)v->arch.regs.rcx;
	uint64_t value;

	if (vmsr_read(v, msr, &value))
		return msr_refuse(v, "RDMSR", msr);
	/* EDX:EAX; in 64-bit mode the upper halves of RAX and RDX become zero. */
	v->arch.regs.rax = value & MSR_LOW_HALF;
	v->arch.regs.rdx = value >> 32;
	return EXIT_SKIP_INSN;
}

enum exit_action exit_wrmsr(struct vcpu *v)
{
	uint32_t msr = (uint32_t)v->arch.regs.rcx;
	uint64_t value = (v->arch.regs.rax & MSR_LOW_HALF) | (v->arch.regs.rdx << 32);

	if (vmsr_write(v, msr, value))
		return msr_refuse(v, "WRMSR", msr);
	return EXIT_SKIP_INSN;
}
