/*
 * Host tests of log-dirty mode, the real files (kernel/vmm/dirty.c and the
 * VT-x backends of kernel/arch/x86/vmx/dirty_*.c), against a fake VMCS
 * (tests/unit/fake/) and a fake CPU that writes guest pages the way VT-x
 * would: an EPT violation on a write-protected page, or a PML entry when it
 * sets a page's dirty flag. Checks that no write is lost over a harvest or
 * a stop, that a harvest re-arms pages before handing them over, and that a
 * start failing at any point leaves the VM as it was.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/arch/x86/frames.h"
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/time.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/arch/x86/vmx/vmx.h"
#include "kernel/lib/err.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/dirty.h"
#include "kernel/vmm/vm.h"
#include "tests/unit/fake/fake_vmcs.h"
#include "tests/unit/check_run.h"

#define MiB (1ull << 20)
#define RAM_SIZE (8 * MiB)                 /* four 2 MiB pages */
#define RAM_PAGES (RAM_SIZE / FRAME_SIZE)
#define RAM_HPA 0x40000000ull              /* where the EPT points; never dereferenced */
#define VCPUS 2
#define VMCS_PA(i) (0x100000ull * ((i) + 1))
#define PML_LOG_ENTRIES 512
#define PML_INDEX_FULL 0xffff
#define BOOT_PROC2 (SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_UNRESTRICTED_GUEST)

/* ---- The hypervisor's surroundings, faked. ---- */

#define MAX_ALLOCS 64
static void *allocs[MAX_ALLOCS];
static unsigned nallocs;

/* Fault injection: the fault_at-th fallible operation (frames, tables, VMPTRLD, INVEPT) fails; 0: none. */
static unsigned fault_at, fallible_ops;

static bool fault_now(void) { return ++fallible_ops == fault_at; }
static bool fake_fail(const char *op) { return (void)op, fault_now(); }

static uint64_t host_alloc(uint64_t size)
{
	void *p;

	ck_assert_uint_lt(nallocs, MAX_ALLOCS);
	p = aligned_alloc(FRAME_SIZE, (size + FRAME_SIZE - 1) & ~(FRAME_SIZE - 1));
	ck_assert_ptr_nonnull(p);
	memset(p, 0, size);
	allocs[nallocs++] = p;
	return (uint64_t)(uintptr_t)p;
}

uint64_t frames_alloc(uint64_t size, uint64_t align)
{
	ck_assert_uint_eq(align, FRAME_SIZE);
	return fault_now() ? 0 : host_alloc(size);
}

/* Nothing here destroys a VM: what a test took goes at teardown. */
int frames_free(uint64_t pa, uint64_t size) { return (void)pa, (void)size, HV_OK; }

static uint64_t fake_now = 1000;
uint64_t time_now(void) { return fake_now; }
uint64_t time_tsc_hz(void) { return 1000000000ull; }
uint64_t time_us_to_ticks(uint64_t us) { return us * 1000; }

void hv_log(enum hv_log_level level, const char *subsys, const char *fmt, ...)
{
	(void)level, (void)subsys, (void)fmt;
}

int hv_trace_error(int err, const char *file, int line, const char *func)
{
	(void)file, (void)line, (void)func;
	return err;
}

static struct vmx_caps caps;
const struct vmx_caps *vmx_get_caps(void) { return &caps; }

int vmcs_load(struct vcpu *v) { return vmptrld(v->arch.vmcs_pa) ? HV_EIO : HV_OK; }

static uint64_t table_alloc(void *ctx) { return (void)ctx, fault_now() ? 0 : host_alloc(FRAME_SIZE); }
static uint64_t *table_ptr(void *ctx, uint64_t pa) { return (void)ctx, (uint64_t *)(uintptr_t)pa; }
static const struct ept_mem host_mem = { table_alloc, table_ptr, NULL, NULL };

/* ---- A VM of two vCPUs, and a CPU that writes its pages. ---- */

static struct vm vm;
static struct dirty_bitmap out;
static uint64_t out_words[RAM_PAGES / 64];

