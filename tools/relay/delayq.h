/*
 * The delay line's clock-keeping: a FIFO of (release time, byte count)
 * records for one direction of a relayed connection. The bytes themselves
 * wait in a pipe (relay_conn.c); this queue only says how many of them may
 * leave at a given time. Pure: the caller passes the time in nanoseconds.
 *
 * Bytes are never released early: a record's release time is the arrival
 * time of its newest bytes plus the delay. Arrivals closer than `grain_ns`
 * to the tail's arrival join the tail, so the queue stays short at any rate,
 * at the price of holding the tail's older bytes up to grain_ns longer.
 * An end-of-stream mark (the peer's FIN) travels through the queue like
 * bytes, so it is forwarded after the data before it, with the same delay.
 */
#ifndef RELAY_DELAYQ_H
#define RELAY_DELAYQ_H

#include <stdint.h>

struct delayq_rec {
	uint64_t due_ns;     /* release time */
	uint64_t arrived_ns; /* arrival of the first bytes that joined this record */
	uint64_t bytes;
	int fin;             /* end of stream: no bytes, nothing follows */
};

struct delayq {
	struct delayq_rec *ring; /* caller's storage of cap records */
	uint32_t cap, head, count;
	uint64_t delay_ns, grain_ns;
	uint64_t queued;         /* bytes in all records */
	int fin_queued;
};

/* cap > 0 records at ring. */
void delayq_init(struct delayq *q, struct delayq_rec *ring, uint32_t cap, uint64_t delay_ns, uint64_t grain_ns);
/* Records n > 0 bytes arriving at now: 0, or -1 when the queue is full or already holds the end (nothing recorded). */
int delayq_push(struct delayq *q, uint64_t now, uint64_t n);
/* Records the end of the stream at now: 0, or -1 when full or already ended. */
int delayq_push_fin(struct delayq *q, uint64_t now);
/*
 * What may leave at now: the head's byte count (> 0), DELAYQ_FIN when the
 * head is a due end mark, or 0 when the queue is empty or the head is not due.
 */
#define DELAYQ_FIN UINT64_MAX
uint64_t delayq_ready(const struct delayq *q, uint64_t now);
/* Removes n bytes (at most the head's, as delayq_ready said) or, with n == DELAYQ_FIN, the head's end mark. */
void delayq_consume(struct delayq *q, uint64_t n);
/* The head's release time, UINT64_MAX when the queue is empty. */
uint64_t delayq_next_due(const struct delayq *q);
/* Non-zero when no record can be added (full, or the end is queued). */
int delayq_closed(const struct delayq *q);

#endif
