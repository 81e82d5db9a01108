/*
 * sim: runs every scenario under every policy; prints a table per scenario
 * (one column per policy), writes the records as JSON and each run's
 * timeline as CSV for the plots.
 *   sim [-s substring] [-a] [-o dir] [-t] [-V] [-C scenario]
 *   -s  only the scenarios whose name contains substring
 *   -a  every policy model, not only the standard columns
 *   -o  output directory (sim.json, sim/<scenario>.csv); default build/bench
 *   -t  write the timelines
 *   -V  page-by-page against aggregate tracking, on the scenarios where both run
 *   -x  trace every decision on stderr (with -s: one scenario's runs)
 *   -P  GiB: the largest VM tracked page by page (default 64; above it, aggregate)
 *   -C  run this one scenario instead (sim/custom.c says its text): replays a measured migration
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sim/sim.h"

#define MAX_SCEN 128
#define MAX_POL 8

struct opts {
	const char *filter, *out, *custom;
	int all, timelines, validate;
};

static struct sim_scenario scen[MAX_SCEN];
static struct sim_result res[MAX_SCEN][MAX_POL];

static void table(const struct sim_scenario *s, const struct sim_result *r, unsigned np)
{
	unsigned p;

	printf("\n%s  (%.4g GiB, %u vCPUs, %.4g Gb/s, rtt %.1f ms, %u conn %s)\n", s->name, s->ram / SIM_GIB, s->nvcpu,
	       s->link.bandwidth / SIM_GBIT, s->link.rtt * 1e3, s->link.conns,
	       s->link.mode == SIM_STOP_WAIT ? "stop-and-wait" : "pipelined");
	printf("  %-16s", "");
	for (p = 0; p < np; p++)
		printf(" %19s", sim_policies[p].name);
	printf("\n  %-16s", "converged");
	for (p = 0; p < np; p++)
		printf(" %19s", r[p].converged ? "yes" : r[p].switched ? "no (downtime)" : "no");
#define ROW(label, fmt, expr)                                   \
	do {                                                    \
		printf("\n  %-16s", label);                     \
		for (p = 0; p < np; p++)                        \
			printf(" %19" fmt, expr);               \
	} while (0)
	ROW("total s", ".1f", r[p].total_s);
	ROW("downtime ms", ".0f", r[p].switched ? r[p].downtime_ms : 0.0);
	ROW("passes", "u", r[p].passes);
	ROW("peak throttle %", ".0f", r[p].peak_throttle);
	ROW("avg throttle %", ".1f", r[p].avg_throttle);
	ROW("sent / RAM", ".2f", r[p].sent_over_ram);
#undef ROW
	printf("\n");
}

static int write_json(const char *dir, unsigned ns, unsigned np)
{
	char path[512];
	FILE *f;
	unsigned s, p;
	int first = 1;

	snprintf(path, sizeof(path), "%s/sim.json", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "[\n");
	for (s = 0; s < ns; s++)
		for (p = 0; p < np; p++) {
			const struct sim_result *r = &res[s][p];

			fprintf(f,
				"%s  {\"scenario\": \"%s\", \"group\": \"%s\", \"policy\": \"%s\", \"total_s\": %.3f, "
				"\"downtime_ms\": %.1f, \"passes\": %u, \"peak_throttle\": %.0f, \"avg_throttle\": %.2f, "
				"\"sent_over_ram\": %.3f, \"converged\": %s, \"switched\": %s, \"tracking\": \"%s\"}",
				first ? "" : ",\n", scen[s].name, scen[s].group, sim_policies[p].name, r->total_s,
				r->switched ? r->downtime_ms : 0.0, r->passes, r->peak_throttle, r->avg_throttle,
				r->sent_over_ram, r->converged ? "true" : "false", r->switched ? "true" : "false",
				scen[s].ram <= sim_page_level_max ? "pages" : "aggregate");
			first = 0;
		}
	fprintf(f, "\n]\n");
	return fclose(f);
}

/* One CSV per scenario: every policy's points, a blank line between policies (gnuplot's index). */
static int write_timelines(const char *dir, unsigned ns, unsigned np)
{
	char path[512];
	FILE *f;
	unsigned s, p;
	size_t i;

	snprintf(path, sizeof(path), "%s/sim", dir);
	mkdir(path, 0755);
	for (s = 0; s < ns; s++) {
		if (snprintf(path, sizeof(path), "%s/sim/%s.csv", dir, scen[s].name) >= (int)sizeof(path))
			return -1;
		f = fopen(path, "w");
		if (!f)
			return -1;
		for (p = 0; p < np; p++) {
			const struct sim_result *r = &res[s][p];

			fprintf(f, "# %s\n", sim_policies[p].name);
			for (i = 0; i < r->ntl; i++)
				fprintf(f, "%.3f %.6e %.6e %.1f %.6e %u\n", r->tl[i].t, r->tl[i].remaining,
					r->tl[i].dirty_rate, r->tl[i].throttle, r->tl[i].bandwidth, r->tl[i].pass);
			fprintf(f, "\n\n");
		}
		if (fclose(f))
			return -1;
	}
	return 0;
}

/*
 * Ours against each model: where either converges, who is faster where both
 * do, and over those same runs the mean of the average throttles and the
 * longest downtime.
 */
