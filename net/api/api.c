#include "net/api/api.h"

#include <string.h>
#include "kernel/lib/err.h"
#include "kernel/lib/parse.h"
#include "kernel/lib/strbuf.h"
#include "kernel/lib/uuid.h"

#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>

#define API_FIELD_MAX 48  /* bytes of a field name quoted back in an error */

/* ---- JSON output ---------------------------------------------------------- */

/* A JSON string literal; everything outside printable ASCII is \u-escaped. */
static void api_put_str(struct strbuf *o, const char *s, size_t len)
{
	size_t i;

	strbuf_printf(o, "\"");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			strbuf_printf(o, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			strbuf_printf(o, "\\u%04x", c);
		else
			strbuf_printf(o, "%c", c);
	}
	strbuf_printf(o, "\"");
}

/* ---- Request decoding ----------------------------------------------------- */

/* Why a request was refused: status, message, and the field it concerns, if any. */
struct api_err {
	unsigned status;
	const char *msg;
	char field[API_FIELD_MAX + 1];
};

static int api_fail(struct api_err *e, unsigned status, const char *field, size_t field_len, const char *msg)
{
	e->status = status;
	e->msg = msg;
	if (field_len > API_FIELD_MAX)
		field_len = API_FIELD_MAX;
	memcpy(e->field, field ? field : "", field ? field_len : 0);
	e->field[field ? field_len : 0] = '\0';
	return HV_EINVAL;
}

#define API_FAIL(e, field, msg) api_fail((e), 400, (field), strlen(field), (msg))

/* A request body: one flat JSON object, checked pair by pair. */
struct api_obj {
	const char *js;
	jsmntok_t tok[API_JSON_TOKENS];
	unsigned pairs;
	unsigned key[API_JSON_TOKENS / 2];  /* token index of each key; its value follows it */
};

/* Only whitespace in [from, to), except one sep if sep != 0. */
static bool api_gap_ok(const char *js, int from, int to, char sep)
{
	bool seen = sep == 0;
	int i;

	for (i = from; i < to; i++) {
		if (parse_is_space(js[i]))
			continue;
		if (js[i] != sep || seen)
			return false;
		seen = true;
	}
	return seen;
}

/* JSON's number grammar, or true/false/null: jsmn accepts any run of characters. */
static bool api_primitive_ok(const char *s, size_t n)
{
	size_t i = 0;

	if ((n == 4 && !memcmp(s, "true", 4)) || (n == 5 && !memcmp(s, "false", 5)) || (n == 4 && !memcmp(s, "null", 4)))
		return true;
	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0')
		i++;
	else if (i < n && s[i] >= '1' && s[i] <= '9')
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	else
		return false;
	if (i < n && s[i] == '.') {
		if (++i >= n || s[i] < '0' || s[i] > '9')
			return false;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return false;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i == n;
}

static bool api_string_ok(const char *s, int start, int end)
{
	int i;

	for (i = start; i < end; i++)
		if ((unsigned char)s[i] < 0x20)
			return false;
	return true;
}

/* jsmn tokenizes leniently ("{,"a":1,}" passes): the separators between tokens are checked here. */
static int api_obj_parse(struct api_obj *o, const char *js, size_t len, struct api_err *e)
{
	jsmn_parser p;
	int n, i, prev, k;

	o->js = js;
	o->pairs = 0;
	jsmn_init(&p);
	n = jsmn_parse(&p, js, len, o->tok, API_JSON_TOKENS);
	if (n == JSMN_ERROR_NOMEM)
		return api_fail(e, 400, NULL, 0, "JSON body has too many values");
	if (n <= 0 || o->tok[0].type != JSMN_OBJECT)
		return api_fail(e, 400, NULL, 0, "body must be a JSON object");
	if (!api_gap_ok(js, 0, o->tok[0].start, 0) || !api_gap_ok(js, o->tok[0].end, (int)len, 0))
		return api_fail(e, 400, NULL, 0, "malformed JSON");
	prev = o->tok[0].start + 1;
	for (i = 1, k = 0; k < o->tok[0].size; k++) {
		jsmntok_t *key = &o->tok[i], *val;
		int vstart, vend;

		if (i + 1 >= n || key->type != JSMN_STRING || key->size != 1 ||
		    !api_gap_ok(js, prev, key->start - 1, k ? ',' : 0) || !api_string_ok(js, key->start, key->end))
			return api_fail(e, 400, NULL, 0, "malformed JSON");
		val = &o->tok[i + 1];
		vstart = val->type == JSMN_STRING ? val->start - 1 : val->start;
		vend = val->type == JSMN_STRING ? val->end + 1 : val->end;
		if (!api_gap_ok(js, key->end + 1, vstart, ':') ||
		    (val->type == JSMN_PRIMITIVE && !api_primitive_ok(js + val->start, (size_t)(val->end - val->start))) ||
		    (val->type == JSMN_STRING && !api_string_ok(js, val->start, val->end)))
			return api_fail(e, 400, NULL, 0, "malformed JSON");
		o->key[o->pairs++] = (unsigned)i;
		/* Skip whatever a nested value holds: no field of ours takes one, so it fails as a type. */
		for (i += 2; i < n && o->tok[i].start < vend; i++)
			;
		prev = vend;
	}
	if (i != n || !api_gap_ok(js, prev, o->tok[0].end - 1, 0))
		return api_fail(e, 400, NULL, 0, "malformed JSON");
	return HV_OK;
}

enum api_ftype { API_F_UINT, API_F_STRING };

/* One field a body may carry, with its range (API_F_UINT). */
struct api_field {
	const char *name;
	enum api_ftype type;
	uint64_t min, max;
	const char *range_msg;       /* the 400 message for a wrong type or range */
};

/* What api_decode() found for each field of the table. */
struct api_value {
	bool present;
	uint64_t u;
	const char *s;
	size_t len;
};

static int api_decode_uint(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || s[0] == '-')
		return n > 1 && s[1] >= '0' && s[1] <= '9' && memchr(s, '.', n) == NULL ? HV_ERANGE : HV_EINVAL;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return HV_EINVAL;  /* a fraction, an exponent, true/false/null */
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return HV_ERANGE;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return HV_OK;
}

