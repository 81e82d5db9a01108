/*
 * The log of log-dirty mode (kernel/vmm/dirty.h): marking a written page and
 * the dirty rates. Apart from dirty.c, so that the backends, which mark
 * pages, depend on nothing that chooses them.
 */
#include "kernel/vmm/dirty.h"

#include "kernel/arch/x86/time.h"
#include "kernel/core/frame_pool.h"
#include "kernel/vmm/vm.h"

static const char *const backend_names[] = { "auto", "wp", "pml" };

const char *dirty_backend_name(enum dirty_backend b) { return b <= DIRTY_BACKEND_PML ? backend_names[b] : "?"; }

static inline void dirty_mark_one(struct vm *vm, struct vcpu *v, uint64_t pfn)
{
	struct vm_dirty *d = &vm->dirty;
	uint64_t now;

	if (!d->logging || dirty_bitmap_test(&d->log, pfn) || !dirty_bitmap_set(&d->log, pfn))
		return;
	now = time_now();
	rate_add(&d->rate, now, 1);
	if (v)
		rate_add(&v->dirty.rate, now, 1);
}

void dirty_mark(struct vm *vm, struct vcpu *v, uint64_t pfn) { dirty_mark_one(vm, v, pfn); }

/* A whole log in one call: draining stays as cheap as marking in place. */
void dirty_mark_gpas(struct vm *vm, struct vcpu *v, const uint64_t *gpas, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		dirty_mark_one(vm, v, gpas[i] / FRAME_SIZE);
}

uint64_t dirty_rate_vm(struct vm *vm) { return rate_per_second(&vm->dirty.rate, time_now(), time_tsc_hz()); }

uint64_t dirty_rate_vcpu(struct vcpu *v) { return rate_per_second(&v->dirty.rate, time_now(), time_tsc_hz()); }
