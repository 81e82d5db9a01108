/*
 * Physical memory: free regions from the boot memory map, handed out as
 * contiguous, aligned runs of 4 KiB frames. The first 4 GiB are identity-
 * mapped, so a frame's physical address is also its host pointer.
 */
#ifndef HV_KERNEL_MEM_FRAMES_H
#define HV_KERNEL_MEM_FRAMES_H

#include <stdint.h>
#include "kernel/multiboot2.h"

#define FRAME_SIZE 0x1000ull
#define FRAMES_MAX_REGIONS 64
#define FRAMES_LIMIT (4ull << 30) /* what the boot page tables map */

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
uint64_t frame_pool_free_bytes(const struct frame_pool *p);

/* The hypervisor's pool, built from the Multiboot2 memory map. */
void frames_init(const struct mb2_info *mb, uint64_t mbi_pa, uint64_t mbi_size);
/* Zeroed, contiguous frames; 0 when none are left. */
uint64_t frames_alloc(uint64_t size, uint64_t align);
uint64_t frames_free_bytes(void);

#endif
