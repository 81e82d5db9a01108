/* The iperf service: lwiperf server or clients on the management NIC (kernel/selftest/perf.h). */
#include "kernel/selftest/perf.h"

#include <string.h>
#include "kernel/lib/err.h"
#include "kernel/lib/log.h"
#include "kernel/sched_loop.h"
#include "lwip/apps/lwiperf.h"
#include "lwip/etharp.h"
#include "lwip/ip4.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "net/net.h"

_Static_assert(PERF_PORT == LWIPERF_TCP_PORT_DEFAULT, "lwiperf's clients always ask for port 5001");

#define PERF_BACKLOG 8u         /* SYNs the listener holds at once: iperf -P 4 sends its four together */
#define PERF_ARP_POLL_MS 100u   /* how often the clients look for the next hop's ARP entry */
#define PERF_ARP_WAIT_MS 30000u /* then they connect anyway and leave ARP to lwIP */

/* The clients of a run (net.iperf=client at boot, or a link test) and what they measured. */
static struct {
	enum net_link_state state;
	ip4_addr_t peer;
	u16_t port;
	unsigned conns, done, failed;
	unsigned long long bytes;
	uint32_t max_ms, waited_ms;
	/*
	 * A link test measures the link a migration will have, so both hosts
	 * poll while it runs, as they do during a migration (sched_loop_poll).
	 * A host that halts between frames has its clock skip ahead in Bochs:
	 * the receiver's clock ran 38 s over the sender's 10, so the link moved
	 * about twice the frames per sender second that it could during a
	 * migration. polling: this run's sched_loop_poll(true) is owed its false.
	 */
	bool link, polling;
} perf_run;
static void (*perf_run_begin)(void), (*perf_run_end_hook)(void);

/* The link-test listener on the migration NIC, and what every server session received. */
static void *perf_link_server;
static u16_t perf_link_port;
static unsigned long long perf_rx_sessions, perf_rx_bytes;
static unsigned perf_link_open; /* link-test sessions accepted and not yet reported */

static const char *perf_outcome(enum lwiperf_report_type t)
{
	switch (t) {
	case LWIPERF_TCP_DONE_SERVER:
	case LWIPERF_TCP_DONE_CLIENT: return "done";
	case LWIPERF_TCP_ABORTED_LOCAL: return "aborted (local)";
	case LWIPERF_TCP_ABORTED_LOCAL_DATAERROR: return "aborted (data error)";
	case LWIPERF_TCP_ABORTED_LOCAL_TXERROR: return "aborted (tx error)";
	case LWIPERF_TCP_ABORTED_REMOTE: return "aborted (remote)";
	}
	return "ended (?)";
}

/* bits per ms = kbit/s, without lwiperf's rounding of bytes/ms first */
static unsigned long long perf_kbit(unsigned long long bytes, uint32_t ms) { return ms ? bytes * 8u / ms : 0; }

/* Once per run: a client that fails while the others start reports before the loop's own check. */
static void perf_run_end(void)
{
	if (perf_run.state != NET_LINK_RUNNING)
		return;
	if (perf_run.polling)
		sched_loop_poll(false);
	perf_run.polling = false;
	perf_run.state = perf_run.failed || !perf_run.conns ? NET_LINK_FAILED : NET_LINK_DONE;
	hv_log(perf_run.failed ? LOG_ERROR : LOG_INFO, "perf", "clients done: %u of %u, %llu bytes in %lu ms, %llu kbit/s",
	       perf_run.conns - perf_run.failed, perf_run.conns, perf_run.bytes, (unsigned long)perf_run.max_ms,
	       perf_kbit(perf_run.bytes, perf_run.max_ms));
	if (perf_run_end_hook)
		perf_run_end_hook();
}

static void perf_report(void *arg, enum lwiperf_report_type type, const ip_addr_t *local_addr, u16_t local_port,
			const ip_addr_t *remote_addr, u16_t remote_port, u32_t bytes, u32_t ms, u32_t kbit)
{
	int server = type == LWIPERF_TCP_DONE_SERVER || arg == NULL;
	int ok = type == LWIPERF_TCP_DONE_SERVER || type == LWIPERF_TCP_DONE_CLIENT;
	char remote[IP4ADDR_STRLEN_MAX];

	(void)local_addr;
	(void)kbit;
	ip4addr_ntoa_r(ip_2_ip4(remote_addr), remote, sizeof(remote));
	hv_log(ok ? LOG_INFO : LOG_ERROR, "perf", "%s %s %s:%u %s: %lu bytes in %lu ms, %llu kbit/s",
	       server ? "server" : "client", server ? "rx from" : "tx to", remote, remote_port, perf_outcome(type),
	       (unsigned long)bytes, (unsigned long)ms, perf_kbit(bytes, ms));
	if (server) {
		perf_rx_sessions++;
		perf_rx_bytes += bytes;
		if (perf_link_open && local_port == perf_link_port && --perf_link_open == 0)
			sched_loop_poll(false);
		return;
	}
	/* A client's summary once all of them have ended. */
	perf_run.done++;
	perf_run.failed += !ok;
	perf_run.bytes += bytes;
	if (ms > perf_run.max_ms)
		perf_run.max_ms = ms;
	if (perf_run.done == perf_run.conns)
		perf_run_end();
}

