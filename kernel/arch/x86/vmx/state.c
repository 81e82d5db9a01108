/*
 * A vCPU's state as one value (kernel/arch/x86/vcpu_state.h) from and to
 * its VMCS and the registers VMX leaves to us. One table says where each
 * VMCS-held field goes, so save and load cannot drift apart.
 */
#include <stddef.h>
#include <string.h>
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/hw/msr.h"
#include "kernel/arch/x86/vcpu_state.h"
#include "kernel/arch/x86/vmx/tsc.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/arch/x86/vmx/vmsr.h"
#include "kernel/arch/x86/vmx/vmx.h"
#include "kernel/lib/err.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/arch.h"
#include "kernel/vmm/vm.h"

#define STATE_FIELD(f, member) { f, offsetof(struct vcpu_state, member), sizeof(((struct vcpu_state *)0)->member) }
#define STATE_SEG_STRIDE 2 /* consecutive segment registers' encodings differ by 2 */
#define STATE_SEG_FIELDS 4 /* selector, limit, access rights, base */

struct state_field {
	uint32_t field;
	uint16_t offset;
	uint16_t size;
};

static const struct state_field state_fields[] = {
	STATE_FIELD(GUEST_RSP, rsp),
	STATE_FIELD(GUEST_RIP, rip),
	STATE_FIELD(GUEST_RFLAGS, rflags),
	STATE_FIELD(GUEST_CR0, cr0),
	STATE_FIELD(GUEST_CR3, cr3),
	STATE_FIELD(GUEST_CR4, cr4),
	STATE_FIELD(CR0_READ_SHADOW, cr0_shadow),
	STATE_FIELD(CR4_READ_SHADOW, cr4_shadow),
	STATE_FIELD(GUEST_DR7, dr7),
	STATE_FIELD(GUEST_IA32_EFER, efer),
	STATE_FIELD(GUEST_IA32_PAT, pat),
	STATE_FIELD(GUEST_IA32_DEBUGCTL, debugctl),
	STATE_FIELD(GUEST_SYSENTER_CS, sysenter_cs),
	STATE_FIELD(GUEST_SYSENTER_ESP, sysenter_esp),
	STATE_FIELD(GUEST_SYSENTER_EIP, sysenter_eip),
	STATE_FIELD(GUEST_PDPTE0, pdpte[0]),
	STATE_FIELD(GUEST_PDPTE1, pdpte[1]),
	STATE_FIELD(GUEST_PDPTE2, pdpte[2]),
	STATE_FIELD(GUEST_PDPTE3, pdpte[3]),
	STATE_FIELD(GUEST_PENDING_DBG_EXCEPTIONS, pending_dbg),
	STATE_FIELD(GUEST_GDTR_BASE, gdtr.base),
	STATE_FIELD(GUEST_GDTR_LIMIT, gdtr.limit),
	STATE_FIELD(GUEST_IDTR_BASE, idtr.base),
	STATE_FIELD(GUEST_IDTR_LIMIT, idtr.limit),
	STATE_FIELD(GUEST_INTERRUPTIBILITY_INFO, interruptibility),
	STATE_FIELD(GUEST_ACTIVITY_STATE, activity),
	STATE_FIELD(VM_ENTRY_INTR_INFO_FIELD, pending_event),
	STATE_FIELD(VM_ENTRY_EXCEPTION_ERROR_CODE, pending_error_code),
	STATE_FIELD(VM_ENTRY_INSTRUCTION_LEN, pending_insn_len),
};

#define STATE_TABLE_FIELDS (sizeof(state_fields) / sizeof(state_fields[0]))
#define STATE_FIELDS_MAX (STATE_TABLE_FIELDS + VCPU_SEG_COUNT * STATE_SEG_FIELDS)

/* The four VMCS fields of segment register i, as table entries. */
static void state_seg_fields(unsigned i, struct state_field out[STATE_SEG_FIELDS])
{
	const size_t seg = offsetof(struct vcpu_state, seg) + i * sizeof(struct vcpu_segment);
	const uint32_t step = i * STATE_SEG_STRIDE;

	out[0] = (struct state_field){ GUEST_ES_SELECTOR + step, seg + offsetof(struct vcpu_segment, selector), 2 };
	out[1] = (struct state_field){ GUEST_ES_LIMIT + step, seg + offsetof(struct vcpu_segment, limit), 4 };
	out[2] = (struct state_field){ GUEST_ES_AR_BYTES + step, seg + offsetof(struct vcpu_segment, ar), 4 };
	out[3] = (struct state_field){ GUEST_ES_BASE + step, seg + offsetof(struct vcpu_segment, base), 8 };
}

/* Every VMCS-held field of the state: the table, then the segment registers'. */
static unsigned state_all_fields(struct state_field out[STATE_FIELDS_MAX])
{
	unsigned i, n = 0;

	for (i = 0; i < STATE_TABLE_FIELDS; i++)
		out[n++] = state_fields[i];
	for (i = 0; i < VCPU_SEG_COUNT; i++, n += STATE_SEG_FIELDS)
		state_seg_fields(i, &out[n]);
	return n;
}

