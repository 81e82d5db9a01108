/* NICs + lwIP bring-up and the host task that polls them. */
#include "net/net.h"

#include <stdio.h>
#include <string.h>

#include "kernel/arch/x86/time.h"
#include "kernel/lib/err.h"
#include "kernel/lib/log.h"
#include "kernel/lib/parse.h"
#include "kernel/task.h"
#include "lwip/dhcp.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"
#include "net/netif_e1000.h"

#define NET_RX_BUDGET 32u /* frames per NIC per poll: bounds the task's run */


static struct netif_e1000 net_nics[NET_MAX_NICS];
static unsigned net_nic_count;
static struct host_task net_task;

/*
 * Polling from the hypervisor's scheduler, not interrupts: the host task runs
 * between vCPU slices (every NET_POLL_US, or at once while frames keep
 * coming), so lwIP always runs in one context and never inside an exit
 * handler or an interrupt, which NO_SYS=1 without locks requires. It needs no
 * interrupt routing (no IOAPIC/MSI set-up; the legacy PIC is off), costs a
 * few MMIO reads when idle, and bounds network work by the scheduler's
 * accounting like any other task. The price is up to one poll period of
 * latency; Bochs' tuntap backend delivers at most one frame per emulated
 * millisecond anyway. Interrupt-driven wake-ups can be added later by
 * sched_wake()ing this task from an IRQ handler.
 */
static void net_run(struct host_task *t, uint64_t now)
{
	unsigned i, busy = 0;

	for (i = 0; i < net_nic_count; i++)
		if (netif_e1000_poll(&net_nics[i], NET_RX_BUDGET) == NET_RX_BUDGET)
			busy = 1;
	sys_check_timeouts();
	/* A full budget means more frames are probably waiting: come back after one round of the others. */
	sched_block(&t->se, busy ? now : now + time_us_to_ticks(NET_POLL_US));
}

static ip4_addr_t net_ip4(uint32_t host_order)
{
	ip4_addr_t a;

	ip4_addr_set_u32(&a, lwip_htonl(host_order));
	return a;
}

/* The prefix length of a netif's mask (masks are contiguous: count the ones). */
static unsigned net_prefix(const struct netif *n)
{
	return (unsigned)__builtin_popcount(ip4_addr_get_u32(netif_ip4_netmask(n)));
}

/* NIC 0 is the management NIC, NIC 1 the migration NIC. */
static const char *net_role(unsigned i) { return i == 0 ? "management" : "migration"; }

static void net_log_nic(const struct netif_e1000 *ne, const char *role, int dhcp)
{
	const uint8_t *m = ne->nic.mac;
	const struct pci_dev *p = &ne->nic.pci;
	char addr[IP4ADDR_STRLEN_MAX], gw[IP4ADDR_STRLEN_MAX + 4] = "none";
	const struct netif *n = &ne->netif;

	if (!ip4_addr_isany_val(*netif_ip4_gw(n)))
		ip4addr_ntoa_r(netif_ip4_gw(n), gw, sizeof(gw));
	if (ip4_addr_isany_val(*netif_ip4_addr(n)))
		log_info("net", "%c%c%u: e1000 at %02x:%02x.%u, mac %02x:%02x:%02x:%02x:%02x:%02x, %s, %s, link %s",
			 n->name[0], n->name[1], n->num, p->bus, p->slot, p->func, m[0], m[1], m[2], m[3], m[4], m[5],
			 role, dhcp ? "address from DHCP" : "no address", ne->link ? "up" : "down");
	else
		log_info("net", "%c%c%u: e1000 at %02x:%02x.%u, mac %02x:%02x:%02x:%02x:%02x:%02x, %s, %s/%u gw %s, link %s",
			 n->name[0], n->name[1], n->num, p->bus, p->slot, p->func, m[0], m[1], m[2], m[3], m[4], m[5], role,
			 ip4addr_ntoa_r(netif_ip4_addr(n), addr, sizeof(addr)), net_prefix(n), gw, ne->link ? "up" : "down");
}

