/* Unit tests for kernel/core/config.c: defaults, every option, and bad input. */
#define _POSIX_C_SOURCE 200809L  /* strnlen */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/core/config.h"
#include "kernel/lib/err.h"
#include "tests/unit/check_run.h"

/* Field-wise, so struct padding can never make two equal configs differ. */
static void ck_config_eq(const struct hv_config *a, const struct hv_config *b)
{
	ck_assert_uint_eq(a->mem_bytes, b->mem_bytes);
	ck_assert_uint_eq(a->vcpus, b->vcpus);
	ck_assert_int_eq(a->log_level, b->log_level);
	ck_assert_uint_eq(a->slice_us, b->slice_us);
	ck_assert_uint_eq(a->run_for_ms, b->run_for_ms);
	ck_assert_uint_eq(a->guest.mode, b->guest.mode);
	ck_assert_uint_eq(a->guest.pattern, b->guest.pattern);
	ck_assert_uint_eq(a->guest.rate, b->guest.rate);
	ck_assert_uint_eq(a->guest.hot_pages, b->guest.hot_pages);
	ck_assert_uint_eq(a->guest.seed, b->guest.seed);
	ck_assert_uint_eq(a->guest.report_ms, b->guest.report_ms);
	ck_assert_uint_eq(a->guest.verify_every, b->guest.verify_every);
	ck_assert_uint_eq(a->guest.announce, b->guest.announce);
	ck_assert_uint_eq(a->guest.prefill, b->guest.prefill);
	ck_assert_uint_eq(a->dirty_backend, b->dirty_backend);
	ck_assert_uint_eq(a->dirty_check_ms, b->dirty_check_ms);
	ck_assert_uint_eq(a->dirty_rounds, b->dirty_rounds);
	ck_assert_uint_eq(a->net_mgmt_addr, b->net_mgmt_addr);
	ck_assert_uint_eq(a->net_mgmt_prefix, b->net_mgmt_prefix);
	ck_assert_uint_eq(a->net_gw, b->net_gw);
	ck_assert_uint_eq(a->net_nics, b->net_nics);
	ck_assert_uint_eq(a->net_iperf, b->net_iperf); /* iperf service */
	ck_assert_uint_eq(a->net_iperf_peer, b->net_iperf_peer);
	ck_assert_uint_eq(a->net_iperf_conns, b->net_iperf_conns);
	ck_assert_mem_eq(a->vm_uuid, b->vm_uuid, UUID_LEN);
}

static void ck_is_defaults(const struct hv_config *cfg)
{
	struct hv_config d;

	config_defaults(&d);
	ck_config_eq(cfg, &d);
}

START_TEST(test_defaults)
{
	struct hv_config cfg;

	memset(&cfg, 0xa5, sizeof(cfg));
	config_defaults(&cfg);
	ck_assert_uint_eq(cfg.mem_bytes, 32ull << 20);
	ck_assert_uint_eq(cfg.mem_bytes, CONFIG_MEM_DEFAULT);
	ck_assert_uint_eq(cfg.vcpus, 1);
	ck_assert_int_eq(cfg.log_level, LOG_INFO);
	ck_assert_uint_eq(cfg.slice_us, 1000);
	ck_assert_uint_eq(cfg.run_for_ms, 0);
	ck_assert_uint_eq(cfg.guest.mode, HV_MODE_WORK);
	ck_assert_uint_eq(cfg.guest.pattern, HV_PATTERN_SEQ);
	ck_assert_uint_eq(cfg.guest.rate, 0);
	ck_assert_uint_eq(cfg.guest.hot_pages, 64);
	ck_assert_uint_eq(cfg.guest.seed, 1);
	ck_assert_uint_eq(cfg.guest.report_ms, 1000);
	ck_assert_uint_eq(cfg.guest.verify_every, 4096);
	ck_assert_uint_eq(cfg.guest.announce, 0);
	ck_assert_uint_eq(cfg.guest.prefill, 0);
}
END_TEST

/* Lines that mean "all defaults". */
static const char *const empty_lines[] = {
	"", " ", "\t \t", "/boot/hv.elf", "  /boot/hv.elf  ", "hv", "kernel\t",
};

START_TEST(test_empty_lines)
{
	struct hv_config cfg;
	char err[CONFIG_ERR_MAX];

	memset(&cfg, 0xa5, sizeof(cfg));
	strcpy(err, "stale");
	ck_assert_int_eq(config_parse(empty_lines[_i], &cfg, err, sizeof(err)), HV_OK);
	ck_assert_str_eq(err, "");
	ck_is_defaults(&cfg);
}
END_TEST

START_TEST(test_null_cmdline)
{
	struct hv_config cfg;

	memset(&cfg, 0xa5, sizeof(cfg));
	ck_assert_int_eq(config_parse(NULL, &cfg, NULL, 0), HV_OK);
	ck_is_defaults(&cfg);
}
END_TEST

enum field {
	F_MEM, F_VCPUS, F_LOG, F_SLICE, F_RUN_FOR, F_MODE, F_PATTERN,
	F_RATE, F_HOT, F_SEED, F_REPORT, F_VERIFY, F_ANNOUNCE, F_PREFILL, F_DIRTY, F_DIRTY_CHECK, F_DIRTY_ROUNDS,
	F_NET_MGMT, /* value: address << 8 | prefix */
};

static void set_field(struct hv_config *c, enum field f, uint64_t v)
{
	switch (f) {
	case F_MEM: c->mem_bytes = v; break;
	case F_VCPUS: c->vcpus = (uint32_t)v; break;
	case F_LOG: c->log_level = (enum hv_log_level)v; break;
	case F_SLICE: c->slice_us = (uint32_t)v; break;
	case F_RUN_FOR: c->run_for_ms = (uint32_t)v; break;
	case F_MODE: c->guest.mode = (uint32_t)v; break;
	case F_PATTERN: c->guest.pattern = (uint32_t)v; break;
	case F_RATE: c->guest.rate = (uint32_t)v; break;
	case F_HOT: c->guest.hot_pages = (uint32_t)v; break;
	case F_SEED: c->guest.seed = (uint32_t)v; break;
	case F_REPORT: c->guest.report_ms = (uint32_t)v; break;
	case F_VERIFY: c->guest.verify_every = (uint32_t)v; break;
	case F_ANNOUNCE: c->guest.announce = (uint32_t)v; break;
	case F_PREFILL: c->guest.prefill = (uint32_t)v; break;
	case F_DIRTY: c->dirty_backend = (uint32_t)v; break;
	case F_DIRTY_CHECK: c->dirty_check_ms = (uint32_t)v; break;
	case F_DIRTY_ROUNDS: c->dirty_rounds = (uint32_t)v; break;
	case F_NET_MGMT: c->net_mgmt_addr = (uint32_t)(v >> 8); c->net_mgmt_prefix = (uint32_t)(v & 0xff); break;
	}
}

