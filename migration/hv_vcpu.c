/* vCPU state to and from VCPU_STATE sub-records (migration/hv_vcpu.h). */
#include "migration/hv_vcpu.h"

#include <string.h>
#include "kernel/lib/err.h"
#include "migration/stream.h"

/* VMX access rights keep "unusable" in bit 16; the stream's u16 attr has it in bit 8, reserved in VMX. */
#define VMX_AR_UNUSABLE (1u << 16)
#define MIGR_ATTR_UNUSABLE (1u << 8)
#define VMX_AR_KEPT 0xf0ffu

struct enc {
	uint8_t *p;
	size_t len, cap;
	uint32_t count;
};

static void put(struct enc *e, uint32_t type, const void *body, uint32_t n)
{
	struct migr_sub_hdr h = { type, n };

	if (e->len + sizeof(h) + MIGR_PAD8(n) > e->cap) {
		e->cap = 0; /* remembered as "did not fit" */
		return;
	}
	memcpy(e->p + e->len, &h, sizeof(h));
	memcpy(e->p + e->len + sizeof(h), body, n);
	memset(e->p + e->len + sizeof(h) + n, 0, MIGR_PAD8(n) - n);
	e->len += sizeof(h) + MIGR_PAD8(n);
	e->count++;
}

static uint16_t attr_of(uint32_t ar)
{
	return (uint16_t)((ar & VMX_AR_KEPT) | (ar & VMX_AR_UNUSABLE ? MIGR_ATTR_UNUSABLE : 0));
}

static uint32_t ar_of(uint16_t attr)
{
	return (attr & VMX_AR_KEPT) | (attr & MIGR_ATTR_UNUSABLE ? VMX_AR_UNUSABLE : 0);
}

/* The named MSRs, then the state's own list. */
static uint32_t msrs_of(const struct vcpu_state *s, struct migr_msr *m)
{
	const struct { uint32_t index; uint64_t value; } v[MIGR_HV_MSRS] = {
		{ MIGR_MSR_TSC, s->tsc },
		{ MIGR_MSR_SYSENTER_CS, s->sysenter_cs },
		{ MIGR_MSR_SYSENTER_ESP, s->sysenter_esp },
		{ MIGR_MSR_SYSENTER_EIP, s->sysenter_eip },
		{ MIGR_MSR_DEBUGCTL, s->debugctl },
		{ MIGR_MSR_PAT, s->pat },
		{ MIGR_MSR_FERRY_CR0_SHADOW, s->cr0_shadow },
		{ MIGR_MSR_FERRY_CR4_SHADOW, s->cr4_shadow },
		{ MIGR_MSR_FERRY_PDPTE0, s->pdpte[0] },
		{ MIGR_MSR_FERRY_PDPTE0 + 1, s->pdpte[1] },
		{ MIGR_MSR_FERRY_PDPTE0 + 2, s->pdpte[2] },
		{ MIGR_MSR_FERRY_PDPTE0 + 3, s->pdpte[3] },
		{ MIGR_MSR_FERRY_INSN_LEN, s->pending_insn_len },
	};
	unsigned i;

	for (i = 0; i < MIGR_HV_MSRS; i++)
		m[i] = (struct migr_msr){ .index = v[i].index, .value = v[i].value };
	for (i = 0; i < s->msr_count && i < VCPU_STATE_MSRS; i++)
		m[MIGR_HV_MSRS + i] = (struct migr_msr){ .index = s->msr[i].index, .value = s->msr[i].value };
	return MIGR_HV_MSRS + i;
}

/* Where an MSR of the list goes in the state; NULL for one this host does not give a guest. */
static uint64_t *msr_slot(struct vcpu_state *s, uint32_t index)
{
	switch (index) {
	case MIGR_MSR_TSC: return &s->tsc;
	case MIGR_MSR_SYSENTER_CS: return &s->sysenter_cs;
	case MIGR_MSR_SYSENTER_ESP: return &s->sysenter_esp;
	case MIGR_MSR_SYSENTER_EIP: return &s->sysenter_eip;
	case MIGR_MSR_DEBUGCTL: return &s->debugctl;
	case MIGR_MSR_PAT: return &s->pat;
	case MIGR_MSR_FERRY_CR0_SHADOW: return &s->cr0_shadow;
	case MIGR_MSR_FERRY_CR4_SHADOW: return &s->cr4_shadow;
	case MIGR_MSR_FERRY_PDPTE0:
	case MIGR_MSR_FERRY_PDPTE0 + 1:
	case MIGR_MSR_FERRY_PDPTE0 + 2:
	case MIGR_MSR_FERRY_PDPTE0 + 3: return &s->pdpte[index - MIGR_MSR_FERRY_PDPTE0];
	default: return NULL;
	}
}

