/* The delay line's FIFO of release times (delayq.h). */
#include "tools/relay/delayq.h"

void delayq_init(struct delayq *q, struct delayq_rec *ring, uint32_t cap, uint64_t delay_ns, uint64_t grain_ns)
{
	q->ring = ring;
	q->cap = cap;
	q->head = 0;
	q->count = 0;
	q->delay_ns = delay_ns;
	q->grain_ns = grain_ns;
	q->queued = 0;
	q->fin_queued = 0;
}

static struct delayq_rec *delayq_tail(struct delayq *q)
{
	return q->count ? &q->ring[(q->head + q->count - 1) % q->cap] : 0;
}

static struct delayq_rec *delayq_append(struct delayq *q, uint64_t now)
{
	struct delayq_rec *r;

	if (q->count == q->cap)
		return 0;
	r = &q->ring[(q->head + q->count) % q->cap];
	q->count++;
	r->due_ns = now + q->delay_ns;
	r->arrived_ns = now;
	r->bytes = 0;
	r->fin = 0;
	return r;
}

int delayq_push(struct delayq *q, uint64_t now, uint64_t n)
{
	struct delayq_rec *r = delayq_tail(q);

	if (q->fin_queued)
		return -1;
	/* Joining the tail only moves its release later: no byte leaves before its own delay. */
	if (!r || now - r->arrived_ns >= q->grain_ns || now < r->arrived_ns)
		r = delayq_append(q, now);
	if (!r)
		return -1;
	r->due_ns = now + q->delay_ns;
	r->bytes += n;
	q->queued += n;
	return 0;
}

int delayq_push_fin(struct delayq *q, uint64_t now)
{
	struct delayq_rec *r;

	if (q->fin_queued)
		return -1;
	r = delayq_append(q, now);
	if (!r)
		return -1;
	r->fin = 1;
	q->fin_queued = 1;
	return 0;
}

uint64_t delayq_ready(const struct delayq *q, uint64_t now)
{
	const struct delayq_rec *r = &q->ring[q->head];

	if (!q->count || r->due_ns > now)
		return 0;
	return r->fin ? DELAYQ_FIN : r->bytes;
}

void delayq_consume(struct delayq *q, uint64_t n)
{
	struct delayq_rec *r = &q->ring[q->head];

	if (!q->count)
		return;
	if (r->fin != (n == DELAYQ_FIN))
		return;
	if (!r->fin) {
		n = n < r->bytes ? n : r->bytes;
		r->bytes -= n;
		q->queued -= n;
		if (r->bytes)
			return;
	}
	q->head = (q->head + 1) % q->cap;
	q->count--;
}

uint64_t delayq_next_due(const struct delayq *q)
{
	return q->count ? q->ring[q->head].due_ns : UINT64_MAX;
}

int delayq_closed(const struct delayq *q)
{
	return q->fin_queued || q->count == q->cap;
}
