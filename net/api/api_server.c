#include "net/api/api_server.h"

#include <string.h>
#include "kernel/arch/x86/time.h"
#include "kernel/lib/err.h"
#include "kernel/lib/log.h"
#include "lwip/tcp.h"
#include "net/api/api_policy.h"

#define API_POLL_INTERVAL 1      /* lwIP's coarse timer ticks (500 ms each) between deadline checks */
#define API_RX_HELD_MAX 32768    /* received bytes held unparsed behind an answer; more waits in lwIP */

/* What became of a connection's pcb inside a callback: ERR_ABRT may be returned only after tcp_abort. */
enum conn_fate { CONN_LIVE, CONN_CLOSED, CONN_ABORTED };

struct api_conn {
	bool in_use;
	bool authed;                  /* has sent a request with the right token */
	bool close_after;             /* close once the pending answer is queued */
	bool peer_closed;             /* the client's FIN has arrived */
	bool head_vetted;             /* the current request's head was checked before its body */
	enum api_phase phase;
	struct tcp_pcb *pcb;
	uint64_t since;               /* TSC at accept: who is oldest */
	uint64_t phase_start;         /* TSC: when the phase's clock started */
	uint64_t last_ok;             /* TSC of the last successful answer (or the accept) */
	uint64_t out_since;           /* TSC when the pending answer was made */
	struct pbuf *rx;              /* received, not yet parsed; not yet tcp_recved either */
	size_t out_len, out_sent;
	char out[API_RESPONSE_MAX];
	struct http_req req;
};

/* A connection accepted while no slot could be had: lwIP holds what it sends until one is. */
struct api_waiter {
	struct tcp_pcb *pcb;          /* NULL: free */
	uint64_t since;
};

static const struct api *server_api;
static struct api_conn conns[API_SERVER_CONNS];
static struct api_waiter waiters[API_SERVER_QUEUE];
static uint64_t evicted, timed_out, queued; /* for a debugger's eyes */

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err);
static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len);
static void on_err(void *arg, err_t err);
static err_t on_poll(void *arg, struct tcp_pcb *pcb);

static uint64_t ms_to_ticks(uint32_t ms) { return time_us_to_ticks((uint64_t)ms * 1000); }

static void pcb_detach(struct tcp_pcb *pcb)
{
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	tcp_poll(pcb, NULL, 0);
}

static void conn_phase(struct api_conn *c, enum api_phase phase, uint64_t start)
{
	c->phase = phase;
	c->phase_start = start;
}

static bool conn_sending(const struct api_conn *c) { return c->out_sent < c->out_len; }

static uint64_t conn_deadline(const struct api_conn *c)
{
	if (conn_sending(c) && c->phase != API_PH_CLOSING)
		return c->out_since + ms_to_ticks(api_phase_timeout_ms(API_PH_SEND));
	return c->phase_start + ms_to_ticks(api_phase_timeout_ms(c->phase));
}

static void conn_attach(struct api_conn *c, struct tcp_pcb *pcb, uint64_t now)
{
	c->in_use = true;
	c->authed = c->close_after = c->peer_closed = c->head_vetted = false;
	c->pcb = pcb;
	c->since = c->last_ok = c->out_since = now;
	conn_phase(c, API_PH_NEW, now);
	c->rx = NULL;
	c->out_len = c->out_sent = 0;
	http_req_init(&c->req);
	tcp_arg(pcb, c);
	tcp_recv(pcb, on_recv);
	tcp_sent(pcb, on_sent);
	tcp_err(pcb, on_err);
	tcp_poll(pcb, on_poll, API_POLL_INTERVAL);
	tcp_nagle_disable(pcb);
}

/* Drops what is held unparsed; recved: give the window back (the pcb still exists). */
static void conn_drop_rx(struct api_conn *c, bool recved)
{
	if (!c->rx)
		return;
	if (recved)
		tcp_recved(c->pcb, c->rx->tot_len);
	pbuf_free(c->rx);
	c->rx = NULL;
}

static void conn_release(struct api_conn *c)
{
	c->in_use = false;
	c->pcb = NULL;
}

/* A reset, for clients that overstayed or were evicted. The slot is free afterwards. */
static void conn_abort(struct api_conn *c)
{
	struct tcp_pcb *pcb = c->pcb;

	pcb_detach(pcb);
	conn_drop_rx(c, false);
	conn_release(c);
	tcp_abort(pcb);
}

