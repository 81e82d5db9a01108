/*
 * The receiving side of a migration: a state machine on the transport,
 * memory and clock ports and the destination VM hooks. The owner calls
 * migr_receiver_step() whenever bytes may have arrived and reports
 * accepted or lost connections with migr_receiver_link(). Every buffer is
 * the caller's.
 *
 * Trust: every record is decoded and checked whole (MAC, shape, ranges
 * against the VM's memory, per-page hashes) before anything of it is
 * applied; a record that fails ends the migration and nothing of it is
 * written. The VM is discarded on any failure before COMMIT, and when
 * COMMIT does not come within the commit timeout after READY.
 * On failure the receiver closes its connections (after its ERROR); once
 * DONE (CONFIRM handed to the transport), the owner may close them all at
 * once: A needs nothing more, and it waits for CONFIRM on control alone,
 * however soon the ends of the data connections reach it.
 */
#ifndef MIGR_RECEIVER_H
#define MIGR_RECEIVER_H

#include <stddef.h>
#include <stdint.h>
#include "migration/hold.h"
#include "migration/link.h"
#include "migration/mac.h"
#include "migration/port.h"
#include "migration/stream.h"

enum migr_recv_status {
	MIGR_RECV_RUNNING = 0,
	MIGR_RECV_DONE,   /* COMMIT received, the VM runs here, CONFIRM sent */
	MIGR_RECV_FAILED, /* nothing kept */
};

enum migr_recv_phase {
	MIGR_RP_HELLO = 0,
	MIGR_RP_AUTH,
	MIGR_RP_HEADER,
	MIGR_RP_TRANSFER,
	MIGR_RP_COMMIT, /* READY sent */
	MIGR_RP_START,  /* COMMIT in: the VM is this host's whatever befalls the link */
	MIGR_RP_END,
};

struct migr_receiver_cfg {
	const uint8_t *secret;
	size_t secret_len;
	const struct migr_mac_ops *mac_ops; /* the one record MAC taken; NULL: any sound one the source proposes */
	uint32_t max_connections;   /* cap on data connections, 1..MIGR_CONN_MAX */
	uint64_t commit_timeout_ms; /* READY to COMMIT; 0: 10 s */
	uint64_t idle_timeout_ms;   /* no record at all for this long; 0: 30 s */
	uint32_t hold_phase;        /* a test's debug hold (hold.h): MIGR_HOLD_READY or _START; 0: none */
	uint64_t hold_ms;
};

struct migr_receiver_ports {
	struct migr_transport transport;
	struct migr_memory memory; /* usable once create() succeeded */
	struct migr_clock clock;
	const struct migr_dest_vm_ops *vm;
	void *vm_ctx;
};

struct migr_receiver_bufs {
	uint8_t *data_in[MIGR_CONN_MAX]; /* per data slot, MIGR_REC_MAX bytes each, up to max_connections */
	uint64_t *hashes;                /* per page: hash of what was verified and written */
	uint64_t npages;                 /* capacity of hashes: the largest VM this host takes */
	/*
	 * Optional, npages bits: which pages the stream wrote. With it, the VM's memory need not start
	 * zeroed: after the first pass, which sends all memory, any page it did not write is zeroed here.
	 * Without it, the VM's memory must start zeroed.
	 */
	uint64_t *written;
};

struct migr_recv_progress {
	uint32_t phase, pass;
	uint64_t pages_written, zero_pages, bytes_in;
	uint64_t pages_filled; /* zeroed after the first pass because it did not send them (0 from a sound sender) */
	uint64_t downtime_ms; /* first final-pass record to CONFIRM, on this clock */
	/* The switchover on this clock, in ticks: final pass begun, its pages all in, READY queued, COMMIT taken. */
	uint64_t t_final, t_pages, t_ready, t_commit;
	uint32_t called_off;  /* pauses the source called off before COMMIT (RESUMED) */
	uint64_t first_page_ticks, last_page_ticks; /* page data applied first and last, this clock: its goodput */
	uint32_t error;       /* enum migr_error_code, 0 if none */
	uint32_t peer_error;
	char detail[MIGR_DETAIL_MAX]; /* what ended it, in words (record type and phase), "" if nothing did */
};

struct migr_receiver {
	struct migr_receiver_cfg cfg;
	struct migr_receiver_ports p;
	struct migr_receiver_bufs b;
	uint32_t status, phase, granted;
	uint8_t created, key_ready;
	struct migr_header header;
	uint64_t npages, zero_hash;
	struct migr_link link[MIGR_CONN_MAX + 1]; /* by slot */
	uint8_t slot_index[MIGR_CONN_MAX + 1];    /* data index a slot carries, 0: not bound */
	uint8_t index_slot[MIGR_CONN_MAX + 1];
	uint8_t at_barrier[MIGR_CONN_MAX + 1];    /* by index: PASS_END of the open pass seen */
	uint64_t conn_pages[MIGR_CONN_MAX + 1];   /* by index: pages in the open pass */
	uint32_t pass;                            /* last complete pass */
	uint8_t pass_open, pass_final, final_done;
	uint64_t pass_expected, pass_got;
	uint64_t vcpus_seen;
	uint8_t time_seen;
	struct migr_mac mac;
	struct migr_hold hold;
	uint8_t nonce_a[MIGR_NONCE_SIZE], nonce_b[MIGR_NONCE_SIZE];
	uint8_t session_id[MIGR_SESSION_ID_SIZE];
	uint64_t t_wait, t_final;
	uint64_t t_step; /* the present step's start: data records stop after MIGR_RECV_STEP_US of it */
	uint32_t rr;     /* the connection a step serves first, less one, modulo max_connections */
	uint32_t top;    /* the highest slot a link event named: the steps' loops end there */
	uint32_t step_records; /* data records the present step applied */
	uint64_t t_report, reported; /* the last PROGRESS: when, and the data bytes it told */
	struct migr_recv_progress prog;
	uint8_t ctl_out[1024];
	uint8_t ctl_in[MIGR_REC_SIZE(MIGR_VCPU_STATE_MAX)];
};

/*
 * How long one step applies data records before it returns, on this host's
 * clock. The owner calls again at once while input waits; meanwhile the
 * host's other tasks (the NIC and TCP, the API) get their turn.
 */
#define MIGR_RECV_STEP_US 2000u

/* A phase's name for status reports ("transfer", "wait-commit", ...). */
const char *migr_recv_phase_str(uint32_t phase);

int migr_receiver_start(struct migr_receiver *r, const struct migr_receiver_cfg *cfg,
			const struct migr_receiver_ports *p, const struct migr_receiver_bufs *b);
uint32_t migr_receiver_step(struct migr_receiver *r);
/* slot 0 is the first connection accepted (control), 1.. the next ones. */
void migr_receiver_link(struct migr_receiver *r, uint32_t slot, uint32_t event);

#endif
