/*
 * Entry of every vCPU (kernel/guest_abi.h): 32-bit protected mode, paging
 * off, flat segments, interrupts off, EBX = struct hv_boot_params GPA,
 * ESI = vCPU index, ESP = 0. All vCPUs arrive here at once.
 *
 * Each vCPU takes its own stack (in .stack, which is never zeroed); vCPU 0
 * zeroes .bss and then releases the others through bss_ready (in .data).
 */
#include "tests/guest/layout.h"

	.section .text.entry, "ax"
	.code32
	.globl _start
_start:
	cld
	cmpl	$GUEST_MAX_VCPUS, %esi
	jae	halt			/* no stack for this vCPU */

	/* ESP = top of guest_stacks[ESI], 16-byte aligned */
	lea	1(%esi), %eax
	imull	$GUEST_STACK_SIZE, %eax
	lea	guest_stacks(%eax), %esp

	test	%esi, %esi
	jnz	wait_bss

	mov	$__bss_start, %edi
	mov	$__bss_end, %ecx
	sub	%edi, %ecx
	xor	%eax, %eax
	rep stosb
	movl	$1, bss_ready		/* x86 stores are ordered: .bss is clear first */
	jmp	call_main

wait_bss:
	pause
	cmpl	$0, bss_ready
	je	wait_bss

call_main:
	/*
	 * Run with interrupts enabled, as real guests mostly do. The hypervisor
	 * takes every external interrupt as a VM exit, so none reaches our
	 * (absent) IDT; one that did would show up as a triple fault.
	 */
	sti
	sub	$8, %esp		/* keep ESP 16-byte aligned at the call */
	push	%esi			/* vcpu */
	push	%ebx			/* boot params */
	call	guest_main		/* does not return */

halt:
	cli
	hlt
	jmp	halt

	.data
	.balign 4
bss_ready:
	.long	0

	.section .stack, "aw", @nobits
	.balign 16
	.globl guest_stacks
guest_stacks:
	.skip	GUEST_MAX_VCPUS * GUEST_STACK_SIZE

	.section .note.GNU-stack, "", @progbits
