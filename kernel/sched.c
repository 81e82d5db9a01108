#include "kernel/sched.h"

#include <stddef.h>
#include "kernel/err.h"

void sched_init(struct sched *s, uint64_t slice_ticks)
{
	*s = (struct sched){ .slice = slice_ticks };
}

int sched_add(struct sched *s, struct sched_entity *e, const char *name, enum sched_kind kind, void *owner)
{
	if (s->count == SCHED_MAX_ENTITIES)
		return HV_ENOMEM;
	*e = (struct sched_entity){ .name = name, .kind = kind, .owner = owner, .state = SCHED_RUNNABLE };
	s->entities[s->count++] = e;
	return HV_OK;
}

struct sched_entity *sched_pick(struct sched *s, uint64_t now)
{
	unsigned i;

	for (i = 0; i < s->count; i++) {
		struct sched_entity *e = s->entities[i];

		if (e->state == SCHED_BLOCKED && e->wake_at <= now)
			e->state = SCHED_RUNNABLE;
	}
	for (i = 0; i < s->count; i++) {
		unsigned idx = (s->cursor + i) % s->count;
		struct sched_entity *e = s->entities[idx];

		if (e->state == SCHED_RUNNABLE) {
			s->cursor = (idx + 1) % s->count;
			e->slices++;
			return e;
		}
	}
	return NULL;
}

uint64_t sched_next_wake(const struct sched *s)
{
	uint64_t next = SCHED_NEVER;
	unsigned i;

	for (i = 0; i < s->count; i++) {
		const struct sched_entity *e = s->entities[i];

		if (e->state == SCHED_BLOCKED && e->wake_at < next)
			next = e->wake_at;
	}
	return next;
}

void sched_charge(struct sched_entity *e, uint64_t ticks) { e->runtime += ticks; }
void sched_charge_idle(struct sched *s, uint64_t ticks) { s->idle_ticks += ticks; }

void sched_block(struct sched_entity *e, uint64_t until)
{
	if (e->state != SCHED_STOPPED) {
		e->state = SCHED_BLOCKED;
		e->wake_at = until;
	}
}

void sched_wake(struct sched_entity *e)
{
	if (e->state == SCHED_BLOCKED)
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
