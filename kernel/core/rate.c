#include "kernel/core/rate.h"

void rate_init(struct rate_window *r, uint64_t bucket_ticks, uint64_t now)
{
	unsigned i;

	r->bucket_ticks = bucket_ticks ? bucket_ticks : 1;
	r->current = now / r->bucket_ticks;
	r->total = 0;
	for (i = 0; i < RATE_BUCKETS; i++)
		r->counts[i] = 0;
}

/* Moves the window to now, emptying the buckets it passes over. */
static void rate_advance(struct rate_window *r, uint64_t now)
{
	uint64_t target = now / r->bucket_ticks;
	uint64_t steps = target > r->current ? target - r->current : 0;

	if (steps > RATE_BUCKETS)
		steps = RATE_BUCKETS;
	while (steps--)
		r->counts[(target - steps) % RATE_BUCKETS] = 0;
	if (target > r->current)
		r->current = target;
}

void rate_add(struct rate_window *r, uint64_t now, uint64_t count)
{
	rate_advance(r, now);
	r->counts[r->current % RATE_BUCKETS] += count;
	r->total += count;
}

uint64_t rate_per_second(struct rate_window *r, uint64_t now, uint64_t ticks_per_second)
{
	uint64_t sum = 0, window = (RATE_BUCKETS - 1) * r->bucket_ticks;
	unsigned i;

	rate_advance(r, now);
	for (i = 0; i < RATE_BUCKETS; i++)
		if (i != r->current % RATE_BUCKETS)
			sum += r->counts[i];
	/* sum / window seconds, without overflowing for any realistic sum. */
	return sum * (ticks_per_second / window) + sum * (ticks_per_second % window) / window;
}
