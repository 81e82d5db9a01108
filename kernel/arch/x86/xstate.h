/*
 * The host's AVX state. The hypervisor's C code uses general registers only,
 * but for the migration stream's per-page work: the record MAC's Poly1305
 * (migration/mac_poly_openssl_asm.c) runs OpenSSL's AVX2 and AVX-512F
 * assembly, the page hash xxHash's SSE2, AVX2 or AVX-512F code
 * (migration/xxh.h), and the memory port's page copy and zero check
 * AVX-512F code (pagevec.h); the wider ones need CR4.OSXSAVE and the YMM
 * (and ZMM) components in XCR0. Enabled once at boot, before any VMCS takes the host's
 * CR4, and kept while guests run.
 *
 * Why a guest cannot lose state to it: the host touches vector registers
 * only between a VM exit and the next entry, after the guest's x87/SSE
 * state was FXSAVEd into its vCPU (kernel/arch/x86/vmx/run.c), with
 * interrupts off and no task switch inside one of those calls. FXSAVE leaves out
 * the upper halves of YMM, ZMM and the opmask registers, which a guest
 * cannot use: CPUID offers it neither XSAVE nor AVX, and CR4.OSXSAVE is the
 * host's bit in every VMCS (a guest's MOV that sets it raises #GP, as on a
 * CPU without XSAVE), so its AVX instructions and XGETBV raise #UD and the
 * host's XCR0, loaded while it runs, is invisible to it.
 */
#ifndef HV_KERNEL_ARCH_X86_XSTATE_H
#define HV_KERNEL_ARCH_X86_XSTATE_H

#include <stdint.h>

/*
 * Sets CR4.OSXSAVE and XCR0 to x87, SSE and AVX, plus the AVX-512 components
 * where the CPU has AVX-512F, if CPUID reports XSAVE, AVX and AVX2 and those
 * components; returns XCR0, or 0 when it left CR4 alone.
 */
uint64_t xstate_enable(void);

/* XCR0 as it is now; 0 while CR4.OSXSAVE is clear (XGETBV would fault). */
uint64_t xstate_xcr0(void);

#endif
