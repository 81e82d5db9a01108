/* Memory, clock, throttle and VM hooks of the Linux program: see vm.h. */
#define _GNU_SOURCE
#include "linerate/vm.h"

#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>
#include "kernel/lib/bitmap.h"
#include "kernel/lib/sorted.h"
#include "kernel/lib/err.h"
#include "linerate/clock.h"

/* ---- memory ---- */

static uint64_t mem_size(void *ctx)
{
	return ((struct lr_mem *)ctx)->bytes;
}

/* The first page from gfn on that the pass sends and that may hold data; npages if none. */
static uint64_t next_wanted(const struct lr_mem *m, uint64_t gfn, uint64_t npages)
{
	for (;; gfn++) {
		if (m->sending)
			gfn = bitmap_next_set(m->sending, npages, gfn);
		if (gfn >= npages)
			return npages;
		if (!lr_track_untouched(m->track, gfn))
			return gfn;
	}
}

/* gfn's copy in the stage, if the stage holds one made since the last harvest; else NULL. */
static const uint8_t *stage_slot(const struct lr_mem *m, uint64_t gfn)
{
	size_t lo;

	if (m->stage_harvests != m->track->harvests || !m->stage_n || gfn < m->stage_gfn[0] ||
	    gfn > m->stage_gfn[m->stage_n - 1])
		return NULL;
	lo = u64_lower_bound(m->stage_gfn, m->stage_n, gfn);
	return lo < m->stage_n && m->stage_gfn[lo] == gfn ? m->stage + lo * MIGR_PAGE_SIZE : NULL;
}

/*
 * The source's pages as the sender sees them. Read in place, each page's first touch after the
 * tracker protected it cost ~1 us on this test bed (a paravirtualised kernel: protecting a 2 MiB
 * page drops the hypervisor's mapping of all 512 pages, and each is mapped again at its first
 * load), a quarter of the sender's CPU in the first pass. The kernel's copy (process_vm_readv)
 * reaches the pages through its own mapping instead. A run of LR_DIRECT_PAGES or more goes straight
 * into the sender's record (mem_read_pages); for anything shorter, and for the zero check and
 * read_page, the next LR_STAGE_PAGES pages the pass sends are copied into the stage in one call,
 * and served from there. A later pass sends scattered pages, and the call costs its entry as much as its copy (here, one
 * 4 KiB page a call: 2.6-4.1 us a page; 32 scattered pages a call: 1.4-1.7 us), so the stage
 * gathers them: one remote piece per stretch of consecutive pages.
 *
 * A copy must not outlive a harvest: a write between the copy and a harvest would be reported by
 * that harvest, and the stale copy sent in its place. The tracker counts its harvests, and a copy
 * made before the last one is taken again. Pages the tracker knows were never written are not
 * copied (reading them would map them): the sender finds them zero without a read.
 */
static pid_t self_pid(void)
{
	static pid_t self; /* getpid is a system call each time: one per copy was one too many */

	if (!self)
		self = getpid();
	return self;
}

static const uint8_t *staged(struct lr_mem *m, uint64_t gfn)
{
	uint64_t npages = m->bytes / MIGR_PAGE_SIZE, n = 0, g;
	struct iovec local, remote[LR_STAGE_PAGES];
	unsigned pieces = 0;
	const uint8_t *hit;

	if (!m->stage)
		return m->mem + gfn * MIGR_PAGE_SIZE;
	hit = stage_slot(m, gfn);
	if (hit)
		return hit;
	for (g = gfn; n < LR_STAGE_PAGES && g < npages; g = next_wanted(m, g + 1, npages)) {
		if (pieces && m->stage_gfn[n - 1] + 1 == g)
			remote[pieces - 1].iov_len += MIGR_PAGE_SIZE;
		else
			remote[pieces++] = (struct iovec){ m->mem + g * MIGR_PAGE_SIZE, MIGR_PAGE_SIZE };
		m->stage_gfn[n++] = g;
	}
	local = (struct iovec){ m->stage, n * MIGR_PAGE_SIZE };
	m->stage_n = 0;
	if (process_vm_readv(self_pid(), &local, 1, remote, pieces, 0) != (ssize_t)(n * MIGR_PAGE_SIZE)) {
		m->stage = NULL; /* not allowed here (a seccomp filter): in place from now on */
		return m->mem + gfn * MIGR_PAGE_SIZE;
	}
	m->stage_n = n;
	m->stage_harvests = m->track->harvests;
	return m->stage;
}

