/*
 * The management API's connection policy, pure (no lwIP, no clock): how
 * long each phase of a connection may last, and which connection gives way
 * when a new one arrives and every slot is taken. net/api/api_server.c applies
 * it; the unit tests drive it with made-up connections.
 *
 * The operator is whoever presents the right bearer token. Everyone else's
 * connections are evicted, oldest first, so that idle, slow or
 * unauthenticated clients cannot hold the operator out. The operator's are
 * never cut mid-request, but one kept alive with nothing to do gives way
 * (closed politely, as HTTP lets a server close an idle connection), so
 * that the operator's own idle pools cannot hold its next request out.
 */
#ifndef HV_NET_API_API_POLICY_H
#define HV_NET_API_API_POLICY_H

#include <stdbool.h>
#include <stdint.h>

enum api_phase {
	API_PH_NEW,       /* accepted, nothing of a request yet, never authenticated */
	API_PH_IDLE,      /* kept alive after an authenticated answer, waiting for the next request */
	API_PH_HEAD,      /* part of a request head has arrived */
	API_PH_BODY,      /* the head is complete, the body is arriving */
	API_PH_SEND,      /* an answer waits for room in the send buffer */
	API_PH_CLOSING,   /* our side is shut: the client's bytes are discarded until it closes */
	API_PH_QUEUED,    /* accepted while every slot was busy: waits for one, reads nothing */
	API_PH_COUNT,
};

#define API_HEAD_TIMEOUT_MS 2500     /* a request head, from its first byte (or from the accept) */
#define API_IDLE_TIMEOUT_MS 10000    /* a kept-alive connection, from its last successful answer */
#define API_REQUEST_TIMEOUT_MS 10000 /* a body, or an answer the client does not read */
#define API_CLOSE_TIMEOUT_MS 2000    /* the client's FIN after ours */
#define API_GRACE_MS 1000            /* a fresh connection's time to send its first request before it may be evicted */

/* How long a connection may stay in phase; the clock starts as the phase's comment says. */
uint32_t api_phase_timeout_ms(enum api_phase phase);

/* What the policy needs to know of one slot. */
struct api_slot_view {
	bool in_use;
	bool authed;         /* has sent a request with the right token */
	bool quiet;          /* nothing held unread, no answer pending */
	enum api_phase phase;
	uint64_t since;      /* when it was accepted (any monotonic unit) */
	uint64_t idle_since; /* in API_PH_IDLE: its last successful answer (same unit) */
};

/*
 * The slot to take for a waiting connection when none is free: a closing
 * connection, else the oldest one that never sent an authenticated request
 * and was accepted at or before `before`, else the operator's quiet
 * kept-alive connection idle longest, since at or before `before` (the
 * caller passes now minus API_GRACE_MS, so that a burst of honest clients
 * is queued rather than evicted and a client between two requests keeps its
 * connection, or the end of time when the queue is full). -1 when no slot
 * qualifies.
 */
int api_pick_victim(const struct api_slot_view *slots, unsigned n, uint64_t before);

#endif
