/* The pml log-dirty backend: the CPU logs each page whose EPT dirty flag it sets, 512 entries per vCPU. */
#include "kernel/arch/x86/vmx/dirty_vmx.h"

#include "kernel/arch/x86/frames.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/arch/x86/vmx/vmx.h"
#include "kernel/lib/err.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/dirty.h"
#include "kernel/vmm/vm.h"

#define PML_ENTRIES 512
#define PML_INDEX_START (PML_ENTRIES - 1) /* the CPU fills the log downwards */

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

int dirty_pml_prepare(struct vm *vm)
{
	unsigned i;

	for (i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (!v->dirty.pml_pa && !(v->dirty.pml_pa = frames_alloc(FRAME_SIZE, FRAME_SIZE)))
			return HV_ENOMEM;
	}
	return HV_OK;
}

void dirty_pml_release(struct vcpu *v)
{
	if (v->dirty.pml_pa && frames_free(v->dirty.pml_pa, FRAME_SIZE))
		log_err("dirty", "%s: PML page at %#llx not given back", v->name, (unsigned long long)v->dirty.pml_pa);
	v->dirty.pml_pa = 0;
}

int dirty_pml_start(struct vm *vm)
{
	struct dirty_pml_saved saved[HV_MAX_VCPUS];
	uint64_t eptp = vm->eptp;
	unsigned on;
	int rc = HV_OK;

	vm->eptp = ept_pointer(&vm->ept, true);
	for (on = 0; on < vm->vcpu_count; on++) {
		rc = dirty_pml_on(&vm->vcpus[on], &saved[on]);
		if (rc)
			break;
	}
	if (rc) {
		/* In reverse: no vCPU has run since, so nothing was logged. */
		while (on--)
			dirty_pml_restore(&vm->vcpus[on], &saved[on]);
		vm->eptp = eptp;
	}
	return rc;
}

int dirty_pml_stop(struct vm *vm)
{
	unsigned i;
	int rc = HV_OK, r;

	vm->eptp = ept_pointer(&vm->ept, false);
	for (i = 0; i < vm->vcpu_count; i++)
		if ((r = dirty_pml_off(&vm->vcpus[i])) && !rc)
			rc = r;
	return rc;
}

int dirty_pml_collect(struct vm *vm)
{
	unsigned i;

	for (i = 0; i < vm->vcpu_count; i++) {
		if (vmcs_load(&vm->vcpus[i]))
			return HV_EIO;
		dirty_pml_drain(&vm->vcpus[i]);
	}
	return HV_OK;
}

void dirty_pml_drain(struct vcpu *v)
{
	const uint64_t *log = (const uint64_t *)(uintptr_t)v->dirty.pml_pa;
	uint16_t index = vmcs_read16(GUEST_PML_INDEX);
	unsigned i = index >= PML_ENTRIES ? 0 : (unsigned)index + 1u; /* 0xffff: the log is full */

	dirty_mark_gpas(v->vm, v, log + i, PML_ENTRIES - i);
	v->vm->dirty.pml_entries += PML_ENTRIES - i;
	vmcs_write16(GUEST_PML_INDEX, PML_INDEX_START);
}
