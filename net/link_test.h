/*
 * The link test: lwIP TCP between this host and a peer, measured as an
 * operator checks a migration link before migrating (host.link-listen and
 * host.link-test in docs/openapi.yaml). The service itself is the iperf
 * harness (kernel/selftest/perf.h); the management API reaches it through
 * these ops, which kmain hands it.
 */
#ifndef HV_NET_LINK_TEST_H
#define HV_NET_LINK_TEST_H

#include <stdint.h>

enum net_link_state { NET_LINK_IDLE = 0, NET_LINK_RUNNING, NET_LINK_DONE, NET_LINK_FAILED };

/* The last or the running test from this host, and what this host's listener received. */
struct net_link_status {
	enum net_link_state state;
	uint32_t peer;               /* IPv4, host byte order */
	uint16_t peer_port;
	unsigned connections, connections_ok;
	uint64_t bytes;              /* sent by every connection together */
	uint64_t ms;                 /* of the longest connection, on this host's clock */
	uint64_t rate;               /* bytes / ms, in bytes/s */
	uint16_t listen_port;        /* 0: not listening */
	uint64_t received_sessions, received_bytes;
};

struct net_link_ops {
	/* Accepts link tests on port of the migration NIC from now on. HV_EBUSY if it already listens. */
	int (*listen)(uint16_t port);
	/* Starts connections TCP senders to peer:port. HV_EBUSY while one runs; HV_EINVAL for a bad count. */
	int (*start)(uint32_t peer, uint16_t port, unsigned connections);
	void (*status)(struct net_link_status *out);
};

#endif
