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

int vm_guest_write(struct vm *vm, uint64_t gpa, const void *src, uint64_t len)
{
	void *dst = vm_gpa_to_hva(vm, gpa, len);
	uint64_t pfn;

	if (!dst)
		return HV_ERANGE;
	memcpy(dst, src, len);
	if (len && vm->dirty.logging) {
		for (pfn = gpa / FRAME_SIZE; pfn <= (gpa + len - 1) / FRAME_SIZE; pfn++) {
			dirty_mark(vm, NULL, pfn);
			vm->dirty.host_writes++;
		}
	}
	return HV_OK;
}
