/* Dirty tracking: see track.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "sim/track.h"

#define WORD_BITS 64u

static uint64_t rnd(struct sim_track *t)
{
	/* xorshift64*: fast, and the same seed gives the same run */
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return t->rng * 0x2545F4914F6CDD1Dull;
}

static double rnd01(struct sim_track *t)
{
	return (double)(rnd(t) >> 11) / (double)(1ull << 53);
}

/* Sets bit p of the dirty map; 1 if it was clear. */
static int mark(struct sim_track *t, uint64_t p)
{
	uint64_t m = 1ull << (p % WORD_BITS), *w = &t->dirty[p / WORD_BITS];

	if (*w & m)
		return 0;
	*w |= m;
	return 1;
}

int sim_track_init(struct sim_track *t, const struct sim_scenario *sc, int pages)
{
	unsigned i, s;

	memset(t, 0, sizeof(*t));
	t->pages = pages;
	t->npages = (uint64_t)(sc->ram / SIM_PAGE);
	t->pass_total = (double)t->npages; /* the first pass sends every page */
	t->rng = 0x9E3779B97F4A7C15ull;
	for (i = 0; i < sc->nwriters; i++) {
		for (s = 0; s < t->nset; s++)
			if (t->set_start[s] == sc->w[i].set_start && t->set_pages[s] == sc->w[i].set_pages)
				break;
		if (s == t->nset) {
			t->set_start[s] = sc->w[i].set_start;
			t->set_pages[s] = sc->w[i].set_pages;
			t->set_pattern[s] = sc->w[i].pattern;
			t->nset++;
		}
		t->set_of[i] = s;
	}
	if (!pages)
		return 0;
	t->dirty = calloc((t->npages + WORD_BITS - 1) / WORD_BITS, sizeof(uint64_t));
	t->pass = calloc((t->npages + WORD_BITS - 1) / WORD_BITS, sizeof(uint64_t));
	if (!t->dirty || !t->pass) {
		sim_track_free(t);
		return -1;
	}
	memset(t->pass, 0xff, t->npages / WORD_BITS * sizeof(uint64_t));
	if (t->npages % WORD_BITS)
		t->pass[t->npages / WORD_BITS] = (1ull << (t->npages % WORD_BITS)) - 1;
	return 0;
}

void sim_track_free(struct sim_track *t)
{
	free(t->dirty);
	free(t->pass);
	t->dirty = t->pass = NULL;
}

/* Page by page: n writes of writer i; returns pages newly dirtied. */
static double write_pages(struct sim_track *t, const struct sim_writer *w, unsigned s, double n)
{
	uint64_t k, cnt = (uint64_t)n, h = w->set_pages, fresh = 0;
	double q;

	if (w->pattern == SIM_SWEEP) {
		if (cnt > h)
			cnt = h;
		for (k = 0; k < cnt; k++)
			fresh += mark(t, w->set_start + (t->sweep_pos[s] + k) % h);
		t->sweep_pos[s] = (t->sweep_pos[s] + (uint64_t)n) % h;
	} else if (cnt * 2 <= h) {
		for (k = 0; k < cnt; k++)
			fresh += mark(t, w->set_start + rnd(t) % h);
	} else {
		/* Many writes: each page escapes all n of them with probability (1 - 1/h)^n. */
		q = 1 - exp(-n / (double)h);
		for (k = 0; k < h; k++)
			if (rnd01(t) < q)
				fresh += mark(t, w->set_start + k);
	}
	return (double)fresh;
}

/* Aggregate: the expected count of pages dirtied after n more writes over a set of h. */
static double write_expected(uint32_t pattern, double dirty, double h, double n)
{
	if (pattern == SIM_SWEEP)
		return fmin(h, dirty + n);
	return dirty + (h - dirty) * (1 - exp(-n / h));
}

void sim_track_write(struct sim_track *t, const struct sim_scenario *sc, const double *rate, double dt)
{
	double n[SIM_MAX_WRITERS], sum[SIM_MAX_WRITERS] = { 0 }, fresh, was;
	unsigned i, s;

	for (i = 0; i < sc->nwriters; i++) {
		n[i] = rate[i] * dt + t->carry[i];
		if (t->pages) {
			t->carry[i] = n[i] - floor(n[i]);
			n[i] = floor(n[i]);
		}
		sum[t->set_of[i]] += n[i];
	}
	if (!t->pages) {
		for (s = 0; s < t->nset; s++) {
			was = t->set_dirty[s];
			t->set_dirty[s] = write_expected(t->set_pattern[s], was, (double)t->set_pages[s], sum[s]);
			/* New pages go to the writers of the set by their share of its writes. */
			for (i = 0; i < sc->nwriters; i++)
				if (t->set_of[i] == s && sum[s] > 0)
					t->new_by_vcpu[sc->w[i].vcpu] += (t->set_dirty[s] - was) * n[i] / sum[s];
		}
		return;
	}
	for (i = 0; i < sc->nwriters; i++) {
		s = t->set_of[i];
		if (n[i] <= 0 || t->set_dirty[s] >= (double)t->set_pages[s])
			continue; /* an all-dirty set cannot get dirtier */
		fresh = write_pages(t, &sc->w[i], s, n[i]);
		t->set_dirty[s] += fresh;
		t->new_by_vcpu[sc->w[i].vcpu] += fresh;
	}
}

/* Page by page: clears up to n set bits of the pass map from the cursor on. */
static double send_pages(struct sim_track *t, uint64_t n)
{
	uint64_t words = (t->npages + WORD_BITS - 1) / WORD_BITS, w, done = 0;

	while (done < n && t->cursor < words) {
		w = t->pass[t->cursor];
		while (w && done < n) {
			w &= w - 1;
			done++;
		}
		t->pass[t->cursor] = w;
		if (!w)
			t->cursor++;
	}
	return (double)done;
}

double sim_track_send(struct sim_track *t, double n)
{
	double left = t->pass_total - t->pass_sent, sent;

	if (n > left)
		n = left;
	if (t->pages) {
		n += t->send_carry;
		t->send_carry = n - floor(n);
		sent = send_pages(t, (uint64_t)n);
		if (sent < floor(n))
			t->send_carry = 0;
	} else {
		sent = n;
	}
	t->pass_sent += sent;
	return sent;
}

double sim_track_pending(const struct sim_track *t)
{
	double d = 0;
	unsigned s;

	for (s = 0; s < t->nset; s++)
		d += t->set_dirty[s];
	return d;
}

double sim_track_harvest(struct sim_track *t)
{
	double got = sim_track_pending(t);
	uint64_t *x;
	unsigned s;

	if (t->pages) {
		x = t->pass;
		t->pass = t->dirty;
		t->dirty = x;
		memset(t->dirty, 0, (t->npages + WORD_BITS - 1) / WORD_BITS * sizeof(uint64_t));
		t->cursor = 0;
		t->send_carry = 0;
	}
	for (s = 0; s < t->nset; s++)
		t->set_dirty[s] = 0;
	t->pass_total = got;
	t->pass_sent = 0;
	return got;
}
