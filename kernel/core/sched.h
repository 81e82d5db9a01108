/*
 * The scheduler's policy: which entity runs next and what each has been
 * granted. Pure: no hardware, time passed in as TSC ticks. One instance per
 * physical CPU; vCPUs and the hypervisor's own tasks are its entities.
 */
#ifndef HV_KERNEL_CORE_SCHED_H
#define HV_KERNEL_CORE_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#define SCHED_MAX_ENTITIES 16
#define SCHED_NEVER UINT64_MAX

enum sched_state {
	SCHED_RUNNABLE,
	SCHED_BLOCKED, /* until wake_at, or until sched_wake() */
	SCHED_DEFERRED, /* until wake_at, runs only when nothing else can; then runnable */
	SCHED_STOPPED, /* never runs again */
};

enum sched_kind {
	SCHED_KIND_VCPU,
	SCHED_KIND_TASK,
};

#define SCHED_THROTTLE_MAX 99

struct sched_entity;

/*
 * Runs an entity from now until deadline (TSC) at most, or until it blocks:
 * a vCPU enters its guest, a host task does a bounded amount of work. The
 * loop that calls it knows nothing else of the entity.
 */
typedef void (*sched_run_fn)(struct sched_entity *e, uint64_t now, uint64_t deadline);

struct sched_entity {
	const char *name;
	enum sched_kind kind;
	sched_run_fn run;
	void *owner;            /* what run works on: a struct vcpu or struct host_task */
	enum sched_state state;
	uint64_t wake_at;       /* TSC deadline while BLOCKED; SCHED_NEVER = until woken */
	uint64_t runtime;       /* TSC ticks granted so far */
	uint64_t slices;        /* times picked */

	/*
	 * Throttle: while budgeted, the entity may run budget ticks per period,
	 * (100 - throttle) % of its fair share (the period divided among the
	 * vCPUs that have not stopped). Overruns are carried into the next
	 * period, as is the rounding remainder, so the long-run share is exact;
	 * time left unused in a period is not carried.
	 */
	bool budgeted;
	unsigned throttle;      /* percent, 0..SCHED_THROTTLE_MAX */
	int64_t budget;         /* ticks left in the current period */
	uint64_t budget_rem;    /* rounding remainder, in 1/(100 * vcpus) ticks */
	uint64_t throttled;     /* ticks of fair share withheld so far */
	uint64_t grant_cap;     /* if nonzero, caps the next grant only (after a release) */

	/* A release (sched_share_next_slice) and how long it took to reach this entity. */
	bool release_pending;   /* released and not picked since */
	uint64_t release_at;    /* TSC of the release */
	uint64_t release_wait;  /* ticks from the release to the first pick after it */
};

struct sched {
	struct sched_entity *entities[SCHED_MAX_ENTITIES];
	unsigned count;
	unsigned cursor;        /* round-robin position: the next index to consider */
	uint64_t slice;         /* TSC ticks per time slice */
	uint64_t idle_ticks;    /* time with nothing runnable */
	uint64_t period;        /* throttle period, TSC ticks */
	uint64_t period_start;  /* start of the current period */
};

void sched_init(struct sched *s, uint64_t slice_ticks);

/* Sets the throttle period (default: ten slices). */
void sched_set_period(struct sched *s, uint64_t period_ticks, uint64_t now);

/*
 * Budgets e at throttle percent of its fair share from now on (budgeted) or
 * lifts every limit (!budgeted). A new throttle applies from the next
 * period; lifting the limit applies at once, whatever the throttle was.
 */
void sched_set_throttle(struct sched *s, struct sched_entity *e, bool budgeted, unsigned percent, uint64_t now);

/*
 * Caps the next grant of each listed entity at one slice divided among
 * them, so that all of them get the CPU within one slice (a release made at
 * now). Each entity's release_wait is stamped when it is next picked.
 */
void sched_share_next_slice(struct sched *s, struct sched_entity **list, unsigned n, uint64_t now);

/* Ticks the picked entity may run now: a slice, or less when its budget is smaller. */
uint64_t sched_grant(const struct sched *s, const struct sched_entity *e);
/* Adds e, run by run(e, ...) on owner; HV_ENOMEM when the scheduler is full. */
int sched_add(struct sched *s, struct sched_entity *e, const char *name, enum sched_kind kind, sched_run_fn run,
	      void *owner);

/*
 * Takes e out of s (a VM that migrated away, or was thrown away): the
 * round-robin order of the others is kept. False if e is not in s.
 */
bool sched_remove(struct sched *s, struct sched_entity *e);

/*
 * Starts a new throttle period if one is due, wakes every blocked or
 * deferred entity whose deadline has passed, then returns the next runnable
 * entity with budget left in round-robin order; failing that, a deferred
 * entity (round-robin among them); NULL when there is none.
 */
struct sched_entity *sched_pick(struct sched *s, uint64_t now);

/* When something may next become runnable: the earliest wake_at of a blocked
 * entity, or the next period's start if an entity waits for budget. */
uint64_t sched_next_wake(const struct sched *s);

/* Charges an entity for ticks it ran (entry and exit costs included). */
void sched_charge(struct sched_entity *e, uint64_t ticks);
void sched_charge_idle(struct sched *s, uint64_t ticks);

void sched_block(struct sched_entity *e, uint64_t until);
/*
 * Lets the others go first until until: before then e runs only when no
 * other entity is eligible (all blocked, or out of budget), from then on
 * like any runnable entity. A task that wants at most a share of a busy CPU
 * defers rather than blocks, so that a CPU nobody else wants is not left idle.
 */
void sched_defer(struct sched_entity *e, uint64_t until);
void sched_wake(struct sched_entity *e);
void sched_stop(struct sched_entity *e);

/* True while any entity of the given kind has not stopped. */
bool sched_any_alive(const struct sched *s, enum sched_kind kind);

#endif
