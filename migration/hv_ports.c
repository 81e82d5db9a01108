/* Guest memory, dirty log, throttle and clock ports over the hypervisor (migration/hv_ports.h). */
#include "migration/hv_ports.h"

#include <string.h>
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/pagevec.h"
#include "kernel/arch/x86/random.h"
#include "kernel/arch/x86/time.h"
#include "kernel/core/dirty_bitmap.h"
#include "kernel/lib/err.h"
#include "kernel/vmm/dirty.h"
#include "kernel/vmm/throttle.h"
#include "kernel/vmm/vm.h"
#include "migration/prof.h"

/* ---- guest memory ---- */

_Static_assert(PAGEVEC_SIZE == MIGR_PAGE_SIZE, "a page is a page");

static struct vm *vm_of(void *ctx) { return ((struct migr_hv_vm *)ctx)->vm; }

static uint64_t mem_size(void *ctx)
{
	struct vm *vm = vm_of(ctx);

	return vm ? vm->ram_size : 0;
}

static void *page_hva(void *ctx, uint64_t gfn)
{
	struct vm *vm = vm_of(ctx);

	if (!vm || gfn > UINT64_MAX / MIGR_PAGE_SIZE)
		return NULL;
	return vm_gpa_to_hva(vm, gfn * MIGR_PAGE_SIZE, MIGR_PAGE_SIZE);
}

static int mem_read(void *ctx, uint64_t gfn, void *dst)
{
	void *p = page_hva(ctx, gfn);

	if (!p)
		return HV_ERANGE;
	page_copy(dst, p);
	return HV_OK;
}

static int mem_write(void *ctx, uint64_t gfn, const void *src)
{
	void *p = page_hva(ctx, gfn);

	if (!p)
		return HV_ERANGE;
	page_copy(p, src);
	return HV_OK;
}

static int mem_zero(void *ctx, uint64_t gfn)
{
	const void *p = page_hva(ctx, gfn);

	return p && page_is_zero(p);
}

const struct migr_memory_ops migr_hv_memory_ops = { mem_size, mem_read, mem_write, mem_zero, NULL, NULL };

/* ---- dirty log ---- */

static int dl_start(void *ctx) { return dirty_log_start(vm_of(ctx), DIRTY_BACKEND_AUTO); }

static long dl_harvest(void *ctx, uint64_t *bitmap, uint64_t npages)
{
	struct dirty_bitmap out = { .words = bitmap, .pages = npages };
	uint64_t t0 = migr_prof_begin();
	long got = (long)dirty_harvest(vm_of(ctx), &out);

	migr_prof_end(MIGR_PROF_HARVEST, t0, 0);
	return got;
}

static uint64_t dl_pending(void *ctx) { return dirty_pending(vm_of(ctx)); }

static uint32_t dl_rates(void *ctx, uint64_t *out, uint32_t max)
{
	struct vm *vm = vm_of(ctx);
	uint32_t i;

	for (i = 0; i < vm->vcpu_count && i < max; i++)
		out[i] = dirty_rate_vcpu(&vm->vcpus[i]);
	return i;
}

static void dl_stop(void *ctx)
{
	struct vm *vm = vm_of(ctx);

	if (vm && vm->dirty.logging)
		(void)dirty_log_stop(vm);
}

const struct migr_dirty_ops migr_hv_dirty_ops = { dl_start, dl_harvest, dl_pending, dl_rates, dl_stop };

/* ---- throttle ---- */

static int th_percent(void *ctx, uint32_t pct)
{
	struct vm *vm = vm_of(ctx);

	return throttle_set_vm(vm, pct < vm->throttle.max_pct ? pct : vm->throttle.max_pct);
}

static int th_dirty_limit(void *ctx, uint64_t pages_per_s, uint32_t max_pct)
{
	struct migr_hv_vm *h = ctx;
	struct vm *vm = h->vm;

	if (!pages_per_s) {
		throttle_dirty_limit_stop(vm);
		vm->throttle.max_pct = h->throttle_max;
		return HV_OK;
	}
	/* The controller holds each writing vCPU at most to the VM's ceiling: the policy's maximum is that. */
	vm->throttle.max_pct = max_pct < h->throttle_max ? max_pct : h->throttle_max;
	return throttle_dirty_limit_start(vm, pages_per_s);
}

static void th_release(void *ctx)
{
	struct migr_hv_vm *h = ctx;

	if (!h->vm)
		return;
	throttle_dirty_limit_stop(h->vm); /* lifts the limit and releases every vCPU at once */
	h->vm->throttle.max_pct = h->throttle_max;
}

const struct migr_throttle_ops migr_hv_throttle_ops = { th_percent, th_dirty_limit, th_release };

/* ---- clock ---- */

static uint64_t clk_now(void *ctx)
{
	(void)ctx;
	return time_now();
}

struct migr_clock_ops migr_hv_clock_ops = { clk_now, 0 };

void migr_hv_ports_init(void) { migr_hv_clock_ops.hz = time_tsc_hz(); }

uint64_t migr_hv_cpu_features(void)
{
	struct cpuid_regs r = cpuid(1, 0);

	return (uint64_t)r.ecx << 32 | r.edx;
}

void migr_hv_random(uint8_t *buf, size_t n) { random_bytes(buf, n); }
