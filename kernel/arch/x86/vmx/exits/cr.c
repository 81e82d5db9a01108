/*
 * Control-register accesses. MOV to and from CR8 exits by design (CR8 load
 * and store exiting): the guest's task priority is virtual, so a guest can
 * never raise the physical TPR and mask the host's own interrupts. MOV to
 * CR0 and CR4 exits when it would change a bit the host owns (CR0.NE,
 * CR4.VMXE: VMX forces them on; CR4.OSXSAVE, see
 * kernel/arch/x86/xstate.h); the write is emulated: the guest reads
 * back what it wrote through the read shadow, the CPU runs with the forced
 * bits set. Anything else (CLTS, LMSW never touch an owned bit) stops the VM.
 */
#include <stddef.h>
#include "kernel/arch/x86/hw/msr.h"
#include "kernel/arch/x86/vmx/exit.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/arch/x86/vmx/vmx.h"
#include "kernel/vmm/vm.h"

#define CR_NUMBER_CR0 0
#define CR_NUMBER_CR4 4
#define CR_HIGH_HALF 0xffffffff00000000ull

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

static enum exit_action cr_gp(void)
{
	exit_inject_exception(X86_VEC_GP, true, 0);
	return EXIT_RESUME;
}

/* Entering or leaving IA-32e mode with this CR0 write: EFER.LMA and the entry control follow PG (SDM 10.8.5). */
static void cr0_long_mode(uint64_t old, uint64_t value)
{
	uint64_t efer = vmcs_read64(GUEST_IA32_EFER);
	uint32_t entry = vmcs_read32(VM_ENTRY_CONTROLS);

	if (!(old & CR0_PG) && (value & CR0_PG) && (efer & EFER_LME)) {
		vmcs_write64(GUEST_IA32_EFER, efer | EFER_LMA);
		vmcs_write32(VM_ENTRY_CONTROLS, entry | VM_ENTRY_IA32E_MODE);
	} else if ((old & CR0_PG) && !(value & CR0_PG) && (efer & EFER_LMA)) {
		vmcs_write64(GUEST_IA32_EFER, efer & ~EFER_LMA);
		vmcs_write32(VM_ENTRY_CONTROLS, entry & ~VM_ENTRY_IA32E_MODE);
	}
}

static enum exit_action cr0_write(uint64_t value)
{
	const struct vmx_caps *c = vmx_get_caps();
	uint64_t old = vmcs_read64(GUEST_CR0);
	/* Unrestricted guest: PE and PG are the guest's even where FIXED0 has them. */
	uint64_t forced = c->cr0_fixed0 & ~(CR0_PE | CR0_PG);

	if ((value & CR_HIGH_HALF) || ((value & CR0_PG) && !(value & CR0_PE)) ||
	    ((value & CR0_NW) && !(value & CR0_CD)))
		return cr_gp();
	/* Paging on with LME needs PAE; paging off in 64-bit code is refused by the CPU too. */
	if (!(old & CR0_PG) && (value & CR0_PG) && (vmcs_read64(GUEST_IA32_EFER) & EFER_LME) &&
	    !(vmcs_read64(GUEST_CR4) & CR4_PAE))
		return cr_gp();
	cr0_long_mode(old, value);
	vmcs_write64(GUEST_CR0, (value | forced) & c->cr0_fixed1);
	vmcs_write64(CR0_READ_SHADOW, value);
	return EXIT_SKIP_INSN;
}

static enum exit_action cr4_write(uint64_t value)
{
	const struct vmx_caps *c = vmx_get_caps();

	/*
	 * VMX and XSAVE are not offered (CPUID hides them): setting their bits
	 * raises #GP as on a CPU without them, and so do bits the CPU cannot hold.
	 */
	if ((value & (CR4_VMXE | CR4_OSXSAVE)) || (value & ~c->cr4_fixed1) ||
	    (!(value & CR4_PAE) && (vmcs_read64(GUEST_IA32_EFER) & EFER_LMA)))
		return cr_gp();
	vmcs_write64(GUEST_CR4, value | c->cr4_fixed0);
	vmcs_write64(CR4_READ_SHADOW, value);
	return EXIT_SKIP_INSN;
}

enum exit_action exit_cr_access(struct vcpu *v)
{
	struct cr_access a = cr_decode(v->arch.exit.qualification);

	if (a.cr == CR_NUMBER_CR8 && (a.type == CR_ACCESS_MOV_TO_CR || a.type == CR_ACCESS_MOV_FROM_CR))
		return cr8_access(v, &a);
	if ((a.cr == CR_NUMBER_CR0 || a.cr == CR_NUMBER_CR4) && a.type == CR_ACCESS_MOV_TO_CR) {
		uint64_t value = cr_gpr_read(v, a.gpr);

		/* Outside IA-32e mode the instruction moves a 32-bit register. */
		if (!(vmcs_read32(VM_ENTRY_CONTROLS) & VM_ENTRY_IA32E_MODE))
			value &= ~CR_HIGH_HALF;
		return a.cr == CR_NUMBER_CR0 ? cr0_write(value) : cr4_write(value);
	}
	exit_dump_guest(v);
	return exit_stop(v, "%s: CR%u access (type %u, register %u) is not emulated, rip %#llx", v->name, a.cr, a.type,
		a.gpr, (unsigned long long)v->arch.exit.rip);
}