static void setup(void)
{
	unsigned i;

	fake_vmx_reset();
	fake_vmx.fail = fake_fail;
	fault_at = fallible_ops = 0;
	caps = (struct vmx_caps){ .ept_ad = true, .pml = true, .ept_2m = true };
	memset(&vm, 0, sizeof(vm));
	vm.ram_size = RAM_SIZE;
	vm.ram_hpa = RAM_HPA;
	vm.vcpu_count = VCPUS;
	ck_assert_int_eq(ept_init(&vm.ept, &host_mem), HV_OK);
	ck_assert_int_eq(ept_map(&vm.ept, 0, RAM_HPA, RAM_SIZE, EPT_RWX, true), HV_OK);
	vm.eptp = ept_pointer(&vm.ept, false);
	for (i = 0; i < VCPUS; i++) {
		vm.vcpus[i].vm = &vm;
		vm.vcpus[i].id = i;
		vm.vcpus[i].arch.vmcs_pa = VMCS_PA(i);
		fake_vmcs_set(VMCS_PA(i), SECONDARY_VM_EXEC_CONTROL, BOOT_PROC2);
		fake_vmcs_set(VMCS_PA(i), EPT_POINTER, vm.eptp);
	}
	dirty_bitmap_init(&out, out_words, RAM_PAGES);
}

static void teardown(void)
{
	while (nallocs)
		free(allocs[--nallocs]);
}

static bool pml_on(const struct vcpu *v)
{
	return fake_vmcs_get(v->arch.vmcs_pa, SECONDARY_VM_EXEC_CONTROL) & SECONDARY_EXEC_ENABLE_PML;
}

/* What the CPU does when v writes to guest page pfn. */
static void cpu_write(struct vcpu *v, uint64_t pfn)
{
	uint64_t *leaf = ept_leaf_4k(&vm.ept, pfn * FRAME_SIZE), *log;
	uint16_t index;

	if (!leaf) /* inside a 2 MiB leaf: writable, not logged */
		return;
	if (!(*leaf & EPT_WRITE)) { /* an EPT violation, handled as the exit handler does */
		ck_assert(dirty_wp_fault(v, pfn * FRAME_SIZE));
		ck_assert_uint_ne(*leaf & EPT_WRITE, 0);
		return;
	}
	if (!pml_on(v) || !(fake_vmcs_get(v->arch.vmcs_pa, EPT_POINTER) & EPTP_AD_ENABLE) || (*leaf & EPT_DIRTY))
		return;
	index = (uint16_t)fake_vmcs_get(v->arch.vmcs_pa, GUEST_PML_INDEX);
	if (index >= PML_LOG_ENTRIES) { /* a PML-full exit first */
		ck_assert_int_eq(vmcs_load(v), HV_OK);
		dirty_pml_drain(v);
		index = (uint16_t)fake_vmcs_get(v->arch.vmcs_pa, GUEST_PML_INDEX);
	}
	log = (uint64_t *)(uintptr_t)fake_vmcs_get(v->arch.vmcs_pa, PML_ADDRESS);
	log[index] = pfn * FRAME_SIZE;
	fake_vmcs_set(v->arch.vmcs_pa, GUEST_PML_INDEX, (uint16_t)(index - 1));
	*leaf |= EPT_ACCESSED | EPT_DIRTY;
}

/* ---- Snapshots: every EPT entry reachable from the PML4, the EPT pointer and every VMCS. ---- */

#define DUMP_MAX 8192

struct vm_image {
	uint64_t entries[DUMP_MAX];        /* index, entry, ... in walk order */
	unsigned n;
	uint64_t tables, pages_4k, pages_2m, eptp;
	struct fake_vmcs vmcs[VCPUS];
};

static struct vm_image img_before, img_now;

static void dump_table(struct vm_image *img, uint64_t pa, int level)
{
	const uint64_t *t = table_ptr(NULL, pa);
	unsigned i;

	for (i = 0; i < EPT_ENTRIES; i++) {
		if (!t[i])
			continue;
		ck_assert_uint_le(img->n + 2, DUMP_MAX);
		img->entries[img->n++] = (uint64_t)level << 16 | i;
		img->entries[img->n++] = t[i];
		if (level > 0 && !(t[i] & EPT_LARGE))
			dump_table(img, t[i] & EPT_ADDR_MASK, level - 1);
	}
}

