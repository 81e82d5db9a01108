/*
 * VMCS field encodings (Intel SDM vol. 3D, appendix B) with Intel's names,
 * and width-typed accessors. A failed access logs the field and the caller.
 */
#ifndef HV_KERNEL_ARCH_X86_VMX_VMCS_H
#define HV_KERNEL_ARCH_X86_VMX_VMCS_H

#include <stdint.h>

enum vmcs_field {
	/* 16-bit control */
	VIRTUAL_PROCESSOR_ID = 0x0000,
	/* 16-bit guest state */
	GUEST_ES_SELECTOR = 0x0800,
	GUEST_CS_SELECTOR = 0x0802,
	GUEST_SS_SELECTOR = 0x0804,
	GUEST_DS_SELECTOR = 0x0806,
	GUEST_FS_SELECTOR = 0x0808,
	GUEST_GS_SELECTOR = 0x080a,
	GUEST_LDTR_SELECTOR = 0x080c,
	GUEST_TR_SELECTOR = 0x080e,
	GUEST_PML_INDEX = 0x0812,
	/* 16-bit host state */
	HOST_ES_SELECTOR = 0x0c00,
	HOST_CS_SELECTOR = 0x0c02,
	HOST_SS_SELECTOR = 0x0c04,
	HOST_DS_SELECTOR = 0x0c06,
	HOST_FS_SELECTOR = 0x0c08,
	HOST_GS_SELECTOR = 0x0c0a,
	HOST_TR_SELECTOR = 0x0c0c,
	/* 64-bit control */
	IO_BITMAP_A = 0x2000,
	IO_BITMAP_B = 0x2002,
	MSR_BITMAP = 0x2004,
	VM_EXIT_MSR_STORE_ADDR = 0x2006,
	VM_EXIT_MSR_LOAD_ADDR = 0x2008,
	VM_ENTRY_MSR_LOAD_ADDR = 0x200a,
	PML_ADDRESS = 0x200e,
	TSC_OFFSET = 0x2010,
	EPT_POINTER = 0x201a,
	/* 64-bit read-only */
	GUEST_PHYSICAL_ADDRESS = 0x2400,
	/* 64-bit guest state */
	VMCS_LINK_POINTER = 0x2800,
	GUEST_IA32_DEBUGCTL = 0x2802,
	GUEST_IA32_PAT = 0x2804,
	GUEST_IA32_EFER = 0x2806,
	GUEST_PDPTE0 = 0x280a,
	GUEST_PDPTE1 = 0x280c,
	GUEST_PDPTE2 = 0x280e,
	GUEST_PDPTE3 = 0x2810,
	/* 64-bit host state */
	HOST_IA32_PAT = 0x2c00,
	HOST_IA32_EFER = 0x2c02,
	/* 32-bit control */
	PIN_BASED_VM_EXEC_CONTROL = 0x4000,
	CPU_BASED_VM_EXEC_CONTROL = 0x4002,
	EXCEPTION_BITMAP = 0x4004,
	PAGE_FAULT_ERROR_CODE_MASK = 0x4006,
	PAGE_FAULT_ERROR_CODE_MATCH = 0x4008,
	CR3_TARGET_COUNT = 0x400a,
	VM_EXIT_CONTROLS = 0x400c,
	VM_EXIT_MSR_STORE_COUNT = 0x400e,
	VM_EXIT_MSR_LOAD_COUNT = 0x4010,
	VM_ENTRY_CONTROLS = 0x4012,
	VM_ENTRY_MSR_LOAD_COUNT = 0x4014,
	VM_ENTRY_INTR_INFO_FIELD = 0x4016,
	VM_ENTRY_EXCEPTION_ERROR_CODE = 0x4018,
	VM_ENTRY_INSTRUCTION_LEN = 0x401a,
	SECONDARY_VM_EXEC_CONTROL = 0x401e,
	/* 32-bit read-only */
	VM_INSTRUCTION_ERROR = 0x4400,
	VM_EXIT_REASON = 0x4402,
	VM_EXIT_INTR_INFO = 0x4404,
	VM_EXIT_INTR_ERROR_CODE = 0x4406,
	IDT_VECTORING_INFO_FIELD = 0x4408,
	IDT_VECTORING_ERROR_CODE = 0x440a,
	VM_EXIT_INSTRUCTION_LEN = 0x440c,
	VMX_INSTRUCTION_INFO = 0x440e,
	/* 32-bit guest state */
	GUEST_ES_LIMIT = 0x4800,
	GUEST_CS_LIMIT = 0x4802,
	GUEST_SS_LIMIT = 0x4804,
	GUEST_DS_LIMIT = 0x4806,
	GUEST_FS_LIMIT = 0x4808,
	GUEST_GS_LIMIT = 0x480a,
	GUEST_LDTR_LIMIT = 0x480c,
	GUEST_TR_LIMIT = 0x480e,
	GUEST_GDTR_LIMIT = 0x4810,
	GUEST_IDTR_LIMIT = 0x4812,
	GUEST_ES_AR_BYTES = 0x4814,
	GUEST_CS_AR_BYTES = 0x4816,
	GUEST_SS_AR_BYTES = 0x4818,
	GUEST_DS_AR_BYTES = 0x481a,
	GUEST_FS_AR_BYTES = 0x481c,
	GUEST_GS_AR_BYTES = 0x481e,
	GUEST_LDTR_AR_BYTES = 0x4820,
	GUEST_TR_AR_BYTES = 0x4822,
	GUEST_INTERRUPTIBILITY_INFO = 0x4824,
	GUEST_ACTIVITY_STATE = 0x4826,
	GUEST_SYSENTER_CS = 0x482a,
	VMX_PREEMPTION_TIMER_VALUE = 0x482e,
	/* 32-bit host state */
	HOST_IA32_SYSENTER_CS = 0x4c00,
	/* natural-width control */
	CR0_GUEST_HOST_MASK = 0x6000,
	CR4_GUEST_HOST_MASK = 0x6002,
	CR0_READ_SHADOW = 0x6004,
	CR4_READ_SHADOW = 0x6006,
	/* natural-width read-only */
	EXIT_QUALIFICATION = 0x6400,
	GUEST_LINEAR_ADDRESS = 0x640a,
	/* natural-width guest state */
	GUEST_CR0 = 0x6800,
	GUEST_CR3 = 0x6802,
	GUEST_CR4 = 0x6804,
	GUEST_ES_BASE = 0x6806,
	GUEST_CS_BASE = 0x6808,
	GUEST_SS_BASE = 0x680a,
	GUEST_DS_BASE = 0x680c,
	GUEST_FS_BASE = 0x680e,
	GUEST_GS_BASE = 0x6810,
	GUEST_LDTR_BASE = 0x6812,
	GUEST_TR_BASE = 0x6814,
	GUEST_GDTR_BASE = 0x6816,
	GUEST_IDTR_BASE = 0x6818,
	GUEST_DR7 = 0x681a,
	GUEST_RSP = 0x681c,
	GUEST_RIP = 0x681e,
	GUEST_RFLAGS = 0x6820,
	GUEST_PENDING_DBG_EXCEPTIONS = 0x6822,
	GUEST_SYSENTER_ESP = 0x6824,
	GUEST_SYSENTER_EIP = 0x6826,
	/* natural-width host state */
	HOST_CR0 = 0x6c00,
	HOST_CR3 = 0x6c02,
	HOST_CR4 = 0x6c04,
	HOST_FS_BASE = 0x6c06,
	HOST_GS_BASE = 0x6c08,
	HOST_TR_BASE = 0x6c0a,
	HOST_GDTR_BASE = 0x6c0c,
	HOST_IDTR_BASE = 0x6c0e,
	HOST_IA32_SYSENTER_ESP = 0x6c10,
	HOST_IA32_SYSENTER_EIP = 0x6c12,
	HOST_RSP = 0x6c14,
	HOST_RIP = 0x6c16,
};

