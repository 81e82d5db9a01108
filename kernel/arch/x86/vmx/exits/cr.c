/*
 * Control-register accesses. Only MOV to and from CR8 exits by design (CR8
 * load and store exiting): the guest's task priority is virtual, so a guest
 * can never raise the physical TPR and mask the host's own interrupts.
 * Other CR exits come only from the bits the host owns in CR0 and CR4 and
 * are not emulated: they stop the VM.
 */
#include <stddef.h>
#include "kernel/arch/x86/hw/msr.h"
#include "kernel/arch/x86/vmx/exit.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/vmm/vm.h"

#define CR_NUMBER_CR8 8
#define GPR_RSP 4           /* general-register numbering of exit qualifications (SDM table 28-3) */
#define GPR_COUNT 16

struct cr_access {
	unsigned cr;        /* control register number */
	unsigned type;      /* CR_ACCESS_* */
	unsigned gpr;       /* source or destination general register, 0 = RAX .. 15 = R15 */
	uint16_t lmsw_data;
};

static struct cr_access cr_decode(uint64_t q)
{
	return (struct cr_access){
		.cr = (unsigned)(q & CR_QUAL_NUMBER_MASK),
		.type = (unsigned)((q & CR_QUAL_ACCESS_MASK) >> CR_QUAL_ACCESS_SHIFT),
		.gpr = (unsigned)((q & CR_QUAL_GPR_MASK) >> CR_QUAL_GPR_SHIFT),
		.lmsw_data = (uint16_t)(q >> CR_QUAL_LMSW_DATA_SHIFT),
	};
}

/* Where each register lives in vcpu_regs; RSP is in the VMCS instead. */
static const size_t cr_gpr_offset[GPR_COUNT] = {
	offsetof(struct vcpu_regs, rax), offsetof(struct vcpu_regs, rcx), offsetof(struct vcpu_regs, rdx),
	offsetof(struct vcpu_regs, rbx), 0, offsetof(struct vcpu_regs, rbp),
	offsetof(struct vcpu_regs, rsi), offsetof(struct vcpu_regs, rdi), offsetof(struct vcpu_regs, r8),
	offsetof(struct vcpu_regs, r9), offsetof(struct vcpu_regs, r10), offsetof(struct vcpu_regs, r11),
	offsetof(struct vcpu_regs, r12), offsetof(struct vcpu_regs, r13), offsetof(struct vcpu_regs, r14),
	offsetof(struct vcpu_regs, r15),
};

static uint64_t *cr_gpr(struct vcpu *v, unsigned n)
{
	return (uint64_t *)((char *)&v->arch.regs + cr_gpr_offset[n % GPR_COUNT]);
}

static uint64_t cr_gpr_read(struct vcpu *v, unsigned n)
{
	return n == GPR_RSP ? vmcs_read64(GUEST_RSP) : *cr_gpr(v, n);
}

static void cr_gpr_write(struct vcpu *v, unsigned n, uint64_t value)
{
	if (n == GPR_RSP)
		vmcs_write64(GUEST_RSP, value);
	else
		*cr_gpr(v, n) = value;
}

static enum exit_action cr8_access(struct vcpu *v, const struct cr_access *a)
{
	uint64_t value;

	if (a->type == CR_ACCESS_MOV_FROM_CR) {
		cr_gpr_write(v, a->gpr, v->arch.tpr);
		return EXIT_SKIP_INSN;
	}
	value = cr_gpr_read(v, a->gpr);
	if (value & ~CR8_TPR_MASK) {
		/* Reserved bits set: the CPU raises #GP(0) and leaves CR8 as it was. */
		exit_inject_exception(X86_VEC_GP, true, 0);
		return EXIT_RESUME;
	}
	v->arch.tpr = (uint8_t)value;
	return EXIT_SKIP_INSN;
}

enum exit_action exit_cr_access(struct vcpu *v)
{
	struct cr_access a = cr_decode(v->arch.exit.qualification);

	if (a.cr == CR_NUMBER_CR8 && (a.type == CR_ACCESS_MOV_TO_CR || a.type == CR_ACCESS_MOV_FROM_CR))
		return cr8_access(v, &a);
	exit_dump_guest(v);
	return exit_stop(v, "%s: CR%u access (type %u, register %u) is not emulated, rip %#llx", v->name, a.cr, a.type,
		a.gpr, (unsigned long long)v->arch.exit.rip);
}
