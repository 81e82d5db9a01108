/* Host exceptions and interrupts: the IDT, the saved frame, IRQ handlers. */
#ifndef HV_KERNEL_ARCH_X86_TRAP_H
#define HV_KERNEL_ARCH_X86_TRAP_H

#include <stdint.h>

#define VEC_PIC_SPURIOUS 32
#define VEC_LAPIC_TIMER 240
#define VEC_SPURIOUS 255

/* Pushed by kernel/arch/x86/boot/isr.S, lowest address first. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*irq_handler_fn)(uint8_t vector);

/* Builds the TSS and IDT and loads them. */
void trap_init(void);

/* Registers the handler of an interrupt vector (>= 32). */
void irq_register(uint8_t vector, irq_handler_fn fn);

/* Runs the handler of an interrupt taken while a guest ran (VM exit). */
void irq_dispatch(uint8_t vector);

void trap_dispatch(struct trap_frame *f);

/* NMIs the host has taken, directly or handed over by a VM exit. */
uint64_t trap_nmi_count(void);

#endif
