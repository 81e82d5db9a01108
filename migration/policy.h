/*
 * The precopy policy (docs/migration-policy.md): from what the sender
 * measured and what the operator asked for, what to do next. Pure: numbers
 * in, a decision out, time passed in the statistics. The sender calls it at
 * every pass boundary and at least every 250 ms within a pass, and applies
 * the decision through the throttle port.
 */
#ifndef MIGR_POLICY_H
#define MIGR_POLICY_H

#include <stdint.h>

#define MIGR_DOWNTIME_DEFAULT_MS 300u
#define MIGR_POLICY_PERIOD_MS 250u  /* longest gap between two calls within a pass */
/*
 * The switchover waits until the expected pause fits this share of the
 * limit: the estimate leaves out the destination's checks of the last pages
 * and state, the last pass's build and the hosts' clocks running apart. In
 * Bochs it came out 41 ms short in the median and 122 ms at worst (24
 * switchovers, 300 ms limit).
 */
#define MIGR_POLICY_TARGET_PCT 80u
#define MIGR_POLICY_SETTLE_MS 1000u /* a throttle is judged only after it ran this long */
#define MIGR_POLICY_STALL_MS 10000u /* no bandwidth at all for this long: give up */
/* Before the sender's bandwidth window fills, bytes sent / elapsed counts once this much went. */
#define MIGR_POLICY_EARLY_BYTES (64ull << 20)

enum migr_on_timeout {
	MIGR_TIMEOUT_FORCE = 0, /* switch over anyway, accept a longer downtime */
	MIGR_TIMEOUT_ABORT = 1, /* give up, the VM stays on the source */
};

/* What the operator asked for; zeros mean "default" or "none". */
struct migr_limits {
	uint32_t downtime_ms;      /* 0: MIGR_DOWNTIME_DEFAULT_MS */
	uint64_t bandwidth_cap;    /* bytes/s the stream may use; 0: no cap */
	uint32_t max_throttle_pct; /* most of a vCPU's time the throttle may take, 0-99 */
	uint64_t max_precopy_ms;   /* 0: no limit */
	uint32_t on_timeout;       /* enum migr_on_timeout */
};

/* The downtime limit in force: the operator's, or the default. */
static inline uint64_t migr_downtime_limit_ms(const struct migr_limits *lim)
{
	return lim->downtime_ms ? lim->downtime_ms : MIGR_DOWNTIME_DEFAULT_MS;
}

/* What the sender measured, at the moment of the call. */
struct migr_stats {
	uint32_t pass;             /* current pass, from 1 (the full copy) */
	uint32_t pass_done;        /* non-zero at a pass boundary */
	uint64_t remaining_bytes;  /* not yet sent in this pass + dirtied since its harvest */
	uint64_t bandwidth;        /* bytes/s measured over the last window */
	uint64_t pass_bandwidth;   /* bytes/s over a later pass so far (or just ended), as the
	                              final pass will send; 0: unknown */
	uint64_t dirty_rate;       /* pages/s newly dirtied over the last window; at a pass
	                              boundary: pages harvested / the pass's duration */
	uint32_t nvcpu;            /* entries in vcpu_dirty_rate; 0 if unknown */
	const uint64_t *vcpu_dirty_rate; /* pages/s per vCPU */
	uint64_t elapsed_ms;       /* since the migration started */
	uint64_t stalled_ms;       /* how long bandwidth has been 0 */
	uint32_t throttle_pct;     /* VM-wide throttle in force */
	uint64_t dirty_limit;      /* dirty-rate limit in force, pages/s; 0: off */
	uint64_t control_age_ms;   /* how long the throttle or limit in force has been */
	uint64_t sent_bytes;       /* what the transport took since the start: an early bandwidth */
	uint32_t rtt_us;           /* round trip of the data connections; 0: unknown */
	uint32_t conns;            /* data connections; 0: one */
	uint64_t wait_chunk_bytes; /* stop-and-wait transport: what a connection sends before it
	                              waits for the acknowledgement; 0: pipelined */
	uint64_t queued_bytes;     /* handed to the transport, not yet acknowledged: they cross first */
	uint64_t state_bytes;      /* what the pause sends besides pages: vCPU, device, time, digest */
	uint64_t free_dirty_rate;  /* pages/s, the highest measured with no throttle or limit in force; 0: unknown */
	uint64_t harvest_us;       /* the last harvest took this long: the pause makes one more */
	uint32_t pause_overrun_pct; /* a pause of this migration, called off, ran this share of its
	                               estimate (and more): the next one must fit that much better; 0: none */
};

enum migr_action {
	MIGR_ACT_CONTINUE = 0,
	MIGR_ACT_SET_THROTTLE,    /* VM-wide: throttle_pct (0 releases) */
	MIGR_ACT_SET_DIRTY_LIMIT, /* dirty_limit pages/s on the writing vCPUs, at most max_pct each */
	MIGR_ACT_SWITCHOVER,
	MIGR_ACT_GIVE_UP,
	MIGR_ACT_DRAIN,           /* build no new pages until the link has drained, then decide again */
};

enum migr_reason {
	MIGR_WHY_MEASURING = 0,  /* no bandwidth measured yet */
	MIGR_WHY_CONVERGING,     /* dirtying is slow enough: copy on */
	MIGR_WHY_DIRTY_OUTRUNS,  /* dirtying outruns the link: throttle set or changed */
	MIGR_WHY_THROTTLE_HELD,  /* the throttle in force is about right, or still settling */
	MIGR_WHY_THROTTLE_AT_MAX, /* the throttle needed is above the maximum allowed */
	MIGR_WHY_DOWNTIME_FITS,  /* what remains fits the downtime limit */
	MIGR_WHY_TIMEOUT_FORCE,  /* precopy ran out of time: forced switchover */
	MIGR_WHY_TIMEOUT_ABORT,  /* precopy ran out of time: the VM stays */
	MIGR_WHY_LINK_STALLED,   /* nothing moved for MIGR_POLICY_STALL_MS */
	MIGR_WHY_FIRST_PASS,     /* the full copy: every page goes once whatever the guest writes */
	MIGR_WHY_DRAINING,       /* what remains fits once the bytes on their way have crossed */
	MIGR_WHY_COUNT
};

struct migr_decision {
	uint32_t action;        /* enum migr_action */
	uint32_t reason;        /* enum migr_reason */
	uint32_t throttle_pct;  /* for SET_THROTTLE */
	uint64_t dirty_limit;   /* for SET_DIRTY_LIMIT, pages/s */
	uint32_t max_pct;       /* for SET_DIRTY_LIMIT: the most any vCPU may be throttled */
	uint64_t expected_downtime_ms; /* the final burst and the commit; UINT64_MAX if unknown */
	uint64_t pause_bandwidth; /* bytes/s that estimate assumed; 0 if none */
};

void migr_policy_decide(const struct migr_limits *lim, const struct migr_stats *st,
			struct migr_decision *out);
/* A short text for an operator, e.g. "dirty rate outruns the link". */
const char *migr_reason_str(uint32_t reason);

#endif
