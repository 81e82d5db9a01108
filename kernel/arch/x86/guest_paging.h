/*
 * The guest's own paging, walked in software: a guest linear address to a
 * guest physical one, as the CPU would for a data access (SDM Vol. 3A,
 * chapter 4: paging off, 32-bit, PAE, 4- and 5-level). For instructions the
 * hypervisor carries out on the guest's behalf, such as string port I/O.
 *
 * Pure: the tables are read and their accessed and dirty flags set through
 * the caller's callbacks, so the walk is tested on the host.
 */
#ifndef HV_KERNEL_ARCH_X86_GUEST_PAGING_H
#define HV_KERNEL_ARCH_X86_GUEST_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#define GPT_CR0_WP (1ull << 16)
#define GPT_CR0_PG (1ull << 31)
#define GPT_CR4_PSE (1ull << 4)
#define GPT_CR4_PAE (1ull << 5)
#define GPT_CR4_LA57 (1ull << 12)
#define GPT_EFER_LMA (1ull << 10)

/* Page-fault error code bits (SDM Vol. 3A, 4.7). */
#define GPT_PF_P (1u << 0)
#define GPT_PF_W (1u << 1)
#define GPT_PF_U (1u << 2)

/* What an access is. */
#define GPT_WRITE (1u << 0)
#define GPT_USER (1u << 1) /* at CPL 3 */
#define GPT_PEEK (1u << 2) /* a look for a log, not an access: no flag is set */
/*
 * A supervisor access under SMAP (CR4.SMAP set, RFLAGS.AC clear, at CPL 0-2): a page the user may
 * reach (U/S set at every level) faults (SDM Vol. 3A, 4.6.1). The caller decides, from CR4 and RFLAGS.
 */
#define GPT_SMAP (1u << 3)

struct gpt_cpu {
	uint64_t cr0, cr3, cr4, efer;
};

/*
 * Guest physical memory for the walk. read: 0 on success, an HV_E* error
 * outside RAM. cmpxchg: an atomic compare-and-exchange of the naturally
 * aligned entry of len (4 or 8) bytes at gpa: 1 if it held old and now holds
 * new, 0 if it held something else (left alone), an HV_E* error outside RAM.
 */
struct gpt_mem {
	int (*read)(void *ctx, uint64_t gpa, void *dst, unsigned len);
	int (*cmpxchg)(void *ctx, uint64_t gpa, uint64_t old, uint64_t new, unsigned len);
	void *ctx;
};

enum gpt_result {
	GPT_OK = 0,
	GPT_FAULT = 1, /* the guest takes #PF with *pf_error; CR2 is the linear address */
	GPT_GP = 2,    /* a non-canonical address in 64-bit paging: the guest takes #GP(0) */
	GPT_RETRY = 3, /* an entry changed under the walk (another vCPU's write): run the instruction again */
};

/*
 * Translates la for an access of kind access (GPT_WRITE, GPT_USER, GPT_SMAP, GPT_PEEK).
 * GPT_OK with *gpa, and the accessed flags (and the leaf's dirty flag for a
 * write) set as the CPU sets them, each with a compare-and-exchange;
 * GPT_FAULT with *pf_error or GPT_GP, nothing changed; GPT_RETRY when an
 * entry no longer held what the walk read (flags set on the levels above
 * it may stay, as a CPU's may); or a negative HV_E* error when a table lies
 * outside guest RAM.
 * Not modelled: reserved-bit faults and protection keys; SMEP concerns
 * instruction fetches, which the hypervisor never makes for the guest.
 */
int gpt_translate(const struct gpt_cpu *cpu, const struct gpt_mem *mem, uint64_t la, unsigned access,
		  uint64_t *gpa, uint32_t *pf_error);

#endif
