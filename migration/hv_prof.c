/* The end-of-migration profile (migration/hv_prof.h). */
#include "migration/hv_prof.h"

#include <string.h>
#include "kernel/arch/x86/time.h"
#include "kernel/core/sched.h"
#include "kernel/lib/log.h"
#include "migration/prof.h"

static struct {
	uint64_t t0, idle0;
	uint64_t runtime0[SCHED_MAX_ENTITIES], slices0[SCHED_MAX_ENTITIES];
	const struct sched_entity *entity[SCHED_MAX_ENTITIES];
	const void *owner; /* NULL: nobody counts */
} hp;

static uint64_t hp_us(uint64_t ticks) { return time_ticks_to_us(ticks); }

/* Per mille of the whole, so that a line reads as a share of the CPU. */
static unsigned hp_permille(uint64_t part, uint64_t whole) { return whole ? (unsigned)(part * 1000 / whole) : 0; }

void migr_hv_prof_begin(const struct sched *s, const void *owner)
{
	unsigned i;

	hp.owner = owner;
	hp.t0 = time_now();
	hp.idle0 = s->idle_ticks;
	for (i = 0; i < SCHED_MAX_ENTITIES; i++) {
		hp.entity[i] = i < s->count ? s->entities[i] : NULL;
		hp.runtime0[i] = i < s->count ? s->entities[i]->runtime : 0;
		hp.slices0[i] = i < s->count ? s->entities[i]->slices : 0;
	}
	migr_prof_start(time_now);
}

/* CPU time of an entity since the start (0 if it came or went meanwhile), and its picks. */
static uint64_t hp_runtime(const struct sched_entity *e, uint64_t *picks)
{
	unsigned i;

	for (i = 0; i < SCHED_MAX_ENTITIES; i++)
		if (hp.entity[i] == e) {
			*picks = e->slices - hp.slices0[i];
			return e->runtime - hp.runtime0[i];
		}
	*picks = 0;
	return 0;
}

int migr_hv_prof_try_begin(const struct sched *s, const void *owner)
{
	if (hp.owner)
		return -1;
	migr_hv_prof_begin(s, owner);
	return 0;
}

void migr_hv_prof_report(const struct sched *s, const char *role, const void *owner)
{
	uint64_t whole = time_now() - hp.t0, idle = s->idle_ticks - hp.idle0, tasks = 0, t, picks;
	unsigned i;

	if (!migr_prof.now || hp.owner != owner)
		return;
	migr_prof.now = NULL;
	hp.owner = NULL;
	for (i = 0; i < s->count; i++)
		if (s->entities[i]->kind == SCHED_KIND_TASK)
			tasks += hp_runtime(s->entities[i], &picks);
	/* Every tick is charged to an entity or to idle: the rest is the vCPUs', also those of a VM gone by now. */
	log_info("mprof", "%s: %llu ms; CPU per mille: vCPUs %u, idle %u", role, (unsigned long long)(hp_us(whole) / 1000),
		 hp_permille(whole > idle + tasks ? whole - idle - tasks : 0, whole), hp_permille(idle, whole));
	for (i = 0; i < s->count; i++)
		if (s->entities[i]->kind == SCHED_KIND_TASK && (t = hp_runtime(s->entities[i], &picks)))
			log_info("mprof", "%s: task %s %llu ms, per mille %u, %llu picks", role, s->entities[i]->name,
				 (unsigned long long)(hp_us(t) / 1000), hp_permille(t, whole), (unsigned long long)picks);
	for (i = 0; i < MIGR_PROF_STAGES; i++) {
		const struct migr_prof_stat *st = &migr_prof.stat[i];
		uint64_t us = hp_us(st->ticks);

		if (!st->calls)
			continue;
		log_info("mprof", "%s: %s %llu ms, per mille %u, %llu calls, %llu us max, %llu KiB, %llu KiB/s", role,
			 migr_prof_name(i), (unsigned long long)(us / 1000), hp_permille(st->ticks, whole),
			 (unsigned long long)st->calls, (unsigned long long)hp_us(st->max),
			 (unsigned long long)(migr_prof.bytes[i] >> 10),
			 (unsigned long long)(us ? (migr_prof.bytes[i] >> 10) * 1000000 / us : 0));
	}
}
