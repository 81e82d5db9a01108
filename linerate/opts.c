/* ferry-migrate's command line: see opts.h and README.md. */
#define _POSIX_C_SOURCE 200809L
#include "linerate/opts.h"
#include "migration/stream.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEND (1u << LR_ROLE_SEND)
#define RECV (1u << LR_ROLE_RECV)
#define BOTH (SEND | RECV)

struct opt {
	const char *name;
	unsigned roles; /* where it is accepted */
	int flag;       /* takes no value */
};

static const struct opt opts[] = {
	{ "to", SEND, 0 },          { "listen", RECV, 0 },       { "connections", BOTH, 0 },
	{ "secret-file", BOTH, 0 }, { "mem", BOTH, 0 },          { "json", BOTH, 0 },
	{ "pattern", SEND, 0 },     { "rate", SEND, 0 },         { "writers", SEND, 0 },
	{ "hot-pct", SEND, 0 },     { "zero", SEND, 1 },         { "downtime-ms", SEND, 0 },
	{ "bandwidth", SEND, 0 },   { "max-throttle", SEND, 0 }, { "max-precopy-ms", SEND, 0 },
	{ "abort-on-timeout", SEND, 1 }, { "tracker", SEND, 0 }, { "fault", SEND, 0 },
	{ "vcpus", SEND, 0 },       { "tsc-khz", SEND, 0 },      { "chunk-kib", SEND, 0 },
	{ "sockbuf-kib", BOTH, 0 }, { "timeout", BOTH, 0 },      { "quiet", BOTH, 1 },
	{ "congestion", BOTH, 0 },  { "mac", SEND, 0 },          { "pause-retries", SEND, 0 },
};

static int fail(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return LR_EXIT_USAGE;
}