long migr_hv_vcpu_encode(const struct vcpu_state *s, uint8_t *buf, size_t cap, uint32_t *count)
{
	struct enc e = { buf, 0, cap, 0 };
	struct migr_gprs g = { { s->rax, s->rbx, s->rcx, s->rdx, s->rsi, s->rdi, s->rbp, s->rsp, s->r8, s->r9, s->r10,
				 s->r11, s->r12, s->r13, s->r14, s->r15, s->rip, s->rflags } };
	struct migr_segments sg;
	struct migr_control c = { s->cr0, s->cr2, s->cr3, s->cr4, s->cr8, s->efer };
	struct migr_fpu f;
	struct migr_debug d = { { s->dr[0], s->dr[1], s->dr[2], s->dr[3], s->dr6, s->dr7 } };
	struct {
		struct migr_msrs h;
		struct migr_msr m[MIGR_HV_MSRS + VCPU_STATE_MSRS];
	} ms;
	struct migr_events ev = { s->activity, s->interruptibility, s->pending_event, s->pending_error_code,
				  s->pending_dbg };
	unsigned i;

	_Static_assert(sizeof(ms) == 8 + (MIGR_HV_MSRS + VCPU_STATE_MSRS) * 16, "MSRS body without padding");
	memset(&sg, 0, sizeof(sg));
	memset(&ms, 0, sizeof(ms));
	for (i = 0; i < VCPU_SEG_COUNT; i++)
		sg.seg[i] = (struct migr_segment){ s->seg[i].selector, attr_of(s->seg[i].ar), s->seg[i].limit,
						   s->seg[i].base };
	sg.gdtr = (struct migr_dtable){ s->gdtr.base, s->gdtr.limit, 0 };
	sg.idtr = (struct migr_dtable){ s->idtr.base, s->idtr.limit, 0 };
	memcpy(f.fxsave, s->fxsave, sizeof(f.fxsave));
	ms.h.n = msrs_of(s, ms.m);
	put(&e, MIGR_SUB_GPRS, &g, sizeof(g));
	put(&e, MIGR_SUB_SEGMENTS, &sg, sizeof(sg));
	put(&e, MIGR_SUB_CONTROL, &c, sizeof(c));
	put(&e, MIGR_SUB_FPU, &f, sizeof(f));
	put(&e, MIGR_SUB_DEBUG, &d, sizeof(d));
	put(&e, MIGR_SUB_MSRS, &ms, (uint32_t)(sizeof(ms.h) + ms.h.n * sizeof(ms.m[0])));
	put(&e, MIGR_SUB_EVENTS, &ev, sizeof(ev));
	if (!e.cap)
		return HV_ERANGE;
	*count = e.count;
	return (long)e.len;
}

static uint32_t get_u32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static int get_msrs(const uint8_t *b, uint32_t n, struct vcpu_state *s)
{
	struct migr_msrs h;
	struct migr_msr m;
	uint32_t i, j;

	memcpy(&h, b, sizeof(h));
	if (sizeof(h) + (uint64_t)h.n * sizeof(m) != n)
		return HV_EINVAL;
	for (i = 0; i < h.n; i++) {
		uint64_t *slot;

		memcpy(&m, b + sizeof(h) + i * sizeof(m), sizeof(m));
		for (j = 0; j < i; j++)
			if (get_u32_at(b + sizeof(h) + j * sizeof(m)) == m.index)
				return HV_EINVAL;
		if (m.index == MIGR_MSR_FERRY_INSN_LEN) {
			s->pending_insn_len = (uint32_t)m.value;
			continue;
		}
		slot = msr_slot(s, m.index);
		if (slot) {
			*slot = m.value;
			continue;
		}
		/* EFER is CONTROL's; the rest of FerryHV's range is ours and has no other member. */
		if (m.index == MIGR_MSR_EFER || (m.index & MIGR_MSR_FERRY_MASK) == MIGR_MSR_FERRY_BASE ||
		    s->msr_count == VCPU_STATE_MSRS)
			return HV_EINVAL;
		s->msr[s->msr_count++] = (struct vcpu_msr){ .index = m.index, .value = m.value };
	}
	return HV_OK;
}

