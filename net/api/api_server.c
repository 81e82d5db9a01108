#include "net/api/api_server.h"

#include <string.h>
#include "kernel/lib/err.h"
#include "kernel/lib/log.h"
#include "kernel/arch/x86/time.h"
#include "lwip/tcp.h"

#define API_POLL_INTERVAL 2 /* lwIP's coarse timer ticks (500 ms each) between timeout checks */

struct api_conn {
	bool in_use;
	bool close_after;             /* close once the response is sent */
	bool draining;                /* after an error: our side is shut, the client's bytes are discarded */
	struct tcp_pcb *pcb;
	uint64_t deadline;            /* TSC: the request under way must be complete by then */
	size_t out_len, out_sent;
	char out[API_RESPONSE_MAX];
	struct http_req req;
};

static const struct api *server_api;
static struct api_conn conns[API_SERVER_CONNS];
static uint64_t refused, timed_out;

static uint64_t conn_deadline(void) { return time_now() + time_us_to_ticks((uint64_t)API_REQUEST_TIMEOUT_MS * 1000); }

static void conn_free(struct api_conn *c)
{
	c->in_use = false;
	c->pcb = NULL;
}

static void conn_close(struct api_conn *c)
{
	struct tcp_pcb *pcb = c->pcb;

	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	tcp_poll(pcb, NULL, 0);
	conn_free(c);
	if (tcp_close(pcb) != ERR_OK)
		tcp_abort(pcb); /* out of memory to close politely */
}

/* Sends as much of the pending response as the send buffer takes. */
static void conn_push(struct api_conn *c)
{
	size_t left = c->out_len - c->out_sent, room = tcp_sndbuf(c->pcb);
	size_t n = left < room ? left : room;

	if (n && tcp_write(c->pcb, c->out + c->out_sent, (u16_t)n, TCP_WRITE_FLAG_COPY) == ERR_OK) {
		c->out_sent += n;
		tcp_output(c->pcb);
	}
	if (c->out_sent == c->out_len && c->close_after) {
		if (c->req.phase == HTTP_PH_BAD && !c->draining) {
			/*
			 * The client may still be sending (a body we refused): closing now
			 * would answer its bytes with a reset that destroys our response.
			 * Shut our side and drain until it closes or the deadline passes.
			 */
			c->draining = true;
			tcp_shutdown(c->pcb, 0, 1);
			return;
		}
		if (!c->draining)
			conn_close(c);
	}
}

static void conn_respond(struct api_conn *c, int len, bool keep_alive)
{
	if (len < 0) {
		c->close_after = true;
		len = 0;
	}
	c->out_len = (size_t)len;
	c->out_sent = 0;
	c->close_after |= !keep_alive;
	c->deadline = conn_deadline();
	conn_push(c);
}

/* Feeds one pbuf chain to the parser; answers each complete request. False once the connection is gone. */
static bool conn_feed(struct api_conn *c, const char *data, size_t len)
{
	while (len && c->in_use && !c->close_after) {
		enum http_result r = http_parse(&c->req, data, len);

		if (r == HTTP_NEED_MORE)
			return true;
		if (r == HTTP_BAD) {
			c->close_after = true;
			conn_respond(c, api_serve_bad(&c->req, c->out, sizeof(c->out)), false);
			return c->in_use;
		}
		conn_respond(c, api_serve(server_api, &c->req, c->out, sizeof(c->out)), c->req.keep_alive);
		data += c->req.used;
		len -= c->req.used;
		http_req_init(&c->req);
		if (c->in_use && c->out_sent < c->out_len && len) {
			/* Pipelined requests behind a response the send buffer could not take: the client retries. */
			c->close_after = true;
			return true;
		}
	}
	return c->in_use;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct api_conn *c = arg;
	struct pbuf *q;

	(void)err;
	if (!c) {
		if (p)
			pbuf_free(p);
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	if (c->draining) {
		if (p) {
			tcp_recved(pcb, p->tot_len);
			pbuf_free(p);
			return ERR_OK;
		}
		conn_close(c);
		return ERR_OK;
	}
	if (!p) {
		/* The client closed its side: finish sending, then close ours. */
		c->close_after = true;
		if (c->out_sent == c->out_len)
			conn_close(c);
		return ERR_OK;
	}
	if (c->out_sent < c->out_len)
		return ERR_MEM; /* lwIP keeps the data and offers it again: one response at a time */
	tcp_recved(pcb, p->tot_len);
	for (q = p; q && c->in_use; q = q->next)
		if (!conn_feed(c, q->payload, q->len))
			break;
	pbuf_free(p);
	return c->in_use ? ERR_OK : ERR_ABRT;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct api_conn *c = arg;

	(void)pcb, (void)len;
	if (c && c->in_use)
		conn_push(c);
	return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
	struct api_conn *c = arg;

	(void)err;
	if (c)
		conn_free(c); /* lwIP has freed the pcb already */
}

static err_t on_poll(void *arg, struct tcp_pcb *pcb)
{
	struct api_conn *c = arg;

	if (!c) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	if (time_now() > c->deadline) {
		/* Slow or half-open: nothing complete arrived in time. */
		timed_out++;
		conn_free(c);
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	return ERR_OK;
}

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
	if (!c) {
		refused++;
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	c->in_use = true;
	c->close_after = false;
	c->draining = false;
	c->pcb = pcb;
	c->out_len = c->out_sent = 0;
	c->deadline = conn_deadline();
	http_req_init(&c->req);
	tcp_arg(pcb, c);
	tcp_recv(pcb, on_recv);
	tcp_sent(pcb, on_sent);
	tcp_err(pcb, on_err);
	tcp_poll(pcb, on_poll, API_POLL_INTERVAL);
	tcp_nagle_disable(pcb);
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
	listen = tcp_listen_with_backlog(pcb, API_SERVER_CONNS);
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
