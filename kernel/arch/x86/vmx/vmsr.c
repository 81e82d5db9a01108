#include "kernel/arch/x86/vmx/vmsr.h"

#include <string.h>
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/hw/msr.h"
#include "kernel/arch/x86/vcpu_state.h"
#include "kernel/arch/x86/vmx/tsc.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/lib/err.h"
#include "kernel/vmm/vm.h"

/* MSR bitmap layout (SDM 25.6.9): read low, read high, write low, write high; 1 KiB each. */
#define BITMAP_HIGH_BASE 0xc0000000u
#define BITMAP_RANGE 0x2000u
#define BITMAP_QUARTER 1024u

#define MTRR_VAR_END (MSR_IA32_MTRR_PHYSBASE0 + 2 * VMSR_MTRR_VAR)
#define MC_BANK_MSRS 4
#define MC_END (MSR_IA32_MC0_CTL + MC_BANK_MSRS * VMSR_MC_BANKS)
#define EFER_WRITABLE (EFER_SCE | EFER_LME | EFER_NXE)
#define MISC_ENABLE_WRITABLE (MISC_ENABLE_FAST_STRING | MISC_ENABLE_LIMIT_CPUID)
#define SPEC_CTRL_VALID (SPEC_CTRL_IBRS | SPEC_CTRL_STIBP | SPEC_CTRL_SSBD)
#define APIC_BASE_ADDR_MASK 0x000ffffffffff000ull
#define DEBUGCTL_WRITABLE DEBUGCTL_BTF

/* Reads and writes that reach the CPU. */
static const struct {
	uint32_t msr;
	bool read, write;
} passthrough[] = {
	{ MSR_IA32_TSC, true, false }, /* RDMSR adds the TSC offset as RDTSC does; writes become the offset */
	{ MSR_IA32_SYSENTER_CS, true, true },
	{ MSR_IA32_SYSENTER_ESP, true, true },
	{ MSR_IA32_SYSENTER_EIP, true, true },
	{ MSR_IA32_STAR, true, true },
	{ MSR_IA32_LSTAR, true, true },
	{ MSR_IA32_CSTAR, true, true },
	{ MSR_IA32_FMASK, true, true },
	{ MSR_IA32_FS_BASE, true, true },
	{ MSR_IA32_GS_BASE, true, true },
	{ MSR_IA32_KERNEL_GS_BASE, true, true },
};

/* The fixed-range MTRRs in the order vmsr_state keeps them. */
static const uint32_t mtrr_fixed_msrs[VMSR_MTRR_FIXED] = {
	MSR_IA32_MTRR_FIX64K_00000, MSR_IA32_MTRR_FIX16K_80000, MSR_IA32_MTRR_FIX16K_A0000,
	MSR_IA32_MTRR_FIX4K_C0000, MSR_IA32_MTRR_FIX4K_C0000 + 1, MSR_IA32_MTRR_FIX4K_C0000 + 2,
	MSR_IA32_MTRR_FIX4K_C0000 + 3, MSR_IA32_MTRR_FIX4K_C0000 + 4, MSR_IA32_MTRR_FIX4K_C0000 + 5,
	MSR_IA32_MTRR_FIX4K_C0000 + 6, MSR_IA32_MTRR_FIX4K_C0000 + 7,
};

void vmsr_reset(struct vmsr_state *s, bool bsp)
{
	memset(s, 0, sizeof(*s));
	s->apic_base = APIC_BASE_DEFAULT | (bsp ? APIC_BASE_BSP : 0);
	s->misc_enable = MISC_ENABLE_FAST_STRING | MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL;
	/* What firmware leaves for RAM: MTRRs on, everything write-back, no ranges. */
	s->mtrr_def_type = MTRR_DEF_TYPE_E | MTRR_TYPE_WB;
}

/* Bit of msr in the read quarter of the bitmap (add 2 quarters for writes); -1 outside both ranges. */
static int bitmap_bit(uint32_t msr)
{
	if (msr < BITMAP_RANGE)
		return (int)msr;
	if (msr >= BITMAP_HIGH_BASE && msr < BITMAP_HIGH_BASE + BITMAP_RANGE)
		return (int)(BITMAP_QUARTER * 8 + (msr - BITMAP_HIGH_BASE));
	return -1;
}

void vmsr_bitmap_build(uint8_t bitmap[VMSR_BITMAP_SIZE])
{
	size_t i;

	memset(bitmap, 0xff, VMSR_BITMAP_SIZE);
	for (i = 0; i < sizeof(passthrough) / sizeof(passthrough[0]); i++) {
		int bit = bitmap_bit(passthrough[i].msr);

		if (passthrough[i].read)
			bitmap[bit / 8] &= (uint8_t)~(1u << (bit % 8));
		bit += 2 * BITMAP_QUARTER * 8;
		if (passthrough[i].write)
			bitmap[bit / 8] &= (uint8_t)~(1u << (bit % 8));
	}
}

