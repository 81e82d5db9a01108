/* The migration transport over lwIP's raw TCP API (migration/transport_lwip.h). */
#include "migration/transport_lwip.h"

#include <string.h>
#include "kernel/lib/err.h"
#include "kernel/lib/log.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "migration/prof.h"

/*
 * Bytes of copied send data all migration connections may hold in lwIP's
 * heap at once (MEM_SIZE is shared with the API server): the rest of the
 * heap stays free for the others, so the API answers during a migration.
 */
#define MIGR_LWIP_TX_BUDGET (160u * 1024u)
/* Send-queue pbufs kept free per connection: a write never fails on the queue length. */
#define MIGR_LWIP_QUEUE_SPARE 4u
#define MIGR_LWIP_BACKLOG (MIGR_CONN_MAX + 1)

static void conn_drop_rx(struct migr_lwip_conn *c)
{
	while (c->rx_count) {
		pbuf_free(c->rxq[c->rx_head]);
		c->rx_head = (c->rx_head + 1) % MIGR_LWIP_RXQ;
		c->rx_count--;
	}
	c->rx_off = 0;
}

static void conn_reset(struct migr_lwip *t, struct migr_lwip_conn *c)
{
	conn_drop_rx(c);
	memset(c, 0, sizeof(*c));
	c->t = t;
}

/*
 * lwIP has freed the pcb already: only our side is cleaned up. What the peer
 * sent before its reset is still read (a CONFIRM or an ERROR followed by RST
 * must not be lost), as after a FIN: the link fails once the queue is empty.
 */
static void lw_err(void *arg, err_t err)
{
	struct migr_lwip_conn *c = arg;

	(void)err;
	if (!c)
		return;
	c->pcb = NULL;
	c->fin = true;
}

static err_t lw_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct migr_lwip_conn *c = arg;

	if (!c) { /* closed on our side meanwhile */
		if (p) {
			tcp_recved(pcb, p->tot_len);
			pbuf_free(p);
		}
		return ERR_OK;
	}
	if (!p) {
		c->fin = true; /* what is queued is still read; then the link fails */
		return ERR_OK;
	}
	if (err != ERR_OK) {
		pbuf_free(p);
		return ERR_OK;
	}
	if (c->rx_count == MIGR_LWIP_RXQ)
		return ERR_MEM; /* lwIP keeps p and offers it again */
	c->rxq[(c->rx_head + c->rx_count) % MIGR_LWIP_RXQ] = p;
	c->rx_count++;
	c->t->bytes_in += p->tot_len;
	return ERR_OK;
}

static void conn_attach(struct migr_lwip_conn *c, struct tcp_pcb *pcb)
{
	c->pcb = pcb;
	tcp_arg(pcb, c);
	tcp_recv(pcb, lw_recv);
	tcp_err(pcb, lw_err);
	tcp_nagle_disable(pcb); /* records are whole when written: no waiting for more */
}

static err_t lw_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct migr_lwip_conn *c = arg;

	(void)pcb;
	(void)err; /* always ERR_OK in lwIP 2.1: failures come through lw_err */
	if (c) {
		c->up = true;
		c->ev_up = true;
	}
	return ERR_OK;
}

static err_t lw_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct migr_lwip *t = arg;
	struct migr_lwip_conn *c;

	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	if (!t || !t->accepting || t->accepted >= t->max_accept) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	c = &t->c[t->accepted++];
	if (t->accepted > t->top)
		t->top = t->accepted;
	conn_reset(t, c);
	conn_attach(c, pcb);
	c->up = true;
	c->ev_up = true;
	return ERR_OK;
}

/* Detaches our callbacks and closes gracefully; a close lwIP cannot do now is tried again later. */
static void pcb_close(struct migr_lwip *t, struct tcp_pcb *pcb)
{
	unsigned i;

	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL); /* lwIP's default takes what still arrives */
	tcp_err(pcb, NULL);
	if (tcp_close(pcb) == ERR_OK)
		return;
	for (i = 0; i < sizeof(t->closing) / sizeof(t->closing[0]); i++)
		if (!t->closing[i]) {
			t->closing[i] = pcb;
			t->nclosing++;
			return;
		}
	tcp_abort(pcb); /* no slot to remember it in: a reset rather than a leak */
}

static void closing_retry(struct migr_lwip *t)
{
	unsigned i;

	for (i = 0; t->nclosing && i < sizeof(t->closing) / sizeof(t->closing[0]); i++)
		if (t->closing[i] && tcp_close(t->closing[i]) == ERR_OK) {
			t->closing[i] = NULL;
			t->nclosing--;
		}
}

static struct migr_lwip_conn *conn_of(void *ctx, uint32_t c)
{
	struct migr_lwip *t = ctx;

