/*
 * One scenario from a text, so that a measured migration can be replayed in
 * the simulator with the sizes, rates and link it really had:
 *   ram_mib=8,vcpus=2,bw_mib_s=0.3,rtt_ms=1,conns=1,downtime_ms=300,
 *   max_throttle=99,writer=VCPU/uniform|sweep/PAGES_PER_S/FIRST_PAGE/PAGES[/immune]
 * (writer may repeat). Unknown keys, missing values and values out of range
 * are errors: a validation run that silently simulated something else would
 * be worse than none.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim/sim.h"

#define MIB (1024.0 * 1024)

static int number(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return errno || end == s || *end || *out < 0 ? -1 : 0;
}

static int parse_writer(char *v, struct sim_scenario *sc, char *err, size_t errlen)
{
	char *field[6] = { 0 }, *save = NULL, *tok;
	double vcpu, rate, first, pages;
	struct sim_writer *w;
	unsigned n = 0;

	for (tok = strtok_r(v, "/", &save); tok && n < 6; tok = strtok_r(NULL, "/", &save))
		field[n++] = tok;
	if (n < 5 || tok || sc->nwriters >= SIM_MAX_WRITERS || number(field[0], &vcpu) || number(field[2], &rate) ||
	    number(field[3], &first) || number(field[4], &pages) || (field[5] && strcmp(field[5], "immune"))) {
		snprintf(err, errlen, "writer wants VCPU/uniform|sweep/PAGES_PER_S/FIRST_PAGE/PAGES[/immune]");
		return -1;
	}
	w = &sc->w[sc->nwriters++];
	w->vcpu = (unsigned)vcpu;
	w->rate = rate;
	w->set_start = (uint64_t)first;
	w->set_pages = (uint64_t)pages;
	w->immune = field[5] != NULL;
	if (!strcmp(field[1], "uniform"))
		w->pattern = SIM_UNIFORM;
	else if (!strcmp(field[1], "sweep"))
		w->pattern = SIM_SWEEP;
	else {
		snprintf(err, errlen, "writer pattern '%s': uniform or sweep", field[1]);
		return -1;
	}
	return 0;
}

/* The checks that need every key: the writers fit the VM. */
static int check(const struct sim_scenario *sc, char *err, size_t errlen)
{
	uint64_t pages = (uint64_t)(sc->ram / SIM_PAGE);
	unsigned i;

	if (!sc->ram || !sc->nvcpu || sc->nvcpu > SIM_MAX_VCPUS || !sc->link.bandwidth || !sc->link.conns) {
		snprintf(err, errlen, "ram_mib, vcpus (1-%u), bw_mib_s and conns are required", SIM_MAX_VCPUS);
		return -1;
	}
	for (i = 0; i < sc->nwriters; i++)
		if (sc->w[i].vcpu >= sc->nvcpu || !sc->w[i].set_pages || sc->w[i].set_start + sc->w[i].set_pages > pages) {
			snprintf(err, errlen, "writer %u: vCPU or page set outside the VM", i);
			return -1;
		}
	return 0;
}

int sim_scenario_parse(const char *spec, struct sim_scenario *sc, char *err, size_t errlen)
{
	char buf[1024], *save = NULL, *kv;
	double v;

	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "scenario text too long");
		return -1;
	}
	strcpy(buf, spec);
	memset(sc, 0, sizeof(*sc));
	snprintf(sc->name, sizeof(sc->name), "custom");
	sc->group = "custom";
	sc->lim.max_throttle_pct = 99;
	sc->link = (struct sim_link){ .conns = 1, .mode = SIM_PIPELINED, .chunk = 4 * MIB, .window = 6 * MIB };
	for (kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *val = strchr(kv, '=');

		if (!val) {
			snprintf(err, errlen, "'%s': key=value expected", kv);
			return -1;
		}
		*val++ = 0;
		if (!strcmp(kv, "name")) {
			snprintf(sc->name, sizeof(sc->name), "%s", val);
			continue;
		}
		if (!strcmp(kv, "writer")) {
			if (parse_writer(val, sc, err, errlen))
				return -1;
			continue;
		}
		if (number(val, &v)) {
			snprintf(err, errlen, "%s: '%s' is not a non-negative number", kv, val);
			return -1;
		}
		if (!strcmp(kv, "ram_mib"))
			sc->ram = v * MIB;
		else if (!strcmp(kv, "vcpus"))
			sc->nvcpu = (unsigned)v;
		else if (!strcmp(kv, "bw_mib_s"))
			sc->link.bandwidth = v * MIB;
		else if (!strcmp(kv, "rtt_ms"))
			sc->link.rtt = v / 1e3;
		else if (!strcmp(kv, "conns") && v >= 1 && v <= 16)
			sc->link.conns = (unsigned)v;
		else if (!strcmp(kv, "downtime_ms"))
			sc->lim.downtime_ms = (uint32_t)v;
		else if (!strcmp(kv, "max_throttle") && v <= 99)
			sc->lim.max_throttle_pct = (uint32_t)v;
		else {
			snprintf(err, errlen, "unknown key or value out of range: %s=%s", kv, val);
			return -1;
		}
	}
	return check(sc, err, errlen);
}
