#include "kernel/arch/x86/xstate.h"
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/hw/msr.h"

uint64_t xstate_enable(void)
{
	uint64_t want = XCR0_X87 | XCR0_SSE | XCR0_AVX, supported;
	struct cpuid_regs l1, l7, xs;

	if (cpuid(CPUID_LEAF_VENDOR, 0).eax < CPUID_LEAF_XSAVE)
		return 0;
	l1 = cpuid(CPUID_LEAF_FEATURES, 0);
	l7 = cpuid(CPUID_LEAF_EXT_FEATURES, 0);
	if (!(l1.ecx & CPUID_1_ECX_XSAVE) || !(l1.ecx & CPUID_1_ECX_AVX) || !(l7.ebx & CPUID_7_EBX_AVX2))
		return 0;
	/* VMXON keeps only the CR4 bits IA32_VMX_CR4_FIXED1 allows (kernel/arch/x86/vmx/vmx.c). */
	if ((l1.ecx & CPUID_1_ECX_VMX) && !(rdmsr(MSR_IA32_VMX_CR4_FIXED1) & CR4_OSXSAVE))
		return 0;
	xs = cpuid(CPUID_LEAF_XSAVE, 0);
	supported = (uint64_t)xs.edx << 32 | xs.eax;
	if ((supported & want) != want)
		return 0;
	if ((l7.ebx & CPUID_7_EBX_AVX512F) && (supported & XCR0_AVX512) == XCR0_AVX512)
		want |= XCR0_AVX512;
	write_cr4(read_cr4() | CR4_OSXSAVE);
	xsetbv(XCR_XCR0, want);
	return want;
}

uint64_t xstate_xcr0(void)
{
	return read_cr4() & CR4_OSXSAVE ? xgetbv(XCR_XCR0) : 0;
}
