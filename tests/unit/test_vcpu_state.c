/*
 * Host tests of kernel/arch/x86/vmx/state.c, the real file, against the fake
 * VMCS of tests/unit/fake/ (one VMCS per address): a vCPU's state saved
 * and loaded as one value, on a vCPU whose VMCS is not the current one.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/hw/msr.h"
#include "kernel/arch/x86/vcpu_state.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/arch/x86/vmx/vmsr.h"
#include "kernel/arch/x86/vmx/vmx.h"
#include "kernel/lib/err.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/arch.h"
#include "kernel/vmm/vm.h"
#include "tests/unit/fake/fake_vmcs.h"
#include "tests/unit/check_run.h"

#define VMCS_PA(i) (0x100000ull * ((i) + 1))
#define HOST_TSC 1000000ull

/* ---- The hypervisor's surroundings, faked. ---- */

void hv_log(enum hv_log_level level, const char *subsys, const char *fmt, ...)
{
	(void)level, (void)subsys, (void)fmt;
}

int hv_trace_error(int err, const char *file, int line, const char *func)
{
	(void)file, (void)line, (void)func;
	return err;
}

int vmcs_load(struct vcpu *v) { return vmptrld(v->arch.vmcs_pa) ? HV_EIO : HV_OK; }

static bool fail_vmptrld(const char *op) { return !strcmp(op, "vmptrld"); }

/* ---- Two vCPUs, and states with every field set. ---- */

static struct vm vm;
static struct vcpu *a, *b;

static void setup(void)
{
	fake_hw_reset();
	fake_hw.tsc = HOST_TSC;
	memset(&vm, 0, sizeof(vm));
	vm.vcpu_count = 2;
	a = &vm.vcpus[0];
	b = &vm.vcpus[1];
	a->arch.vmcs_pa = VMCS_PA(0);
	b->arch.vmcs_pa = VMCS_PA(1);
	a->vm = b->vm = &vm;
	/* Both as application processors, so that one sample loads into either. */
	vmsr_reset(&a->arch.msrs, false);
	vmsr_reset(&b->arch.msrs, false);
}

static struct vcpu_msr *msr_of(struct vcpu_state *s, uint32_t index)
{
	unsigned i;

	for (i = 0; i < s->msr_count; i++)
		if (s->msr[i].index == index)
			return &s->msr[i];
	ck_abort_msg("MSR %#x not in the list", index);
	return NULL;
}

/* Every field a value of its own (x seeds them), reserved fields zero, CR8 within its 4 bits. */
static struct vcpu_state state_sample(uint64_t x)
{
	struct vcpu_state s;
	uint64_t *w;
	unsigned i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < sizeof(s.fxsave); i++)
		s.fxsave[i] = (uint8_t)(x + i * 7);
	/* The 64-bit fields from rax to pending_dbg, in order. */
	for (w = &s.rax, i = 0; w <= &s.pending_dbg; w++, i++)
		*w = x * 0x9e3779b97f4a7c15ull + i;
	s.cr8 = x & CR8_TPR_MASK;
	for (i = 0; i < VCPU_SEG_COUNT; i++)
		s.seg[i] = (struct vcpu_segment){ .base = x + 0x1000 * i, .limit = (uint32_t)(x + i),
						  .ar = (uint32_t)(0x93 + i), .selector = (uint16_t)(8 * i + x) };
	s.gdtr = (struct vcpu_dtable){ .base = x + 0x7000, .limit = 0x27 };
	s.idtr = (struct vcpu_dtable){ .base = x + 0x8000, .limit = 0xfff };
	s.interruptibility = GUEST_INTR_STATE_STI;
	s.activity = GUEST_ACTIVITY_HLT;
	s.pending_event = (uint32_t)(x | INTR_INFO_VALID);
	s.pending_error_code = (uint32_t)x + 1;
	s.pending_insn_len = 2;
	/* Every vCPU-held MSR, with values a guest could have written. */
	s.msr_count = vmsr_state_save(a, s.msr, VCPU_STATE_MSRS);
	msr_of(&s, MSR_IA32_LSTAR)->value = 0xffffffff81000000ull + x;
	msr_of(&s, MSR_IA32_STAR)->value = 0x0023001000000000ull + x;
	msr_of(&s, MSR_IA32_FMASK)->value = 0x47700;
	msr_of(&s, MSR_IA32_KERNEL_GS_BASE)->value = 0xffff888003a00000ull + x;
	msr_of(&s, MSR_IA32_MTRR_PHYSBASE0 + 1)->value = 0xfff000800 + x;
	msr_of(&s, MSR_IA32_SPEC_CTRL)->value = SPEC_CTRL_IBRS;
	msr_of(&s, MSR_IA32_MISC_ENABLE)->value |= MISC_ENABLE_LIMIT_CPUID;
	return s;
}