static int untouched(const struct lr_mem *m, uint64_t gfn)
{
	return m->track && lr_track_untouched(m->track, gfn);
}

/* A page the tracker knows was never written is zeros without a read (reading would map it). */
static void read_one(struct lr_mem *m, uint64_t gfn, uint8_t *dst)
{
	if (untouched(m, gfn))
		memset(dst, 0, MIGR_PAGE_SIZE);
	else
		memcpy(dst, staged(m, gfn), MIGR_PAGE_SIZE);
}

static int mem_read(void *ctx, uint64_t gfn, void *dst)
{
	struct lr_mem *m = ctx;

	if (gfn >= m->bytes / MIGR_PAGE_SIZE)
		return HV_ERANGE;
	read_one(m, gfn, dst);
	return HV_OK;
}

static int mem_write(void *ctx, uint64_t gfn, const void *src)
{
	struct lr_mem *m = ctx;

	if (gfn >= m->bytes / MIGR_PAGE_SIZE)
		return HV_ERANGE;
	memcpy(m->mem + gfn * MIGR_PAGE_SIZE, src, MIGR_PAGE_SIZE);
	return HV_OK;
}

/*
 * A run the sender reads into its record (migr_memory_ops.read_pages): a long one straight from
 * guest memory in one process_vm_readv, one piece per stretch of pages that may hold data, without
 * the stage's copy in between; pages never written are zeros here, not read (reading would map
 * them). Short runs, a later pass's scattered pages, go through the stage, which gathers up to
 * LR_STAGE_PAGES of them a call.
 */
static int mem_read_pages(void *ctx, uint64_t gfn, uint32_t count, void *dst)
{
	struct lr_mem *m = ctx;
	struct iovec local[LR_STAGE_PAGES], remote[LR_STAGE_PAGES];
	uint8_t *d = dst;
	size_t want = 0;
	unsigned pieces = 0, i;
	int joined = 0;

	if (gfn >= m->bytes / MIGR_PAGE_SIZE || count > m->bytes / MIGR_PAGE_SIZE - gfn)
		return HV_ERANGE;
	if (!m->stage || count < LR_DIRECT_PAGES || count > LR_STAGE_PAGES) {
		for (i = 0; i < count; i++)
			read_one(m, gfn + i, d + (size_t)i * MIGR_PAGE_SIZE);
		return HV_OK;
	}
	for (i = 0; i < count; i++) {
		if (untouched(m, gfn + i)) {
			memset(d + (size_t)i * MIGR_PAGE_SIZE, 0, MIGR_PAGE_SIZE);
			joined = 0;
			continue;
		}
		if (joined) {
			local[pieces - 1].iov_len += MIGR_PAGE_SIZE;
			remote[pieces - 1].iov_len += MIGR_PAGE_SIZE;
		} else {
			local[pieces] = (struct iovec){ d + (size_t)i * MIGR_PAGE_SIZE, MIGR_PAGE_SIZE };
			remote[pieces++] = (struct iovec){ m->mem + (gfn + i) * MIGR_PAGE_SIZE, MIGR_PAGE_SIZE };
		}
		joined = 1;
		want += MIGR_PAGE_SIZE;
	}
	if (pieces && process_vm_readv(self_pid(), local, pieces, remote, pieces, 0) != (ssize_t)want)
		for (i = 0; i < pieces; i++) /* not allowed here (a seccomp filter): in place */
			memcpy(local[i].iov_base, remote[i].iov_base, local[i].iov_len);
	return HV_OK;
}

