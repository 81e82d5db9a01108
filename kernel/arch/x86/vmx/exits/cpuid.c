/* CPUID: the host's answers, minus what the guest cannot use under us. */
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/hw/msr.h"
#include "kernel/vmm/vm.h"
#include "kernel/arch/x86/vmx/exit.h"

#define CPUID_HV_BASE 0x40000000u
#define CPUID_HV_MAX 0x40000000u
#define CPUID_XSAVE_LEAF 0xdu
/* "FerryHV" padded: what a guest sees in CPUID 0x40000000 EBX, ECX, EDX. */
#define CPUID_HV_SIG_EBX 0x72726546u /* "Ferr" */
#define CPUID_HV_SIG_ECX 0x00564879u /* "yHV\0" */
#define CPUID_HV_SIG_EDX 0x00000000u

enum exit_action exit_cpuid(struct vcpu *v)
{
	uint32_t leaf = (uint32_t)v->regs.rax, subleaf = (uint32_t)v->regs.rcx;
	struct cpuid_regs r;

	if (leaf == CPUID_HV_BASE) {
		r = (struct cpuid_regs){ CPUID_HV_MAX, CPUID_HV_SIG_EBX, CPUID_HV_SIG_ECX, CPUID_HV_SIG_EDX };
	} else if (leaf == CPUID_XSAVE_LEAF) {
		r = (struct cpuid_regs){ 0, 0, 0, 0 }; /* XSAVE is hidden: only FXSAVE state is switched */
	} else {
		r = cpuid(leaf, subleaf);
		if (leaf == 1) {
			/* No nested VMX, no XSAVE; say a hypervisor is present. */
			r.ecx &= ~(CPUID_1_ECX_VMX | CPUID_1_ECX_XSAVE | CPUID_1_ECX_OSXSAVE);
			r.ecx |= CPUID_1_ECX_HYPERVISOR;
		}
	}
	v->regs.rax = r.eax;
	v->regs.rbx = r.ebx;
	v->regs.rcx = r.ecx;
	v->regs.rdx = r.edx;
	return EXIT_SKIP_INSN;
}