/* One option set; every other field must keep its default. */
static const struct {
	const char *line;
	enum field field;
	uint64_t value;
} good[] = {
	{ "mem=64M", F_MEM, 64ull << 20 },
	{ "mem=8M", F_MEM, 8ull << 20 },                 /* min */
	{ "mem=2048M", F_MEM, 2048ull << 20 },           /* max */
	{ "mem=2G", F_MEM, 2ull << 30 },
	{ "mem=1g", F_MEM, 1ull << 30 },
	{ "mem=16m", F_MEM, 16ull << 20 },
	{ "mem=8192K", F_MEM, 8ull << 20 },
	{ "mem=12288k", F_MEM, 12ull << 20 },
	{ "mem=33554432", F_MEM, 32ull << 20 },          /* plain bytes */
	{ "mem=0x2000000", F_MEM, 32ull << 20 },
	{ "mem=0X800000", F_MEM, 8ull << 20 },
	{ "mem=0x10M", F_MEM, 16ull << 20 },
	{ "mem=0x7ffff000", F_MEM, 0x7ffff000ull },
	{ "mem=0000064M", F_MEM, 64ull << 20 },          /* leading zeros are decimal */
	{ "vcpus=1", F_VCPUS, 1 },
	{ "vcpus=2", F_VCPUS, 2 },
	{ "vcpus=4", F_VCPUS, 4 },
	{ "vcpus=0x3", F_VCPUS, 3 },
	{ "log=error", F_LOG, LOG_ERROR },
	{ "log=warn", F_LOG, LOG_WARN },
	{ "log=info", F_LOG, LOG_INFO },
	{ "log=debug", F_LOG, LOG_DEBUG },
	{ "slice_us=50", F_SLICE, 50 },
	{ "slice_us=100000", F_SLICE, 100000 },
	{ "slice_us=0x1f4", F_SLICE, 500 },
	{ "run_for=0", F_RUN_FOR, 0 },
	{ "run_for=1", F_RUN_FOR, 1 },
	{ "run_for=86400000", F_RUN_FOR, 86400000 },
	{ "guest.mode=work", F_MODE, HV_MODE_WORK },
	{ "guest.mode=oob", F_MODE, HV_MODE_OOB },
	{ "guest.mode=triple", F_MODE, HV_MODE_TRIPLE },
	{ "guest.mode=cpuid", F_MODE, HV_MODE_CPUID },
	{ "guest.mode=idle", F_MODE, HV_MODE_IDLE },
	{ "guest.mode=events", F_MODE, HV_MODE_EVENTS },
	{ "guest.mode=strio", F_MODE, HV_MODE_STRIO },
	{ "guest.pattern=seq", F_PATTERN, HV_PATTERN_SEQ },
	{ "guest.pattern=random", F_PATTERN, HV_PATTERN_RANDOM },
	{ "guest.pattern=hot", F_PATTERN, HV_PATTERN_HOT },
	{ "guest.rate=0", F_RATE, 0 },
	{ "guest.rate=10000000", F_RATE, 10000000 },
	{ "guest.rate=250", F_RATE, 250 },
	{ "guest.hot=1", F_HOT, 1 },
	{ "guest.hot=1048576", F_HOT, 1048576 },
	{ "guest.hot=0x100", F_HOT, 256 },
	{ "guest.seed=0", F_SEED, 0 },
	{ "guest.seed=4294967295", F_SEED, 4294967295u },
	{ "guest.seed=0xffffffff", F_SEED, 0xffffffffu },
	{ "guest.seed=0xDeadBeef", F_SEED, 0xdeadbeefu },
	{ "guest.report_ms=10", F_REPORT, 10 },
	{ "guest.report_ms=60000", F_REPORT, 60000 },
	{ "guest.verify=0", F_VERIFY, 0 },
	{ "guest.verify=100000000", F_VERIFY, 100000000 },
	{ "guest.verify=1", F_VERIFY, 1 },
	{ "guest.announce=1", F_ANNOUNCE, 1 },
	{ "guest.announce=0", F_ANNOUNCE, 0 },
	{ "guest.prefill=1", F_PREFILL, 1 },
	{ "guest.prefill=0", F_PREFILL, 0 },
	{ "dirty=wp", F_DIRTY, 1 },
	{ "dirty=pml", F_DIRTY, 2 },
	{ "dirty=auto", F_DIRTY, 0 },
	{ "dirty.check=50", F_DIRTY_CHECK, 50 },
	{ "dirty.check=60000", F_DIRTY_CHECK, 60000 },
	{ "dirty.rounds=1", F_DIRTY_ROUNDS, 1 },
	{ "dirty.rounds=100000", F_DIRTY_ROUNDS, 100000 },
	/* --- net.mgmt --- */
	{ "net.mgmt=10.0.0.2/24", F_NET_MGMT, 0x0a000002ull << 8 | 24 },
	{ "net.mgmt=192.168.1.1/32", F_NET_MGMT, 0xc0a80101ull << 8 | 32 },
	{ "net.mgmt=172.16.0.1/12", F_NET_MGMT, 0xac100001ull << 8 | 12 },
	{ "net.mgmt=10.0.0.255/23", F_NET_MGMT, 0x0a0000ffull << 8 | 23 },  /* not the /23's broadcast */
	{ "net.mgmt=10.0.0.0/31", F_NET_MGMT, 0x0a000000ull << 8 | 31 },    /* RFC 3021: both ends usable */
	{ "net.mgmt=10.0.0.1/31", F_NET_MGMT, 0x0a000001ull << 8 | 31 },
	{ "net.mgmt=1.2.3.4/1", F_NET_MGMT, 0x01020304ull << 8 | 1 },
	{ "net.mgmt=223.255.255.254/24", F_NET_MGMT, 0xdffffffeull << 8 | 24 },
	{ "net.mgmt=100.64.0.0/9", F_NET_MGMT, 0x64400000ull << 8 | 9 },    /* host part 0x400000, not 0 */
	{ "/boot/hv.elf vcpus=3", F_VCPUS, 3 },          /* kernel path skipped */
	{ "\t vcpus=3 \t", F_VCPUS, 3 },
	{ "vcpus=3\n", F_VCPUS, 3 },
};