/*
 * From the first word: a page of data answers after one load. A page the tracker knows was never
 * written is not read: reading it would fault in a page of zeros (track.h).
 */
static int mem_zero(void *ctx, uint64_t gfn)
{
	struct lr_mem *m = ctx;
	const uint64_t *w;
	size_t i;

	if (gfn >= m->bytes / MIGR_PAGE_SIZE)
		return 0;
	if (untouched(m, gfn))
		return 1;
	w = (const uint64_t *)(const void *)staged(m, gfn);
	for (i = 0; i < MIGR_PAGE_SIZE / 8; i++)
		if (w[i])
			return 0;
	return 1;
}

const struct migr_memory_ops lr_mem_ops = { mem_size, mem_read, mem_write, mem_zero, NULL, mem_read_pages };

static uint64_t dest_size(void *ctx)
{
	return ((struct lr_dest *)ctx)->m.bytes;
}

static int dest_read(void *ctx, uint64_t gfn, void *dst)
{
	return mem_read(&((struct lr_dest *)ctx)->m, gfn, dst);
}

static int dest_write(void *ctx, uint64_t gfn, const void *src)
{
	struct lr_dest *d = ctx;
	int rc = mem_write(&d->m, gfn, src);

	d->pages_written += rc == HV_OK;
	return rc;
}

static int dest_zero(void *ctx, uint64_t gfn)
{
	return mem_zero(&((struct lr_dest *)ctx)->m, gfn);
}

/* Pages are received straight into the buffer (one copy, from the socket), checked where they lie. */
static uint8_t *dest_span(void *ctx, uint64_t gfn, uint32_t count)
{
	struct lr_dest *d = ctx;
	uint64_t npages = d->m.bytes / MIGR_PAGE_SIZE;

	if (gfn >= npages || count > npages - gfn)
		return NULL;
	d->pages_written += count;
	return d->m.mem + gfn * MIGR_PAGE_SIZE;
}

const struct migr_memory_ops lr_dest_mem_ops = { dest_size, dest_read, dest_write, dest_zero, dest_span, NULL };

/* ---- clock ---- */

uint64_t lr_clock_now(void *ctx)
{
	(void)ctx;
	return lr_now_ns() / 1000;
}

const struct migr_clock_ops lr_clock_ops = { lr_clock_now, 1000000 };

/* ---- throttle ---- */

static int th_percent(void *ctx, uint32_t pct)
{
	lr_guest_throttle(ctx, pct);
	return HV_OK;
}

/* The limit is shared among the writers; each is held to its share (max_pct is the policy's bound on it). */
static int th_limit(void *ctx, uint64_t pages_per_s, uint32_t max_pct)
{
	(void)max_pct;
	lr_guest_dirty_limit(ctx, pages_per_s);
	return HV_OK;
}

static void th_release(void *ctx)
{
	lr_guest_throttle(ctx, 0);
	lr_guest_dirty_limit(ctx, 0);
}

const struct migr_throttle_ops lr_throttle_ops = { th_percent, th_limit, th_release };

/* ---- the source VM ---- */

static int src_pause(void *ctx)
{
	struct lr_source *s = ctx;

	lr_guest_pause(s->g);
	s->t_pause = lr_clock_now(NULL);
	s->paused = 1;
	return HV_OK;
}

static int src_resume(void *ctx)
{
	struct lr_source *s = ctx;

	lr_guest_resume(s->g);
	s->paused = 0;
	return HV_OK;
}

/* The VM runs elsewhere now; its memory stays for the verification. */
static void src_release(void *ctx)
{
	((struct lr_source *)ctx)->released = 1;
}

static long src_vcpu(void *ctx, uint32_t i, uint8_t *buf, size_t cap, uint32_t *count)
{
	struct migr_sub_hdr h = { MIGR_SUB_GPRS, sizeof(struct migr_gprs) };
	struct migr_gprs r;
	uint32_t k;

	(void)ctx;
	if (cap < sizeof(h) + sizeof(r))
		return HV_ERANGE;
	r.reg[0] = LR_VCPU_MAGIC;
	for (k = 1; k < 18; k++)
		r.reg[k] = (uint64_t)i << 32 | k;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), &r, sizeof(r));
	*count = 1;
	return (long)(sizeof(h) + sizeof(r));
}