static void summary(unsigned ns, unsigned np)
{
	unsigned s, p, both, wins, miss;
	double thr_o, thr_m, down_o, down_m;

	printf("\nSummary: ours against each model (throttle and downtime over the runs both converge in)\n");
	printf("  %-28s %8s %6s %11s %6s %16s %18s\n", "model", "it only", "both", "ours <= it", "share",
	       "avg thr ours/it", "max down ours/it");
	for (p = 1; p < np; p++) {
		both = wins = miss = 0;
		thr_o = thr_m = down_o = down_m = 0;
		for (s = 0; s < ns; s++) {
			const struct sim_result *o = &res[s][0], *m = &res[s][p];

			if (m->converged && !o->converged)
				miss++;
			if (m->converged && o->converged) {
				both++;
				wins += o->total_s <= m->total_s;
				thr_o += o->avg_throttle;
				thr_m += m->avg_throttle;
				down_o = o->downtime_ms > down_o ? o->downtime_ms : down_o;
				down_m = m->downtime_ms > down_m ? m->downtime_ms : down_m;
			}
		}
		printf("  %-28s %8u %6u %11u %5.0f%% %7.1f%% %6.1f%% %8.0f %8.0f ms\n", sim_policies[p].name, miss, both,
		       wins, both ? 100.0 * wins / both : 100.0, both ? thr_o / both : 0, both ? thr_m / both : 0,
		       down_o, down_m);
	}
	printf("\nWhere a model converges faster than ours:\n");
	for (s = 0; s < ns; s++)
		for (p = 1; p < np; p++)
			if (res[s][p].converged && res[s][0].converged && res[s][0].total_s > res[s][p].total_s)
				printf("  %-44s %-20s ours %.1f s (%.0f ms), it %.1f s (%.0f ms)\n", scen[s].name,
				       sim_policies[p].name, res[s][0].total_s, res[s][0].downtime_ms,
				       res[s][p].total_s, res[s][p].downtime_ms);
	printf("Where a model converges and ours does not:\n");
	for (s = 0; s < ns; s++)
		for (p = 1; p < np; p++)
			if (res[s][p].converged && !res[s][0].converged)
				printf("  %-44s %-20s\n", scen[s].name, sim_policies[p].name);
}

/* Page-level against aggregate tracking, our policy, on every scenario small enough for both. */
static void validate(unsigned ns)
{
	struct sim_result a, b;
	unsigned s;

	printf("\nPage-by-page against aggregate tracking (policy: ours)\n");
	printf("  %-44s %18s %18s %14s %14s\n", "scenario", "total s pg/agg", "downtime ms pg/agg", "passes pg/agg",
	       "sent/RAM pg/agg");
	for (s = 0; s < ns; s++) {
		if (scen[s].ram > sim_page_level_max)
			continue;
		if (sim_run(&scen[s], &sim_policies[0], SIM_TRACK_PAGES, 0, &a) ||
		    sim_run(&scen[s], &sim_policies[0], SIM_TRACK_AGGREGATE, 0, &b))
			continue;
		printf("  %-44s %8.1f %9.1f %8.0f %9.0f %6u %7u %6.2f %7.2f\n", scen[s].name, a.total_s, b.total_s,
		       a.downtime_ms, b.downtime_ms, a.passes, b.passes, a.sent_over_ram, b.sent_over_ram);
	}
}

int main(int argc, char **argv)
{
	struct opts o = { .out = "build/bench" };
	struct sim_scenario all[MAX_SCEN];
	unsigned n, ns = 0, np, s, p;
	int c;

	while ((c = getopt(argc, argv, "s:ao:tVP:xC:")) != -1) {
		if (c == 's')
			o.filter = optarg;
		else if (c == 'a')
			o.all = 1;
		else if (c == 'o')
			o.out = optarg;
		else if (c == 't')
			o.timelines = 1;
		else if (c == 'V')
			o.validate = 1;
		else if (c == 'x')
			sim_trace = stderr;
		else if (c == 'C')
			o.custom = optarg;
		else if (c == 'P')
			sim_page_level_max = atof(optarg) * SIM_GIB;
		else
			return 2;
	}
	np = o.all ? sim_npolicies : sim_nstandard;
	if (o.custom) {
		char err[160];

		if (sim_scenario_parse(o.custom, &scen[ns++], err, sizeof(err))) {
			fprintf(stderr, "sim: -C: %s\n", err);
			return 2;
		}
	} else {
		n = sim_scenarios(all, MAX_SCEN);
		for (s = 0; s < n; s++)
			if (!o.filter || strstr(all[s].name, o.filter))
				scen[ns++] = all[s];
	}
	if (o.validate) {
		validate(ns);
		return 0;
	}
	for (s = 0; s < ns; s++) {
		for (p = 0; p < np; p++)
			if (sim_run(&scen[s], &sim_policies[p], SIM_TRACK_AUTO, o.timelines, &res[s][p])) {
				fprintf(stderr, "sim: out of memory in %s\n", scen[s].name);
				return 1;
			}
		table(&scen[s], res[s], np);
		fflush(stdout);
	}
	summary(ns, np);
	mkdir(o.out, 0755);
	if (write_json(o.out, ns, np) || (o.timelines && write_timelines(o.out, ns, np))) {
		fprintf(stderr, "sim: cannot write under %s\n", o.out);
		return 1;
	}
	for (s = 0; s < ns; s++)
		for (p = 0; p < np; p++)
			sim_result_free(&res[s][p]);
	return 0;
}
