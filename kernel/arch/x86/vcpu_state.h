/*
 * A vCPU's complete guest-visible state as one value: what a migration
 * carries and what a restore puts back. Fixed-width fields, reserved ones
 * zero, so that the stream can copy it field by field. Produced and applied
 * by vcpu_arch_state_save/load (kernel/vmm/arch.h).
 */
#ifndef HV_KERNEL_ARCH_X86_VCPU_STATE_H
#define HV_KERNEL_ARCH_X86_VCPU_STATE_H

#include <stdint.h>

#define VCPU_STATE_FXSAVE_SIZE 512
#define VCPU_STATE_MSRS 48      /* room for the emulated and switched MSRs of kernel/arch/x86/vmx/vmsr.h */

/* Segment registers in the order of their VMCS encodings (SDM Vol. 3, Appendix B). */
enum vcpu_seg { VCPU_SEG_ES, VCPU_SEG_CS, VCPU_SEG_SS, VCPU_SEG_DS, VCPU_SEG_FS, VCPU_SEG_GS, VCPU_SEG_LDTR,
		VCPU_SEG_TR, VCPU_SEG_COUNT };

struct vcpu_segment {
	uint64_t base;
	uint32_t limit;
	uint32_t ar;            /* access rights as VMX keeps them (SDM 24.4.1); bit 16: unusable */
	uint16_t selector;
	uint16_t reserved[3];
};

struct vcpu_dtable {
	uint64_t base;
	uint32_t limit;
	uint32_t reserved;
};

/* One MSR as the guest would read it back. */
struct vcpu_msr {
	uint32_t index;
	uint32_t reserved;
	uint64_t value;
};

struct vcpu_state {
	uint8_t fxsave[VCPU_STATE_FXSAVE_SIZE] __attribute__((aligned(16))); /* x87/MMX/SSE, FXSAVE layout */
	uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
	uint64_t cr0, cr2, cr3, cr4, cr8;
	uint64_t cr0_shadow, cr4_shadow;  /* what the guest reads back where the host owns CR0/CR4 bits */
	uint64_t dr[4], dr6, dr7;
	uint64_t efer, pat, debugctl;     /* guest-visible MSRs */
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t pdpte[4];                /* PAE page-directory pointers, loaded at the last CR3 write */
	uint64_t tsc;                     /* the guest's TSC when saved: host TSC + offset, not the offset */
	uint64_t pending_dbg;             /* pending debug exceptions (SDM 24.4.2) */
	struct vcpu_segment seg[VCPU_SEG_COUNT];
	struct vcpu_dtable gdtr, idtr;
	uint32_t interruptibility;        /* blocking by STI, MOV SS, SMI, NMI */
	uint32_t activity;                /* active, HLT, shutdown, wait-for-SIPI */
	uint32_t pending_event;           /* an event due at the next entry, as VM-entry interruption info */
	uint32_t pending_error_code;
	uint32_t pending_insn_len;        /* of a software event */
	uint32_t msr_count;               /* entries of msr[] in use; the rest zero */
	/*
	 * Every other MSR the guest can observe (SYSCALL, APIC_BASE, MISC_ENABLE,
	 * MTRRs, SPEC_CTRL, machine check, ...): the architecture says which;
	 * a load refuses an index it does not hold or a value a guest's WRMSR
	 * could not have set, and keeps the current value of any not listed.
	 */
	struct vcpu_msr msr[VCPU_STATE_MSRS];
};

_Static_assert(sizeof(struct vcpu_segment) == 24, "segment layout");
_Static_assert(sizeof(struct vcpu_state) % 16 == 0, "state layout: no tail padding to leak");

#endif