/* Matches every pair against the table: unknown, repeated, mistyped or out-of-range fields are 400. */
static int api_decode(const struct api_obj *o, const struct api_field *f, unsigned nf, struct api_value *v,
		      struct api_err *e)
{
	unsigned p, j;

	memset(v, 0, nf * sizeof(*v));
	for (p = 0; p < o->pairs; p++) {
		const jsmntok_t *key = &o->tok[o->key[p]], *val = key + 1;
		const char *name = o->js + key->start, *s = o->js + val->start;
		size_t nlen = (size_t)(key->end - key->start), slen = (size_t)(val->end - val->start);

		for (j = 0; j < nf; j++)
			if (strlen(f[j].name) == nlen && !memcmp(f[j].name, name, nlen))
				break;
		if (j == nf)
			return api_fail(e, 400, name, nlen, "unknown field");
		if (v[j].present)
			return api_fail(e, 400, name, nlen, "field given twice");
		v[j].present = true;
		if (f[j].type == API_F_STRING) {
			if (val->type != JSMN_STRING)
				return API_FAIL(e, f[j].name, f[j].range_msg);
			v[j].s = s;
			v[j].len = slen;
			continue;
		}
		if (val->type != JSMN_PRIMITIVE || api_decode_uint(s, slen, &v[j].u) != HV_OK ||
		    v[j].u < f[j].min || v[j].u > f[j].max)
			return API_FAIL(e, f[j].name, f[j].range_msg);
	}
	return HV_OK;
}

/* ---- Endpoints: decode, then invoke ------------------------------------------ */

int api_parse_endpoint(const char *s, size_t len, struct api_endpoint *ep)
{
	const char *colon = memchr(s, ':', len);
	uint32_t ip, port;

	if (!colon || ipv4_parse(s, (size_t)(colon - s), &ip) ||
	    parse_dec(colon + 1, len - (size_t)(colon - s) - 1, 65535, &port) || port == 0)
		return HV_EINVAL;
	ep->ip = ip;
	ep->port = (uint16_t)port;
	return HV_OK;
}

/* A backend's hv_err as an HTTP status. */
static unsigned api_status_of(int err)
{
	switch (err) {
	case HV_EINVAL:
	case HV_ERANGE: return 400;
	case HV_ENOENT: return 404;
	case HV_EEXIST:
	case HV_EBUSY: return 409;
	case HV_ENOTSUP: return 501;
	}
	return 500;
}

