/* The precopy policy: see policy.h and docs/migration-policy.md. */
#include "migration/policy.h"
#include "migration/stream.h"

/*
 * Dirtying may take at most a third of the link: each pass then sends at most
 * a third of the one before, and a working set H costs H * 3/2 after the
 * first pass (a half would cost 2H: docs/migration-policy.md).
 */
#define TARGET_SHARE_PCT 33u
/* Every vCPU writes at least this share of the heaviest writer's rate: the VM-wide throttle fits. */
#define SPREAD_PCT 50u
/*
 * The tool in force is left only when the spread is this far past
 * SPREAD_PCT: a dirty-rate limit evens out the rates of the vCPUs it holds
 * back, and a settled tool is worth more than one noisy window.
 */
#define SPREAD_HYST_PCT 15u
/* Throttle changes smaller than this many points are not worth a change. */
#define THROTTLE_HYST_PCT 5u
/* A dirty-rate limit within this share of the wanted one is left alone. */
#define LIMIT_HYST_PCT 10u
/* A guest calmer than target / CALM_DIV (over the last second, or a whole pass at its end) gets its throttle lowered. */
#define CALM_DIV 4u
/* Measured above limit by this share, after settling: the limit is at its maximum throttle. */
#define LIMIT_MISS_PCT 25u
/* The sender's bandwidth window has filled by then: a zero after it is a measured zero. */
#define EARLY_MS (2 * MIGR_POLICY_SETTLE_MS)

static const char *const reason_text[MIGR_WHY_COUNT] = {
	[MIGR_WHY_MEASURING] = "measuring the link",
	[MIGR_WHY_CONVERGING] = "converging without throttle",
	[MIGR_WHY_DIRTY_OUTRUNS] = "dirty rate outruns the link: throttle set",
	[MIGR_WHY_THROTTLE_HELD] = "throttle in force is right or settling",
	[MIGR_WHY_THROTTLE_AT_MAX] = "throttle needed is above the maximum allowed",
	[MIGR_WHY_DOWNTIME_FITS] = "what remains fits the downtime limit",
	[MIGR_WHY_TIMEOUT_FORCE] = "precopy timed out: forced switchover",
	[MIGR_WHY_TIMEOUT_ABORT] = "precopy timed out: migration aborted",
	[MIGR_WHY_LINK_STALLED] = "nothing moved on the link",
	[MIGR_WHY_FIRST_PASS] = "full copy: no throttle before the second pass",
	[MIGR_WHY_DRAINING] = "what remains fits once the link drains: new pages wait",
};

const char *migr_reason_str(uint32_t reason)
{
	return reason < MIGR_WHY_COUNT ? reason_text[reason] : "unknown";
}

static void set(struct migr_decision *d, uint32_t action, uint32_t reason)
{
	d->action = action;
	d->reason = reason;
}

/*
 * Whether the writing is spread over every vCPU, so a per-vCPU limit would
 * throttle all alike. A vCPU's rate counts at least its share of the calm
 * level (target / CALM_DIV): when the working set is nearly all dirty every
 * rate is tiny, and the spread of tiny rates is noise, not who writes;
 * when no vCPU writes above that floor, the tool in force stays.
 */
static int spread_evenly(const struct migr_stats *st, uint64_t target)
{
	uint64_t lo = UINT64_MAX, hi = 0, r, floor;
	uint32_t i, pct = SPREAD_PCT;

	if (st->nvcpu == 0 || !st->vcpu_dirty_rate)
		return 1;
	floor = target / CALM_DIV / st->nvcpu;
	for (i = 0; i < st->nvcpu; i++) {
		r = st->vcpu_dirty_rate[i] > floor ? st->vcpu_dirty_rate[i] : floor;
		if (r < lo)
			lo = r;
		if (r > hi)
			hi = r;
	}
	if (hi <= floor)
		return st->dirty_limit == 0;
	if (st->dirty_limit)
		pct += SPREAD_HYST_PCT;
	else if (st->throttle_pct)
		pct -= SPREAD_HYST_PCT;
	return lo * 100 >= hi * pct;
}

/*
 * The guest's dirty rate without the throttle in force. Under p percent a
 * guest that needs the CPU to write dirties d = d0 (1 - p); a guest bound
 * by its own pace (it sleeps between writes) dirties as much as before,
 * and d / (1 - p) would grow with every raise. A throttle never makes a
 * guest write more than it did free, so the estimate stops at the rate
 * last measured free; *known says it did (the guest's rate does not
 * depend on the throttle, and a low window rate is not a full working set).
 */
static uint64_t free_rate(const struct migr_stats *st, uint32_t cur, int *known)
{
	uint64_t d0 = st->dirty_rate * 100 / (100 - cur);

	*known = st->free_dirty_rate && st->dirty_rate <= st->free_dirty_rate && d0 >= st->free_dirty_rate;
	return *known ? st->free_dirty_rate : d0;
}