bool vmsr_bitmap_exits(const uint8_t bitmap[VMSR_BITMAP_SIZE], uint32_t msr, bool write)
{
	int bit = bitmap_bit(msr);

	if (bit < 0)
		return true; /* MSRs outside both ranges always exit */
	bit += write ? 2 * BITMAP_QUARTER * 8 : 0;
	return bitmap[bit / 8] & (1u << (bit % 8));
}

static uint64_t *mtrr_fixed(struct vmsr_state *s, uint32_t msr)
{
	unsigned i;

	for (i = 0; i < VMSR_MTRR_FIXED; i++)
		if (mtrr_fixed_msrs[i] == msr)
			return &s->mtrr_fixed[i];
	return NULL;
}

static bool pat_valid(uint64_t pat)
{
	unsigned i;

	if (pat & PAT_ENTRY_RESERVED)
		return false;
	for (i = 0; i < 8; i++) {
		unsigned type = (pat >> (8 * i)) & 7;

		if (type == PAT_TYPE_RESERVED_2 || type == PAT_TYPE_RESERVED_3)
			return false;
	}
	return true;
}

/* The vCPU-held state: everything that lives neither in the VMCS nor in the CPU. */
static uint64_t *state_msr(struct vmsr_state *s, uint32_t msr)
{
	switch (msr) {
	case MSR_IA32_APIC_BASE: return &s->apic_base;
	case MSR_IA32_MISC_ENABLE: return &s->misc_enable;
	case MSR_IA32_SPEC_CTRL: return &s->spec_ctrl;
	case MSR_IA32_BIOS_SIGN_ID: return &s->ucode_rev;
	case MSR_IA32_MTRR_DEF_TYPE: return &s->mtrr_def_type;
	case MSR_IA32_MCG_STATUS: return &s->mcg_status;
	default: break;
	}
	if (msr >= MSR_IA32_MTRR_PHYSBASE0 && msr < MTRR_VAR_END)
		return &s->mtrr_var[msr - MSR_IA32_MTRR_PHYSBASE0];
	if (msr >= MSR_IA32_MC0_CTL && msr < MC_END && (msr - MSR_IA32_MC0_CTL) % MC_BANK_MSRS == 0)
		return &s->mc_ctl[(msr - MSR_IA32_MC0_CTL) / MC_BANK_MSRS];
	if (msr >= MSR_IA32_MC0_CTL && msr < MC_END && (msr - MSR_IA32_MC0_CTL) % MC_BANK_MSRS == 1)
		return &s->mc_status[(msr - MSR_IA32_MC0_CTL) / MC_BANK_MSRS];
	return mtrr_fixed(s, msr);
}

int vmsr_read(struct vcpu *v, uint32_t msr, uint64_t *value)
{
	uint64_t *p;

	switch (msr) {
	case MSR_IA32_EFER: *value = vmcs_read64(GUEST_IA32_EFER); return HV_OK;
	case MSR_IA32_PAT: *value = vmcs_read64(GUEST_IA32_PAT); return HV_OK;
	case MSR_IA32_DEBUGCTL: *value = vmcs_read64(GUEST_IA32_DEBUGCTL); return HV_OK;
	case MSR_IA32_TSC: *value = vmx_guest_tsc(v, rdtsc()); return HV_OK;
	case MSR_IA32_MTRRCAP: *value = VMSR_MTRR_VAR | MTRRCAP_FIX | MTRRCAP_WC; return HV_OK;
	case MSR_IA32_MCG_CAP: *value = VMSR_MC_BANKS; return HV_OK;
	case MSR_IA32_ARCH_CAPABILITIES: *value = 0; return HV_OK; /* claims no immunity */
	case MSR_IA32_BIOS_SIGN_ID: *value = 0; return HV_OK;      /* no microcode revision to report */
	default: break;
	}
	/* The bank's ADDR and MISC read as zero: no error was ever logged. */
	if (msr >= MSR_IA32_MC0_CTL && msr < MC_END && (msr - MSR_IA32_MC0_CTL) % MC_BANK_MSRS >= 2) {
		*value = 0;
		return HV_OK;
	}
	p = state_msr(&v->arch.msrs, msr);
	if (!p)
		return HV_EINVAL;
	*value = *p;
	return HV_OK;
}