/* Nothing is held unread (the client has closed its side, or idles): lwIP finishes the close on its own. */
static enum conn_fate conn_close(struct api_conn *c)
{
	struct tcp_pcb *pcb = c->pcb;

	pcb_detach(pcb);
	conn_drop_rx(c, true);
	conn_release(c);
	if (tcp_close(pcb) != ERR_OK) {
		tcp_abort(pcb); /* out of memory to close politely */
		return CONN_ABORTED;
	}
	return CONN_CLOSED;
}

/*
 * The last answer is queued: our FIN follows it at once. The client may still
 * be sending (pipelined requests, a refused body); closing the receive side
 * now would answer those bytes with a reset that destroys our answer, so they
 * are discarded until the client's FIN.
 */
static enum conn_fate conn_finish(struct api_conn *c)
{
	conn_drop_rx(c, true);
	if (c->peer_closed)
		return conn_close(c);
	if (tcp_shutdown(c->pcb, 0, 1) != ERR_OK) {
		conn_abort(c);
		return CONN_ABORTED;
	}
	conn_phase(c, API_PH_CLOSING, time_now());
	return CONN_LIVE;
}

/* Queues as much of the pending answer as lwIP takes; true once all of it is. A refused write is retried later. */
static bool conn_push(struct api_conn *c)
{
	size_t left = c->out_len - c->out_sent, room = tcp_sndbuf(c->pcb);
	size_t n = left < room ? left : room;

	if (n && tcp_write(c->pcb, c->out + c->out_sent, (u16_t)n, TCP_WRITE_FLAG_COPY) == ERR_OK) {
		c->out_sent += n;
		tcp_output(c->pcb);
	}
	return !conn_sending(c);
}

static void conn_set_answer(struct api_conn *c, int len)
{
	if (len < 0) {
		c->close_after = true;
		len = 0;
	}
	c->out_len = (size_t)len;
	c->out_sent = 0;
	c->out_since = time_now();
}

/* A head with a body to follow: a stranger is refused before its body is read; the operator is invited to send it. */
static void conn_vet_head(struct api_conn *c)
{
	c->head_vetted = true;
	if (!api_authorized(server_api, &c->req)) {
		c->req.keep_alive = false;
		c->close_after = true;
		conn_set_answer(c, api_serve(server_api, &c->req, c->out, sizeof(c->out)));
		return;
	}
	c->authed = true;
	if (c->req.expect_continue && c->req.body_len == 0) {
		memcpy(c->out, HTTP_CONTINUE, sizeof(HTTP_CONTINUE) - 1);
		conn_set_answer(c, (int)sizeof(HTTP_CONTINUE) - 1);
	}
}

static void conn_answer(struct api_conn *c)
{
	bool ok = api_authorized(server_api, &c->req);
	int len;

	if (!ok)
		c->req.keep_alive = false; /* a stranger gets its 401, then the door */
	len = api_serve(server_api, &c->req, c->out, sizeof(c->out));
	conn_set_answer(c, len);
	c->close_after |= !c->req.keep_alive;
	if (ok) {
		c->authed = true;
		/* Only success restarts the idle clock: error answers do not buy time. */
		if (len > 0 && http_response_status(c->out, (size_t)len) < 400)
			c->last_ok = time_now();
	}
	conn_phase(c, API_PH_IDLE, c->last_ok);
	http_req_init(&c->req);
	c->head_vetted = false;
}

/* Parses the first pbuf of what is held, answering what completes. */
static void conn_parse(struct api_conn *c)
{
	struct pbuf *p = c->rx;
	enum http_result r;
	u16_t used;

	if (p->len == 0) {
		c->rx = p->next;
		if (c->rx)
			pbuf_ref(c->rx);
		pbuf_free(p);
		return;
	}
	r = http_parse(&c->req, p->payload, p->len);
	used = (u16_t)c->req.used;
	c->rx = pbuf_free_header(p, used);
	tcp_recved(c->pcb, used);
	if (r == HTTP_BAD) {
		c->close_after = true;
		conn_set_answer(c, api_serve_bad(&c->req, c->out, sizeof(c->out)));
	} else if (r == HTTP_DONE) {
		conn_answer(c);
	} else {
		if ((c->phase == API_PH_NEW || c->phase == API_PH_IDLE) && c->req.head_len > 0)
			conn_phase(c, API_PH_HEAD, time_now());
		if (c->req.phase == HTTP_PH_BODY && !c->head_vetted) {
			conn_phase(c, API_PH_BODY, time_now());
			conn_vet_head(c);
		}
	}
}