/* Pin-based VM-execution controls (SDM 25.6.1). */
#define PIN_BASED_EXT_INTR_MASK (1u << 0)
#define PIN_BASED_NMI_EXITING (1u << 3)
#define PIN_BASED_VIRTUAL_NMIS (1u << 5)
#define PIN_BASED_VMX_PREEMPTION_TIMER (1u << 6)

/* Primary processor-based controls (SDM 25.6.2). */
#define CPU_BASED_INTR_WINDOW_EXITING (1u << 2)
#define CPU_BASED_USE_TSC_OFFSETTING (1u << 3)
#define CPU_BASED_HLT_EXITING (1u << 7)
#define CPU_BASED_INVLPG_EXITING (1u << 9)
#define CPU_BASED_CR3_LOAD_EXITING (1u << 15)
#define CPU_BASED_CR3_STORE_EXITING (1u << 16)
#define CPU_BASED_CR8_LOAD_EXITING (1u << 19)
#define CPU_BASED_CR8_STORE_EXITING (1u << 20)
#define CPU_BASED_UNCOND_IO_EXITING (1u << 24)
#define CPU_BASED_USE_IO_BITMAPS (1u << 25)
#define CPU_BASED_USE_MSR_BITMAPS (1u << 28)
#define CPU_BASED_ACTIVATE_SECONDARY_CONTROLS (1u << 31)

