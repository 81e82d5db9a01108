#include "net/api/api_policy.h"

static const uint32_t api_phase_timeouts_ms[API_PH_COUNT] = {
	[API_PH_NEW] = API_HEAD_TIMEOUT_MS,
	[API_PH_IDLE] = API_IDLE_TIMEOUT_MS,
	[API_PH_HEAD] = API_HEAD_TIMEOUT_MS,
	[API_PH_BODY] = API_REQUEST_TIMEOUT_MS,
	[API_PH_SEND] = API_REQUEST_TIMEOUT_MS,
	[API_PH_CLOSING] = API_CLOSE_TIMEOUT_MS,
	[API_PH_QUEUED] = API_REQUEST_TIMEOUT_MS,
};

uint32_t api_phase_timeout_ms(enum api_phase phase)
{
	return (unsigned)phase < API_PH_COUNT ? api_phase_timeouts_ms[phase] : 0;
}

/* Lower ranks give way first, the oldest *key within a rank; -1: not now. */
static int api_victim_rank(const struct api_slot_view *s, uint64_t before, uint64_t *key)
{
	*key = s->since;
	if (!s->in_use)
		return -1;
	if (s->phase == API_PH_CLOSING)
		return 0;  /* done with anyway */
	if (!s->authed)
		return s->since > before ? -1 : 1;
	*key = s->idle_since;
	return s->phase == API_PH_IDLE && s->quiet && s->idle_since <= before ? 2 : -1;
}

int api_pick_victim(const struct api_slot_view *slots, unsigned n, uint64_t before)
{
	int best = -1, best_rank = -1;
	uint64_t best_key = 0, key;
	unsigned i;

	for (i = 0; i < n; i++) {
		int rank = api_victim_rank(&slots[i], before, &key);

		if (rank < 0)
			continue;
		if (best < 0 || rank < best_rank || (rank == best_rank && key < best_key)) {
			best = (int)i;
			best_rank = rank;
			best_key = key;
		}
	}
	return best;
}
