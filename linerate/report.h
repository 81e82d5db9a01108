/* One JSON object per run (linerate/README.md lists the fields), on stdout and optionally in a file. */
#ifndef LR_REPORT_H
#define LR_REPORT_H

#include <stdint.h>
#include <stdio.h>
#include "migration/mac.h"

#define LR_PAUSE_MARKS 5

struct lr_report {
	const char *role, *status, *error, *peer_error, *tracker, *pattern, *fault, *congestion;
	const char *error_detail; /* what ended a failed run, in the state machine's words; NULL if nothing did */
	const char *link_error;   /* the first connection that failed and why (the socket's error); NULL if none did */
	uint32_t connections, passes, peak_throttle, writers, downtime_limit_ms;
	uint32_t pause_retries, pauses_called_off; /* sender */
	double called_off_ms;                      /* sender: the longest pause called off */
	int zero, digest_match, converged;
	uint64_t mem, bytes, pages_sent, zero_pages, pages_written;
	uint64_t rate_mib_s, bandwidth_cap_mib_s;
	double goodput_mib_s, total_ms, downtime_ms, downtime_recv_ms;
	double cpu_s_send, cpu_s_send_process, cpu_s_recv;
	double cpu_s_per_gib_send, cpu_s_per_gib_recv;
	uint64_t digest_send, digest_recv, selfcheck_errors, writes;
	int verified; /* the receiver answered the check */
	const struct migr_mac_ops *mac; /* the record MAC the session used, NULL before one */
	/* sender: the estimate the switchover was decided on; ms from the pause to the final pass, the state, the state sent, COMMIT sent, the end (-1: not reached) */
	uint64_t expected_downtime_ms;
	/* sender: what that estimate was built from (bytes still to send, bytes on their way, the rate assumed in bytes/s, round trip) */
	uint64_t switch_remaining_bytes, switch_queued_bytes, switch_bandwidth, switch_rtt_us;
	double pause_ms[LR_PAUSE_MARKS];
	uint64_t mono_begin_us, mono_end_us; /* sender: the migration's span on CLOCK_MONOTONIC (0: not known) */
};

/* Writes r as one line to f. */
void lr_report_write(FILE *f, const struct lr_report *r);
/* To stdout, and to path if not NULL; 0 or -1 if the file could not be written. */
int lr_report_emit(const struct lr_report *r, const char *path);
/* The failed run's line on stderr: the error, its words, the failed connection, what the peer (named) said. */
void lr_report_say_failed(const struct lr_report *r, const char *peer);

#endif
