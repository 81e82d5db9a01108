/* VMCALL: the hypercall ABI of kernel/guest_abi.h, one handler per function. */
#include "kernel/arch/x86/time.h"
#include "kernel/arch/x86/vmx/exit.h"
#include "kernel/arch/x86/vmx/tsc.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/vm.h"

typedef int64_t (*hypercall_fn)(struct vcpu *v);

static int64_t hc_version(struct vcpu *v)
{
	(void)v;
	return HV_BOOT_VERSION;
}

/*
 * The deadline is on the guest's TSC, which runs at an offset from this
 * host's once a migration brought the VM here (or a state was loaded): the
 * wait is how far the guest's clock is from it.
 */
static int64_t hc_sleep_until(struct vcpu *v)
{
	uint64_t deadline = (v->arch.regs.rbx & 0xffffffffull) | (v->arch.regs.rcx << 32);
	uint64_t now = time_now(), guest_now = vmx_guest_tsc(v, now);

	if ((int64_t)(deadline - guest_now) > 0)
		sched_block(&v->se, now + (deadline - guest_now));
	return HV_HC_OK;
}

static int64_t hc_vcpu_stop(struct vcpu *v)
{
	vcpu_finish(v, (int)(int32_t)v->arch.regs.rbx);
	return HV_HC_OK;
}

static int64_t hc_report_error(struct vcpu *v)
{
	v->vm->guest_errors++;
	/* Work mode: a corrupt page and its generations; events mode: an exception vector and its counts. */
	log_err("guest", "%s reports an error: item %llu expected %llu found %llu", v->name,
		(unsigned long long)(uint32_t)v->arch.regs.rbx, (unsigned long long)(uint32_t)v->arch.regs.rcx,
		(unsigned long long)(uint32_t)v->arch.regs.rdx);
	return HV_HC_OK;
}

static int64_t hc_test_will_write(struct vcpu *v)
{
	const struct vm_test_hooks *h = &v->vm->test;

	return h->will_write ? h->will_write(h->will_write_ctx, (uint32_t)v->arch.regs.rbx) : HV_HC_EINVAL;
}

static int64_t hc_work_counter(struct vcpu *v)
{
	uint64_t gpa = (uint32_t)v->arch.regs.rbx;

	/* 4-byte alignment: a 32-bit guest aligns 64-bit struct members to 4. */
	if (gpa % sizeof(uint32_t) || !vm_gpa_to_hva(v->vm, gpa, sizeof(uint64_t)))
		return HV_HC_EINVAL;
	if (v->vm->test.work_counter)
		v->vm->test.work_counter(v->vm->test.work_counter_ctx, v->id, gpa);
	return HV_HC_OK;
}

static const hypercall_fn hypercalls[HV_HC_COUNT] = {
	[HV_HC_VERSION] = hc_version,
	[HV_HC_SLEEP_UNTIL] = hc_sleep_until,
	[HV_HC_VCPU_STOP] = hc_vcpu_stop,
	[HV_HC_REPORT_ERROR] = hc_report_error,
	[HV_HC_TEST_WILL_WRITE] = hc_test_will_write,
	[HV_HC_WORK_COUNTER] = hc_work_counter,
};

enum exit_action exit_vmcall(struct vcpu *v)
{
	uint32_t fn = (uint32_t)v->arch.regs.rax;
	int64_t rc;

	if (fn >= HV_HC_COUNT || !hypercalls[fn]) {
		log_debug("hcall", "%s: unknown hypercall %u", v->name, fn);
		rc = HV_HC_ENOSYS;
	} else {
		rc = hypercalls[fn](v);
	}
	v->arch.regs.rax = (uint64_t)rc & 0xffffffffull; /* a 32-bit guest reads EAX */
	return EXIT_SKIP_INSN;
}
