/*
 * The migration simulator: a VM, its writers, a link and a precopy policy,
 * stepped on a simulated clock. The mechanism (passes, harvests, the
 * statistics, how a throttle or a dirty-rate limit acts) is the sender's and
 * the scheduler's; only the policy differs between runs, so that runs of
 * different policies on one scenario are comparable.
 */
#ifndef SIM_SIM_H
#define SIM_SIM_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include "migration/policy.h"

#define SIM_PAGE 4096.0
#define SIM_GIB (1024.0 * 1024 * 1024)
#define SIM_MB 1e6
#define SIM_GBIT (1e9 / 8) /* bytes/s in one Gb/s */
#define SIM_MAX_VCPUS 16    /* the dirty-limit controller's own bound */
#define SIM_MAX_WRITERS 16
#define SIM_LIMIT_S 1800.0 /* a run that has not switched over by then did not converge */

enum sim_pattern {
	SIM_UNIFORM = 0, /* random pages of its set */
	SIM_SWEEP,       /* its set in address order, round and round */
};

/* One writing thread on one vCPU. */
struct sim_writer {
	unsigned vcpu;
	uint32_t pattern;   /* enum sim_pattern */
	int immune;         /* writes at full rate whatever the throttle (memory written without CPU time) */
	double rate;        /* page writes/s while running unthrottled */
	uint64_t set_start; /* first page of the set it writes */
	uint64_t set_pages;
};

enum sim_link_mode {
	SIM_PIPELINED = 0, /* a stream: each connection's window limits it */
	SIM_STOP_WAIT,     /* each chunk waits for its acknowledgement before the next */
};

struct sim_link {
	double bandwidth; /* bytes/s of the line, shared by the connections */
	double rtt;       /* seconds */
	unsigned conns;
	uint32_t mode;    /* enum sim_link_mode */
	double chunk;     /* bytes per acknowledged chunk (stop-and-wait) */
	double window;    /* bytes in flight per connection (pipelined) */
};

struct sim_scenario {
	char name[96];
	const char *group; /* the table it is printed in */
	double ram;        /* bytes */
	unsigned nvcpu;
	unsigned nwriters;
	struct sim_writer w[SIM_MAX_WRITERS];
	struct sim_link link;
	struct migr_limits lim;
};

/*
 * A policy: the statistics the sender measures in, a decision out, the
 * interface of migr_policy_decide. Models of other hypervisors' algorithms
 * keep what they remember in state (at most SIM_POLICY_STATE bytes, zeroed
 * before a run).
 */
#define SIM_POLICY_STATE 64
struct sim_policy {
	const char *name;
	void (*decide)(void *state, const struct migr_limits *lim, const struct migr_stats *st,
		       struct migr_decision *d);
};
extern const struct sim_policy sim_policies[];
extern const unsigned sim_npolicies;
extern const unsigned sim_nstandard; /* the first ones: the columns of every table */

/* One point of a run's timeline, every 250 ms and at each pass boundary. */
struct sim_point {
	double t, remaining, dirty_rate, throttle, bandwidth; /* s, bytes, bytes/s, %, bytes/s */
	uint32_t pass;
};

struct sim_result {
	int converged;      /* switched over within the downtime limit before SIM_LIMIT_S */
	int switched;       /* switched over at all */
	double total_s;     /* start to the end of the downtime (SIM_LIMIT_S if it never switched) */
	double downtime_ms;
	uint32_t passes;    /* live passes before the final one */
	double peak_throttle, avg_throttle; /* % of a vCPU's time: the most any vCPU lost, the VM's mean */
	double sent_over_ram;
	struct sim_point *tl; /* timeline, malloc'd when asked for */
	size_t ntl, captl;
};

enum sim_tracking {
	SIM_TRACK_AUTO = 0, /* pages where the VM is at most sim_page_level_max bytes */
	SIM_TRACK_PAGES,
	SIM_TRACK_AGGREGATE,
};
extern double sim_page_level_max;
/* When set, every decision of every run is written there, with the statistics it was taken on. */
extern FILE *sim_trace;

int sim_run(const struct sim_scenario *sc, const struct sim_policy *p, uint32_t tracking, int timeline,
	    struct sim_result *r);
void sim_result_free(struct sim_result *r);

/* The link: what it moves per second in a steady stream, and how long a burst of bytes takes. */
double sim_link_rate(const struct sim_link *l);
double sim_link_burst_s(const struct sim_link *l, double bytes);

/* The scenarios of `make sim`. */
unsigned sim_scenarios(struct sim_scenario *out, unsigned max);

/* One scenario from its text (sim/custom.c); -1 with a reason in err. */
int sim_scenario_parse(const char *spec, struct sim_scenario *sc, char *err, size_t errlen);

#endif
