/* The guest for the hypervisor's accesses on its behalf: see guest_view.h. */
#include "kernel/arch/x86/vmx/guest_view.h"

#include "kernel/arch/x86/hw/msr.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/vmm/vm.h"

struct gpt_cpu vmx_guest_paging(void)
{
	return (struct gpt_cpu){ vmcs_read64(GUEST_CR0), vmcs_read64(GUEST_CR3), vmcs_read64(GUEST_CR4),
				 vmcs_read64(GUEST_IA32_EFER) };
}

bool vmx_guest_64bit(const struct gpt_cpu *cpu)
{
	return (cpu->efer & EFER_LMA) && (vmcs_read32(GUEST_CS_AR_BYTES) & AR_L);
}

static int ram_read(void *ctx, uint64_t gpa, void *dst, unsigned len)
{
	return vm_guest_read(ctx, gpa, dst, len);
}

static int ram_cmpxchg(void *ctx, uint64_t gpa, uint64_t old, uint64_t new, unsigned len)
{
	return vm_guest_cmpxchg(ctx, gpa, old, new, len);
}

struct gpt_mem vmx_guest_ram(struct vm *vm)
{
	return (struct gpt_mem){ ram_read, ram_cmpxchg, vm };
}
