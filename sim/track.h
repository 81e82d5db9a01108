/*
 * Dirty tracking as the sender sees it: the set being sent in this pass and
 * the pages dirtied since its harvest. Either page by page (a bitmap at
 * 4 KiB, writes drawn at random) or aggregate (expected counts per working
 * set), behind one interface so that the two can be checked against each
 * other.
 */
#ifndef SIM_TRACK_H
#define SIM_TRACK_H

#include "sim/sim.h"

struct sim_track {
	int pages;           /* page by page, else aggregate */
	uint64_t npages;
	unsigned nset;       /* distinct working sets: writers on one set share it */
	unsigned set_of[SIM_MAX_WRITERS];
	uint64_t set_start[SIM_MAX_WRITERS], set_pages[SIM_MAX_WRITERS];
	uint32_t set_pattern[SIM_MAX_WRITERS];
	double set_dirty[SIM_MAX_WRITERS]; /* pages of the set dirtied since the harvest */
	double carry[SIM_MAX_WRITERS];     /* fractions of a write not yet made */
	uint64_t sweep_pos[SIM_MAX_WRITERS];
	double pass_total, pass_sent;      /* pages of this pass; of those, sent */
	double new_by_vcpu[SIM_MAX_VCPUS]; /* pages first dirtied since the start, per vCPU */
	double send_carry;
	/* page by page */
	uint64_t *dirty, *pass, cursor, rng;
};

int sim_track_init(struct sim_track *t, const struct sim_scenario *sc, int pages);
void sim_track_free(struct sim_track *t);
/* Writers run for dt seconds, writer i at rate[i] page writes/s. */
void sim_track_write(struct sim_track *t, const struct sim_scenario *sc, const double *rate, double dt);
/* Sends up to n pages of this pass; returns how many it sent. */
double sim_track_send(struct sim_track *t, double n);
/* Pass boundary: the dirtied pages become the next pass's set; returns their count. */
double sim_track_harvest(struct sim_track *t);
double sim_track_pending(const struct sim_track *t);

#endif
