/* The source's memory and its writer threads: see guest.h. */
#define _GNU_SOURCE
#include "linerate/guest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "linerate/clock.h"

#define CHECK_EVERY 16u /* writes between two looks at the clock */

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void fill(struct lr_guest *g)
{
	uint64_t p, i, *w;

	if (g->zero)
		return; /* fresh anonymous memory reads as zero */
	for (p = 0; p < g->npages; p++) {
		w = (uint64_t *)(g->mem + p * LR_PAGE);
		for (i = 0; i < LR_PAGE / 8; i++)
			w[i] = lr_fill_word(p, i, 0);
	}
}

int lr_guest_init(struct lr_guest *g, uint64_t bytes, int zero, int small_pages)
{
	pthread_condattr_t ca;

	memset(g, 0, sizeof(*g));
	g->bytes = bytes;
	g->npages = bytes / LR_PAGE;
	g->zero = zero;
	g->mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (g->mem == MAP_FAILED)
		return -errno;
	/* Small pages where a harvest would report a write into a 2 MiB page as all 512 (lr_track_huge_pages_split). */
	(void)madvise(g->mem, bytes, small_pages ? MADV_NOHUGEPAGE : MADV_HUGEPAGE);
	g->record = calloc(g->npages, sizeof(uint64_t));
	if (!g->record)
		return -ENOMEM;
	pthread_mutex_init(&g->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->cv, &ca);
	pthread_condattr_destroy(&ca);
	fill(g);
	return 0;
}

static uint64_t expected_word0(const struct lr_guest *g, uint64_t p)
{
	return g->record[p] ? g->record[p] : lr_fill_word(p, 0, g->zero);
}

/* Parks while paused; returns non-zero when the writer must end. */
static int park(struct lr_guest *g)
{
	int stop;

	pthread_mutex_lock(&g->mu);
	g->parked++;
	pthread_cond_broadcast(&g->cv);
	while (atomic_load(&g->paused) && !atomic_load(&g->stop))
		pthread_cond_wait(&g->cv, &g->mu);
	g->parked--;
	stop = atomic_load(&g->stop);
	pthread_mutex_unlock(&g->mu);
	return stop;
}