/* VM-wide: the throttle that brings the unthrottled dirty rate down to target. */
static void vm_wide(const struct migr_limits *lim, const struct migr_stats *st, uint64_t target,
		    struct migr_decision *d)
{
	uint32_t cur = st->throttle_pct < 100 ? st->throttle_pct : 99;
	int known;
	uint64_t d0 = free_rate(st, cur, &known);
	uint32_t need = 0, pct;

	if (d0 > target)
		need = (uint32_t)(100 - target * 100 / d0);
	pct = need < lim->max_throttle_pct ? need : lim->max_throttle_pct;
	d->throttle_pct = pct;
	/*
	 * The rate counts pages first dirtied since the harvest, so a working
	 * set that is all dirty already looks calm: lower the throttle only
	 * when the guest is really calm (under a quarter of the target), or
	 * when its free rate is known. That is safe within a pass even when
	 * the calm comes from a full working set: pages already dirty cost
	 * nothing more until the next harvest, and the next pass's first
	 * calls, on a clean set, raise it again.
	 */
	if (st->dirty_limit == 0 && pct < cur && !known && st->dirty_rate * CALM_DIV > target) {
		set(d, MIGR_ACT_CONTINUE, MIGR_WHY_THROTTLE_HELD);
		return;
	}
	/*
	 * A guest that wrote above the target free and now reads calm within
	 * a pass may only have dirtied its whole working set: released, it
	 * dirties it all again before the harvest (a hot set swung between 0
	 * and 93% for dozens of passes). It is lowered at a boundary, on what
	 * the whole pass dirtied.
	 */
	if (st->dirty_limit == 0 && pct < cur && !known && !st->pass_done && st->free_dirty_rate > target) {
		set(d, MIGR_ACT_CONTINUE, MIGR_WHY_THROTTLE_HELD);
		return;
	}
	if (st->dirty_limit == 0 && (pct > cur ? pct - cur : cur - pct) < THROTTLE_HYST_PCT && !(pct == 0 && cur)) {
		set(d, MIGR_ACT_CONTINUE, need > pct ? MIGR_WHY_THROTTLE_AT_MAX : MIGR_WHY_THROTTLE_HELD);
		return;
	}
	set(d, MIGR_ACT_SET_THROTTLE, need > pct ? MIGR_WHY_THROTTLE_AT_MAX : MIGR_WHY_DIRTY_OUTRUNS);
}

/* Per vCPU: a VM-wide dirty-rate limit the scheduler enforces on the writers only. */
static void dirty_limit(const struct migr_limits *lim, const struct migr_stats *st, uint64_t target,
			struct migr_decision *d)
{
	uint64_t cur = st->dirty_limit;
	uint64_t diff = cur > target ? cur - target : target - cur;

	d->dirty_limit = target;
	d->max_pct = lim->max_throttle_pct;
	if (cur && st->throttle_pct == 0 && diff * 100 <= target * LIMIT_HYST_PCT) {
		int missed = st->dirty_rate * 100 > cur * (100 + LIMIT_MISS_PCT);

		set(d, MIGR_ACT_CONTINUE, missed ? MIGR_WHY_THROTTLE_AT_MAX : MIGR_WHY_THROTTLE_HELD);
		return;
	}
	set(d, MIGR_ACT_SET_DIRTY_LIMIT, MIGR_WHY_DIRTY_OUTRUNS);
}

/* Auto-converge from the second pass: dirtying under a third of the link, with the better of the two tools. */
static void control(const struct migr_limits *lim, const struct migr_stats *st, uint64_t bw,
		    struct migr_decision *d)
{
	uint64_t target = bw / MIGR_PAGE_SIZE * TARGET_SHARE_PCT / 100;
	int controlling = st->throttle_pct || st->dirty_limit;

	if (target == 0)
		target = 1;
	if (st->pass <= 1) {
		/*
		 * The full copy sends every page once whatever the guest writes,
		 * and what it dirties meanwhile is bounded by its working set, not
		 * by its rate: a throttle here would only slow the guest down.
		 */
		d->throttle_pct = 0;
		set(d, controlling ? MIGR_ACT_SET_THROTTLE : MIGR_ACT_CONTINUE, MIGR_WHY_FIRST_PASS);
		return;
	}
	if (!controlling && st->dirty_rate <= target)
		set(d, MIGR_ACT_CONTINUE, MIGR_WHY_CONVERGING);
	else if (lim->max_throttle_pct == 0)
		set(d, MIGR_ACT_CONTINUE, MIGR_WHY_THROTTLE_AT_MAX);
	else if (controlling && st->control_age_ms < MIGR_POLICY_SETTLE_MS)
		/* A throttle is judged on a full window of measurements taken under it. */
		set(d, MIGR_ACT_CONTINUE, MIGR_WHY_THROTTLE_HELD);
	else if (spread_evenly(st, target))
		vm_wide(lim, st, target, d);
	else
		dirty_limit(lim, st, target, d);
}

