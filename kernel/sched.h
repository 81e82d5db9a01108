/*
 * The scheduler's policy: which entity runs next and what each has been
 * granted. Pure: no hardware, time passed in as TSC ticks. One instance per
 * physical CPU; vCPUs and the hypervisor's own tasks are its entities.
 */
#ifndef HV_KERNEL_SCHED_H
#define HV_KERNEL_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#define SCHED_MAX_ENTITIES 16
#define SCHED_NEVER UINT64_MAX

enum sched_state {
	SCHED_RUNNABLE,
	SCHED_BLOCKED, /* until wake_at, or until sched_wake() */
	SCHED_STOPPED, /* never runs again */
};

enum sched_kind {
	SCHED_KIND_VCPU,
	SCHED_KIND_TASK,
};

struct sched_entity {
	const char *name;
	enum sched_kind kind;
	void *owner;            /* struct vcpu or struct host_task */
	enum sched_state state;
	uint64_t wake_at;       /* TSC deadline while BLOCKED; SCHED_NEVER = until woken */
	uint64_t runtime;       /* TSC ticks granted so far */
	uint64_t slices;        /* times picked */
};

struct sched {
	struct sched_entity *entities[SCHED_MAX_ENTITIES];
	unsigned count;
	unsigned cursor;        /* round-robin position: the next index to consider */
	uint64_t slice;         /* TSC ticks per time slice */
	uint64_t idle_ticks;    /* time with nothing runnable */
};

void sched_init(struct sched *s, uint64_t slice_ticks);
int sched_add(struct sched *s, struct sched_entity *e, const char *name, enum sched_kind kind, void *owner);

/*
 * Wakes every blocked entity whose deadline has passed, then returns the
 * next runnable entity in round-robin order, or NULL when none is runnable.
 */
struct sched_entity *sched_pick(struct sched *s, uint64_t now);

/* The earliest wake_at among blocked entities (SCHED_NEVER if none). */
uint64_t sched_next_wake(const struct sched *s);

/* Charges an entity for ticks it ran (entry and exit costs included). */
void sched_charge(struct sched_entity *e, uint64_t ticks);
void sched_charge_idle(struct sched *s, uint64_t ticks);

void sched_block(struct sched_entity *e, uint64_t until);
void sched_wake(struct sched_entity *e);
void sched_stop(struct sched_entity *e);

/* True while any entity of the given kind has not stopped. */
bool sched_any_alive(const struct sched *s, enum sched_kind kind);

#endif
