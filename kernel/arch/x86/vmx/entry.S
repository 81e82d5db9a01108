/* VM entry and exit: swaps the general registers between host and guest. */
#include "kernel/arch/x86/vmx/regs.h"

#define HOST_RSP 0x6c14
#define HOST_RIP 0x6c16

	.text
	.code64
	.globl vmx_run
vmx_run:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi                  /* the regs pointer, found again at exit through HOST_RSP */

	movq $HOST_RSP, %rax
	vmwrite %rsp, %rax
	movq $HOST_RIP, %rax
	leaq vmx_exit(%rip), %rdx
	vmwrite %rdx, %rax

	/* MOV to CR2 leaves the flags undefined: do it before the launched test. */
	movq VCPU_REGS_CR2(%rdi), %rax
	movq %rax, %cr2
	testl %esi, %esi

	movq VCPU_REGS_RAX(%rdi), %rax
	movq VCPU_REGS_RCX(%rdi), %rcx
	movq VCPU_REGS_RDX(%rdi), %rdx
	movq VCPU_REGS_RBX(%rdi), %rbx
	movq VCPU_REGS_RBP(%rdi), %rbp
	movq VCPU_REGS_RSI(%rdi), %rsi
	movq VCPU_REGS_R8(%rdi), %r8
	movq VCPU_REGS_R9(%rdi), %r9
	movq VCPU_REGS_R10(%rdi), %r10
	movq VCPU_REGS_R11(%rdi), %r11
	movq VCPU_REGS_R12(%rdi), %r12
	movq VCPU_REGS_R13(%rdi), %r13
	movq VCPU_REGS_R14(%rdi), %r14
	movq VCPU_REGS_R15(%rdi), %r15
	movq VCPU_REGS_RDI(%rdi), %rdi

	jz 1f
	vmresume
	jmp 2f
1:	vmlaunch
2:	/* Entry failed; we are still on the host stack. CF=1: VMfailInvalid. */
	movl $2, %eax
	jnc 3f
	movl $1, %eax
3:	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

vmx_exit:
	pushq %rdi
	movq 8(%rsp), %rdi
	movq %rax, VCPU_REGS_RAX(%rdi)
	movq %rcx, VCPU_REGS_RCX(%rdi)
	movq %rdx, VCPU_REGS_RDX(%rdi)
	movq %rbx, VCPU_REGS_RBX(%rdi)
	movq %rbp, VCPU_REGS_RBP(%rdi)
	movq %rsi, VCPU_REGS_RSI(%rdi)
	movq %r8, VCPU_REGS_R8(%rdi)
	movq %r9, VCPU_REGS_R9(%rdi)
	movq %r10, VCPU_REGS_R10(%rdi)
	movq %r11, VCPU_REGS_R11(%rdi)
	movq %r12, VCPU_REGS_R12(%rdi)
	movq %r13, VCPU_REGS_R13(%rdi)
	movq %r14, VCPU_REGS_R14(%rdi)
	movq %r15, VCPU_REGS_R15(%rdi)
	popq %rax
	movq %rax, VCPU_REGS_RDI(%rdi)
	movq %cr2, %rax
	movq %rax, VCPU_REGS_CR2(%rdi)
	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	xorl %eax, %eax
	ret