static int api_backend_fail(struct api_err *e, int err)
{
	return api_fail(e, api_status_of(err), NULL, 0, hv_strerror(err));
}

/* The context every handler gets. */
struct api_call {
	const struct api *api;
	const struct http_req *req;
	struct strbuf *out;
	struct api_err *err;
	unsigned status;             /* on success */
};

static int api_not_implemented(struct api_call *c)
{
	return api_fail(c->err, 501, NULL, 0, "not implemented yet");
}

static int api_ping(struct api_call *c)
{
	strbuf_printf(c->out, "{\"version\":");
	api_put_str(c->out, c->api->version, strlen(c->api->version));
	strbuf_printf(c->out, "}");
	return HV_OK;
}

static int api_host_info(struct api_call *c)
{
	struct api_host_info h;
	unsigned i;
	int rc;

	if (!c->api->be->host_info)
		return api_not_implemented(c);
	memset(&h, 0, sizeof(h));
	rc = c->api->be->host_info(c->api->be->ctx, &h);
	if (rc < 0)
		return api_backend_fail(c->err, rc);
	strbuf_printf(c->out,
		   "{\"uptime_ms\":%llu,\"memory\":{\"total_bytes\":%llu,\"free_bytes\":%llu},"
		   "\"cpus\":%u,\"tsc_hz\":%llu,\"cpu_features\":[",
		   (unsigned long long)h.uptime_ms, (unsigned long long)h.mem_total_bytes,
		   (unsigned long long)h.mem_free_bytes, h.cpus, (unsigned long long)h.tsc_hz);
	for (i = 0; i < h.feature_count && i < API_FEATURES_MAX; i++) {
		const char *f = h.features[i] ? h.features[i] : "";
		strbuf_printf(c->out, i ? "," : "");
		api_put_str(c->out, f, strlen(f));
	}
	strbuf_printf(c->out, "],\"nics\":[");
	for (i = 0; i < h.nic_count && i < API_NICS_MAX; i++) {
		const struct net_nic_info *n = &h.nics[i];
		const char *role = n->role ? n->role : "";
		size_t name_len = 0;

		while (name_len < sizeof(n->name) && n->name[name_len])
			name_len++; /* strnlen is POSIX, not C11 */
		strbuf_printf(c->out, "%s{\"name\":", i ? "," : "");
		api_put_str(c->out, n->name, name_len);
		strbuf_printf(c->out, ",\"role\":");
		api_put_str(c->out, role, strlen(role));
		strbuf_printf(c->out,
			   ",\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\",\"link\":\"%s\",\"rx_frames\":%llu,"
			   "\"tx_frames\":%llu,\"rx_bytes\":%llu,\"tx_bytes\":%llu,\"rx_dropped\":%llu,"
			   "\"tx_ring_full\":%llu,\"rx_copied\":%llu}",
			   n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5], n->link_up ? "up" : "down",
			   (unsigned long long)n->rx_frames, (unsigned long long)n->tx_frames,
			   (unsigned long long)n->rx_bytes, (unsigned long long)n->tx_bytes,
			   (unsigned long long)n->rx_dropped, (unsigned long long)n->tx_ring_full,
			   (unsigned long long)n->rx_copied);
	}
	strbuf_printf(c->out, "]}");
	return HV_OK;
}

static const char *const api_vm_state_names[] = {
	[API_VM_RUNNING] = "running",
	[API_VM_PAUSED] = "paused",
	[API_VM_STOPPED] = "stopped",
	[API_VM_FINISHED] = "finished",
};

/* Reads the VM's state; decoders use it to check indexes and ceilings. */
static int api_read_vm(struct api_call *c, struct api_vm_info *vm)
{
	int rc;

	memset(vm, 0, sizeof(*vm));
	if (!c->api->be->vm_info)
		return api_not_implemented(c);
	rc = c->api->be->vm_info(c->api->be->ctx, vm);
	if (rc < 0)
		return api_backend_fail(c->err, rc);
	if (vm->vcpu_count > HV_MAX_VCPUS)
		vm->vcpu_count = HV_MAX_VCPUS;
	return HV_OK;
}

