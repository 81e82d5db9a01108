#include "kernel/core/sched.h"

#include <stddef.h>
#include "kernel/lib/err.h"

#define SCHED_DEFAULT_PERIOD_SLICES 10

void sched_init(struct sched *s, uint64_t slice_ticks)
{
	*s = (struct sched){ .slice = slice_ticks, .period = slice_ticks * SCHED_DEFAULT_PERIOD_SLICES };
}

void sched_set_period(struct sched *s, uint64_t period_ticks, uint64_t now)
{
	s->period = period_ticks ? period_ticks : 1;
	s->period_start = now;
}

static unsigned sched_vcpus_alive(const struct sched *s)
{
	unsigned i, n = 0;

	for (i = 0; i < s->count; i++)
		if (s->entities[i]->kind == SCHED_KIND_VCPU && s->entities[i]->state != SCHED_STOPPED)
			n++;
	return n ? n : 1;
}

/* One period's budget: (100 - throttle)% of period / vcpus, remainder carried. */
static void sched_refill(struct sched_entity *e, uint64_t period, unsigned vcpus)
{
	uint64_t scale = 100ull * vcpus;
	uint64_t share = period * (100 - e->throttle) + e->budget_rem;
	uint64_t grant = share / scale;

	e->budget_rem = share % scale;
	e->throttled += period / vcpus > grant ? period / vcpus - grant : 0;
	/* An overrun is paid back; time left unused does not pile up. */
	e->budget = (int64_t)grant + (e->budget < 0 ? e->budget : 0);
}

static void sched_new_period(struct sched *s, uint64_t now)
{
	unsigned i, vcpus;

	if (now - s->period_start < s->period)
		return;
	/* After an idle gap, budgets restart from the current period: they do not accumulate. */
	s->period_start = now - (now - s->period_start) % s->period;
	vcpus = sched_vcpus_alive(s);
	for (i = 0; i < s->count; i++) {
		struct sched_entity *e = s->entities[i];

		if (e->budgeted && e->state != SCHED_STOPPED)
			sched_refill(e, s->period, vcpus);
	}
}

void sched_set_throttle(struct sched *s, struct sched_entity *e, bool budgeted, unsigned percent, uint64_t now)
{
	if (percent > SCHED_THROTTLE_MAX)
		percent = SCHED_THROTTLE_MAX;
	if (!budgeted) {
		e->budgeted = false;
		e->throttle = 0;
		e->budget = 0;
		e->budget_rem = 0;
		return;
	}
	if (!e->budgeted) {
		/* Newly budgeted: the current period's budget is what remains of its fair share. */
		sched_new_period(s, now);
		e->budgeted = true;
		e->budget_rem = 0;
		e->throttle = percent;
		e->budget = 0;
		sched_refill(e, s->period - (now - s->period_start) % s->period, sched_vcpus_alive(s));
		return;
	}
	e->throttle = percent;
}

static bool sched_eligible(const struct sched_entity *e)
{
	return e->state == SCHED_RUNNABLE && (!e->budgeted || e->budget > 0);
}

void sched_share_next_slice(struct sched *s, struct sched_entity **list, unsigned n, uint64_t now)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		list[i]->grant_cap = n ? s->slice / n : s->slice;
		list[i]->release_pending = true;
		list[i]->release_at = now;
		list[i]->release_wait = 0;
	}
}

uint64_t sched_grant(const struct sched *s, const struct sched_entity *e)
{
	uint64_t grant = s->slice;

	if (e->budgeted && (uint64_t)e->budget < grant)
		grant = (uint64_t)e->budget;
	if (e->grant_cap && e->grant_cap < grant)
		grant = e->grant_cap;
	return grant;
}