/* DHCP bound (or lost) an address: say so, it is how an operator finds the host. */
static void net_status_changed(struct netif *n)
{
	char addr[IP4ADDR_STRLEN_MAX], gw[IP4ADDR_STRLEN_MAX];

	log_info("net", "%c%c%u: address %s/%u gw %s", n->name[0], n->name[1], n->num,
		 ip4addr_ntoa_r(netif_ip4_addr(n), addr, sizeof(addr)), net_prefix(n),
		 ip4addr_ntoa_r(netif_ip4_gw(n), gw, sizeof(gw)));
}

unsigned net_nic_info(struct net_nic_info *out, unsigned max)
{
	unsigned i;

	for (i = 0; i < net_nic_count && i < max; i++) {
		struct e1000 *nic = &net_nics[i].nic;
		const struct netif *n = &net_nics[i].netif;

		e1000_stats_update(nic);
		out[i] = (struct net_nic_info){
			.role = net_role(i),
			.link_up = net_nics[i].link,
			.rx_frames = nic->rx_frames,
			.tx_frames = nic->tx_frames,
			.rx_bytes = nic->rx_bytes,
			.tx_bytes = nic->tx_bytes,
			.rx_dropped = nic->rx_dropped + nic->rx_missed,
			.tx_ring_full = nic->tx_full,
			.rx_copied = net_nics[i].rx_copied,
		};
		snprintf(out[i].name, sizeof(out[i].name), "%c%c%u", n->name[0], n->name[1], n->num);
		memcpy(out[i].mac, nic->mac, sizeof(out[i].mac));
	}
	return i;
}

struct netif *net_mgmt_netif(void) { return net_nic_count ? &net_nics[0].netif : NULL; }

struct netif *net_migr_netif(void) { return net_nic_count > 1 ? &net_nics[1].netif : net_mgmt_netif(); }

int net_init(const struct net_params *p, struct sched *s)
{
	struct pci_dev devs[NET_MAX_NICS];
	unsigned found, i;
	int rc;

	if (p->nics == 0 || p->nics > NET_MAX_NICS)
		return HV_TRACE(HV_EINVAL);
	found = pci_find(E1000_VENDOR_INTEL, E1000_DEV_82540EM, devs, NET_MAX_NICS);
	if (found < p->nics) {
		log_err("net", "net.nics=%u but %u e1000 (%04x:%04x) found on PCI", p->nics, found,
			E1000_VENDOR_INTEL, E1000_DEV_82540EM);
		return HV_ENOENT;
	}
	lwip_init();
	for (i = 0; i < p->nics; i++) {
		struct netif_e1000 *ne = &net_nics[i];
		const struct net_nic_params *np = i == 0 ? &p->mgmt : &p->migr;
		int dhcp = np->dhcp;
		ip4_addr_t ip = net_ip4(np->addr), mask = net_ip4(ipv4_mask(np->prefix));
		ip4_addr_t gw = net_ip4(i == 0 ? p->gw : 0);

		rc = e1000_init(&ne->nic, &devs[i]);
		if (rc) {
			log_err("net", "e1000 at %02x:%02x.%u: %s", devs[i].bus, devs[i].slot, devs[i].func,
				hv_strerror(rc));
			return rc;
		}
		if (!netif_add(&ne->netif, &ip, &mask, &gw, ne, netif_e1000_init, netif_input))
			return HV_TRACE(HV_EIO);
		if (i == 0)
			netif_set_default(&ne->netif);
		netif_set_up(&ne->netif);
		net_nic_count = i + 1;
		(void)netif_e1000_poll(ne, 0); /* reports the link state to lwIP */
		if (dhcp && dhcp_start(&ne->netif) != ERR_OK)
			return HV_TRACE(HV_ENOMEM);
		net_log_nic(ne, net_role(i), dhcp);
	}
	netif_set_status_callback(&net_nics[0].netif, net_status_changed);
	if (net_nic_count > 1)
		netif_set_status_callback(&net_nics[1].netif, net_status_changed);
	net_task = (struct host_task){ .name = "net", .run = net_run };
	return task_add(s, &net_task);
}
