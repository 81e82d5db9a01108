/*
 * The sending side of a migration: a state machine on the ports of port.h
 * that knows nothing else of the hypervisor. The owner calls
 * migr_sender_step() whenever it may do work (each step does a bounded
 * amount and never blocks) and delivers the transport's link events with
 * migr_sender_link(). Every buffer is the caller's: nothing is allocated.
 *
 * Ownership of the VM (docs/migration-stream.md): until COMMIT is sent any
 * failure resumes the VM here; once COMMIT is sent the sender never
 * resumes it by itself: without CONFIRM it ends in
 * MIGR_SEND_COMMITTED_UNCONFIRMED and the operator decides (the confirm
 * timeout counts from COMMIT, a debug hold included). The sender
 * closes its connections when it ends (after END, or after its ERROR).
 */
#ifndef MIGR_SENDER_H
#define MIGR_SENDER_H

#include <stddef.h>
#include <stdint.h>
#include "migration/hold.h"
#include "migration/link.h"
#include "migration/mac.h"
#include "migration/policy.h"
#include "migration/port.h"
#include "migration/stream.h"

enum migr_send_status {
	MIGR_SEND_RUNNING = 0,
	MIGR_SEND_DONE,                  /* B confirmed: the VM runs there */
	MIGR_SEND_FAILED,                /* the VM runs here again */
	MIGR_SEND_COMMITTED_UNCONFIRMED, /* COMMIT sent, no CONFIRM: paused copy kept */
};

enum migr_send_phase {
	MIGR_SP_CONNECT = 0,
	MIGR_SP_HELLO,
	MIGR_SP_ACK,
	MIGR_SP_DATA_CONNECT,
	MIGR_SP_PRECOPY,
	MIGR_SP_FINAL,   /* VM paused, last pages */
	MIGR_SP_STATE,   /* vCPU, device, time state and digest */
	MIGR_SP_READY,   /* waiting for READY */
	MIGR_SP_CONFIRM, /* COMMIT sent, waiting for CONFIRM */
	MIGR_SP_END,
};

struct migr_sender_cfg {
	struct migr_limits limits;
	uint32_t connections; /* data connections asked for, 1..MIGR_CONN_MAX */
	uint8_t uuid[16];
	uint32_t vcpus;
	uint64_t cpu_features;
	uint64_t tsc_hz;
	const uint8_t *secret;
	size_t secret_len;
	const struct migr_mac_ops *mac_ops;
	uint64_t confirm_timeout_ms; /* after COMMIT; 0: 10 s */
	uint64_t reply_timeout_ms;   /* any other wait for B; 0: 30 s */
	uint32_t hold_phase;         /* a test's debug hold (hold.h): MIGR_HOLD_SWITCHOVER or _COMMIT; 0: none */
	uint64_t hold_ms;
	uint64_t state_bytes;        /* what the pause sends besides pages (vCPU, device, time and
	                                digest records), for the policy's estimate; 0: unknown */
	uint32_t pause_retries;      /* pauses that may be called off before COMMIT when they would
	                                outlast the downtime limit (the VM runs here again and precopy
	                                goes on); 0: a pause runs to its end whatever it lasts */
};

/* A pause is called off this long before the limit at the least: COMMIT's round trip and B's start come after. */
#define MIGR_CALL_OFF_MARGIN_MS 20u
/* After one, the policy's target is divided by the overrun, by at most this much (percent: 200 halves it). */
#define MIGR_CALL_OFF_OVERRUN_MAX 200u

struct migr_sender_ports {
	struct migr_transport transport;
	struct migr_memory memory;
	struct migr_dirty dirty;
	struct migr_throttle throttle;
	struct migr_clock clock;
	const struct migr_source_vm_ops *vm;
	void *vm_ctx;
};

/* Caller-owned memory, sized for the VM. */
struct migr_sender_bufs {
	uint64_t *bitmap;  /* (npages + 63) / 64 words */
	uint64_t *hashes;  /* npages: per-page hash of what was sent last */
	uint64_t npages;   /* capacity of both, at least memory size / 4096 */
	uint8_t *chunks;   /* window * chunk_size bytes */
	size_t chunk_size; /* at least MIGR_SEND_CHUNK_MIN */
	uint32_t window;   /* chunks in flight at most, 1..MIGR_CONN_MAX */
};

#define MIGR_SEND_CHUNK_MIN \
	(MIGR_REC_SIZE(MIGR_BODY_MAX) + MIGR_REC_SIZE(MIGR_ZERO_PAGES_LEN(MIGR_ZERO_MAX)))
/* Data writes remembered to time B's PROGRESS reports against: each pump that wrote is one. */
#define MIGR_SEND_WRITTEN_LOG 256u

/* A chunk carries what the link moves in this long at the measured bandwidth, at least MIGR_SEND_FILL_MIN. */
#define MIGR_SEND_CHUNK_MS 20u
#define MIGR_SEND_FILL_MIN (16u * 1024u)
#define MIGR_SEND_CTL_OUT (4 * MIGR_REC_SIZE(MIGR_VCPU_STATE_MAX))
#define MIGR_SEND_TAIL 128u