static void assert_same(const struct vcpu_state *x, const struct vcpu_state *y)
{
	ck_assert_mem_eq(x, y, sizeof(*x));
}

START_TEST(load_then_save_gives_the_same_value)
{
	struct vcpu_state in = state_sample(3), out;

	ck_assert_int_eq(vcpu_arch_state_load(a, &in), HV_OK);
	ck_assert_int_eq(vcpu_arch_state_save(a, &out), HV_OK);
	assert_same(&in, &out);
}
END_TEST

START_TEST(save_then_load_then_save_is_stable)
{
	struct vcpu_state first, second;

	/* A VMCS as a guest's run left it, written behind the code's back. */
	fake_vmcs_set(a->arch.vmcs_pa, GUEST_RIP, 0x100123);
	fake_vmcs_set(a->arch.vmcs_pa, GUEST_CR0, CR0_PE | CR0_ET | CR0_NE);
	fake_vmcs_set(a->arch.vmcs_pa, GUEST_CS_SELECTOR, 0x10);
	fake_vmcs_set(a->arch.vmcs_pa, GUEST_TR_AR_BYTES, 0x8b);
	a->arch.regs.rbx = 0x5000;
	a->arch.tpr = 9;
	ck_assert_int_eq(vcpu_arch_state_save(a, &first), HV_OK);
	ck_assert_int_eq(vcpu_arch_state_load(a, &first), HV_OK);
	ck_assert_int_eq(vcpu_arch_state_save(a, &second), HV_OK);
	assert_same(&first, &second);
	ck_assert_uint_eq(first.rip, 0x100123);
	ck_assert_uint_eq(first.seg[VCPU_SEG_CS].selector, 0x10);
	ck_assert_uint_eq(first.seg[VCPU_SEG_TR].ar, 0x8b);
	ck_assert_uint_eq(first.rbx, 0x5000);
	ck_assert_uint_eq(first.cr8, 9);
}
END_TEST

