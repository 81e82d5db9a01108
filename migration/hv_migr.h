/*
 * Live migration on this host: one migration at a time, out (send) or in
 * (receive), driven by a scheduler task that runs the sender's or the
 * receiver's bounded steps beside the vCPUs and the network task. The
 * management API (net/api/mgmt.c) starts, follows, cancels and resolves
 * migrations through this; the console gets a progress line every second.
 */
#ifndef MIGR_HV_MIGR_H
#define MIGR_HV_MIGR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sched;
struct vm;

struct migr_hv_params {
	struct sched *sched;
	struct vm *store;       /* where a VM lives on this host, received or booted */
	struct vm *vm;          /* the VM booted here, or NULL (vm=none) */
	const char *secret;     /* migr.secret: "" means this host neither sends nor receives */
	const struct migr_mac_ops *mac; /* the record MAC proposed when sending (mac_pick.h) */
	/* A VM arrived (vm) or left (NULL): the monitor and the API follow it. */
	void (*vm_changed)(void *ctx, struct vm *vm);
	void *ctx;
};

int migr_hv_init(const struct migr_hv_params *p);
/* The VM on this host now, or NULL. */
struct vm *migr_hv_vm(void);

struct migr_hv_send_req {
	uint32_t ip;            /* destination, host byte order */
	uint16_t port;
	uint32_t connections;   /* 1..16 */
	uint32_t downtime_ms;
	uint64_t bandwidth;     /* bytes/s, 0: no cap */
	uint32_t max_throttle;  /* percent */
	uint64_t timeout_ms;    /* precopy limit, 0: none */
	bool abort_on_timeout;  /* else force the switchover */
	uint64_t confirm_timeout_ms; /* COMMIT to CONFIRM; 0: the sender's default */
	uint64_t reply_timeout_ms;   /* any other wait for the destination; 0: the sender's default */
	uint32_t pause_retries;      /* pauses that may be called off when they would outlast downtime_ms */
	uint32_t hold_phase;    /* a test's debug hold (migration/hold.h), 0: none */
	uint64_t hold_ms;
};

/*
 * Starts sending this host's VM. HV_EBUSY while a migration runs or a
 * committed one waits for the operator; HV_ENOENT without a running VM;
 * HV_ENOTSUP without migr.secret (receive too).
 */
int migr_hv_send(const struct migr_hv_send_req *req);
struct migr_hv_recv_req {
	uint16_t port;
	uint32_t connections;        /* 1..16 */
	uint64_t commit_timeout_ms;  /* READY to COMMIT; 0: the receiver's default */
	uint64_t idle_timeout_ms;    /* the source silent; 0: the receiver's default */
	uint32_t hold_phase;         /* a test's debug hold (migration/hold.h), 0: none */
	uint64_t hold_ms;
};

/*
 * Listens on port of the migration NIC for one VM, taking at most
 * connections data connections. HV_EBUSY while a migration runs or when
 * this host has a VM. A failed attempt leaves the host listening again,
 * with the same request.
 */
int migr_hv_receive(const struct migr_hv_recv_req *req);
/*
 * Before COMMIT: the VM resumes here (send) or is thrown away (receive).
 * HV_EBUSY after COMMIT, HV_ENOENT with nothing to cancel.
 */
int migr_hv_cancel(void);
/* After committed-unconfirmed: resume the paused copy here, or discard it (it runs on the destination). */
int migr_hv_resolve(bool resume);

enum migr_hv_role { MIGR_HV_NONE = 0, MIGR_HV_SEND, MIGR_HV_RECEIVE };
enum migr_hv_state {
	MIGR_HV_IDLE = 0,
	MIGR_HV_LISTENING,             /* receive: waiting for a source */
	MIGR_HV_RUNNING,
	MIGR_HV_DONE,
	MIGR_HV_FAILED,
	MIGR_HV_COMMITTED_UNCONFIRMED, /* send: COMMIT went out, no CONFIRM came: the operator decides */
};

/* What vm.migration-status shows. */
struct migr_hv_status {
	uint32_t role, state;
	const char *phase;             /* the state machine's phase ("precopy", "final", ...) */
	uint32_t pass, connections;
	uint64_t bytes_sent, pages_sent, zero_pages, remaining_bytes;
	uint64_t in_flight_bytes;      /* send: sent, not yet read by the destination (its last report) */
	uint64_t dirty_rate, bandwidth;        /* pages/s, bytes/s */
	uint32_t throttle_pct, peak_throttle_pct;
	uint64_t dirty_limit;
	uint64_t expected_downtime_ms, downtime_ms; /* downtime: pause to CONFIRM (send), final pass to COMMIT (receive) */
	uint64_t elapsed_ms;
	const char *policy;            /* the reason of the policy's last decision */
	const char *failure;           /* "" unless failed: this host's error, or the peer's */
	const char *peer_failure;
	uint64_t pages_written, bytes_in; /* receive */
	uint64_t attempts;             /* migrations started (send) or accepted (receive) here */
	uint32_t pauses_called_off;    /* pauses called off before COMMIT, the VM resumed on the source */
	uint64_t called_off_ms;        /* send: the longest of them, on this clock */
	/* send: page data sent (zero pages excluded), when its first and last byte went to the transport
	 * (ms since the start, this host's clock), and the goodput over that window in bytes/s */
	uint64_t page_bytes_sent, memory_first_ms, memory_last_ms, goodput;
};

void migr_hv_status(struct migr_hv_status *out);
/* A state's name for the API and the console: "idle", "listening", "running", ... */
const char *migr_hv_state_str(uint32_t state);
const char *migr_hv_role_str(uint32_t role);

#endif