/* What an operator sees (status, progress line). */
struct migr_send_progress {
	uint32_t phase, pass;
	uint64_t bytes_sent;    /* everything the transport took */
	uint64_t pages_sent;    /* as page data */
	uint64_t zero_pages;
	uint64_t remaining_bytes;  /* after the pause: pages not yet handed to the transport; 0 at the end */
	uint64_t dirty_rate, bandwidth;
	uint32_t throttle_pct, peak_throttle_pct;
	uint64_t dirty_limit;
	uint64_t expected_downtime_ms; /* after the switchover: the estimate it was decided on */
	uint64_t in_flight_bytes; /* sent, not yet read by B by its last PROGRESS (0 without one, and at the end) */
	uint64_t downtime_ms;   /* pause to CONFIRM, on this clock */
	uint32_t called_off;    /* pauses called off before COMMIT (pause_retries) */
	uint64_t called_off_ms; /* the longest of them, pause to resume, on this clock */
	uint32_t called_off_phase; /* where the last one stood (enum migr_send_phase) */
	uint32_t rtt_us;        /* round trip: the handshake's, or the least a PROGRESS report showed since */
	uint64_t elapsed_ms;
	uint32_t reason;        /* enum migr_reason of the last decision */
	uint64_t decisions;     /* policy calls */
	uint32_t error;         /* enum migr_error_code, 0 if none */
	uint32_t peer_error;    /* code of an ERROR B sent, 0 if none */
	char detail[MIGR_DETAIL_MAX]; /* what ended it, in words (record type and phase), "" if nothing did */
	uint64_t first_byte_ticks, last_page_ticks; /* goodput window */
};

struct migr_send_chunk {
	uint32_t conn; /* 0: free */
	size_t len, off;
};

struct migr_sender {
	struct migr_sender_cfg cfg;
	struct migr_sender_ports p;
	struct migr_sender_bufs b;
	uint32_t status, phase, granted;
	uint8_t paused, committed, switching, key_ready;
	uint8_t draining; /* the policy holds new pages back until what is on its way has crossed */
	uint64_t npages, cursor, pass_pages, pass_done_pages;
	uint64_t conn_pages[MIGR_CONN_MAX + 1];
	uint8_t pass_end_queued[MIGR_CONN_MAX + 1];
	uint32_t rr;
	struct migr_send_chunk chunk[MIGR_CONN_MAX];
	struct migr_link link[MIGR_CONN_MAX + 1];
	struct migr_mac mac;
	struct migr_hold hold;
	uint8_t nonce_a[MIGR_NONCE_SIZE], nonce_b[MIGR_NONCE_SIZE];
	uint8_t session_id[MIGR_SESSION_ID_SIZE];
	uint64_t zero_hash;
	uint64_t zl[MIGR_ZERO_MAX];
	uint32_t zl_n;
	uint32_t read_run; /* with read_pages: pages read at once, shorter where zero pages cut runs */
	/* time, in clock ticks */
	uint64_t t_start, t_wait, t_pass, t_policy, t_pause, t_control, t_hello;
	uint64_t phase_at[MIGR_SP_END + 1]; /* the end of the step that first saw each phase: the switchover's timeline */
	struct migr_stats switch_stats; /* what the switchover was decided on, for its timeline */
	struct migr_decision switch_decision; /* and the decision itself */
	uint64_t free_rate; /* pages/s, the highest measured within a pass with no throttle or limit in force */
	uint64_t harvest_ticks; /* the last harvest took this long: the pause makes one more */
	uint64_t samples_t[5], samples_bytes[5], samples_pending[5];
	uint8_t samples_dry[5];  /* the window that ended at samples_t[i] had the sender dry a quarter of it or more */
	uint8_t dry;             /* the last step ended with nothing left to send */
	uint64_t t_step, window_dry; /* the last step's start; ticks dry in the current window */
	uint64_t pass_bytes0, pass_dry; /* bytes sent when the pass began; ticks it has been dry since */
	uint32_t state_i, dev_i;
	uint8_t time_sent;
	uint8_t resumed_owed; /* a called-off pause's pass goes on live: RESUMED follows its end */
	uint32_t stale_ready; /* READYs still to come for called-off pauses, to be ignored */
	uint32_t overrun_pct; /* how much longer than estimated a called-off pause ran (policy input) */
	uint64_t last_bytes_t;
	uint64_t peer_read; /* data bytes B had read by its last PROGRESS (prog.in_flight_bytes: the rest); 0: none yet */
	uint64_t t_peer_read; /* when that report was read here */
	/* When the data connections' bytes reached each count (ascending), the last MIGR_SEND_WRITTEN_LOG of them. */
	uint64_t written_bytes[MIGR_SEND_WRITTEN_LOG], written_t[MIGR_SEND_WRITTEN_LOG];
	uint32_t written_n;
	struct migr_send_progress prog;
	uint8_t ctl_out[MIGR_SEND_CTL_OUT];
	uint8_t ctl_in[MIGR_REC_SIZE(MIGR_DEC_MIN_BODY)];
	uint8_t tail[MIGR_CONN_MAX][MIGR_SEND_TAIL];
	uint8_t scratch[MIGR_VCPU_STATE_MAX];
};

/* A phase's name for status reports ("precopy", "final", ...). */
const char *migr_send_phase_str(uint32_t phase);

/* Checks the configuration and buffers; opens the control connection. */
int migr_sender_start(struct migr_sender *s, const struct migr_sender_cfg *cfg,
		      const struct migr_sender_ports *p, const struct migr_sender_bufs *b);
/* Does what can be done now; returns the status (enum migr_send_status). */
uint32_t migr_sender_step(struct migr_sender *s);
void migr_sender_link(struct migr_sender *s, uint32_t conn, uint32_t event);
/* Operator's cancel: before COMMIT the VM resumes here; after it, nothing changes. */
void migr_sender_cancel(struct migr_sender *s);
/*
 * The operator's decision in MIGR_SEND_COMMITTED_UNCONFIRMED, after asking
 * B whether it runs the VM: resume it here (B does not run it; the status
 * becomes FAILED) or release it (B runs it; DONE). HV_EINVAL in any other state.
 */
int migr_sender_resolve(struct migr_sender *s, int resume);

#endif
