/*
 * EPT violations: a write to a page log-dirty mode protects is logged and
 * allowed; anything else is an access the VM may not make, and stops it.
 */
#include "kernel/arch/x86/vmx/exit.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/vmm/dirty.h"
#include "kernel/vmm/vm.h"

static const char *ept_access_kind(uint64_t q)
{
	if (q & EPT_QUAL_WRITE)
		return "write";
	if (q & EPT_QUAL_FETCH)
		return "instruction fetch";
	return "read";
}

enum exit_action exit_ept_violation(struct vcpu *v)
{
	uint64_t gpa = v->arch.exit.guest_phys;
	const char *where;

	if ((v->arch.exit.qualification & EPT_QUAL_WRITE) && dirty_wp_fault(v, gpa))
		return EXIT_RESUME;
	where = gpa < v->vm->ram_size ? "inside guest RAM with no permission" : "outside guest RAM";

	exit_dump_guest(v);
	return exit_stop(v, "%s: EPT violation: %s at guest-physical %#llx, %s (RAM is %#llx bytes), rip %#llx", v->name,
		ept_access_kind(v->arch.exit.qualification), (unsigned long long)gpa, where,
		(unsigned long long)v->vm->ram_size, (unsigned long long)v->arch.exit.rip);
}
