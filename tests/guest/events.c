#include "tests/guest/events.h"

#include "tests/guest/arch.h"
#include "tests/guest/console.h"
#include "tests/guest/layout.h"
#include "tests/guest/lib.h"

#define SEL_CODE 0x08              /* the selectors the hypervisor starts us with */
#define SEL_DATA 0x10
#define IDT_VECTORS 32
#define GATE_INTERRUPT_32 0x8e     /* present, DPL 0, 32-bit interrupt gate (clears IF and TF) */
#define VEC_DB 1
#define VEC_BP 3
#define VEC_UD 6
#define VEC_GP 13
#define CR4_OSXSAVE (1u << 18)
#define EFLAGS_TF 0x100u
#define UD2_LEN 2
/* Instructions events_step() runs with TF set: one #DB each (see the block below). */
#define STEP_TRAPS 8u

struct interrupt_frame {
	uint32_t ip, cs, flags;
};

struct __attribute__((packed)) idt_gate {
	uint16_t offset_low, selector;
	uint8_t zero, type_attr;
	uint16_t offset_high;
};

struct __attribute__((packed)) table_ptr {
	uint16_t limit;
	uint32_t base;
};

/* Flat 4 GiB code and data, accessed bits preset so that loading them writes nothing. */
static const uint64_t gdt[3] __attribute__((aligned(8))) = {
	0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull,
};
static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(8)));

extern char guest_stacks[];
void events_step(void);
extern char events_step_end[];

static volatile uint32_t db_count[GUEST_MAX_VCPUS], bp_count[GUEST_MAX_VCPUS], ud_count[GUEST_MAX_VCPUS];
static volatile uint32_t gp_count[GUEST_MAX_VCPUS];

/* Handlers run on the stack of the vCPU that took the exception: that says which vCPU it is. */
static inline uint32_t this_vcpu(void)
{
	return (uint32_t)(((uintptr_t)__builtin_frame_address(0) - (uintptr_t)guest_stacks) / GUEST_STACK_SIZE);
}

__attribute__((interrupt)) static void on_db(struct interrupt_frame *f)
{
	db_count[this_vcpu()]++;
	if (f->ip == (uint32_t)(uintptr_t)events_step_end)
		f->flags &= ~EFLAGS_TF;
}

__attribute__((interrupt)) static void on_bp(struct interrupt_frame *f)
{
	(void)f;
	bp_count[this_vcpu()]++;
}

__attribute__((interrupt)) static void on_ud(struct interrupt_frame *f)
{
	ud_count[this_vcpu()]++;
	f->ip += UD2_LEN;
}

/*
 * CPUID offers no XSAVE, so setting CR4.OSXSAVE must raise #GP as on a CPU
 * without it (the host's XCR0 stays loaded while a guest runs); the handler
 * resumes after the MOV, at osxsave_set_end.
 */
void osxsave_set(void);
extern char osxsave_set_end[];
__asm__(".text\n"
	".globl osxsave_set\n"
	"osxsave_set:\n\t"
	"mov %cr4, %eax\n\t"
	"orl $0x40000, %eax\n\t"
	"mov %eax, %cr4\n"
	".globl osxsave_set_end\n"
	"osxsave_set_end:\n\t"
	"ret\n");

__attribute__((interrupt)) static void on_gp(struct interrupt_frame *f, uint32_t error_code)
{
	(void)error_code;
	gp_count[this_vcpu()]++;
	f->ip = (uint32_t)(uintptr_t)osxsave_set_end;
}

/*
 * TF is set by POPF, which itself does not trap; each following instruction
 * up to events_step_end traps once, and the #DB handler clears TF at
 * events_step_end: eight traps, four of them after instructions that exit
 * to the hypervisor (CPUID, IN, OUT, VMCALL with EAX = 0, the version).
 */
__asm__(".text\n"
	".globl events_step\n"
	"events_step:\n\t"
	"push %ebx\n\t"
	"pushfl\n\t"
	"orl $0x100, (%esp)\n\t"
	"popfl\n\t"
	"nop\n\t"
	"xor %eax, %eax\n\t"
	"cpuid\n\t"
	"inb $0x80, %al\n\t"
	"outb %al, $0x80\n\t"
	"xor %eax, %eax\n\t"
	"vmcall\n\t"
	"nop\n"
	".globl events_step_end\n"
	"events_step_end:\n\t"
	"pop %ebx\n\t"
	"ret\n");

static void gate(uint8_t vector, void *handler)
{
	uint32_t a = (uint32_t)(uintptr_t)handler;

	idt[vector] = (struct idt_gate){ (uint16_t)a, SEL_CODE, 0, GATE_INTERRUPT_32, (uint16_t)(a >> 16) };
}

static void load_tables(uint32_t vcpu)
{
	struct table_ptr g = { sizeof(gdt) - 1, (uint32_t)(uintptr_t)gdt };
	struct table_ptr i = { sizeof(idt) - 1, (uint32_t)(uintptr_t)idt };

	if (vcpu == 0) {
		gate(VEC_DB, on_db);
		gate(VEC_BP, on_bp);
		gate(VEC_UD, on_ud);
		gate(VEC_GP, on_gp);
	}
	__asm__ volatile("lgdt %0\n\t"
			 "ljmp %1, $1f\n"
			 "1:\n\t"
			 "mov %2, %%ax\n\t"
			 "mov %%ax, %%ds\n\t"
			 "mov %%ax, %%es\n\t"
			 "mov %%ax, %%ss\n\t"
			 "lidt %3"
			 :
			 : "m"(g), "i"(SEL_CODE), "i"(SEL_DATA), "m"(i)
			 : "eax", "memory");
}

/* Counts one kind of exception over a round; a difference is reported as (vector, expected, found). */
static uint32_t check(uint32_t vector, uint32_t before, uint32_t after, uint32_t expected)
{
	if (after - before == expected)
		return 0;
	hc_report_error(vector, expected, after - before);
	return 1;
}

void events_run(const struct hv_boot_params *bp, uint32_t vcpu)
{
	uint64_t ticks_per_ms = udiv64(bp->tsc_hz, 1000, NULL);
	uint32_t report_ms = bp->guest.report_ms ? bp->guest.report_ms : 1000;
	uint64_t next_report = rdtsc() + report_ms * ticks_per_ms;
	uint32_t rounds = 0, errors = 0;

	load_tables(vcpu);
	for (;;) {
		uint32_t db = db_count[vcpu], bpt = bp_count[vcpu], ud = ud_count[vcpu], gp = gp_count[vcpu];
		uint32_t cr4;

		__asm__ volatile("int3" ::: "memory");
		__asm__ volatile("ud2" ::: "memory");
		osxsave_set();
		__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
		events_step();
		errors += check(VEC_BP, bpt, bp_count[vcpu], 1);
		errors += check(VEC_UD, ud, ud_count[vcpu], 1);
		errors += check(VEC_GP, gp, gp_count[vcpu], 1);
		errors += check(VEC_GP, 0, cr4 & CR4_OSXSAVE, 0); /* and the refused bit is not set after all */
		errors += check(VEC_DB, db, db_count[vcpu], STEP_TRAPS);
		rounds++;
		if (rdtsc() < next_report)
			continue;
		con_printf("events vcpu=%u rounds=%u bp=%u ud=%u gp=%u db=%u errors=%u\n", vcpu, rounds, bp_count[vcpu],
			   ud_count[vcpu], gp_count[vcpu], db_count[vcpu], errors);
		next_report += report_ms * ticks_per_ms;
	}
}
