/*
 * Kernel command line parser. Table-driven: one row per option says how to
 * read its value and where to store it. Pure (no hardware, no globals; the C
 * library's formatting only), so the host tests run it as is.
 *
 * The options are the rows of config_opts[] below (key, kind, range) and
 * their defaults are in config_defaults(); README.md, "Command line", tells
 * an operator the same; no second list here, so none can fall behind.
 * Numbers are decimal or 0x-prefixed hex.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "kernel/core/config.h"
#include "kernel/lib/err.h"
#include "kernel/lib/parse.h"
#include "kernel/lib/strbuf.h"

#define CONFIG_SLICE_US_DEFAULT 1000u
#define CONFIG_RUN_FOR_MAX 86400000u      /* one day */
#define CONFIG_RATE_MAX 10000000u
#define CONFIG_HOT_MAX 1048576u           /* 4 GiB worth of pages */
#define CONFIG_HOT_DEFAULT 64u
#define CONFIG_REPORT_MS_MIN 10u
#define CONFIG_REPORT_MS_MAX 60000u
#define CONFIG_REPORT_MS_DEFAULT 1000u
#define CONFIG_VERIFY_MAX 100000000u
#define CONFIG_VERIFY_DEFAULT 4096u
#define CONFIG_PAGE 4096ull

void config_defaults(struct hv_config *cfg)
{
	cfg->mem_bytes = CONFIG_MEM_DEFAULT;
	cfg->vcpus = 1;
	cfg->log_level = LOG_INFO;
	cfg->slice_us = CONFIG_SLICE_US_DEFAULT;
	cfg->run_for_ms = 0;
	cfg->guest.mode = HV_MODE_WORK;
	cfg->guest.pattern = HV_PATTERN_SEQ;
	cfg->guest.rate = 0;
	cfg->guest.hot_pages = CONFIG_HOT_DEFAULT;
	cfg->guest.seed = 1;
	cfg->guest.report_ms = CONFIG_REPORT_MS_DEFAULT;
	cfg->guest.verify_every = CONFIG_VERIFY_DEFAULT;
	cfg->guest.announce = 0;
	cfg->guest.prefill = 0;
	cfg->dirty_backend = 0;       /* auto: PML where the CPU has it */
	cfg->dirty_check_ms = 0;      /* no log-dirty self-check */
	cfg->dirty_rounds = CONFIG_DIRTY_ROUNDS_DEFAULT;
	cfg->dirty_verify = 1;
	cfg->throttle = 0;
	cfg->throttle_max = CONFIG_THROTTLE_MAX;
	cfg->period_us = CONFIG_PERIOD_US_DEFAULT;
	cfg->dirty_limit = 0;
	cfg->throttle_bench = THROTTLE_BENCH_OFF;
	cfg->step_ms = CONFIG_STEP_MS_DEFAULT;
	cfg->api_token[0] = '\0';     /* no token: the management API stays off */
	cfg->api_port = CONFIG_API_PORT_DEFAULT;
	cfg->migr_secret[0] = '\0';  /* no secret: this host neither sends nor receives VMs */
	cfg->vm_none = 0;             /* the guest image becomes vm0 */
	memset(cfg->vm_uuid, 0, sizeof(cfg->vm_uuid)); /* a random identity when the VM is made */
	cfg->net_mgmt_addr = 0;       /* no networking */
	cfg->net_mgmt_prefix = 0;
	cfg->net_gw = 0;
	cfg->net_nics = 1;
	cfg->net_mgmt_dhcp = 0;
	cfg->net_migr_addr = 0;       /* migration shares the management NIC */
	cfg->net_migr_prefix = 0;
	cfg->net_migr_dhcp = 0;
	cfg->net_iperf = CONFIG_IPERF_OFF;
	cfg->net_iperf_peer = 0;
	cfg->net_iperf_conns = 1;
}

enum config_kind {
	CONFIG_NUM,     /* plain number */
	CONFIG_SIZE,    /* number with optional K/M/G suffix, multiple of 4K */
	CONFIG_NAME,    /* one of a list of names; the value is its index */
	CONFIG_IPV4,    /* unicast IPv4 host address a.b.c.d; the value is the address */
	CONFIG_IPV4_PREFIX, /* a.b.c.d/n, a host of its subnet; the value is address << 8 | n */
	CONFIG_TOKEN,   /* a secret of min..max bearer-token characters, copied to the option's text field */
	CONFIG_UUID,    /* 8-4-4-4-12 hex digits, not all zero, parsed into cfg->vm_uuid */
};

