/*
 * The rest of the ports for a Linux process: guest memory as a buffer, a
 * monotonic clock, the throttle over the writer threads, and the VM hooks.
 * The "VM" has no vCPUs to run: its state is a small synthetic blob (one
 * GPRS sub-record per vCPU) that the destination checks, it has no devices,
 * and pausing it parks the writers.
 */
#ifndef LR_VM_H
#define LR_VM_H

#include <stdint.h>
#include "linerate/guest.h"
#include "linerate/track.h"
#include "migration/port.h"
#include "migration/stream.h"

#define LR_VCPU_MAGIC 0x4c494e4552415445ull /* reg[0] of every synthetic vCPU state */

struct lr_mem {
	uint8_t *mem;
	uint64_t bytes;
	const struct lr_track *track; /* the source's: pages it knows never written are zero unread; NULL: read */
	/*
	 * The source's pages are copied LR_STAGE_PAGES at a time into stage, see vm.c; NULL: in place.
	 * stage_gfn[i] is the page in slot i, ascending; stage_gfn[0] the page asked for.
	 */
	uint8_t *stage;
	uint64_t stage_gfn[32], stage_n, stage_harvests;
	const uint64_t *sending; /* the sender's bitmap of the pass: only pages it will read are copied */
};

#define LR_STAGE_PAGES 32u
/* Runs of at least this many pages are read into the sender's record without the stage (vm.c). */
#define LR_DIRECT_PAGES 4u

/* The destination's VM: its buffer, and what the stream brought. */
struct lr_dest {
	struct lr_mem m;        /* m.bytes: the VM's size once created, else 0 */
	uint8_t *buf;
	uint64_t cap;           /* the buffer's size: the largest VM taken */
	struct migr_header hdr;
	int created, started, discarded;
	uint64_t vcpus_loaded;  /* bit per vCPU */
	uint64_t downtime_ns;   /* this side's view, at COMMIT */
	uint64_t pages_written;
};

struct lr_source {
	struct lr_guest *g;
	uint32_t vcpus;
	uint64_t tsc_hz;
	uint64_t t_pause;       /* clock ticks */
	int paused, released;
};

uint64_t lr_clock_now(void *ctx); /* microseconds */

extern const struct migr_memory_ops lr_mem_ops;
extern const struct migr_memory_ops lr_dest_mem_ops; /* on struct lr_dest */
extern const struct migr_clock_ops lr_clock_ops;
extern const struct migr_throttle_ops lr_throttle_ops; /* on struct lr_guest */
extern const struct migr_source_vm_ops lr_source_ops;
extern const struct migr_dest_vm_ops lr_dest_ops;

/* Fresh random bytes (nonces), from the kernel. */
void lr_random(void *ctx, uint8_t *buf, size_t n);

#endif
