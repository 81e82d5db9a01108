#include "kernel/core/ept.h"

#include <stddef.h>
#include "kernel/lib/err.h"
#include <string.h>

#define EPT_LEVELS 4
#define EPT_TABLE_PERMS EPT_RWX /* non-leaf entries allow everything; leaves decide */

static unsigned ept_index(uint64_t gpa, int level)
{
	/* level 3 = PML4, 2 = PDPT, 1 = PD, 0 = PT */
	return (unsigned)(gpa >> (12 + 9 * level)) & (EPT_ENTRIES - 1);
}

static bool ept_present(uint64_t entry) { return (entry & EPT_RWX) != 0; }

/* A zeroed table: one merged away earlier if there is one, else new memory. */
static uint64_t ept_table_alloc(struct ept *e)
{
	uint64_t pa = e->free_pa;

	if (pa) {
		uint64_t *t = e->mem.table(e->mem.ctx, pa);

		e->free_pa = t[0];
		e->free_tables--;
		memset(t, 0, EPT_PAGE_4K);
	} else {
		pa = e->mem.alloc_table(e->mem.ctx);
		if (!pa)
			return 0;
	}
	e->tables++;
	return pa;
}

static void ept_table_free(struct ept *e, uint64_t pa)
{
	e->mem.table(e->mem.ctx, pa)[0] = e->free_pa;
	e->free_pa = pa;
	e->free_tables++;
	e->tables--;
}

int ept_init(struct ept *e, const struct ept_mem *mem)
{
	*e = (struct ept){ .mem = *mem };
	e->pml4_pa = mem->alloc_table(mem->ctx);
	if (!e->pml4_pa)
		return HV_ENOMEM;
	e->tables = 1;
	return HV_OK;
}

/* Gives back the table at pa of the given level (3 = PML4) and every table below it. */
static void ept_destroy_table(struct ept *e, uint64_t pa, int level)
{
	const uint64_t *t = e->mem.table(e->mem.ctx, pa);
	unsigned i;

	for (i = 0; level > 0 && i < EPT_ENTRIES; i++)
		if (ept_present(t[i]) && !(t[i] & EPT_LARGE))
			ept_destroy_table(e, t[i] & EPT_ADDR_MASK, level - 1);
	e->mem.free_table(e->mem.ctx, pa);
}

void ept_destroy(struct ept *e)
{
	uint64_t pa;

	if (!e->pml4_pa)
		return;
	if (e->mem.free_table) {
		ept_destroy_table(e, e->pml4_pa, EPT_LEVELS - 1);
		while ((pa = e->free_pa)) {
			e->free_pa = e->mem.table(e->mem.ctx, pa)[0];
			e->mem.free_table(e->mem.ctx, pa);
		}
	}
	*e = (struct ept){ .mem = e->mem };
}

/* Walks to the table at stop_level for gpa, creating tables on the way. */
static uint64_t *ept_walk_create(struct ept *e, uint64_t gpa, int stop_level)
{
	uint64_t *table = e->mem.table(e->mem.ctx, e->pml4_pa);
	int level;

	for (level = EPT_LEVELS - 1; level > stop_level; level--) {
		uint64_t *entry = &table[ept_index(gpa, level)];

		if (!ept_present(*entry)) {
			uint64_t pa = ept_table_alloc(e);

			if (!pa)
				return NULL;
			*entry = pa | EPT_TABLE_PERMS;
		} else if (*entry & EPT_LARGE) {
			return NULL; /* callers check for overlaps first */
		}
		table = e->mem.table(e->mem.ctx, *entry & EPT_ADDR_MASK);
	}
	return table;
}