/* RFC 6750 b64token characters, without the trailing '=' padding. */
static int config_token_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
	       c == '_' || c == '~' || c == '+' || c == '/';
}

/* Setters instead of offsets: fields differ in type (u64, u32, enum). */
typedef void (*config_setter)(struct hv_config *cfg, uint64_t v);

#define CONFIG_SETTER(name, field, type) \
	static void config_set_##name(struct hv_config *cfg, uint64_t v) { cfg->field = (type)v; }

CONFIG_SETTER(mem, mem_bytes, uint64_t)
CONFIG_SETTER(vcpus, vcpus, uint32_t)
CONFIG_SETTER(log, log_level, enum hv_log_level)
CONFIG_SETTER(slice, slice_us, uint32_t)
CONFIG_SETTER(run_for, run_for_ms, uint32_t)
CONFIG_SETTER(mode, guest.mode, uint32_t)
CONFIG_SETTER(pattern, guest.pattern, uint32_t)
CONFIG_SETTER(rate, guest.rate, uint32_t)
CONFIG_SETTER(hot, guest.hot_pages, uint32_t)
CONFIG_SETTER(seed, guest.seed, uint32_t)
CONFIG_SETTER(report, guest.report_ms, uint32_t)
CONFIG_SETTER(verify, guest.verify_every, uint32_t)
CONFIG_SETTER(announce, guest.announce, uint32_t)
CONFIG_SETTER(prefill, guest.prefill, uint32_t)
CONFIG_SETTER(dirty, dirty_backend, uint32_t)
CONFIG_SETTER(dirty_check, dirty_check_ms, uint32_t)
CONFIG_SETTER(dirty_rounds, dirty_rounds, uint32_t)
CONFIG_SETTER(dirty_verify, dirty_verify, uint32_t)
CONFIG_SETTER(throttle, throttle, uint32_t)
CONFIG_SETTER(throttle_max, throttle_max, uint32_t)
CONFIG_SETTER(period, period_us, uint32_t)
CONFIG_SETTER(dirty_limit, dirty_limit, uint32_t)
CONFIG_SETTER(throttle_bench, throttle_bench, uint32_t)
CONFIG_SETTER(step, step_ms, uint32_t)
CONFIG_SETTER(api_port, api_port, uint32_t)
CONFIG_SETTER(net_gw, net_gw, uint32_t)
CONFIG_SETTER(net_nics, net_nics, uint32_t)
CONFIG_SETTER(net_iperf, net_iperf, uint32_t)
CONFIG_SETTER(net_iperf_peer, net_iperf_peer, uint32_t)
CONFIG_SETTER(net_iperf_conns, net_iperf_conns, uint32_t)
CONFIG_SETTER(vm_none, vm_none, uint32_t)

/* Where a CONFIG_TOKEN option's text goes (room for its max characters and a NUL). */
typedef char *(*config_text_field)(struct hv_config *cfg);
static char *config_text_api_token(struct hv_config *cfg) { return cfg->api_token; }
static char *config_text_migr_secret(struct hv_config *cfg) { return cfg->migr_secret; }

static const struct {
	const char *key;
	config_text_field field;
} config_texts[] = {
	{ "api.token", config_text_api_token },
	{ "migr.secret", config_text_migr_secret },
};

/* The field of a CONFIG_TOKEN option; every such option has one (the host tests set each). */
static char *config_text(struct hv_config *cfg, const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(config_texts) / sizeof(config_texts[0]); i++)
		if (!strcmp(config_texts[i].key, key))
			return config_texts[i].field(cfg);
	return NULL;
}

/* The value of an address/prefix option that said "dhcp" (beyond any address << 8 | prefix). */
#define CONFIG_IPV4_DHCP (1ull << 40)

static void config_set_net_mgmt(struct hv_config *cfg, uint64_t v)
{
	cfg->net_mgmt_dhcp = v == CONFIG_IPV4_DHCP;
	cfg->net_mgmt_addr = cfg->net_mgmt_dhcp ? 0 : (uint32_t)(v >> 8);
	cfg->net_mgmt_prefix = cfg->net_mgmt_dhcp ? 0 : (uint32_t)(v & 0xff);
}

