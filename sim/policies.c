/*
 * The policies compared, all behind the sender's interface (struct
 * migr_stats in, struct migr_decision out). Ours is migr_policy_decide,
 * linked unchanged. The others are models of the algorithms other
 * hypervisors ship, written from their published descriptions; each keeps
 * its own memory in the state the simulator hands it. They share the
 * sender's mechanism (passes, harvests, the throttle and the dirty-rate
 * limit as the scheduler enforces them), so a difference between two runs
 * is a difference of policy.
 */
#include <stdint.h>
#include "migration/stream.h"
#include "sim/sim.h"

static void ours(void *state, const struct migr_limits *lim, const struct migr_stats *st, struct migr_decision *d)
{
	(void)state;
	migr_policy_decide(lim, st, d);
}

/*
 * A what-if, not a policy anyone ships: ours, with no throttle during the
 * full copy. Writes during the first pass land mostly on the working set,
 * which the second pass carries whole anyway once it is all dirty; this
 * shows what the throttle held through that pass buys.
 */
static void ours_from_pass_2(void *state, const struct migr_limits *lim, const struct migr_stats *st,
			     struct migr_decision *d)
{
	(void)state;
	migr_policy_decide(lim, st, d);
	if (st->pass == 1 && (d->action == MIGR_ACT_SET_THROTTLE || d->action == MIGR_ACT_SET_DIRTY_LIMIT)) {
		d->action = MIGR_ACT_CONTINUE;
		d->reason = MIGR_WHY_CONVERGING;
	}
}

static uint64_t downtime_limit(const struct migr_limits *lim)
{
	return lim->downtime_ms ? lim->downtime_ms : MIGR_DOWNTIME_DEFAULT_MS;
}

static void decide(struct migr_decision *d, uint32_t action, uint32_t reason)
{
	d->action = action;
	d->reason = reason;
}

/* What remains fits bandwidth x downtime limit: QEMU's and Cloud Hypervisor's switchover test. */
static int fits(const struct migr_limits *lim, const struct migr_stats *st, struct migr_decision *d)
{
	*d = (struct migr_decision){ .expected_downtime_ms = UINT64_MAX };
	if (!st->bandwidth)
		return 0;
	d->expected_downtime_ms = st->remaining_bytes * 1000 / st->bandwidth;
	return d->expected_downtime_ms <= downtime_limit(lim);
}

/*
 * QEMU's trigger, shared by auto-converge and dirty-limit: at each bitmap
 * sync (our pass boundary), the bytes dirtied in the period are compared
 * with half the bytes sent in it (throttle-trigger-threshold, 50 by
 * default); the second time they exceed it, the guest is slowed down and the
 * count restarts. The mechanism QEMU 2.x had (a count of four, one 30 ms
 * sleep) is what seeds/003_b719d6f83e5ab034.txt found too weak ("The counter must reach 4 before
 * any throttling is done ... sleep on each guest cpu for 30ms, exactly one
 * time"); the trigger here is today's.
 */
#define QEMU_TRIGGER_PCT 50u
#define QEMU_TRIGGER_COUNT 2u
struct qemu_state {
	uint64_t last_sync_ms, xfer, dirtied; /* the last period's bytes sent and dirtied */
	uint32_t high;
	uint32_t limit_set;
};

static int qemu_trigger(struct qemu_state *q, const struct migr_stats *st)
{
	uint64_t period_ms = st->elapsed_ms - q->last_sync_ms;

	q->xfer = st->bandwidth * period_ms / 1000;
	q->dirtied = st->remaining_bytes;
	q->last_sync_ms = st->elapsed_ms;
	if (q->dirtied * 100 <= q->xfer * QEMU_TRIGGER_PCT || ++q->high < QEMU_TRIGGER_COUNT)
		return 0;
	q->high = 0;
	return 1;
}

/*
 * Auto-converge: 20% at the first trigger (cpu-throttle-initial), +10% at
 * each later one (cpu-throttle-increment), at most 99%: QEMU's
 * CPU_THROTTLE_PCT_MAX, seeds/002_a10ff02123cfb8e8.txt ("when set to 99%, the actual throttle
 * rate was 95%" with a VM-wide timer; the scheduler here takes time per
 * vCPU, like that patch's per-vCPU timers). With tailslow, a step is cut to
 * what would bring the dirtied bytes down to the trigger level.
 */
#define QEMU_AC_INITIAL 20u
#define QEMU_AC_STEP 10u
#define QEMU_AC_MAX 99u
static void qemu_ac(void *state, const struct migr_limits *lim, const struct migr_stats *st,
		    struct migr_decision *d, int tailslow)
{
	struct qemu_state *q = state;
	uint32_t now = st->throttle_pct, step = QEMU_AC_STEP, ideal;

	if (fits(lim, st, d)) {
		decide(d, MIGR_ACT_SWITCHOVER, MIGR_WHY_DOWNTIME_FITS);
		return;
	}
	decide(d, MIGR_ACT_CONTINUE, st->throttle_pct ? MIGR_WHY_THROTTLE_HELD : MIGR_WHY_CONVERGING);
	if (!st->pass_done || !qemu_trigger(q, st))
		return;
	if (tailslow && now && q->dirtied) {
		/* The CPU share that would have made this period's dirtying meet the trigger level. */
		ideal = (uint32_t)((100 - now) * (q->xfer * QEMU_TRIGGER_PCT / 100) / q->dirtied);
		step = 100 - now - ideal < step ? 100 - now - ideal : step;
	}
	d->throttle_pct = now ? now + step : QEMU_AC_INITIAL;
	if (d->throttle_pct > QEMU_AC_MAX)
		d->throttle_pct = QEMU_AC_MAX;
	decide(d, MIGR_ACT_SET_THROTTLE, MIGR_WHY_DIRTY_OUTRUNS);
}

