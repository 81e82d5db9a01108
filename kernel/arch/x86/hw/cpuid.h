/* CPUID leaves and feature bits (Intel SDM vol. 2A, CPUID). Safe to include from host tests. */
#ifndef HV_KERNEL_ARCH_X86_HW_CPUID_H
#define HV_KERNEL_ARCH_X86_HW_CPUID_H

#include <stdint.h>

struct cpuid_regs { uint32_t eax, ebx, ecx, edx; };

#define CPUID_LEAF_VENDOR 0x0u
#define CPUID_LEAF_FEATURES 0x1u
#define CPUID_LEAF_CACHE_DESC 0x2u
#define CPUID_LEAF_SERIAL 0x3u
#define CPUID_LEAF_CACHE_PARAMS 0x4u
#define CPUID_LEAF_MONITOR 0x5u
#define CPUID_LEAF_POWER 0x6u
#define CPUID_LEAF_EXT_FEATURES 0x7u
#define CPUID_LEAF_PMU 0xau
#define CPUID_LEAF_TOPOLOGY 0xbu
#define CPUID_LEAF_XSAVE 0xdu
#define CPUID_LEAF_TSC 0x15u          /* EAX, EBX: TSC/crystal ratio; ECX: crystal Hz */
#define CPUID_LEAF_HV_BASE 0x40000000u
#define CPUID_LEAF_HV_LAST 0x4fffffffu
#define CPUID_LEAF_EXT_MAX 0x80000000u
#define CPUID_LEAF_EXT_FEATURES_1 0x80000001u
#define CPUID_LEAF_BRAND_FIRST 0x80000002u
#define CPUID_LEAF_BRAND_LAST 0x80000004u
#define CPUID_LEAF_EXT_L2_CACHE 0x80000006u
#define CPUID_LEAF_EXT_POWER 0x80000007u
#define CPUID_LEAF_EXT_ADDR_SIZES 0x80000008u

/* Leaf 1 EBX. */
#define CPUID_1_EBX_BRAND_CLFLUSH_MASK 0x0000ffffu
#define CPUID_1_EBX_LOGICAL_COUNT_SHIFT 16
#define CPUID_1_EBX_APIC_ID_SHIFT 24

/* Leaf 1 ECX. */
#define CPUID_1_ECX_SSE3 (1u << 0)
#define CPUID_1_ECX_PCLMULQDQ (1u << 1)
#define CPUID_1_ECX_MONITOR (1u << 3)
#define CPUID_1_ECX_VMX (1u << 5)
#define CPUID_1_ECX_SSSE3 (1u << 9)
#define CPUID_1_ECX_CX16 (1u << 13)
#define CPUID_1_ECX_PDCM (1u << 15)
#define CPUID_1_ECX_PCID (1u << 17)
#define CPUID_1_ECX_SSE41 (1u << 19)
#define CPUID_1_ECX_SSE42 (1u << 20)
#define CPUID_1_ECX_X2APIC (1u << 21)
#define CPUID_1_ECX_MOVBE (1u << 22)
#define CPUID_1_ECX_POPCNT (1u << 23)
#define CPUID_1_ECX_AES (1u << 25)
#define CPUID_1_ECX_XSAVE (1u << 26)
#define CPUID_1_ECX_OSXSAVE (1u << 27)
#define CPUID_1_ECX_AVX (1u << 28)
#define CPUID_1_ECX_RDRAND (1u << 30)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)

/* Leaf 1 EDX. */
#define CPUID_1_EDX_FPU (1u << 0)
#define CPUID_1_EDX_VME (1u << 1)
#define CPUID_1_EDX_DE (1u << 2)
#define CPUID_1_EDX_PSE (1u << 3)
#define CPUID_1_EDX_TSC (1u << 4)
#define CPUID_1_EDX_MSR (1u << 5)
#define CPUID_1_EDX_PAE (1u << 6)
#define CPUID_1_EDX_MCE (1u << 7)
#define CPUID_1_EDX_CX8 (1u << 8)
#define CPUID_1_EDX_APIC (1u << 9)
#define CPUID_1_EDX_SEP (1u << 11)
#define CPUID_1_EDX_MTRR (1u << 12)
#define CPUID_1_EDX_PGE (1u << 13)
#define CPUID_1_EDX_CMOV (1u << 15)
#define CPUID_1_EDX_PAT (1u << 16)
#define CPUID_1_EDX_PSE36 (1u << 17)
#define CPUID_1_EDX_CLFSH (1u << 19)
#define CPUID_1_EDX_MMX (1u << 23)
#define CPUID_1_EDX_FXSR (1u << 24)
#define CPUID_1_EDX_SSE (1u << 25)
#define CPUID_1_EDX_SSE2 (1u << 26)
#define CPUID_1_EDX_HTT (1u << 28)

