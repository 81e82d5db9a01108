/*
 * The delay relay: a TCP relay that holds each direction's bytes for a set
 * time, the latency a link would add (this kernel has no netem). Bytes move
 * socket -> pipe -> socket with splice(2), so they never enter user space:
 * pipes are the delay line (page references to the received data, up to
 * its capacity: line.h), and a delayq per direction holds the release times.
 * The relay ends TCP on both sides, so TCP's own round trip stays short: the
 * delay shows in the round trips of the protocol above it (a request and its
 * answer), and the line's capacity bounds the bytes in flight per direction
 * (throughput <= capacity / delay), as a link's buffer does.
 */
#ifndef RELAY_RELAY_H
#define RELAY_RELAY_H

#include <stdatomic.h>
#include <stdint.h>

struct relay_params {
	uint64_t delay_ns;   /* each way; 0 passes bytes through at once */
	uint64_t grain_ns;   /* arrivals this close share one release time */
	uint64_t line_bytes; /* delay line capacity per direction: at least rate x delay */
};

/* Bytes forwarded by every connection so far, per direction (client to target, target to client). */
struct relay_totals {
	_Atomic uint64_t conns, up, down, failed;
};

/*
 * Relays between the accepted socket a and the connected socket b until
 * both directions have ended (or one fails), then closes both. Takes
 * ownership of a and b. Blocks: run it on its own thread.
 */
void relay_conn_run(int a, int b, const struct relay_params *p, struct relay_totals *t);

#endif
