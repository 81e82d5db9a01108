/*
 * One migration on the simulated clock, stepped the way the sender runs:
 * pages go out at the link's rate, writers dirty pages at their throttled
 * rates, the policy is asked every 250 ms and at each pass boundary, and its
 * decisions act as the sender applies them (a VM-wide throttle, or a
 * dirty-rate limit that the scheduler's controller turns into per-vCPU
 * throttles every 200 ms). A switchover decided within a pass takes effect
 * at the end of that pass, as in the sender.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "migration/stream.h"
#include "sim/sim.h"
#include "sim/track.h"
#if __has_include("kernel/core/throttle_ctl.h")
#include "kernel/core/throttle_ctl.h"
#else
#include "kernel/core/throttle_ctl.h"
#endif

#define STEP_S 0.01                          /* longest step of the clock */
#define TICK_S (MIGR_POLICY_PERIOD_MS / 1e3) /* the sender's sampling and policy period */
#define CTL_S 0.2                            /* the scheduler's dirty-limit controller step */
#define NSAMP 5                              /* samples 250 ms apart: rates over the last second */
#define COMMIT_RTTS 1                        /* READY then COMMIT: the paused VM waits one round trip more */

double sim_page_level_max = 64 * SIM_GIB;
FILE *sim_trace;

struct run {
	const struct sim_scenario *sc;
	const struct sim_policy *p;
	struct sim_track tr;
	uint64_t pstate[SIM_POLICY_STATE / sizeof(uint64_t)];
	double t, t_pass, t_control, t_policy, next_sample, next_ctl, last_bytes_t, bytes;
	double samp_t[NSAMP], samp_bytes[NSAMP], samp_pending[NSAMP], samp_vcpu[NSAMP][SIM_MAX_VCPUS];
	double bandwidth, thr_time;
	uint32_t pass, throttle, max_pct;
	uint64_t limit;
	unsigned vthr[SIM_MAX_VCPUS];
	int switching, done;
	struct sim_result *r;
};

static void sample(struct run *u)
{
	int i;

	for (i = NSAMP - 1; i > 0; i--) {
		u->samp_t[i] = u->samp_t[i - 1];
		u->samp_bytes[i] = u->samp_bytes[i - 1];
		u->samp_pending[i] = u->samp_pending[i - 1];
		memcpy(u->samp_vcpu[i], u->samp_vcpu[i - 1], sizeof(u->samp_vcpu[i]));
	}
	u->samp_t[0] = u->t;
	u->samp_bytes[0] = u->bytes;
	u->samp_pending[0] = sim_track_pending(&u->tr);
	memcpy(u->samp_vcpu[0], u->tr.new_by_vcpu, sizeof(u->samp_vcpu[0]));
	if (u->samp_t[NSAMP - 1] > 0 && u->t > u->samp_t[NSAMP - 1])
		u->bandwidth = (u->bytes - u->samp_bytes[NSAMP - 1]) / (u->t - u->samp_t[NSAMP - 1]);
}

/* Pages/s first dirtied over the last second, or since the harvest if that is nearer (as the sender counts). */
static double window_dirty_rate(const struct run *u)
{
	double t0 = u->samp_t[0], t4 = u->samp_t[NSAMP - 1];

	if (t4 <= 0 || t0 <= t4)
		return 0;
	if (u->samp_pending[0] >= u->samp_pending[NSAMP - 1] && t4 >= u->t_pass)
		return (u->samp_pending[0] - u->samp_pending[NSAMP - 1]) / (t0 - t4);
	return t0 > u->t_pass ? u->samp_pending[0] / (t0 - u->t_pass) : 0;
}

static void vcpu_rates(const struct run *u, uint64_t *out)
{
	double dt = u->samp_t[0] - u->samp_t[NSAMP - 1];
	unsigned i;

	for (i = 0; i < u->sc->nvcpu; i++)
		out[i] = u->samp_t[NSAMP - 1] > 0 && dt > 0 ?
			(uint64_t)((u->samp_vcpu[0][i] - u->samp_vcpu[NSAMP - 1][i]) / dt) : 0;
}

static void timeline(struct run *u, const struct migr_stats *st)
{
	struct sim_result *r = u->r;
	struct sim_point *n;
	unsigned i, hi = 0;

	if (!r->captl)
		return;
	if (r->ntl == r->captl) {
		n = realloc(r->tl, r->captl * 2 * sizeof(*n));
		if (!n)
			return;
		r->tl = n;
		r->captl *= 2;
	}
	for (i = 0; i < u->sc->nvcpu; i++)
		hi = u->vthr[i] > hi ? u->vthr[i] : hi;
	r->tl[r->ntl++] = (struct sim_point){ .t = u->t, .remaining = (double)st->remaining_bytes,
		.dirty_rate = (double)st->dirty_rate * SIM_PAGE, .throttle = hi, .bandwidth = (double)st->bandwidth,
		.pass = st->pass };
}