static void snapshot(struct vm_image *img)
{
	unsigned i;

	img->n = 0;
	dump_table(img, vm.ept.pml4_pa, 3);
	img->tables = vm.ept.tables;
	img->pages_4k = vm.ept.pages_4k;
	img->pages_2m = vm.ept.pages_2m;
	img->eptp = vm.eptp;
	for (i = 0; i < VCPUS; i++)
		img->vmcs[i] = fake_vmcs_copy(VMCS_PA(i));
}

/* The EPT and EPT pointer as in was; every VMCS field too if exact, else the controls that act with PML off. */
static void ck_vm_as(const struct vm_image *was, bool exact)
{
	static const uint32_t acting[] = { SECONDARY_VM_EXEC_CONTROL, EPT_POINTER };
	unsigned i, f;

	snapshot(&img_now);
	ck_assert_uint_eq(img_now.n, was->n);
	ck_assert_mem_eq(img_now.entries, was->entries, was->n * sizeof(uint64_t));
	ck_assert_uint_eq(img_now.tables, was->tables);
	ck_assert_uint_eq(img_now.pages_4k, was->pages_4k);
	ck_assert_uint_eq(img_now.pages_2m, was->pages_2m);
	ck_assert_uint_eq(img_now.eptp, was->eptp);
	for (i = 0; i < VCPUS; i++) {
		ck_assert_msg(!exact || fake_vmcs_same(&img_now.vmcs[i], &was->vmcs[i]), "vcpu%u's VMCS changed", i);
		for (f = 0; f < sizeof(acting) / sizeof(acting[0]); f++)
			ck_assert_uint_eq(fake_vmcs_get(VMCS_PA(i), acting[f]), fake_vmcs_get(was->vmcs[i].pa, acting[f]));
	}
}

static const enum dirty_backend backends[] = { DIRTY_BACKEND_WP, DIRTY_BACKEND_PML };

/* ---- Tests. ---- */

/* Writes logged by PML and never drained before the stop reach the harvest after it. */
START_TEST(test_pml_stop_keeps_logged_writes)
{
	unsigned i;

	ck_assert_int_eq(dirty_log_start(&vm, DIRTY_BACKEND_PML), HV_OK);
	cpu_write(&vm.vcpus[0], 3);
	cpu_write(&vm.vcpus[1], 7);
	cpu_write(&vm.vcpus[1], 1000);
	ck_assert_int_eq(dirty_log_stop(&vm), HV_OK);
	for (i = 0; i < VCPUS; i++) {
		ck_assert(!pml_on(&vm.vcpus[i]));
		ck_assert_uint_eq(fake_vmcs_get(VMCS_PA(i), EPT_POINTER), ept_pointer(&vm.ept, false));
	}
	ck_assert_int_eq(dirty_harvest(&vm, &out), 3);
	ck_assert(dirty_bitmap_test(&out, 3) && dirty_bitmap_test(&out, 7) && dirty_bitmap_test(&out, 1000));
	ck_assert_uint_eq(dirty_bitmap_count(&out), 3);
	/* Handed over once; writes after the stop are not logged. */
	cpu_write(&vm.vcpus[0], 9);
	ck_assert_int_eq(dirty_harvest(&vm, &out), 0);
}
END_TEST

/* Pending counts what PML logged and nobody drained yet, and clears nothing: the harvest still gets it all. */
START_TEST(test_pending_counts_undrained_pml)
{
	unsigned b;

	for (b = 0; b < sizeof(backends) / sizeof(backends[0]); b++) {
		dirty_bitmap_clear_all(&out);
		ck_assert_uint_eq(dirty_pending(&vm), 0);
		ck_assert_int_eq(dirty_log_start(&vm, backends[b]), HV_OK);
		cpu_write(&vm.vcpus[0], 3);
		cpu_write(&vm.vcpus[1], 7);
		cpu_write(&vm.vcpus[1], 7);
		ck_assert_uint_eq(dirty_pending(&vm), 2);
		cpu_write(&vm.vcpus[0], 11);
		ck_assert_uint_eq(dirty_pending(&vm), 3);
		ck_assert_int_eq(dirty_harvest(&vm, &out), 3);
		ck_assert_uint_eq(dirty_pending(&vm), 0);
		ck_assert_int_eq(dirty_log_stop(&vm), HV_OK);
		ck_assert_uint_eq(dirty_pending(&vm), 0);
	}
}
END_TEST

