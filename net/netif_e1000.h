/*
 * lwIP netif glue for the e1000 driver: transmit from lwIP's pbufs, a poll
 * that feeds received frames to lwIP, and the link state.
 */
#ifndef HV_NET_NETIF_E1000_H
#define HV_NET_NETIF_E1000_H

#include <stdbool.h>
#include "drivers/e1000.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"

/*
 * Receive buffers lent to lwIP: a received frame goes up in its ring buffer
 * (a custom pbuf) and the descriptor takes a spare buffer; when lwIP frees
 * the pbuf the buffer becomes a spare again. With no spare left the frame
 * is copied instead, so the ring never starves.
 */
#define NETIF_E1000_LEND 128

struct netif_e1000_lend {
	struct pbuf_custom pc;     /* first: lwIP hands this back as the pbuf */
	struct netif_e1000 *ne;
	uint8_t *buf;
	bool busy;
};

struct netif_e1000 {
	struct netif netif;
	struct e1000 nic;  /* initialised (e1000_init) before netif_add */
	bool link;         /* last link state told to lwIP */
	bool tcp_offload;  /* the device finishes TCP checksums (e1000_tx_offload_tcp) */
	uint64_t rx_nopbuf; /* frames dropped: no pbuf */
	uint64_t rx_lent, rx_copied; /* frames passed up without a copy, and with one */
	struct netif_e1000_lend lend[NETIF_E1000_LEND];
	uint8_t *spare[NETIF_E1000_LEND]; /* buffers ready to give a descriptor */
	unsigned spare_count;
};

/* netif_add()'s init function; netif->state is the struct netif_e1000. */
err_t netif_e1000_init(struct netif *netif);

/*
 * Moves at most budget received frames into pbufs and hands them to
 * netif->input, and reports link changes to lwIP. Returns the frames handled.
 */
unsigned netif_e1000_poll(struct netif_e1000 *ne, unsigned budget);

#endif