static int api_vm_info(struct api_call *c)
{
	struct api_vm_info vm;
	char uuid[UUID_TEXT_LEN + 1];
	const char *end;
	unsigned i;
	int rc = api_read_vm(c, &vm);

	if (rc < 0)
		return rc;
	uuid_format(vm.uuid, uuid);
	strbuf_printf(c->out, "{\"uuid\":\"%s\",\"state\":\"%s\",\"stop_reason\":", uuid,
		   (unsigned)vm.state < sizeof(api_vm_state_names) / sizeof(api_vm_state_names[0])
			   ? api_vm_state_names[vm.state] : "unknown");
	end = memchr(vm.stop_reason, '\0', sizeof(vm.stop_reason));
	api_put_str(c->out, vm.stop_reason, end ? (size_t)(end - vm.stop_reason) : sizeof(vm.stop_reason));
	strbuf_printf(c->out,
		   ",\"memory_bytes\":%llu,\"runtime_ms\":%llu,\"tsc_hz\":%llu,\"throttle_percent\":%u,"
		   "\"throttle_max\":%u,\"dirty_limit\":%llu,\"dirty_rate\":%llu,\"vcpus\":[",
		   (unsigned long long)vm.memory_bytes, (unsigned long long)vm.runtime_ms,
		   (unsigned long long)vm.tsc_hz, vm.throttle_pct, vm.throttle_max,
		   (unsigned long long)vm.dirty_limit, (unsigned long long)vm.dirty_rate);
	for (i = 0; i < vm.vcpu_count; i++)
		strbuf_printf(c->out,
			   "%s{\"id\":%u,\"exits\":%llu,\"throttle_percent\":%u,\"granted_ticks\":%llu,"
			   "\"throttled_ticks\":%llu}",
			   i ? "," : "", i, (unsigned long long)vm.vcpus[i].exits, vm.vcpus[i].throttle_pct,
			   (unsigned long long)vm.vcpus[i].granted_ticks, (unsigned long long)vm.vcpus[i].throttled_ticks);
	strbuf_printf(c->out, "]}");
	return HV_OK;
}

enum { API_THR_PERCENT, API_THR_VCPU, API_THR_DIRTY, API_THR_N };

static int api_throttle_decode(struct api_call *c, struct api_throttle *t)
{
	static const struct api_field fields[API_THR_N] = {
		[API_THR_PERCENT] = { "percent", API_F_UINT, 0, 99, "must be an integer from 0 to 99" },
		[API_THR_VCPU] = { "vcpu", API_F_UINT, 0, HV_MAX_VCPUS - 1, "must be an index of a vCPU of the VM" },
		[API_THR_DIRTY] = { "dirty_limit", API_F_UINT, 0, UINT32_MAX,
				    "must be an integer from 0 to 4294967295 (pages/s, 0 = off)" },
	};
	struct api_value v[API_THR_N];
	struct api_vm_info vm;
	struct api_obj *o = &(struct api_obj){ 0 };
	int rc;

	if ((rc = api_obj_parse(o, c->req->body, c->req->content_length, c->err)) < 0 ||
	    (rc = api_decode(o, fields, API_THR_N, v, c->err)) < 0)
		return rc;
	if (v[API_THR_DIRTY].present) {
		if (v[API_THR_PERCENT].present || v[API_THR_VCPU].present)
			return API_FAIL(c->err, "dirty_limit", "cannot be combined with percent or vcpu");
		t->kind = API_THROTTLE_DIRTY_LIMIT;
		t->dirty_limit = v[API_THR_DIRTY].u;
		return HV_OK;
	}
	if (!v[API_THR_PERCENT].present)
		return API_FAIL(c->err, "percent", "required (or dirty_limit)");
	if ((rc = api_read_vm(c, &vm)) < 0)
		return rc;
	if (v[API_THR_VCPU].present && v[API_THR_VCPU].u >= vm.vcpu_count)
		return API_FAIL(c->err, "vcpu", fields[API_THR_VCPU].range_msg);
	if (v[API_THR_PERCENT].u > vm.throttle_max)
		return API_FAIL(c->err, "percent", "above the VM's throttle ceiling (throttle_max in vm.info)");
	t->kind = v[API_THR_VCPU].present ? API_THROTTLE_VCPU : API_THROTTLE_VM;
	t->vcpu = v[API_THR_VCPU].present ? (int)v[API_THR_VCPU].u : -1;
	t->pct = (unsigned)v[API_THR_PERCENT].u;
	return HV_OK;
}