START_TEST(test_good)
{
	struct hv_config cfg, want;
	char err[CONFIG_ERR_MAX];

	config_defaults(&want);
	set_field(&want, good[_i].field, good[_i].value);
	memset(&cfg, 0xa5, sizeof(cfg));
	ck_assert_msg(config_parse(good[_i].line, &cfg, err, sizeof(err)) == HV_OK,
		      "\"%s\" rejected: %s", good[_i].line, err);
	ck_assert_str_eq(err, "");
	ck_config_eq(&cfg, &want);
}
END_TEST

START_TEST(test_all_options)
{
	struct hv_config cfg;
	char err[CONFIG_ERR_MAX];
	const char *line = "/boot/hv mem=128M vcpus=4 log=debug slice_us=250 run_for=5000 "
			   "guest.mode=cpuid guest.pattern=hot guest.rate=1000 guest.hot=32 "
			   "guest.seed=0x1234 guest.report_ms=500 guest.verify=0";

	ck_assert_int_eq(config_parse(line, &cfg, err, sizeof(err)), HV_OK);
	ck_assert_uint_eq(cfg.mem_bytes, 128ull << 20);
	ck_assert_uint_eq(cfg.vcpus, 4);
	ck_assert_int_eq(cfg.log_level, LOG_DEBUG);
	ck_assert_uint_eq(cfg.slice_us, 250);
	ck_assert_uint_eq(cfg.run_for_ms, 5000);
	ck_assert_uint_eq(cfg.guest.mode, HV_MODE_CPUID);
	ck_assert_uint_eq(cfg.guest.pattern, HV_PATTERN_HOT);
	ck_assert_uint_eq(cfg.guest.rate, 1000);
	ck_assert_uint_eq(cfg.guest.hot_pages, 32);
	ck_assert_uint_eq(cfg.guest.seed, 0x1234);
	ck_assert_uint_eq(cfg.guest.report_ms, 500);
	ck_assert_uint_eq(cfg.guest.verify_every, 0);
	ck_assert_uint_eq(cfg.guest.announce, 0);
}
END_TEST

/* A successful parse starts from the defaults, not from what *cfg held. */
START_TEST(test_parse_is_over_defaults)
{
	struct hv_config cfg;

	config_defaults(&cfg);
	cfg.vcpus = 4;
	cfg.guest.seed = 99;
	ck_assert_int_eq(config_parse("log=warn", &cfg, NULL, 0), HV_OK);
	ck_assert_uint_eq(cfg.vcpus, 1);
	ck_assert_uint_eq(cfg.guest.seed, 1);
	ck_assert_int_eq(cfg.log_level, LOG_WARN);
}
END_TEST