/* Sends what is pending, then answers held request after request; stops where an answer waits for room. */
static enum conn_fate conn_run(struct api_conn *c)
{
	for (;;) {
		if (!conn_push(c))
			return CONN_LIVE;  /* resumed from on_sent or on_poll */
		if (c->close_after)
			return conn_finish(c);
		if (!c->rx)
			return c->peer_closed ? conn_close(c) : CONN_LIVE;
		conn_parse(c);
	}
}

/* ---- The queue ------------------------------------------------------------------ */

static void waiter_drop(struct api_waiter *w)
{
	struct tcp_pcb *pcb = w->pcb;

	w->pcb = NULL;
	tcp_backlog_accepted(pcb);
	pcb_detach(pcb);
}

static err_t on_wait_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)err;
	if (p)
		return ERR_MEM;  /* lwIP keeps it and offers it again once a slot has taken the connection */
	waiter_drop(arg);
	if (tcp_close(pcb) != ERR_OK) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	return ERR_OK;
}

static void on_wait_err(void *arg, err_t err)
{
	struct api_waiter *w = arg;

	(void)err;
	w->pcb = NULL;  /* lwIP has freed the pcb already */
}

static void api_rebalance(void);

static err_t on_wait_poll(void *arg, struct tcp_pcb *pcb)
{
	struct api_waiter *w = arg;

	if (time_now() <= w->since + ms_to_ticks(api_phase_timeout_ms(API_PH_QUEUED))) {
		api_rebalance();
		return ERR_OK;
	}
	timed_out++;
	waiter_drop(w);
	tcp_abort(pcb);
	return ERR_ABRT;
}

static unsigned waiter_count(void)
{
	unsigned i, n = 0;

	for (i = 0; i < API_SERVER_QUEUE; i++)
		n += waiters[i].pcb != NULL;
	return n;
}

static struct api_waiter *waiter_oldest(void)
{
	struct api_waiter *best = NULL;
	unsigned i;

	for (i = 0; i < API_SERVER_QUEUE; i++)
		if (waiters[i].pcb && (!best || waiters[i].since < best->since))
			best = &waiters[i];
	return best;
}

static void waiter_add(struct tcp_pcb *pcb)
{
	struct api_waiter *w = NULL;
	unsigned i;

	for (i = 0; i < API_SERVER_QUEUE && !w; i++)
		if (!waiters[i].pcb)
			w = &waiters[i];
	if (!w) {
		/* Every waiter is a stranger too: the oldest gives way. */
		struct tcp_pcb *old;

		w = waiter_oldest();
		old = w->pcb;
		waiter_drop(w);
		evicted++;
		tcp_abort(old);
	}
	queued++;
	w->pcb = pcb;
	w->since = time_now();
	tcp_backlog_delayed(pcb);
	tcp_arg(pcb, w);
	tcp_recv(pcb, on_wait_recv);
	tcp_err(pcb, on_wait_err);
	tcp_poll(pcb, on_wait_poll, API_POLL_INTERVAL);
}

/* The oldest waiter takes slot c; false if nobody waits. What it sent reaches on_recv at lwIP's next fast timer. */
static bool waiter_promote(struct api_conn *c)
{
	struct api_waiter *w = waiter_oldest();
	struct tcp_pcb *pcb;

	if (!w)
		return false;
	pcb = w->pcb;
	waiter_drop(w);
	conn_attach(c, pcb, time_now());
	return true;
}

/* Free slots go to the waiters, oldest first. */
static void api_promote(void)
{
	unsigned i;

	for (i = 0; i < API_SERVER_CONNS; i++)
		if (!conns[i].in_use && !waiter_promote(&conns[i]))
			break;
}

/*
 * A slot taken from a connection that must give way (net/api/api_policy.h), or NULL. The operator's
 * idle kept-alive connection gets our FIN, as after its idle timeout; anyone else is reset.
 */
static struct api_conn *conn_evict(uint64_t before)
{
	struct api_slot_view views[API_SERVER_CONNS];
	struct api_conn *c;
	unsigned i;
	int v;

	for (i = 0; i < API_SERVER_CONNS; i++) {
		c = &conns[i];
		views[i] = (struct api_slot_view){ .in_use = c->in_use, .authed = c->authed,
						   .quiet = c->in_use && !conn_sending(c) && !c->rx,
						   .phase = c->phase, .since = c->since, .idle_since = c->phase_start };
	}
	v = api_pick_victim(views, API_SERVER_CONNS, before);
	if (v < 0)
		return NULL;
	c = &conns[v];
	evicted++;
	if (c->authed && c->phase == API_PH_IDLE)
		(void)conn_close(c); /* the slot is free either way: closed, or reset for want of memory */
	else
		conn_abort(c);
	return c;
}