/* Secondary processor-based controls. */
#define SECONDARY_EXEC_ENABLE_EPT (1u << 1)
#define SECONDARY_EXEC_ENABLE_VPID (1u << 5)
#define SECONDARY_EXEC_UNRESTRICTED_GUEST (1u << 7)
#define SECONDARY_EXEC_ENABLE_PML (1u << 17)

/* VM-exit controls (SDM 25.7.1). */
#define VM_EXIT_SAVE_DEBUG_CONTROLS (1u << 2)
#define VM_EXIT_HOST_ADDR_SPACE_SIZE (1u << 9)
#define VM_EXIT_ACK_INTR_ON_EXIT (1u << 15)
#define VM_EXIT_SAVE_IA32_PAT (1u << 18)
#define VM_EXIT_LOAD_IA32_PAT (1u << 19)
#define VM_EXIT_SAVE_IA32_EFER (1u << 20)
#define VM_EXIT_LOAD_IA32_EFER (1u << 21)
#define VM_EXIT_SAVE_VMX_PREEMPTION_TIMER (1u << 22)

/* VM-entry controls (SDM 25.8.1). */
#define VM_ENTRY_LOAD_DEBUG_CONTROLS (1u << 2)
#define VM_ENTRY_IA32E_MODE (1u << 9)
#define VM_ENTRY_LOAD_IA32_PAT (1u << 14)
#define VM_ENTRY_LOAD_IA32_EFER (1u << 15)

/* Exit reason field. */
#define VM_EXIT_REASON_BASIC_MASK 0xffffu
#define VM_EXIT_REASON_ENTRY_FAILURE (1u << 31)

/*
 * Interruption-information format, shared by the VM-exit interruption
 * information, the IDT-vectoring information and the VM-entry
 * interruption-information fields (SDM 25.8.3, 28.2.2-28.2.4).
 */
#define INTR_INFO_VECTOR_MASK 0xffu
#define INTR_INFO_TYPE_SHIFT 8
#define INTR_INFO_TYPE_MASK (7u << INTR_INFO_TYPE_SHIFT)
#define INTR_INFO_ERROR_CODE_VALID (1u << 11)
#define INTR_INFO_NMI_UNBLOCKING (1u << 12) /* exit interruption information only */
#define INTR_INFO_VALID (1u << 31)

/* Event types of the interruption-information format. */
#define INTR_TYPE_EXTERNAL 0u
#define INTR_TYPE_NMI 2u
#define INTR_TYPE_HARD_EXCEPTION 3u
#define INTR_TYPE_SOFT_INTR 4u
#define INTR_TYPE_PRIV_SOFT_EXCEPTION 5u
#define INTR_TYPE_SOFT_EXCEPTION 6u

/* Guest interruptibility state (SDM 25.4.2, table 25-3). */
#define GUEST_INTR_STATE_STI (1u << 0)
#define GUEST_INTR_STATE_MOV_SS (1u << 1)
#define GUEST_INTR_STATE_NMI (1u << 3)

/* Guest pending debug exceptions (SDM 25.4.2, table 25-4). */
#define PENDING_DBG_BS (1ull << 14)

/* The guest's IA32_DEBUGCTL: single-step on branches only. */
#define DEBUGCTL_BTF (1ull << 1)

/* Guest activity states. */
#define GUEST_ACTIVITY_ACTIVE 0
#define GUEST_ACTIVITY_HLT 1