/* A migration's last pass: pause, then harvest and stop in either order; every page written turns up. */
START_TEST(test_final_pass_either_order)
{
	enum dirty_backend b = backends[_i / 2];
	bool stop_first = _i % 2;
	static const uint64_t pages[] = { 0, 1, 511, 512, 1500, RAM_PAGES - 1 };
	unsigned i;

	ck_assert_int_eq(dirty_log_start(&vm, b), HV_OK);
	cpu_write(&vm.vcpus[0], 42);
	ck_assert_int_eq(dirty_harvest(&vm, &out), 1);
	dirty_bitmap_clear_all(&out);
	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		cpu_write(&vm.vcpus[i % VCPUS], pages[i]);
	if (stop_first) {
		ck_assert_int_eq(dirty_log_stop(&vm), HV_OK);
		ck_assert_int_eq(dirty_harvest(&vm, &out), 6);
	} else {
		ck_assert_int_eq(dirty_harvest(&vm, &out), 6);
		ck_assert_int_eq(dirty_log_stop(&vm), HV_OK);
		ck_assert_int_eq(dirty_harvest(&vm, &out), 0);
	}
	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		ck_assert_msg(dirty_bitmap_test(&out, pages[i]), "page %llu lost", (unsigned long long)pages[i]);
	ck_assert_uint_eq(dirty_bitmap_count(&out), 6);
}
END_TEST

/* At the harvest's INVEPT: is page 5 re-armed, and not yet handed over? */
static bool rearmed_at_invept, handed_at_invept;
static enum dirty_backend hook_backend;

static bool page_armed(enum dirty_backend b, uint64_t pfn)
{
	uint64_t leaf = *ept_leaf_4k(&vm.ept, pfn * FRAME_SIZE);

	return b == DIRTY_BACKEND_WP ? !(leaf & EPT_WRITE) : !(leaf & EPT_DIRTY);
}

static void at_invept(void *ctx)
{
	(void)ctx;
	rearmed_at_invept = page_armed(hook_backend, 5);
	handed_at_invept = dirty_bitmap_test(&out, 5);
}

/* Clear before copy: the page is re-armed and the TLBs flushed before the caller gets it. */
START_TEST(test_harvest_rearms_before_handing_over)
{
	enum dirty_backend b = backends[_i];

	ck_assert_int_eq(dirty_log_start(&vm, b), HV_OK);
	cpu_write(&vm.vcpus[1], 5);
	ck_assert(!page_armed(b, 5));
	hook_backend = b;
	fake_vmx.on_invept = at_invept;
	ck_assert_int_eq(dirty_harvest(&vm, &out), 1);
	fake_vmx.on_invept = NULL;
	ck_assert(rearmed_at_invept);
	ck_assert(!handed_at_invept);
	ck_assert(dirty_bitmap_test(&out, 5));
	ck_assert(page_armed(b, 5));
	ck_assert_uint_eq(dirty_bitmap_count(&vm.dirty.log), 0);
	/* The copy may race with a new write: that write is in the next harvest. */
	dirty_bitmap_clear_all(&out);
	cpu_write(&vm.vcpus[0], 5);
	ck_assert_int_eq(dirty_harvest(&vm, &out), 1);
	ck_assert(dirty_bitmap_test(&out, 5));
}
END_TEST

/* More writes than a PML log holds: the full log is drained, nothing is lost. */
START_TEST(test_pml_full_log_drained)
{
	uint64_t p;

	ck_assert_int_eq(dirty_log_start(&vm, DIRTY_BACKEND_PML), HV_OK);
	for (p = 0; p < 3 * PML_LOG_ENTRIES / 2; p++)
		cpu_write(&vm.vcpus[0], p);
	ck_assert_int_eq(dirty_log_stop(&vm), HV_OK);
	ck_assert_int_eq(dirty_harvest(&vm, &out), 3 * PML_LOG_ENTRIES / 2);
	ck_assert_uint_eq(vm.dirty.pml_entries, 3 * PML_LOG_ENTRIES / 2);
}
END_TEST

