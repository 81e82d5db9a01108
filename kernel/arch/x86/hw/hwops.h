/*
 * Every privileged instruction the hypervisor executes, in one place.
 * A host unit test that needs them puts a header of the same path earlier
 * on its include path, to replace these with fakes.
 */
#ifndef HV_KERNEL_ARCH_X86_HW_HWOPS_H
#define HV_KERNEL_ARCH_X86_HW_HWOPS_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/arch/x86/hw/cpuid.h"

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* A device register in memory-mapped I/O space: exactly one 32-bit access, in program order. */
static inline uint32_t mmio_read32(const volatile void *reg) { return *(const volatile uint32_t *)reg; }
static inline void mmio_write32(volatile void *reg, uint32_t v) { *(volatile uint32_t *)reg = v; }

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;
	__asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
	return r;
}

/* XCR0 and the other extended control registers (CR4.OSXSAVE must be set). */
static inline uint64_t xgetbv(uint32_t xcr)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(xcr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void xsetbv(uint32_t xcr, uint64_t v)
{
	__asm__ volatile("xsetbv" : : "c"(xcr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* RDRAND (check CPUID_1_ECX_RDRAND first): false when the CPU had no random number ready. */
static inline bool rdrand64(uint64_t *v)
{
	uint8_t ok;
	__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
	return ok != 0;
}

/* Control and debug registers (DR0-DR3 and DR6; DR7 is switched by the VMCS). */
#define HV_DEFINE_MOV_REG(name, reg)                                                    \
	static inline uint64_t read_##name(void)                                        \
	{                                                                               \
		uint64_t v;                                                             \
		__asm__ volatile("mov %%" reg ", %0" : "=r"(v));                        \
		return v;                                                               \
	}                                                                               \
	static inline void write_##name(uint64_t v) { __asm__ volatile("mov %0, %%" reg : : "r"(v) : "memory"); }
HV_DEFINE_MOV_REG(cr0, "cr0")
HV_DEFINE_MOV_REG(cr2, "cr2")
HV_DEFINE_MOV_REG(cr3, "cr3")
HV_DEFINE_MOV_REG(cr4, "cr4")
HV_DEFINE_MOV_REG(dr0, "db0")
HV_DEFINE_MOV_REG(dr1, "db1")
HV_DEFINE_MOV_REG(dr2, "db2")
HV_DEFINE_MOV_REG(dr3, "db3")
HV_DEFINE_MOV_REG(dr6, "db6")
#undef HV_DEFINE_MOV_REG

static inline uint16_t read_cs(void) { uint16_t v; __asm__ volatile("mov %%cs, %0" : "=r"(v)); return v; }
static inline uint16_t read_ds(void) { uint16_t v; __asm__ volatile("mov %%ds, %0" : "=r"(v)); return v; }
static inline uint16_t read_ss(void) { uint16_t v; __asm__ volatile("mov %%ss, %0" : "=r"(v)); return v; }
static inline uint16_t read_tr(void) { uint16_t v; __asm__ volatile("str %0" : "=r"(v)); return v; }

struct __attribute__((packed)) desc_ptr {
	uint16_t limit;
	uint64_t base;
};

static inline struct desc_ptr read_gdtr(void) { struct desc_ptr d; __asm__ volatile("sgdt %0" : "=m"(d)); return d; }
static inline struct desc_ptr read_idtr(void) { struct desc_ptr d; __asm__ volatile("sidt %0" : "=m"(d)); return d; }
static inline void load_gdt(const struct desc_ptr *d) { __asm__ volatile("lgdt %0" : : "m"(*d)); }
static inline void load_idt(const struct desc_ptr *d) { __asm__ volatile("lidt %0" : : "m"(*d)); }
static inline void load_tr(uint16_t sel) { __asm__ volatile("ltr %0" : : "r"(sel)); }

static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
/* Enables interrupts and halts atomically (STI's one-instruction shadow). */
static inline void irq_enable_and_halt(void) { __asm__ volatile("sti; hlt; cli" ::: "memory"); }
/* Lets pending interrupts in for one instruction. */
static inline void irq_window(void) { __asm__ volatile("sti; nop; cli" ::: "memory"); }
static inline __attribute__((noreturn)) void cpu_halt_forever(void) { for (;;) __asm__ volatile("cli; hlt"); }
/*
 * Runs the host's NMI handler for an NMI that caused a VM exit, on the
 * host's own path; the handler returns with IRET, which also ends the NMI
 * blocking such an exit leaves behind.
 */
static inline void host_nmi_raise(void) { __asm__ volatile("int $2" ::: "memory"); }
static inline void cpu_relax(void) { __asm__ volatile("pause"); }

static inline void fxsave(void *area) { __asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory"); }
static inline void fxrstor(const void *area) { __asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory"); }

/* VMX instructions. Each returns 0 on success, -1 on VMfailInvalid, -2 on VMfailValid. */
static inline int vmx_status(uint8_t cf, uint8_t zf) { return cf ? -1 : (zf ? -2 : 0); }

static inline int vmxon(uint64_t pa)
{
	uint8_t cf, zf;
	__asm__ volatile("vmxon %2; setc %0; setz %1" : "=r"(cf), "=r"(zf) : "m"(pa) : "cc", "memory");
	return vmx_status(cf, zf);
}

static inline int vmclear(uint64_t pa)
{
	uint8_t cf, zf;
	__asm__ volatile("vmclear %2; setc %0; setz %1" : "=r"(cf), "=r"(zf) : "m"(pa) : "cc", "memory");
	return vmx_status(cf, zf);
}

static inline int vmptrld(uint64_t pa)
{
	uint8_t cf, zf;
	__asm__ volatile("vmptrld %2; setc %0; setz %1" : "=r"(cf), "=r"(zf) : "m"(pa) : "cc", "memory");
	return vmx_status(cf, zf);
}

static inline int vmread(uint64_t field, uint64_t *value)
{
	uint8_t cf, zf;
	__asm__ volatile("vmread %3, %0; setc %1; setz %2" : "=r"(*value), "=r"(cf), "=r"(zf) : "r"(field) : "cc");
	return vmx_status(cf, zf);
}

static inline int vmwrite(uint64_t field, uint64_t value)
{
	uint8_t cf, zf;
	__asm__ volatile("vmwrite %2, %3; setc %0; setz %1" : "=r"(cf), "=r"(zf) : "r"(value), "r"(field) : "cc");
	return vmx_status(cf, zf);
}

struct __attribute__((packed)) invept_desc {
	uint64_t eptp;
	uint64_t reserved;
};

#define INVEPT_SINGLE_CONTEXT 1
#define INVEPT_ALL_CONTEXT 2

static inline int invept(uint64_t type, uint64_t eptp)
{
	struct invept_desc d = { eptp, 0 };
	uint8_t cf, zf;
	__asm__ volatile("invept %2, %3; setc %0; setz %1" : "=r"(cf), "=r"(zf) : "m"(d), "r"(type) : "cc", "memory");
	return vmx_status(cf, zf);
}

#endif
