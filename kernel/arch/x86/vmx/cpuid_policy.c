#include "kernel/arch/x86/vmx/cpuid_policy.h"

#include <stdbool.h>

/* Instruction-set features that need no VMCS control, no MSR and no state beyond what FXSAVE switches. */
#define GUEST_1_ECX                                                                                        \
	(CPUID_1_ECX_SSE3 | CPUID_1_ECX_PCLMULQDQ | CPUID_1_ECX_SSSE3 | CPUID_1_ECX_CX16 | CPUID_1_ECX_PCID | \
	 CPUID_1_ECX_SSE41 | CPUID_1_ECX_SSE42 | CPUID_1_ECX_MOVBE | CPUID_1_ECX_POPCNT | CPUID_1_ECX_AES |   \
	 CPUID_1_ECX_RDRAND)
/* MTRR: its MSRs are emulated (vmsr.h). No APIC, MCE, MCA, PSN, DS, ACPI, TM, PBE: nothing emulates them. */
#define GUEST_1_EDX                                                                                        \
	(CPUID_1_EDX_FPU | CPUID_1_EDX_VME | CPUID_1_EDX_DE | CPUID_1_EDX_PSE | CPUID_1_EDX_TSC |            \
	 CPUID_1_EDX_MSR | CPUID_1_EDX_PAE | CPUID_1_EDX_CX8 | CPUID_1_EDX_SEP | CPUID_1_EDX_MTRR |           \
	 CPUID_1_EDX_PGE |                                                                                  \
	 CPUID_1_EDX_CMOV | CPUID_1_EDX_PAT | CPUID_1_EDX_PSE36 | CPUID_1_EDX_CLFSH | CPUID_1_EDX_MMX |       \
	 CPUID_1_EDX_FXSR | CPUID_1_EDX_SSE | CPUID_1_EDX_SSE2)
/* Not INVPCID ("enable INVPCID" is off), not AVX2 (needs XSAVE), not PT, MPX, SGX or AVX-512. */
#define GUEST_7_EBX                                                                                        \
	(CPUID_7_EBX_FSGSBASE | CPUID_7_EBX_BMI1 | CPUID_7_EBX_HLE | CPUID_7_EBX_FDP_EXCPTN_ONLY |            \
	 CPUID_7_EBX_SMEP | CPUID_7_EBX_BMI2 | CPUID_7_EBX_ERMS | CPUID_7_EBX_RTM |                          \
	 CPUID_7_EBX_FPU_CSDS_DEPRECATED | CPUID_7_EBX_RDSEED | CPUID_7_EBX_ADX | CPUID_7_EBX_SMAP |          \
	 CPUID_7_EBX_CLFLUSHOPT | CPUID_7_EBX_CLWB | CPUID_7_EBX_SHA)
/* Not PKU (PKRU is not switched), WAITPKG or RDPID (their VMCS controls are off). */
#define GUEST_7_ECX (CPUID_7_ECX_UMIP | CPUID_7_ECX_GFNI)
#define GUEST_7_EDX (CPUID_7_EDX_FSRM | CPUID_7_EDX_MD_CLEAR)
#define GUEST_80000001_ECX (CPUID_80000001_ECX_LAHF | CPUID_80000001_ECX_LZCNT | CPUID_80000001_ECX_PREFETCHW)
/* Not RDTSCP: "enable RDTSCP" is off, and IA32_TSC_AUX is not switched. */
#define GUEST_80000001_EDX                                                                                 \
	(CPUID_80000001_EDX_SYSCALL | CPUID_80000001_EDX_NX | CPUID_80000001_EDX_PAGE1GB | CPUID_80000001_EDX_LM)

#define CACHE_LEVEL_SHARED 3 /* caches from this level up are shared by every core of the package */

static const struct cpuid_regs zero;

/* Bits of an APIC ID that number the cores: enough for count vCPUs. */
static unsigned core_id_bits(unsigned count)
{
	unsigned bits = 0;

	while ((1u << bits) < count)
		bits++;
	return bits;
}

static bool host_has(uint32_t leaf, const struct cpuid_vcpu *who)
{
	if (leaf >= CPUID_LEAF_EXT_MAX)
		return who->host_max_ext >= CPUID_LEAF_EXT_MAX && leaf <= who->host_max_ext;
	return leaf <= who->host_max_basic;
}

static struct cpuid_regs leaf_features(struct cpuid_regs h, const struct cpuid_vcpu *who)
{
	unsigned ids = 1u << core_id_bits(who->count);
	struct cpuid_regs r = { .eax = h.eax };

	r.ebx = (h.ebx & CPUID_1_EBX_BRAND_CLFLUSH_MASK) | (ids << CPUID_1_EBX_LOGICAL_COUNT_SHIFT) |
		(who->id << CPUID_1_EBX_APIC_ID_SHIFT);
	r.ecx = (h.ecx & GUEST_1_ECX) | CPUID_1_ECX_HYPERVISOR;
	r.edx = (h.edx & GUEST_1_EDX) | (who->count > 1 ? CPUID_1_EDX_HTT : 0);
	return r;
}

static struct cpuid_regs leaf_cache_params(struct cpuid_regs h, const struct cpuid_vcpu *who)
{
	unsigned ids = 1u << core_id_bits(who->count);
	unsigned level = (h.eax & CPUID_4_EAX_LEVEL_MASK) >> CPUID_4_EAX_LEVEL_SHIFT;
	unsigned sharing = level >= CACHE_LEVEL_SHARED ? ids - 1 : 0;

