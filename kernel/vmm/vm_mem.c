/* Guest RAM as the hypervisor reads and writes it: apart from vm.c, which the exit handlers sit below. */
#include "kernel/vmm/vm.h"

#include <string.h>
#include "kernel/core/frame_pool.h"
#include "kernel/lib/err.h"

void *vm_gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len)
{
	if (gpa >= vm->ram_size || len > vm->ram_size - gpa)
		return NULL;
	return (void *)(uintptr_t)(vm->ram_hpa + gpa);
}

int vm_guest_read(struct vm *vm, uint64_t gpa, void *dst, uint64_t len)
{
	const void *src = vm_gpa_to_hva(vm, gpa, len);

	if (!src)
		return HV_ERANGE;
	memcpy(dst, src, len);
	return HV_OK;
}

/* What the hypervisor wrote for the guest goes into a migration's dirty log like the guest's own writes. */
static void host_wrote(struct vm *vm, uint64_t gpa, uint64_t len)
{
	uint64_t pfn;

	if (!len || !vm->dirty.logging)
		return;
	for (pfn = gpa / FRAME_SIZE; pfn <= (gpa + len - 1) / FRAME_SIZE; pfn++) {
		dirty_mark(vm, NULL, pfn);
		vm->dirty.host_writes++;
	}
}

int vm_guest_write(struct vm *vm, uint64_t gpa, const void *src, uint64_t len)
{
	void *dst = vm_gpa_to_hva(vm, gpa, len);

	if (!dst)
		return HV_ERANGE;
	memcpy(dst, src, len);
	host_wrote(vm, gpa, len);
	return HV_OK;
}

int vm_guest_cmpxchg(struct vm *vm, uint64_t gpa, uint64_t old, uint64_t new, unsigned len)
{
	void *p = vm_gpa_to_hva(vm, gpa, len);
	bool done;

	if ((len != 4 && len != 8) || (gpa & (len - 1)))
		return HV_EINVAL;
	if (!p)
		return HV_ERANGE;
	if (len == 4) {
		uint32_t want = (uint32_t)old;

		done = __atomic_compare_exchange_n((uint32_t *)p, &want, (uint32_t)new, false, __ATOMIC_SEQ_CST,
						   __ATOMIC_SEQ_CST);
	} else {
		done = __atomic_compare_exchange_n((uint64_t *)p, &old, new, false, __ATOMIC_SEQ_CST,
						   __ATOMIC_SEQ_CST);
	}
	if (done)
		host_wrote(vm, gpa, len);
	return done;
}
