/*
 * What the test guest writes into its pages, and where (docs/test-guest.md).
 * Pure functions, no guest dependencies: compiled into the 32-bit guest and
 * into 64-bit host tools (hypervisor unit tests, migration checkers).
 *
 * A page written with generation gen >= 1 holds a 16-byte header
 * {magic, pfn, gen, vcpu} and then 1020 32-bit words of a xorshift32 stream
 * seeded from (pfn, gen). Generation 0 means "never written": all zero.
 * Words are little-endian, so byte offsets agree between guest and host.
 */
#ifndef GUEST_PAGE_CONTENT_H
#define GUEST_PAGE_CONTENT_H

#include <stdint.h>

#define GUEST_PAGE_SIZE 4096u
#define GUEST_PAGE_SHIFT 12
#define GUEST_PAGE_MAGIC 0x47505447u /* "GTPG" */

struct guest_page_header {
	uint32_t magic; /* GUEST_PAGE_MAGIC */
	uint32_t pfn;   /* GPA >> 12 of the page itself */
	uint32_t gen;   /* write generation of this page, >= 1 */
	uint32_t vcpu;  /* the writer (informational; see page_check_owned) */
};

/* Writes the whole page for (pfn, gen); gen 0 writes zeros. */
void page_fill(void *page, uint32_t pfn, uint32_t gen, uint32_t vcpu);

/*
 * 0 if the page holds exactly what page_fill(pfn, gen, any vcpu) wrote;
 * else -1 and the offset of the first wrong byte in *bad_offset. Every byte
 * is checked except the header's vcpu field (all of it for gen 0).
 */
int page_check(const void *page, uint32_t pfn, uint32_t gen, uint32_t *bad_offset);

/* page_check that also requires the header's vcpu field to be vcpu. */
int page_check_owned(const void *page, uint32_t pfn, uint32_t gen, uint32_t vcpu,
		     uint32_t *bad_offset);

/* The generation recorded in a page's header (whatever is there). */
uint32_t page_found_gen(const void *page);

/*
 * One vCPU's share of the data region [HV_GUEST_DATA_GPA, ram_size): the
 * region's pages are split into vcpus equal contiguous slices (the remainder
 * pages at the end are unused). A slice starts with its generation table,
 * one uint32_t per data page (index i = page data_pfn + i; 0 = never
 * written), followed by the data pages.
 */
struct guest_slice {
	uint32_t table_pfn;   /* first page of the generation table */
	uint32_t table_pages; /* pages of generation table */
	uint32_t data_pfn;    /* first data page */
	uint32_t data_pages;  /* data pages (>= 1) */
};

/* Fills *s for vCPU vcpu; -1 if the arguments are invalid or RAM is too small. */
int guest_slice(uint64_t ram_size, uint32_t vcpus, uint32_t vcpu, struct guest_slice *s);

#endif
