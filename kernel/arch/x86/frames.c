#include "kernel/arch/x86/frames.h"

#include <string.h>
#include "kernel/lib/log.h"

#define LOW_MEMORY_END 0x100000ull /* BIOS data, EBDA and ROMs live below 1 MiB */

extern char __kernel_start[], __kernel_end[];

static struct frame_pool pool;

void frames_init(const struct mb2_info *mb, uint64_t mbi_pa, uint64_t mbi_size)
{
	size_t i;

	frame_pool_init(&pool);
	for (i = 0; i < mb->mmap_count; i++) {
		const struct mb2_mmap_entry *m = &mb->mmap[i];
		uint64_t end = m->base + m->length;

		if (m->type != MB2_MMAP_AVAILABLE || m->base >= FRAMES_LIMIT)
			continue;
		if (frame_pool_add(&pool, m->base, end < FRAMES_LIMIT ? end : FRAMES_LIMIT))
			log_warn("mem", "too many memory regions, ignoring %#llx+%#llx", (unsigned long long)m->base,
				 (unsigned long long)m->length);
	}
	frame_pool_reserve(&pool, 0, LOW_MEMORY_END);
	frame_pool_reserve(&pool, (uint64_t)(uintptr_t)__kernel_start, (uint64_t)(uintptr_t)__kernel_end);
	frame_pool_reserve(&pool, mbi_pa, mbi_pa + mbi_size);
	for (i = 0; i < mb->module_count; i++)
		frame_pool_reserve(&pool, mb->modules[i].start, mb->modules[i].end);
}

uint64_t frames_alloc_unzeroed(uint64_t size, uint64_t align)
{
	return frame_pool_take(&pool, size, align < FRAME_SIZE ? FRAME_SIZE : align);
}

uint64_t frames_alloc(uint64_t size, uint64_t align)
{
	uint64_t pa = frames_alloc_unzeroed(size, align);

	if (pa)
		memset((void *)(uintptr_t)pa, 0, (size + FRAME_SIZE - 1) & ~(FRAME_SIZE - 1));
	return pa;
}

int frames_free(uint64_t pa, uint64_t size) { return frame_pool_give(&pool, pa, size); }

uint64_t frames_free_bytes(void) { return frame_pool_free_bytes(&pool); }
