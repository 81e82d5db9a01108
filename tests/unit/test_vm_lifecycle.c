/*
 * Host tests of a VM's life on this host: the real VM model (kernel/vmm/),
 * its VT-x part (VMCS, PML) and log-dirty mode, against the fake hardware
 * (tests/unit/fake/) and the real frame pool over a host buffer. A VM that
 * comes and goes, as one does with every migration in or out, must give
 * every frame it took back: RAM, EPT tables (split ones too), VMCSs, the
 * dirty bitmap and the page-modification logs. So must a create that fails
 * part-way.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/arch/x86/frames.h"
#include "kernel/arch/x86/gdt.h"
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/random.h"
#include "kernel/arch/x86/time.h"
#include "kernel/arch/x86/vmx/vmx.h"
#include "kernel/lib/err.h"
#include "kernel/lib/log.h"
#include "kernel/lib/uuid.h"
#include "kernel/task.h"
#include "kernel/vmm/arch.h"
#include "kernel/vmm/dirty.h"
#include "kernel/vmm/vm.h"
#include "tests/unit/fake/fake_vmcs.h"
#include "tests/unit/check_run.h"

#define MiB (1ull << 20)
#define ARENA_SIZE (32 * MiB)
#define RAM_SIZE (8 * MiB)
#define VCPUS 2
#define ROUNDS 40

/* ---- The hypervisor's surroundings: the real frame pool over a host buffer, a clock, a silent log. ---- */

static struct frame_pool pool;
static void *arena;
static unsigned log_errors;

/* Fault injection: the fault_at-th frame allocation fails; 0: none. */
static unsigned fault_at, allocs;

uint64_t frames_alloc_unzeroed(uint64_t size, uint64_t align)
{
	if (++allocs == fault_at)
		return 0;
	return frame_pool_take(&pool, size, align < FRAME_SIZE ? FRAME_SIZE : align);
}

uint64_t frames_alloc(uint64_t size, uint64_t align)
{
	uint64_t pa = frames_alloc_unzeroed(size, align);

	if (pa)
		memset((void *)(uintptr_t)pa, 0, (size + FRAME_SIZE - 1) & ~(FRAME_SIZE - 1));
	return pa;
}

int frames_free(uint64_t pa, uint64_t size) { return frame_pool_give(&pool, pa, size); }
uint64_t frames_free_bytes(void) { return frame_pool_free_bytes(&pool); }

uint64_t time_now(void) { return 1000; }
uint64_t time_tsc_hz(void) { return 1000000000ull; }
uint64_t time_us_to_ticks(uint64_t us) { return us * 1000; }
uint64_t time_ticks_to_us(uint64_t ticks) { return ticks / 1000; }
uint64_t gdt_tss_base(void) { return 0; }

/* RDRAND is not faked: an xorshift stands in for kernel/arch/x86/random.c. */
void random_bytes(void *buf, size_t n)
{
	static uint64_t x = 88172645463325252ull;
	uint8_t *p = buf;

	while (n--) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		*p++ = (uint8_t)x;
	}
}

static char guest_line[256]; /* the last line the guest's console showed */

void hv_log(enum hv_log_level level, const char *subsys, const char *fmt, ...)
{
	va_list ap;

	if (level == LOG_ERROR)
		log_errors++;
	if (strcmp(subsys, "guest"))
		return;
	va_start(ap, fmt);
	vsnprintf(guest_line, sizeof(guest_line), fmt, ap);
	va_end(ap);
}

int hv_trace_error(int err, const char *file, int line, const char *func)
{
	(void)file, (void)line, (void)func;
	return err;
}

/* Neither the vCPUs nor host tasks run here. */
int task_add(struct sched *s, struct host_task *t)
{
	(void)s, (void)t;
	return HV_OK;
}

enum vcpu_run_end vcpu_arch_run(struct vcpu *v, uint64_t deadline)
{
	(void)v, (void)deadline;
	return VCPU_RUN_YIELD;
}

/* ---- A CPU with VT-x, EPT A/D flags and PML, and a scheduler. ---- */

static struct sched sched;
static struct vm vm;
static const struct vm_params params = { .ram_bytes = RAM_SIZE, .vcpus = VCPUS, .throttle_max = 99 };

/* Every feature bit set: VMX among them. */
static struct cpuid_regs cpuid_all(uint32_t leaf, uint32_t subleaf)
{
	(void)leaf, (void)subleaf;
	return (struct cpuid_regs){ ~0u, ~0u, ~0u, ~0u };
}

