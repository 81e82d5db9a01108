/*
 * The hypervisor's network: the e1000 NICs found on PCI, lwIP over them
 * with a static IPv4 address, and the host task that drives both.
 */
#ifndef HV_NET_NET_H
#define HV_NET_NET_H

#include <stdbool.h>
#include <stdint.h>

#define NET_MAX_NICS 2u
#define NET_POLL_US 1000u

struct netif;
struct sched;

/* The IPv4 set-up of one NIC; addresses in host byte order. */
struct net_nic_params {
	uint32_t addr;               /* 0 with dhcp */
	uint32_t prefix;             /* 1..32 */
	bool dhcp;                   /* ask DHCP for the address (and, on the first NIC, the gateway) */
};

struct net_params {
	unsigned nics;               /* e1000 NICs to bring up, 1..NET_MAX_NICS */
	struct net_nic_params mgmt;  /* the first NIC */
	struct net_nic_params migr;  /* the second, when there is one */
	uint32_t gw;                 /* default gateway on the first NIC's subnet; 0 = none */
};

/*
 * Brings up p->nics e1000 NICs (the first, the management NIC, gets p->mgmt
 * and p->gw; the second, the migration NIC, p->migr; a NIC given dhcp asks
 * a DHCP server), initialises lwIP and adds the
 * polling task to s. Call once, with interrupts off, after frames_init.
 * Returns 0 or a negative hv_err (HV_ENOENT: fewer NICs than asked for).
 */
int net_init(const struct net_params *p, struct sched *s);

/* One NIC as an operator sees it. */
struct net_nic_info {
	char name[8];                /* lwIP's interface name, e.g. "en0" */
	const char *role;            /* "management" or "migration" */
	uint8_t mac[6];
	bool link_up;
	uint64_t rx_frames, tx_frames, rx_bytes, tx_bytes;
	uint64_t rx_dropped;         /* frames the device received with errors, or missed (no descriptor) */
	uint64_t tx_ring_full;       /* sends refused because the transmit ring was full */
	uint64_t rx_copied;          /* frames copied on receive (the rest went up in their ring buffer) */
};

/* Fills out[] with each NIC's role, address and counters; returns how many (at most max). */
unsigned net_nic_info(struct net_nic_info *out, unsigned max);

/* The management NIC; NULL before net_init. */
struct netif *net_mgmt_netif(void);
/* The migration NIC: the second NIC when net.migr= gave one, else the management NIC. */
struct netif *net_migr_netif(void);

#endif
