#include "net/api/api.h"

#include <string.h>
#include "kernel/lib/err.h"
#include "kernel/lib/parse.h"
#include "kernel/lib/strbuf.h"
#include "kernel/lib/uuid.h"
#include "net/api/api_priv.h"

/* ---- Endpoints: decode, then invoke ------------------------------------------ */

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
	int rc;

	if ((rc = api_decode_body(c, fields, API_THR_N, v)) < 0)
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

/* The phases a debug hold may name, and whose they are. */
static const struct {
	const char *name;
	enum api_hold phase;
	bool send;
} api_holds[] = {
	{ "switchover", API_HOLD_SWITCHOVER, true }, { "commit", API_HOLD_COMMIT, true },
	{ "ready", API_HOLD_READY, false },           { "start", API_HOLD_START, false },
};

/* "<phase>:<ms>", with a phase of this side (send or receive); absent: no hold. */
static int api_hold_decode(struct api_call *c, const struct api_value *v, bool send, struct api_debug_hold *h)
{
	const char *colon = v->present ? memchr(v->s, ':', v->len) : NULL;
	size_t name_len = colon ? (size_t)(colon - v->s) : 0;
	const char *msg = send ? "must be \"switchover:<ms>\" or \"commit:<ms>\", ms from 1 to 60000"
			       : "must be \"ready:<ms>\" or \"start:<ms>\", ms from 1 to 60000";
	uint32_t ms;
	unsigned i;

	h->phase = API_HOLD_NONE;
	h->ms = 0;
	if (!v->present)
		return HV_OK;
	if (!colon || parse_dec(colon + 1, v->len - name_len - 1, API_HOLD_MS_MAX, &ms) || ms == 0)
		return API_FAIL(c->err, "debug_hold", msg);
	for (i = 0; i < sizeof(api_holds) / sizeof(api_holds[0]); i++)
		if (api_holds[i].send == send && strlen(api_holds[i].name) == name_len &&
		    !memcmp(api_holds[i].name, v->s, name_len)) {
			h->phase = api_holds[i].phase;
			h->ms = ms;
			return HV_OK;
		}
	return API_FAIL(c->err, "debug_hold", msg);
}

#define API_TIMEOUT_FIELD(name) { name, API_F_UINT, 1, API_TIMEOUT_MS_MAX, "must be an integer from 1 to 3600000" }
#define API_HOLD_FIELD { "debug_hold", API_F_STRING, 0, 0, "must be a string \"<phase>:<ms>\"" }

enum { API_SEND_DEST, API_SEND_CONN, API_SEND_DOWNTIME, API_SEND_BW, API_SEND_THROTTLE, API_SEND_TIMEOUT,
       API_SEND_ON_TIMEOUT, API_SEND_CONFIRM, API_SEND_REPLY, API_SEND_HOLD, API_SEND_RETRIES, API_SEND_N };

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
		[API_SEND_CONFIRM] = API_TIMEOUT_FIELD("confirm_timeout_ms"),
		[API_SEND_REPLY] = API_TIMEOUT_FIELD("reply_timeout_ms"),
		[API_SEND_HOLD] = API_HOLD_FIELD,
		[API_SEND_RETRIES] = { "pause_retries", API_F_UINT, 0, API_PAUSE_RETRIES_MAX,
				       "must be an integer from 0 to 8" },
	};
	struct api_value v[API_SEND_N];
	int rc;

	if ((rc = api_decode_body(c, fields, API_SEND_N, v)) < 0)
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
	m->confirm_timeout_ms = v[API_SEND_CONFIRM].u;
	m->reply_timeout_ms = v[API_SEND_REPLY].u;
	m->pause_retries = v[API_SEND_RETRIES].present ? (unsigned)v[API_SEND_RETRIES].u : API_SEND_DEFAULT_PAUSE_RETRIES;
	if ((rc = api_hold_decode(c, &v[API_SEND_HOLD], true, &m->hold)) < 0)
		return rc;
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

enum { API_RECV_LISTEN, API_RECV_CONN, API_RECV_COMMIT, API_RECV_IDLE, API_RECV_HOLD, API_RECV_N };