/* EFER: LMA is the CPU's (CR0.PG with LME); a write may change only SCE, LME and NXE. */
static int efer_write(uint64_t value)
{
	uint64_t old = vmcs_read64(GUEST_IA32_EFER);
	bool paging = vmcs_read64(GUEST_CR0) & CR0_PG;

	if (value & ~(EFER_WRITABLE | EFER_LMA))
		return HV_EINVAL;
	/* LME may not change while paging is on (SDM 2.2.1). */
	if (paging && ((value ^ old) & EFER_LME))
		return HV_EINVAL;
	vmcs_write64(GUEST_IA32_EFER, (value & EFER_WRITABLE) | (old & EFER_LMA));
	return HV_OK;
}

/* A WRMSR of the vCPU-held state s, checked as the CPU would; HV_EINVAL for #GP. */
static int state_set(struct vmsr_state *s, uint32_t msr, uint64_t value)
{
	uint64_t *p;

	switch (msr) {
	case MSR_IA32_APIC_BASE:
		/* No local APIC is emulated: it can be moved, never enabled. */
		if (value & ~(APIC_BASE_ADDR_MASK | APIC_BASE_BSP) || (value & APIC_BASE_BSP) != (s->apic_base & APIC_BASE_BSP))
			return HV_EINVAL;
		break;
	case MSR_IA32_MISC_ENABLE:
		if ((value ^ s->misc_enable) & ~MISC_ENABLE_WRITABLE)
			return HV_EINVAL;
		break;
	case MSR_IA32_SPEC_CTRL:
		if (value & ~SPEC_CTRL_VALID)
			return HV_EINVAL;
		break;
	case MSR_IA32_MCG_STATUS:
		if (value & ~MCG_STATUS_VALID_BITS)
			return HV_EINVAL;
		break;
	case MSR_IA32_MTRR_DEF_TYPE:
		if (value & ~(MTRR_DEF_TYPE_MASK | MTRR_DEF_TYPE_FE | MTRR_DEF_TYPE_E))
			return HV_EINVAL;
		break;
	default:
		break;
	}
	/* A bank's STATUS may only be cleared; its ADDR and MISC only written with zero. */
	if (msr >= MSR_IA32_MC0_CTL && msr < MC_END && (msr - MSR_IA32_MC0_CTL) % MC_BANK_MSRS)
		return value ? HV_EINVAL : HV_OK;
	p = state_msr(s, msr);
	if (!p)
		return HV_EINVAL;
	*p = value;
	return HV_OK;
}

static int state_write(struct vcpu *v, uint32_t msr, uint64_t value) { return state_set(&v->arch.msrs, msr, value); }

int vmsr_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
	switch (msr) {
	case MSR_IA32_EFER:
		return efer_write(value);
	case MSR_IA32_PAT:
		if (!pat_valid(value))
			return HV_EINVAL;
		vmcs_write64(GUEST_IA32_PAT, value);
		return HV_OK;
	case MSR_IA32_DEBUGCTL:
		if (value & ~DEBUGCTL_WRITABLE)
			return HV_EINVAL;
		vmcs_write64(GUEST_IA32_DEBUGCTL, value);
		return HV_OK;
	case MSR_IA32_TSC:
		/* The guest sets its clock: the host's TSC runs on, the offset moves. */
		vmx_tsc_offset_set(v, value - rdtsc());
		return HV_OK;
	case MSR_IA32_MTRRCAP:
	case MSR_IA32_MCG_CAP:
	case MSR_IA32_ARCH_CAPABILITIES:
		return HV_EINVAL; /* read-only */
	default:
		return state_write(v, msr, value);
	}
}

/* The vCPU whose switched MSRs the CPU holds (one CPU runs every vCPU). */
static struct vcpu *vmsr_owner;

/* What the guest wrote to the MSRs passed through while it owned the CPU. */
static void switched_save(struct vmsr_state *s)
{
	s->star = rdmsr(MSR_IA32_STAR);
	s->lstar = rdmsr(MSR_IA32_LSTAR);
	s->cstar = rdmsr(MSR_IA32_CSTAR);
	s->fmask = rdmsr(MSR_IA32_FMASK);
	s->kernel_gs_base = rdmsr(MSR_IA32_KERNEL_GS_BASE);
}

void vmsr_switch_to(struct vcpu *v)
{
	struct vmsr_state *s;

	if (vmsr_owner == v)
		return;
	if (vmsr_owner)
		switched_save(&vmsr_owner->arch.msrs);
	s = &v->arch.msrs;
	wrmsr(MSR_IA32_STAR, s->star);
	wrmsr(MSR_IA32_LSTAR, s->lstar);
	wrmsr(MSR_IA32_CSTAR, s->cstar);
	wrmsr(MSR_IA32_FMASK, s->fmask);
	wrmsr(MSR_IA32_KERNEL_GS_BASE, s->kernel_gs_base);
	vmsr_owner = v;
}

