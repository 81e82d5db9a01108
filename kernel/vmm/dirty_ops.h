/*
 * A log-dirty backend (kernel/vmm/dirty.h): how the hardware tells which
 * pages a guest writes. The generic part owns the bitmap, the EPT's split,
 * arming and merging, and the order of the steps; a backend says which EPT
 * flags arm a page and does what its hardware needs at each step. The
 * architecture chooses one at start (dirty_arch_select); none of these runs
 * while a vCPU of the VM is in guest mode.
 */
#ifndef HV_KERNEL_VMM_DIRTY_OPS_H
#define HV_KERNEL_VMM_DIRTY_OPS_H

#include <stdint.h>
#include "kernel/vmm/dirty.h"

struct vm;

struct dirty_ops {
	enum dirty_backend backend;
	uint64_t arm_clear;     /* EPT flags cleared on every page when logging starts */
	uint64_t rearm_clear;   /* ...and on each harvested page, so its next write shows */
	uint64_t disarm_clear;  /* EPT flags cleared and set on every page when logging stops */
	uint64_t disarm_set;
	/* Memory the backend needs, allocated once and kept for later starts; NULL: none. */
	int (*prepare)(struct vm *vm);
	/*
	 * After the EPT is armed: turns the hardware on. On failure it undoes
	 * its own part and the generic part undoes the rest. NULL: nothing to do.
	 */
	int (*start)(struct vm *vm);
	/* Turns the hardware off; what it logged goes into the bitmap first. NULL: nothing to do. */
	int (*stop)(struct vm *vm);
	/* Before a harvest: what the hardware logged goes into the bitmap. NULL: it marks as it goes. */
	int (*collect)(struct vm *vm);
	/* The EPT changed: cached translations go. */
	int (*flush)(struct vm *vm);
};

/* The backend for a request (auto: pml where the CPU has it, else wp); HV_ENOTSUP if pml is asked and absent. */
int dirty_arch_select(enum dirty_backend want, const struct dirty_ops **ops);

#endif
