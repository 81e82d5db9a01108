/*
 * The scenarios of `make sim`: idle, moderate and write-heavy VMs of 4, 64
 * and 512 GiB on 1-100 Gb/s links, link variants (round-trip time,
 * connections, stop-and-wait), and the cases others published.
 */
#include <stdio.h>
#include <string.h>
#include "sim/sim.h"

#define MIB (1024.0 * 1024)
#define CHUNK_BYTES (4 * MIB)  /* stop-and-wait chunk: a parameter of the scenario, not anyone's constant */
#define WINDOW_BYTES (6 * MIB) /* Linux's default largest receive window (tcp_rmem) */

enum load { IDLE, MODERATE, HEAVY };
static const char *const load_name[] = { "idle", "moderate", "heavy" };

static struct sim_link link_of(double gbit, double rtt_ms, unsigned conns, uint32_t mode)
{
	return (struct sim_link){ .bandwidth = gbit * SIM_GBIT, .rtt = rtt_ms / 1e3, .conns = conns,
		.mode = mode, .chunk = CHUNK_BYTES, .window = WINDOW_BYTES };
}

static void base(struct sim_scenario *s, double gib, unsigned nvcpu, struct sim_link l)
{
	memset(s, 0, sizeof(*s));
	s->ram = gib * SIM_GIB;
	s->nvcpu = nvcpu;
	s->link = l;
	s->lim.max_throttle_pct = 99;
}

/* Writer on vcpu: mb_s megabytes of page writes per second over set_share of RAM from its start. */
static void writer(struct sim_scenario *s, unsigned vcpu, uint32_t pattern, double mb_s, double set_bytes,
		   double set_at)
{
	struct sim_writer *w = &s->w[s->nwriters++];

	w->vcpu = vcpu;
	w->pattern = pattern;
	w->rate = mb_s * SIM_MB / SIM_PAGE;
	w->set_start = (uint64_t)(set_at / SIM_PAGE);
	w->set_pages = (uint64_t)(set_bytes / SIM_PAGE);
}

/*
 * Moderate: every vCPU writes 25 MB/s at random over a tenth of RAM.
 * Heavy: every vCPU writes 200 MB/s at random over a quarter of RAM.
 */
static void load(struct sim_scenario *s, enum load l)
{
	unsigned i;

	for (i = 0; l != IDLE && i < s->nvcpu; i++)
		writer(s, i, SIM_UNIFORM, l == MODERATE ? 25 : 200, s->ram * (l == MODERATE ? 0.10 : 0.25), 0);
}

static unsigned vcpus_of(double gib)
{
	return gib <= 4 ? 4 : SIM_MAX_VCPUS;
}

static void name_link(struct sim_scenario *s, const char *what)
{
	const struct sim_link *l = &s->link;

	snprintf(s->name, sizeof(s->name), "%s-%gg-rtt%g-c%u-%s", what, l->bandwidth / SIM_GBIT, l->rtt * 1e3,
		 l->conns, l->mode == SIM_STOP_WAIT ? "saw" : "pipe");
}

static unsigned matrix(struct sim_scenario *out, unsigned n, unsigned max)
{
	static const double sizes[] = { 4, 64, 512 }, gbits[] = { 1, 10, 25, 100 };
	char what[24];
	unsigned z, l, b;

	for (z = 0; z < 3; z++)
		for (l = IDLE; l <= HEAVY; l++)
			for (b = 0; b < 4 && n < max; b++, n++) {
				base(&out[n], sizes[z], vcpus_of(sizes[z]), link_of(gbits[b], 0.1, 4, SIM_PIPELINED));
				load(&out[n], (enum load)l);
				out[n].group = "size x load x bandwidth";
				snprintf(what, sizeof(what), "%gG-%s", sizes[z], load_name[l]);
				name_link(&out[n], what);
			}
	return n;
}