static uint64_t grace_cutoff(void)
{
	uint64_t now = time_now(), grace = ms_to_ticks(API_GRACE_MS);

	return now > grace ? now - grace : 0;
}

/* Waiters take the slots of strangers whose grace has run out, then of the operator's idle connections. */
static void api_rebalance(void)
{
	struct api_conn *c;

	while (waiter_count() && (c = conn_evict(grace_cutoff())))
		waiter_promote(c);
}

/* ---- lwIP callbacks ----------------------------------------------------------------- */

static err_t conn_done(enum conn_fate fate)
{
	api_promote();
	return fate == CONN_ABORTED ? ERR_ABRT : ERR_OK;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct api_conn *c = arg;

	(void)err;
	if (!p) {
		c->peer_closed = true;
		return conn_done(c->phase == API_PH_CLOSING ? conn_close(c) : conn_run(c));
	}
	if (c->phase == API_PH_CLOSING) {
		tcp_recved(pcb, p->tot_len);
		pbuf_free(p);
		return ERR_OK;
	}
	if (c->rx) {
		if (c->rx->tot_len + p->tot_len > API_RX_HELD_MAX)
			return ERR_MEM;  /* lwIP keeps it and offers it again */
		pbuf_cat(c->rx, p);
	} else {
		c->rx = p;
	}
	return conn_done(conn_run(c));
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct api_conn *c = arg;

	(void)pcb, (void)len;
	if (c->phase == API_PH_CLOSING)
		return ERR_OK;
	return conn_done(conn_run(c));
}

static void on_err(void *arg, err_t err)
{
	struct api_conn *c = arg;

	(void)err;
	conn_drop_rx(c, false);  /* lwIP has freed the pcb already */
	conn_release(c);
	api_promote();
}

static err_t on_poll(void *arg, struct tcp_pcb *pcb)
{
	struct api_conn *c = arg;

	(void)pcb;
	if (time_now() > conn_deadline(c)) {
		timed_out++;
		/* An idle operator's connection is closed politely; anyone who overstayed mid-request is reset. */
		if (c->phase == API_PH_IDLE && !conn_sending(c) && !c->rx)
			return conn_done(conn_finish(c));
		conn_abort(c);
		return conn_done(CONN_ABORTED);
	}
	if (c->phase == API_PH_CLOSING)
		return ERR_OK;
	return conn_done(conn_run(c));  /* retries a write lwIP refused */
}

/*
 * A newcomer takes a free slot or a stranger's whose grace has run out; when
 * the queue is full, any stranger's. A slot found while others wait goes to
 * the oldest waiter, and the newcomer queues behind them.
 */
static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct api_conn *c = NULL;
	unsigned i;

	(void)arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	for (i = 0; i < API_SERVER_CONNS && !c; i++)
		if (!conns[i].in_use)
			c = &conns[i];
	if (!c)
		c = conn_evict(grace_cutoff());
	if (!c && waiter_count() == API_SERVER_QUEUE)
		c = conn_evict(UINT64_MAX);
	if (c && waiter_promote(c))
		c = NULL;
	if (c)
		conn_attach(c, pcb, time_now());
	else
		waiter_add(pcb);
	return ERR_OK;
}

int api_server_start(const struct api *api, struct netif *nif, uint16_t port)
{
	struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4), *listen;

	if (!pcb)
		return HV_ENOMEM;
	/* Only the management NIC: connections arriving on any other are not accepted. */
	tcp_bind_netif(pcb, nif);
	if (tcp_bind(pcb, IP4_ADDR_ANY, port) != ERR_OK) {
		tcp_close(pcb);
		return HV_EBUSY;
	}
	listen = tcp_listen_with_backlog(pcb, API_SERVER_BACKLOG);
	if (!listen) {
		tcp_close(pcb);
		return HV_ENOMEM;
	}
	server_api = api;
	tcp_accept(listen, on_accept);
	log_info("api", "listening on %c%c%u (%s), port %u", nif->name[0], nif->name[1], nif->num,
		 ip4addr_ntoa(netif_ip4_addr(nif)), port);
	return HV_OK;
}
