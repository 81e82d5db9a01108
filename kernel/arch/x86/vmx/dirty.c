/* Log-dirty mode (kernel/vmm/dirty.h): the bitmap, and its two VT-x backends. */
#include "kernel/vmm/dirty.h"

#include "kernel/arch/x86/frames.h"
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/time.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/arch/x86/vmx/vmx.h"
#include "kernel/lib/err.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/vm.h"

#define PML_ENTRIES 512
#define PML_INDEX_START (PML_ENTRIES - 1) /* the CPU fills the log downwards */

static const char *const backend_names[] = { "auto", "wp", "pml" };

const char *dirty_backend_name(enum dirty_backend b) { return b <= DIRTY_BACKEND_PML ? backend_names[b] : "?"; }

int dirty_backend_resolve(enum dirty_backend want, enum dirty_backend *out)
{
	const struct vmx_caps *caps = vmx_get_caps();
	bool pml = caps->pml && caps->ept_ad;

	if (want == DIRTY_BACKEND_PML && !pml)
		return HV_ENOTSUP;
	*out = want == DIRTY_BACKEND_AUTO ? (pml ? DIRTY_BACKEND_PML : DIRTY_BACKEND_WP) : want;
	return HV_OK;
}

static int dirty_invept(struct vm *vm)
{
	if (invept(INVEPT_SINGLE_CONTEXT, vm->eptp)) {
		log_err("dirty", "vm%u: INVEPT failed", vm->id);
		return HV_EIO;
	}
	return HV_OK;
}

/* The fields that switching PML on changes in a VMCS, as they were before. */
struct dirty_pml_saved {
	uint32_t proc2;
	uint16_t pml_index;
	uint64_t pml_address;
	uint64_t eptp;
};

static int dirty_pml_on(struct vcpu *v, struct dirty_pml_saved *saved)
{
	if (vmcs_load(v))
		return HV_EIO;
	saved->proc2 = vmcs_read32(SECONDARY_VM_EXEC_CONTROL);
	saved->pml_index = vmcs_read16(GUEST_PML_INDEX);
	saved->pml_address = vmcs_read64(PML_ADDRESS);
	saved->eptp = vmcs_read64(EPT_POINTER);
	vmcs_write64(PML_ADDRESS, v->dirty.pml_pa);
	vmcs_write16(GUEST_PML_INDEX, PML_INDEX_START);
	vmcs_write64(EPT_POINTER, v->vm->eptp);
	vmcs_write32(SECONDARY_VM_EXEC_CONTROL, saved->proc2 | SECONDARY_EXEC_ENABLE_PML);
	return HV_OK;
}

/* Undoes dirty_pml_on after a failed start: the VMCS as it was, nothing logged yet to keep. */
static void dirty_pml_restore(struct vcpu *v, const struct dirty_pml_saved *saved)
{
	if (vmcs_load(v)) {
		log_err("dirty", "%s: cannot load the VMCS to switch PML back off", v->name);
		return;
	}
	vmcs_write32(SECONDARY_VM_EXEC_CONTROL, saved->proc2);
	vmcs_write64(EPT_POINTER, saved->eptp);
	vmcs_write64(PML_ADDRESS, saved->pml_address);
	vmcs_write16(GUEST_PML_INDEX, saved->pml_index);
}

/* Stops PML on v, keeping what it logged: the entries go to the bitmap first. */
static int dirty_pml_off(struct vcpu *v)
{
	if (vmcs_load(v)) {
		log_err("dirty", "%s: cannot load the VMCS to drain its PML log", v->name);
		return HV_EIO;
	}
	dirty_pml_drain(v);
	vmcs_write32(SECONDARY_VM_EXEC_CONTROL, vmcs_read32(SECONDARY_VM_EXEC_CONTROL) & ~SECONDARY_EXEC_ENABLE_PML);
	vmcs_write64(EPT_POINTER, v->vm->eptp);
	return HV_OK;
}