int lr_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (*end == 'K' || *end == 'k')
		shift = 10, end++;
	else if (*end == 'M' || *end == 'm')
		shift = 20, end++;
	else if (*end == 'G' || *end == 'g')
		shift = 30, end++;
	if (*end || (shift && v > (~0ull >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

/* A decimal in [lo, hi]. */
static int num(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int pick(const char *s, const char *const *names, uint32_t count, uint32_t *out)
{
	uint32_t i;

	for (i = 0; i < count; i++)
		if (names[i] && !strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
	return -1;
}

/* HOST:PORT with a dotted IPv4 host or "localhost". */
static int endpoint(const char *s, struct lr_opts *o)
{
	const char *colon = strrchr(s, ':');
	uint64_t port;
	size_t n;

	if (!colon || colon == s || num(colon + 1, 1, 65535, &port))
		return -1;
	n = (size_t)(colon - s);
	if (n >= sizeof(o->host))
		return -1;
	memcpy(o->host, s, n);
	o->host[n] = 0;
	o->port = (uint16_t)port;
	return 0;
}

/* The secret: one line of printable bytes, 16..64 long, a trailing newline dropped. */
static int secret(struct lr_opts *o, const char *text, size_t n, char *err, size_t errlen, const char *from)
{
	size_t i;

	while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;
	if (n < LR_SECRET_MIN || n > LR_SECRET_MAX)
		return fail(err, errlen, "the secret from %s must be %u to %u bytes long", from, LR_SECRET_MIN,
			    LR_SECRET_MAX);
	for (i = 0; i < n; i++)
		if (text[i] <= ' ' || text[i] > '~')
			return fail(err, errlen, "the secret from %s must be printable, without spaces", from);
	memcpy(o->secret, text, n);
	o->secret_len = n;
	return 0;
}

static int secret_file(struct lr_opts *o, const char *path, char *err, size_t errlen)
{
	char buf[LR_SECRET_MAX + 4];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return fail(err, errlen, "--secret-file %s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return secret(o, buf, n, err, errlen, "--secret-file");
}

static const char *const patterns[] = { "none", "seq", "random", "hot" };
static const char *const trackers[] = { "auto", "pagemap", "self" };
static const char *const macs[] = { "auto", "hmac-sha256", "poly1305", "gmac" }; /* index = mac_alg */
_Static_assert(MIGR_MAC_HMAC_SHA256_128 == 1 && MIGR_MAC_POLY1305 == 2 && MIGR_MAC_AES_GMAC == 3, "--mac's names");
static const char *const faults[] = { NULL, "forged-record", "malformed", "outside-memory", "no-secret" };

/* One option's value into o; name is known to be valid for the role. */
static int apply(struct lr_opts *o, const char *name, const char *v, char *err, size_t errlen)
{
	uint64_t x;

	if (!strcmp(name, "to") || !strcmp(name, "listen")) {
		if (endpoint(v, o))
			return fail(err, errlen, "--%s %s: expected HOST:PORT with a port 1..65535", name, v);
	} else if (!strcmp(name, "connections")) {
		if (num(v, 1, 16, &x))
			return fail(err, errlen, "--connections %s: expected 1..16", v);
		o->connections = (uint32_t)x;
	} else if (!strcmp(name, "secret-file")) {
		return secret_file(o, v, err, errlen);
	} else if (!strcmp(name, "mem")) {
		if (lr_parse_size(v, &x) || x == 0 || x % 4096 || x > LR_MEM_MAX)
			return fail(err, errlen, "--mem %s: expected a multiple of 4K up to 8G (e.g. 64M)", v);
		o->mem = x;
	} else if (!strcmp(name, "json")) {
		o->json = v;
	} else if (!strcmp(name, "pattern")) {
		if (pick(v, patterns, 4, &o->pattern))
			return fail(err, errlen, "--pattern %s: expected none, seq, random or hot", v);
	} else if (!strcmp(name, "rate")) {
		if (!strcmp(v, "flat"))
			o->rate_mib_s = 0;
		else if (num(v, 1, 1000000, &o->rate_mib_s))
			return fail(err, errlen, "--rate %s: expected MiB/s (1..1000000) or flat", v);
	} else if (!strcmp(name, "writers")) {
		if (num(v, 1, LR_WRITERS_MAX, &x))
			return fail(err, errlen, "--writers %s: expected 1..%u", v, LR_WRITERS_MAX);
		o->writers = (uint32_t)x;
	} else if (!strcmp(name, "hot-pct")) {
		if (num(v, 1, 100, &x))
			return fail(err, errlen, "--hot-pct %s: expected 1..100", v);
		o->hot_pct = (uint32_t)x;
	} else if (!strcmp(name, "downtime-ms")) {
		if (num(v, 1, 600000, &x))
			return fail(err, errlen, "--downtime-ms %s: expected 1..600000", v);
		o->downtime_ms = (uint32_t)x;
	} else if (!strcmp(name, "pause-retries")) {
		if (num(v, 0, LR_PAUSE_RETRIES_MAX, &x))
			return fail(err, errlen, "--pause-retries %s: expected 0..%u", v, LR_PAUSE_RETRIES_MAX);
		o->pause_retries = (uint32_t)x;
	} else if (!strcmp(name, "bandwidth")) {
		if (num(v, 1, 1000000, &o->bandwidth_mib_s))
			return fail(err, errlen, "--bandwidth %s: expected MiB/s, 1..1000000", v);
	} else if (!strcmp(name, "max-throttle")) {
		if (num(v, 0, 99, &x))
			return fail(err, errlen, "--max-throttle %s: expected 0..99", v);
		o->max_throttle = (uint32_t)x;
	} else if (!strcmp(name, "max-precopy-ms")) {
		if (num(v, 1, 86400000, &o->max_precopy_ms))
			return fail(err, errlen, "--max-precopy-ms %s: expected 1..86400000", v);
	} else if (!strcmp(name, "tracker")) {
		if (pick(v, trackers, 3, &o->tracker))
			return fail(err, errlen, "--tracker %s: expected auto, pagemap or self", v);
	} else if (!strcmp(name, "mac")) {
		if (pick(v, macs, 4, &o->mac_alg))
			return fail(err, errlen, "--mac %s: expected auto, poly1305, gmac or hmac-sha256", v);
	} else if (!strcmp(name, "fault")) {
		if (pick(v, faults, 5, &o->fault))
			return fail(err, errlen, "--fault %s: expected forged-record, malformed, outside-memory or no-secret", v);
	} else if (!strcmp(name, "vcpus")) {
		if (num(v, 1, 64, &x))
			return fail(err, errlen, "--vcpus %s: expected 1..64", v);
		o->vcpus = (uint32_t)x;
	} else if (!strcmp(name, "tsc-khz")) {
		if (num(v, 1000, 100000000, &x))
			return fail(err, errlen, "--tsc-khz %s: expected 1000..100000000", v);
		o->tsc_hz = x * 1000;
	} else if (!strcmp(name, "chunk-kib")) {
		if (num(v, 256, 65536, &x))
			return fail(err, errlen, "--chunk-kib %s: expected 256..65536", v);
		o->chunk_kib = (uint32_t)x;
	} else if (!strcmp(name, "sockbuf-kib")) {
		if (num(v, 0, 1048576, &x))
			return fail(err, errlen, "--sockbuf-kib %s: expected 0..1048576", v);
		o->sockbuf_kib = (uint32_t)x;
	} else if (!strcmp(name, "congestion")) {
		if (!*v || strlen(v) >= sizeof(o->congestion) ||
		    strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(v))
			return fail(err, errlen, "--congestion %s: expected a TCP congestion control's name (cubic, bbr, ...)", v);
		memcpy(o->congestion, v, strlen(v) + 1);
		o->congestion_given = 1;
	} else if (!strcmp(name, "timeout")) {
		if (num(v, 1, 86400, &x))
			return fail(err, errlen, "--timeout %s: expected seconds, 1..86400", v);
		o->timeout_s = (uint32_t)x;
	}
	return 0;
}

static void defaults(struct lr_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->connections = 1;
	o->pattern = LR_PAT_NONE;
	o->hot_pct = 25;
	o->downtime_ms = 300;
	o->pause_retries = LR_PAUSE_RETRIES_DEFAULT;
	o->max_throttle = 99;
	o->vcpus = 1;
	o->tsc_hz = 1000000000;
	o->chunk_kib = 512;
	o->sockbuf_kib = 4096;
	memcpy(o->congestion, LR_CONGESTION_DEFAULT, sizeof(LR_CONGESTION_DEFAULT));
	o->timeout_s = 600;
}

int lr_opts_parse(int argc, char *const argv[], struct lr_opts *o, char *err, size_t errlen,
		  const char *(*env)(const char *))
{
	unsigned seen = 0, role_bit;
	const char *name, *value, *eq;
	char key[32];
	size_t i, k;
	int a, rc;

	defaults(o);
	if (argc < 2 || (strcmp(argv[1], "send") && strcmp(argv[1], "recv")))
		return fail(err, errlen, "usage: ferry-migrate send|recv [options] (see linerate/README.md)");
	o->role = strcmp(argv[1], "send") ? LR_ROLE_RECV : LR_ROLE_SEND;
	role_bit = 1u << o->role;
	for (a = 2; a < argc; a++) {
		if (strncmp(argv[a], "--", 2))
			return fail(err, errlen, "%s: expected an option starting with --", argv[a]);
		name = argv[a] + 2;
		eq = strchr(name, '=');
		k = eq ? (size_t)(eq - name) : strlen(name);
		if (k >= sizeof(key))
			return fail(err, errlen, "--%.*s: unknown option", (int)(k < 40 ? k : 40), name);
		memcpy(key, name, k);
		key[k] = 0;
		for (i = 0; i < sizeof(opts) / sizeof(opts[0]) && strcmp(opts[i].name, key); i++)
			;
		if (i == sizeof(opts) / sizeof(opts[0]))
			return fail(err, errlen, "--%s: unknown option", key);
		if (!(opts[i].roles & role_bit))
			return fail(err, errlen, "--%s: not an option of %s", key, argv[1]);
		if (seen & (1u << i))
			return fail(err, errlen, "--%s given twice", key);
		seen |= 1u << i;
		if (opts[i].flag) {
			if (eq)
				return fail(err, errlen, "--%s takes no value", key);
			if (!strcmp(key, "zero"))
				o->zero = 1;
			else if (!strcmp(key, "quiet"))
				o->quiet = 1;
			else
				o->abort_on_timeout = 1;
			continue;
		}
		if (eq)
			value = eq + 1;
		else if (a + 1 < argc)
			value = argv[++a];
		else
			return fail(err, errlen, "--%s needs a value", key);
		rc = apply(o, key, value, err, errlen);
		if (rc)
			return rc;
	}
	if (!o->host[0])
		return fail(err, errlen, o->role == LR_ROLE_SEND ? "--to HOST:PORT is required"
								 : "--listen HOST:PORT is required");
	if (!o->mem)
		return fail(err, errlen, "--mem SIZE is required");
	if (!o->secret_len) {
		value = env(LR_SECRET_ENV);
		if (!value)
			return fail(err, errlen, "no secret: --secret-file F or the environment variable %s", LR_SECRET_ENV);
		rc = secret(o, value, strlen(value), err, errlen, LR_SECRET_ENV);
		if (rc)
			return rc;
	}
	if (o->pattern == LR_PAT_NONE && o->writers)
		return fail(err, errlen, "--writers needs a --pattern other than none");
	if (o->pattern != LR_PAT_NONE && !o->writers)
		o->writers = 1;
	if (o->writers && o->mem / 4096 < o->writers)
		return fail(err, errlen, "--mem is too small for %u writers", o->writers);
	return 0;
}