START_TEST(fields_land_in_their_vmcs_encodings)
{
	struct vcpu_state s = state_sample(5);
	uint64_t pa = a->arch.vmcs_pa;

	ck_assert_int_eq(vcpu_arch_state_load(a, &s), HV_OK);
	ck_assert_uint_eq(fake_vmcs_get(pa, GUEST_RSP), s.rsp);
	ck_assert_uint_eq(fake_vmcs_get(pa, GUEST_RIP), s.rip);
	ck_assert_uint_eq(fake_vmcs_get(pa, GUEST_RFLAGS), s.rflags);
	ck_assert_uint_eq(fake_vmcs_get(pa, GUEST_CR3), s.cr3);
	ck_assert_uint_eq(fake_vmcs_get(pa, CR0_READ_SHADOW), s.cr0_shadow);
	ck_assert_uint_eq(fake_vmcs_get(pa, CR4_READ_SHADOW), s.cr4_shadow);
	ck_assert_uint_eq(fake_vmcs_get(pa, GUEST_DR7), s.dr7);
	ck_assert_uint_eq(fake_vmcs_get(pa, GUEST_IA32_EFER), s.efer);
	ck_assert_uint_eq(fake_vmcs_get(pa, GUEST_IA32_PAT), s.pat);
	ck_assert_uint_eq(fake_vmcs_get(pa, GUEST_SYSENTER_EIP), s.sysenter_eip);
	ck_assert_uint_eq(fake_vmcs_get(pa, GUEST_PDPTE3), s.pdpte[3]);
	ck_assert_uint_eq(fake_vmcs_get(pa, GUEST_ES_SELECTOR), s.seg[VCPU_SEG_ES].selector);
	ck_assert_uint_eq(fake_vmcs_get(pa, GUEST_SS_LIMIT), s.seg[VCPU_SEG_SS].limit);
	ck_assert_uint_eq(fake_vmcs_get(pa, GUEST_LDTR_AR_BYTES), s.seg[VCPU_SEG_LDTR].ar);
	ck_assert_uint_eq(fake_vmcs_get(pa, GUEST_TR_BASE), s.seg[VCPU_SEG_TR].base);
	ck_assert_uint_eq(fake_vmcs_get(pa, GUEST_GS_BASE), s.seg[VCPU_SEG_GS].base);
	ck_assert_uint_eq(fake_vmcs_get(pa, GUEST_IDTR_LIMIT), s.idtr.limit);
	ck_assert_uint_eq(fake_vmcs_get(pa, GUEST_GDTR_BASE), s.gdtr.base);
	ck_assert_uint_eq(fake_vmcs_get(pa, GUEST_INTERRUPTIBILITY_INFO), s.interruptibility);
	ck_assert_uint_eq(fake_vmcs_get(pa, GUEST_ACTIVITY_STATE), s.activity);
	ck_assert_uint_eq(fake_vmcs_get(pa, GUEST_PENDING_DBG_EXCEPTIONS), s.pending_dbg);
	ck_assert_uint_eq(fake_vmcs_get(pa, VM_ENTRY_INTR_INFO_FIELD), s.pending_event);
	ck_assert_uint_eq(fake_vmcs_get(pa, VM_ENTRY_EXCEPTION_ERROR_CODE), s.pending_error_code);
	ck_assert_uint_eq(fake_vmcs_get(pa, VM_ENTRY_INSTRUCTION_LEN), s.pending_insn_len);
	/* What VMX does not keep in the VMCS stays with the vCPU. */
	ck_assert_uint_eq(a->arch.regs.r15, s.r15);
	ck_assert_uint_eq(a->arch.regs.cr2, s.cr2);
	ck_assert_uint_eq(a->arch.tpr, s.cr8);
	ck_assert_uint_eq(a->arch.debug.dr[2], s.dr[2]);
	ck_assert_uint_eq(a->arch.debug.dr6, s.dr6);
	ck_assert_mem_eq(a->arch.fpu, s.fxsave, sizeof(s.fxsave));
}
END_TEST

START_TEST(the_guest_tsc_goes_on_from_the_saved_value)
{
	struct vcpu_state s = state_sample(1), out;

	s.tsc = 5 * HOST_TSC; /* the source host had run longer */
	ck_assert_int_eq(vcpu_arch_state_load(a, &s), HV_OK);
	ck_assert(fake_vmcs_get(a->arch.vmcs_pa, CPU_BASED_VM_EXEC_CONTROL) & CPU_BASED_USE_TSC_OFFSETTING);
	ck_assert_uint_eq(fake_vmcs_get(a->arch.vmcs_pa, TSC_OFFSET), 4 * HOST_TSC);
	fake_hw.tsc += 777;
	ck_assert_int_eq(vcpu_arch_state_save(a, &out), HV_OK);
	ck_assert_uint_eq(out.tsc, 5 * HOST_TSC + 777);
}
END_TEST

START_TEST(save_uses_the_vcpus_own_vmcs_not_the_current_one)
{
	struct vcpu_state sa = state_sample(2), sb = state_sample(9), out;

	ck_assert_int_eq(vcpu_arch_state_load(a, &sa), HV_OK);
	ck_assert_int_eq(vcpu_arch_state_load(b, &sb), HV_OK);
	ck_assert_uint_eq(fake_vmx.current_pa, b->arch.vmcs_pa);
	ck_assert_int_eq(vcpu_arch_state_save(a, &out), HV_OK);
	assert_same(&sa, &out);
	ck_assert_uint_eq(fake_vmcs_get(b->arch.vmcs_pa, GUEST_RIP), sb.rip);
}
END_TEST