static void config_set_net_migr(struct hv_config *cfg, uint64_t v)
{
	cfg->net_migr_dhcp = v == CONFIG_IPV4_DHCP;
	cfg->net_migr_addr = cfg->net_migr_dhcp ? 0 : (uint32_t)(v >> 8);
	cfg->net_migr_prefix = cfg->net_migr_dhcp ? 0 : (uint32_t)(v & 0xff);
}

/* Name lists are indexed by the enum value they stand for. */
static const char *const config_log_names[] = { "error", "warn", "info", "debug", NULL };
static const char *const config_mode_names[] = { "work",    "oob",   "triple", "cpuid", "idle",
						 "compute", "mixed", "events", "strio", NULL };
static const char *const config_bench_names[] = { "off", "quick", "full", "dirty", NULL };
static const char *const config_pattern_names[] = { "seq", "random", "hot", NULL };
static const char *const config_dirty_names[] = { "auto", "wp", "pml", NULL };
static const char *const config_iperf_names[] = { "off", "server", "client", NULL }; /* enum config_iperf */
static const char *const config_vm_names[] = { "guest", "none", NULL };

struct config_opt {
	const char *key;
	enum config_kind kind;
	uint64_t min;
	uint64_t max;
	config_setter set;
	const char *const *names;  /* CONFIG_NAME only */
	int secret;                /* CONFIG_SECRET: the value is never shown, not even in an error */
};

#define CONFIG_SECRET 1

static const struct config_opt config_opts[] = {
	{ "mem", CONFIG_SIZE, CONFIG_MEM_MIN, CONFIG_MEM_MAX, config_set_mem, NULL, 0 },
	{ "vcpus", CONFIG_NUM, 1, HV_MAX_VCPUS, config_set_vcpus, NULL, 0 },
	{ "log", CONFIG_NAME, 0, 0, config_set_log, config_log_names, 0 },
	{ "slice_us", CONFIG_NUM, CONFIG_SLICE_US_MIN, CONFIG_SLICE_US_MAX, config_set_slice, NULL, 0 },
	{ "run_for", CONFIG_NUM, 0, CONFIG_RUN_FOR_MAX, config_set_run_for, NULL, 0 },
	{ "guest.mode", CONFIG_NAME, 0, 0, config_set_mode, config_mode_names, 0 },
	{ "guest.pattern", CONFIG_NAME, 0, 0, config_set_pattern, config_pattern_names, 0 },
	{ "guest.rate", CONFIG_NUM, 0, CONFIG_RATE_MAX, config_set_rate, NULL, 0 },
	{ "guest.hot", CONFIG_NUM, 1, CONFIG_HOT_MAX, config_set_hot, NULL, 0 },
	{ "guest.seed", CONFIG_NUM, 0, UINT32_MAX, config_set_seed, NULL, 0 },
	{ "guest.report_ms", CONFIG_NUM, CONFIG_REPORT_MS_MIN, CONFIG_REPORT_MS_MAX, config_set_report, NULL, 0 },
	{ "guest.verify", CONFIG_NUM, 0, CONFIG_VERIFY_MAX, config_set_verify, NULL, 0 },
	{ "guest.announce", CONFIG_NUM, 0, 1, config_set_announce, NULL, 0 },
	{ "guest.prefill", CONFIG_NUM, 0, 1, config_set_prefill, NULL, 0 },
	{ "dirty", CONFIG_NAME, 0, 0, config_set_dirty, config_dirty_names, 0 },
	{ "dirty.check", CONFIG_NUM, 0, CONFIG_DIRTY_CHECK_MAX, config_set_dirty_check, NULL, 0 },
	{ "dirty.rounds", CONFIG_NUM, 1, CONFIG_DIRTY_ROUNDS_MAX, config_set_dirty_rounds, NULL, 0 },
	{ "dirty.verify", CONFIG_NUM, 0, 1, config_set_dirty_verify, NULL, 0 },
	{ "throttle", CONFIG_NUM, 0, CONFIG_THROTTLE_MAX, config_set_throttle, NULL, 0 },
	{ "throttle.max", CONFIG_NUM, 0, CONFIG_THROTTLE_MAX, config_set_throttle_max, NULL, 0 },
	{ "throttle.period_us", CONFIG_NUM, CONFIG_PERIOD_US_MIN, CONFIG_PERIOD_US_MAX, config_set_period, NULL, 0 },
	{ "throttle.dirty_limit", CONFIG_NUM, 0, CONFIG_DIRTY_LIMIT_MAX, config_set_dirty_limit, NULL, 0 },
	{ "throttle.bench", CONFIG_NAME, 0, 0, config_set_throttle_bench, config_bench_names, 0 },
	{ "throttle.step_ms", CONFIG_NUM, CONFIG_STEP_MS_MIN, CONFIG_STEP_MS_MAX, config_set_step, NULL, 0 },
	{ "net.mgmt", CONFIG_IPV4_PREFIX, 1, 32, config_set_net_mgmt, NULL, 0 },
	{ "net.gw", CONFIG_IPV4, 0, 0, config_set_net_gw, NULL, 0 },
	{ "net.nics", CONFIG_NUM, 1, CONFIG_NET_NICS_MAX, config_set_net_nics, NULL, 0 },
	{ "net.migr", CONFIG_IPV4_PREFIX, 1, 32, config_set_net_migr, NULL, 0 },
	{ "net.iperf", CONFIG_NAME, 0, 0, config_set_net_iperf, config_iperf_names, 0 },
	{ "net.iperf_peer", CONFIG_IPV4, 0, 0, config_set_net_iperf_peer, NULL, 0 },
	{ "net.iperf_conns", CONFIG_NUM, 1, CONFIG_NET_IPERF_CONNS_MAX, config_set_net_iperf_conns, NULL, 0 },
	{ "api.token", CONFIG_TOKEN, CONFIG_API_TOKEN_MIN, CONFIG_API_TOKEN_MAX, NULL, NULL, CONFIG_SECRET },
	{ "api.port", CONFIG_NUM, 1, 65535, config_set_api_port, NULL, 0 },
	{ "migr.secret", CONFIG_TOKEN, CONFIG_MIGR_SECRET_MIN, CONFIG_MIGR_SECRET_MAX, NULL, NULL, CONFIG_SECRET },
	{ "vm", CONFIG_NAME, 0, 0, config_set_vm_none, config_vm_names, 0 },
	{ "vm.uuid", CONFIG_UUID, 0, 0, NULL, NULL, 0 },
};

