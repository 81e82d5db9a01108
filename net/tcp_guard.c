/*
 * Two lwIP hooks (net/arch/cc.h) that keep TCP usable against off-path
 * clients, for every listener of the host (API, iperf, migration):
 *
 *  - LWIP_HOOK_TCP_ISN: initial sequence numbers as RFC 6528 asks,
 *    ISN = M + F(4-tuple, secret), M a 4-microsecond clock, F SipHash-2-4
 *    keyed at the first connection by random_bytes() (RDRAND and the TSC). lwIP's own
 *    ISN is a counter anyone can predict.
 *
 *  - LWIP_HOOK_IP4_INPUT: lwIP 2.1.3 has no SYN cookies, and a half-open
 *    (SYN_RCVD) connection counts against its listener's backlog for
 *    TCP_SYN_RCVD_TIMEOUT (20 s, not an option). A few spoofed SYNs would
 *    lock a listener for that long. So a SYN for a listener whose backlog is
 *    full first evicts that listener's oldest half-open connection (without
 *    a reset: its peer never answered). A real client completes its
 *    handshake within one round trip, long before a flood of a sensible
 *    rate has pushed it out. The hook runs before ip4_input looks at the
 *    packet, outside any TCP processing, so aborting a pcb there is as safe
 *    as from the main loop. The SYN itself is left to lwIP (checksums and
 *    all); a bad one costs at most one half-open connection.
 */
#include <stdbool.h>
#include <string.h>
#include "kernel/arch/x86/random.h"
#include "kernel/arch/x86/time.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/tcp.h"
#include "lwip/tcp.h"
#include "net/siphash.h"

static uint8_t tcp_guard_key[SIPHASH_KEY_LEN];
static bool tcp_guard_keyed;
static uint64_t tcp_guard_evictions;

u32_t hv_tcp_isn(const ip4_addr_t *local_ip, u16_t local_port, const ip4_addr_t *remote_ip, u16_t remote_port)
{
	uint8_t tuple[12];
	uint32_t lip = ip4_addr_get_u32(local_ip), rip = ip4_addr_get_u32(remote_ip);

	if (!tcp_guard_keyed) {
		random_bytes(tcp_guard_key, sizeof(tcp_guard_key));
		tcp_guard_keyed = true;
	}
	memcpy(tuple, &lip, 4);
	memcpy(tuple + 4, &rip, 4);
	memcpy(tuple + 8, &local_port, 2);
	memcpy(tuple + 10, &remote_port, 2);
	return (u32_t)(time_uptime_us() / 4) + (u32_t)siphash24(tcp_guard_key, tuple, sizeof(tuple));
}

static struct tcp_pcb_listen *tcp_guard_listener(struct netif *inp, const ip4_addr_t *dst, u16_t port)
{
	struct tcp_pcb_listen *l;

	for (l = tcp_listen_pcbs.listen_pcbs; l; l = l->next)
		if (l->local_port == port && (l->netif_idx == NETIF_NO_INDEX || l->netif_idx == netif_get_index(inp)) &&
		    (ip4_addr_isany_val(l->local_ip) || ip4_addr_cmp(&l->local_ip, dst)))
			return l;
	return NULL;
}

/* Frees one backlog place of the listener a SYN is for, if it has none. */
static void tcp_guard_make_room(struct netif *inp, const ip4_addr_t *src, u16_t sport, const ip4_addr_t *dst, u16_t dport)
{
	struct tcp_pcb_listen *l = tcp_guard_listener(inp, dst, dport);
	struct tcp_pcb *pcb, *oldest = NULL;

	if (!l || l->accepts_pending < l->backlog)
		return;
	for (pcb = tcp_active_pcbs; pcb; pcb = pcb->next) {
		if (pcb->local_port == dport && pcb->remote_port == sport && ip4_addr_cmp(&pcb->remote_ip, src) &&
		    ip4_addr_cmp(&pcb->local_ip, dst))
			return;  /* a retransmitted SYN of a connection lwIP already has */
		/* The list is newest first: ">=" lets the oldest of equally idle ones win. */
		if (pcb->state == SYN_RCVD && pcb->listener == l &&
		    (!oldest || (u32_t)(tcp_ticks - pcb->tmr) >= (u32_t)(tcp_ticks - oldest->tmr)))
			oldest = pcb;
	}
	if (!oldest)
		return;  /* the backlog holds accepted connections waiting for the application: the SYN waits too */
	tcp_guard_evictions++;
	tcp_abandon(oldest, 0);
}

int hv_ip4_input_hook(struct pbuf *p, struct netif *inp)
{
	const struct ip_hdr *ip = p->payload;
	const struct tcp_hdr *th;
	ip4_addr_t src, dst;
	u16_t hlen;

	if (p->len < IP_HLEN || IPH_PROTO(ip) != IP_PROTO_TCP || (IPH_OFFSET(ip) & PP_HTONS(IP_OFFMASK | IP_MF)))
		return 0;
	hlen = IPH_HL_BYTES(ip);
	if (hlen < IP_HLEN || p->len < hlen + TCP_HLEN)
		return 0;
	th = (const struct tcp_hdr *)((const u8_t *)p->payload + hlen);
	if ((TCPH_FLAGS(th) & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN)
		return 0;
	ip4_addr_copy(src, ip->src);
	ip4_addr_copy(dst, ip->dest);
	tcp_guard_make_room(inp, &src, lwip_ntohs(th->src), &dst, lwip_ntohs(th->dest));
	return 0;  /* never consumed: lwIP goes on with the packet */
}
