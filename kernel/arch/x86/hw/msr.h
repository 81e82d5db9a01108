/* Model-specific registers and control-register bits (Intel SDM vol. 4, vol. 3A 2.5). */
#ifndef HV_KERNEL_ARCH_X86_HW_MSR_H
#define HV_KERNEL_ARCH_X86_HW_MSR_H

#define MSR_IA32_TSC 0x010
#define MSR_IA32_FEATURE_CONTROL 0x03a
#define MSR_IA32_SPEC_CTRL 0x048
#define MSR_IA32_BIOS_SIGN_ID 0x08b        /* microcode revision in bits 63:32 */
#define MSR_IA32_MTRRCAP 0x0fe
#define MSR_IA32_ARCH_CAPABILITIES 0x10a
#define MSR_IA32_MCG_CAP 0x179
#define MSR_IA32_MCG_STATUS 0x17a
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_IA32_DEBUGCTL 0x1d9
#define MSR_IA32_MTRR_PHYSBASE0 0x200      /* base/mask pairs, 0x200..0x20f for 8 ranges */
#define MSR_IA32_MTRR_FIX64K_00000 0x250
#define MSR_IA32_MTRR_FIX16K_80000 0x258
#define MSR_IA32_MTRR_FIX16K_A0000 0x259
#define MSR_IA32_MTRR_FIX4K_C0000 0x268    /* 0x268..0x26f */
#define MSR_IA32_MTRR_DEF_TYPE 0x2ff
#define MSR_IA32_MC0_CTL 0x400             /* bank i: CTL, STATUS, ADDR, MISC at 0x400 + 4i */
#define MSR_IA32_MC0_STATUS 0x401
#define MSR_IA32_MC0_ADDR 0x402
#define MSR_IA32_MC0_MISC 0x403
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_PAT 0x277
#define MSR_IA32_VMX_BASIC 0x480
#define MSR_IA32_VMX_PINBASED_CTLS 0x481
#define MSR_IA32_VMX_PROCBASED_CTLS 0x482
#define MSR_IA32_VMX_EXIT_CTLS 0x483
#define MSR_IA32_VMX_ENTRY_CTLS 0x484
#define MSR_IA32_VMX_MISC 0x485
#define MSR_IA32_VMX_CR0_FIXED0 0x486
#define MSR_IA32_VMX_CR0_FIXED1 0x487
#define MSR_IA32_VMX_CR4_FIXED0 0x488
#define MSR_IA32_VMX_CR4_FIXED1 0x489
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP 0x48c
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS 0x48f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x490
#define MSR_IA32_APIC_BASE 0x01b
#define MSR_IA32_EFER 0xc0000080
#define MSR_IA32_STAR 0xc0000081
#define MSR_IA32_LSTAR 0xc0000082
#define MSR_IA32_CSTAR 0xc0000083
#define MSR_IA32_FMASK 0xc0000084
#define MSR_IA32_FS_BASE 0xc0000100
#define MSR_IA32_GS_BASE 0xc0000101
#define MSR_IA32_KERNEL_GS_BASE 0xc0000102

/* IA32_APIC_BASE */
#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_DEFAULT 0xfee00000ull

/* IA32_MISC_ENABLE */
#define MISC_ENABLE_FAST_STRING (1ull << 0)
#define MISC_ENABLE_BTS_UNAVAIL (1ull << 11)
#define MISC_ENABLE_PEBS_UNAVAIL (1ull << 12)
#define MISC_ENABLE_LIMIT_CPUID (1ull << 22)

/* IA32_MTRRCAP and IA32_MTRR_DEF_TYPE */
#define MTRRCAP_VCNT_MASK 0xffull
#define MTRRCAP_FIX (1ull << 8)
#define MTRRCAP_WC (1ull << 10)
#define MTRR_DEF_TYPE_MASK 0xffull
#define MTRR_DEF_TYPE_FE (1ull << 10)
#define MTRR_DEF_TYPE_E (1ull << 11)
#define MTRR_TYPE_WB 6ull

/* IA32_MCG_CAP, IA32_MCG_STATUS */
#define MCG_CAP_COUNT_MASK 0xffull
#define MCG_STATUS_VALID_BITS 0x7ull       /* RIPV, EIPV, MCIP */

/* IA32_SPEC_CTRL */
#define SPEC_CTRL_IBRS (1ull << 0)
#define SPEC_CTRL_STIBP (1ull << 1)
#define SPEC_CTRL_SSBD (1ull << 2)

/* IA32_PAT: eight one-byte entries, each a memory type in bits 2:0 */
#define PAT_ENTRY_RESERVED 0xf8f8f8f8f8f8f8f8ull
#define PAT_TYPE_RESERVED_2 2
#define PAT_TYPE_RESERVED_3 3

#define FEATURE_CONTROL_LOCKED (1ull << 0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1ull << 2)

#define VMX_BASIC_REVISION_MASK 0x7fffffffull
#define VMX_BASIC_INS_OUTS_INFO (1ull << 54) /* INS and OUTS exits fill the instruction-information field */
#define VMX_BASIC_TRUE_CTLS (1ull << 55)

#define VMX_MISC_PREEMPT_RATE_MASK 0x1full

#define EPT_CAP_WALK_4 (1ull << 6)
#define EPT_CAP_WB (1ull << 14)
#define EPT_CAP_2MB (1ull << 16)
#define EPT_CAP_1GB (1ull << 17)
#define EPT_CAP_INVEPT (1ull << 20)
#define EPT_CAP_AD (1ull << 21)
#define EPT_CAP_INVEPT_SINGLE (1ull << 25)
#define EPT_CAP_INVEPT_ALL (1ull << 26)

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)

#define CR4_PAE (1ull << 5)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_VMXE (1ull << 13)
#define CR4_OSXSAVE (1ull << 18)
#define CR4_SMAP (1ull << 21)
#define CR8_TPR_MASK 0xfull /* CR8 holds TPR[7:4]; bits 63:4 are reserved (SDM 10.8.6.1) */

#define XCR_XCR0 0u /* XGETBV's and XSETBV's ECX */
/* XCR0: the state components XSAVE manages and AVX instructions may use (SDM vol. 1, 13.3). */
#define XCR0_X87 (1ull << 0)
#define XCR0_SSE (1ull << 1)
#define XCR0_AVX (1ull << 2)       /* upper halves of YMM0-15 */
#define XCR0_OPMASK (1ull << 5)    /* AVX-512 k0-k7 */
#define XCR0_ZMM_HI256 (1ull << 6) /* upper halves of ZMM0-15 */
#define XCR0_HI16_ZMM (1ull << 7)  /* ZMM16-31 */
#define XCR0_AVX512 (XCR0_OPMASK | XCR0_ZMM_HI256 | XCR0_HI16_ZMM)

#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

#define RFLAGS_RESERVED1 (1ull << 1)
#define RFLAGS_TF (1ull << 8)
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_DF (1ull << 10)
#define RFLAGS_RF (1ull << 16)
#define RFLAGS_AC (1ull << 18)

/* Debug registers: their values after reset (SDM 18.2). */
#define DR6_RESET 0xffff0ff0ull
#define DR7_RESET 0x400ull

/* Exception vectors (SDM table 6-1). */
#define X86_VEC_DB 1
#define X86_VEC_NMI 2
#define X86_VEC_BP 3
#define X86_VEC_UD 6
#define X86_VEC_DF 8
#define X86_VEC_SS 12
#define X86_VEC_GP 13
#define X86_VEC_PF 14

#endif