#define CONFIG_NOPTS (sizeof(config_opts) / sizeof(config_opts[0]))
_Static_assert(CONFIG_NOPTS <= 64, "seen-mask is a uint64_t");

/* Octets of a host-order IPv4 address, most significant first, for "%u.%u.%u.%u". */
#define CONFIG_IPV4_OCTETS(a) (unsigned)((a) >> 24), (unsigned)((a) >> 16 & 0xff), (unsigned)((a) >> 8 & 0xff), \
	(unsigned)((a) & 0xff)

/* A length-delimited piece of the command line: words are not NUL-terminated. */
struct config_str {
	const char *p;
	size_t len;
};

/* Sizes print in the largest unit that divides them, so ranges read "8M..2G". */
static void config_msg_putsize(struct strbuf *m, uint64_t v)
{
	static const char units[] = "GMK";
	int shift = 30;
	size_t i;

	for (i = 0; i < 3; i++, shift -= 10) {
		if (v != 0 && v % (1ull << shift) == 0) {
			strbuf_printf(m, "%llu%c", (unsigned long long)(v >> shift), units[i]);
			return;
		}
	}
	strbuf_printf(m, "%llu", (unsigned long long)v);
}

static int config_str_eq(struct config_str s, const char *z)
{
	size_t i;

	for (i = 0; i < s.len; i++)
		if (z[i] != s.p[i])  /* also stops at z's NUL, which s.p[i] cannot match */
			return 0;
	return z[i] == '\0';
}

static int config_digit(char c, unsigned base)
{
	int d;

	if (c >= '0' && c <= '9')
		d = c - '0';
	else if (c >= 'a' && c <= 'f')
		d = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		d = c - 'A' + 10;
	else
		return -1;
	return d < (int)base ? d : -1;
}

enum config_num_status {
	CONFIG_NUM_OK,
	CONFIG_NUM_BAD,       /* not a number: empty, stray characters */
	CONFIG_NUM_OVERFLOW,  /* a number, but not one a uint64_t holds */
};