START_TEST(load_refuses_a_bad_state_and_changes_nothing)
{
	struct vcpu_state good = state_sample(4), bad = state_sample(6), out;

	ck_assert_int_eq(vcpu_arch_state_load(a, &good), HV_OK);
	bad.cr8 = 0x10;
	ck_assert_int_eq(vcpu_arch_state_load(a, &bad), HV_EINVAL);
	bad = state_sample(6);
	bad.seg[VCPU_SEG_FS].reserved[1] = 1;
	ck_assert_int_eq(vcpu_arch_state_load(a, &bad), HV_EINVAL);
	ck_assert_int_eq(vcpu_arch_state_save(a, &out), HV_OK);
	assert_same(&good, &out);
}
END_TEST

/* What a hostile stream could put in the MSR list, each refused with nothing changed. */
START_TEST(load_refuses_msrs_a_guest_could_not_have_set)
{
	struct vcpu_state good = state_sample(4), bad, out;
	static const struct { uint32_t index; uint64_t value; } refused[] = {
		{ 0x1234, 0 },                                             /* not an MSR this vCPU has */
		{ MSR_IA32_LSTAR, 0x0000800000000000ull },                 /* not canonical: WRMSR would fault the host */
		{ MSR_IA32_KERNEL_GS_BASE, 0x8000000000000000ull },
		{ MSR_IA32_FMASK, 1ull << 32 },                            /* reserved bits */
		{ MSR_IA32_APIC_BASE, APIC_BASE_DEFAULT | APIC_BASE_ENABLE }, /* no local APIC to enable */
		{ MSR_IA32_APIC_BASE, APIC_BASE_DEFAULT | APIC_BASE_BSP }, /* an AP made the BSP */
		{ MSR_IA32_MISC_ENABLE, 0 },                               /* a fixed bit changed */
		{ MSR_IA32_SPEC_CTRL, 1ull << 40 },
		{ MSR_IA32_MTRR_DEF_TYPE, 1ull << 20 },
		{ MSR_IA32_MC0_STATUS, 1 },                                /* only ever cleared */
		{ MSR_IA32_MTRRCAP, 0 },                                   /* read-only */
	};
	unsigned i;

	ck_assert_int_eq(vcpu_arch_state_load(a, &good), HV_OK);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		bad = state_sample(6);
		bad.msr[3] = (struct vcpu_msr){ .index = refused[i].index, .value = refused[i].value };
		ck_assert_msg(vcpu_arch_state_load(a, &bad) == HV_EINVAL, "MSR %#x = %#llx taken", refused[i].index,
			      (unsigned long long)refused[i].value);
	}
	bad = state_sample(6);
	bad.msr[5] = bad.msr[4]; /* twice */
	ck_assert_int_eq(vcpu_arch_state_load(a, &bad), HV_EINVAL);
	bad = state_sample(6);
	bad.msr[2].reserved = 1;
	ck_assert_int_eq(vcpu_arch_state_load(a, &bad), HV_EINVAL);
	bad = state_sample(6);
	bad.msr[bad.msr_count].index = MSR_IA32_STAR; /* past the count */
	ck_assert_int_eq(vcpu_arch_state_load(a, &bad), HV_EINVAL);
	bad = state_sample(6);
	bad.msr_count = VCPU_STATE_MSRS + 1;
	ck_assert_int_eq(vcpu_arch_state_load(a, &bad), HV_EINVAL);
	ck_assert_int_eq(vcpu_arch_state_save(a, &out), HV_OK);
	assert_same(&good, &out);
}
END_TEST

