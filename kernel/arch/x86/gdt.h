/* The host GDT (built in kernel/arch/x86/boot/boot.S) and its TSS. */
#ifndef HV_KERNEL_ARCH_X86_GDT_H
#define HV_KERNEL_ARCH_X86_GDT_H

#include <stdint.h>

#define GDT_SEL_CODE 0x08
#define GDT_SEL_DATA 0x10
#define GDT_SEL_TSS 0x18

/* Installs the TSS descriptor and loads TR: VMX requires a non-null host TR. */
void gdt_init(void);
uint64_t gdt_tss_base(void);

#endif
