/*
 * The migration transport (migration/port.h) over lwIP's raw TCP API, on
 * one NIC. The sender opens connections to the peer; the receiver listens
 * and takes connections in accept order (slot 0 first). Each connection
 * keeps a queue of the pbufs lwIP delivered; the window opens again
 * (tcp_recved) only as the state machine reads, so a slow receiver slows
 * the sender down instead of dropping anything.
 *
 * lwIP calls back into this file from the network task; the link events
 * it causes are queued and handed to the state machine by
 * migr_lwip_events(), from the migration task, so that the state machine
 * never runs inside an lwIP callback.
 */
#ifndef MIGR_TRANSPORT_LWIP_H
#define MIGR_TRANSPORT_LWIP_H

#include <stdbool.h>
#include <stdint.h>
#include "migration/port.h"
#include "migration/stream.h"

#define MIGR_LWIP_CONNS (MIGR_CONN_MAX + 1)

struct netif;
struct pbuf;
struct tcp_pcb;

/* Chains lwIP delivered, each read in turn: a ring, since one chain's tot_len must stay below 64 KiB. */
#define MIGR_LWIP_RXQ 128u

struct migr_lwip_conn {
	struct migr_lwip *t;
	struct tcp_pcb *pcb;
	struct pbuf *rxq[MIGR_LWIP_RXQ]; /* received, not yet read */
	uint32_t rx_head, rx_count;
	uint16_t rx_off;        /* bytes of rxq[rx_head] already read */
	bool up, fin, failed;   /* fin: the peer closed or reset */
	bool ev_up, ev_failed;  /* events not yet delivered */
	bool wrote;             /* tcp_output owed */
};

/* Delivers one link event (MIGR_LINK_UP or MIGR_LINK_FAILED) to the state machine. */
typedef void (*migr_lwip_event_fn)(void *owner, uint32_t conn, uint32_t event);

struct migr_lwip {
	struct netif *netif;
	uint32_t peer_ip;       /* host byte order (sender) */
	uint16_t port;
	struct tcp_pcb *listener;
	uint32_t max_accept;    /* receiver: connections taken at most (control + data) */
	uint32_t accepted;
	bool accepting;
	migr_lwip_event_fn event;
	void *owner;
	uint64_t bytes_in, bytes_out;
	struct migr_lwip_conn c[MIGR_LWIP_CONNS];
	struct tcp_pcb *closing[2 * MIGR_LWIP_CONNS]; /* tcp_close said ERR_MEM: tried again each step */
	/*
	 * c[top..] were never opened or accepted since the last rearm, and closing[] holds nclosing
	 * pcbs: the per-step loops stop there (an emulator charges every instruction of every step).
	 */
	uint32_t top, nclosing;
};

extern const struct migr_transport_ops migr_lwip_ops;

/* A sender's transport to ip:port (host byte order) on netif. */
void migr_lwip_init_client(struct migr_lwip *t, struct netif *netif, uint32_t ip, uint16_t port,
			   migr_lwip_event_fn event, void *owner);
/* A receiver's listener on netif:port taking max_accept connections per migration. */
int migr_lwip_listen(struct migr_lwip *t, struct netif *netif, uint16_t port, uint32_t max_accept,
		     migr_lwip_event_fn event, void *owner);
/* Ready for the next migration on the same listener: every connection closed, accepting again. */
void migr_lwip_rearm(struct migr_lwip *t);
/* Delivers queued link events and pushes written data out; call once per step. */
void migr_lwip_events(struct migr_lwip *t);
/* Whether any received bytes wait to be read. */
bool migr_lwip_readable(const struct migr_lwip *t);
/* Closes every connection and the listener. */
void migr_lwip_shutdown(struct migr_lwip *t);

#endif
