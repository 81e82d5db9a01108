/*
 * The iperf service (net.iperf=): lwIP's lwiperf (iperf 2 protocol, TCP) on
 * the management NIC, to measure the raw throughput of the hypervisor's
 * network against Linux iperf 2 or another hypervisor host.
 *   net.iperf=server   listens on port 5001 of the management NIC
 *   net.iperf=client   net.iperf_conns TCP clients to net.iperf_peer:5001
 * Every finished or aborted session logs one line (subsystem "perf"):
 *   I perf: server rx from 10.77.0.3:49153 done: 1234 bytes in 10012 ms, 9864 kbit/s
 *   I perf: client tx to 10.77.0.2:5001 done: 1234 bytes in 10000 ms, 9876 kbit/s
 *   I perf: clients done: 4 of 4, 4936 bytes in 10003 ms, 3947 kbit/s
 * Aborts are E lines ("... aborted (remote): ..."). Times are the host's
 * uptime clock (emulated time under an emulator). lwIP 2.1.3's client
 * always sends for 10 s; its server counts the first segment it receives as
 * the 24-byte iperf header only, so a server's byte count is up to one
 * segment below the client's.
 *
 * The same service runs on demand as the link test (net/link_test.h): a
 * listener on a port of the migration NIC, and clients to a peer's
 * listener, started through the management API.
 */
#ifndef HV_KERNEL_SELFTEST_PERF_H
#define HV_KERNEL_SELFTEST_PERF_H

#include <stdint.h>
#include "net/link_test.h"

#define PERF_PORT 5001u        /* = LWIPERF_TCP_PORT_DEFAULT */
#define PERF_CONNS_MAX 4u

enum perf_mode { PERF_OFF, PERF_SERVER, PERF_CLIENT };

struct perf_params {
	enum perf_mode mode;
	uint32_t peer;     /* the server the clients connect to, IPv4 in host byte order */
	unsigned conns;    /* parallel clients, 1..PERF_CONNS_MAX */
	/* Around every client run, the link test's too, when set: the owner's CPU profile of raw TCP. */
	void (*run_begin)(void);
	void (*run_end)(void);
};

/*
 * Starts what p->mode asks for (nothing when off); call after
 * net_init. The clients wait for the link and the next hop's ARP entry
 * before connecting. Returns 0 or a negative hv_err.
 */
int perf_start(const struct perf_params *p);

/* The link test for the management API; a boot-time client run shows in its status too. */
extern const struct net_link_ops perf_link_ops;

#endif