/* Finds the leaf entry mapping gpa and its level, or NULL. */
static uint64_t *ept_leaf(const struct ept *e, uint64_t gpa, int *level_out)
{
	uint64_t *table = e->mem.table(e->mem.ctx, e->pml4_pa);
	int level;

	if (gpa >= EPT_GPA_LIMIT)
		return NULL; /* the walk uses bits 47:12 only: higher addresses would alias low ones */

	for (level = EPT_LEVELS - 1; level >= 0; level--) {
		uint64_t *entry = &table[ept_index(gpa, level)];

		if (!ept_present(*entry))
			return NULL;
		if (level == 0 || (*entry & EPT_LARGE)) {
			*level_out = level;
			return entry;
		}
		table = e->mem.table(e->mem.ctx, *entry & EPT_ADDR_MASK);
	}
	return NULL;
}

static bool ept_range_free(const struct ept *e, uint64_t gpa, uint64_t size)
{
	uint64_t off;
	int level;

	/* A mapping is at least 4 KiB, so probing every 4 KiB finds any overlap. */
	for (off = 0; off < size; off += EPT_PAGE_4K)
		if (ept_leaf(e, gpa + off, &level))
			return false;
	return true;
}

int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms, bool large)
{
	uint64_t off = 0;

	if ((gpa | hpa | size) & (EPT_PAGE_4K - 1) || size == 0 || (perms & ~EPT_RWX) || !(perms & EPT_READ))
		return HV_EINVAL;
	if (gpa >= EPT_GPA_LIMIT || size > EPT_GPA_LIMIT - gpa || (hpa & ~EPT_ADDR_MASK) ||
	    size > EPT_ADDR_MASK + EPT_PAGE_4K - hpa) /* hpa + size must stay within the address bits */
		return HV_ERANGE;
	if (!ept_range_free(e, gpa, size))
		return HV_EEXIST;

	while (off < size) {
		uint64_t g = gpa + off, h = hpa + off, left = size - off;
		bool big = large && !(g & (EPT_PAGE_2M - 1)) && !(h & (EPT_PAGE_2M - 1)) && left >= EPT_PAGE_2M;
		uint64_t *table = ept_walk_create(e, g, big ? 1 : 0);

		if (!table)
			return HV_ENOMEM;
		if (big) {
			table[ept_index(g, 1)] = h | perms | EPT_MEMTYPE_WB | EPT_LARGE;
			e->pages_2m++;
			off += EPT_PAGE_2M;
		} else {
			table[ept_index(g, 0)] = h | perms | EPT_MEMTYPE_WB;
			e->pages_4k++;
			off += EPT_PAGE_4K;
		}
	}
	return HV_OK;
}

int ept_translate(const struct ept *e, uint64_t gpa, uint64_t *hpa, uint64_t *perms)
{
	int level;
	uint64_t *leaf = gpa < EPT_GPA_LIMIT ? ept_leaf(e, gpa, &level) : NULL;
	uint64_t page_mask;

	if (!leaf) /* past 2^48 too: the walk would use only bits 47:12 */
		return HV_ENOENT;
	page_mask = (1ull << (12 + 9 * level)) - 1;
	if (hpa)
		*hpa = (*leaf & EPT_ADDR_MASK & ~page_mask) | (gpa & page_mask);
	if (perms)
		*perms = *leaf & EPT_RWX;
	return HV_OK;
}

int ept_split_range(struct ept *e, uint64_t gpa, uint64_t size)
{
	uint64_t g = gpa & ~(EPT_PAGE_2M - 1), end = gpa + size;
	int split = 0;

	for (; g < end; g += EPT_PAGE_2M) {
		int level;
		uint64_t *leaf = ept_leaf(e, g, &level);
		uint64_t pa, *table, flags;
		unsigned i;

		if (!leaf || level != 1)
			continue;
		pa = ept_table_alloc(e);
		if (!pa)
			return HV_ENOMEM;
		table = e->mem.table(e->mem.ctx, pa);
		flags = *leaf & ~EPT_ADDR_MASK & ~EPT_LARGE;
		for (i = 0; i < EPT_ENTRIES; i++)
			table[i] = ((*leaf & EPT_ADDR_MASK) + (uint64_t)i * EPT_PAGE_4K) | flags;
		/* Install the table only once it is complete: the walk never sees half of it. */
		*leaf = pa | EPT_TABLE_PERMS | EPT_SW_SPLIT;
		e->pages_2m--;
		e->pages_4k += EPT_ENTRIES;
		split++;
	}
	return split;
}

