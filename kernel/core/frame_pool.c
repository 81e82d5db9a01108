/* The frame pool's arithmetic: pure, tested on the host (tests/unit/test_frame_pool.c). */
#include "kernel/core/frame_pool.h"

#include <stddef.h>
#include "kernel/lib/err.h"

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }
static uint64_t align_down(uint64_t v, uint64_t a) { return v & ~(a - 1); }

void frame_pool_init(struct frame_pool *p) { p->count = 0; }

/* The slot for a new region: one emptied by reserve or take, else the next unused; FRAMES_MAX_REGIONS when full. */
static unsigned slot_for_new(const struct frame_pool *p)
{
	unsigned i;

	for (i = 0; i < p->count; i++)
		if (p->regions[i].end <= p->regions[i].base)
			return i;
	return p->count;
}

int frame_pool_add(struct frame_pool *p, uint64_t base, uint64_t end)
{
	unsigned slot;

	base = align_up(base ? base : FRAME_SIZE, FRAME_SIZE); /* frame 0 would read as "none left" */
	end = align_down(end, FRAME_SIZE);
	if (end <= base)
		return HV_OK;
	slot = slot_for_new(p);
	if (slot == FRAMES_MAX_REGIONS)
		return HV_ENOMEM;
	if (slot == p->count)
		p->count++;
	p->regions[slot] = (struct frame_region){ base, end };
	return HV_OK;
}

int frame_pool_reserve(struct frame_pool *p, uint64_t base, uint64_t end)
{
	unsigned i;

	base = align_down(base, FRAME_SIZE);
	end = align_up(end, FRAME_SIZE);
	if (end <= base)
		return HV_OK; /* an inverted range would otherwise "split" a region into overlapping halves */
	for (i = 0; i < p->count; i++) {
		struct frame_region *r = &p->regions[i];

		if (end <= r->base || base >= r->end)
			continue;
		if (base > r->base && end < r->end) {
			/* The hole splits the region in two. */
			uint64_t tail_end = r->end;

			r->end = base;
			if (frame_pool_add(p, end, tail_end))
				return HV_ENOMEM;
		} else if (base <= r->base) {
			r->base = end < r->end ? end : r->end;
		} else {
			r->end = base;
		}
	}
	return HV_OK;
}

uint64_t frame_pool_take(struct frame_pool *p, uint64_t size, uint64_t align)
{
	unsigned i;

	size = align_up(size, FRAME_SIZE);
	for (i = 0; i < p->count; i++) {
		struct frame_region *r = &p->regions[i];
		uint64_t start = align_up(r->base, align);

		if (start < r->end && r->end - start >= size) {
			/* Keep the alignment gap in the pool as a region of its own. */
			uint64_t gap_base = r->base;

			if (start > gap_base && r->end - start > size && slot_for_new(p) == FRAMES_MAX_REGIONS)
				continue; /* nowhere to keep the gap: look elsewhere rather than lose it */
			r->base = start + size;
			if (start > gap_base)
				frame_pool_add(p, gap_base, start);
			return start;
		}
	}
	return 0;
}

int frame_pool_give(struct frame_pool *p, uint64_t base, uint64_t size)
{
	uint64_t end = base + align_up(size, FRAME_SIZE);
	struct frame_region *before = NULL, *after = NULL;
	unsigned i;

	if (!size || base % FRAME_SIZE || end < base)
		return HV_EINVAL;
	for (i = 0; i < p->count; i++) {
		struct frame_region *r = &p->regions[i];

		if (r->end <= r->base)
			continue;
		if (base < r->end && end > r->base)
			return HV_EINVAL; /* a double free would hand the same frames out twice */
		if (r->end == base)
			before = r;
		else if (r->base == end)
			after = r;
	}
	if (before && after) {
		before->end = after->end;
		after->end = after->base; /* its slot is reused by the next add */
	} else if (before) {
		before->end = end;
	} else if (after) {
		after->base = base;
	} else {
		return frame_pool_add(p, base, end);
	}
	return HV_OK;
}

uint64_t frame_pool_free_bytes(const struct frame_pool *p)
{
	uint64_t total = 0;
	unsigned i;

	for (i = 0; i < p->count; i++)
		total += p->regions[i].end - p->regions[i].base;
	return total;
}