static void perf_clients_go(void)
{
	char peer[IP4ADDR_STRLEN_MAX];
	ip_addr_t remote;
	unsigned i, want = perf_run.conns;

	ip_addr_copy_from_ip4(remote, perf_run.peer);
	log_info("perf", "%u iperf client%s to %s:%u (lwiperf sends for 10 s)", want, want > 1 ? "s" : "",
		 ip4addr_ntoa_r(&perf_run.peer, peer, sizeof(peer)), perf_run.port);
	if (perf_run_begin)
		perf_run_begin();
	if (perf_run.link && !perf_run.polling) {
		perf_run.polling = true;
		sched_loop_poll(true);
	}
	for (i = 0; i < want; i++) {
		/* report_arg non-NULL marks a client's report (the server's passes NULL) */
		if (!lwiperf_start_tcp_client(&remote, perf_run.port, LWIPERF_CLIENT, perf_report, &perf_run)) {
			log_err("perf", "iperf client %u not started (out of lwIP memory)", i);
			perf_run.conns = i; /* the summary counts the ones that run */
			break;
		}
	}
	if (perf_run.conns == 0 || perf_run.done == perf_run.conns)
		perf_run_end();
}

/*
 * Waits for the link, an address and the next hop's MAC before connecting:
 * with lwIP's ARP_QUEUEING=0 only the last of several SYNs sent to an
 * unresolved address survives, and the others would wait for TCP's 3 s
 * retransmission.
 */
static void perf_clients_wait(void *arg)
{
	struct netif *n = ip4_route(&perf_run.peer);
	const ip4_addr_t *hop = &perf_run.peer, *ip_ret;
	struct eth_addr *mac_ret;

	(void)arg;
	if (n && netif_is_link_up(n) && !ip4_addr_isany_val(*netif_ip4_addr(n))) {
		if (!ip4_addr_netcmp(&perf_run.peer, netif_ip4_addr(n), netif_ip4_netmask(n)) &&
		    !ip4_addr_isany_val(*netif_ip4_gw(n)))
			hop = netif_ip4_gw(n);
		if (etharp_find_addr(n, hop, &mac_ret, &ip_ret) >= 0 || perf_run.waited_ms >= PERF_ARP_WAIT_MS) {
			perf_clients_go();
			return;
		}
		etharp_request(n, hop);
	}
	perf_run.waited_ms += PERF_ARP_POLL_MS;
	sys_timeout(PERF_ARP_POLL_MS, perf_clients_wait, NULL);
}

/*
 * lwiperf listens with a backlog of 1 (a second SYN arriving before the first
 * handshake ends is dropped and Linux retries a second later) and on every
 * NIC, and offers no way to change either. The link step routes its call to
 * lwIP's public tcp_listen_with_backlog() through here (the
 * Makefile's --wrap), so that while perf_start() starts the server the
 * listener gets a larger backlog and stays on the management NIC, like the
 * API server.
 */
static struct netif *perf_listen_netif; /* set only inside lwiperf_start_tcp_server() */

struct tcp_pcb *__real_tcp_listen_with_backlog(struct tcp_pcb *pcb, u8_t backlog);
struct tcp_pcb *__wrap_tcp_listen_with_backlog(struct tcp_pcb *pcb, u8_t backlog);

struct tcp_pcb *__wrap_tcp_listen_with_backlog(struct tcp_pcb *pcb, u8_t backlog)
{
	if (perf_listen_netif) {
		tcp_bind_netif(pcb, perf_listen_netif);
		backlog = PERF_BACKLOG;
	}
	return __real_tcp_listen_with_backlog(pcb, backlog);
}

/*
 * lwiperf's accept, for the link-test listener only: a session it takes
 * turns polling on, and its report (every accepted session ends in one)
 * turns it off. tcp_accept() is wrapped like tcp_listen_with_backlog().
 */