/* Rejected lines and the exact message each must produce. */
static const struct {
	const char *line;
	const char *msg;
} bad[] = {
	{ "vcpus=9", "vcpus=9: must be 1..4" },
	{ "vcpus=0", "vcpus=0: must be 1..4" },
	{ "vcpus=5", "vcpus=5: must be 1..4" },
	{ "vcpus=-1", "vcpus=-1: not a number (decimal or 0x hex)" },
	{ "vcpus=+1", "vcpus=+1: not a number (decimal or 0x hex)" },
	{ "vcpus=1x", "vcpus=1x: not a number (decimal or 0x hex)" },
	{ "vcpus=2M", "vcpus=2M: not a number (decimal or 0x hex)" },
	{ "vcpus= 2", "vcpus=: empty value" },
	{ "vcpus=0x", "vcpus=0x: not a number (decimal or 0x hex)" },
	{ "vcpus=0xg", "vcpus=0xg: not a number (decimal or 0x hex)" },
	{ "vcpus=1.5", "vcpus=1.5: not a number (decimal or 0x hex)" },
	{ "vcpus=", "vcpus=: empty value" },
	{ "vcpus==1", "vcpus==1: not a number (decimal or 0x hex)" },
	{ "vcpus=99999999999999999999", "vcpus=99999999999999999999: must be 1..4" },
	{ "frobnicate=1", "frobnicate=1: unknown option" },
	{ "=1", "=1: unknown option" },
	{ "VCPUS=1", "VCPUS=1: unknown option" },
	{ "vcpu=1", "vcpu=1: unknown option" },
	{ "vcpuss=1", "vcpuss=1: unknown option" },
	{ "guest=1", "guest=1: unknown option" },
	{ "guest.=1", "guest.=1: unknown option" },
	{ "/boot/hv.elf quiet", "quiet: expected key=value" },
	{ "vcpus=2 quiet", "quiet: expected key=value" },
	{ "vcpus=2 vcpus=2", "vcpus=2: given more than once" },
	{ "vcpus=2 log=info vcpus=3", "vcpus=3: given more than once" },
	{ "mem=12345", "mem=12345: must be a multiple of 4K" },
	{ "mem=0x800001", "mem=0x800001: must be a multiple of 4K" },
	{ "mem=4M", "mem=4M: must be 8M..2G" },
	{ "mem=8188K", "mem=8188K: must be 8M..2G" },    /* min - 4K */
	{ "mem=2049M", "mem=2049M: must be 8M..2G" },
	{ "mem=2097156K", "mem=2097156K: must be 8M..2G" },  /* max + 4K */
	{ "mem=3G", "mem=3G: must be 8M..2G" },
	{ "mem=0", "mem=0: must be 8M..2G" },
	{ "mem=0K", "mem=0K: must be 8M..2G" },
	{ "mem=99999999999999999999G", "mem=99999999999999999999G: must be 8M..2G" },
	{ "mem=18446744073709551615", "mem=18446744073709551615: must be a multiple of 4K" },
	{ "mem=18446744073709551616", "mem=18446744073709551616: must be 8M..2G" },
	{ "mem=17179869184G", "mem=17179869184G: must be 8M..2G" },  /* 2^64 after the shift */
	{ "mem=0xffffffffffffffffff", "mem=0xffffffffffffffffff: must be 8M..2G" },
	{ "mem=64MB", "mem=64MB: not a number (decimal or 0x hex, optional K/M/G suffix)" },
	{ "mem=64T", "mem=64T: not a number (decimal or 0x hex, optional K/M/G suffix)" },
	{ "mem=M", "mem=M: not a number (decimal or 0x hex, optional K/M/G suffix)" },
	{ "mem=0xM", "mem=0xM: not a number (decimal or 0x hex, optional K/M/G suffix)" },
	{ "mem=64 M", "mem=64: must be a multiple of 4K" },  /* no space before a suffix */
	{ "mem=64M M", "M: expected key=value" },
	{ "log=verbose", "log=verbose: must be one of error|warn|info|debug" },
	{ "log=INFO", "log=INFO: must be one of error|warn|info|debug" },
	{ "log=inf", "log=inf: must be one of error|warn|info|debug" },
	{ "log=infos", "log=infos: must be one of error|warn|info|debug" },
	{ "log=2", "log=2: must be one of error|warn|info|debug" },
	{ "slice_us=49", "slice_us=49: must be 50..100000" },
	{ "slice_us=100001", "slice_us=100001: must be 50..100000" },
	{ "run_for=86400001", "run_for=86400001: must be 0..86400000" },
	{ "guest.mode=fast", "guest.mode=fast: must be one of work|oob|triple|cpuid|idle|compute|mixed|events|strio" },
	{ "guest.mode=", "guest.mode=: empty value" },
	{ "guest.pattern=zigzag", "guest.pattern=zigzag: must be one of seq|random|hot" },
	{ "guest.rate=10000001", "guest.rate=10000001: must be 0..10000000" },
	{ "guest.hot=0", "guest.hot=0: must be 1..1048576" },
	{ "guest.hot=1048577", "guest.hot=1048577: must be 1..1048576" },
	{ "guest.seed=4294967296", "guest.seed=4294967296: must be 0..4294967295" },
	{ "guest.seed=0x100000000", "guest.seed=0x100000000: must be 0..4294967295" },
	{ "guest.report_ms=9", "guest.report_ms=9: must be 10..60000" },
	{ "guest.report_ms=60001", "guest.report_ms=60001: must be 10..60000" },
	{ "guest.verify=100000001", "guest.verify=100000001: must be 0..100000000" },
	{ "guest.announce=2", "guest.announce=2: must be 0..1" },
	{ "guest.prefill=2", "guest.prefill=2: must be 0..1" },
	{ "dirty=ept", "dirty=ept: must be one of auto|wp|pml" },
	{ "dirty.check=60001", "dirty.check=60001: must be 0..60000" },
	{ "dirty.rounds=0", "dirty.rounds=0: must be 1..100000" },
	{ "throttle=50 throttle.max=30", "throttle=50: above throttle.max=30" },
	{ "throttle.dirty_limit=300", "throttle.dirty_limit: needs log-dirty mode (dirty.check=<ms>)" },
	{ "throttle.bench=dirty dirty.check=100", "throttle.bench=dirty: needs throttle.dirty_limit=<pages/s>" },
	/* --- net.* --- */
	{ "net.mgmt=10.0.0.2", "net.mgmt=10.0.0.2: not an IPv4 address with prefix (a.b.c.d/n) or dhcp" },
	{ "net.mgmt=10.0.0/24", "net.mgmt=10.0.0/24: not an IPv4 address with prefix (a.b.c.d/n) or dhcp" },
	{ "net.mgmt=10.0.0.2.1/24", "net.mgmt=10.0.0.2.1/24: not an IPv4 address with prefix (a.b.c.d/n) or dhcp" },
	{ "net.mgmt=10.0.0.256/24", "net.mgmt=10.0.0.256/24: not an IPv4 address with prefix (a.b.c.d/n) or dhcp" },
	{ "net.mgmt=10.0.0.1000/24", "net.mgmt=10.0.0.1000/24: not an IPv4 address with prefix (a.b.c.d/n) or dhcp" },
	{ "net.mgmt=10.0.0.02/24", "net.mgmt=10.0.0.02/24: not an IPv4 address with prefix (a.b.c.d/n) or dhcp" },
	{ "net.mgmt=10..0.1/24", "net.mgmt=10..0.1/24: not an IPv4 address with prefix (a.b.c.d/n) or dhcp" },
	{ "net.mgmt=10.0.0.1./24", "net.mgmt=10.0.0.1./24: not an IPv4 address with prefix (a.b.c.d/n) or dhcp" },
	{ "net.mgmt=.10.0.0.1/24", "net.mgmt=.10.0.0.1/24: not an IPv4 address with prefix (a.b.c.d/n) or dhcp" },
	{ "net.mgmt=10.0.0.-1/24", "net.mgmt=10.0.0.-1/24: not an IPv4 address with prefix (a.b.c.d/n) or dhcp" },
	{ "net.mgmt=10.0.0.+1/24", "net.mgmt=10.0.0.+1/24: not an IPv4 address with prefix (a.b.c.d/n) or dhcp" },
	{ "net.mgmt=0x0a.0.0.1/8", "net.mgmt=0x0a.0.0.1/8: not an IPv4 address with prefix (a.b.c.d/n) or dhcp" },
	{ "net.mgmt=/24", "net.mgmt=/24: not an IPv4 address with prefix (a.b.c.d/n) or dhcp" },
	{ "net.mgmt=10.0.0.2/", "net.mgmt=10.0.0.2/: prefix must be 1..32" },
	{ "net.mgmt=10.0.0.2/0", "net.mgmt=10.0.0.2/0: prefix must be 1..32" },
	{ "net.mgmt=10.0.0.2/33", "net.mgmt=10.0.0.2/33: prefix must be 1..32" },
	{ "net.mgmt=10.0.0.2/024", "net.mgmt=10.0.0.2/024: prefix must be 1..32" },
	{ "net.mgmt=10.0.0.2/24x", "net.mgmt=10.0.0.2/24x: prefix must be 1..32" },
	{ "net.mgmt=10.0.0.2/2/4", "net.mgmt=10.0.0.2/2/4: prefix must be 1..32" },
	{ "net.mgmt=10.0.0.2/1000", "net.mgmt=10.0.0.2/1000: prefix must be 1..32" },
	{ "net.mgmt=0.1.2.3/8", "net.mgmt=0.1.2.3/8: not a unicast host address" },
	{ "net.mgmt=127.0.0.1/8", "net.mgmt=127.0.0.1/8: not a unicast host address" },
	{ "net.mgmt=224.0.0.1/4", "net.mgmt=224.0.0.1/4: not a unicast host address" },
	{ "net.mgmt=255.255.255.255/32", "net.mgmt=255.255.255.255/32: not a unicast host address" },
	{ "net.mgmt=10.0.0.0/24", "net.mgmt=10.0.0.0/24: is the subnet's network or broadcast address" },
	{ "net.mgmt=10.0.0.255/24", "net.mgmt=10.0.0.255/24: is the subnet's network or broadcast address" },
	{ "net.mgmt=10.0.0.3/30", "net.mgmt=10.0.0.3/30: is the subnet's network or broadcast address" },
	{ "net.mgmt=10.0.0.2/24 net.mgmt=10.0.0.3/24", "net.mgmt=10.0.0.3/24: given more than once" },
	{ "net.gw=10.0.0.1/24", "net.gw=10.0.0.1/24: not an IPv4 address (a.b.c.d)" },
	{ "net.gw=10.0.0", "net.gw=10.0.0: not an IPv4 address (a.b.c.d)" },
	{ "net.gw=224.1.1.1", "net.gw=224.1.1.1: not a unicast host address" },
	{ "net.gw=10.0.0.1", "net.gw: needs net.mgmt=<a.b.c.d/n>" },
	{ "net.nics=1", "net.nics: needs net.mgmt=<a.b.c.d/n>" },
	{ "net.nics=3 net.mgmt=10.0.0.2/24", "net.nics=3: must be 1..2" },
	{ "net.nics=0", "net.nics=0: must be 1..2" },
	{ "net.mgmt=10.0.0.2/24 net.gw=10.0.1.1",
	  "net.gw=10.0.1.1: must be another host of net.mgmt's subnet 10.0.0.0/24" },
	{ "net.gw=10.0.0.2 net.mgmt=10.0.0.2/24",
	  "net.gw=10.0.0.2: must be another host of net.mgmt's subnet 10.0.0.0/24" },
	{ "net.mgmt=10.1.2.3/16 net.gw=10.2.0.1",
	  "net.gw=10.2.0.1: must be another host of net.mgmt's subnet 10.1.0.0/16" },
	/* An error late in the line still throws away the good words before it. */
	{ "mem=64M vcpus=2 log=debug guest.mode=fast",
	  "guest.mode=fast: must be one of work|oob|triple|cpuid|idle|compute|mixed|events|strio" },
};