/* Round trip, connection count and stop-and-wait, on a moderate 64 GiB and a heavy 4 GiB VM. */
static unsigned links(struct sim_scenario *out, unsigned n, unsigned max)
{
	static const double rtts[] = { 0.1, 5 };
	static const unsigned conns[] = { 1, 16 };
	static const struct { double gib, gbit; enum load l; } vm[] = { { 64, 25, MODERATE }, { 4, 10, HEAVY } };
	char what[24];
	unsigned v, r, c, m;

	for (v = 0; v < 2; v++)
		for (r = 0; r < 2; r++)
			for (c = 0; c < 2; c++)
				for (m = SIM_PIPELINED; m <= SIM_STOP_WAIT && n < max; m++, n++) {
					base(&out[n], vm[v].gib, vcpus_of(vm[v].gib),
					     link_of(vm[v].gbit, rtts[r], conns[c], m));
					load(&out[n], vm[v].l);
					out[n].group = "link variants";
					snprintf(what, sizeof(what), "%gG-%s", vm[v].gib, load_name[vm[v].l]);
					name_link(&out[n], what);
				}
	return n;
}

static unsigned published(struct sim_scenario *out, unsigned n, unsigned max)
{
	static const double qemu_mb_s[] = { 60, 90, 110 }, seed_gbit[] = { 1, 10, 25, 100 };
	unsigned i;

	/*
	 * QEMU's dirty-limit series, 1 Gb/s with 60, 90 and 110 MB/s of dirtying.
	 * The VM's size and layout are not in the published figures: here 4 GiB,
	 * 4 vCPUs, one writer sweeping 1 GiB (a sweep dirties new pages at its
	 * full rate until it wraps).
	 */
	for (i = 0; i < 3 && n < max; i++, n++) {
		base(&out[n], 4, 4, link_of(1, 0.1, 1, SIM_PIPELINED));
		writer(&out[n], 0, SIM_SWEEP, qemu_mb_s[i], 1 * SIM_GIB, 0);
		out[n].group = "published";
		snprintf(out[n].name, sizeof(out[n].name), "qemu-dirtylimit-%gMBs-1g", qemu_mb_s[i]);
	}
	/*
	 * seeds/003_b719d6f83e5ab034.txt: "we are able to touch over 600 MB of pages in 50 ms of
	 * continuous execution"; "even if I throttle the guest to 5% ... we still
	 * cannot even come close to catching up". Modelled as a writer the
	 * throttle does not slow: it touches its 600 MB within whatever slice it
	 * gets.
	 */
	for (i = 0; i < 4 && n < max; i++, n++) {
		base(&out[n], 4, 4, link_of(seed_gbit[i], 0.1, 4, SIM_PIPELINED));
		writer(&out[n], 0, SIM_SWEEP, 600 / 0.05, 600 * SIM_MB, 0);
		out[n].w[0].immune = 1;
		out[n].group = "published";
		snprintf(out[n].name, sizeof(out[n].name), "seed-600MB-in-50ms-%gg", seed_gbit[i]);
	}
	/* One writer among 8 vCPUs: 1.2 GB/s over 8 GiB of a 64 GiB VM; the others barely write. */
	for (i = 1; i < 3 && n < max; i++, n++) {
		unsigned v;

		base(&out[n], 64, 8, link_of(seed_gbit[i], 0.1, 4, SIM_PIPELINED));
		writer(&out[n], 0, SIM_UNIFORM, 1200, 8 * SIM_GIB, 0);
		for (v = 1; v < 8; v++)
			writer(&out[n], v, SIM_UNIFORM, 2, 64 * MIB, 8 * SIM_GIB + v * 64 * MIB);
		out[n].group = "published";
		snprintf(out[n].name, sizeof(out[n].name), "one-writer-of-8-64G-%gg", seed_gbit[i]);
	}
	return n;
}

unsigned sim_scenarios(struct sim_scenario *out, unsigned max)
{
	unsigned n = matrix(out, 0, max);

	n = links(out, n, max);
	return published(out, n, max);
}