/* Little-endian x86: the low size bytes of a VMCS value are the field's. */
static void state_get(const struct state_field *f, struct vcpu_state *s)
{
	uint64_t v = vmcs_read64(f->field);

	memcpy((uint8_t *)s + f->offset, &v, f->size);
}

static void state_put(const struct state_field *f, const struct vcpu_state *s)
{
	uint64_t v = 0;

	memcpy(&v, (const uint8_t *)s + f->offset, f->size);
	vmcs_write64(f->field, v);
}

int vcpu_arch_state_save(struct vcpu *v, struct vcpu_state *s)
{
	const struct vcpu_regs *r = &v->arch.regs;
	struct state_field f[STATE_FIELDS_MAX];
	uint64_t errors = vmcs_error_count();
	unsigned i, n = state_all_fields(f);
	int rc = vmcs_load(v);

	if (rc)
		return HV_TRACE(rc);
	memset(s, 0, sizeof(*s));
	for (i = 0; i < n; i++)
		state_get(&f[i], s);
	memcpy(s->fxsave, v->arch.fpu, sizeof(s->fxsave));
	s->rax = r->rax, s->rcx = r->rcx, s->rdx = r->rdx, s->rbx = r->rbx;
	s->rbp = r->rbp, s->rsi = r->rsi, s->rdi = r->rdi;
	s->r8 = r->r8, s->r9 = r->r9, s->r10 = r->r10, s->r11 = r->r11;
	s->r12 = r->r12, s->r13 = r->r13, s->r14 = r->r14, s->r15 = r->r15;
	s->cr2 = r->cr2;
	s->cr8 = v->arch.tpr;
	memcpy(s->dr, v->arch.debug.dr, sizeof(s->dr));
	s->dr6 = v->arch.debug.dr6;
	s->tsc = rdtsc();
	if (vmcs_read32(CPU_BASED_VM_EXEC_CONTROL) & CPU_BASED_USE_TSC_OFFSETTING)
		s->tsc += vmcs_read64(TSC_OFFSET);
	s->msr_count = vmsr_state_save(v, s->msr, VCPU_STATE_MSRS);
	return vmcs_error_count() == errors ? HV_OK : HV_TRACE(HV_EIO);
}

/* What load refuses: values the CPU would not hold, or reserved fields in use. */
static int state_check(const struct vcpu_state *s)
{
	unsigned i;

	if (s->cr8 & ~CR8_TPR_MASK || s->msr_count > VCPU_STATE_MSRS || s->gdtr.reserved || s->idtr.reserved)
		return HV_EINVAL;
	for (i = 0; i < VCPU_SEG_COUNT; i++)
		if (s->seg[i].reserved[0] || s->seg[i].reserved[1] || s->seg[i].reserved[2])
			return HV_EINVAL;
	for (i = s->msr_count; i < VCPU_STATE_MSRS; i++)
		if (s->msr[i].index || s->msr[i].reserved || s->msr[i].value)
			return HV_EINVAL;
	return HV_OK;
}

int vcpu_arch_state_load(struct vcpu *v, const struct vcpu_state *s)
{
	struct vcpu_regs *r = &v->arch.regs;
	uint32_t entry;
	struct state_field f[STATE_FIELDS_MAX];
	uint64_t errors = vmcs_error_count();
	unsigned i, n = state_all_fields(f);
	int rc = state_check(s);

	if (rc)
		return rc;
	rc = vmcs_load(v);
	if (rc)
		return HV_TRACE(rc);
	if ((rc = vmsr_state_load(v, s->msr, s->msr_count)))
		return rc;
	for (i = 0; i < n; i++)
		state_put(&f[i], s);
	/* A 64-bit guest enters in IA-32e mode: the entry control follows EFER.LMA (SDM 26.2.4). */
	entry = vmcs_read32(VM_ENTRY_CONTROLS);
	vmcs_write32(VM_ENTRY_CONTROLS, s->efer & EFER_LMA ? entry | VM_ENTRY_IA32E_MODE : entry & ~VM_ENTRY_IA32E_MODE);
	/* The guest's TSC goes on from the saved value, whatever this host's TSC reads. */
	vmx_tsc_offset_set(v, s->tsc - rdtsc());
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL,
		     vmcs_read32(CPU_BASED_VM_EXEC_CONTROL) | CPU_BASED_USE_TSC_OFFSETTING);
	memcpy(v->arch.fpu, s->fxsave, sizeof(v->arch.fpu));
	r->rax = s->rax, r->rcx = s->rcx, r->rdx = s->rdx, r->rbx = s->rbx;
	r->rbp = s->rbp, r->rsi = s->rsi, r->rdi = s->rdi;
	r->r8 = s->r8, r->r9 = s->r9, r->r10 = s->r10, r->r11 = s->r11;
	r->r12 = s->r12, r->r13 = s->r13, r->r14 = s->r14, r->r15 = s->r15;
	r->cr2 = s->cr2;
	v->arch.tpr = (uint8_t)s->cr8;
	memcpy(v->arch.debug.dr, s->dr, sizeof(s->dr));
	v->arch.debug.dr6 = s->dr6;
	return vmcs_error_count() == errors ? HV_OK : HV_TRACE(HV_EIO);
}
