/*
 * lwIP netif over the e1000. Transmit: one copy (pbuf chain -> ring buffer),
 * and the device finishes each TCP segment's checksum (lwIP is told not to
 * make it: its sum over every byte sent cost the sender about a sixth of a
 * segment's processing in Bochs). Receive: none while spare buffers last
 * (the ring buffer goes up as a custom pbuf), else one (ring buffer -> pool
 * pbuf); lwIP checks received checksums itself.
 */
#include "net/netif_e1000.h"

#include <string.h>
#include "kernel/arch/x86/frames.h"
#include "kernel/lib/err.h"
#include "lwip/etharp.h"
#include "lwip/pbuf.h"
#include "net/chksum.h"
#include "netif/ethernet.h"

#define NETIF_E1000_MTU 1500
#define NETIF_E1000_NAME0 'e'
#define NETIF_E1000_NAME1 'n'

static err_t netif_e1000_linkoutput(struct netif *netif, struct pbuf *p)
{
	struct netif_e1000 *ne = netif->state;
	uint8_t *buf;

	if (p->tot_len == 0 || p->tot_len > E1000_MAX_FRAME)
		return ERR_ARG;
	buf = e1000_tx_slot(&ne->nic);
	if (!buf)
		return ERR_MEM; /* ring full: lwIP drops or retries (TCP) */
	/* Gathers the chain straight into the ring buffer: the one copy on transmit. */
	if (pbuf_copy_partial(p, buf, p->tot_len, 0) != p->tot_len)
		return ERR_BUF;
	/*
	 * Without the offload lwIP made the checksum. With it, a segment always fits one frame (TCP_MSS
	 * is the MTU's), so none is ever a fragment, which net_tcp_csum_prepare would pass unsummed.
	 */
	e1000_tx_commit(&ne->nic, p->tot_len,
			ne->tcp_offload && net_tcp_csum_prepare(buf, p->tot_len) == NET_CSUM_DEVICE);
	return ERR_OK;
}

/* lwIP is done with a lent buffer: it becomes a spare. */
static void netif_e1000_lend_free(struct pbuf *p)
{
	struct netif_e1000_lend *l = (struct netif_e1000_lend *)p;

	l->busy = false;
	l->ne->spare[l->ne->spare_count++] = l->buf;
}

err_t netif_e1000_init(struct netif *netif)
{
	struct netif_e1000 *ne = netif->state;
	uint64_t spares = frames_alloc((uint64_t)NETIF_E1000_LEND * E1000_BUF_SIZE, FRAME_SIZE);
	unsigned i;

	/* Without spares every frame is copied: slower, still correct. */
	ne->spare_count = 0;
	for (i = 0; spares && i < NETIF_E1000_LEND; i++)
		ne->spare[ne->spare_count++] = (uint8_t *)(uintptr_t)spares + (uint64_t)i * E1000_BUF_SIZE;
	for (i = 0; i < NETIF_E1000_LEND; i++)
		ne->lend[i] = (struct netif_e1000_lend){ .ne = ne };

	netif->name[0] = NETIF_E1000_NAME0;
	netif->name[1] = NETIF_E1000_NAME1;
	netif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(netif->hwaddr, ne->nic.mac, ETH_HWADDR_LEN);
	netif->mtu = NETIF_E1000_MTU;
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	netif->output = etharp_output;
	netif->linkoutput = netif_e1000_linkoutput;
	ne->link = false;
	ne->tcp_offload = e1000_tx_offload_tcp(&ne->nic, NET_CSUM_TCP_START, NET_CSUM_TCP_FIELD) == HV_OK;
	if (ne->tcp_offload)
		NETIF_SET_CHECKSUM_CTRL(netif, NETIF_CHECKSUM_ENABLE_ALL & ~NETIF_CHECKSUM_GEN_TCP);
	return ERR_OK;
}

static void netif_e1000_link(struct netif_e1000 *ne)
{
	bool up = e1000_link_up(&ne->nic);

	if (up == ne->link)
		return;
	ne->link = up;
	if (up)
		netif_set_link_up(&ne->netif);
	else
		netif_set_link_down(&ne->netif);
}

/* Wraps the frame's ring buffer in a custom pbuf and gives the descriptor a spare; NULL when none is left. */
static struct pbuf *netif_e1000_lend_rx(struct netif_e1000 *ne, const uint8_t *frame, size_t len)
{
	struct netif_e1000_lend *l = NULL;
	struct pbuf *p;
	unsigned i;

	if (!ne->spare_count)
		return NULL;
	for (i = 0; i < NETIF_E1000_LEND && !l; i++)
		if (!ne->lend[i].busy)
			l = &ne->lend[i];
	if (!l)
		return NULL;
	l->buf = (uint8_t *)frame;
	l->pc.custom_free_function = netif_e1000_lend_free;
	p = pbuf_alloced_custom(PBUF_RAW, (u16_t)len, PBUF_REF, &l->pc, l->buf, E1000_BUF_SIZE);
	if (!p)
		return NULL;
	l->busy = true;
	e1000_rx_swap(&ne->nic, ne->spare[--ne->spare_count]);
	ne->rx_lent++;
	return p;
}

unsigned netif_e1000_poll(struct netif_e1000 *ne, unsigned budget)
{
	unsigned n;

	netif_e1000_link(ne);
	for (n = 0; n < budget; n++) {
		size_t len;
		const uint8_t *frame = e1000_rx_peek(&ne->nic, &len);
		struct pbuf *p;

		if (!frame)
			break;
		p = netif_e1000_lend_rx(ne, frame, len);
		if (!p) {
			p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
			if (p) {
				pbuf_take(p, frame, (u16_t)len); /* no spare buffer: the one copy on receive */
				ne->rx_copied++;
			} else {
				ne->rx_nopbuf++;
			}
			e1000_rx_release(&ne->nic);
		}
		if (p && ne->netif.input(p, &ne->netif) != ERR_OK)
			pbuf_free(p);
	}
	return n;
}