static int api_throttle(struct api_call *c)
{
	const struct api_backend *be = c->api->be;
	struct api_throttle t;
	int rc;

	if ((rc = api_throttle_decode(c, &t)) < 0)
		return rc;
	if (t.kind == API_THROTTLE_DIRTY_LIMIT) {
		if (!be->set_dirty_limit)
			return api_not_implemented(c);
		if ((rc = be->set_dirty_limit(be->ctx, t.dirty_limit)) < 0)
			return api_backend_fail(c->err, rc);
		strbuf_printf(c->out, "{\"dirty_limit\":%llu}", (unsigned long long)t.dirty_limit);
		return HV_OK;
	}
	if (!be->set_throttle)
		return api_not_implemented(c);
	if ((rc = be->set_throttle(be->ctx, t.vcpu, t.pct)) < 0)
		return api_backend_fail(c->err, rc);
	if (t.kind == API_THROTTLE_VCPU)
		strbuf_printf(c->out, "{\"vcpu\":%d,\"percent\":%u}", t.vcpu, t.pct);
	else
		strbuf_printf(c->out, "{\"percent\":%u}", t.pct);
	return HV_OK;
}

enum { API_SEND_DEST, API_SEND_CONN, API_SEND_DOWNTIME, API_SEND_BW, API_SEND_THROTTLE, API_SEND_TIMEOUT,
       API_SEND_ON_TIMEOUT, API_SEND_N };

static int api_send_decode(struct api_call *c, struct api_send_migration *m)
{
	static const struct api_field fields[API_SEND_N] = {
		[API_SEND_DEST] = { "destination", API_F_STRING, 0, 0, "must be a string \"a.b.c.d:port\"" },
		[API_SEND_CONN] = { "connections", API_F_UINT, 1, API_CONNECTIONS_MAX, "must be an integer from 1 to 16" },
		[API_SEND_DOWNTIME] = { "downtime_ms", API_F_UINT, 1, 60000, "must be an integer from 1 to 60000" },
		[API_SEND_BW] = { "bandwidth", API_F_UINT, 0, UINT64_MAX / 2,
				  "must be a non-negative integer (bytes/s, 0 = unlimited)" },
		[API_SEND_THROTTLE] = { "max_throttle", API_F_UINT, 0, 99, "must be an integer from 0 to 99" },
		[API_SEND_TIMEOUT] = { "timeout_ms", API_F_UINT, 0, 86400000,
				       "must be an integer from 0 to 86400000 (0 = none)" },
		[API_SEND_ON_TIMEOUT] = { "on_timeout", API_F_STRING, 0, 0, "must be \"abort\" or \"force\"" },
	};
	struct api_value v[API_SEND_N];
	struct api_obj *o = &(struct api_obj){ 0 };
	int rc;

	if ((rc = api_obj_parse(o, c->req->body, c->req->content_length, c->err)) < 0 ||
	    (rc = api_decode(o, fields, API_SEND_N, v, c->err)) < 0)
		return rc;
	if (!v[API_SEND_DEST].present)
		return API_FAIL(c->err, "destination", "required");
	if (api_parse_endpoint(v[API_SEND_DEST].s, v[API_SEND_DEST].len, &m->destination) < 0)
		return API_FAIL(c->err, "destination", fields[API_SEND_DEST].range_msg);
	m->connections = v[API_SEND_CONN].present ? (unsigned)v[API_SEND_CONN].u : API_SEND_DEFAULT_CONNECTIONS;
	m->downtime_ms = v[API_SEND_DOWNTIME].present ? v[API_SEND_DOWNTIME].u : API_SEND_DEFAULT_DOWNTIME_MS;
	m->bandwidth = v[API_SEND_BW].u;
	m->max_throttle = v[API_SEND_THROTTLE].present ? (unsigned)v[API_SEND_THROTTLE].u : API_SEND_DEFAULT_MAX_THROTTLE;
	m->timeout_ms = v[API_SEND_TIMEOUT].u;
	m->on_timeout = API_ON_TIMEOUT_ABORT;
	if (v[API_SEND_ON_TIMEOUT].present) {
		struct api_value *t = &v[API_SEND_ON_TIMEOUT];
		if (t->len == 5 && !memcmp(t->s, "force", 5))
			m->on_timeout = API_ON_TIMEOUT_FORCE;
		else if (!(t->len == 5 && !memcmp(t->s, "abort", 5)))
			return API_FAIL(c->err, "on_timeout", fields[API_SEND_ON_TIMEOUT].range_msg);
	}
	return HV_OK;
}

