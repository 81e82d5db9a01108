/*
 * Log-dirty mode of a VM: which guest pages were written since the last
 * harvest, whoever wrote them (a vCPU, or the hypervisor through
 * vm_guest_write). Two backends (kernel/vmm/dirty_ops.h, implemented in
 * kernel/arch/x86/vmx/) feed one bitmap:
 *   wp   EPT write-protection: the first write to a page takes an EPT
 *        violation, which marks the page and gives write access back;
 *   pml  Page-Modification Logging with EPT accessed/dirty flags: the CPU
 *        logs the page when it sets the EPT dirty flag, 512 entries per vCPU.
 * Only one physical CPU runs host code and vCPUs, so no vCPU is in guest
 * mode while any function here runs.
 */
#ifndef HV_KERNEL_VMM_DIRTY_H
#define HV_KERNEL_VMM_DIRTY_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/core/dirty_bitmap.h"
#include "kernel/core/rate.h"

struct dirty_ops;
struct vm;
struct vcpu;

enum dirty_backend {
	DIRTY_BACKEND_AUTO = 0, /* pml where the CPU has it, else wp */
	DIRTY_BACKEND_WP = 1,
	DIRTY_BACKEND_PML = 2,
};

#define DIRTY_RATE_BUCKET_US 100000 /* rates over the last second, in 100 ms steps */

struct vm_dirty {
	bool logging;
	enum dirty_backend backend;     /* the one in use while logging */
	const struct dirty_ops *ops;    /* its operations (kernel/vmm/dirty_ops.h), chosen at start */
	struct dirty_bitmap log;        /* pages written since the last harvest */
	struct rate_window rate;        /* newly dirtied pages, whole VM */
	uint64_t harvests;
	uint64_t pages_harvested;
	uint64_t wp_faults;             /* write-protection violations taken */
	uint64_t pml_entries;           /* PML entries drained */
	uint64_t pml_full_exits;
	uint64_t host_writes;           /* pages the hypervisor wrote while logging */
	uint64_t large_split;           /* 2 MiB pages split for logging */
	uint64_t large_merged;          /* and merged back when it stopped */
};

/* Per vCPU: how fast this vCPU dirties memory (the throttle targets writers). */
struct vcpu_dirty {
	uint64_t pml_pa;                /* its page-modification log */
	struct rate_window rate;
};

const char *dirty_backend_name(enum dirty_backend b);

/*
 * Starts logging: 2 MiB pages are split, every page starts clean (pages
 * left unharvested by an earlier stop are dropped: a new start means a new
 * full pass). HV_EBUSY if already logging. On any failure the VM is left
 * exactly as before the call (EPT, EPT pointer, every vCPU's VMCS).
 */
int dirty_log_start(struct vm *vm, enum dirty_backend want);

/*
 * Stops logging and gives the guest its write access without traps back;
 * the 2 MiB pages split for logging are merged back. Nothing written up to
 * the stop is lost: every vCPU's page-modification log is drained into the
 * log first, and the log is kept for one more dirty_harvest(). So the final
 * pass of a migration (pause, harvest, stop, or pause, stop, harvest) sees
 * every page. Returns HV_EIO if a VMCS or INVEPT failed (logging is off all
 * the same).
 */
int dirty_log_stop(struct vm *vm);

/*
 * The VM goes (vm_destroy): logging stops if it is on and the bitmap goes
 * back to the frame pool. The vCPUs' logs are the architecture's
 * (vcpu_arch_destroy).
 */
void dirty_release(struct vm *vm);

/*
 * Harvest (get and clear): ORs into out every page written since the
 * previous harvest, clears the log and re-arms tracking of those pages
 * before returning, so that a write made after this call, even to a page
 * just harvested, shows up in the next harvest. The caller copies page
 * contents only after this returns (clear before copy). Returns the number
 * of pages added to out. After dirty_log_stop() it hands over the pages
 * written up to the stop (and then none); HV_EINVAL if logging never started.
 */
int64_t dirty_harvest(struct vm *vm, struct dirty_bitmap *out);

/*
 * Pages written since the last harvest, without clearing anything: what
 * the hardware logged so far (every vCPU's page-modification log) is
 * collected into the log first, so that the count is current, not as of
 * the last full log. 0 when not logging.
 */
uint64_t dirty_pending(struct vm *vm);

/* Records that v (NULL: the hypervisor) wrote guest page pfn. */
void dirty_mark(struct vm *vm, struct vcpu *v, uint64_t pfn);

/* Records that v wrote each page of gpas[0..n) (guest-physical addresses: a page-modification log). */
void dirty_mark_gpas(struct vm *vm, struct vcpu *v, const uint64_t *gpas, unsigned n);

/* Write-protection fault on a page inside RAM: true if log-dirty handled it. */
bool dirty_wp_fault(struct vcpu *v, uint64_t gpa);

/* Moves v's page-modification log into the VM's bitmap (log-full exit, harvest). */
void dirty_pml_drain(struct vcpu *v);

uint64_t dirty_rate_vm(struct vm *vm);
uint64_t dirty_rate_vcpu(struct vcpu *v);

#endif
