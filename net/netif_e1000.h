/*
 * lwIP netif glue for the e1000 driver: transmit from lwIP's pbufs, a poll
 * that feeds received frames to lwIP, and the link state.
 */
#ifndef HV_NET_NETIF_E1000_H
#define HV_NET_NETIF_E1000_H

#include <stdbool.h>
#include "drivers/e1000.h"
#include "lwip/netif.h"

struct netif_e1000 {
	struct netif netif;
	struct e1000 nic;  /* initialised (e1000_init) before netif_add */
	bool link;         /* last link state told to lwIP */
	uint64_t rx_nopbuf; /* frames dropped: no pbuf */
};

/* netif_add()'s init function; netif->state is the struct netif_e1000. */
err_t netif_e1000_init(struct netif *netif);

/*
 * Moves at most budget received frames into pbufs and hands them to
 * netif->input, and reports link changes to lwIP. Returns the frames handled.
 */
unsigned netif_e1000_poll(struct netif_e1000 *ne, unsigned budget);

#endif