static int api_send_migration(struct api_call *c)
{
	const struct api_backend *be = c->api->be;
	struct api_send_migration m;
	int rc;

	if ((rc = api_send_decode(c, &m)) < 0)
		return rc;
	if (!be->send_migration)
		return api_not_implemented(c);
	if ((rc = be->send_migration(be->ctx, &m)) < 0)
		return api_backend_fail(c->err, rc);
	c->status = 202;  /* the migration runs on; vm.migration-status follows it */
	strbuf_printf(c->out, "{}");
	return HV_OK;
}

enum { API_RECV_LISTEN, API_RECV_CONN, API_RECV_N };

static int api_receive_migration(struct api_call *c)
{
	static const struct api_field fields[API_RECV_N] = {
		[API_RECV_LISTEN] = { "listen", API_F_STRING, 0, 0, "must be a string \"a.b.c.d:port\"" },
		[API_RECV_CONN] = { "connections", API_F_UINT, 1, API_CONNECTIONS_MAX, "must be an integer from 1 to 16" },
	};
	const struct api_backend *be = c->api->be;
	struct api_value v[API_RECV_N];
	struct api_receive_migration m;
	struct api_obj *o = &(struct api_obj){ 0 };
	int rc;

	if ((rc = api_obj_parse(o, c->req->body, c->req->content_length, c->err)) < 0 ||
	    (rc = api_decode(o, fields, API_RECV_N, v, c->err)) < 0)
		return rc;
	if (!v[API_RECV_LISTEN].present)
		return API_FAIL(c->err, "listen", "required");
	if (api_parse_endpoint(v[API_RECV_LISTEN].s, v[API_RECV_LISTEN].len, &m.listen) < 0)
		return API_FAIL(c->err, "listen", fields[API_RECV_LISTEN].range_msg);
	m.connections = v[API_RECV_CONN].present ? (unsigned)v[API_RECV_CONN].u : 1;
	if (!be->receive_migration)
		return api_not_implemented(c);
	if ((rc = be->receive_migration(be->ctx, &m)) < 0)
		return api_backend_fail(c->err, rc);
	c->status = 202;
	strbuf_printf(c->out, "{}");
	return HV_OK;
}

static int api_migration_cancel(struct api_call *c)
{
	const struct api_backend *be = c->api->be;
	struct api_obj *o = &(struct api_obj){ 0 };
	struct api_value none;
	int rc;

	/* No body, or an empty object: anything else is an unknown field. */
	if (c->req->content_length > 0 && ((rc = api_obj_parse(o, c->req->body, c->req->content_length, c->err)) < 0 ||
					   (rc = api_decode(o, NULL, 0, &none, c->err)) < 0))
		return rc;
	if (!be->migration_cancel)
		return api_not_implemented(c);
	if ((rc = be->migration_cancel(be->ctx)) < 0)
		return api_backend_fail(c->err, rc);
	strbuf_printf(c->out, "{}");
	return HV_OK;
}

static void api_put_field(struct strbuf *o, const char *key, const char *v)
{
	strbuf_printf(o, ",\"%s\":", key);
	api_put_str(o, v ? v : "", v ? strlen(v) : 0);
}

static int api_migration_status(struct api_call *c)
{
	const struct api_backend *be = c->api->be;
	struct api_migration_status m;
	int rc;

	if (!be->migration_status)
		return api_not_implemented(c);
	memset(&m, 0, sizeof(m));
	if ((rc = be->migration_status(be->ctx, &m)) < 0)
		return api_backend_fail(c->err, rc);
	strbuf_printf(c->out, "{\"role\":");
	api_put_str(c->out, m.role ? m.role : "", m.role ? strlen(m.role) : 0);
	api_put_field(c->out, "state", m.state);
	api_put_field(c->out, "phase", m.phase);
	strbuf_printf(c->out,
		      ",\"pass\":%u,\"connections\":%u,\"bytes_sent\":%llu,\"pages_sent\":%llu,\"zero_pages\":%llu,"
		      "\"remaining_bytes\":%llu,\"dirty_rate\":%llu,\"bandwidth\":%llu,\"throttle_percent\":%u,"
		      "\"peak_throttle_percent\":%u,\"dirty_limit\":%llu,\"expected_downtime_ms\":",
		      m.pass, m.connections, (unsigned long long)m.bytes_sent, (unsigned long long)m.pages_sent,
		      (unsigned long long)m.zero_pages, (unsigned long long)m.remaining_bytes,
		      (unsigned long long)m.dirty_rate, (unsigned long long)m.bandwidth, m.throttle_pct,
		      m.peak_throttle_pct, (unsigned long long)m.dirty_limit);
	if (m.expected_downtime_ms == UINT64_MAX)
		strbuf_printf(c->out, "null");
	else
		strbuf_printf(c->out, "%llu", (unsigned long long)m.expected_downtime_ms);
	strbuf_printf(c->out, ",\"downtime_ms\":%llu,\"elapsed_ms\":%llu,\"pages_written\":%llu,\"bytes_in\":%llu,"
		      "\"attempts\":%llu",
		      (unsigned long long)m.downtime_ms, (unsigned long long)m.elapsed_ms,
		      (unsigned long long)m.pages_written, (unsigned long long)m.bytes_in, (unsigned long long)m.attempts);
	api_put_field(c->out, "policy", m.policy);
	api_put_field(c->out, "failure", m.failure);
	api_put_field(c->out, "peer_failure", m.peer_failure);
	strbuf_printf(c->out, "}");
	return HV_OK;
}

