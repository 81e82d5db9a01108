/* CPUID: the host's answers passed through the guest's policy (kernel/arch/x86/vmx/cpuid_policy.h). */
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/time.h"
#include "kernel/arch/x86/vmx/cpuid_policy.h"
#include "kernel/arch/x86/vmx/exit.h"
#include "kernel/vmm/vm.h"

enum exit_action exit_cpuid(struct vcpu *v)
{
	uint32_t leaf = (uint32_t)v->arch.regs.rax, subleaf = (uint32_t)v->arch.regs.rcx;
	static uint32_t host_max_basic, host_max_ext;
	struct cpuid_vcpu who;
	struct cpuid_regs r;

	/* The host's maxima never change: ask once. */
	if (!host_max_basic) {
		host_max_basic = cpuid(CPUID_LEAF_VENDOR, 0).eax;
		host_max_ext = cpuid(CPUID_LEAF_EXT_MAX, 0).eax;
	}
	who = (struct cpuid_vcpu){ host_max_basic, host_max_ext, v->id, v->vm->vcpu_count, time_tsc_hz() };
	r = cpuid_policy(leaf, subleaf, cpuid(leaf, subleaf), &who);
	/* CPUID writes 32-bit registers: in 64-bit mode the upper halves become zero. */
	v->arch.regs.rax = r.eax;
	v->arch.regs.rbx = r.ebx;
	v->arch.regs.rcx = r.ecx;
	v->arch.regs.rdx = r.edx;
	return EXIT_SKIP_INSN;
}