	return c < MIGR_LWIP_CONNS ? &t->c[c] : NULL;
}

static int lw_open(void *ctx, uint32_t i)
{
	struct migr_lwip *t = ctx;
	struct migr_lwip_conn *c = conn_of(ctx, i);
	struct tcp_pcb *pcb;
	ip_addr_t peer;

	if (!c || c->pcb)
		return HV_EINVAL;
	pcb = tcp_new();
	if (!pcb)
		return HV_ENOMEM;
	conn_reset(t, c);
	if (i >= t->top)
		t->top = i + 1;
	tcp_bind_netif(pcb, t->netif);
	conn_attach(c, pcb);
	ip_addr_set_ip4_u32(&peer, lwip_htonl(t->peer_ip));
	if (tcp_connect(pcb, &peer, t->port, lw_connected) != ERR_OK) {
		c->pcb = NULL;
		pcb_close(t, pcb);
		return HV_EIO;
	}
	return HV_OK;
}

/* Bytes of copied data a connection holds in lwIP (unsent or unacknowledged). */
static size_t conn_held(const struct migr_lwip_conn *c)
{
	return c && c->pcb ? TCP_SND_BUF - tcp_sndbuf(c->pcb) : 0;
}

static size_t tx_held(const struct migr_lwip *t)
{
	size_t held = 0;
	unsigned i;

	for (i = 0; i < t->top; i++)
		held += conn_held(&t->c[i]);
	return held;
}

/*
 * Room that ends on a segment boundary. Nagle is off, so whatever a step
 * wrote goes out at its end: a write that stopped mid-segment would send a
 * runt, and the ACK of a runt frees room that ends mid-segment again, so
 * every later write would send one too. A frame costs the link the same
 * whatever it carries (a Bochs host receives one per emulated millisecond),
 * so room limits a write to the last unsent segment's free tail plus whole
 * segments; a writer with less than that to say still writes it all.
 */
static size_t segment_room(const struct tcp_pcb *pcb, size_t room)
{
	size_t mss = tcp_mss(pcb), fill = pcb->unsent ? pcb->unsent_oversize : 0;

	if (mss == 0 || room <= fill)
		return room;
	return fill + (room - fill) / mss * mss;
}

static size_t lw_room(void *ctx, uint32_t i)
{
	struct migr_lwip *t = ctx;
	struct migr_lwip_conn *c = conn_of(ctx, i);
	size_t room, segs, held;

	if (!c || !c->pcb || !c->up || c->failed)
		return 0;
	if (tcp_sndqueuelen(c->pcb) + MIGR_LWIP_QUEUE_SPARE >= TCP_SND_QUEUELEN)
		return 0;
	segs = TCP_SND_QUEUELEN - tcp_sndqueuelen(c->pcb) - MIGR_LWIP_QUEUE_SPARE;
	room = tcp_sndbuf(c->pcb);
	if (room > segs * TCP_MSS)
		room = segs * TCP_MSS;
	held = tx_held(t);
	if (held >= MIGR_LWIP_TX_BUDGET)
		return 0;
	if (room > MIGR_LWIP_TX_BUDGET - held)
		room = MIGR_LWIP_TX_BUDGET - held;
	return segment_room(c->pcb, room > 0xffff ? 0xffff : room); /* tcp_write takes a u16_t */
}

static long lw_write(void *ctx, uint32_t i, const void *buf, size_t n)
{
	struct migr_lwip *t = ctx;
	struct migr_lwip_conn *c = conn_of(ctx, i);
	err_t err;
	uint64_t t0;

	if (!c || !c->pcb || c->failed)
		return HV_EIO;
	if (n > 0xffff)
		n = 0xffff;
	t0 = migr_prof_begin();
	err = tcp_write(c->pcb, buf, (u16_t)n, TCP_WRITE_FLAG_COPY);
	migr_prof_end(MIGR_PROF_TCP_WRITE, t0, err == ERR_OK ? n : 0);
	if (err == ERR_MEM)
		return 0; /* the heap is short: the state machine comes back */
	if (err != ERR_OK)
		return HV_EIO;
	c->wrote = true;
	t->bytes_out += n;
	return (long)n;
}

static long lw_read(void *ctx, uint32_t i, void *buf, size_t n)
{
	struct migr_lwip_conn *c = conn_of(ctx, i);
	size_t done = 0;
	uint64_t t0 = migr_prof_begin();

	if (!c)
		return HV_EINVAL;
	while (done < n && c->rx_count) {
		struct pbuf *p = c->rxq[c->rx_head];
		size_t k = p->tot_len - c->rx_off;

		if (k > n - done)
			k = n - done;
		pbuf_copy_partial(p, (uint8_t *)buf + done, (u16_t)k, c->rx_off);
		done += k;
		c->rx_off = (uint16_t)(c->rx_off + k);
		if (c->pcb)
			tcp_recved(c->pcb, (u16_t)k); /* the window opens as the state machine consumes */
		if (c->rx_off == p->tot_len) {
			pbuf_free(p);
			c->rx_head = (c->rx_head + 1) % MIGR_LWIP_RXQ;
			c->rx_count--;
			c->rx_off = 0;
		}
	}
	if (done)
		migr_prof_end(MIGR_PROF_RX_COPY, t0, done);
	if (done == 0 && (c->failed || c->fin))
		return HV_EIO;
	return (long)done;
}