static void fake_vmx_cpu(void)
{
	fake_hw_vmx_cpu();
	fake_hw.cpuid = cpuid_all;
}

static void setup(void)
{
	char why[100] = "";

	arena = aligned_alloc(EPT_PAGE_2M, ARENA_SIZE);
	ck_assert_ptr_nonnull(arena);
	frame_pool_init(&pool);
	ck_assert_int_eq(frame_pool_add(&pool, (uint64_t)(uintptr_t)arena, (uint64_t)(uintptr_t)arena + ARENA_SIZE),
			 HV_OK);
	fault_at = allocs = log_errors = 0;
	fake_vmx_cpu();
	ck_assert_int_eq(vmx_init(why, sizeof(why)), HV_OK); /* its VMXON page stays: the host's, not a VM's */
	ck_assert(vmx_get_caps()->pml && vmx_get_caps()->ept_ad && vmx_get_caps()->ept_2m);
	sched_init(&sched, time_us_to_ticks(1000));
	memset(&vm, 0, sizeof(vm));
}

static void teardown(void) { free(arena); }

/* What a migration does to the VM it sends: log-dirty mode, harvests, perhaps left on at the end. */
static void migrate_out(enum dirty_backend b, bool stop)
{
	static uint64_t words[RAM_SIZE / FRAME_SIZE / 64];
	struct dirty_bitmap out;
	const uint8_t page[16] = { 1 };

	dirty_bitmap_init(&out, words, RAM_SIZE / FRAME_SIZE);
	ck_assert_int_eq(dirty_log_start(&vm, b), HV_OK);
	ck_assert_uint_gt(vm.ept.tables, 3); /* 2 MiB pages split: more tables than at create */
	ck_assert_int_eq(vm_guest_write(&vm, 5 * FRAME_SIZE, page, sizeof(page)), HV_OK);
	ck_assert_int_ge(dirty_harvest(&vm, &out), 1);
	if (stop)
		ck_assert_int_eq(dirty_log_stop(&vm), HV_OK);
}

/* VMs come and go (sent away, received, discarded): the pool ends where it started every time. */
START_TEST(test_vm_gives_every_frame_back)
{
	const uint64_t start = frames_free_bytes();
	unsigned round;

	for (round = 0; round < ROUNDS; round++) {
		uint64_t vmcs_pa;

		ck_assert_int_eq(vm_create(&vm, 0, &params, NULL, 0, &sched), HV_OK);
		ck_assert_uint_eq(sched.count, VCPUS);
		ck_assert_uint_lt(frames_free_bytes(), start - RAM_SIZE);
		/* Every other VM leaves with log-dirty mode on, as a sender's VM does after its final pass. */
		if (round % 3 != 2)
			migrate_out(round % 2 ? DIRTY_BACKEND_WP : DIRTY_BACKEND_PML, round % 4 == 0);
		vmcs_pa = vm.vcpus[VCPUS - 1].arch.vmcs_pa;
		ck_assert_int_eq(vmcs_load(&vm.vcpus[VCPUS - 1]), HV_OK);
		vm_destroy(&vm);
		ck_assert_uint_eq(frames_free_bytes(), start);
		ck_assert_uint_eq(sched.count, 0);
		/* Its VMCS was cleared before its page went back: no longer current on the CPU. */
		ck_assert_uint_ne(fake_vmx.current_pa, vmcs_pa);
		vm_destroy(&vm); /* twice: nothing more to give */
		ck_assert_uint_eq(frames_free_bytes(), start);
	}
	ck_assert_uint_eq(log_errors, 0);
}
END_TEST

/* A create that fails at any of its allocations leaves the pool as it found it. */
START_TEST(test_failed_create_gives_back_what_it_took)
{
	const uint64_t start = frames_free_bytes();
	unsigned n;
	int rc;

	for (n = 1;; n++) {
		allocs = 0;
		fault_at = n;
		rc = vm_create(&vm, 0, &params, NULL, 0, &sched);
		if (rc == HV_OK)
			break;
		ck_assert_int_eq(rc, HV_ENOMEM);
		ck_assert_uint_eq(frames_free_bytes(), start);
		ck_assert_uint_eq(sched.count, 0);
	}
	/* RAM, three EPT tables and a VMCS per vCPU: each was a point of failure. */
	ck_assert_uint_eq(n, 1 + 3 + VCPUS + 1);
	fault_at = 0;
	vm_destroy(&vm);
	ck_assert_uint_eq(frames_free_bytes(), start);
}
END_TEST