static long src_device(void *ctx, uint32_t i, uint8_t *buf, size_t cap)
{
	(void)ctx, (void)i, (void)buf, (void)cap;
	return 0; /* no devices */
}

static int src_time(void *ctx, uint8_t *buf, size_t cap)
{
	struct lr_source *s = ctx;
	struct migr_time t = { .tsc_hz = s->tsc_hz, .pause_ns = s->t_pause * 1000 };

	if (cap < sizeof(t))
		return HV_ERANGE;
	t.tsc_at_pause = s->t_pause / 1000000 * s->tsc_hz + s->t_pause % 1000000 * (s->tsc_hz / 1000000);
	memcpy(buf, &t, sizeof(t));
	return HV_OK;
}

void lr_random(void *ctx, uint8_t *buf, size_t n)
{
	ssize_t k;

	(void)ctx;
	while (n) {
		k = getrandom(buf, n, 0);
		if (k <= 0)
			continue;
		buf += k;
		n -= (size_t)k;
	}
}

const struct migr_source_vm_ops lr_source_ops = { src_pause, src_resume, src_release, src_vcpu, src_device,
						  src_time, lr_random };

/* ---- the destination VM ---- */

static int dst_create(void *ctx, const uint8_t *body)
{
	struct lr_dest *d = ctx;

	memcpy(&d->hdr, body, sizeof(d->hdr));
	if (d->created || !d->hdr.ram_bytes || d->hdr.ram_bytes % MIGR_PAGE_SIZE || d->hdr.ram_bytes > d->cap ||
	    !d->hdr.vcpus || d->hdr.vcpus > MIGR_VCPUS_MAX)
		return HV_ENOMEM;
	d->m.mem = d->buf;
	d->m.bytes = d->hdr.ram_bytes;
	d->created = 1;
	return HV_OK;
}

static int dst_vcpu(void *ctx, uint32_t i, const uint8_t *subs, uint32_t len, uint32_t count)
{
	struct lr_dest *d = ctx;
	struct migr_gprs r;

	if (count != 1 || len != sizeof(struct migr_sub_hdr) + sizeof(r))
		return HV_EINVAL;
	memcpy(&r, subs + sizeof(struct migr_sub_hdr), sizeof(r));
	if (r.reg[0] != LR_VCPU_MAGIC || r.reg[17] != ((uint64_t)i << 32 | 17))
		return HV_EINVAL;
	d->vcpus_loaded |= 1ull << i;
	return HV_OK;
}

static int dst_device(void *ctx, const uint8_t *body, uint32_t len)
{
	(void)ctx, (void)body, (void)len;
	return HV_EINVAL; /* this VM has none */
}

static int dst_time(void *ctx, const uint8_t *body)
{
	(void)ctx, (void)body;
	return HV_OK;
}

static int dst_start(void *ctx, uint64_t downtime_ns)
{
	struct lr_dest *d = ctx;
	uint64_t all = d->hdr.vcpus == 64 ? ~0ull : (1ull << d->hdr.vcpus) - 1;

	if (!d->created || d->vcpus_loaded != all)
		return HV_EINVAL;
	d->started = 1;
	d->downtime_ns = downtime_ns;
	return HV_OK;
}

static void dst_discard(void *ctx)
{
	struct lr_dest *d = ctx;

	d->discarded = 1;
	d->created = 0;
	d->m.bytes = 0;
}

static void dst_drop_state(void *ctx)
{
	((struct lr_dest *)ctx)->vcpus_loaded = 0;
}

const struct migr_dest_vm_ops lr_dest_ops = { dst_create, dst_vcpu, dst_device, dst_time, dst_start, dst_discard,
					      lr_random, dst_drop_state };