/*
 * Reads a decimal or 0x-hex number, with a K/M/G suffix when allow_suffix.
 * All of s must be consumed; overflow is kept apart so it reads as a range error.
 */
static enum config_num_status config_parse_num(struct config_str s, int allow_suffix,
					       uint64_t *out)
{
	unsigned base = 10;
	size_t i = 0, start;
	uint64_t v = 0;
	int overflow = 0, shift = 0, d;

	if (s.len >= 2 && s.p[0] == '0' && (s.p[1] == 'x' || s.p[1] == 'X')) {
		base = 16;
		i = 2;
	}
	start = i;
	for (; i < s.len && (d = config_digit(s.p[i], base)) >= 0; i++) {
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			overflow = 1;  /* keep scanning: trailing garbage still wins */
		else
			v = v * base + (uint64_t)d;
	}
	if (i == start)
		return CONFIG_NUM_BAD;
	if (allow_suffix && i + 1 == s.len) {
		switch (s.p[i]) {
		case 'K': case 'k': shift = 10; break;
		case 'M': case 'm': shift = 20; break;
		case 'G': case 'g': shift = 30; break;
		default: return CONFIG_NUM_BAD;
		}
		i++;
	}
	if (i != s.len)
		return CONFIG_NUM_BAD;
	if (overflow || (shift != 0 && v > (UINT64_MAX >> shift)))
		return CONFIG_NUM_OVERFLOW;
	*out = v << shift;
	return CONFIG_NUM_OK;
}

static int config_value_ipv4(const struct config_opt *o, struct config_str val, struct strbuf *m,
			     uint64_t *out)
{
	struct config_str addr = val, pfx = { NULL, 0 };
	uint32_t a, prefix = 32, mask;
	size_t i;

	if (o->kind == CONFIG_IPV4_PREFIX && config_str_eq(val, "dhcp")) {
		*out = CONFIG_IPV4_DHCP;
		return HV_OK;
	}
	if (o->kind == CONFIG_IPV4_PREFIX) {
		for (i = 0; i < val.len && val.p[i] != '/'; i++)
			;
		if (i == val.len || ipv4_parse(val.p, i, &a)) {
			strbuf_printf(m, "not an IPv4 address with prefix (a.b.c.d/n) or dhcp");
			return HV_EINVAL;
		}
		addr.len = i;
		pfx = (struct config_str){ val.p + i + 1, val.len - i - 1 };
		if (parse_dec(pfx.p, pfx.len, 99, &prefix) || prefix < o->min || prefix > o->max) {
			strbuf_printf(m, "prefix must be %llu..%llu", (unsigned long long)o->min, (unsigned long long)o->max);
			return HV_EINVAL;
		}
	} else if (ipv4_parse(addr.p, addr.len, &a)) {
		strbuf_printf(m, "not an IPv4 address (a.b.c.d)");
		return HV_EINVAL;
	}
	if (!ipv4_is_unicast(a)) {
		strbuf_printf(m, "not a unicast host address");
		return HV_EINVAL;
	}
	/* /31 and /32 have no network or broadcast address (RFC 3021). */
	mask = ipv4_mask(prefix);
	if (prefix <= 30 && ((a & ~mask) == 0 || (a & ~mask) == ~mask)) {
		strbuf_printf(m, "is the subnet's network or broadcast address");
		return HV_EINVAL;
	}
	*out = o->kind == CONFIG_IPV4_PREFIX ? (uint64_t)a << 8 | prefix : a;
	return HV_OK;
}

/* Starts an error message with the offending word, "key=value: ". */
static void config_msg_word(struct strbuf *m, struct config_str word)
{
	strbuf_printf(m, "%.*s: ", (int)word.len, word.p);
}

static void config_msg_range(struct strbuf *m, const struct config_opt *o)
{
	strbuf_printf(m, "must be ");
	if (o->kind == CONFIG_SIZE) {
		config_msg_putsize(m, o->min);
		strbuf_printf(m, "..");
		config_msg_putsize(m, o->max);
	} else {
		strbuf_printf(m, "%llu..%llu", (unsigned long long)o->min, (unsigned long long)o->max);
	}
}