static void lw_close(void *ctx, uint32_t i)
{
	struct migr_lwip *t = ctx;
	struct migr_lwip_conn *c = conn_of(ctx, i);

	if (!c)
		return;
	if (c->pcb) {
		if (c->wrote)
			(void)tcp_output(c->pcb);
		pcb_close(t, c->pcb);
	}
	conn_reset(t, c);
}

static size_t lw_queued(void *ctx, uint32_t i)
{
	return conn_held(conn_of(ctx, i));
}

const struct migr_transport_ops migr_lwip_ops = { lw_open, lw_room, lw_write, lw_read, lw_close, lw_queued };

void migr_lwip_init_client(struct migr_lwip *t, struct netif *netif, uint32_t ip, uint16_t port,
			   migr_lwip_event_fn event, void *owner)
{
	unsigned i;

	memset(t, 0, sizeof(*t));
	t->netif = netif;
	t->peer_ip = ip;
	t->port = port;
	t->event = event;
	t->owner = owner;
	for (i = 0; i < MIGR_LWIP_CONNS; i++)
		t->c[i].t = t;
}

int migr_lwip_listen(struct migr_lwip *t, struct netif *netif, uint16_t port, uint32_t max_accept,
		     migr_lwip_event_fn event, void *owner)
{
	struct tcp_pcb *pcb, *lpcb;

	migr_lwip_init_client(t, netif, 0, port, event, owner);
	t->max_accept = max_accept;
	pcb = tcp_new();
	if (!pcb)
		return HV_ENOMEM;
	/* The port of the last migration may still be held by its connections in TIME-WAIT. */
	ip_set_option(pcb, SOF_REUSEADDR);
	if (tcp_bind(pcb, netif_ip_addr4(netif), port) != ERR_OK) {
		tcp_abort(pcb);
		return HV_EBUSY;
	}
	/* Every connection of a migration may be half-open at once: none waits for a SYN retransmission. */
	lpcb = tcp_listen_with_backlog(pcb, MIGR_LWIP_BACKLOG);
	if (!lpcb) {
		tcp_abort(pcb);
		return HV_ENOMEM;
	}
	t->listener = lpcb;
	tcp_arg(lpcb, t);
	tcp_accept(lpcb, lw_accept);
	t->accepting = true;
	return HV_OK;
}

void migr_lwip_rearm(struct migr_lwip *t)
{
	unsigned i;

	for (i = 0; i < MIGR_LWIP_CONNS; i++)
		lw_close(t, i);
	t->top = 0;
	t->accepted = 0;
	t->accepting = t->listener != NULL;
}

void migr_lwip_events(struct migr_lwip *t)
{
	unsigned i;

	closing_retry(t);
	for (i = 0; i < t->top; i++) {
		struct migr_lwip_conn *c = &t->c[i];

		if (c->wrote && c->pcb) {
			uint64_t t0 = migr_prof_begin();

			(void)tcp_output(c->pcb);
			migr_prof_end(MIGR_PROF_TCP_OUTPUT, t0, 0);
			c->wrote = false;
		}
		if (c->ev_up) {
			c->ev_up = false;
			t->event(t->owner, i, MIGR_LINK_UP);
		}
		/* A peer's FIN or reset fails the link once everything it sent before was read. */
		if (c->fin && !c->rx_count && !c->failed) {
			c->failed = true;
			c->ev_failed = true;
		}
		if (c->ev_failed) {
			c->ev_failed = false;
			t->event(t->owner, i, MIGR_LINK_FAILED);
		}
	}
}

bool migr_lwip_readable(const struct migr_lwip *t)
{
	unsigned i;

	for (i = 0; i < t->top; i++)
		if (t->c[i].rx_count)
			return true;
	return false;
}

void migr_lwip_shutdown(struct migr_lwip *t)
{
	unsigned i;

	t->accepting = false;
	for (i = 0; i < MIGR_LWIP_CONNS; i++)
		lw_close(t, i);
	if (t->listener) {
		tcp_arg(t->listener, NULL);
		tcp_accept(t->listener, NULL);
		(void)tcp_close(t->listener); /* a listener's close frees it at once */
		t->listener = NULL;
	}
	closing_retry(t);
}