/* Arms tracking of every page: write-protected (wp), or clean, so the CPU logs it when it sets the dirty flag (pml). */
static int dirty_ept_arm(struct vm *vm, enum dirty_backend backend)
{
	uint64_t clear = backend == DIRTY_BACKEND_WP ? EPT_WRITE : EPT_DIRTY | EPT_ACCESSED;

	return ept_update_range(&vm->ept, 0, vm->ram_size, clear, 0);
}

/*
 * The EPT outside log-dirty mode: guest RAM writable, accessed/dirty flags
 * clear (the CPU ignores them then), so that split tables merge back and a
 * later start finds the EPT as the VM was created.
 */
static int dirty_ept_disarm(struct vm *vm, enum dirty_backend backend)
{
	if (backend == DIRTY_BACKEND_WP)
		return ept_update_range(&vm->ept, 0, vm->ram_size, 0, EPT_WRITE);
	return ept_update_range(&vm->ept, 0, vm->ram_size, EPT_DIRTY | EPT_ACCESSED, 0);
}

static int dirty_alloc(struct vm *vm, bool pml)
{
	uint64_t pages = vm->ram_size / FRAME_SIZE;
	unsigned i;

	if (!vm->dirty.log.words) {
		uint64_t pa = frames_alloc(dirty_bitmap_words(pages) * sizeof(uint64_t), FRAME_SIZE);

		if (!pa)
			return HV_ENOMEM;
		dirty_bitmap_init(&vm->dirty.log, (uint64_t *)(uintptr_t)pa, pages);
	}
	for (i = 0; pml && i < vm->vcpu_count; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (!v->dirty.pml_pa && !(v->dirty.pml_pa = frames_alloc(FRAME_SIZE, FRAME_SIZE)))
			return HV_ENOMEM;
	}
	return HV_OK;
}