/* The 2 MiB leaf that the page table t could become, or 0 if its leaves differ in more than A/D. */
static uint64_t ept_merged_leaf(const uint64_t *t)
{
	const uint64_t ad = EPT_ACCESSED | EPT_DIRTY, flags = t[0] & ~EPT_ADDR_MASK & ~ad;
	uint64_t base = t[0] & EPT_ADDR_MASK, any_ad = 0;
	unsigned i;

	if (!ept_present(t[0]) || (base & (EPT_PAGE_2M - 1)))
		return 0;
	for (i = 0; i < EPT_ENTRIES; i++) {
		if ((t[i] & ~ad) != ((base + (uint64_t)i * EPT_PAGE_4K) | flags))
			return 0;
		any_ad |= t[i] & ad;
	}
	return base | flags | any_ad | EPT_LARGE;
}

/* The PD entry that covers gpa, or NULL when a level above it is absent or a 1 GiB leaf. */
static uint64_t *ept_pde(const struct ept *e, uint64_t gpa)
{
	uint64_t *table = e->mem.table(e->mem.ctx, e->pml4_pa);
	int level;

	for (level = EPT_LEVELS - 1; level > 1; level--) {
		uint64_t entry = table[ept_index(gpa, level)];

		if (!ept_present(entry) || (entry & EPT_LARGE))
			return NULL;
		table = e->mem.table(e->mem.ctx, entry & EPT_ADDR_MASK);
	}
	return &table[ept_index(gpa, 1)];
}

int ept_merge_range(struct ept *e, uint64_t gpa, uint64_t size)
{
	uint64_t g = gpa & ~(EPT_PAGE_2M - 1), end = gpa + size;
	int merged = 0;

	if (gpa >= EPT_GPA_LIMIT || size > EPT_GPA_LIMIT - gpa)
		return HV_ERANGE;
	for (; g < end; g += EPT_PAGE_2M) {
		uint64_t *pde = ept_pde(e, g), table_pa, leaf;

		if (!pde || !ept_present(*pde) || (*pde & EPT_LARGE) || !(*pde & EPT_SW_SPLIT))
			continue;
		table_pa = *pde & EPT_ADDR_MASK;
		leaf = ept_merged_leaf(e->mem.table(e->mem.ctx, table_pa));
		if (!leaf)
			continue;
		*pde = leaf;
		ept_table_free(e, table_pa);
		e->pages_4k -= EPT_ENTRIES;
		e->pages_2m++;
		merged++;
	}
	return merged;
}

uint64_t *ept_leaf_4k(const struct ept *e, uint64_t gpa)
{
	int level;
	uint64_t *leaf = ept_leaf(e, gpa, &level);

	return leaf && level == 0 ? leaf : NULL;
}

int ept_update_range(struct ept *e, uint64_t gpa, uint64_t size, uint64_t clear, uint64_t set)
{
	uint64_t off;

	for (off = 0; off < size; off += EPT_PAGE_4K) {
		int level;
		uint64_t *leaf = ept_leaf(e, gpa + off, &level);

		if (!leaf)
			return HV_ENOENT;
		if (level != 0)
			return HV_EINVAL;
		*leaf = (*leaf & ~clear) | set;
	}
	return HV_OK;
}

uint64_t ept_pointer(const struct ept *e, bool accessed_dirty)
{
	return e->pml4_pa | EPTP_WALK_4 | EPTP_MEMTYPE_WB | (accessed_dirty ? EPTP_AD_ENABLE : 0);
}
