/* The debug hold of a switchover phase: see hold.h. */
#include "migration/hold.h"

enum { HOLD_ARMED = 0, HOLD_OPEN, HOLD_OVER };

void migr_hold_init(struct migr_hold *h, uint32_t phase, uint64_t ms)
{
	h->phase = phase < MIGR_HOLD_PHASES ? phase : MIGR_HOLD_NONE;
	h->ms = ms;
	h->opened = 0;
	h->state = h->phase == MIGR_HOLD_NONE || ms == 0 ? HOLD_OVER : HOLD_ARMED;
}

int migr_hold_wait(struct migr_hold *h, uint32_t phase, const struct migr_clock *clock)
{
	uint64_t now, hz = clock->ops->hz;

	if (h->state == HOLD_OVER || phase != h->phase)
		return 0;
	now = clock->ops->now(clock->ctx);
	if (h->state == HOLD_ARMED) {
		h->opened = now;
		h->state = HOLD_OPEN;
	}
	/* Elapsed ticks against ms, without overflow for any clock rate. */
	if ((now - h->opened) / hz * 1000 + (now - h->opened) % hz * 1000 / hz < h->ms)
		return 1;
	h->state = HOLD_OVER;
	return 0;
}

int migr_hold_is_open(const struct migr_hold *h)
{
	return h->state == HOLD_OPEN;
}
