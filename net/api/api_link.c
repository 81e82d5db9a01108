/* The link test's endpoints: host.link-listen, host.link-test, host.link-status (net/api/api_priv.h). */
#include <string.h>
#include "kernel/lib/err.h"
#include "kernel/lib/strbuf.h"
#include "net/api/api_priv.h"

static const char *const api_link_state_names[] = {
	[NET_LINK_IDLE] = "idle", [NET_LINK_RUNNING] = "running", [NET_LINK_DONE] = "done",
	[NET_LINK_FAILED] = "failed",
};

enum { API_LISTEN_ADDR, API_LISTEN_N };

/* Like vm.receive-migration, the address names the migration NIC: only its port is ours to choose. */
int api_link_listen(struct api_call *c)
{
	static const struct api_field fields[API_LISTEN_N] = {
		[API_LISTEN_ADDR] = { "listen", API_F_STRING, 0, 0, "must be a string \"a.b.c.d:port\"" },
	};
	const struct api_backend *be = c->api->be;
	struct api_value v[API_LISTEN_N];
	struct api_endpoint ep;
	int rc;

	if ((rc = api_decode_body(c, fields, API_LISTEN_N, v)) < 0)
		return rc;
	if (!v[API_LISTEN_ADDR].present)
		return API_FAIL(c->err, "listen", "required");
	if (api_parse_endpoint(v[API_LISTEN_ADDR].s, v[API_LISTEN_ADDR].len, &ep) < 0)
		return API_FAIL(c->err, "listen", fields[API_LISTEN_ADDR].range_msg);
	if (!be->link_listen)
		return api_not_implemented(c);
	if ((rc = be->link_listen(be->ctx, ep.port)) < 0)
		return api_backend_fail(c->err, rc);
	c->status = 202;
	strbuf_printf(c->out, "{\"port\":%u}", ep.port);
	return HV_OK;
}

enum { API_LINK_PEER, API_LINK_CONN, API_LINK_N };

int api_link_test(struct api_call *c)
{
	static const struct api_field fields[API_LINK_N] = {
		[API_LINK_PEER] = { "peer", API_F_STRING, 0, 0, "must be a string \"a.b.c.d:port\"" },
		[API_LINK_CONN] = { "connections", API_F_UINT, 1, API_LINK_CONNECTIONS_MAX,
				    "must be an integer from 1 to 4" },
	};
	const struct api_backend *be = c->api->be;
	struct api_value v[API_LINK_N];
	struct api_link_test t;
	int rc;

	if ((rc = api_decode_body(c, fields, API_LINK_N, v)) < 0)
		return rc;
	if (!v[API_LINK_PEER].present)
		return API_FAIL(c->err, "peer", "required");
	if (api_parse_endpoint(v[API_LINK_PEER].s, v[API_LINK_PEER].len, &t.peer) < 0 || t.peer.ip == 0)
		return API_FAIL(c->err, "peer", fields[API_LINK_PEER].range_msg);
	t.connections = v[API_LINK_CONN].present ? (unsigned)v[API_LINK_CONN].u : 1;
	if (!be->link_test)
		return api_not_implemented(c);
	if ((rc = be->link_test(be->ctx, &t)) < 0)
		return api_backend_fail(c->err, rc);
	c->status = 202;  /* it runs on; host.link-status gives the result */
	strbuf_printf(c->out, "{}");
	return HV_OK;
}

int api_link_status(struct api_call *c)
{
	const struct api_backend *be = c->api->be;
	struct net_link_status s;
	int rc;

	if (!be->link_status)
		return api_not_implemented(c);
	memset(&s, 0, sizeof(s));
	if ((rc = be->link_status(be->ctx, &s)) < 0)
		return api_backend_fail(c->err, rc);
	strbuf_printf(c->out,
		      "{\"state\":\"%s\",\"peer\":\"%u.%u.%u.%u:%u\",\"connections\":%u,\"connections_ok\":%u,"
		      "\"bytes\":%llu,\"ms\":%llu,\"rate\":%llu,\"listen_port\":%u,\"received_sessions\":%llu,"
		      "\"received_bytes\":%llu}",
		      (unsigned)s.state < sizeof(api_link_state_names) / sizeof(api_link_state_names[0])
			      ? api_link_state_names[s.state] : "unknown",
		      s.peer >> 24, s.peer >> 16 & 0xff, s.peer >> 8 & 0xff, s.peer & 0xff, s.peer_port, s.connections,
		      s.connections_ok, (unsigned long long)s.bytes, (unsigned long long)s.ms,
		      (unsigned long long)s.rate, s.listen_port, (unsigned long long)s.received_sessions,
		      (unsigned long long)s.received_bytes);
	return HV_OK;
}
