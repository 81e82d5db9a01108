/*
 * Entry from a Multiboot2 loader (GRUB) or a Multiboot 1 loader (iPXE):
 * both enter in 32-bit protected mode, paging off, EAX = magic, EBX = boot
 * information. We identity-map the first 4 GiB with 2 MiB pages, enter long
 * mode and call kmain(magic, mbi); kmain tells the two apart by the magic.
 */
#define MB1_HEADER_MAGIC 0x1badb002
#define MB1_PAGE_ALIGN_MODULES (1 << 0)
#define MB1_MEMORY_INFO (1 << 1)
#define MB1_FLAGS (MB1_PAGE_ALIGN_MODULES | MB1_MEMORY_INFO)
#define MB2_HEADER_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0
#define CR0_PE (1 << 0)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)
#define PTE_P 0x1
#define PTE_RW 0x2
#define PTE_PS 0x80
#define BOOT_STACK_SIZE 0x10000

	/* Multiboot 1 wants its header in the first 8 KiB of the file, Multiboot2 in the first 32 KiB. */
	.section .multiboot, "a"
	.balign 4
mb1_header:
	.long MB1_HEADER_MAGIC
	.long MB1_FLAGS
	.long -(MB1_HEADER_MAGIC + MB1_FLAGS)
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	.balign 8
	.short 0, 0              /* end tag */
	.long 8
mb2_header_end:

	.section .boot.text, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl $boot_stack_top, %esp
	movl %eax, %edi
	movl %ebx, %esi

	/* Long mode present? CPUID 0x80000001 EDX bit 29. */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc no_long_mode

	/* PML4[0] -> PDPT; PDPT[0..3] -> PD0..PD3; each PD maps 1 GiB with 2 MiB pages. */
	movl $boot_pdpt, %eax
	orl $(PTE_P | PTE_RW), %eax
	movl %eax, boot_pml4
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $12, %eax
	addl $boot_pd, %eax
	orl $(PTE_P | PTE_RW), %eax
	movl %eax, boot_pdpt(, %ecx, 8)
	incl %ecx
	cmpl $4, %ecx
	jb 1b
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $21, %eax
	orl $(PTE_P | PTE_RW | PTE_PS), %eax
	movl %eax, boot_pd(, %ecx, 8)
	movl %ecx, %eax
	shrl $11, %eax               /* high dword: bits 32+ of (index << 21) */
	movl %eax, boot_pd + 4(, %ecx, 8)
	incl %ecx
	cmpl $2048, %ecx
	jb 2b

	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $(EFER_LME | EFER_NXE), %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_PE), %eax
	movl %eax, %cr0

	lgdt gdt64_ptr
	ljmp $0x08, $long_entry

no_long_mode:
	/* No console yet: a 32-bit-only CPU cannot run us; stop. */
	hlt
	jmp no_long_mode

	.code64
long_entry:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp
	movl %edi, %edi              /* magic, zero-extended */
	movl %esi, %esi              /* boot information pointer */
	call kmain
3:	cli
	hlt
	jmp 3b

	.section .data
	.balign 16
	.globl gdt64
gdt64:
	.quad 0                      /* null */
	.quad 0x00af9a000000ffff     /* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff     /* 0x10: data */
	.quad 0, 0                   /* 0x18: TSS, filled in by gdt_init() */
gdt64_end:
	.globl gdt64_ptr
gdt64_ptr:
	.short gdt64_end - gdt64 - 1
	.quad gdt64

	.section .bss
	.balign 4096
boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4 * 4096
	.balign 16
	.globl boot_stack_top
boot_stack:
	.skip BOOT_STACK_SIZE
boot_stack_top:
