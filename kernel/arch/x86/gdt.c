#include "kernel/arch/x86/gdt.h"

#include "kernel/arch/x86/hw/hwops.h"

#define TSS_TYPE_AVAILABLE_64 0x9ull
#define DESC_PRESENT (1ull << 47)

struct __attribute__((packed)) tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};
_Static_assert(sizeof(struct tss64) == 104, "TSS layout");

extern uint64_t gdt64[];

static struct tss64 tss __attribute__((aligned(16)));

uint64_t gdt_tss_base(void) { return (uint64_t)(uintptr_t)&tss; }

void gdt_init(void)
{
	uint64_t base = gdt_tss_base();
	uint64_t limit = sizeof(tss) - 1;

	tss.iomap_base = sizeof(tss); /* no I/O permission bitmap */
	gdt64[GDT_SEL_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (TSS_TYPE_AVAILABLE_64 << 40) |
				 DESC_PRESENT | ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
	gdt64[GDT_SEL_TSS / 8 + 1] = base >> 32;
	load_tr(GDT_SEL_TSS);
}
