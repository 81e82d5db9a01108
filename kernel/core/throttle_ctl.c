#include "kernel/core/throttle_ctl.h"

/* What vCPU i would dirty unthrottled: its rate scaled back up by the share it was denied. */
static uint64_t unthrottled_rate(uint64_t rate, unsigned pct)
{
	return pct >= 100 ? rate * 100 : rate * 100 / (100 - pct);
}

void throttle_ctl_dirty_limit(const uint64_t *rate, const unsigned *cur, unsigned n, uint64_t target,
			      unsigned max_pct, unsigned *out)
{
	uint64_t r0[THROTTLE_CTL_MAX_VCPUS], left = target;
	unsigned order[THROTTLE_CTL_MAX_VCPUS], i, j, k;

	if (n > THROTTLE_CTL_MAX_VCPUS)
		n = THROTTLE_CTL_MAX_VCPUS;
	for (i = 0; i < n; i++) {
		r0[i] = unthrottled_rate(rate[i], cur[i]);
		order[i] = i;
	}
	/* Lightest writers first (insertion sort: n is a handful). */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && r0[order[j - 1]] > r0[order[j]]; j--) {
			unsigned t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (k = 0; k < n; k++) {
		unsigned v = order[k];
		uint64_t share = left / (n - k), want;

		if (r0[v] <= share) {
			want = 0; /* writes less than its share: full speed */
			left -= r0[v];
		} else {
			/* The smallest p with r0 * (100 - p) / 100 <= share (the division rounds p up). */
			want = 100 - share * 100 / r0[v];
			left -= share;
		}
		if (want > max_pct)
			want = max_pct;
		/* Halfway from the current throttle, rounded towards the target so it is reached. */
		out[v] = want >= cur[v] ? cur[v] + (unsigned)(want - cur[v] + 1) / 2 : cur[v] - (cur[v] - (unsigned)want + 1) / 2;
		/* A current throttle above max_pct must not yield a new one above it either. */
		if (out[v] > max_pct)
			out[v] = max_pct;
	}
}
