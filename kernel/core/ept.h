/*
 * Extended page tables (Intel SDM vol. 3C, 29.3): four-level tables that map
 * guest-physical to host-physical addresses. Generic over how table memory
 * is allocated and reached (struct ept_mem), so the same code builds tables
 * in the hypervisor and in host buffers for unit tests.
 */
#ifndef HV_KERNEL_CORE_EPT_H
#define HV_KERNEL_CORE_EPT_H

#include <stdbool.h>
#include <stdint.h>

#define EPT_READ (1ull << 0)
#define EPT_WRITE (1ull << 1)
#define EPT_EXEC (1ull << 2)
#define EPT_RWX (EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_MEMTYPE_WB (6ull << 3)     /* leaf entries: memory type write-back */
#define EPT_IGNORE_PAT (1ull << 6)
#define EPT_LARGE (1ull << 7)          /* PDE/PDPTE maps a 2 MiB / 1 GiB page */
#define EPT_ACCESSED (1ull << 8)
#define EPT_DIRTY (1ull << 9)
/* Bit 52 is ignored by the CPU in every EPT entry: ours marks a table that ept_split_range made. */
#define EPT_SW_SPLIT (1ull << 52)
#define EPT_ADDR_MASK 0x000ffffffffff000ull

#define EPTP_MEMTYPE_WB 6ull
#define EPTP_WALK_4 (3ull << 3)
#define EPTP_AD_ENABLE (1ull << 6)

#define EPT_ENTRIES 512
#define EPT_PAGE_4K 0x1000ull
#define EPT_PAGE_2M 0x200000ull
#define EPT_GPA_LIMIT (1ull << 48)

struct ept_mem {
	/* Returns the physical address of a zeroed 4 KiB table, or 0 when out of memory. */
	uint64_t (*alloc_table)(void *ctx);
	/* Returns a pointer through which the table at pa can be read and written. */
	uint64_t *(*table)(void *ctx, uint64_t pa);
	void *ctx;
	/* Takes back a table alloc_table returned (ept_destroy); NULL: the memory is the caller's to reclaim. */
	void (*free_table)(void *ctx, uint64_t pa);
};

struct ept {
	struct ept_mem mem;
	uint64_t pml4_pa;
	uint64_t tables;       /* tables in use, the PML4 included */
	uint64_t pages_4k;     /* leaf mappings installed, by size */
	uint64_t pages_2m;
	/*
	 * Tables freed by ept_merge_range, for the next split or map to reuse
	 * while the EPT lives (ept_destroy gives them back). Linked through entry 0.
	 */
	uint64_t free_pa;
	uint64_t free_tables;
};

int ept_init(struct ept *e, const struct ept_mem *mem);

/*
 * Gives every table of e back through mem.free_table: the PML4, every table
 * under it and the free list. The memory it mapped is not touched. Leaves e
 * empty (pml4_pa 0); destroying an empty EPT does nothing.
 */
void ept_destroy(struct ept *e);

/*
 * Maps [gpa, gpa + size) to [hpa, hpa + size) with permissions perms
 * (EPT_READ/WRITE/EXEC), write-back. Uses 2 MiB pages where gpa, hpa and the
 * remaining size allow it and large is true. All three must be 4 KiB aligned;
 * a range that overlaps an existing mapping is refused (HV_EEXIST) with
 * nothing of it installed.
 */
int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms, bool large);

/* Looks up gpa: its host address and its leaf entry's permissions. HV_ENOENT if unmapped. */
int ept_translate(const struct ept *e, uint64_t gpa, uint64_t *hpa, uint64_t *perms);

/*
 * Splits every 2 MiB leaf that maps part of [gpa, gpa + size) into a table
 * of 512 4 KiB leaves with the same permissions and flags (dirty logging
 * needs 4 KiB granularity), marked EPT_SW_SPLIT. Returns the number split,
 * or HV_ENOMEM with the leaves split so far left split (the mapping is the
 * same either way).
 */
int ept_split_range(struct ept *e, uint64_t gpa, uint64_t size);

/*
 * Undoes ept_split_range over every 2 MiB region that touches [gpa, gpa +
 * size): a table it made whose 512 leaves still map one contiguous, 2 MiB
 * aligned host block with the same flags (accessed/dirty aside) becomes a
 * 2 MiB leaf again, with the flags of its leaves and the accessed/dirty
 * flags of any of them. Tables that map 4 KiB pages from the start, or whose
 * leaves now differ, stay as they are. The freed tables go to the EPT's free
 * list. Returns the number merged (HV_ERANGE past the GPA limit). The
 * caller invalidates cached translations (INVEPT) afterwards.
 */
int ept_merge_range(struct ept *e, uint64_t gpa, uint64_t size);

/* The 4 KiB leaf entry that maps gpa, or NULL if gpa is unmapped or inside a 2 MiB leaf. */
uint64_t *ept_leaf_4k(const struct ept *e, uint64_t gpa);

/*
 * In every 4 KiB leaf of [gpa, gpa + size): entry = (entry & ~clear) | set.
 * HV_EINVAL if the range holds a 2 MiB leaf, HV_ENOENT if part is unmapped
 * (entries before that point are already updated).
 */
int ept_update_range(struct ept *e, uint64_t gpa, uint64_t size, uint64_t clear, uint64_t set);

/* The EPT pointer for the VMCS: 4-level walk, write-back, optionally A/D flags. */
uint64_t ept_pointer(const struct ept *e, bool accessed_dirty);

#endif
