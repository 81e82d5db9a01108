#include "kernel/guest_abi.h"
#include "tests/guest/page_content.h"

#define PAGE_WORDS (GUEST_PAGE_SIZE / 4)
#define HEADER_WORDS 4
#define VCPU_WORD 3

/* murmur3's finalizer: a cheap bijective 32-bit mix. */
static uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x;
}

static uint32_t stream_seed(uint32_t pfn, uint32_t gen)
{
	uint32_t s = mix32(pfn ^ mix32(gen + 0x9e3779b9u));

	return s ? s : 1; /* xorshift32 state must not be 0 */
}

/* xorshift32: never yields 0, so no pattern word equals a zeroed word. */
static inline uint32_t stream_next(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

void page_fill(void *page, uint32_t pfn, uint32_t gen, uint32_t vcpu)
{
	uint32_t *w = page;

	if (gen == 0) {
		for (uint32_t i = 0; i < PAGE_WORDS; i++)
			w[i] = 0;
		return;
	}
	uint32_t s = stream_seed(pfn, gen);

	w[0] = GUEST_PAGE_MAGIC;
	w[1] = pfn;
	w[2] = gen;
	w[3] = vcpu;
	for (uint32_t i = HEADER_WORDS; i < PAGE_WORDS; i++)
		w[i] = stream_next(&s);
}

/* Offset of the first differing byte of word i (little-endian). */
static uint32_t bad_byte(uint32_t i, uint32_t found, uint32_t expected)
{
	return i * 4 + (uint32_t)__builtin_ctz(found ^ expected) / 8;
}

static int check(const void *page, uint32_t pfn, uint32_t gen, int check_vcpu, uint32_t vcpu,
		 uint32_t *bad_offset)
{
	const uint32_t *w = page;
	uint32_t i, e;

	if (gen == 0) {
		for (i = 0; i < PAGE_WORDS; i++)
			if (w[i] != 0)
				goto bad_zero;
		return 0;
	}
	uint32_t hdr[HEADER_WORDS] = { GUEST_PAGE_MAGIC, pfn, gen, vcpu };

	for (i = 0; i < HEADER_WORDS; i++) {
		if (i == VCPU_WORD && !check_vcpu)
			continue;
		if (w[i] != hdr[i]) {
			e = hdr[i];
			goto bad;
		}
	}
	uint32_t s = stream_seed(pfn, gen);

	for (; i < PAGE_WORDS; i++) {
		e = stream_next(&s);
		if (w[i] != e)
			goto bad;
	}
	return 0;
bad_zero:
	e = 0;
bad:
	if (bad_offset)
		*bad_offset = bad_byte(i, w[i], e);
	return -1;
}

int page_check(const void *page, uint32_t pfn, uint32_t gen, uint32_t *bad_offset)
{
	return check(page, pfn, gen, 0, 0, bad_offset);
}

int page_check_owned(const void *page, uint32_t pfn, uint32_t gen, uint32_t vcpu,
		     uint32_t *bad_offset)
{
	return check(page, pfn, gen, 1, vcpu, bad_offset);
}

uint32_t page_found_gen(const void *page)
{
	return ((const struct guest_page_header *)page)->gen;
}

int guest_slice(uint64_t ram_size, uint32_t vcpus, uint32_t vcpu, struct guest_slice *s)
{
	const uint32_t first = HV_GUEST_DATA_GPA >> GUEST_PAGE_SHIFT;

	if (vcpus == 0 || vcpu >= vcpus || ram_size > (1ull << 44) ||
	    ram_size < HV_GUEST_DATA_GPA + 2ull * GUEST_PAGE_SIZE * vcpus)
		return -1;
	uint32_t per = (uint32_t)((ram_size >> GUEST_PAGE_SHIFT) - first) / vcpus;

	/* t table pages index up to t * 1024 data pages: need t * 1025 >= per. */
	s->table_pages = (per + PAGE_WORDS) / (PAGE_WORDS + 1);
	s->table_pfn = first + vcpu * per;
	s->data_pfn = s->table_pfn + s->table_pages;
	s->data_pages = per - s->table_pages;
	return 0;
}