/*
 * Makes the n-th fallible step of dirty_log_start fail, for n = 1, 2, ...
 * until it succeeds; after each failure the VM must be exactly as before.
 * With fresh, each try starts from a new VM, as the steps a start has to
 * take depend on what an earlier one left allocated. Returns how many
 * failure points there were; img_before is the VM before the start that
 * succeeded.
 */
static unsigned start_failing_everywhere(enum dirty_backend b, bool fresh)
{
	unsigned n;
	int rc;

	for (n = 1;; n++) {
		if (fresh) {
			teardown();
			setup();
		}
		snapshot(&img_before);
		fallible_ops = 0;
		fault_at = n;
		rc = dirty_log_start(&vm, b);
		fault_at = 0;
		if (rc == HV_OK)
			break;
		ck_assert_int_lt(rc, 0);
		ck_assert(!vm.dirty.logging);
		ck_vm_as(&img_before, true);
	}
	return n - 1;
}

START_TEST(test_start_failure_leaves_vm_as_before)
{
	enum dirty_backend b = backends[_i];
	bool pml = b == DIRTY_BACKEND_PML;

	/* The bitmap, a PML log per vCPU, a table per 2 MiB page, a VMPTRLD per vCPU, INVEPT. */
	ck_assert_uint_eq(start_failing_everywhere(b, true), 1 + (pml ? VCPUS : 0) + 4 + (pml ? VCPUS : 0) + 1);
	ck_assert_int_eq(dirty_log_stop(&vm), HV_OK);
	ck_vm_as(&img_before, false);
	/* Again, with the bitmap, the logs and the tables already there: only the VMCS and INVEPT can fail. */
	ck_assert_uint_eq(start_failing_everywhere(b, false), (pml ? VCPUS : 0) + 1);
	ck_assert_uint_eq(vm.ept.free_tables, 0);
	ck_assert_int_eq(dirty_log_stop(&vm), HV_OK);
	ck_vm_as(&img_before, false);
}
END_TEST

static bool large_at_last_invept;

static void note_large(void *ctx)
{
	(void)ctx;
	large_at_last_invept = vm.ept.pages_2m == RAM_SIZE / EPT_PAGE_2M;
}

/* Logging splits the 2 MiB pages; stopping merges them back, then flushes: the EPT is as created. */
START_TEST(test_stop_merges_large_pages)
{
	enum dirty_backend b = backends[_i];
	unsigned tables;

	snapshot(&img_before);
	ck_assert_int_eq(dirty_log_start(&vm, b), HV_OK);
	ck_assert_uint_eq(vm.dirty.large_split, 4);
	ck_assert_uint_eq(vm.ept.pages_2m, 0);
	cpu_write(&vm.vcpus[0], 100);
	cpu_write(&vm.vcpus[1], 1600);
	fake_vmx.on_invept = note_large;
	ck_assert_int_eq(dirty_log_stop(&vm), HV_OK);
	fake_vmx.on_invept = NULL;
	ck_assert(large_at_last_invept);
	ck_assert_uint_eq(vm.dirty.large_merged, 4);
	ck_vm_as(&img_before, false);
	/* The next start splits with the tables the merge freed. */
	tables = nallocs;
	ck_assert_int_eq(dirty_log_start(&vm, b), HV_OK);
	ck_assert_uint_eq(nallocs, tables);
	ck_assert_int_eq(dirty_log_stop(&vm), HV_OK);
	ck_vm_as(&img_before, false);
}
END_TEST

static Suite *dirty_suite(void)
{
	Suite *s = suite_create("dirty");
	TCase *tc = tcase_create("dirty");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pml_stop_keeps_logged_writes);
	tcase_add_test(tc, test_pending_counts_undrained_pml);
	tcase_add_loop_test(tc, test_final_pass_either_order, 0, 4);
	tcase_add_loop_test(tc, test_harvest_rearms_before_handing_over, 0, 2);
	tcase_add_test(tc, test_pml_full_log_drained);
	tcase_add_loop_test(tc, test_start_failure_leaves_vm_as_before, 0, 2);
	tcase_add_loop_test(tc, test_stop_merges_large_pages, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(dirty_suite());
}
