/* Log-dirty mode (kernel/vmm/dirty.h): the bitmap, and its two VT-x backends. */
#include "kernel/vmm/dirty.h"

#include "kernel/lib/err.h"
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/lib/log.h"
#include "kernel/arch/x86/frames.h"
#include "kernel/arch/x86/time.h"
#include "kernel/vmm/vm.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/arch/x86/vmx/vmx.h"

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

/* Switches PML on or off in every vCPU's VMCS, with the EPT pointer that goes with it. */
static int dirty_pml_enable(struct vm *vm, bool on)
{
	unsigned i;

	for (i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *v = &vm->vcpus[i];
		uint32_t proc2;

		if (vmcs_load(v))
			return HV_EIO;
		proc2 = vmcs_read32(SECONDARY_VM_EXEC_CONTROL);
		proc2 = on ? proc2 | SECONDARY_EXEC_ENABLE_PML : proc2 & ~SECONDARY_EXEC_ENABLE_PML;
		if (on) {
			vmcs_write64(PML_ADDRESS, v->dirty.pml_pa);
			vmcs_write16(GUEST_PML_INDEX, PML_INDEX_START);
		}
		vmcs_write32(SECONDARY_VM_EXEC_CONTROL, proc2);
		vmcs_write64(EPT_POINTER, vm->eptp);
	}
	return HV_OK;
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
	uint64_t now = time_now(), bucket = time_us_to_ticks(DIRTY_RATE_BUCKET_US);
	enum dirty_backend backend;
	unsigned i;
	int rc, split;

	if (d->logging)
		return HV_EBUSY;
	rc = dirty_backend_resolve(want, &backend);
	if (!rc)
		rc = dirty_alloc(vm, backend == DIRTY_BACKEND_PML);
	if (rc)
		return rc;
	split = ept_split_range(&vm->ept, 0, vm->ram_size);
	if (split < 0)
		return split;
	d->large_split += (uint64_t)split;
	dirty_bitmap_clear_all(&d->log);
	rate_init(&d->rate, bucket, now);
	for (i = 0; i < vm->vcpu_count; i++)
		rate_init(&vm->vcpus[i].dirty.rate, bucket, now);

	if (backend == DIRTY_BACKEND_WP) {
		rc = ept_update_range(&vm->ept, 0, vm->ram_size, EPT_WRITE, 0);
	} else {
		/* Every page starts clean: the CPU logs a page when it sets its dirty flag. */
		rc = ept_update_range(&vm->ept, 0, vm->ram_size, EPT_DIRTY | EPT_ACCESSED, 0);
		vm->eptp = ept_pointer(&vm->ept, true);
		if (!rc)
			rc = dirty_pml_enable(vm, true);
	}
	if (!rc)
		rc = dirty_invept(vm);
	if (rc)
		return HV_TRACE(rc);
	d->backend = backend;
	d->logging = true;
	log_info("dirty", "vm%u: log-dirty on, backend %s, %d large pages split", vm->id, dirty_backend_name(backend),
		 split);
	return HV_OK;
}

void dirty_log_stop(struct vm *vm)
{
	struct vm_dirty *d = &vm->dirty;

	if (!d->logging)
		return;
	if (d->backend == DIRTY_BACKEND_WP) {
		ept_update_range(&vm->ept, 0, vm->ram_size, 0, EPT_WRITE);
	} else {
		vm->eptp = ept_pointer(&vm->ept, false);
		dirty_pml_enable(vm, false);
	}
	dirty_invept(vm);
	d->logging = false;
	log_info("dirty", "vm%u: log-dirty off after %llu harvests", vm->id, (unsigned long long)d->harvests);
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

	if (!d->logging)
		return HV_EINVAL;
	if (d->backend == DIRTY_BACKEND_PML) {
		for (i = 0; i < vm->vcpu_count; i++) {
			if (vmcs_load(&vm->vcpus[i]))
				return HV_EIO;
			dirty_pml_drain(&vm->vcpus[i]);
		}
	}
	/* Re-arm first, then hand the pages over: the caller copies only re-armed pages. */
	rc = dirty_rearm(vm);
	if (rc)
		return HV_TRACE(rc);
	taken = dirty_bitmap_take(&d->log, out);
	d->harvests++;
	d->pages_harvested += taken;
	return (int64_t)taken;
}

uint64_t dirty_rate_vm(struct vm *vm) { return rate_per_second(&vm->dirty.rate, time_now(), time_tsc_hz()); }

uint64_t dirty_rate_vcpu(struct vcpu *v) { return rate_per_second(&v->dirty.rate, time_now(), time_tsc_hz()); }
