/*
 * Log-dirty mode (kernel/vmm/dirty.h): the steps of start, stop and harvest
 * in their order, on the EPT and the bitmap; the backend chosen at start
 * (kernel/vmm/dirty_ops.h) does what its hardware needs at each step.
 */
#include "kernel/vmm/dirty.h"

#include "kernel/arch/x86/frames.h"
#include "kernel/arch/x86/time.h"
#include "kernel/lib/err.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/dirty_ops.h"
#include "kernel/vmm/vm.h"

static int dirty_alloc(struct vm *vm)
{
	uint64_t pages = vm->ram_size / FRAME_SIZE;
	uint64_t pa;

	if (vm->dirty.log.words)
		return HV_OK;
	pa = frames_alloc(dirty_bitmap_words(pages) * sizeof(uint64_t), FRAME_SIZE);
	if (!pa)
		return HV_ENOMEM;
	dirty_bitmap_init(&vm->dirty.log, (uint64_t *)(uintptr_t)pa, pages);
	return HV_OK;
}

/* The EPT outside log-dirty mode: guest RAM writable, and as the backend leaves it between starts. */
static int dirty_ept_disarm(struct vm *vm, const struct dirty_ops *ops)
{
	return ept_update_range(&vm->ept, 0, vm->ram_size, ops->disarm_clear, ops->disarm_set);
}

int dirty_log_start(struct vm *vm, enum dirty_backend want)
{
	struct vm_dirty *d = &vm->dirty;
	const struct dirty_ops *ops = NULL;
	uint64_t now, bucket;
	unsigned i;
	bool split_tried = false, armed = false;
	int rc, split = 0;

	if (d->logging)
		return HV_EBUSY;
	rc = dirty_arch_select(want, &ops);
	if (rc)
		goto out;
	/* Bitmap and logs stay allocated for the next start, until the VM goes (dirty_release). */
	rc = dirty_alloc(vm);
	if (!rc && ops->prepare)
		rc = ops->prepare(vm);
	if (rc)
		goto out;
	split_tried = true;
	split = ept_split_range(&vm->ept, 0, vm->ram_size);
	if (split < 0) {
		rc = split;
		goto out;
	}
	armed = true;
	rc = ept_update_range(&vm->ept, 0, vm->ram_size, ops->arm_clear, 0);
	if (!rc)
		rc = ops->flush(vm);
	/* Last, so that nothing after it can fail: a backend's start undoes only itself. */
	if (!rc && ops->start)
		rc = ops->start(vm);
out:
	if (rc) {
		/* Undo in reverse what was done (the backend undid its own start): no vCPU has run since. */
		if (armed)
			dirty_ept_disarm(vm, ops);
		if (split_tried) {
			/* Merging also takes back a split that ran out of memory part-way. */
			ept_merge_range(&vm->ept, 0, vm->ram_size);
			ops->flush(vm);
		}
		return HV_TRACE(rc);
	}
	now = time_now();
	bucket = time_us_to_ticks(DIRTY_RATE_BUCKET_US);
	dirty_bitmap_clear_all(&d->log);
	rate_init(&d->rate, bucket, now);
	for (i = 0; i < vm->vcpu_count; i++)
		rate_init(&vm->vcpus[i].dirty.rate, bucket, now);
	d->large_split += (uint64_t)split;
	d->ops = ops;
	d->backend = ops->backend;
	d->logging = true;
	log_info("dirty", "vm%u: log-dirty on, backend %s, %d large pages split", vm->id,
		 dirty_backend_name(d->backend), split);
	return HV_OK;
}

int dirty_log_stop(struct vm *vm)
{
	struct vm_dirty *d = &vm->dirty;
	const struct dirty_ops *ops = d->ops;
	int rc = HV_OK, r, merged;

	if (!d->logging)
		return HV_OK;
	if (ops->stop)
		rc = ops->stop(vm);
	if ((r = dirty_ept_disarm(vm, ops)) && !rc)
		rc = r;
	merged = ept_merge_range(&vm->ept, 0, vm->ram_size);
	if ((r = ops->flush(vm)) && !rc)
		rc = r;
	d->logging = false;
	d->large_merged += merged > 0 ? (uint64_t)merged : 0;
	log_info("dirty", "vm%u: log-dirty off after %llu harvests, %d large pages merged back", vm->id,
		 (unsigned long long)d->harvests, merged);
	return rc ? HV_TRACE(rc) : HV_OK;
}

void dirty_release(struct vm *vm)
{
	struct vm_dirty *d = &vm->dirty;
	uint64_t pa = (uint64_t)(uintptr_t)d->log.words;

	if (d->logging)
		(void)dirty_log_stop(vm);
	if (pa && frames_free(pa, dirty_bitmap_words(d->log.pages) * sizeof(uint64_t)))
		log_err("dirty", "vm%u: bitmap at %#llx not given back", vm->id, (unsigned long long)pa);
	d->log = (struct dirty_bitmap){ 0 };
}

/* Makes the next write to each logged page visible again. */
static int dirty_rearm(struct vm *vm)
{
	const struct dirty_ops *ops = vm->dirty.ops;
	uint64_t page = 0, len;
	int rc;

	while (dirty_bitmap_next_run(&vm->dirty.log, &page, &len)) {
		rc = ept_update_range(&vm->ept, page * FRAME_SIZE, len * FRAME_SIZE, ops->rearm_clear, 0);
		if (rc)
			return rc;
		page += len;
	}
	return ops->flush(vm);
}

uint64_t dirty_pending(struct vm *vm)
{
	struct vm_dirty *d = &vm->dirty;

	if (!d->logging)
		return 0;
	if (d->ops->collect)
		(void)d->ops->collect(vm); /* a failure shows at the next harvest, which collects again */
	return dirty_bitmap_count(&d->log);
}

int64_t dirty_harvest(struct vm *vm, struct dirty_bitmap *out)
{
	struct vm_dirty *d = &vm->dirty;
	uint64_t taken;
	int rc = HV_OK;

	if (!d->log.words)
		return HV_EINVAL;
	/* After a stop the log holds what was written up to it, already collected; nothing to re-arm. */
	if (d->logging) {
		if (d->ops->collect)
			rc = d->ops->collect(vm);
		/* Re-arm first, then hand the pages over: the caller copies only re-armed pages. */
		if (!rc)
			rc = dirty_rearm(vm);
	}
	if (rc)
		return HV_TRACE(rc);
	taken = dirty_bitmap_take(&d->log, out);
	d->harvests++;
	d->pages_harvested += taken;
	return (int64_t)taken;
}
