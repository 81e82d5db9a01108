/*
 * The management API: a REST API in the shape of Cloud Hypervisor's, under
 * /api/v1/ (docs/openapi.yaml). Pure code: it takes a parsed request
 * (net/api/http.h) and writes the whole HTTP response into a caller's buffer;
 * it reaches the hypervisor only through struct api_backend, so the unit
 * tests drive it with fakes. No networking here.
 *
 * Every request must carry "Authorization: Bearer <token>". HEAD is answered
 * wherever GET is, with the same head and no body. Handlers decode
 * and validate the whole request into a plain struct first and only then
 * invoke one backend action (decode, then invoke): bad input changes nothing.
 */
#ifndef HV_NET_API_API_H
#define HV_NET_API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kernel/guest_abi.h"
#include "kernel/lib/uuid.h"
#include "net/api/http.h"
#include "net/link_test.h"
#include "net/net.h"

#define API_VERSION "0.1.0"
#define API_FEATURES_MAX 32
#define API_STOP_REASON_MAX 200
#define API_CONNECTIONS_MAX 16   /* data connections of one migration */
#define API_JSON_TOKENS 64       /* jsmn tokens per request body */

#define API_NICS_MAX 2

struct api_host_info {
	uint64_t uptime_ms;
	uint64_t mem_total_bytes;
	uint64_t mem_free_bytes;
	unsigned cpus;
	uint64_t tsc_hz;
	unsigned feature_count;
	const char *features[API_FEATURES_MAX];  /* CPU features, e.g. "vmx", "ept", "pml" */
	unsigned nic_count;
	struct net_nic_info nics[API_NICS_MAX];  /* the network's own view (net/net.h) */
};

enum api_vm_state { API_VM_RUNNING, API_VM_PAUSED, API_VM_STOPPED, API_VM_FINISHED };

struct api_vcpu_info {
	uint64_t exits;              /* VM exits, all reasons */
	unsigned throttle_pct;
	uint64_t granted_ticks;      /* TSC ticks the vCPU ran */
	uint64_t throttled_ticks;    /* TSC ticks of fair share withheld by the throttle */
};

struct api_vm_info {
	uint8_t uuid[UUID_LEN];      /* the VM's identity, the same on every host it runs on */
	enum api_vm_state state;
	char stop_reason[API_STOP_REASON_MAX]; /* why it stopped, or "" */
	uint64_t memory_bytes;
	uint64_t runtime_ms;         /* since the VM was created */
	uint64_t tsc_hz;             /* to read the tick counts */
	unsigned throttle_pct;       /* the VM-wide throttle */
	unsigned throttle_max;       /* the VM's ceiling: larger requests are 400 */
	uint64_t dirty_limit;        /* pages/s, 0 = off */
	uint64_t dirty_rate;         /* pages/s over the last second */
	unsigned vcpu_count;         /* <= HV_MAX_VCPUS */
	struct api_vcpu_info vcpus[HV_MAX_VCPUS];
};

/* PUT vm.throttle, decoded. */
enum api_throttle_kind { API_THROTTLE_VM, API_THROTTLE_VCPU, API_THROTTLE_DIRTY_LIMIT };
struct api_throttle {
	enum api_throttle_kind kind;
	int vcpu;                    /* API_THROTTLE_VCPU */
	unsigned pct;                /* API_THROTTLE_VM, API_THROTTLE_VCPU */
	uint64_t dirty_limit;        /* API_THROTTLE_DIRTY_LIMIT */
};

/* An IPv4 endpoint, address in host byte order (10.0.0.1 = 0x0a000001). */
struct api_endpoint {
	uint32_t ip;
	uint16_t port;
};

enum api_on_timeout { API_ON_TIMEOUT_ABORT, API_ON_TIMEOUT_FORCE };

/*
 * A debug option for tests, "debug_hold": "<phase>:<ms>": one switchover
 * phase held open for ms, so that a fault can land in it (docs/openapi.yaml).
 * switchover and commit are the sender's, ready and start the receiver's.
 */
enum api_hold { API_HOLD_NONE, API_HOLD_SWITCHOVER, API_HOLD_COMMIT, API_HOLD_READY, API_HOLD_START };
#define API_HOLD_MS_MAX 60000
struct api_debug_hold {
	enum api_hold phase;
	uint32_t ms;
};
#define API_TIMEOUT_MS_MAX 3600000 /* of the switchover's waits */

/* PUT vm.send-migration, decoded; fields left out of the body keep these defaults. */
#define API_SEND_DEFAULT_CONNECTIONS 1
#define API_SEND_DEFAULT_DOWNTIME_MS 300
#define API_SEND_DEFAULT_MAX_THROTTLE 99
#define API_SEND_DEFAULT_PAUSE_RETRIES 2
#define API_PAUSE_RETRIES_MAX 8
struct api_send_migration {
	struct api_endpoint destination;   /* required */
	unsigned connections;              /* 1..API_CONNECTIONS_MAX */
	uint64_t downtime_ms;              /* 1..60000 */
	uint64_t bandwidth;                /* bytes/s; 0 = unlimited */
	unsigned max_throttle;             /* 0..99 */
	uint64_t timeout_ms;               /* 0 = none */
	enum api_on_timeout on_timeout;    /* what happens when timeout_ms passes */
	uint64_t confirm_timeout_ms;       /* COMMIT to CONFIRM; 0 = the default (10 s) */
	uint64_t reply_timeout_ms;         /* any other wait for the destination; 0 = the default (30 s) */
	unsigned pause_retries;            /* pauses that may be called off before COMMIT, 0..8 */
	struct api_debug_hold hold;
};