/* The dirty log's PML pages fail part-way too: the next destroy still gets them all. */
START_TEST(test_failed_log_start_then_destroy)
{
	const uint64_t start = frames_free_bytes();

	ck_assert_int_eq(vm_create(&vm, 0, &params, NULL, 0, &sched), HV_OK);
	allocs = 0;
	fault_at = 3; /* bitmap, the first vCPU's PML page, then the second's fails */
	ck_assert_int_eq(dirty_log_start(&vm, DIRTY_BACKEND_PML), HV_ENOMEM);
	fault_at = 0;
	vm_destroy(&vm);
	ck_assert_uint_eq(frames_free_bytes(), start);
}
END_TEST

/* The VM's identity: the one it was given (a migration brings it), else a fresh random version-4 UUID. */
START_TEST(test_vm_uuid)
{
	struct vm_params p = params;
	uint8_t first[UUID_LEN];

	ck_assert_int_eq(vm_create(&vm, 0, &p, NULL, 0, &sched), HV_OK);
	ck_assert(!uuid_is_nil(vm.uuid));
	ck_assert_uint_eq(vm.uuid[6] >> 4, 4);
	ck_assert_uint_eq(vm.uuid[8] & 0xc0, 0x80);
	memcpy(first, vm.uuid, sizeof(first));
	vm_destroy(&vm);
	ck_assert_int_eq(vm_create(&vm, 0, &p, NULL, 0, &sched), HV_OK);
	ck_assert_mem_ne(vm.uuid, first, UUID_LEN);
	vm_destroy(&vm);
	memcpy(p.uuid, first, sizeof(first));
	ck_assert_int_eq(vm_create(&vm, 0, &p, NULL, 0, &sched), HV_OK);
	ck_assert_mem_eq(vm.uuid, first, UUID_LEN);
	vm_destroy(&vm);
}
END_TEST

/*
 * A VM whose creator writes every page (a migration's receiver) gets its RAM as the pool has it, not
 * zeroed: a large VM's zeroing would hold the CPU for seconds. Every other VM starts from zeros.
 */
static uint64_t ram_nonzero_bytes(void)
{
	const uint8_t *ram = (const uint8_t *)(uintptr_t)vm.ram_hpa;
	uint64_t i, n = 0;

	for (i = 0; i < RAM_SIZE; i++)
		n += ram[i] != 0;
	return n;
}

START_TEST(test_ram_zeroed_unless_asked_not_to)
{
	struct vm_params p = params;

	ck_assert_int_eq(vm_create(&vm, 0, &p, NULL, 0, &sched), HV_OK);
	memset((void *)(uintptr_t)vm.ram_hpa, 0xa5, RAM_SIZE);
	vm_destroy(&vm);
	p.ram_unzeroed = true;
	ck_assert_int_eq(vm_create(&vm, 0, &p, NULL, 0, &sched), HV_OK);
	ck_assert_uint_gt(ram_nonzero_bytes(), 0); /* the same frames, as the last VM left them */
	vm_destroy(&vm);
	p.ram_unzeroed = false;
	ck_assert_int_eq(vm_create(&vm, 0, &p, NULL, 0, &sched), HV_OK);
	ck_assert_uint_eq(ram_nonzero_bytes(), 0);
	vm_destroy(&vm);
}
END_TEST

/* A VM sent away or discarded: what its guest wrote without a newline yet reaches the console first. */
START_TEST(test_destroy_shows_an_unfinished_line)
{
	const char *prompt = "login: ";
	uint8_t c;

	ck_assert_int_eq(vm_create(&vm, 0, &params, NULL, 0, &sched), HV_OK);
	for (; *prompt; prompt++) {
		c = (uint8_t)*prompt;
		vuart_access(&vm.console, 1, 1, vm.console.base, false, &c);
	}
	guest_line[0] = 0;
	vm_destroy(&vm);
	ck_assert_str_eq(guest_line, "[vm0/vcpu1] login: ");
	guest_line[0] = 0;
	vm_destroy(&vm); /* nothing twice */
	ck_assert_str_eq(guest_line, "");
}
END_TEST

static Suite *vm_lifecycle_suite(void)
{
	Suite *s = suite_create("vm_lifecycle");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_vm_gives_every_frame_back);
	tcase_add_test(tc, test_failed_create_gives_back_what_it_took);
	tcase_add_test(tc, test_failed_log_start_then_destroy);
	tcase_add_test(tc, test_vm_uuid);
	tcase_add_test(tc, test_ram_zeroed_unless_asked_not_to);
	tcase_add_test(tc, test_destroy_shows_an_unfinished_line);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(vm_lifecycle_suite());
}