/* Sleeps until t (monotonic ns) unless a pause or stop comes first. */
static void sleep_until(struct lr_guest *g, uint64_t t)
{
	struct timespec ts = { (time_t)(t / 1000000000ull), (long)(t % 1000000000ull) };

	pthread_mutex_lock(&g->mu);
	while (!atomic_load(&g->paused) && !atomic_load(&g->stop) && lr_now_ns() < t)
		if (pthread_cond_timedwait(&g->cv, &g->mu, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&g->mu);
}

static uint64_t next_page(struct lr_writer *w)
{
	const struct lr_guest *g = w->g;
	uint64_t hot;

	switch (g->pattern) {
	case LR_PAT_SEQ:
		return w->first + w->seq++ % w->count;
	case LR_PAT_HOT:
		hot = w->count * g->hot_pct / 100;
		return w->first + splitmix(&w->rng) % (hot ? hot : 1);
	default:
		return w->first + splitmix(&w->rng) % w->count;
	}
}

/* One write: check the page holds this writer's last stamp, then stamp it anew. */
static void write_one(struct lr_writer *w)
{
	struct lr_guest *g = w->g;
	uint64_t p = next_page(w), s = (p + 1) << 1;
	_Atomic uint64_t *word = (_Atomic uint64_t *)(void *)(g->mem + p * LR_PAGE);

	if (atomic_load_explicit(word, memory_order_relaxed) != expected_word0(g, p))
		atomic_fetch_add_explicit(&w->errors, 1, memory_order_relaxed);
	s = splitmix(&s) ^ ++w->gen;
	s |= 1; /* never 0, which means "the fill" in the record */
	atomic_store_explicit(word, s, memory_order_relaxed);
	g->record[p] = s;
	if (g->on_write)
		g->on_write(g->on_write_ctx, w->id, p);
	atomic_fetch_add_explicit(&w->writes, 1, memory_order_relaxed);
}

/* The pace: the rate asked for (or the dirty limit), then the throttle's share of each period. */
static void pace(struct lr_writer *w, uint64_t *t_rate, uint64_t *n_rate, uint64_t *t_period)
{
	struct lr_guest *g = w->g;
	uint64_t now = lr_now_ns(), pps = g->pages_per_s, lim = atomic_load(&g->limit_pps);
	uint32_t pct = atomic_load(&g->throttle_pct);

	if (lim && (!pps || lim < pps))
		pps = lim;
	if (pps) {
		uint64_t due = *t_rate + *n_rate * 1000000000ull / pps;

		if (due > now + 1000000ull)
			sleep_until(g, due);
		if (now - *t_rate > 1000000000ull) { /* restart the count each second: a change of rate takes at once */
			*t_rate = now;
			*n_rate = 0;
		}
	} else {
		*t_rate = now; /* unpaced: a rate set later counts from here */
		*n_rate = 0;
	}
	if (pct && now - *t_period >= LR_THROTTLE_PERIOD_NS * (100 - pct) / 100) {
		sleep_until(g, *t_period + LR_THROTTLE_PERIOD_NS);
		*t_period = lr_now_ns();
	} else if (!pct || now - *t_period >= LR_THROTTLE_PERIOD_NS) {
		*t_period = now;
	}
}

static void *writer_main(void *arg)
{
	struct lr_writer *w = arg;
	struct lr_guest *g = w->g;
	uint64_t t_rate = lr_now_ns(), n_rate = 0, t_period = t_rate;
	uint32_t k;

	for (;;) {
		if (atomic_load_explicit(&g->paused, memory_order_acquire) || atomic_load(&g->stop)) {
			if (park(g))
				return NULL;
			t_rate = t_period = lr_now_ns();
			n_rate = 0;
		}
		for (k = 0; k < CHECK_EVERY && !atomic_load_explicit(&g->paused, memory_order_relaxed); k++) {
			write_one(w);
			n_rate++;
			if (g->pages_per_s || atomic_load_explicit(&g->limit_pps, memory_order_relaxed))
				break; /* paced writers look at the clock every write */
		}
		pace(w, &t_rate, &n_rate, &t_period);
	}
}

int lr_guest_start(struct lr_guest *g, uint32_t pattern, uint32_t writers, uint64_t rate_mib_s, uint32_t hot_pct)
{
	uint64_t slice;
	uint32_t i;
	int rc;

	if (pattern == LR_PAT_NONE || !writers)
		return 0;
	g->pattern = pattern;
	g->hot_pct = hot_pct;
	g->nwriters = writers;
	g->pages_per_s = rate_mib_s * (1048576 / LR_PAGE) / writers;
	if (rate_mib_s && !g->pages_per_s)
		g->pages_per_s = 1;
	slice = g->npages / writers;
	for (i = 0; i < writers; i++) {
		struct lr_writer *w = &g->w[i];

		w->g = g;
		w->id = i;
		w->first = i * slice;
		w->count = i + 1 == writers ? g->npages - w->first : slice;
		w->rng = 0x1234567ull + i;
		rc = pthread_create(&w->th, NULL, writer_main, w);
		if (rc)
			return -rc;
		w->started = 1;
	}
	return 0;
}

/* Writers with a thread: nwriters alone may name slices that no thread writes (the tests' slices for the rates). */
static uint32_t running(const struct lr_guest *g)
{
	uint32_t i, n = 0;

	for (i = 0; i < g->nwriters; i++)
		if (g->w[i].started)
			n++;
	return n;
}

void lr_guest_pause(struct lr_guest *g)
{
	pthread_mutex_lock(&g->mu);
	atomic_store_explicit(&g->paused, 1, memory_order_release);
	pthread_cond_broadcast(&g->cv);
	while (g->parked < running(g))
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

void lr_guest_resume(struct lr_guest *g)
{
	pthread_mutex_lock(&g->mu);
	atomic_store(&g->paused, 0);
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

void lr_guest_stop(struct lr_guest *g)
{
	uint32_t i;

	pthread_mutex_lock(&g->mu);
	atomic_store(&g->stop, 1);
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	for (i = 0; i < g->nwriters; i++)
		if (g->w[i].started)
			pthread_join(g->w[i].th, NULL);
	g->nwriters = 0;
}

void lr_guest_throttle(struct lr_guest *g, uint32_t pct)
{
	atomic_store(&g->throttle_pct, pct > 99 ? 99 : pct);
}

void lr_guest_dirty_limit(struct lr_guest *g, uint64_t pages_per_s)
{
	uint64_t per = g->nwriters ? pages_per_s / g->nwriters : 0;

	atomic_store(&g->limit_pps, pages_per_s && !per ? 1 : per);
}

uint64_t lr_guest_check(const struct lr_guest *g, const uint8_t *mem)
{
	uint64_t p, i, bad = 0;
	const uint64_t *w;

	for (p = 0; p < g->npages; p++) {
		w = (const uint64_t *)(const void *)(mem + p * LR_PAGE);
		if (w[0] != expected_word0(g, p)) {
			bad++;
			continue;
		}
		for (i = 1; i < LR_PAGE / 8; i++)
			if (w[i] != lr_fill_word(p, i, g->zero)) {
				bad++;
				break;
			}
	}
	return bad;
}

/* A counter summed over the writers. */
static uint64_t sum(struct lr_guest *g, int errors)
{
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < LR_WRITERS_MAX; i++)
		n += atomic_load(errors ? &g->w[i].errors : &g->w[i].writes);
	return n;
}

uint64_t lr_guest_writes(struct lr_guest *g)
{
	return sum(g, 0);
}

uint64_t lr_guest_errors(struct lr_guest *g)
{
	return sum(g, 1);
}

uint32_t lr_guest_owner(const struct lr_guest *g, uint64_t gfn)
{
	uint64_t slice = g->nwriters ? g->npages / g->nwriters : 0, k;

	if (!slice)
		return 0;
	k = gfn / slice;
	return k >= g->nwriters ? g->nwriters - 1 : (uint32_t)k;
}

void lr_guest_free(struct lr_guest *g)
{
	if (g->mem && g->mem != MAP_FAILED)
		munmap(g->mem, g->bytes);
	free(g->record);
	g->mem = NULL;
	g->record = NULL;
}
