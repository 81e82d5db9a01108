/* Dirty tracking of the source's memory: see track.h. */
#define _GNU_SOURCE
#include "linerate/track.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "kernel/lib/err.h"
#include "linerate/clock.h"
#include "linerate/uffd_abi.h"

#define VEC_REGIONS 4096u
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

/* A userfaultfd with async write-protection over len bytes at mem; -1 if the kernel has none. */
static int uffd_open(void *mem, uint64_t len)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED };
	struct uffdio_register reg = { .range = { (uintptr_t)mem, len }, .mode = UFFDIO_REGISTER_MODE_WP };
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);

	if (fd < 0)
		fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (ioctl(fd, UFFDIO_API, &api) || ioctl(fd, UFFDIO_REGISTER, &reg)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int protect(struct lr_track *t, int on)
{
	struct uffdio_writeprotect wp = { .range = { (uintptr_t)t->g->mem, t->g->bytes },
					  .mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0 };

	return ioctl(t->uffd, UFFDIO_WRITEPROTECT, &wp) ? HV_EIO : HV_OK;
}

/* One scan of [start, end) for pages in category cat: the regions found, or -1. */
static long scan_range(int pm, uintptr_t start, uintptr_t end, uint64_t cat, uint64_t flags,
		       struct page_region *r, uint64_t n)
{
	struct pm_scan_arg a = { .size = sizeof(a), .flags = flags, .start = start, .end = end,
				 .vec = (uintptr_t)r, .vec_len = n, .category_mask = cat, .return_mask = cat };

	return ioctl(pm, PAGEMAP_SCAN, &a);
}

/*
 * The probes' common trial: len bytes at mem under async write-protection (where need is set, the
 * region must first be of that category), one write at off, then one harvest. Whether it reports
 * the 4 KiB page written, alone.
 */
static int write_seen_alone(uint8_t *mem, uint64_t len, uint64_t off, uint64_t need)
{
	uintptr_t base = (uintptr_t)mem, end = base + len;
	struct lr_guest g = { .mem = mem, .bytes = len };
	struct lr_track t = { .g = &g, .uffd = uffd_open(mem, len) };
	struct page_region r[2];
	int ok = 0, pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (t.uffd >= 0 && pm >= 0 && (!need || scan_range(pm, base, end, need, 0, r, 2) == 1) &&
	    protect(&t, 1) == HV_OK) {
		mem[off]++;
		ok = scan_range(pm, base, end, PAGE_IS_WRITTEN, PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC, r, 2) == 1 &&
		     r[0].start == base + off && r[0].end == r[0].start + LR_PAGE;
	}
	if (pm >= 0)
		close(pm);
	if (t.uffd >= 0)
		close(t.uffd);
	return ok;
}

int lr_track_pagemap_available(void)
{
	uint8_t *mem = mmap(NULL, LR_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int ok;

	if (mem == MAP_FAILED)
		return 0;
	mem[0] = 1;
	ok = write_seen_alone(mem, LR_PAGE, 0, 0);
	munmap(mem, LR_PAGE);
	return ok;
}

int lr_track_huge_pages_split(void)
{
	const uint64_t huge = 2u << 20;
	uint8_t *raw, *h;
	int ok;

	raw = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return 0;
	h = (uint8_t *)(((uintptr_t)raw + huge - 1) & ~(uintptr_t)(huge - 1));
	(void)madvise(h, huge, MADV_HUGEPAGE);
	memset(h, 1, huge);
	/* On a huge page only: elsewhere the trial would prove nothing. */
	ok = write_seen_alone(h, huge, 5 * LR_PAGE, PAGE_IS_HUGE);
	munmap(raw, 2 * huge);
	return ok;
}

static void self_write(void *ctx, uint32_t writer, uint64_t gfn);

int lr_track_init(struct lr_track *t, struct lr_guest *g, uint32_t choice, char *why, size_t whylen)
{
	memset(t, 0, sizeof(*t));
	t->g = g;
	t->uffd = t->pagemap = -1;
	if (choice != LR_TRACK_SELF) {
		t->uffd = uffd_open(g->mem, g->bytes);
		t->pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
		t->vec_len = VEC_REGIONS;
		t->vec = calloc(VEC_REGIONS, sizeof(struct page_region));
		t->data = calloc((g->npages + 63) / 64, sizeof(uint64_t));
		if (t->uffd >= 0 && t->pagemap >= 0 && t->vec && t->data && lr_track_pagemap_available()) {
			t->kind = LR_TRACKER_PAGEMAP;
			return 0;
		}
		lr_track_free(t);
		t->g = g;
		if (choice == LR_TRACK_PAGEMAP) {
			snprintf(why, whylen, "the kernel offers no userfaultfd async write-protection with PAGEMAP_SCAN");
			return -1;
		}
	}
	t->bits = calloc((g->npages + 63) / 64, sizeof(uint64_t));
	if (!t->bits) {
		snprintf(why, whylen, "no memory for the dirty bitmap");
		return -1;
	}
	t->kind = LR_TRACKER_SELF;
	/* Before the writers start: they read the hook without a lock. */
	g->on_write_ctx = t;
	g->on_write = self_write;
	return 0;
}

const char *lr_track_name(const struct lr_track *t)
{
	return t->kind == LR_TRACKER_PAGEMAP ? "pagemap-uffd-wp" : "self-recorded";
}

void lr_track_free(struct lr_track *t)
{
	if (t->uffd >= 0)
		close(t->uffd);
	if (t->pagemap >= 0)
		close(t->pagemap);
	free(t->vec);
	free(t->data);
	free((void *)t->bits);
	memset(t, 0, sizeof(*t));
	t->uffd = t->pagemap = -1;
}

/* ---- the writers' own record ---- */

static void self_write(void *ctx, uint32_t writer, uint64_t gfn)
{
	struct lr_track *t = ctx;
	uint64_t bit = 1ull << (gfn % 64);

	/* After the write it stands for: a harvest that clears it came after the write too. */
	if (!(atomic_fetch_or_explicit(&t->bits[gfn / 64], bit, memory_order_release) & bit))
		atomic_fetch_add_explicit(&t->fresh[writer], 1, memory_order_relaxed);
}

/* ---- the kernel's ---- */

/* Adds [a, b) pages to per-writer counts, split at the writers' slices. */
static void attribute(struct lr_track *t, uint64_t a, uint64_t b, uint64_t *per)
{
	const struct lr_guest *g = t->g;
	uint64_t slice = g->nwriters ? g->npages / g->nwriters : g->npages, end;
	uint32_t w;

	while (a < b) {
		w = lr_guest_owner(g, a);
		end = g->nwriters && w + 1 < g->nwriters ? (uint64_t)(w + 1) * slice : g->npages;
		if (end > b)
			end = b;
		per[w] += end - a;
		a = end;
	}
}

/* Sets bits [p, q) of bm; returns how many were clear. */
static uint64_t set_bits(uint64_t *bm, uint64_t p, uint64_t q)
{
	uint64_t fresh = 0, n, m;

	while (p < q) {
		n = q - p < 64 - p % 64 ? q - p : 64 - p % 64;
		m = (n == 64 ? ~0ull : (1ull << n) - 1) << (p % 64);
		fresh += (uint64_t)__builtin_popcountll(m & ~bm[p / 64]);
		bm[p / 64] |= m;
		p += n;
	}
	return fresh;
}

/*
 * One PAGEMAP_SCAN walk over the memory with ask's categories and flags; each region of pages
 * [p, q) it reports goes to visit. HV_OK or HV_EIO.
 */
static int walk(struct lr_track *t, struct pm_scan_arg ask, void (*visit)(void *ctx, uint64_t p, uint64_t q), void *ctx)
{
	uintptr_t base = (uintptr_t)t->g->mem, end = base + t->g->bytes;
	struct page_region *v = t->vec;
	long n, i;

	ask.size = sizeof(ask);
	ask.start = base;
	ask.end = end;
	ask.vec = (uintptr_t)v;
	ask.vec_len = t->vec_len;
	while (ask.start < end) {
		n = ioctl(t->pagemap, PAGEMAP_SCAN, &ask);
		if (n < 0)
			return HV_EIO;
		for (i = 0; i < n; i++)
			visit(ctx, (v[i].start - base) / LR_PAGE, (v[i].end - base) / LR_PAGE);
		if (ask.walk_end <= ask.start)
			return HV_EIO;
		ask.start = ask.walk_end;
	}
	return HV_OK;
}

/* What a walk over the written pages fills. */
struct written {
	struct lr_track *t;
	uint64_t *bitmap, *per;
	uint64_t fresh;
};

/*
 * Written pages may hold data from now on, whoever asked. (Before the protection every page counts
 * as written: a count taken before the start marks them all, and the start clears the marks.)
 */
static void on_written(void *ctx, uint64_t p, uint64_t q)
{
	struct written *w = ctx;

	(void)set_bits(w->t->data, p, q);
	if (w->per)
		attribute(w->t, p, q, w->per);
	if (w->bitmap)
		w->fresh += set_bits(w->bitmap, p, q);
}

/*
 * One walk over the memory: written pages into bitmap (if given) and
 * per-writer counts; with clear, protected again in the same walk.
 */
static long scan(struct lr_track *t, uint64_t *bitmap, int clear, uint64_t *per)
{
	struct pm_scan_arg a = { .flags = clear ? PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC : 0,
				 .category_mask = PAGE_IS_WRITTEN, .return_mask = PAGE_IS_WRITTEN };
	struct written w = { t, bitmap, per, 0 };
	int rc = walk(t, a, on_written, &w);

	return rc < 0 ? rc : (long)w.fresh;
}

static void on_data(void *ctx, uint64_t p, uint64_t q)
{
	(void)set_bits(ctx, p, q);
}

/*
 * Which pages may hold data as tracking starts, then the write-protection, with the writers held
 * meanwhile. An anonymous page neither mapped nor swapped out was never written and reads as zero.
 * The walk comes first because the protection puts the kernel's uffd-wp marker on every unpopulated
 * page, and PAGEMAP_SCAN reports a marker as swapped (a marker is a swap entry to it; seen on 6.18):
 * after the protection every page would look as if it held data. With the writers held nothing is
 * written between the walk and the protection; a write after them is in the dirty log, and the
 * harvest that reports it marks the page here (on_written) before the sender reads it again.
 */
static int start_pagemap(struct lr_track *t)
{
	struct pm_scan_arg a = { .category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
				 .return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED };
	size_t bytes = (t->g->npages + 63) / 64 * sizeof(uint64_t);
	int held = !atomic_load(&t->g->paused), rc;

	if (held)
		lr_guest_pause(t->g);
	memset(t->data, 0, bytes);
	rc = walk(t, a, on_data, t->data);
	if (rc == HV_OK)
		rc = protect(t, 1);
	else
		memset(t->data, 0xff, bytes); /* unknown: every page is read */
	if (held)
		lr_guest_resume(t->g);
	return rc;
}

int lr_track_untouched(const struct lr_track *t, uint64_t gfn)
{
	return t->kind == LR_TRACKER_PAGEMAP && t->logging && gfn < t->g->npages &&
	       !((t->data[gfn / 64] >> (gfn % 64)) & 1);
}

/* ---- the port ---- */

static int tr_start(void *ctx)
{
	struct lr_track *t = ctx;
	uint64_t i;

	t->t_harvest = lr_now_ns();
	t->logging = 1;
	t->harvests++;
	memset(t->pending_w, 0, sizeof(t->pending_w));
	if (t->kind == LR_TRACKER_PAGEMAP)
		return start_pagemap(t);
	for (i = 0; i < (t->g->npages + 63) / 64; i++)
		atomic_store(&t->bits[i], 0);
	for (i = 0; i < LR_WRITERS_MAX; i++)
		atomic_store(&t->fresh[i], 0);
	return HV_OK;
}

static long tr_harvest(void *ctx, uint64_t *bitmap, uint64_t npages)
{
	struct lr_track *t = ctx;
	uint64_t i, v, words = (npages + 63) / 64;
	long fresh = 0;

	if (npages != t->g->npages)
		return HV_EINVAL;
	t->t_harvest = lr_now_ns();
	t->harvests++;
	memset(t->pending_w, 0, sizeof(t->pending_w));
	if (t->kind == LR_TRACKER_PAGEMAP)
		return scan(t, bitmap, 1, NULL);
	for (i = 0; i < LR_WRITERS_MAX; i++)
		atomic_store(&t->fresh[i], 0);
	for (i = 0; i < words; i++) {
		v = atomic_exchange_explicit(&t->bits[i], 0, memory_order_acquire);
		fresh += __builtin_popcountll(v & ~bitmap[i]);
		bitmap[i] |= v;
	}
	return fresh;
}

static uint64_t tr_pending(void *ctx)
{
	struct lr_track *t = ctx;
	uint64_t sum = 0, i;

	if (t->kind == LR_TRACKER_PAGEMAP) {
		memset(t->pending_w, 0, sizeof(t->pending_w));
		if (scan(t, NULL, 0, t->pending_w) < 0)
			return 0;
		for (i = 0; i < LR_WRITERS_MAX; i++)
			sum += t->pending_w[i];
		return sum;
	}
	for (i = 0; i < LR_WRITERS_MAX; i++)
		sum += atomic_load(&t->fresh[i]);
	return sum;
}

/* Pages/s each writer dirtied since the last harvest. */
static uint32_t tr_rates(void *ctx, uint64_t *out, uint32_t max)
{
	struct lr_track *t = ctx;
	uint64_t dt = lr_now_ns() - t->t_harvest, n;
	uint32_t i, k = t->g->nwriters < max ? t->g->nwriters : max;

	for (i = 0; i < k; i++) {
		n = t->kind == LR_TRACKER_PAGEMAP ? t->pending_w[i] : atomic_load(&t->fresh[i]);
		out[i] = dt ? n * 1000000ull / (dt / 1000 ? dt / 1000 : 1) : 0;
	}
	return k;
}

static void tr_stop(void *ctx)
{
	struct lr_track *t = ctx;

	if (!t->logging)
		return;
	t->logging = 0;
	t->harvests++;
	if (t->kind == LR_TRACKER_PAGEMAP)
		(void)protect(t, 0);
}

const struct migr_dirty_ops lr_track_ops = { tr_start, tr_harvest, tr_pending, tr_rates, tr_stop };