int dirty_log_start(struct vm *vm, enum dirty_backend want)
{
	struct vm_dirty *d = &vm->dirty;
	struct dirty_pml_saved saved[HV_MAX_VCPUS];
	uint64_t now, bucket, eptp = vm->eptp;
	enum dirty_backend backend = DIRTY_BACKEND_WP;
	unsigned i, pml_on = 0;
	bool split_tried = false, armed = false;
	int rc, split = 0;

	if (d->logging)
		return HV_EBUSY;
	rc = dirty_backend_resolve(want, &backend);
	if (rc)
		goto out;
	/* Bitmap and logs stay allocated for the next start: the frame pool takes nothing back. */
	rc = dirty_alloc(vm, backend == DIRTY_BACKEND_PML);
	if (rc)
		goto out;
	split_tried = true;
	split = ept_split_range(&vm->ept, 0, vm->ram_size);
	if (split < 0) {
		rc = split;
		goto out;
	}
	armed = true;
	rc = dirty_ept_arm(vm, backend);
	if (rc)
		goto out;
	if (backend == DIRTY_BACKEND_PML) {
		vm->eptp = ept_pointer(&vm->ept, true);
		for (; pml_on < vm->vcpu_count; pml_on++) {
			rc = dirty_pml_on(&vm->vcpus[pml_on], &saved[pml_on]);
			if (rc)
				goto out;
		}
	}
	rc = dirty_invept(vm);
out:
	if (rc) {
		/* Undo in reverse what was done: no vCPU has run since, so nothing was logged. */
		while (pml_on--)
			dirty_pml_restore(&vm->vcpus[pml_on], &saved[pml_on]);
		vm->eptp = eptp;
		if (armed)
			dirty_ept_disarm(vm, backend);
		if (split_tried) {
			/* Merging also takes back a split that ran out of memory part-way. */
			ept_merge_range(&vm->ept, 0, vm->ram_size);
			dirty_invept(vm);
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
	d->backend = backend;
	d->logging = true;
	log_info("dirty", "vm%u: log-dirty on, backend %s, %d large pages split", vm->id, dirty_backend_name(backend),
		 split);
	return HV_OK;
}

int dirty_log_stop(struct vm *vm)
{
	struct vm_dirty *d = &vm->dirty;
	unsigned i;
	int rc = HV_OK, r, merged;

	if (!d->logging)
		return HV_OK;
	if (d->backend == DIRTY_BACKEND_PML) {
		vm->eptp = ept_pointer(&vm->ept, false);
		for (i = 0; i < vm->vcpu_count; i++)
			if ((r = dirty_pml_off(&vm->vcpus[i])) && !rc)
				rc = r;
	}
	if ((r = dirty_ept_disarm(vm, d->backend)) && !rc)
		rc = r;
	merged = ept_merge_range(&vm->ept, 0, vm->ram_size);
	if ((r = dirty_invept(vm)) && !rc)
		rc = r;
	d->logging = false;
	d->large_merged += merged > 0 ? (uint64_t)merged : 0;
	log_info("dirty", "vm%u: log-dirty off after %llu harvests, %d large pages merged back", vm->id,
		 (unsigned long long)d->harvests, merged);
	return rc ? HV_TRACE(rc) : HV_OK;
}

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

bool dirty_wp_fault(struct vcpu *v, uint64_t gpa)
{
	struct vm *vm = v->vm;
	uint64_t *leaf;

	if (!vm->dirty.logging || vm->dirty.backend != DIRTY_BACKEND_WP || gpa >= vm->ram_size)
		return false;
	leaf = ept_leaf_4k(&vm->ept, gpa);
	if (!leaf)
		return false;
	/* The violation flushed this GPA's cached translations: no INVEPT needed to grant write. */
	*leaf |= EPT_WRITE;
	vm->dirty.wp_faults++;
	dirty_mark(vm, v, gpa / FRAME_SIZE);
	return true;
}

void dirty_pml_drain(struct vcpu *v)
{
	const uint64_t *log = (const uint64_t *)(uintptr_t)v->dirty.pml_pa;
	uint16_t index = vmcs_read16(GUEST_PML_INDEX);
	unsigned i = index >= PML_ENTRIES ? 0 : (unsigned)index + 1u; /* 0xffff: the log is full */

	for (; i < PML_ENTRIES; i++) {
		dirty_mark(v->vm, v, log[i] / FRAME_SIZE);
		v->vm->dirty.pml_entries++;
	}
	vmcs_write16(GUEST_PML_INDEX, PML_INDEX_START);
}

/* Makes the next write to each logged page visible again: write-protect it, or clear its dirty flag. */
static int dirty_rearm(struct vm *vm)
{
	uint64_t clear = vm->dirty.backend == DIRTY_BACKEND_WP ? EPT_WRITE : EPT_DIRTY;
	uint64_t page = 0, len;
	int rc;

	while (dirty_bitmap_next_run(&vm->dirty.log, &page, &len)) {
		rc = ept_update_range(&vm->ept, page * FRAME_SIZE, len * FRAME_SIZE, clear, 0);
		if (rc)
			return rc;
		page += len;
	}
	return dirty_invept(vm);
}

int64_t dirty_harvest(struct vm *vm, struct dirty_bitmap *out)
{
	struct vm_dirty *d = &vm->dirty;
	uint64_t taken;
	unsigned i;
	int rc;

	if (!d->log.words)
		return HV_EINVAL;
	/* After a stop the log holds what was written up to it, already drained; nothing to re-arm. */
	if (d->logging && d->backend == DIRTY_BACKEND_PML) {
		for (i = 0; i < vm->vcpu_count; i++) {
			if (vmcs_load(&vm->vcpus[i]))
				return HV_TRACE(HV_EIO);
			dirty_pml_drain(&vm->vcpus[i]);
		}
	}
	/* Re-arm first, then hand the pages over: the caller copies only re-armed pages. */
	rc = d->logging ? dirty_rearm(vm) : HV_OK;
	if (rc)
		return HV_TRACE(rc);
	taken = dirty_bitmap_take(&d->log, out);
	d->harvests++;
	d->pages_harvested += taken;
	return (int64_t)taken;
}

uint64_t dirty_rate_vm(struct vm *vm) { return rate_per_second(&vm->dirty.rate, time_now(), time_tsc_hz()); }

uint64_t dirty_rate_vcpu(struct vcpu *v) { return rate_per_second(&v->dirty.rate, time_now(), time_tsc_hz()); }