static bool perf_link_arming; /* set only inside perf_link_listen()'s server start */
static tcp_accept_fn perf_link_accepted;

static err_t perf_link_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	err_t rc = perf_link_accepted(arg, pcb, err);

	if (rc == ERR_OK && pcb && perf_link_open++ == 0)
		sched_loop_poll(true);
	return rc;
}

void __real_tcp_accept(struct tcp_pcb *pcb, tcp_accept_fn accept);
void __wrap_tcp_accept(struct tcp_pcb *pcb, tcp_accept_fn accept);

void __wrap_tcp_accept(struct tcp_pcb *pcb, tcp_accept_fn accept)
{
	if (perf_link_arming && accept) {
		perf_link_accepted = accept;
		accept = perf_link_accept;
	}
	__real_tcp_accept(pcb, accept);
}

static int perf_clients_start(uint32_t peer, uint16_t port, unsigned conns, bool link)
{
	if (perf_run.state == NET_LINK_RUNNING)
		return HV_EBUSY;
	if (conns == 0 || conns > PERF_CONNS_MAX || !peer || !port)
		return HV_TRACE(HV_EINVAL);
	memset(&perf_run, 0, sizeof(perf_run));
	ip4_addr_set_u32(&perf_run.peer, lwip_htonl(peer));
	perf_run.port = port;
	perf_run.conns = conns;
	perf_run.link = link;
	perf_run.state = NET_LINK_RUNNING;
	perf_clients_wait(NULL);
	return HV_OK;
}

/* A server on port of nif, its listener tuned by the wrapper above; NULL when lwIP refused it. */
static void *perf_server_start(struct netif *nif, u16_t port)
{
	void *server;

	/* On the NIC's address, or any address while DHCP has given none yet. */
	perf_listen_netif = nif;
	server = lwiperf_start_tcp_server(&nif->ip_addr, port, perf_report, NULL);
	perf_listen_netif = NULL;
	return server;
}

static int perf_link_listen(uint16_t port)
{
	struct netif *n = net_migr_netif();
	char addr[IP4ADDR_STRLEN_MAX];

	if (perf_link_server)
		return HV_EBUSY;
	if (!n || !port)
		return HV_TRACE(HV_EINVAL);
	perf_link_arming = true;
	perf_link_server = perf_server_start(n, port);
	perf_link_arming = false;
	if (!perf_link_server)
		return HV_EBUSY; /* the port is taken, or no listener slot is left */
	perf_link_port = port;
	log_info("perf", "link test: listening on %s:%u", ip4addr_ntoa_r(netif_ip4_addr(n), addr, sizeof(addr)), port);
	return HV_OK;
}

static void perf_link_status(struct net_link_status *o)
{
	memset(o, 0, sizeof(*o));
	o->state = perf_run.state;
	o->peer = lwip_ntohl(ip4_addr_get_u32(&perf_run.peer));
	o->peer_port = perf_run.port;
	o->connections = perf_run.conns;
	o->connections_ok = perf_run.done - perf_run.failed;
	o->bytes = perf_run.bytes;
	o->ms = perf_run.max_ms;
	o->rate = perf_run.max_ms ? perf_run.bytes * 1000u / perf_run.max_ms : 0;
	o->listen_port = perf_link_port;
	o->received_sessions = perf_rx_sessions;
	o->received_bytes = perf_rx_bytes;
}

static int perf_link_clients_start(uint32_t peer, uint16_t port, unsigned conns)
{
	return perf_clients_start(peer, port, conns, true);
}

const struct net_link_ops perf_link_ops = { perf_link_listen, perf_link_clients_start, perf_link_status };

int perf_start(const struct perf_params *p)
{
	struct netif *n = netif_default;
	char addr[IP4ADDR_STRLEN_MAX];

	perf_run_begin = p->run_begin;
	perf_run_end_hook = p->run_end;
	if (p->mode == PERF_OFF)
		return HV_OK;
	if (!n)
		return HV_TRACE(HV_EINVAL);
	if (p->mode == PERF_SERVER) {
		if (!perf_server_start(n, PERF_PORT))
			return HV_TRACE(HV_ENOMEM);
		log_info("perf", "iperf server on %s:%u", ip4addr_ntoa_r(netif_ip4_addr(n), addr, sizeof(addr)),
			 PERF_PORT);
		return HV_OK;
	}
	return perf_clients_start(p->peer, PERF_PORT, p->conns, false);
}
