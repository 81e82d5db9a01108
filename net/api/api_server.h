/*
 * The management API on the network: an HTTP/1.1 server over lwIP's raw
 * TCP API, bound to the management NIC's address only, answering through
 * net/api/api.h. Built to keep answering the operator (the holder of the
 * bearer token) while other clients misbehave:
 *  - API_SERVER_CONNS connections are served at once; when all are taken,
 *    a new connection takes the slot of a closing one or of the oldest
 *    stranger (never sent an authenticated request) that has had
 *    API_GRACE_MS to do so (net/api/api_policy.h); otherwise it waits in a queue
 *    of API_SERVER_QUEUE (lwIP's backlog: accepted, not read), and waiters
 *    take strangers' slots as their grace runs out. Only a full queue makes
 *    a newcomer evict a stranger still in its grace. When no stranger is
 *    left, a waiter takes the slot of the operator's kept-alive connection
 *    that has idled longest (API_GRACE_MS at least), closed with our FIN;
 *    an operator's connection is never cut mid-request.
 *  - A wrong or missing token is answered with 401 and the connection is
 *    closed; a request head must be complete within API_HEAD_TIMEOUT_MS;
 *    only successful answers restart the idle clock.
 *  - Pipelined requests are answered in order, each in full: while an answer
 *    waits for room in the send buffer, received bytes stay unread (the TCP
 *    window closes) and a failed tcp_write is retried from the sent and poll
 *    callbacks.
 *  - Closes follow lwIP's rules: an answer is queued, then our FIN goes out
 *    at once (tcp_shutdown) and the client's remaining bytes are discarded
 *    until its FIN; tcp_close only once nothing is held unread.
 * Expect: 100-continue is answered before the body is read; HEAD wherever
 * GET is.
 */
#ifndef HV_NET_API_API_SERVER_H
#define HV_NET_API_API_SERVER_H

#include <stdint.h>
#include "net/api/api.h"

#define API_SERVER_CONNS 16    /* served at once: an operator's monitoring, orchestrator and shells (~80 KiB each) */
#define API_SERVER_QUEUE 8     /* accepted beyond them while every slot is the operator's */
#define API_SERVER_HALF_OPEN 32 /* SYN_RCVD on top: a handshake survives 32 SYNs of a flood (net/tcp_guard.c) */
#define API_SERVER_BACKLOG (API_SERVER_QUEUE + API_SERVER_HALF_OPEN) /* lwIP counts both against it */
#define API_RESPONSE_MAX 8192

struct netif;

/* Listens on port on nif only (whatever address it has or gets). The api must outlive the server. */
int api_server_start(const struct api *api, struct netif *nif, uint16_t port);

#endif
