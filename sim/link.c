/* The link model: a line shared by N connections, pipelined or stop-and-wait per chunk. */
#include <math.h>
#include "sim/sim.h"

/*
 * Stop-and-wait: a connection sends a chunk at its share of the line, then
 * waits one round trip for the acknowledgement, so it moves
 * chunk / (chunk / share + rtt) bytes/s (the bound Cloud Hypervisor's
 * multi-connection sender states: seeds/001_2bcd047a4eacfd70.txt, "effective_throughput =
 * chunk_size / (chunk_size / throughput_per_connection + round_trip_time)").
 * Pipelined: a connection keeps at most its window in flight, so it moves
 * at most window / rtt.
 */
static double conn_rate(const struct sim_link *l)
{
	double share = l->bandwidth / l->conns;

	if (l->mode == SIM_STOP_WAIT)
		return l->chunk / (l->chunk / share + l->rtt);
	if (l->rtt > 0 && l->window / l->rtt < share)
		return l->window / l->rtt;
	return share;
}

double sim_link_rate(const struct sim_link *l)
{
	return conn_rate(l) * l->conns;
}

/*
 * A burst (the final pass): chunks go round-robin over the connections, so
 * the busiest one carries ceil(chunks / conns) of them, each a transfer plus
 * one round trip; a pipelined burst pays one round trip for its last byte's
 * acknowledgement.
 */
double sim_link_burst_s(const struct sim_link *l, double bytes)
{
	double share = l->bandwidth / l->conns, chunks, rounds;

	if (bytes <= 0)
		return l->rtt;
	if (l->mode != SIM_STOP_WAIT)
		return bytes / sim_link_rate(l) + l->rtt;
	chunks = ceil(bytes / l->chunk);
	rounds = ceil(chunks / l->conns);
	return fmin(rounds * l->chunk, bytes) / share + rounds * l->rtt;
}