/* The SYSCALL MSRs live in the CPU while the vCPU owns it: a save reads them there, a load reaches the CPU. */
START_TEST(switched_msrs_come_from_and_go_to_the_cpu)
{
	struct vcpu_state s = state_sample(8), out;

	vmsr_switch_to(a);
	wrmsr(MSR_IA32_LSTAR, 0xffffffff81234560ull); /* the guest's WRMSR, passed through */
	ck_assert_int_eq(vcpu_arch_state_save(a, &out), HV_OK);
	ck_assert_uint_eq(msr_of(&out, MSR_IA32_LSTAR)->value, 0xffffffff81234560ull);
	ck_assert_int_eq(vcpu_arch_state_load(a, &s), HV_OK);
	vmsr_switch_to(a);
	ck_assert_uint_eq(rdmsr(MSR_IA32_LSTAR), msr_of(&s, MSR_IA32_LSTAR)->value);
	ck_assert_uint_eq(rdmsr(MSR_IA32_KERNEL_GS_BASE), msr_of(&s, MSR_IA32_KERNEL_GS_BASE)->value);
	vmsr_disown(a);
}
END_TEST

/* A list without some MSR (a sender that did not know it) leaves this vCPU's value. */
START_TEST(msrs_not_in_the_list_keep_their_values)
{
	struct vcpu_state s = state_sample(3), out;
	uint64_t misc = a->arch.msrs.misc_enable;

	s.msr_count = 1;
	memset(&s.msr[1], 0, sizeof(s.msr) - sizeof(s.msr[0]));
	ck_assert_int_eq(vcpu_arch_state_load(a, &s), HV_OK);
	ck_assert_int_eq(vcpu_arch_state_save(a, &out), HV_OK);
	ck_assert_uint_eq(msr_of(&out, MSR_IA32_MISC_ENABLE)->value, misc);
	ck_assert_uint_eq(msr_of(&out, s.msr[0].index)->value, s.msr[0].value);
}
END_TEST

/* A 64-bit guest must enter in IA-32e mode on the new host, or VM entry fails there. */
START_TEST(the_ia32e_entry_control_follows_efer_lma)
{
	struct vcpu_state s = state_sample(2);

	s.efer = EFER_LME | EFER_LMA | EFER_SCE;
	ck_assert_int_eq(vcpu_arch_state_load(a, &s), HV_OK);
	ck_assert(fake_vmcs_get(a->arch.vmcs_pa, VM_ENTRY_CONTROLS) & VM_ENTRY_IA32E_MODE);
	s.efer = 0;
	ck_assert_int_eq(vcpu_arch_state_load(a, &s), HV_OK);
	ck_assert(!(fake_vmcs_get(a->arch.vmcs_pa, VM_ENTRY_CONTROLS) & VM_ENTRY_IA32E_MODE));
}
END_TEST

START_TEST(a_vmcs_that_cannot_be_loaded_is_an_error)
{
	struct vcpu_state s = state_sample(7);

	fake_vmx.fail = fail_vmptrld;
	ck_assert_int_eq(vcpu_arch_state_load(a, &s), HV_EIO);
	ck_assert_int_eq(vcpu_arch_state_save(a, &s), HV_EIO);
	ck_assert_uint_eq(fake_vmcs_get(a->arch.vmcs_pa, GUEST_RIP), 0);
}
END_TEST

static Suite *vcpu_state_suite(void)
{
	Suite *s = suite_create("vcpu_state");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, load_then_save_gives_the_same_value);
	tcase_add_test(tc, save_then_load_then_save_is_stable);
	tcase_add_test(tc, fields_land_in_their_vmcs_encodings);
	tcase_add_test(tc, the_guest_tsc_goes_on_from_the_saved_value);
	tcase_add_test(tc, save_uses_the_vcpus_own_vmcs_not_the_current_one);
	tcase_add_test(tc, load_refuses_a_bad_state_and_changes_nothing);
	tcase_add_test(tc, a_vmcs_that_cannot_be_loaded_is_an_error);
	tcase_add_test(tc, load_refuses_msrs_a_guest_could_not_have_set);
	tcase_add_test(tc, switched_msrs_come_from_and_go_to_the_cpu);
	tcase_add_test(tc, msrs_not_in_the_list_keep_their_values);
	tcase_add_test(tc, the_ia32e_entry_control_follows_efer_lma);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(vcpu_state_suite());
}