START_TEST(test_bad)
{
	struct hv_config cfg;
	char err[CONFIG_ERR_MAX];

	memset(&cfg, 0xa5, sizeof(cfg));
	memset(err, 'x', sizeof(err));
	ck_assert_msg(config_parse(bad[_i].line, &cfg, err, sizeof(err)) == HV_EINVAL,
		      "\"%s\" accepted", bad[_i].line);
	ck_assert_str_eq(err, bad[_i].msg);
	ck_is_defaults(&cfg);  /* bad input changes nothing */
}
END_TEST

/* Every bad line, with the message buffer cut to each possible short length. */
START_TEST(test_err_truncation)
{
	size_t len, want = strlen(bad[_i].msg);
	struct hv_config cfg;

	for (len = 0; len <= want + 1; len++) {
		char *err = malloc(len ? len : 1);  /* exact size: ASan catches overruns */

		ck_assert_ptr_nonnull(err);
		memset(err, 'x', len);
		ck_assert_int_eq(config_parse(bad[_i].line, &cfg, err, len), HV_EINVAL);
		if (len > 0) {
			size_t got = strnlen(err, len);

			ck_assert_uint_lt(got, len);
			ck_assert_uint_eq(got, want < len - 1 ? want : len - 1);
			ck_assert_int_eq(memcmp(err, bad[_i].msg, got), 0);
		}
		free(err);
		ck_is_defaults(&cfg);
	}
}
END_TEST

START_TEST(test_null_err)
{
	struct hv_config cfg;

	ck_assert_int_eq(config_parse("vcpus=9", &cfg, NULL, 100), HV_EINVAL);
	ck_is_defaults(&cfg);
	ck_assert_int_eq(config_parse("vcpus=2", &cfg, NULL, 100), HV_OK);
	ck_assert_uint_eq(cfg.vcpus, 2);
}
END_TEST

/* Messages fit CONFIG_ERR_MAX, cut rather than overflow for huge words. */
START_TEST(test_long_word)
{
	char line[600], err[CONFIG_ERR_MAX];
	struct hv_config cfg;

	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	line[3] = '=';
	ck_assert_int_eq(config_parse(line, &cfg, err, sizeof(err)), HV_EINVAL);
	ck_assert_uint_eq(strlen(err), sizeof(err) - 1);
	ck_assert_int_eq(strncmp(err, "aaa=aaaa", 8), 0);
	ck_is_defaults(&cfg);
}
END_TEST