/* Leaf 4 EAX. */
#define CPUID_4_EAX_TYPE_MASK 0x1fu
#define CPUID_4_EAX_LEVEL_SHIFT 5
#define CPUID_4_EAX_LEVEL_MASK (7u << CPUID_4_EAX_LEVEL_SHIFT)
#define CPUID_4_EAX_SHARING_SHIFT 14
#define CPUID_4_EAX_SHARING_MASK (0xfffu << CPUID_4_EAX_SHARING_SHIFT)
#define CPUID_4_EAX_CORES_SHIFT 26
#define CPUID_4_EAX_CORES_MASK (0x3fu << CPUID_4_EAX_CORES_SHIFT)

/* Leaf 7 subleaf 0 EBX. */
#define CPUID_7_EBX_FSGSBASE (1u << 0)
#define CPUID_7_EBX_BMI1 (1u << 3)
#define CPUID_7_EBX_HLE (1u << 4)
#define CPUID_7_EBX_AVX2 (1u << 5)
#define CPUID_7_EBX_FDP_EXCPTN_ONLY (1u << 6)
#define CPUID_7_EBX_SMEP (1u << 7)
#define CPUID_7_EBX_BMI2 (1u << 8)
#define CPUID_7_EBX_ERMS (1u << 9)
#define CPUID_7_EBX_INVPCID (1u << 10)
#define CPUID_7_EBX_RTM (1u << 11)
#define CPUID_7_EBX_FPU_CSDS_DEPRECATED (1u << 13)
#define CPUID_7_EBX_AVX512F (1u << 16)
#define CPUID_7_EBX_RDSEED (1u << 18)
#define CPUID_7_EBX_ADX (1u << 19)
#define CPUID_7_EBX_SMAP (1u << 20)
#define CPUID_7_EBX_CLFLUSHOPT (1u << 23)
#define CPUID_7_EBX_CLWB (1u << 24)
#define CPUID_7_EBX_SHA (1u << 29)

/* Leaf 7 subleaf 0 ECX and EDX. */
#define CPUID_7_ECX_UMIP (1u << 2)
#define CPUID_7_ECX_PKU (1u << 3)
#define CPUID_7_ECX_WAITPKG (1u << 5)
#define CPUID_7_ECX_GFNI (1u << 8)
#define CPUID_7_ECX_RDPID (1u << 22)
#define CPUID_7_EDX_FSRM (1u << 4)
#define CPUID_7_EDX_MD_CLEAR (1u << 10)

/* Leaf 0xB. */
#define CPUID_B_ECX_LEVEL_MASK 0xffu
#define CPUID_B_ECX_TYPE_SHIFT 8
#define CPUID_B_TYPE_SMT 1u
#define CPUID_B_TYPE_CORE 2u

/* Extended leaves. */
#define CPUID_80000001_ECX_LAHF (1u << 0)
#define CPUID_80000001_ECX_LZCNT (1u << 5)
#define CPUID_80000001_ECX_PREFETCHW (1u << 8)
#define CPUID_80000001_EDX_SYSCALL (1u << 11)
#define CPUID_80000001_EDX_NX (1u << 20)
#define CPUID_80000001_EDX_PAGE1GB (1u << 26)
#define CPUID_80000001_EDX_RDTSCP (1u << 27)
#define CPUID_80000001_EDX_LM (1u << 29)
#define CPUID_80000007_EDX_INVARIANT_TSC (1u << 8)

#endif
