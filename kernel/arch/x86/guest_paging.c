/* The guest's paging walked in software: see guest_paging.h. */
#include "kernel/arch/x86/guest_paging.h"

#include "kernel/lib/err.h"

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_ADDR64 0x000ffffffffff000ull /* bits 51:12 of a PAE or 64-bit entry */
#define PTE_ADDR32 0xfffff000ull
#define PSE_4M_LOW 0xffc00000ull         /* a 4 MiB page's bits 31:22; bits 20:13 hold 39:32 */
#define PAE_PDPT_MASK 0xffffffe0ull      /* CR3 in PAE paging: a 32-byte aligned table */
#define LEVELS_MAX 5

/* The entries one walk read: where each lies, how wide, what it held. */
struct walk {
	const struct gpt_mem *mem;
	uint64_t gpa[LEVELS_MAX], val[LEVELS_MAX];
	unsigned width, n;
};

static int read_entry(struct walk *w, uint64_t gpa, uint64_t *e)
{
	uint32_t v32 = 0;
	uint64_t v64 = 0;
	int rc = w->width == 4 ? w->mem->read(w->mem->ctx, gpa, &v32, 4) : w->mem->read(w->mem->ctx, gpa, &v64, 8);

	if (rc)
		return rc < 0 ? rc : HV_ERANGE;
	*e = w->width == 4 ? v32 : v64;
	w->gpa[w->n] = gpa;
	w->val[w->n++] = *e;
	return HV_OK;
}

/*
 * The CPU sets each entry's accessed flag, and the leaf's dirty flag on a
 * write, once the access is allowed, with a locked update: another vCPU may
 * change an entry between the walk's read and this write (a guest on
 * several CPUs clearing a present bit, or setting the same flags), and the
 * flags must not bring back what it changed. An entry that no longer holds
 * what was read ends the walk with GPT_RETRY.
 */
static int set_flags(struct walk *w, bool write)
{
	uint64_t want;
	unsigned i;
	int rc;

	for (i = 0; i < w->n; i++) {
		want = w->val[i] | PTE_A | (write && i == w->n - 1 ? PTE_D : 0);
		if (want == w->val[i])
			continue;
		rc = w->mem->cmpxchg(w->mem->ctx, w->gpa[i], w->val[i], want, w->width);
		if (rc == 0)
			return GPT_RETRY;
		if (rc != 1)
			return rc < 0 ? rc : HV_ERANGE;
	}
	return HV_OK;
}

static int fault(uint32_t *pf_error, bool present, bool write, bool user)
{
	*pf_error = (present ? GPT_PF_P : 0) | (write ? GPT_PF_W : 0) | (user ? GPT_PF_U : 0);
	return GPT_FAULT;
}

static bool canonical(uint64_t la, unsigned bits)
{
	return (uint64_t)((int64_t)(la << (64 - bits)) >> (64 - bits)) == la;
}

int gpt_translate(const struct gpt_cpu *cpu, const struct gpt_mem *mem, uint64_t la, unsigned access,
		  uint64_t *gpa, uint32_t *pf_error)
{
	struct walk w = { .mem = mem, .width = 8 };
	bool write = access & GPT_WRITE, user = access & GPT_USER, rw = true, us = true, large;
	uint64_t table, e = 0, frame, offset_mask;
	unsigned shift, index_bits = 9;
	int rc;

	if (!(cpu->cr0 & GPT_CR0_PG)) {
		*gpa = (uint32_t)la;
		return GPT_OK;
	}
	if (cpu->efer & GPT_EFER_LMA) {
		shift = cpu->cr4 & GPT_CR4_LA57 ? 48 : 39;
		if (!canonical(la, shift + 9))
			return GPT_GP;
		table = cpu->cr3 & PTE_ADDR64;
	} else if (cpu->cr4 & GPT_CR4_PAE) {
		la = (uint32_t)la;
		/* The PDPTEs have a present bit and no access rights, and no accessed flag to set. */
		rc = mem->read(mem->ctx, (cpu->cr3 & PAE_PDPT_MASK) + ((la >> 30) & 3) * 8, &e, 8);
		if (rc)
			return rc < 0 ? rc : HV_ERANGE;
		if (!(e & PTE_P))
			return fault(pf_error, false, write, user);
		table = e & PTE_ADDR64;
		shift = 21;
	} else {
		la = (uint32_t)la;
		w.width = 4;
		index_bits = 10;
		table = cpu->cr3 & PTE_ADDR32;
		shift = 22;
	}
	for (;;) {
		rc = read_entry(&w, table + ((la >> shift) & ((1ull << index_bits) - 1)) * w.width, &e);
		if (rc)
			return rc;
		if (!(e & PTE_P))
			return fault(pf_error, false, write, user);
		rw = rw && (e & PTE_RW);
		us = us && (e & PTE_US);
		large = (e & PTE_PS) && (w.width == 4 ? shift == 22 && (cpu->cr4 & GPT_CR4_PSE) : shift == 21 || shift == 30);
		if (shift == 12 || large)
			break;
		table = e & (w.width == 4 ? PTE_ADDR32 : PTE_ADDR64);
		shift -= index_bits;
	}
	offset_mask = (1ull << shift) - 1;
	if (w.width == 4)
		frame = large ? (e & PSE_4M_LOW) | (((e >> 13) & 0xff) << 32) : e & PTE_ADDR32;
	else
		frame = e & PTE_ADDR64 & ~offset_mask; /* a large page's bit 12 is its PAT bit */
	if ((user && !us) || (write && !rw && (user || (cpu->cr0 & GPT_CR0_WP))) ||
	    (!user && us && (access & GPT_SMAP)))
		return fault(pf_error, true, write, user);
	rc = access & GPT_PEEK ? HV_OK : set_flags(&w, write);
	if (rc)
		return rc;
	*gpa = frame | (la & offset_mask);
	return GPT_OK;
}