/* PUT vm.receive-migration, decoded. */
struct api_receive_migration {
	struct api_endpoint listen;        /* required */
	unsigned connections;              /* 1..API_CONNECTIONS_MAX, default 1 */
	uint64_t commit_timeout_ms;        /* READY to COMMIT; 0 = the default (10 s) */
	uint64_t idle_timeout_ms;          /* the source silent; 0 = the default (30 s) */
	struct api_debug_hold hold;
};

/* GET vm.migration-status: the last or the running migration of this host. */
struct api_migration_status {
	const char *role;            /* "none", "send", "receive" */
	const char *state;           /* "idle", "listening", "running", "done", "failed", "committed-unconfirmed" */
	const char *phase;           /* the state machine's phase, or "" */
	const char *policy;          /* why the policy decided as it last did, or "" */
	const char *failure;         /* this host's error, or "" */
	const char *peer_failure;    /* the error the peer sent, or "" */
	unsigned pass, connections, throttle_pct, peak_throttle_pct;
	uint64_t bytes_sent, pages_sent, zero_pages, remaining_bytes;
	uint64_t in_flight_bytes;    /* send: sent, not yet read by the destination */
	uint64_t dirty_rate;         /* pages/s */
	uint64_t bandwidth;          /* bytes/s */
	uint64_t dirty_limit;        /* pages/s, 0 = off */
	uint64_t expected_downtime_ms; /* UINT64_MAX: not known yet */
	uint64_t downtime_ms, elapsed_ms;
	uint64_t pages_written, bytes_in; /* receive */
	uint64_t attempts;
	unsigned pauses_called_off;  /* pauses called off before COMMIT: the VM resumed on the source */
	uint64_t called_off_ms;      /* send: the longest of them */
	/* send: page data (zero pages excluded) and when its first and last byte went out, in ms since the
	 * start on this host's clock; goodput is page bytes over that window, in bytes/s (0 until known) */
	uint64_t page_bytes_sent, memory_first_ms, memory_last_ms, goodput;
};

/* PUT host.link-test, decoded: TCP senders towards a peer's link-test listener. */
#define API_LINK_CONNECTIONS_MAX 4
struct api_link_test {
	struct api_endpoint peer;          /* required */
	unsigned connections;              /* 1..API_LINK_CONNECTIONS_MAX, default 1 */
};

/* PUT vm.migration-resolve: the operator's decision after committed-unconfirmed. */
enum api_resolve { API_RESOLVE_DISCARD, API_RESOLVE_RESUME };

/*
 * The hypervisor, as the API sees it. Every callback returns 0 or a negative
 * hv_err (kernel/lib/err.h); a NULL callback makes its endpoint answer 501.
 * Actions receive only validated arguments.
 */
struct api_backend {
	int (*host_info)(void *ctx, struct api_host_info *out);
	int (*vm_info)(void *ctx, struct api_vm_info *out);
	/* vcpu -1 = every vCPU of the VM. */
	int (*set_throttle)(void *ctx, int vcpu, unsigned pct);
	int (*set_dirty_limit)(void *ctx, uint64_t pages_per_s);
	int (*send_migration)(void *ctx, const struct api_send_migration *req);
	int (*receive_migration)(void *ctx, const struct api_receive_migration *req);
	int (*migration_cancel)(void *ctx);
	int (*migration_status)(void *ctx, struct api_migration_status *out);
	int (*migration_resolve)(void *ctx, enum api_resolve action);
	/* The link test (net/link_test.h): listen on a port of the migration NIC, test towards a peer, read. */
	int (*link_listen)(void *ctx, uint16_t port);
	int (*link_test)(void *ctx, const struct api_link_test *req);
	int (*link_status)(void *ctx, struct net_link_status *out);
	void *ctx;
};

struct api {
	const char *token;           /* the bearer token; empty refuses every request */
	size_t token_len;
	const char *version;         /* reported by vmm.ping */
	const struct api_backend *be;
};

/*
 * Answers one complete request (http_parse() returned HTTP_DONE): the
 * whole HTTP response goes into out. Returns its length, or HV_ERANGE when
 * cap cannot hold even an error response (at least 512 bytes always can).
 */
int api_serve(const struct api *api, const struct http_req *req, char *out, size_t cap);

/* The response to a request the parser rejected (HTTP_BAD): status, reason, then close. */
int api_serve_bad(const struct http_req *req, char *out, size_t cap);

/* Whether req carries the configured bearer token: what makes a connection the operator's. */
bool api_authorized(const struct api *api, const struct http_req *req);

/* Constant-time comparison of a presented token with the configured one. */
bool api_token_ok(const char *want, size_t want_len, const char *got, size_t got_len);

/* Parses "a.b.c.d:port" (decimal, port 1..65535). HV_EINVAL when malformed. */
int api_parse_endpoint(const char *s, size_t len, struct api_endpoint *ep);

#endif