/* Every decision with what it was based on, for reading a run step by step. */
static void trace(const struct run *u, const struct migr_stats *st, const struct migr_decision *d)
{
	unsigned i;

	if (!sim_trace)
		return;
	fprintf(sim_trace, "%s %s t=%.3f pass=%" PRIu32 "%s remaining=%" PRIu64 " bw=%" PRIu64 " dirty=%" PRIu64
		" throttle=%" PRIu32 " limit=%" PRIu64 " age_ms=%" PRIu64 " vcpu=[", u->sc->name, u->p->name, u->t,
		st->pass, st->pass_done ? " done" : "", st->remaining_bytes, st->bandwidth, st->dirty_rate,
		st->throttle_pct, st->dirty_limit, st->control_age_ms);
	for (i = 0; i < st->nvcpu; i++)
		fprintf(sim_trace, "%s%" PRIu64, i ? " " : "", st->vcpu_dirty_rate[i]);
	fprintf(sim_trace, "] -> action=%" PRIu32 " (%s) pct=%" PRIu32 " limit=%" PRIu64 "\n", d->action,
		migr_reason_str(d->reason), d->throttle_pct, d->dirty_limit);
}

static void apply(struct run *u, const struct migr_decision *d)
{
	unsigned i;

	switch (d->action) {
	case MIGR_ACT_SET_THROTTLE:
		u->throttle = d->throttle_pct;
		u->limit = 0;
		for (i = 0; i < u->sc->nvcpu; i++)
			u->vthr[i] = u->throttle;
		u->t_control = u->t;
		break;
	case MIGR_ACT_SET_DIRTY_LIMIT:
		/* The sender releases the VM-wide throttle first; the controller starts from there. */
		if (u->throttle)
			for (i = 0; i < u->sc->nvcpu; i++)
				u->vthr[i] = 0;
		u->throttle = 0;
		u->limit = d->dirty_limit;
		u->max_pct = d->max_pct;
		u->t_control = u->t;
		break;
	case MIGR_ACT_SWITCHOVER:
		u->switching = 1;
		break;
	case MIGR_ACT_GIVE_UP:
		u->done = 1;
		break;
	}
}

static void policy(struct run *u, int boundary, double harvested)
{
	uint64_t rates[SIM_MAX_VCPUS];
	struct migr_stats st = {
		.pass = u->pass,
		.pass_done = (uint32_t)boundary,
		.bandwidth = (uint64_t)u->bandwidth,
		.nvcpu = u->sc->nvcpu,
		.vcpu_dirty_rate = rates,
		.elapsed_ms = (uint64_t)(u->t * 1e3),
		.stalled_ms = (uint64_t)((u->t - u->last_bytes_t) * 1e3),
		.throttle_pct = u->throttle,
		.dirty_limit = u->limit,
		.control_age_ms = (uint64_t)((u->t - u->t_control) * 1e3),
	};
	struct migr_decision d;

	vcpu_rates(u, rates);
	if (boundary) {
		st.remaining_bytes = (uint64_t)harvested * MIGR_PAGE_SIZE;
		st.dirty_rate = u->t > u->t_pass ? (uint64_t)(harvested / (u->t - u->t_pass)) : 0;
	} else {
		st.remaining_bytes = (uint64_t)(u->tr.pass_total - u->tr.pass_sent + sim_track_pending(&u->tr)) *
				     MIGR_PAGE_SIZE;
		st.dirty_rate = (uint64_t)window_dirty_rate(u);
	}
	u->t_policy = u->t;
	u->p->decide(u->pstate, &u->sc->lim, &st, &d);
	trace(u, &st, &d);
	timeline(u, &st);
	apply(u, &d);
}

/* The scheduler's step: the limit split between the vCPUs by the kernel's own controller. */
static void control(struct run *u)
{
	uint64_t rates[SIM_MAX_VCPUS];

	if (!u->limit)
		return;
	vcpu_rates(u, rates);
	throttle_ctl_dirty_limit(rates, u->vthr, u->sc->nvcpu, u->limit, u->max_pct, u->vthr);
}