static void qemu_auto_converge(void *state, const struct migr_limits *lim, const struct migr_stats *st,
			       struct migr_decision *d)
{
	qemu_ac(state, lim, st, d, 0);
}

static void qemu_auto_converge_tailslow(void *state, const struct migr_limits *lim, const struct migr_stats *st,
					struct migr_decision *d)
{
	qemu_ac(state, lim, st, d, 1);
}

/*
 * Dirty-limit (QEMU 8.1): at the same trigger, every vCPU gets the
 * vcpu-dirty-limit, 1 MB/s by default, and keeps it to the end. Here the
 * limit is the VM-wide rate of that many vCPUs, which the scheduler's
 * controller splits max-min fairly: equal to QEMU's per-vCPU cap when all
 * vCPUs write, looser for the writer when some do not.
 */
#define QEMU_DL_VCPU_BYTES 1000000u
static void qemu_dirty_limit(void *state, const struct migr_limits *lim, const struct migr_stats *st,
			     struct migr_decision *d)
{
	struct qemu_state *q = state;
	uint32_t n = st->nvcpu ? st->nvcpu : 1;

	if (fits(lim, st, d)) {
		decide(d, MIGR_ACT_SWITCHOVER, MIGR_WHY_DOWNTIME_FITS);
		return;
	}
	decide(d, MIGR_ACT_CONTINUE, q->limit_set ? MIGR_WHY_THROTTLE_HELD : MIGR_WHY_CONVERGING);
	if (!st->pass_done || !qemu_trigger(q, st) || q->limit_set)
		return;
	q->limit_set = 1;
	d->dirty_limit = (uint64_t)n * QEMU_DL_VCPU_BYTES / MIGR_PAGE_SIZE;
	d->max_pct = QEMU_AC_MAX;
	decide(d, MIGR_ACT_SET_DIRTY_LIMIT, MIGR_WHY_DIRTY_OUTRUNS);
}

/*
 * Cloud Hypervisor's auto-converge, seeds/000_7b3fb9dd76056908.txt: "auto-converging starts
 * always after two memory delta transfer iterations - every two iterations,
 * it is increased (step size is 10%) - maximum throttling is 99%". Pass 1 is
 * the full copy, so delta iteration k ends pass k + 1. Switchover is judged
 * at the end of an iteration, on the estimated downtime.
 */
#define CH_START_ITER 2u
#define CH_EVERY_ITERS 2u
#define CH_STEP 10u
#define CH_MAX 99u
static void cloud_hypervisor(void *state, const struct migr_limits *lim, const struct migr_stats *st,
			     struct migr_decision *d)
{
	uint32_t k = st->pass - 1;

	(void)state;
	if (!st->pass_done) {
		*d = (struct migr_decision){ .action = MIGR_ACT_CONTINUE, .reason = MIGR_WHY_CONVERGING,
					     .expected_downtime_ms = UINT64_MAX };
		return;
	}
	if (fits(lim, st, d)) {
		decide(d, MIGR_ACT_SWITCHOVER, MIGR_WHY_DOWNTIME_FITS);
		return;
	}
	decide(d, MIGR_ACT_CONTINUE, MIGR_WHY_CONVERGING);
	if (k >= CH_START_ITER && k % CH_EVERY_ITERS == 0 && st->throttle_pct < CH_MAX) {
		d->throttle_pct = st->throttle_pct + CH_STEP < CH_MAX ? st->throttle_pct + CH_STEP : CH_MAX;
		decide(d, MIGR_ACT_SET_THROTTLE, MIGR_WHY_DIRTY_OUTRUNS);
	}
}

/*
 * Xen's simple precopy policy: stop and copy after a fixed number of
 * iterations or once fewer than a threshold of pages are dirty; never a
 * throttle. seeds/004_176c105455500df6.txt calls these "the current hard
 * coded parameters" ("on 5 or fewer iterations, the asymptotic properties
 * don't appear cleanly"); their values are xg_sr_save.c's
 * SPP_MAX_ITERATIONS (5) and SPP_TARGET_DIRTY_COUNT (50 pages). The full
 * copy counts as the first of the 5 passes here.
 */
#define XEN_MAX_ITERS 5u
#define XEN_TARGET_PAGES 50u
static void xen(void *state, const struct migr_limits *lim, const struct migr_stats *st, struct migr_decision *d)
{
	(void)state;
	(void)fits(lim, st, d);
	decide(d, MIGR_ACT_CONTINUE, MIGR_WHY_CONVERGING);
	if (st->pass_done &&
	    (st->remaining_bytes / MIGR_PAGE_SIZE < XEN_TARGET_PAGES || st->pass >= XEN_MAX_ITERS))
		decide(d, MIGR_ACT_SWITCHOVER, MIGR_WHY_DOWNTIME_FITS);
}

const struct sim_policy sim_policies[] = {
	{ "ours", ours },
	{ "qemu-auto-converge", qemu_auto_converge },
	{ "qemu-dirty-limit", qemu_dirty_limit },
	{ "cloud-hypervisor", cloud_hypervisor },
	{ "xen", xen },
	/* Not columns of the standard tables (sim -a shows them): QEMU's option, off by default; a what-if. */
	{ "qemu-auto-converge-tailslow", qemu_auto_converge_tailslow },
	{ "ours-from-pass-2", ours_from_pass_2 },
};
const unsigned sim_npolicies = sizeof(sim_policies) / sizeof(sim_policies[0]);
const unsigned sim_nstandard = 5;