/* The kernel path is skipped only as the first word and only without '='. */
START_TEST(test_kernel_path_only_first)
{
	struct hv_config cfg;
	char err[CONFIG_ERR_MAX];

	ck_assert_int_eq(config_parse("/boot/hv /boot/hv", &cfg, err, sizeof(err)), HV_EINVAL);
	ck_assert_str_eq(err, "/boot/hv: expected key=value");
	ck_assert_int_eq(config_parse("/boot/x=1 vcpus=2", &cfg, err, sizeof(err)), HV_EINVAL);
	ck_assert_str_eq(err, "/boot/x=1: unknown option");
}
END_TEST

/* net.gw and net.nics with net.mgmt, in any order. */
START_TEST(test_net_options)
{
	struct hv_config cfg;
	char err[CONFIG_ERR_MAX];

	config_defaults(&cfg);
	ck_assert_uint_eq(cfg.net_mgmt_addr, 0);
	ck_assert_uint_eq(cfg.net_gw, 0);
	ck_assert_uint_eq(cfg.net_nics, 1);
	ck_assert_int_eq(config_parse("net.gw=10.77.0.1 net.nics=2 net.mgmt=10.77.0.2/24", &cfg, err, sizeof(err)),
			 HV_OK);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(cfg.net_mgmt_addr, 0x0a4d0002u);
	ck_assert_uint_eq(cfg.net_mgmt_prefix, 24);
	ck_assert_uint_eq(cfg.net_gw, 0x0a4d0001u);
	ck_assert_uint_eq(cfg.net_nics, 2);
	ck_assert_int_eq(config_parse("net.mgmt=192.168.7.9/32 net.gw=192.168.7.8", &cfg, err, sizeof(err)),
			 HV_EINVAL);
	ck_assert_str_eq(err, "net.gw=192.168.7.8: must be another host of net.mgmt's subnet 192.168.7.9/32");
	ck_assert_int_eq(config_parse("net.mgmt=10.0.0.1/31 net.gw=10.0.0.0", &cfg, err, sizeof(err)), HV_OK);
	ck_assert_uint_eq(cfg.net_gw, 0x0a000000u);
	ck_assert_uint_eq(cfg.net_nics, 1);
}
END_TEST

