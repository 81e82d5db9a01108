/*
 * One connection as a state machine sees it: its encoder state, its
 * decoder, a queue of encoded bytes waiting for room in the transport, and
 * a record decoded but not yet applied (held until its turn, e.g. behind
 * a pass barrier). Used by the sender and the receiver alike.
 */
#ifndef MIGR_LINK_H
#define MIGR_LINK_H

#include <stddef.h>
#include <stdint.h>
#include "migration/codec.h"
#include "migration/port.h"

/* Room for a one-line account of what ended a migration (its record type and phase, or the peer's word). */
#define MIGR_DETAIL_MAX 192u

struct migr_link {
	uint32_t slot;    /* the transport's connection number */
	uint8_t up;       /* MIGR_LINK_UP seen */
	uint8_t failed;   /* MIGR_LINK_FAILED seen, or a read or write failed */
	uint8_t has_pend; /* pend holds a record not yet applied */
	struct migr_tx tx;
	struct migr_dec dec;
	struct migr_rec pend;
	uint8_t *out;     /* queued bytes: out[off..len) */
	size_t out_cap, out_len, out_off;
	uint64_t bytes_out; /* everything the transport took on this link */
	uint64_t bytes_in;  /* everything read from the transport on this link */
};

void migr_link_init(struct migr_link *l, uint32_t slot, uint8_t *out, size_t out_cap,
		    uint8_t *in, size_t in_cap, uint32_t kind, uint32_t dec_conn, uint32_t dir_in);
/* Queues the preamble, or a record encoded under the link's tx; HV_EBUSY if out has no room now. */
int migr_link_queue_preamble(struct migr_link *l);
int migr_link_queue(struct migr_link *l, uint32_t type, const void *body, uint32_t len);
/* Queues ERROR with code and text (cut to fit); best effort. */
void migr_link_queue_error(struct migr_link *l, uint32_t code, const char *text);
/* An ERROR record as words for a log line, "integrity: page hash differs", into out; returns its code. */
uint32_t migr_link_peer_error(const struct migr_rec *rec, char *out, size_t cap);
/* Writes queued bytes as far as room allows: 1 when the queue is empty, 0 if not, <0 on failure. */
int migr_link_flush(struct migr_link *l, const struct migr_transport *t);
/* Writes buf[*off..len) as far as room allows: 1 when all is written, 0 if not, <0 on failure. */
int migr_link_write(struct migr_link *l, const struct migr_transport *t, const uint8_t *buf, size_t len,
		    size_t *off);
/* Reads until one record is whole: 1 (in l->pend, has_pend set), 0 nothing yet, <0 on failure. */
int migr_link_poll(struct migr_link *l, const struct migr_transport *t);

#endif
