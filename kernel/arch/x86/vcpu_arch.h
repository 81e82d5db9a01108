/*
 * The x86 part of a vCPU, embedded in struct vcpu as v->arch: what VT-x
 * keeps per vCPU beside its VMCS. Only kernel/arch/x86/ reads or writes it;
 * generic code goes through the vcpu_arch_* functions of kernel/vmm/arch.h.
 */
#ifndef HV_KERNEL_ARCH_X86_VCPU_ARCH_H
#define HV_KERNEL_ARCH_X86_VCPU_ARCH_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/arch/x86/vmx/exit_reason.h"
#include "kernel/arch/x86/vmx/regs.h"
#include "kernel/arch/x86/vmx/vmsr.h"

#define VCPU_FPU_AREA 512
#define VCPU_STOP_REASON_MAX 200

/* The current VM exit, decoded from the VMCS once, for handlers to read. */
struct vcpu_exit {
	uint32_t reason;        /* basic exit reason */
	uint32_t raw_reason;    /* the whole field, entry-failure bit included */
	uint64_t qualification;
	uint64_t guest_phys;    /* EPT violations */
	uint32_t insn_len;
	uint32_t intr_info;
	uint32_t intr_error_code;  /* of the exit interruption information, when it has one */
	uint32_t idt_vectoring;    /* IDT-vectoring information: an event whose delivery the exit interrupted */
	uint32_t idt_vectoring_error_code;
	uint64_t rip;
};

/* Debug registers the VMCS does not switch (DR7 is a guest-state field). */
struct vcpu_debug {
	uint64_t dr[4];         /* DR0-DR3 */
	uint64_t dr6;
};

struct vcpu_arch {
	struct vcpu_regs regs;
	uint8_t fpu[VCPU_FPU_AREA] __attribute__((aligned(16))); /* FXSAVE image of the guest */
	uint64_t vmcs_pa;
	bool launched;
	struct vcpu_exit exit;
	uint64_t exits[EXIT_REASON_MAX];
	uint64_t exits_total;
	uint64_t entry_failures;
	uint64_t events_reinjected; /* exits during event delivery, whose event went in again */
	uint64_t host_nmis;     /* NMIs that arrived while this vCPU ran, handed to the host */
	uint8_t tpr;            /* the virtual task-priority register, CR8 of a 64-bit guest */
	uint64_t tsc_offset;    /* TSC_OFFSET as last written (kernel/arch/x86/vmx/tsc.h) */
	struct vcpu_debug debug;
	struct vmsr_state msrs;  /* emulated and switched MSRs */
	uint64_t msr_gp;         /* RDMSR/WRMSR answered with #GP */
	uint64_t irqs_injected;  /* external interrupts delivered */
	bool irq_window;         /* interrupt-window exiting is on: an interrupt waits for the guest to take it */
	char stop_reason[VCPU_STOP_REASON_MAX]; /* why the last run stopped the VM (VCPU_RUN_STOP_VM) */
};

#endif
