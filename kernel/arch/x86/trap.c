#include "kernel/arch/x86/trap.h"

#include <stddef.h>
#include "drivers/lapic.h"
#include "kernel/arch/x86/gdt.h"
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/hw/msr.h"
#include "kernel/lib/log.h"

#define IDT_ENTRIES 256
#define IDT_GATE_INTERRUPT 0x8e /* present, DPL 0, 64-bit interrupt gate */
#define EXCEPTION_COUNT 32

struct __attribute__((packed)) idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate layout");

extern const uint64_t isr_table[];

static struct idt_gate idt[IDT_ENTRIES] __attribute__((aligned(16)));
static irq_handler_fn irq_handlers[IDT_ENTRIES];

static const char *const exception_names[EXCEPTION_COUNT] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow", "#BR bound range",
	"#UD invalid opcode", "#NM device not available", "#DF double fault", "coprocessor overrun",
	"#TS invalid TSS", "#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved", "#MF x87 error", "#AC alignment check", "#MC machine check",
	"#XM SIMD error", "#VE virtualization", "#CP control protection",
};

static void idt_set(uint8_t vector, uint64_t handler)
{
	idt[vector] = (struct idt_gate){
		.offset_low = (uint16_t)handler,
		.selector = GDT_SEL_CODE,
		.type_attr = IDT_GATE_INTERRUPT,
		.offset_mid = (uint16_t)(handler >> 16),
		.offset_high = (uint32_t)(handler >> 32),
	};
}

void trap_init(void)
{
	struct desc_ptr idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
	unsigned v;

	gdt_init();
	for (v = 0; v < EXCEPTION_COUNT; v++)
		idt_set((uint8_t)v, isr_table[v]);
	idt_set(VEC_PIC_SPURIOUS, isr_table[32]);
	idt_set(VEC_LAPIC_TIMER, isr_table[33]);
	idt_set(VEC_SPURIOUS, isr_table[34]);
	load_idt(&idtr);
}

void irq_register(uint8_t vector, irq_handler_fn fn) { irq_handlers[vector] = fn; }

void irq_dispatch(uint8_t vector)
{
	if (irq_handlers[vector])
		irq_handlers[vector](vector);
	if (vector != VEC_SPURIOUS && vector != VEC_PIC_SPURIOUS)
		lapic_eoi();
}

static void trap_dump(const struct trap_frame *f)
{
	const char *name = f->vector < EXCEPTION_COUNT && exception_names[f->vector] ? exception_names[f->vector]
										     : "exception";

	log_err("trap", "host exception %llu (%s), error code %#llx", (unsigned long long)f->vector, name,
		(unsigned long long)f->error_code);
	log_err("trap", "rip=%#018llx cs=%#llx rflags=%#llx rsp=%#018llx ss=%#llx", (unsigned long long)f->rip,
		(unsigned long long)f->cs, (unsigned long long)f->rflags, (unsigned long long)f->rsp,
		(unsigned long long)f->ss);
	log_err("trap", "rax=%#llx rbx=%#llx rcx=%#llx rdx=%#llx", (unsigned long long)f->rax,
		(unsigned long long)f->rbx, (unsigned long long)f->rcx, (unsigned long long)f->rdx);
	log_err("trap", "rsi=%#llx rdi=%#llx rbp=%#llx r8=%#llx", (unsigned long long)f->rsi,
		(unsigned long long)f->rdi, (unsigned long long)f->rbp, (unsigned long long)f->r8);
	log_err("trap", "r9=%#llx r10=%#llx r11=%#llx r12=%#llx", (unsigned long long)f->r9,
		(unsigned long long)f->r10, (unsigned long long)f->r11, (unsigned long long)f->r12);
	log_err("trap", "r13=%#llx r14=%#llx r15=%#llx cr2=%#llx cr3=%#llx", (unsigned long long)f->r13,
		(unsigned long long)f->r14, (unsigned long long)f->r15, (unsigned long long)read_cr2(),
		(unsigned long long)read_cr3());
}

static uint64_t nmis;

uint64_t trap_nmi_count(void) { return nmis; }

void trap_dispatch(struct trap_frame *f)
{
	if (f->vector >= EXCEPTION_COUNT) {
		irq_dispatch((uint8_t)f->vector);
		return;
	}
	/*
	 * No host code sends NMIs, so one is a platform event (a watchdog, a
	 * chipset error): counted and reported by the status line, never fatal.
	 * Nothing is logged here, as an NMI may interrupt the logger itself.
	 */
	if (f->vector == X86_VEC_NMI) {
		nmis++;
		return;
	}
	/* An exception in host code is a hypervisor bug: say everything, then stop. */
	trap_dump(f);
	hv_panic("unrecoverable host exception");
}