/* The measured bandwidth; in the first second, before the sender's window fills, bytes sent / elapsed. */
static uint64_t bandwidth(const struct migr_limits *lim, const struct migr_stats *st)
{
	uint64_t bw = st->bandwidth;

	if (!bw && st->elapsed_ms && st->elapsed_ms < EARLY_MS && st->sent_bytes >= MIGR_POLICY_EARLY_BYTES)
		bw = st->sent_bytes * 1000 / st->elapsed_ms;
	if (lim->bandwidth_cap && lim->bandwidth_cap < bw)
		bw = lim->bandwidth_cap;
	return bw;
}

/*
 * The pause: one more harvest, the final burst, what the pause sends
 * besides pages, and the READY/COMMIT round trips. What the transport holds unacknowledged
 * crosses before the burst, and the state after it, both at the measured
 * rate. A pipelined burst takes remaining / bandwidth and two round trips
 * after its last byte (DIGEST to READY, COMMIT to CONFIRM). A
 * stop-and-wait burst goes in whole chunks, the busiest connection
 * carrying ceil(chunks / conns) of them, each costing chunk x conns /
 * bandwidth at the measured rate (which already includes its round trip):
 * a burst just over a round of chunks pays a whole round.
 */
static uint64_t downtime_ms(const struct migr_stats *st, uint64_t bw)
{
	uint64_t bytes = st->remaining_bytes, chunk = st->wait_chunk_bytes, conns = st->conns ? st->conns : 1;
	uint64_t rtts = 2, rounds;

	if (chunk) {
		rounds = (bytes / chunk + (bytes % chunk != 0) + conns - 1) / conns;
		bytes = rounds * chunk * conns;
		rtts = 1;
	}
	bytes += st->queued_bytes + st->state_bytes;
	return bytes / bw * 1000 + bytes % bw * 1000 / bw + (rtts * st->rtt_us + st->harvest_us + 999) / 1000;
}

/*
 * The pause waits for what is on its way (queued_bytes) before the last
 * pages cross. When that wait alone makes it too long, the live guest can
 * wait instead: the sender builds nothing new until the link has drained,
 * and the next decision, on what remains then, finds the pause that fits.
 * A guest that keeps dirtying the same pages (a kernel's timer tick, its
 * stacks: a floor no throttle lowers) converges only this way once that
 * floor and the queue together exceed the limit.
 */
static int fits_once_drained(const struct migr_stats *st, uint64_t bw, uint64_t downtime)
{
	struct migr_stats drained = *st;

	if (!st->queued_bytes)
		return 0;
	drained.queued_bytes = 0;
	return downtime_ms(&drained, bw) <= downtime;
}

/*
 * The rate the pause will send at: the final pass sends scattered pages, and a later pass so far
 * shows what they cost when that is slower than the window (the first pass's long runs).
 */
static uint64_t pause_bandwidth(const struct migr_stats *st, uint64_t bw)
{
	return st->pass_bandwidth && st->pass_bandwidth < bw ? st->pass_bandwidth : bw;
}

void migr_policy_decide(const struct migr_limits *lim, const struct migr_stats *st, struct migr_decision *d)
{
	uint64_t limit = migr_downtime_limit_ms(lim);
	uint64_t downtime = limit * MIGR_POLICY_TARGET_PCT / 100, bw = bandwidth(lim, st);
	uint64_t pause_bw = pause_bandwidth(st, bw);

	/* A pause that ran past its estimate until it was called off: the next must fit by as much. */
	if (st->pause_overrun_pct > 100)
		downtime = downtime * 100 / st->pause_overrun_pct;

	*d = (struct migr_decision){ .expected_downtime_ms = UINT64_MAX };
	if (bw) {
		d->expected_downtime_ms = downtime_ms(st, pause_bw);
		d->pause_bandwidth = pause_bw;
	} else if (st->pass_done && st->remaining_bytes == 0)
		d->expected_downtime_ms = 0; /* nothing to send: no rate needed to know it fits */
	if (d->expected_downtime_ms <= downtime) {
		set(d, MIGR_ACT_SWITCHOVER, MIGR_WHY_DOWNTIME_FITS);
	} else if (lim->max_precopy_ms && st->elapsed_ms >= lim->max_precopy_ms) {
		if (lim->on_timeout == MIGR_TIMEOUT_ABORT)
			set(d, MIGR_ACT_GIVE_UP, MIGR_WHY_TIMEOUT_ABORT);
		else
			set(d, MIGR_ACT_SWITCHOVER, MIGR_WHY_TIMEOUT_FORCE);
	} else if (!bw) {
		if (st->stalled_ms >= MIGR_POLICY_STALL_MS)
			set(d, MIGR_ACT_GIVE_UP, MIGR_WHY_LINK_STALLED);
		else
			set(d, MIGR_ACT_CONTINUE, MIGR_WHY_MEASURING);
	} else if (fits_once_drained(st, pause_bw, downtime)) {
		set(d, MIGR_ACT_DRAIN, MIGR_WHY_DRAINING);
	} else {
		control(lim, st, bw, d);
	}
}