/* Segment access rights (SDM 25.4.1). */
#define AR_TYPE_CODE_XR_ACCESSED 0xbu
#define AR_TYPE_DATA_RW_ACCESSED 0x3u
#define AR_TYPE_TSS_BUSY_32 0xbu
#define AR_TYPE_LDT 0x2u
/* The type's bits for code and data segments (SDM Vol. 3A, 3.4.5.1; AR_S set). */
#define AR_TYPE_CODE (1u << 3)
#define AR_TYPE_DATA_W (1u << 1)      /* data: writable */
#define AR_TYPE_DATA_E (1u << 2)      /* data: expand-down */
#define AR_TYPE_CODE_R (1u << 1)      /* code: readable */
#define AR_TYPE_MASK 0xfu
#define AR_S (1u << 4)
#define AR_DPL_SHIFT 5
#define AR_DPL_MASK 0x3u
#define AR_P (1u << 7)
#define AR_L (1u << 13)
#define AR_DB (1u << 14)
#define AR_G (1u << 15)
#define AR_UNUSABLE (1u << 16)

/* Exit qualification of I/O instructions (SDM table 28-5). */
#define IO_QUAL_SIZE_MASK 0x7u
#define IO_QUAL_IN (1u << 3)
#define IO_QUAL_STRING (1u << 4)
#define IO_QUAL_REP (1u << 5)
#define IO_QUAL_PORT_SHIFT 16

/* The VM-exit instruction-information field of an INS or OUTS exit (SDM Vol. 3C, table 28-8). */
#define INSN_INFO_ADDR_SIZE_SHIFT 7 /* 0: 16-bit, 1: 32-bit, 2: 64-bit */
#define INSN_INFO_ADDR_SIZE_MASK 0x7u
#define INSN_INFO_SEG_SHIFT 15      /* OUTS: 0 ES, 1 CS, 2 SS, 3 DS, 4 FS, 5 GS, as the VMCS orders their bases */
#define INSN_INFO_SEG_MASK 0x7u
#define INSN_INFO_SEG_ES 0u
#define INSN_INFO_SEG_SS 2u
#define INSN_INFO_SEG_FS 4u

/* Exit qualification of EPT violations (SDM table 28-7). */
#define EPT_QUAL_READ (1u << 0)
#define EPT_QUAL_WRITE (1u << 1)
#define EPT_QUAL_FETCH (1u << 2)
#define EPT_QUAL_GLA_VALID (1u << 7)
#define EPT_QUAL_NMI_UNBLOCKING (1u << 12)

/* Exit qualification of page-modification-log-full exits (SDM 28.2.1). */
#define PML_QUAL_NMI_UNBLOCKING (1u << 12)

/* Exit qualification of control-register accesses (SDM table 28-3). */
#define CR_QUAL_NUMBER_MASK 0xfu
#define CR_QUAL_ACCESS_SHIFT 4
#define CR_QUAL_ACCESS_MASK (3u << CR_QUAL_ACCESS_SHIFT)
#define CR_QUAL_GPR_SHIFT 8
#define CR_QUAL_GPR_MASK (0xfu << CR_QUAL_GPR_SHIFT)
#define CR_QUAL_LMSW_DATA_SHIFT 16
#define CR_ACCESS_MOV_TO_CR 0u
#define CR_ACCESS_MOV_FROM_CR 1u
#define CR_ACCESS_CLTS 2u
#define CR_ACCESS_LMSW 3u

/* VMREAD/VMWRITE through these; a failure is logged with the field and caller. */
uint64_t vmcs_read(enum vmcs_field f, const char *caller);
void vmcs_write(enum vmcs_field f, uint64_t v, const char *caller);

#define vmcs_read64(f) vmcs_read((f), __func__)
#define vmcs_read32(f) ((uint32_t)vmcs_read((f), __func__))
#define vmcs_read16(f) ((uint16_t)vmcs_read((f), __func__))
#define vmcs_write64(f, v) vmcs_write((f), (uint64_t)(v), __func__)
#define vmcs_write32(f, v) vmcs_write((f), (uint64_t)(uint32_t)(v), __func__)
#define vmcs_write16(f, v) vmcs_write((f), (uint64_t)(uint16_t)(v), __func__)

/* Number of VMCS access failures so far (each is also logged). */
uint64_t vmcs_error_count(void);

#endif
