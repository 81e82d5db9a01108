/*
 * Dirty tracking of the source's memory, as the migration's dirty-log port
 * (migration/port.h: get-and-clear harvests).
 *
 *   pagemap  userfaultfd write-protection in async mode: the kernel marks a
 *            page written at its first write and lets it through;
 *            PAGEMAP_SCAN with PM_SCAN_WP_MATCHING returns the written pages
 *            and protects them again in the same walk, like a PML drain.
 *   self     the writers record their own writes in a bitmap (write first,
 *            then set the bit, so a harvest never clears a bit before the
 *            write it stands for). A fallback for kernels without the
 *            above: it trusts the writers, so every output names it.
 *
 * Pages are attributed to writers by their slice (lr_guest_owner), which
 * gives the policy per-writer dirty rates for its dirty-limit mode.
 *
 * The pagemap tracker also knows which pages were never written: those the
 * kernel had neither mapped nor swapped out when tracking started and that
 * no harvest has reported since. They read as zero, and the memory port
 * says so without reading them (lr_track_untouched): a read would fault in
 * a page, allocated and cleared, and a zero-page check over a fresh 2 GiB
 * ran at the speed of those faults.
 */
#ifndef LR_TRACK_H
#define LR_TRACK_H

#include <stdatomic.h>
#include <stdint.h>
#include "linerate/guest.h"
#include "linerate/opts.h"
#include "migration/port.h"

enum lr_tracker { LR_TRACKER_PAGEMAP = 1, LR_TRACKER_SELF };

struct lr_track {
	uint32_t kind;
	struct lr_guest *g;
	int uffd, pagemap;
	int logging;
	uint64_t harvests;          /* starts and harvests so far: a copy of memory older than the last is stale */
	_Atomic uint64_t *bits;     /* self: one bit per page */
	_Atomic uint64_t fresh[LR_WRITERS_MAX]; /* self: bits set since the last harvest, per writer */
	uint64_t t_harvest;         /* ns */
	uint64_t pending_w[LR_WRITERS_MAX]; /* pagemap: from the last count */
	void *vec;                  /* pagemap: the scan's region buffer */
	uint64_t vec_len;
	uint64_t *data;             /* pagemap: one bit per page that may hold data (lr_track_untouched) */
};

/* Sets up the tracker asked for (auto: pagemap where the kernel has it); message in why on failure. */
int lr_track_init(struct lr_track *t, struct lr_guest *g, uint32_t choice, char *why, size_t whylen);
const char *lr_track_name(const struct lr_track *t);
void lr_track_free(struct lr_track *t);
/*
 * Non-zero if page gfn reads as zero because it was never written: the pagemap tracker, while it
 * logs, found it neither mapped nor swapped out at the start and no harvest has reported it since.
 * A write not harvested yet may be missed here: the harvest reports it, and the page goes again.
 * 0 where it does not know (the self-recorded tracker, or not logging): read the page.
 */
int lr_track_untouched(const struct lr_track *t, uint64_t gfn);
/* Whether the kernel offers userfaultfd async write-protection with PAGEMAP_SCAN. */
int lr_track_pagemap_available(void);
/*
 * Whether guest memory may sit on 2 MiB pages under the pagemap tracker: tried on one, a write to one
 * 4 KiB page of a protected huge page is reported as that page alone (the kernel splits the huge page
 * at the write and keeps the rest protected). Elsewhere the harvest would report all 512 pages, and
 * memory stays on 4 KiB pages. Reporting more than was written is never unsafe, only slower.
 */
int lr_track_huge_pages_split(void);

extern const struct migr_dirty_ops lr_track_ops;

#endif
