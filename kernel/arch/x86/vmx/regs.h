/* The guest registers the VMCS does not hold, saved and loaded by kernel/arch/x86/vmx/entry.S. */
#ifndef HV_KERNEL_ARCH_X86_VMX_REGS_H
#define HV_KERNEL_ARCH_X86_VMX_REGS_H

#define VCPU_REGS_RAX 0
#define VCPU_REGS_RCX 8
#define VCPU_REGS_RDX 16
#define VCPU_REGS_RBX 24
#define VCPU_REGS_RBP 32
#define VCPU_REGS_RSI 40
#define VCPU_REGS_RDI 48
#define VCPU_REGS_R8 56
#define VCPU_REGS_R9 64
#define VCPU_REGS_R10 72
#define VCPU_REGS_R11 80
#define VCPU_REGS_R12 88
#define VCPU_REGS_R13 96
#define VCPU_REGS_R14 104
#define VCPU_REGS_R15 112
#define VCPU_REGS_CR2 120
#define VCPU_REGS_SIZE 128

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

struct vcpu_regs {
	uint64_t rax, rcx, rdx, rbx, rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t cr2;
};
_Static_assert(offsetof(struct vcpu_regs, rax) == VCPU_REGS_RAX, "regs layout");
_Static_assert(offsetof(struct vcpu_regs, rdi) == VCPU_REGS_RDI, "regs layout");
_Static_assert(offsetof(struct vcpu_regs, r8) == VCPU_REGS_R8, "regs layout");
_Static_assert(offsetof(struct vcpu_regs, r15) == VCPU_REGS_R15, "regs layout");
_Static_assert(offsetof(struct vcpu_regs, cr2) == VCPU_REGS_CR2, "regs layout");
_Static_assert(sizeof(struct vcpu_regs) == VCPU_REGS_SIZE, "regs layout");

/*
 * Loads the guest registers from regs and enters the guest with VMLAUNCH
 * (launched == 0) or VMRESUME. Returns 0 after a VM exit with regs updated,
 * 1 on VMfailInvalid, 2 on VMfailValid (see VM_INSTRUCTION_ERROR).
 */
int vmx_run(struct vcpu_regs *regs, int launched);
#endif

#endif
