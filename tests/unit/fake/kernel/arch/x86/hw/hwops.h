/*
 * Host-test fake of kernel/arch/x86/hw/hwops.h. Put tests/unit/fake first on
 * the include path and the real code's `#include "kernel/arch/x86/hw/hwops.h"`
 * lands here: debug and control registers, XCR0, MSRs and the TSC are variables,
 * CPUID answers through a function the test sets, and every other
 * instruction records what it was asked to do; tests reach all of it
 * through `fake_hw` (tests/unit/fake/fake_hw.c). The VMX instructions act on
 * one VMCS per address with fault injection (tests/unit/fake/fake_vmcs.h).
 */
#ifndef HV_KERNEL_ARCH_X86_HW_HWOPS_H
#define HV_KERNEL_ARCH_X86_HW_HWOPS_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/arch/x86/hw/cpuid.h"

#define FAKE_MSRS 32

struct fake_msr {
	uint32_t index;
	uint64_t value;
};

struct fake_hw {
	uint64_t dr[8];          /* DR0-DR7 */
	unsigned dr_writes;
	uint64_t cr[5];
	uint64_t xcr0;
	struct fake_msr msrs[FAKE_MSRS];
	struct cpuid_regs (*cpuid)(uint32_t leaf, uint32_t subleaf);
	unsigned cpuid_calls;
	unsigned nmis_raised;
	uint64_t tsc;
};

extern struct fake_hw fake_hw;

/* Zeroes everything: no VMCS, no MSRs, CPUID all zero. */
void fake_hw_reset(void);
void fake_msr_set(uint32_t index, uint64_t value);
/* fake_hw_reset, then the VMX capability MSRs of a CPU like Bochs': TRUE controls that force nothing on. */
void fake_hw_vmx_cpu(void);

static inline void outb(uint16_t port, uint8_t v) { (void)port, (void)v; }
static inline void outw(uint16_t port, uint16_t v) { (void)port, (void)v; }
static inline void outl(uint16_t port, uint32_t v) { (void)port, (void)v; }
static inline uint32_t inl(uint16_t port) { (void)port; return ~0u; }
static inline uint8_t inb(uint16_t port) { (void)port; return 0xff; }

static inline uint64_t rdmsr(uint32_t msr)
{
	for (unsigned i = 0; i < FAKE_MSRS; i++)
		if (fake_hw.msrs[i].index == msr)
			return fake_hw.msrs[i].value;
	return 0;
}
static inline void wrmsr(uint32_t msr, uint64_t v) { fake_msr_set(msr, v); }
static inline uint64_t rdtsc(void) { return fake_hw.tsc; }

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
	fake_hw.cpuid_calls++;
	return fake_hw.cpuid ? fake_hw.cpuid(leaf, subleaf) : (struct cpuid_regs){ 0, 0, 0, 0 };
}

static inline uint64_t xgetbv(uint32_t xcr) { return xcr == 0 ? fake_hw.xcr0 : 0; }
static inline void xsetbv(uint32_t xcr, uint64_t v)
{
	if (xcr == 0)
		fake_hw.xcr0 = v;
}

#define FAKE_DEFINE_REG(kind, arr, n, count)                                                     \
	static inline uint64_t read_##kind##n(void) { return fake_hw.arr[n]; }                  \
	static inline void write_##kind##n(uint64_t v) { fake_hw.arr[n] = v; count; }
FAKE_DEFINE_REG(cr, cr, 0, (void)0)
FAKE_DEFINE_REG(cr, cr, 2, (void)0)
FAKE_DEFINE_REG(cr, cr, 3, (void)0)
FAKE_DEFINE_REG(cr, cr, 4, (void)0)
FAKE_DEFINE_REG(dr, dr, 0, fake_hw.dr_writes++)
FAKE_DEFINE_REG(dr, dr, 1, fake_hw.dr_writes++)
FAKE_DEFINE_REG(dr, dr, 2, fake_hw.dr_writes++)
FAKE_DEFINE_REG(dr, dr, 3, fake_hw.dr_writes++)
FAKE_DEFINE_REG(dr, dr, 6, fake_hw.dr_writes++)
#undef FAKE_DEFINE_REG

static inline uint16_t read_cs(void) { return 0x08; }
static inline uint16_t read_ds(void) { return 0x10; }
static inline uint16_t read_ss(void) { return 0x10; }
static inline uint16_t read_tr(void) { return 0x18; }

struct __attribute__((packed)) desc_ptr {
	uint16_t limit;
	uint64_t base;
};

static inline struct desc_ptr read_gdtr(void) { return (struct desc_ptr){ 0, 0 }; }
static inline struct desc_ptr read_idtr(void) { return (struct desc_ptr){ 0, 0 }; }
static inline void load_gdt(const struct desc_ptr *d) { (void)d; }
static inline void load_idt(const struct desc_ptr *d) { (void)d; }
static inline void load_tr(uint16_t sel) { (void)sel; }

static inline void irq_enable(void) {}
static inline void irq_disable(void) {}
static inline void irq_enable_and_halt(void) {}
static inline void irq_window(void) {}
static inline void cpu_relax(void) {}
static inline void host_nmi_raise(void) { fake_hw.nmis_raised++; }
static inline void fxsave(void *area) { (void)area; }
static inline void fxrstor(const void *area) { (void)area; }

static inline int vmxon(uint64_t pa) { (void)pa; return 0; }

#define INVEPT_SINGLE_CONTEXT 1
#define INVEPT_ALL_CONTEXT 2

/* On the fake VMCS (tests/unit/fake/fake_vmcs.c): 0, or -1 VMfailInvalid, -2 VMfailValid as the real ones. */
int vmptrld(uint64_t pa);
int vmclear(uint64_t pa);
int vmread(uint64_t field, uint64_t *value);
int vmwrite(uint64_t field, uint64_t value);
int invept(uint64_t type, uint64_t eptp);

#endif