int sched_add(struct sched *s, struct sched_entity *e, const char *name, enum sched_kind kind, sched_run_fn run,
	      void *owner)
{
	if (s->count == SCHED_MAX_ENTITIES)
		return HV_ENOMEM;
	*e = (struct sched_entity){ .name = name, .kind = kind, .run = run, .owner = owner, .state = SCHED_RUNNABLE };
	s->entities[s->count++] = e;
	return HV_OK;
}

bool sched_remove(struct sched *s, struct sched_entity *e)
{
	unsigned i, at;

	for (at = 0; at < s->count && s->entities[at] != e; at++)
		;
	if (at == s->count)
		return false;
	for (i = at; i + 1 < s->count; i++)
		s->entities[i] = s->entities[i + 1];
	s->count--;
	/* The entity the cursor named moved down one place if it came after e. */
	if (at < s->cursor)
		s->cursor--;
	if (s->cursor >= s->count)
		s->cursor = 0;
	return true;
}

/* The next entity in round-robin order that may run now (deferred: one that waits for an idle CPU). */
static struct sched_entity *sched_next_of(struct sched *s, uint64_t now, bool deferred)
{
	unsigned i;

	for (i = 0; i < s->count; i++) {
		unsigned idx = (s->cursor + i) % s->count;
		struct sched_entity *e = s->entities[idx];

		if (deferred ? e->state == SCHED_DEFERRED : sched_eligible(e)) {
			s->cursor = (idx + 1) % s->count;
			e->slices++;
			/* Stamped here, not at the entity's own start: what a release promises is a pick. */
			if (e->release_pending) {
				e->release_pending = false;
				e->release_wait = now - e->release_at;
			}
			return e;
		}
	}
	return NULL;
}

struct sched_entity *sched_pick(struct sched *s, uint64_t now)
{
	struct sched_entity *e;
	unsigned i;

	sched_new_period(s, now);
	for (i = 0; i < s->count; i++) {
		e = s->entities[i];
		if ((e->state == SCHED_BLOCKED || e->state == SCHED_DEFERRED) && e->wake_at <= now)
			e->state = SCHED_RUNNABLE;
	}
	e = sched_next_of(s, now, false);
	return e ? e : sched_next_of(s, now, true);
}

uint64_t sched_next_wake(const struct sched *s)
{
	uint64_t next = SCHED_NEVER;
	unsigned i;

	for (i = 0; i < s->count; i++) {
		const struct sched_entity *e = s->entities[i];

		if ((e->state == SCHED_BLOCKED || e->state == SCHED_DEFERRED) && e->wake_at < next)
			next = e->wake_at;
		if (e->state == SCHED_RUNNABLE && e->budgeted && e->budget <= 0 &&
		    s->period_start + s->period < next)
			next = s->period_start + s->period;
	}
	return next;
}

void sched_charge(struct sched_entity *e, uint64_t ticks)
{
	e->runtime += ticks;
	e->grant_cap = 0;
	if (e->budgeted)
		e->budget -= (int64_t)ticks;
}
void sched_charge_idle(struct sched *s, uint64_t ticks) { s->idle_ticks += ticks; }

void sched_block(struct sched_entity *e, uint64_t until)
{
	if (e->state != SCHED_STOPPED) {
		e->state = SCHED_BLOCKED;
		e->wake_at = until;
	}
}

void sched_defer(struct sched_entity *e, uint64_t until)
{
	if (e->state != SCHED_STOPPED) {
		e->state = SCHED_DEFERRED;
		e->wake_at = until;
	}
}

void sched_wake(struct sched_entity *e)
{
	if (e->state == SCHED_BLOCKED || e->state == SCHED_DEFERRED)
		e->state = SCHED_RUNNABLE;
}

void sched_stop(struct sched_entity *e) { e->state = SCHED_STOPPED; }

bool sched_any_alive(const struct sched *s, enum sched_kind kind)
{
	unsigned i;

	for (i = 0; i < s->count; i++)
		if (s->entities[i]->kind == kind && s->entities[i]->state != SCHED_STOPPED)
			return true;
	return false;
}
