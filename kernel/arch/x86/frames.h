/*
 * Physical memory: free regions from the boot memory map, handed out as
 * contiguous, aligned runs of 4 KiB frames. The first 4 GiB are identity-
 * mapped, so a frame's physical address is also its host pointer.
 */
#ifndef HV_KERNEL_ARCH_X86_FRAMES_H
#define HV_KERNEL_ARCH_X86_FRAMES_H

#include <stdint.h>
#include "kernel/core/frame_pool.h"
#include "kernel/core/multiboot2.h"

#define FRAMES_LIMIT (4ull << 30) /* what the boot page tables map */

/* The hypervisor's pool, built from the Multiboot2 memory map. */
void frames_init(const struct mb2_info *mb, uint64_t mbi_pa, uint64_t mbi_size);
/* Zeroed, contiguous frames; 0 when none are left. */
uint64_t frames_alloc(uint64_t size, uint64_t align);
/*
 * The same, not zeroed: they hold whatever their last owner left. Only for
 * memory whose every byte is written before anything reads it.
 */
uint64_t frames_alloc_unzeroed(uint64_t size, uint64_t align);
/* Gives back frames frames_alloc() handed out (size as asked); HV_EINVAL if any is free already. */
int frames_free(uint64_t pa, uint64_t size);
uint64_t frames_free_bytes(void);

#endif
