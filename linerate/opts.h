/*
 * The command line of ferry-migrate (linerate/README.md). Parsing is pure:
 * argv in, a filled struct or one message out, so that the host unit test
 * checks every refusal without running anything.
 */
#ifndef LR_OPTS_H
#define LR_OPTS_H

#include <stddef.h>
#include <stdint.h>

#define LR_MEM_MAX (8ull << 30)
#define LR_WRITERS_MAX 16u
#define LR_PAUSE_RETRIES_MAX 8u /* as the hypervisor's API allows */
#define LR_PAUSE_RETRIES_DEFAULT 2u /* and as its default */
#define LR_SECRET_MIN 16u
#define LR_SECRET_MAX 64u
#define LR_SECRET_ENV "FERRY_MIGR_SECRET"
#define LR_EXIT_USAGE 2
/* Where the kernel offers it, else the system's: see linerate/README.md, "TCP congestion control". */
#define LR_CONGESTION_DEFAULT "cubic"

enum lr_role { LR_ROLE_SEND = 1, LR_ROLE_RECV };
enum lr_pattern { LR_PAT_NONE = 0, LR_PAT_SEQ, LR_PAT_RANDOM, LR_PAT_HOT };
enum lr_tracker_choice { LR_TRACK_AUTO = 0, LR_TRACK_PAGEMAP, LR_TRACK_SELF };
/* Test-only ways for the sender to break its own stream, after a correct handshake or in it. */
enum lr_fault {
	LR_FAULT_NONE = 0,
	LR_FAULT_FORGED,    /* a page record whose bytes changed after its MAC was computed */
	LR_FAULT_MALFORMED, /* a record with a correct MAC whose body contradicts its own length */
	LR_FAULT_OUTSIDE,   /* a correct, MAC'd page record for the page just past the VM's memory */
	LR_FAULT_NO_SECRET, /* the handshake proven with a secret the destination does not hold */
};

struct lr_opts {
	uint32_t role;
	uint32_t connections;   /* 1..16 */
	uint64_t mem;           /* bytes, multiple of 4096, up to LR_MEM_MAX */
	char host[64];          /* send: --to; recv: --listen */
	uint16_t port;
	uint8_t secret[LR_SECRET_MAX];
	size_t secret_len;
	const char *json;       /* NULL: stdout only */
	uint32_t pattern;
	uint64_t rate_mib_s;    /* 0: flat out */
	uint32_t writers;       /* 1..16 (0 with pattern none) */
	uint32_t hot_pct;       /* hot set, % of each writer's slice */
	int zero;               /* guest memory starts all zero */
	uint32_t downtime_ms;
	uint32_t pause_retries; /* pauses that may be called off before COMMIT (migration/sender.h) */
	uint64_t bandwidth_mib_s; /* 0: no cap */
	uint32_t max_throttle;
	uint64_t max_precopy_ms;
	int abort_on_timeout;
	uint32_t tracker;
	uint32_t mac_alg;       /* enum migr_mac_alg the sender proposes; 0: the faster here (mac_pick.h) */
	uint32_t fault;
	uint32_t vcpus;         /* the VM's shape as the header describes it */
	uint64_t tsc_hz;
	uint32_t chunk_kib;     /* the sender's chunk size */
	uint32_t sockbuf_kib;   /* SO_SNDBUF/SO_RCVBUF; 0: the kernel's autotuning */
	char congestion[16];    /* TCP congestion control of every connection (linerate/README.md) */
	int congestion_given;   /* from the command line: not offered is an error, not a fallback */
	uint32_t timeout_s;     /* the whole run, a hang fails */
	int quiet;
};

/*
 * Fills o from argv (argv[1] is the role). Returns 0, or LR_EXIT_USAGE with
 * a one-line reason in err. getenv is passed in so tests control it; the
 * secret file is read here (its content never appears in err).
 */
int lr_opts_parse(int argc, char *const argv[], struct lr_opts *o, char *err, size_t errlen,
		  const char *(*env)(const char *));
/* A size with an optional K/M/G suffix ("64M"); -1 if malformed. */
int lr_parse_size(const char *s, uint64_t *out);

#endif