enum { API_RESOLVE_ACTION, API_RESOLVE_N };

static int api_migration_resolve(struct api_call *c)
{
	static const struct api_field fields[API_RESOLVE_N] = {
		[API_RESOLVE_ACTION] = { "action", API_F_STRING, 0, 0, "must be \"discard\" or \"resume\"" },
	};
	const struct api_backend *be = c->api->be;
	struct api_value v[API_RESOLVE_N];
	struct api_obj *o = &(struct api_obj){ 0 };
	enum api_resolve action;
	int rc;

	if ((rc = api_obj_parse(o, c->req->body, c->req->content_length, c->err)) < 0 ||
	    (rc = api_decode(o, fields, API_RESOLVE_N, v, c->err)) < 0)
		return rc;
	if (!v[API_RESOLVE_ACTION].present)
		return API_FAIL(c->err, "action", "required");
	if (v[API_RESOLVE_ACTION].len == 7 && !memcmp(v[API_RESOLVE_ACTION].s, "discard", 7))
		action = API_RESOLVE_DISCARD;
	else if (v[API_RESOLVE_ACTION].len == 6 && !memcmp(v[API_RESOLVE_ACTION].s, "resume", 6))
		action = API_RESOLVE_RESUME;
	else
		return API_FAIL(c->err, "action", fields[API_RESOLVE_ACTION].range_msg);
	if (!be->migration_resolve)
		return api_not_implemented(c);
	if ((rc = be->migration_resolve(be->ctx, action)) < 0)
		return api_backend_fail(c->err, rc);
	strbuf_printf(c->out, "{\"action\":\"%s\"}", action == API_RESOLVE_RESUME ? "resume" : "discard");
	return HV_OK;
}

/* ---- Routing ------------------------------------------------------------------ */

struct api_route {
	const char *path;
	enum http_method method;
	int (*handle)(struct api_call *c);
};

static const struct api_route api_routes[] = {
	{ "/api/v1/vmm.ping", HTTP_M_GET, api_ping },
	{ "/api/v1/host.info", HTTP_M_GET, api_host_info },
	{ "/api/v1/vm.info", HTTP_M_GET, api_vm_info },
	{ "/api/v1/vm.throttle", HTTP_M_PUT, api_throttle },
	{ "/api/v1/vm.send-migration", HTTP_M_PUT, api_send_migration },
	{ "/api/v1/vm.receive-migration", HTTP_M_PUT, api_receive_migration },
	{ "/api/v1/vm.migration-status", HTTP_M_GET, api_migration_status },
	{ "/api/v1/vm.migration-cancel", HTTP_M_PUT, api_migration_cancel },
	{ "/api/v1/vm.migration-resolve", HTTP_M_PUT, api_migration_resolve },
};

bool api_token_ok(const char *want, size_t want_len, const char *got, size_t got_len)
{
	volatile unsigned char diff = 0;
	size_t i;

	/* Time depends only on the configured length, never on where the first mismatch is. */
	for (i = 0; i < want_len; i++)
		diff |= (unsigned char)(want[i] ^ (i < got_len ? got[i] : (char)~want[i]));
	return want_len > 0 && want_len == got_len && diff == 0;
}

