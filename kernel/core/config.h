/*
 * The host's configuration, parsed from the kernel command line
 * (README.md, "Command line"). Pure: no hardware, no globals. Only
 * kernel/main.c reads it: it hands each subsystem its own parameters.
 */
#ifndef HV_KERNEL_CORE_CONFIG_H
#define HV_KERNEL_CORE_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "kernel/guest_abi.h"
#include "kernel/lib/log.h" /* enum hv_log_level */
#include "kernel/lib/uuid.h"

#define CONFIG_MEM_MIN (8ull << 20)
#define CONFIG_MEM_MAX (2048ull << 20)
#define CONFIG_MEM_DEFAULT (32ull << 20)
#define CONFIG_SLICE_US_MIN 50u
#define CONFIG_SLICE_US_MAX 100000u
#define CONFIG_ERR_MAX 160
#define CONFIG_DIRTY_CHECK_MAX 60000u
#define CONFIG_DIRTY_ROUNDS_DEFAULT 10u
#define CONFIG_DIRTY_ROUNDS_MAX 100000u
#define CONFIG_THROTTLE_MAX 99u
#define CONFIG_PERIOD_US_MIN 1000u
#define CONFIG_PERIOD_US_MAX 1000000u
#define CONFIG_PERIOD_US_DEFAULT 20000u
#define CONFIG_DIRTY_LIMIT_MAX 100000000u
#define CONFIG_STEP_MS_MIN 100u
#define CONFIG_STEP_MS_MAX 60000u
#define CONFIG_STEP_MS_DEFAULT 1000u
#define CONFIG_API_TOKEN_MIN 16u
#define CONFIG_API_TOKEN_MAX 64u
#define CONFIG_API_PORT_DEFAULT 8080u
#define CONFIG_MIGR_SECRET_MIN 16u
#define CONFIG_MIGR_SECRET_MAX 64u
/* networking (net.*) */
#define CONFIG_NET_NICS_MAX 2u
/* the iperf service (net.iperf*) */
#define CONFIG_NET_IPERF_CONNS_MAX 4u
enum config_iperf { CONFIG_IPERF_OFF = 0, CONFIG_IPERF_SERVER = 1, CONFIG_IPERF_CLIENT = 2 };

/* throttle.bench=: which measurement the throttle benchmark task makes. */
enum throttle_bench_kind {
	THROTTLE_BENCH_OFF = 0,
	THROTTLE_BENCH_QUICK = 1, /* targets 0, 50, 99, then a release at 99 */
	THROTTLE_BENCH_FULL = 2,  /* targets 0, 10, ..., 90, 95, 99, then a release at 99 */
	THROTTLE_BENCH_DIRTY = 3, /* the dirty-rate limit: rates without, then with it */
};

struct hv_config {
	uint64_t mem_bytes;          /* mem=     guest RAM, multiple of 4 KiB */
	uint32_t vcpus;              /* vcpus=   1..HV_MAX_VCPUS */
	enum hv_log_level log_level; /* log=     error|warn|info|debug */
	uint32_t slice_us;           /* slice_us= scheduler time slice */
	uint32_t run_for_ms;         /* run_for= power off after this many ms; 0 = run forever */
	struct hv_guest_params guest;/* guest.*  passed to the guest untouched */
	uint32_t dirty_backend;      /* dirty=   auto|wp|pml (enum dirty_backend) */
	uint32_t dirty_check_ms;     /* dirty.check= log-dirty self-check period; 0 = off */
	uint32_t dirty_rounds;       /* dirty.rounds= harvests before the self-check's verdict */
	uint32_t dirty_verify;       /* dirty.verify= 0: harvest only, no shadow copy (benchmarks) */
	uint32_t throttle;           /* throttle= VM-wide throttle at boot, percent */
	uint32_t throttle_max;       /* throttle.max= the VM's ceiling, percent */
	uint32_t period_us;          /* throttle.period_us= the scheduler's throttle period */
	uint32_t dirty_limit;        /* throttle.dirty_limit= pages/s for the VM; 0 = off */
	uint32_t throttle_bench;     /* throttle.bench= enum throttle_bench_kind */
	uint32_t step_ms;            /* throttle.step_ms= measurement window of the throttle benchmark */
	/* networking (net.*); IPv4 addresses in host byte order */
	uint32_t net_mgmt_addr;      /* net.mgmt= address of the first NIC; 0 = no networking */
	uint32_t net_mgmt_prefix;    /* net.mgmt= prefix length, 1..32 */
	uint32_t net_mgmt_dhcp;      /* net.mgmt=dhcp: the first NIC asks DHCP for its address */
	uint32_t net_migr_addr;      /* net.migr= address of the migration NIC (the second); 0 = none */
	uint32_t net_migr_prefix;
	uint32_t net_migr_dhcp;      /* net.migr=dhcp */
	uint32_t net_gw;             /* net.gw= default gateway, inside net.mgmt's subnet; 0 = none */
	uint32_t net_nics;           /* net.nics= e1000 NICs to bring up, 1..CONFIG_NET_NICS_MAX */
	/* the iperf service */
	uint32_t net_iperf;          /* net.iperf= off|server|client (enum config_iperf) */
	uint32_t net_iperf_peer;     /* net.iperf_peer= the server the clients connect to; 0 = none */
	uint32_t net_iperf_conns;    /* net.iperf_conns= parallel clients, 1..CONFIG_NET_IPERF_CONNS_MAX */
	char api_token[CONFIG_API_TOKEN_MAX + 1]; /* api.token= bearer token of the management API; "" = API off */
	uint32_t api_port;           /* api.port= TCP port of the management API */
	char migr_secret[CONFIG_MIGR_SECRET_MAX + 1]; /* migr.secret= shared by migration peers; "" = no migration */
	uint32_t vm_none;            /* vm=none: boot without a VM (a host that receives one) */
	uint8_t vm_uuid[UUID_LEN];   /* vm.uuid= the VM's identity; all zero: a random one at creation */
};

/* Networking is on: net.mgmt= gave an address or dhcp. */
static inline int config_net_on(const struct hv_config *c) { return c->net_mgmt_addr != 0 || c->net_mgmt_dhcp; }
/* A migration NIC of its own (net.migr=); without one, migration shares the management NIC. */
static inline int config_net_migr(const struct hv_config *c) { return c->net_migr_addr != 0 || c->net_migr_dhcp; }

/* Fills *cfg with every option's default. */
void config_defaults(struct hv_config *cfg);

/*
 * Parses a command line of whitespace-separated key=value words over the
 * defaults. A leading word without '=' (the kernel's path, as some loaders
 * pass it) is skipped. On error returns HV_EINVAL, writes a one-line message
 * naming the word and what is wrong into err (NUL-terminated, at most errlen
 * bytes) and leaves *cfg as the defaults: bad input changes nothing.
 */
int config_parse(const char *cmdline, struct hv_config *cfg, char *err, size_t errlen);

/* Copies cmdline to out (at most cap bytes, NUL-terminated) with every secret value replaced by <secret>. */
void config_redact(const char *cmdline, char *out, size_t cap);

#endif