/* One sub-record's body into *s; the codec checked its length against its type. */
static int get_sub(uint32_t type, const uint8_t *b, uint32_t n, struct vcpu_state *s)
{
	struct migr_gprs g;
	struct migr_segments sg;
	struct migr_control c;
	struct migr_debug d;
	struct migr_events ev;
	unsigned i;

	switch (type) {
	case MIGR_SUB_GPRS:
		memcpy(&g, b, sizeof(g));
		s->rax = g.reg[0], s->rbx = g.reg[1], s->rcx = g.reg[2], s->rdx = g.reg[3];
		s->rsi = g.reg[4], s->rdi = g.reg[5], s->rbp = g.reg[6], s->rsp = g.reg[7];
		s->r8 = g.reg[8], s->r9 = g.reg[9], s->r10 = g.reg[10], s->r11 = g.reg[11];
		s->r12 = g.reg[12], s->r13 = g.reg[13], s->r14 = g.reg[14], s->r15 = g.reg[15];
		s->rip = g.reg[16], s->rflags = g.reg[17];
		return HV_OK;
	case MIGR_SUB_SEGMENTS:
		memcpy(&sg, b, sizeof(sg));
		for (i = 0; i < VCPU_SEG_COUNT; i++)
			s->seg[i] = (struct vcpu_segment){ .base = sg.seg[i].base, .limit = sg.seg[i].limit,
							   .ar = ar_of(sg.seg[i].attr), .selector = sg.seg[i].selector };
		s->gdtr = (struct vcpu_dtable){ .base = sg.gdtr.base, .limit = sg.gdtr.limit };
		s->idtr = (struct vcpu_dtable){ .base = sg.idtr.base, .limit = sg.idtr.limit };
		return HV_OK;
	case MIGR_SUB_CONTROL:
		memcpy(&c, b, sizeof(c));
		s->cr0 = c.cr0, s->cr2 = c.cr2, s->cr3 = c.cr3, s->cr4 = c.cr4, s->cr8 = c.cr8, s->efer = c.efer;
		return HV_OK;
	case MIGR_SUB_FPU:
		memcpy(s->fxsave, b, sizeof(s->fxsave));
		return HV_OK;
	case MIGR_SUB_DEBUG:
		memcpy(&d, b, sizeof(d));
		memcpy(s->dr, d.dr, sizeof(s->dr));
		s->dr6 = d.dr[4], s->dr7 = d.dr[5];
		return HV_OK;
	case MIGR_SUB_MSRS:
		return get_msrs(b, n, s);
	case MIGR_SUB_EVENTS:
		memcpy(&ev, b, sizeof(ev));
		s->activity = ev.activity, s->interruptibility = ev.interruptibility;
		s->pending_event = ev.pending_event, s->pending_error_code = ev.error_code;
		s->pending_dbg = ev.pending_debug;
		return HV_OK;
	default:
		return HV_EINVAL;
	}
}

int migr_hv_vcpu_decode(const uint8_t *subs, uint32_t len, uint32_t count, struct vcpu_state *s)
{
	uint32_t off = 0, i, seen = 0, all = ((1u << MIGR_SUB_COUNT) - 1) & ~1u;
	struct migr_sub_hdr h;
	int rc;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < count; i++) {
		if (len - off < sizeof(h))
			return HV_EINVAL;
		memcpy(&h, subs + off, sizeof(h));
		off += sizeof(h);
		if (h.length > len - off || h.type >= MIGR_SUB_COUNT || h.type == 0 || (seen >> h.type) & 1)
			return HV_EINVAL;
		if ((rc = get_sub(h.type, subs + off, h.length, s)))
			return rc;
		seen |= 1u << h.type;
		off += (uint32_t)MIGR_PAD8(h.length);
		if (off > len)
			return HV_EINVAL;
	}
	return seen == all ? HV_OK : HV_EINVAL; /* a vCPU runs from its whole state or not at all */
}
