/*
 * The test guest (docs/test-guest.md): checks the boot parameters, prints
 * the start line and runs the mode the hypervisor asked for.
 */
#include "tests/guest/arch.h"
#include "tests/guest/compute.h"
#include "tests/guest/console.h"
#include "tests/guest/events.h"
#include "tests/guest/layout.h"
#include "tests/guest/lib.h"
#include "tests/guest/strio.h"
#include "tests/guest/workload.h"

_Static_assert(GUEST_MAX_VCPUS == HV_MAX_VCPUS, "one stack per possible vCPU");

#define RAM_MAX 0xF0000000ull      /* what a 32-bit guest without paging can address */
#define SPECIAL_AFTER_WRITES 100   /* oob/triple: vCPU 0 works this much first */
#define CPUID_ITERATIONS 20000u
#define PLAIN_INSNS_PER_ITER 10u   /* instructions in one plain_loop iteration */

void guest_main(const struct hv_boot_params *boot, uint32_t vcpu) __attribute__((noreturn));

static const char *mode_name(uint32_t mode)
{
	static const char *const names[] = {
		[HV_MODE_WORK] = "work", [HV_MODE_OOB] = "oob", [HV_MODE_TRIPLE] = "triple",
		[HV_MODE_CPUID] = "cpuid", [HV_MODE_IDLE] = "idle", [HV_MODE_COMPUTE] = "compute",
		[HV_MODE_MIXED] = "mixed", [HV_MODE_EVENTS] = "events", [HV_MODE_STRIO] = "strio",
	};
	return mode < sizeof(names) / sizeof(names[0]) ? names[mode] : NULL;
}

static const char *pattern_name(uint32_t pattern)
{
	static const char *const names[] = {
		[HV_PATTERN_SEQ] = "seq", [HV_PATTERN_RANDOM] = "random", [HV_PATTERN_HOT] = "hot",
	};
	return pattern < sizeof(names) / sizeof(names[0]) ? names[pattern] : NULL;
}

/* NULL if the boot parameters are usable, else what is wrong with them. */
static const char *check_params(const struct hv_boot_params *bp, uint32_t vcpu)
{
	if (bp->magic != HV_BOOT_MAGIC)
		return "bad magic";
	if (bp->version != HV_BOOT_VERSION)
		return "unknown version";
	if (bp->vcpus == 0 || bp->vcpus > HV_MAX_VCPUS || vcpu >= bp->vcpus)
		return "bad vcpu count or index";
	if (bp->tsc_hz < 1000)
		return "tsc_hz too low";
	if (bp->ram_size > RAM_MAX)
		return "ram_size above 0xF0000000";
	if (!mode_name(bp->guest.mode))
		return "unknown mode";
	if (!pattern_name(bp->guest.pattern))
		return "unknown pattern";
	return NULL;
}

static void touch_outside_ram(uint64_t ram_size)
{
	uint32_t gpa = (uint32_t)((ram_size + 0xfff) & ~0xfffull) + 0x1000;

	con_printf("guest: touching outside RAM at 0x%x\n", gpa);
	*(volatile uint32_t *)(uintptr_t)gpa = 0x0badf00d;
	con_printf("guest: write outside RAM at 0x%x did not stop the VM\n", gpa);
}

static __attribute__((noreturn)) void triple_fault(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint32_t base;
	} idt = { 0, 0 };

	con_printf("guest: triple fault now\n");
	/* #UD -> no IDT entry -> #GP -> #DF -> triple fault */
	__asm__ volatile("lidt %0\n1: ud2\njmp 1b" : : "m"(idt));
	__builtin_unreachable();
}

/* n iterations of PLAIN_INSNS_PER_ITER register-only instructions (n >= 1). */
static void plain_loop(uint32_t n)
{
	uint32_t a = 1, b = 2, c = 3;

	__asm__ volatile("1:\n\t"
			 "add %1, %0\n\t"
			 "xor %2, %1\n\t"
			 "add %0, %2\n\t"
			 "rol $3, %1\n\t"
			 "sub %2, %0\n\t"
			 "or %0, %1\n\t"
			 "inc %2\n\t"
			 "and %1, %0\n\t"
			 "dec %3\n\t"
			 "jnz 1b"
			 : "+r"(a), "+r"(b), "+r"(c), "+r"(n)
			 :
			 : "cc");
}

static void cpuid_bench(uint64_t tsc_hz)
{
	const uint32_t n = CPUID_ITERATIONS;
	const uint64_t insns = (uint64_t)n * PLAIN_INSNS_PER_ITER;
	uint32_t r[4];
	uint64_t t0, cpuid_ticks, plain_ticks;

	t0 = rdtsc();
	for (uint32_t i = 0; i < n; i++)
		cpuid(0, r);
	cpuid_ticks = rdtsc() - t0;

	t0 = rdtsc();
	plain_loop(n);
	plain_ticks = rdtsc() - t0;

	con_printf("cpuid-bench iterations=%u cpuid_ticks=%llu plain_insns=%llu plain_ticks=%llu "
		   "cpuid_per_s=%llu insns_per_s=%llu\n",
		   n, cpuid_ticks, insns, plain_ticks, udiv64(n * tsc_hz, cpuid_ticks, NULL),
		   udiv64(insns * tsc_hz, plain_ticks, NULL));
}

void guest_main(const struct hv_boot_params *boot, uint32_t vcpu)
{
	struct hv_boot_params bp = *boot;
	const struct hv_guest_params *g = &bp.guest;
	const char *bad = check_params(&bp, vcpu);
	int computes = g->mode == HV_MODE_COMPUTE || (g->mode == HV_MODE_MIXED && vcpu != 0);
	int writes = g->mode == HV_MODE_WORK || g->mode == HV_MODE_OOB ||
		     g->mode == HV_MODE_TRIPLE || (g->mode == HV_MODE_MIXED && vcpu == 0);
	struct work w;

	if (bad) {
		con_printf("guest: bad boot params vcpu=%u: %s\n", vcpu, bad);
		hc_vcpu_stop(1);
	}
	if (writes && work_init(&w, &bp, vcpu) < 0) {
		con_printf("guest: ram=%lluM too small for %u vcpus\n", bp.ram_size >> 20, bp.vcpus);
		hc_vcpu_stop(1);
	}
	con_printf("guest: start vcpu=%u/%u ram=%lluM mode=%s pattern=%s pages=%u rate=%u\n",
		   vcpu, bp.vcpus, bp.ram_size >> 20, mode_name(g->mode),
		   pattern_name(g->pattern), writes ? w.span : 0, g->rate);

	if (computes)
		compute_run(&bp, vcpu);
	if (g->mode == HV_MODE_EVENTS)
		events_run(&bp, vcpu);
	if (!writes) {
		if (g->mode == HV_MODE_CPUID && vcpu == 0)
			cpuid_bench(bp.tsc_hz);
		if (g->mode == HV_MODE_STRIO && vcpu == 0)
			strio_run();
		hc_vcpu_stop(0);
	}
	hc_work_counter(&w.writes);
	if (vcpu == 0 && (g->mode == HV_MODE_OOB || g->mode == HV_MODE_TRIPLE)) {
		work_run(&w, SPECIAL_AFTER_WRITES);
		if (g->mode == HV_MODE_OOB)
			touch_outside_ram(bp.ram_size);
		else
			triple_fault();
	}
	work_run(&w, 0);
	hc_vcpu_stop(0); /* not reached: work_run(.., 0) runs forever */
}