	if (!(h.eax & CPUID_4_EAX_TYPE_MASK))
		return zero; /* no more caches */
	h.eax &= ~(CPUID_4_EAX_CORES_MASK | CPUID_4_EAX_SHARING_MASK);
	h.eax |= ((ids - 1) << CPUID_4_EAX_CORES_SHIFT) | (sharing << CPUID_4_EAX_SHARING_SHIFT);
	return h;
}

static struct cpuid_regs leaf_ext_features(uint32_t subleaf, struct cpuid_regs h)
{
	if (subleaf != 0)
		return zero;
	/* EAX = 0: subleaf 0 is the only one. */
	return (struct cpuid_regs){ 0, h.ebx & GUEST_7_EBX, h.ecx & GUEST_7_ECX, h.edx & GUEST_7_EDX };
}

/* One thread per core, one core per vCPU, one package: x2APIC ID = vCPU index. */
static struct cpuid_regs leaf_topology(uint32_t subleaf, const struct cpuid_vcpu *who)
{
	struct cpuid_regs r = { .ecx = subleaf & CPUID_B_ECX_LEVEL_MASK, .edx = who->id };

	if (subleaf == 0) {
		r.eax = 0;
		r.ebx = 1;
		r.ecx |= CPUID_B_TYPE_SMT << CPUID_B_ECX_TYPE_SHIFT;
	} else if (subleaf == 1) {
		r.eax = core_id_bits(who->count);
		r.ebx = who->count;
		r.ecx |= CPUID_B_TYPE_CORE << CPUID_B_ECX_TYPE_SHIFT;
	}
	return r;
}

static struct cpuid_regs policy_basic(uint32_t leaf, uint32_t subleaf, struct cpuid_regs h,
				      const struct cpuid_vcpu *who)
{
	switch (leaf) {
	case CPUID_LEAF_VENDOR:
		return (struct cpuid_regs){ CPUID_GUEST_MAX_BASIC, h.ebx, h.ecx, h.edx };
	case CPUID_LEAF_FEATURES:
		return leaf_features(h, who);
	case CPUID_LEAF_CACHE_DESC:
		return h;
	case CPUID_LEAF_CACHE_PARAMS:
		return leaf_cache_params(h, who);
	case CPUID_LEAF_EXT_FEATURES:
		return leaf_ext_features(subleaf, h);
	case CPUID_LEAF_TOPOLOGY:
		return leaf_topology(subleaf, who);
	case CPUID_LEAF_TSC:
		/* The TSC's frequency as a 1:1 ratio to a "crystal" of that frequency: no guest needs to calibrate. */
		return who->tsc_hz && who->tsc_hz <= UINT32_MAX ? (struct cpuid_regs){ 1, 1, (uint32_t)who->tsc_hz, 0 } : zero;
	default:
		/* Serial number, MONITOR/MWAIT, power management, PMU (0xA), XSAVE (0xD), 0xE-0x14: none. */
		return zero;
	}
}

static struct cpuid_regs policy_ext(uint32_t leaf, struct cpuid_regs h, const struct cpuid_vcpu *who)
{
	if (leaf == CPUID_LEAF_EXT_MAX) {
		uint32_t max = who->host_max_ext < CPUID_GUEST_MAX_EXT ? who->host_max_ext : CPUID_GUEST_MAX_EXT;

		return (struct cpuid_regs){ max >= CPUID_LEAF_EXT_MAX ? max : 0, 0, 0, 0 };
	}
	if (leaf == CPUID_LEAF_EXT_FEATURES_1)
		return (struct cpuid_regs){ 0, 0, h.ecx & GUEST_80000001_ECX, h.edx & GUEST_80000001_EDX };
	if ((leaf >= CPUID_LEAF_BRAND_FIRST && leaf <= CPUID_LEAF_BRAND_LAST) || leaf == CPUID_LEAF_EXT_L2_CACHE)
		return h;
	if (leaf == CPUID_LEAF_EXT_POWER)
		return (struct cpuid_regs){ 0, 0, 0, h.edx & CPUID_80000007_EDX_INVARIANT_TSC };
	if (leaf == CPUID_LEAF_EXT_ADDR_SIZES)
		return (struct cpuid_regs){ h.eax, 0, 0, 0 };
	return zero;
}

struct cpuid_regs cpuid_policy(uint32_t leaf, uint32_t subleaf, struct cpuid_regs host, const struct cpuid_vcpu *who)
{
	if (leaf >= CPUID_LEAF_HV_BASE && leaf <= CPUID_LEAF_HV_LAST)
		return leaf == CPUID_LEAF_HV_BASE
			       ? (struct cpuid_regs){ CPUID_HV_MAX, CPUID_HV_SIG_EBX, CPUID_HV_SIG_ECX, CPUID_HV_SIG_EDX }
			       : zero;
	/* A CPU answers a leaf past its maximum with another leaf's data: never pass that on. */
	if (!host_has(leaf, who))
		host = zero;
	if (leaf >= CPUID_LEAF_EXT_MAX)
		return leaf <= CPUID_GUEST_MAX_EXT ? policy_ext(leaf, host, who) : zero;
	return leaf <= CPUID_GUEST_MAX_BASIC ? policy_basic(leaf, subleaf, host, who) : zero;
}
