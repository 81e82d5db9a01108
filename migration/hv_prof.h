/*
 * A migration's profile on this host: the stream's stage counters
 * (migration/prof.h) and the CPU time each scheduler entity got meanwhile,
 * logged as a summary when the migration ends.
 */
#ifndef MIGR_HV_PROF_H
#define MIGR_HV_PROF_H

struct sched;

/* Starts counting: the stages from zero, the entities' CPU time from now. */
void migr_hv_prof_begin(const struct sched *s);
/* Logs where the time went since migr_hv_prof_begin() and stops counting. */
void migr_hv_prof_report(const struct sched *s, const char *role);

#endif