/* Turns the value of one option into a number, or explains why not. */
static int config_value(const struct config_opt *o, struct config_str val,
			struct strbuf *m, uint64_t *out)
{
	enum config_num_status st;
	size_t i;

	if (o->kind == CONFIG_NAME) {
		for (i = 0; o->names[i] != NULL; i++) {
			if (config_str_eq(val, o->names[i])) {
				*out = i;
				return HV_OK;
			}
		}
		strbuf_printf(m, "must be one of ");
		for (i = 0; o->names[i] != NULL; i++) {
			if (i != 0)
				strbuf_printf(m, "|");
			strbuf_printf(m, "%s", o->names[i]);
		}
		return HV_EINVAL;
	}

	if (o->kind == CONFIG_IPV4 || o->kind == CONFIG_IPV4_PREFIX)
		return config_value_ipv4(o, val, m, out);

	if (o->kind == CONFIG_TOKEN) {
		for (i = 0; i < val.len && config_token_char(val.p[i]); i++)
			;
		if (i != val.len || val.len < o->min || val.len > o->max) {
			strbuf_printf(m, "must be %llu..%llu characters of A-Z a-z 0-9 - . _ ~ + /",
				      (unsigned long long)o->min, (unsigned long long)o->max);
			return HV_EINVAL;
		}
		*out = val.len;
		return HV_OK;
	}

	if (o->kind == CONFIG_UUID) {
		uint8_t u[UUID_LEN];

		if (uuid_parse(val.p, val.len, u) || uuid_is_nil(u)) {
			strbuf_printf(m, "must be a UUID other than the nil one (8-4-4-4-12 hex digits)");
			return HV_EINVAL;
		}
		return HV_OK;
	}

	st = config_parse_num(val, o->kind == CONFIG_SIZE, out);
	if (st == CONFIG_NUM_BAD) {
		strbuf_printf(m, "%s", o->kind == CONFIG_SIZE ?
				"not a number (decimal or 0x hex, optional K/M/G suffix)" :
				"not a number (decimal or 0x hex)");
		return HV_EINVAL;
	}
	/* Alignment first: "mem=12345" is better told to use 4K units. */
	if (st == CONFIG_NUM_OK && o->kind == CONFIG_SIZE && *out % CONFIG_PAGE != 0) {
		strbuf_printf(m, "must be a multiple of 4K");
		return HV_EINVAL;
	}
	if (st == CONFIG_NUM_OVERFLOW || *out < o->min || *out > o->max) {
		config_msg_range(m, o);
		return HV_EINVAL;
	}
	return HV_OK;
}

/* Applies one key=value word to cfg; seen tracks options already given. */
static int config_word(struct config_str word, struct hv_config *cfg, uint64_t *seen,
		       struct strbuf *m)
{
	struct config_str key = { word.p, 0 }, val;
	uint64_t v = 0;
	size_t i;
	int rc;

	while (key.len < word.len && word.p[key.len] != '=')
		key.len++;
	if (key.len == word.len) {
		config_msg_word(m, word);
		strbuf_printf(m, "expected key=value");
		return HV_EINVAL;
	}
	val.p = word.p + key.len + 1;
	val.len = word.len - key.len - 1;

	for (i = 0; i < CONFIG_NOPTS; i++)
		if (config_str_eq(key, config_opts[i].key))
			break;
	if (i < CONFIG_NOPTS && config_opts[i].secret) {
		/* A secret never goes to the console, not even a malformed one. */
		strbuf_printf(m, "%.*s=<secret>: ", (int)key.len, key.p);
	} else {
		config_msg_word(m, word);
	}
	if (i == CONFIG_NOPTS) {
		strbuf_printf(m, "unknown option");
		return HV_EINVAL;
	}
	if (*seen & (1ull << i)) {
		strbuf_printf(m, "given more than once");
		return HV_EINVAL;
	}
	if (val.len == 0) {
		strbuf_printf(m, "empty value");
		return HV_EINVAL;
	}
	rc = config_value(&config_opts[i], val, m, &v);
	if (rc != HV_OK)
		return rc;
	*seen |= 1ull << i;
	if (config_opts[i].kind == CONFIG_TOKEN) {
		char *text = config_text(cfg, config_opts[i].key);

		for (i = 0; i < val.len; i++)
			text[i] = val.p[i];
		text[val.len] = '\0';
	} else if (config_opts[i].kind == CONFIG_UUID) {
		(void)uuid_parse(val.p, val.len, cfg->vm_uuid); /* checked by config_value */
	} else {
		config_opts[i].set(cfg, v);
	}
	strbuf_reset(m);  /* drop the "word: " prefix: no error after all */
	return HV_OK;
}

