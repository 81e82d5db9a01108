/*
 * A migration's profile on this host: the stream's stage counters
 * (migration/prof.h) and the CPU time each scheduler entity got meanwhile,
 * logged as a summary when the migration ends. The link test takes the same
 * profile of raw TCP when no migration holds it, so the two compare.
 */
#ifndef MIGR_HV_PROF_H
#define MIGR_HV_PROF_H

struct sched;

/* Starts counting for owner: the stages from zero, the entities' CPU time from now. A migration always may. */
void migr_hv_prof_begin(const struct sched *s, const void *owner);
/* The same only while nobody counts; returns 0 if it started. */
int migr_hv_prof_try_begin(const struct sched *s, const void *owner);
/* Logs where the time went since owner began and stops counting; nothing if another owner took over. */
void migr_hv_prof_report(const struct sched *s, const char *role, const void *owner);

#endif