/* The error buffer is cleared on success, so a caller can always print it. */
START_TEST(test_err_cleared_on_success)
{
	struct hv_config cfg;
	char err[CONFIG_ERR_MAX];

	ck_assert_int_eq(config_parse("vcpus=9", &cfg, err, sizeof(err)), HV_EINVAL);
	ck_assert_str_ne(err, "");
	ck_assert_int_eq(config_parse("vcpus=3", &cfg, err, sizeof(err)), HV_OK);
	ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(test_throttle_cross_checks)
{
	struct hv_config cfg;
	char err[CONFIG_ERR_MAX];

	ck_assert_int_eq(config_parse("throttle=30 throttle.max=30", &cfg, err, sizeof(err)), HV_OK);
	ck_assert_uint_eq(cfg.throttle, 30);
	ck_assert_uint_eq(cfg.throttle_max, 30);
	ck_assert_int_eq(config_parse("dirty.check=100 throttle.dirty_limit=300 throttle.bench=dirty", &cfg, err,
				      sizeof(err)), HV_OK);
	ck_assert_uint_eq(cfg.dirty_limit, 300);
	ck_assert_uint_eq(cfg.throttle_bench, THROTTLE_BENCH_DIRTY);
}
END_TEST

START_TEST(test_token_and_redaction)
{
	struct hv_config cfg;
	char err[CONFIG_ERR_MAX], shown[128];

	ck_assert_int_eq(config_parse("net.mgmt=10.0.0.2/24 api.token=abcdefghijklmnop-_.~+/ api.port=9000", &cfg, err,
				      sizeof(err)), HV_OK);
	ck_assert_str_eq(cfg.api_token, "abcdefghijklmnop-_.~+/");
	ck_assert_uint_eq(cfg.api_port, 9000);
	/* A malformed secret is refused without being echoed. */
	ck_assert_int_eq(config_parse("net.mgmt=10.0.0.2/24 api.token=short-secret", &cfg, err, sizeof(err)), HV_EINVAL);
	ck_assert_ptr_null(strstr(err, "short-secret"));
	ck_assert_ptr_nonnull(strstr(err, "api.token=<secret>: must be 16..64"));
	ck_assert_int_eq(config_parse("net.mgmt=10.0.0.2/24 api.token=has*star*in*the*token", &cfg, err, sizeof(err)),
			 HV_EINVAL);
	ck_assert_int_eq(config_parse("api.token=abcdefghijklmnopq", &cfg, err, sizeof(err)), HV_EINVAL);
	ck_assert_str_eq(err, "api.token: needs net.mgmt=<a.b.c.d/n>");
	ck_assert_int_eq(config_parse("net.mgmt=10.0.0.2/24 api.port=80", &cfg, err, sizeof(err)), HV_EINVAL);
	ck_assert_str_eq(err, "api.port: needs api.token=<secret>");
	ck_assert_str_eq(cfg.api_token, "");

	/* Roles: net.migr brings up the second NIC; dhcp instead of an address. */
	ck_assert_int_eq(config_parse("net.mgmt=dhcp net.migr=10.1.0.2/16", &cfg, err, sizeof(err)), HV_OK);
	ck_assert(cfg.net_mgmt_dhcp && cfg.net_mgmt_addr == 0 && cfg.net_nics == 2);
	ck_assert_uint_eq(cfg.net_migr_addr, 0x0a010002u);
	ck_assert_uint_eq(cfg.net_migr_prefix, 16);
	ck_assert_int_eq(config_parse("net.mgmt=10.0.0.2/24 net.migr=dhcp", &cfg, err, sizeof(err)), HV_OK);
	ck_assert(cfg.net_migr_dhcp && !cfg.net_mgmt_dhcp && cfg.net_nics == 2);
	ck_assert_int_eq(config_parse("net.migr=10.1.0.2/16", &cfg, err, sizeof(err)), HV_EINVAL);
	ck_assert_str_eq(err, "net.migr: needs net.mgmt=<a.b.c.d/n>");
	ck_assert_int_eq(config_parse("net.mgmt=10.0.0.2/24 net.nics=1 net.migr=dhcp", &cfg, err, sizeof(err)),
			 HV_EINVAL);
	ck_assert_str_eq(err, "net.migr: needs a second NIC (net.nics=2)");
	ck_assert_int_eq(config_parse("net.mgmt=dhcp net.gw=10.0.0.1", &cfg, err, sizeof(err)), HV_EINVAL);
	ck_assert_str_eq(err, "net.gw: DHCP gives the gateway with net.mgmt=dhcp");
	ck_assert_int_eq(config_parse("net.mgmt=DHCP", &cfg, err, sizeof(err)), HV_EINVAL);

	config_redact("vcpus=2 api.token=abcdefghijklmnop net.mgmt=1.2.3.4/8", shown, sizeof(shown));
	ck_assert_str_eq(shown, "vcpus=2 api.token=<secret> net.mgmt=1.2.3.4/8");
	config_redact("api.token=abcdefghijklmnop", shown, sizeof(shown));
	ck_assert_str_eq(shown, "api.token=<secret>");
	config_redact("xapi.token=visible", shown, sizeof(shown));
	ck_assert_str_eq(shown, "xapi.token=visible");
	config_redact("api.token=abcdefghijklmnop", shown, 8);
	ck_assert_str_eq(shown, "api.tok");
	/* Every secret word is masked wherever it stands; spacing and other words are kept as they are. */
	config_redact("tftp://10.0.0.1/hv32.elf  api.token=abcdefghijklmnop\tvcpus=1 api.token=second-secret-00000",
		      shown, sizeof(shown));
	ck_assert_str_eq(shown, "tftp://10.0.0.1/hv32.elf  api.token=<secret>\tvcpus=1 api.token=<secret>");
	config_redact("api.token api.token= api.tokenx=1", shown, sizeof(shown));
	ck_assert_str_eq(shown, "api.token api.token=<secret> api.tokenx=1");
	config_redact(NULL, shown, sizeof(shown));
	ck_assert_str_eq(shown, "");
}
END_TEST

/* The migration secret is a secret like the API token; vm=none boots a host that only receives. */
START_TEST(test_migr_secret_and_no_vm)
{
	struct hv_config cfg;
	char err[CONFIG_ERR_MAX], shown[128];

	ck_assert_int_eq(config_parse("net.mgmt=10.0.0.2/24 migr.secret=0123456789abcdef-migr vm=none", &cfg, err,
				      sizeof(err)), HV_OK);
	ck_assert_str_eq(cfg.migr_secret, "0123456789abcdef-migr");
	ck_assert_str_eq(cfg.api_token, "");
	ck_assert_uint_eq(cfg.vm_none, 1);
	ck_assert_int_eq(config_parse("net.mgmt=10.0.0.2/24 migr.secret=tooshort", &cfg, err, sizeof(err)), HV_EINVAL);
	ck_assert_ptr_null(strstr(err, "tooshort"));
	ck_assert_ptr_nonnull(strstr(err, "migr.secret=<secret>: must be 16..64"));
	ck_assert_str_eq(cfg.migr_secret, "");
	ck_assert_int_eq(config_parse("migr.secret=0123456789abcdef", &cfg, err, sizeof(err)), HV_EINVAL);
	ck_assert_str_eq(err, "migr.secret: needs net.mgmt=<a.b.c.d/n>");
	ck_assert_int_eq(config_parse("vm=none vcpus=2", &cfg, err, sizeof(err)), HV_EINVAL);
	ck_assert_str_eq(err, "vcpus: there is no VM at boot with vm=none");
	ck_assert_int_eq(config_parse("vm=none dirty.check=100", &cfg, err, sizeof(err)), HV_EINVAL);
	ck_assert_int_eq(config_parse("vm=nothing", &cfg, err, sizeof(err)), HV_EINVAL);
	ck_assert_str_eq(err, "vm=nothing: must be one of guest|none");
	ck_assert_int_eq(config_parse("vm=guest vcpus=2", &cfg, err, sizeof(err)), HV_OK);
	ck_assert_uint_eq(cfg.vm_none, 0);
	config_redact("vm=none migr.secret=0123456789abcdef api.token=abcdefghijklmnop", shown, sizeof(shown));
	ck_assert_str_eq(shown, "vm=none migr.secret=<secret> api.token=<secret>");
}
END_TEST

/* vm.uuid= names the VM: a canonical UUID, not the nil one, and only where there is a VM at boot. */
START_TEST(test_vm_uuid)
{
	static const uint8_t want[UUID_LEN] = { 0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x41, 0xd1,
						0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8 };
	struct hv_config cfg;
	char err[CONFIG_ERR_MAX];

	config_defaults(&cfg);
	ck_assert(uuid_is_nil(cfg.vm_uuid));
	ck_assert_int_eq(config_parse("vcpus=2 vm.uuid=6BA7B810-9dad-41d1-80b4-00c04fd430c8", &cfg, err, sizeof(err)),
			 HV_OK);
	ck_assert_mem_eq(cfg.vm_uuid, want, UUID_LEN);
	ck_assert_int_eq(config_parse("vm.uuid=6ba7b810-9dad-41d1-80b4-00c04fd430c", &cfg, err, sizeof(err)),
			 HV_EINVAL);
	ck_assert_str_eq(err, "vm.uuid=6ba7b810-9dad-41d1-80b4-00c04fd430c: must be a UUID other than the nil one "
			      "(8-4-4-4-12 hex digits)");
	ck_assert(uuid_is_nil(cfg.vm_uuid)); /* bad input changes nothing */
	ck_assert_int_eq(config_parse("vm.uuid=00000000-0000-0000-0000-000000000000", &cfg, err, sizeof(err)),
			 HV_EINVAL);
	ck_assert_int_eq(config_parse("vm=none vm.uuid=6ba7b810-9dad-41d1-80b4-00c04fd430c8", &cfg, err, sizeof(err)),
			 HV_EINVAL);
	ck_assert_str_eq(err, "vm.uuid: there is no VM at boot with vm=none");
	ck_assert_int_eq(config_parse("vm.uuid=6ba7b810-9dad-41d1-80b4-00c04fd430c8 vm.uuid=6ba7b810-9dad-41d1-80b4-"
				      "00c04fd430c9", &cfg, err, sizeof(err)), HV_EINVAL);
}
END_TEST

/* --- iperf service (net.iperf*) --- */
static const struct {
	const char *cmdline;
	uint32_t mode, peer, conns;
} iperf_good[] = {
	{ "net.mgmt=10.77.0.2/24", CONFIG_IPERF_OFF, 0, 1 },
	{ "net.mgmt=10.77.0.2/24 net.iperf=off", CONFIG_IPERF_OFF, 0, 1 },
	{ "net.mgmt=10.77.0.2/24 net.iperf=server", CONFIG_IPERF_SERVER, 0, 1 },
	{ "net.mgmt=dhcp net.iperf=server", CONFIG_IPERF_SERVER, 0, 1 },
	{ "net.iperf=client net.iperf_peer=10.77.0.3 net.mgmt=10.77.0.2/24", CONFIG_IPERF_CLIENT, 0x0a4d0003u, 1 },
	{ "net.mgmt=10.77.0.2/24 net.iperf=client net.iperf_peer=10.77.0.1 net.iperf_conns=4", CONFIG_IPERF_CLIENT,
	  0x0a4d0001u, 4 },
	{ "net.mgmt=10.77.0.2/24 net.gw=10.77.0.1 net.iperf=client net.iperf_peer=192.168.5.5 net.iperf_conns=0x2",
	  CONFIG_IPERF_CLIENT, 0xc0a80505u, 2 },
};

static const struct {
	const char *cmdline, *err;
} iperf_bad[] = {
	{ "net.iperf=server", "net.iperf: needs net.mgmt=<a.b.c.d/n>" },
	{ "net.iperf_peer=10.77.0.3", "net.iperf_peer: needs net.mgmt=<a.b.c.d/n>" },
	{ "net.iperf_conns=2", "net.iperf_conns: needs net.mgmt=<a.b.c.d/n>" },
	{ "net.mgmt=10.77.0.2/24 net.iperf=yes", "net.iperf=yes: must be one of off|server|client" },
	{ "net.mgmt=10.77.0.2/24 net.iperf=client", "net.iperf=client: needs net.iperf_peer=<a.b.c.d>" },
	{ "net.mgmt=10.77.0.2/24 net.iperf=client net.iperf_conns=2", "net.iperf=client: needs net.iperf_peer=<a.b.c.d>" },
	{ "net.mgmt=10.77.0.2/24 net.iperf=server net.iperf_peer=10.77.0.3", "net.iperf_peer: only for net.iperf=client" },
	{ "net.mgmt=10.77.0.2/24 net.iperf_conns=2", "net.iperf_conns: only for net.iperf=client" },
	{ "net.mgmt=10.77.0.2/24 net.iperf=client net.iperf_peer=10.77.0.2",
	  "net.iperf_peer: must be another host than net.mgmt" },
	{ "net.mgmt=10.77.0.2/24 net.iperf=client net.iperf_peer=10.77.0.3 net.iperf_conns=5",
	  "net.iperf_conns=5: must be 1..4" },
	{ "net.mgmt=10.77.0.2/24 net.iperf=client net.iperf_peer=10.77.0.3 net.iperf_conns=0",
	  "net.iperf_conns=0: must be 1..4" },
	{ "net.mgmt=10.77.0.2/24 net.iperf=client net.iperf_peer=10.77.0/24",
	  "net.iperf_peer=10.77.0/24: not an IPv4 address (a.b.c.d)" },
	{ "net.mgmt=10.77.0.2/24 net.iperf=client net.iperf_peer=224.0.0.1",
	  "net.iperf_peer=224.0.0.1: not a unicast host address" },
	{ "net.mgmt=10.77.0.2/24 net.iperf=server net.iperf=client", "net.iperf=client: given more than once" },
};

START_TEST(test_iperf_good)
{
	struct hv_config cfg;
	char err[CONFIG_ERR_MAX];

	ck_assert_msg(config_parse(iperf_good[_i].cmdline, &cfg, err, sizeof(err)) == HV_OK, "%s: %s",
		      iperf_good[_i].cmdline, err);
	ck_assert_uint_eq(cfg.net_iperf, iperf_good[_i].mode);
	ck_assert_uint_eq(cfg.net_iperf_peer, iperf_good[_i].peer);
	ck_assert_uint_eq(cfg.net_iperf_conns, iperf_good[_i].conns);
}
END_TEST

START_TEST(test_iperf_bad)
{
	struct hv_config cfg;
	char err[CONFIG_ERR_MAX];

	ck_assert_int_eq(config_parse(iperf_bad[_i].cmdline, &cfg, err, sizeof(err)), HV_EINVAL);
	ck_assert_str_eq(err, iperf_bad[_i].err);
	ck_is_defaults(&cfg);
	ck_assert_int_eq(config_parse(iperf_bad[_i].cmdline, &cfg, NULL, 0), HV_EINVAL); /* no buffer: no crash */
}
END_TEST
/* --- end iperf --- */

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_net_options);
	tcase_add_test(tc, test_token_and_redaction);
	tcase_add_test(tc, test_migr_secret_and_no_vm);
	tcase_add_test(tc, test_vm_uuid);
	tcase_add_test(tc, test_throttle_cross_checks);
	tcase_add_loop_test(tc, test_empty_lines, 0, sizeof(empty_lines) / sizeof(empty_lines[0]));
	tcase_add_test(tc, test_null_cmdline);
	tcase_add_loop_test(tc, test_good, 0, sizeof(good) / sizeof(good[0]));
	tcase_add_test(tc, test_all_options);
	tcase_add_test(tc, test_parse_is_over_defaults);
	tcase_add_loop_test(tc, test_bad, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_loop_test(tc, test_err_truncation, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_null_err);
	tcase_add_test(tc, test_long_word);
	tcase_add_test(tc, test_kernel_path_only_first);
	tcase_add_test(tc, test_err_cleared_on_success);
	tcase_add_loop_test(tc, test_iperf_good, 0, sizeof(iperf_good) / sizeof(iperf_good[0])); /* iperf */
	tcase_add_loop_test(tc, test_iperf_bad, 0, sizeof(iperf_bad) / sizeof(iperf_bad[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(config_suite());
}
