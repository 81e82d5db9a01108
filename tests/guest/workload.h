/*
 * The write/verify workload of one vCPU (docs/test-guest.md): it writes
 * pages of its own slice (page_content.h) in a pattern, at a rate, verifies
 * each page before overwriting it and, every verify_every writes, sweeps its
 * whole slice; it prints progress lines and reports corruption.
 */
#ifndef GUEST_WORKLOAD_H
#define GUEST_WORKLOAD_H

#include <stdint.h>
#include "kernel/guest_abi.h"
#include "tests/guest/page_content.h"

struct work {
	uint32_t vcpu;
	uint32_t pattern;         /* enum hv_guest_pattern */
	struct guest_slice slice;
	uint32_t *gen;            /* generation table: gen[i] of page slice.data_pfn + i */
	uint32_t span;            /* pages the pattern touches: slice.data_pages or the hot set */
	uint32_t next;            /* HV_PATTERN_SEQ: next page index */
	uint32_t rng;             /* xorshift32 state */
	uint32_t verify_every;    /* 0 = no sweeps */
	uint32_t until_sweep;     /* writes left before the next sweep */
	uint32_t announce;        /* announce every write to the hypervisor (log-dirty tests) */
	uint32_t prefill;         /* pages of the slice still to write once before the pattern */

	uint64_t tsc_hz;
	uint64_t ticks_per_ms;
	uint64_t start;           /* TSC when this vCPU started */
	uint64_t interval;        /* TSC ticks between writes; 0 = flat out */
	uint64_t next_due;        /* TSC when the next write is due */
	uint64_t report_ticks;    /* progress period */
	uint64_t next_report;     /* TSC of the next progress line */

	uint64_t writes;          /* pages written */
	uint64_t verified;        /* pages verified (before writes and in sweeps) */
	uint32_t errors;          /* corrupt pages found */
	uint64_t last_writes;     /* writes at the previous progress line */
	uint64_t last_ms;         /* its time */
	uint64_t mark;            /* TSC up to which this vCPU knows where its time went */
};

/* Sets *w up for vCPU vcpu; -1 if the guest RAM is too small for the slices. */
int work_init(struct work *w, const struct hv_boot_params *bp, uint32_t vcpu);

/* Runs the workload until w->writes >= until_writes; forever if 0. */
void work_run(struct work *w, uint64_t until_writes);

#endif
