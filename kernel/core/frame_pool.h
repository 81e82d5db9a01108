/*
 * A pool of free physical memory: page-aligned regions from which
 * contiguous, aligned runs of 4 KiB frames are taken. Pure arithmetic,
 * tested on the host; kernel/arch/x86/frames.h builds the hypervisor's pool.
 */
#ifndef HV_KERNEL_CORE_FRAME_POOL_H
#define HV_KERNEL_CORE_FRAME_POOL_H

#include <stdint.h>

#define FRAME_SIZE 0x1000ull
#define FRAMES_MAX_REGIONS 64

struct frame_region {
	uint64_t base, end; /* [base, end), page aligned */
};

struct frame_pool {
	struct frame_region regions[FRAMES_MAX_REGIONS];
	unsigned count;
};

/* Pure operations on a pool, tested on the host. */
void frame_pool_init(struct frame_pool *p);
int frame_pool_add(struct frame_pool *p, uint64_t base, uint64_t end);
int frame_pool_reserve(struct frame_pool *p, uint64_t base, uint64_t end);
/* Takes size bytes aligned to align (a power of two >= 4 KiB); returns the address or 0. */
uint64_t frame_pool_take(struct frame_pool *p, uint64_t size, uint64_t align);
/*
 * Gives back [base, base + size) taken earlier: it joins the regions it
 * touches, so that a VM's RAM freed after a migration can be taken again
 * whole. HV_EINVAL (nothing changes) if any frame of it is free already;
 * HV_ENOMEM when it touches no region and every slot is in use.
 */
int frame_pool_give(struct frame_pool *p, uint64_t base, uint64_t size);
uint64_t frame_pool_free_bytes(const struct frame_pool *p);

#endif
