/*
 * The log of log-dirty mode (kernel/vmm/dirty.h): marking a written page and
 * the dirty rates. Apart from dirty.c, so that the backends, which mark
 * pages, depend on nothing that chooses them.
 */
#include "kernel/vmm/dirty.h"

#include "kernel/arch/x86/time.h"
#include "kernel/vmm/vm.h"

static const char *const backend_names[] = { "auto", "wp", "pml" };

const char *dirty_backend_name(enum dirty_backend b) { return b <= DIRTY_BACKEND_PML ? backend_names[b] : "?"; }

void dirty_mark(struct vm *vm, struct vcpu *v, uint64_t pfn)
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

uint64_t dirty_rate_vm(struct vm *vm) { return rate_per_second(&vm->dirty.rate, time_now(), time_tsc_hz()); }

uint64_t dirty_rate_vcpu(struct vcpu *v) { return rate_per_second(&v->dirty.rate, time_now(), time_tsc_hz()); }