/* A pass is over: harvest, ask, and either go on live or pause and send the rest. */
static void boundary(struct run *u)
{
	const struct sim_scenario *sc = u->sc;
	uint64_t downtime_lim = sc->lim.downtime_ms ? sc->lim.downtime_ms : MIGR_DOWNTIME_DEFAULT_MS;
	double got = sim_track_harvest(&u->tr), final, down;

	policy(u, 1, got);
	if (u->done || !u->switching) {
		u->pass++;
		u->t_pass = u->t;
		return;
	}
	final = got * SIM_PAGE;
	down = sim_link_burst_s(&sc->link, final) + COMMIT_RTTS * sc->link.rtt;
	u->r->switched = 1;
	u->r->passes = u->pass;
	u->r->downtime_ms = down * 1e3;
	u->r->total_s = u->t + down;
	u->r->sent_over_ram = (u->bytes + final) / sc->ram;
	u->r->converged = u->r->downtime_ms <= (double)downtime_lim && u->r->total_s <= SIM_LIMIT_S;
	u->done = 1;
}

static void step(struct run *u)
{
	const struct sim_scenario *sc = u->sc;
	double rate = sim_link_rate(&sc->link), left = (u->tr.pass_total - u->tr.pass_sent) * SIM_PAGE;
	double dt = STEP_S, w[SIM_MAX_WRITERS], sent, mean = 0;
	unsigned i, hi = 0;

	/* Less than half a page left is nothing left: the aggregate model counts fractions. */
	if (left >= SIM_PAGE / 2 && left / rate < dt)
		dt = left / rate;
	if (u->next_sample - u->t < dt)
		dt = u->next_sample - u->t;
	if (u->next_ctl - u->t < dt)
		dt = u->next_ctl - u->t;
	if (dt < 1e-9)
		dt = 1e-9;
	for (i = 0; i < sc->nwriters; i++)
		w[i] = sc->w[i].immune ? sc->w[i].rate : sc->w[i].rate * (100 - u->vthr[sc->w[i].vcpu]) / 100.0;
	sim_track_write(&u->tr, sc, w, dt);
	/* A hair over the exact count, so that a step sized to end the pass does end it. */
	sent = sim_track_send(&u->tr, rate * dt / SIM_PAGE + 1e-6);
	u->bytes += sent * SIM_PAGE;
	u->t += dt;
	if (sent > 0)
		u->last_bytes_t = u->t;
	for (i = 0; i < sc->nvcpu; i++) {
		mean += u->vthr[i];
		hi = u->vthr[i] > hi ? u->vthr[i] : hi;
	}
	u->thr_time += mean / sc->nvcpu * dt;
	if (hi > u->r->peak_throttle)
		u->r->peak_throttle = hi;
	if (u->t >= u->next_sample - 1e-12) {
		sample(u);
		u->next_sample += TICK_S;
	}
	if (u->t >= u->next_ctl - 1e-12) {
		control(u);
		u->next_ctl += CTL_S;
	}
	if (u->tr.pass_total - u->tr.pass_sent < 0.5 && u->t > u->t_pass)
		boundary(u);
	else if (u->t - u->t_policy >= TICK_S - 1e-9)
		policy(u, 0, 0);
}

int sim_run(const struct sim_scenario *sc, const struct sim_policy *p, uint32_t tracking, int tl,
	    struct sim_result *r)
{
	struct run *u = calloc(1, sizeof(*u));
	int pages = tracking == SIM_TRACK_PAGES || (tracking == SIM_TRACK_AUTO && sc->ram <= sim_page_level_max);

	memset(r, 0, sizeof(*r));
	if (!u)
		return -1;
	if (tl) {
		r->captl = 256;
		r->tl = malloc(r->captl * sizeof(*r->tl));
		if (!r->tl)
			r->captl = 0;
	}
	u->sc = sc;
	u->p = p;
	u->r = r;
	u->pass = 1;
	u->next_sample = TICK_S;
	u->next_ctl = CTL_S;
	if (sim_track_init(&u->tr, sc, pages) < 0) {
		free(u);
		return -1;
	}
	while (!u->done && u->t < SIM_LIMIT_S)
		step(u);
	if (!r->switched) {
		r->total_s = u->t;
		r->passes = u->pass;
		r->sent_over_ram = u->bytes / sc->ram;
	}
	r->avg_throttle = u->t > 0 ? u->thr_time / u->t : 0;
	sim_track_free(&u->tr);
	free(u);
	return 0;
}

void sim_result_free(struct sim_result *r)
{
	free(r->tl);
	r->tl = NULL;
	r->ntl = r->captl = 0;
}