static int api_write_error(struct strbuf *o, const struct api_err *e)
{
	strbuf_printf(o, "{\"error\":");
	api_put_str(o, e->msg, strlen(e->msg));
	if (e->field[0]) {
		strbuf_printf(o, ",\"field\":");
		api_put_str(o, e->field, strlen(e->field));
	}
	strbuf_printf(o, "}");
	return o->overflow ? HV_ERANGE : HV_OK;
}

/* Writes head and body: the body was built in out at HTTP_HEAD_ROOM. A HEAD gets the head alone. */
static int api_finish(char *out, size_t cap, struct strbuf *o, unsigned status, const char *allow, bool keep_alive,
		      bool head_only)
{
	struct http_resp r = {
		.status = status,
		.keep_alive = keep_alive,
		.allow = allow,
		.www_auth = status == 401 ? "Bearer" : NULL,
		.body = o->buf,
		.body_len = o->len,
		.head_only = head_only,
	};

	return http_response_write(out, cap, &r);
}

static int api_error(char *out, size_t cap, struct strbuf *o, const struct api_err *e, const char *allow,
		     bool keep_alive, bool head_only)
{
	strbuf_reset(o);
	if (api_write_error(o, e) < 0)
		return HV_ERANGE;
	return api_finish(out, cap, o, e->status, allow, keep_alive, head_only);
}

bool api_authorized(const struct api *api, const struct http_req *req)
{
	return req->has_auth && api_token_ok(api->token, api->token_len, req->token.p, req->token.len);
}

/* HEAD is allowed wherever GET is (RFC 9110 9.3.2): the same answer without its body. */
static const char *api_allow(enum http_method m)
{
	return m == HTTP_M_GET ? "GET, HEAD" : http_method_name(m);
}

int api_serve(const struct api *api, const struct http_req *req, char *out, size_t cap)
{
	struct api_err err = { 0 };
	struct strbuf o;
	struct api_call c = { .api = api, .req = req, .out = &o, .err = &err, .status = 200 };
	const struct api_route *r;
	const char *allow = NULL;
	bool path_known = false, head = req->method == HTTP_M_HEAD;
	enum http_method method = head ? HTTP_M_GET : req->method;
	unsigned i;
	int rc;

	if (cap <= HTTP_HEAD_ROOM)
		return HV_ERANGE;
	strbuf_init(&o, out + HTTP_HEAD_ROOM, cap - HTTP_HEAD_ROOM);
	/* Authentication comes first: an unauthenticated client learns nothing, not even which paths exist. */
	if (!api_authorized(api, req)) {
		api_fail(&err, 401, NULL, 0, "missing or wrong bearer token");
		return api_error(out, cap, &o, &err, NULL, req->keep_alive, head);
	}
	for (i = 0; i < sizeof(api_routes) / sizeof(api_routes[0]); i++) {
		r = &api_routes[i];
		if (strlen(r->path) != req->path.len || memcmp(r->path, req->path.p, req->path.len))
			continue;
		path_known = true;
		allow = api_allow(r->method);
		if (r->method != method)
			continue;
		rc = r->handle(&c);
		if (rc < 0)
			return api_error(out, cap, &o, &err, NULL, req->keep_alive, head);
		if (o.overflow) {
			api_fail(&err, 500, NULL, 0, "response too large for the buffer");
			return api_error(out, cap, &o, &err, NULL, req->keep_alive, head);
		}
		return api_finish(out, cap, &o, c.status, NULL, req->keep_alive, head);
	}
	if (path_known)
		api_fail(&err, 405, NULL, 0, "method not allowed");
	else
		api_fail(&err, 404, NULL, 0, "no such endpoint");
	return api_error(out, cap, &o, &err, allow, req->keep_alive, head);
}

int api_serve_bad(const struct http_req *req, char *out, size_t cap)
{
	struct api_err err = { 0 };
	struct strbuf o;

	if (cap <= HTTP_HEAD_ROOM)
		return HV_ERANGE;
	strbuf_init(&o, out + HTTP_HEAD_ROOM, cap - HTTP_HEAD_ROOM);
	api_fail(&err, req->status ? req->status : 400, NULL, 0, req->reason ? req->reason : "bad request");
	/* The stream cannot be resynchronized after a bad request: always close. A bad head's method is unknown. */
	return api_error(out, cap, &o, &err, NULL, false, false);
}