void vmsr_disown(struct vcpu *v)
{
	if (vmsr_owner == v)
		vmsr_owner = NULL;
}

/* ---- the state as a list (a migration's save and load) ---- */

static uint64_t *switched_msr(struct vmsr_state *s, uint32_t msr)
{
	switch (msr) {
	case MSR_IA32_STAR: return &s->star;
	case MSR_IA32_LSTAR: return &s->lstar;
	case MSR_IA32_CSTAR: return &s->cstar;
	case MSR_IA32_FMASK: return &s->fmask;
	case MSR_IA32_KERNEL_GS_BASE: return &s->kernel_gs_base;
	default: return NULL;
	}
}

_Static_assert(VMSR_STATE_MSRS <= VCPU_STATE_MSRS, "the state's MSR list holds every vCPU-held MSR");

/* Every MSR of struct vmsr_state, in one order; returns how many (VMSR_STATE_MSRS). */
static unsigned state_indices(uint32_t out[VMSR_STATE_MSRS])
{
	static const uint32_t named[] = { MSR_IA32_STAR, MSR_IA32_LSTAR, MSR_IA32_CSTAR, MSR_IA32_FMASK,
					  MSR_IA32_KERNEL_GS_BASE, MSR_IA32_APIC_BASE, MSR_IA32_MISC_ENABLE,
					  MSR_IA32_SPEC_CTRL, MSR_IA32_BIOS_SIGN_ID, MSR_IA32_MTRR_DEF_TYPE,
					  MSR_IA32_MCG_STATUS };
	unsigned i, n = 0;

	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		out[n++] = named[i];
	for (i = 0; i < 2 * VMSR_MTRR_VAR; i++)
		out[n++] = MSR_IA32_MTRR_PHYSBASE0 + i;
	for (i = 0; i < VMSR_MTRR_FIXED; i++)
		out[n++] = mtrr_fixed_msrs[i];
	for (i = 0; i < VMSR_MC_BANKS; i++) {
		out[n++] = MSR_IA32_MC0_CTL + i * MC_BANK_MSRS;
		out[n++] = MSR_IA32_MC0_STATUS + i * MC_BANK_MSRS;
	}
	return n;
}

static uint64_t *held_msr(struct vmsr_state *s, uint32_t msr)
{
	uint64_t *p = switched_msr(s, msr);

	return p ? p : state_msr(s, msr);
}

/* Bits 63:47 all equal: what WRMSR of an address MSR demands (a 48-bit linear address space). */
static bool canonical(uint64_t a) { return (uint64_t)((int64_t)(a << 16) >> 16) == a; }

/* A switched MSR's value as the CPU would take it: the host loads it with WRMSR, which must not fault. */
static int switched_set(struct vmsr_state *s, uint32_t msr, uint64_t value)
{
	if (msr == MSR_IA32_FMASK ? value >> 32 : msr != MSR_IA32_STAR && !canonical(value))
		return HV_EINVAL;
	*switched_msr(s, msr) = value;
	return HV_OK;
}

unsigned vmsr_state_save(struct vcpu *v, struct vcpu_msr *out, unsigned max)
{
	uint32_t idx[VMSR_STATE_MSRS];
	unsigned i, n = state_indices(idx);

	if (vmsr_owner == v)
		switched_save(&v->arch.msrs);
	for (i = 0; i < n && i < max; i++)
		out[i] = (struct vcpu_msr){ .index = idx[i], .value = *held_msr(&v->arch.msrs, idx[i]) };
	return i;
}

int vmsr_state_load(struct vcpu *v, const struct vcpu_msr *in, unsigned n)
{
	struct vmsr_state s;
	unsigned i, j;
	int rc;

	if (vmsr_owner == v)
		switched_save(&v->arch.msrs);
	s = v->arch.msrs;
	for (i = 0; i < n; i++) {
		if (in[i].reserved || !held_msr(&s, in[i].index))
			return HV_EINVAL;
		for (j = 0; j < i; j++)
			if (in[j].index == in[i].index)
				return HV_EINVAL;
		rc = switched_msr(&s, in[i].index) ? switched_set(&s, in[i].index, in[i].value)
						   : state_set(&s, in[i].index, in[i].value);
		if (rc)
			return rc;
	}
	v->arch.msrs = s;
	vmsr_disown(v); /* its next run loads the switched ones into the CPU */
	return HV_OK;
}