/* Whether the option named key was given on the command line. */
static int config_seen(uint64_t seen, const char *key)
{
	struct config_str k = { key, 0 };
	size_t i;

	while (key[k.len] != '\0')
		k.len++;
	for (i = 0; i < CONFIG_NOPTS; i++)
		if (config_str_eq(k, config_opts[i].key))
			return (int)((seen >> i) & 1u);
	return 0;
}

/*
 * Options that only make sense together: the net.* and api.* options need
 * net.mgmt; the gateway is on its subnet; net.migr brings up a second NIC.
 */
static int config_check_net(struct hv_config *c, uint64_t seen, struct strbuf *m)
{
	static const char *const needs_mgmt[] = { "net.gw",    "net.nics",       "net.migr",       "api.token",
						  "api.port",  "net.iperf",      "net.iperf_peer", "net.iperf_conns",
						  "migr.secret" };
	uint32_t mask = ipv4_mask(c->net_mgmt_prefix);
	size_t i;

	for (i = 0; !config_net_on(c) && i < sizeof(needs_mgmt) / sizeof(needs_mgmt[0]); i++) {
		if (config_seen(seen, needs_mgmt[i])) {
			strbuf_printf(m, "%s: needs net.mgmt=<a.b.c.d/n>", needs_mgmt[i]);
			return HV_EINVAL;
		}
	}
	if (c->net_mgmt_dhcp && c->net_gw != 0) {
		strbuf_printf(m, "net.gw: DHCP gives the gateway with net.mgmt=dhcp");
		return HV_EINVAL;
	}
	if (config_net_migr(c) && c->net_nics < 2) {
		if (config_seen(seen, "net.nics")) {
			strbuf_printf(m, "net.migr: needs a second NIC (net.nics=2)");
			return HV_EINVAL;
		}
		c->net_nics = 2; /* the migration NIC is the second one */
	}
	if (config_seen(seen, "api.port") && !config_seen(seen, "api.token")) {
		strbuf_printf(m, "api.port: needs api.token=<secret>");
		return HV_EINVAL;
	}
	if (c->net_gw != 0 && ((c->net_gw & mask) != (c->net_mgmt_addr & mask) || c->net_gw == c->net_mgmt_addr)) {
		uint32_t net = c->net_mgmt_addr & mask;

		strbuf_printf(m, "net.gw=%u.%u.%u.%u: must be another host of net.mgmt's subnet %u.%u.%u.%u/%u",
			      CONFIG_IPV4_OCTETS(c->net_gw), CONFIG_IPV4_OCTETS(net), (unsigned)c->net_mgmt_prefix);
		return HV_EINVAL;
	}
	return HV_OK;
}

/*
 * The clients need a peer other than this host; peer and conns are the
 * clients' only. (config_check_net() has made sure net.iperf* come with net.mgmt.)
 */
static int config_check_iperf(const struct hv_config *c, uint64_t seen, struct strbuf *m)
{
	static const char *const keys[] = { "net.iperf_peer", "net.iperf_conns" };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (config_seen(seen, keys[i]) && c->net_iperf != CONFIG_IPERF_CLIENT) {
			strbuf_printf(m, "%s: only for net.iperf=client", keys[i]);
			return HV_EINVAL;
		}
	}
	if (c->net_iperf == CONFIG_IPERF_CLIENT && c->net_iperf_peer == 0) {
		strbuf_printf(m, "net.iperf=client: needs net.iperf_peer=<a.b.c.d>");
		return HV_EINVAL;
	}
	if (c->net_iperf_peer != 0 && c->net_iperf_peer == c->net_mgmt_addr) {
		strbuf_printf(m, "net.iperf_peer: must be another host than net.mgmt");
		return HV_EINVAL;
	}
	return HV_OK;
}