static int api_receive_migration(struct api_call *c)
{
	static const struct api_field fields[API_RECV_N] = {
		[API_RECV_LISTEN] = { "listen", API_F_STRING, 0, 0, "must be a string \"a.b.c.d:port\"" },
		[API_RECV_CONN] = { "connections", API_F_UINT, 1, API_CONNECTIONS_MAX, "must be an integer from 1 to 16" },
		[API_RECV_COMMIT] = API_TIMEOUT_FIELD("commit_timeout_ms"),
		[API_RECV_IDLE] = API_TIMEOUT_FIELD("idle_timeout_ms"),
		[API_RECV_HOLD] = API_HOLD_FIELD,
	};
	const struct api_backend *be = c->api->be;
	struct api_value v[API_RECV_N];
	struct api_receive_migration m;
	int rc;

	if ((rc = api_decode_body(c, fields, API_RECV_N, v)) < 0)
		return rc;
	if (!v[API_RECV_LISTEN].present)
		return API_FAIL(c->err, "listen", "required");
	if (api_parse_endpoint(v[API_RECV_LISTEN].s, v[API_RECV_LISTEN].len, &m.listen) < 0)
		return API_FAIL(c->err, "listen", fields[API_RECV_LISTEN].range_msg);
	m.connections = v[API_RECV_CONN].present ? (unsigned)v[API_RECV_CONN].u : 1;
	m.commit_timeout_ms = v[API_RECV_COMMIT].u;
	m.idle_timeout_ms = v[API_RECV_IDLE].u;
	if ((rc = api_hold_decode(c, &v[API_RECV_HOLD], false, &m.hold)) < 0)
		return rc;
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
	struct api_value none;
	int rc;

	/* No body, or an empty object: anything else is an unknown field. */
	if (c->req->content_length > 0 && (rc = api_decode_body(c, NULL, 0, &none)) < 0)
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
		      "\"remaining_bytes\":%llu,\"in_flight_bytes\":%llu,\"dirty_rate\":%llu,\"bandwidth\":%llu,"
		      "\"throttle_percent\":%u,\"peak_throttle_percent\":%u,\"dirty_limit\":%llu,\"expected_downtime_ms\":",
		      m.pass, m.connections, (unsigned long long)m.bytes_sent, (unsigned long long)m.pages_sent,
		      (unsigned long long)m.zero_pages, (unsigned long long)m.remaining_bytes,
		      (unsigned long long)m.in_flight_bytes, (unsigned long long)m.dirty_rate,
		      (unsigned long long)m.bandwidth, m.throttle_pct, m.peak_throttle_pct, (unsigned long long)m.dirty_limit);
	if (m.expected_downtime_ms == UINT64_MAX)
		strbuf_printf(c->out, "null");
	else
		strbuf_printf(c->out, "%llu", (unsigned long long)m.expected_downtime_ms);
	strbuf_printf(c->out, ",\"downtime_ms\":%llu,\"elapsed_ms\":%llu,\"pages_written\":%llu,\"bytes_in\":%llu,"
		      "\"attempts\":%llu,\"page_bytes_sent\":%llu,\"memory_first_ms\":%llu,\"memory_last_ms\":%llu,"
		      "\"goodput\":%llu,\"pauses_called_off\":%u,\"called_off_ms\":%llu",
		      (unsigned long long)m.downtime_ms, (unsigned long long)m.elapsed_ms,
		      (unsigned long long)m.pages_written, (unsigned long long)m.bytes_in, (unsigned long long)m.attempts,
		      (unsigned long long)m.page_bytes_sent, (unsigned long long)m.memory_first_ms,
		      (unsigned long long)m.memory_last_ms, (unsigned long long)m.goodput, m.pauses_called_off,
		      (unsigned long long)m.called_off_ms);
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
	enum api_resolve action;
	int rc;

	if ((rc = api_decode_body(c, fields, API_RESOLVE_N, v)) < 0)
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
	{ "/api/v1/host.link-listen", HTTP_M_PUT, api_link_listen },
	{ "/api/v1/host.link-test", HTTP_M_PUT, api_link_test },
	{ "/api/v1/host.link-status", HTTP_M_GET, api_link_status },
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