/* The throttle at boot stays under its ceiling; the dirty-rate limit and its benchmark need what they act on. */
static int config_check_throttle(const struct hv_config *c, struct strbuf *m)
{
	if (c->throttle > c->throttle_max) {
		strbuf_printf(m, "throttle=%u: above throttle.max=%u", (unsigned)c->throttle, (unsigned)c->throttle_max);
		return HV_EINVAL;
	}
	if (c->dirty_limit && !c->dirty_check_ms) {
		strbuf_printf(m, "throttle.dirty_limit: needs log-dirty mode (dirty.check=<ms>)");
		return HV_EINVAL;
	}
	if (c->throttle_bench == THROTTLE_BENCH_DIRTY && !c->dirty_limit) {
		strbuf_printf(m, "throttle.bench=dirty: needs throttle.dirty_limit=<pages/s>");
		return HV_EINVAL;
	}
	return HV_OK;
}

/* vm=none: nothing at boot acts on a VM; one arrives by migration with its own shape. */
static int config_check_vm(const struct hv_config *c, uint64_t seen, struct strbuf *m)
{
	static const char *const needs_vm[] = { "mem", "vcpus", "dirty.check", "throttle", "throttle.dirty_limit",
						"throttle.bench", "vm.uuid" };
	size_t i;

	for (i = 0; c->vm_none && i < sizeof(needs_vm) / sizeof(needs_vm[0]); i++) {
		if (config_seen(seen, needs_vm[i])) {
			strbuf_printf(m, "%s: there is no VM at boot with vm=none", needs_vm[i]);
			return HV_EINVAL;
		}
	}
	return HV_OK;
}

int config_parse(const char *cmdline, struct hv_config *cfg, char *err, size_t errlen)
{
	struct strbuf m;
	struct hv_config tmp;
	struct config_str word;
	uint64_t seen = 0;
	int first = 1, rc;
	const char *p = cmdline != NULL ? cmdline : "";

	strbuf_init(&m, err, errlen);
	config_defaults(&tmp);  /* parse into a copy: bad input changes nothing */
	for (;;) {
		while (parse_is_space(*p))
			p++;
		if (*p == '\0')
			break;
		word.p = p;
		while (*p != '\0' && !parse_is_space(*p))
			p++;
		word.len = (size_t)(p - word.p);

		/* Some loaders pass the kernel's path as the first word. */
		if (first) {
			size_t i = 0;

			first = 0;
			while (i < word.len && word.p[i] != '=')
				i++;
			if (i == word.len)
				continue;
		}
		rc = config_word(word, &tmp, &seen, &m);
		if (rc != HV_OK) {
			config_defaults(cfg);
			return rc;
		}
	}
	rc = config_check_net(&tmp, seen, &m);
	if (rc == HV_OK)
		rc = config_check_iperf(&tmp, seen, &m);
	if (rc == HV_OK)
		rc = config_check_throttle(&tmp, &m);
	if (rc == HV_OK)
		rc = config_check_vm(&tmp, seen, &m);
	if (rc != HV_OK) {
		config_defaults(cfg);
		return rc;
	}
	*cfg = tmp;
	return HV_OK;
}

/* The option a key=value word sets, if it is one of ours: NULL for anything else. */
static const struct config_opt *config_word_opt(struct config_str word)
{
	struct config_str key = { word.p, 0 };
	size_t i;

	while (key.len < word.len && word.p[key.len] != '=')
		key.len++;
	if (key.len == word.len)
		return NULL;
	for (i = 0; i < CONFIG_NOPTS; i++)
		if (config_str_eq(key, config_opts[i].key))
			return &config_opts[i];
	return NULL;
}

void config_redact(const char *cmdline, char *out, size_t cap)
{
	struct strbuf m;
	const struct config_opt *o;
	struct config_str word;
	const char *p = cmdline ? cmdline : "";

	strbuf_init(&m, out, cap);
	/* Word by word, spacing kept: every option marked secret shows as key=<secret>. */
	while (*p) {
		word.p = p;
		if (parse_is_space(*p)) {
			while (*p && parse_is_space(*p))
				p++;
			strbuf_printf(&m, "%.*s", (int)(p - word.p), word.p);
			continue;
		}
		while (*p && !parse_is_space(*p))
			p++;
		word.len = (size_t)(p - word.p);
		o = config_word_opt(word);
		if (o != NULL && o->secret)
			strbuf_printf(&m, "%s=<secret>", o->key);
		else
			strbuf_printf(&m, "%.*s", (int)word.len, word.p);
	}
}
