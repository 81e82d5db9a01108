/* Unit tests for net/api/api.c: routing, auth, each endpoint against a fake backend. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/lib/err.h"
#include "net/api/api.h"
#include "tests/unit/check_run.h"

#define TOKEN "t0ken-0123456789"

/* The fake hypervisor: records every action and returns what the test set. */
struct fake {
	struct api_vm_info vm;
	int rc;                      /* what every callback returns */
	unsigned actions;            /* set_throttle + set_dirty_limit + migration calls */
	unsigned info_calls;
	int vcpu;
	unsigned pct;
	uint64_t dirty_limit;
	struct api_send_migration send;
	struct api_receive_migration recv;
	struct api_migration_status mig;
	int resolved;                /* enum api_resolve + 1 of the last resolve */
	uint16_t link_port;
	struct api_link_test link;
	struct net_link_status link_status;
};

static struct fake fk;
static struct http_req req;
static char out[16384];
static int out_len;
static unsigned status;
static const char *body;     /* the response body, NUL-terminated in out */

static int fake_host_info(void *ctx, struct api_host_info *h)
{
	struct fake *f = ctx;

	f->info_calls++;
	h->uptime_ms = 1234;
	h->mem_total_bytes = 1ull << 30;
	h->mem_free_bytes = 1ull << 29;
	h->cpus = 2;
	h->tsc_hz = 2000000000;
	h->feature_count = 3;
	h->features[0] = "vmx";
	h->features[1] = "ept";
	h->features[2] = "pml";
	h->nic_count = 1;
	h->nics[0] = (struct net_nic_info){ .name = "en0", .role = "management", .mac = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 },
					    .link_up = true, .rx_frames = 7, .tx_frames = 5, .rx_bytes = 900, .tx_bytes = 700,
					    .rx_dropped = 1, .tx_ring_full = 2, .rx_copied = 3 };
	return f->rc;
}

static int fake_vm_info(void *ctx, struct api_vm_info *out_info)
{
	struct fake *f = ctx;

	f->info_calls++;
	*out_info = f->vm;
	return f->rc;
}

static int fake_set_throttle(void *ctx, int vcpu, unsigned pct)
{
	struct fake *f = ctx;

	f->actions++;
	f->vcpu = vcpu;
	f->pct = pct;
	return f->rc;
}

static int fake_set_dirty_limit(void *ctx, uint64_t limit)
{
	struct fake *f = ctx;

	f->actions++;
	f->dirty_limit = limit;
	return f->rc;
}

static int fake_send(void *ctx, const struct api_send_migration *m)
{
	struct fake *f = ctx;

	f->actions++;
	f->send = *m;
	return f->rc;
}

static int fake_recv(void *ctx, const struct api_receive_migration *m)
{
	struct fake *f = ctx;

	f->actions++;
	f->recv = *m;
	return f->rc;
}

static int fake_cancel(void *ctx)
{
	struct fake *f = ctx;

	f->actions++;
	return f->rc;
}

static int fake_status(void *ctx, struct api_migration_status *m)
{
	struct fake *f = ctx;

	f->info_calls++;
	*m = f->mig;
	return f->rc;
}

static int fake_resolve(void *ctx, enum api_resolve action)
{
	struct fake *f = ctx;

	f->actions++;
	f->resolved = (int)action + 1;
	return f->rc;
}

static int fake_link_listen(void *ctx, uint16_t port)
{
	struct fake *f = ctx;

	f->actions++;
	f->link_port = port;
	return f->rc;
}

static int fake_link_test(void *ctx, const struct api_link_test *t)
{
	struct fake *f = ctx;

	f->actions++;
	f->link = *t;
	return f->rc;
}

static int fake_link_status(void *ctx, struct net_link_status *out)
{
	struct fake *f = ctx;

	f->info_calls++;
	*out = f->link_status;
	return f->rc;
}

static struct api_backend be;
static struct api api;

static void setup(void)
{
	memset(&fk, 0, sizeof(fk));
	memcpy(fk.vm.uuid, "\x12\x34\x56\x78\x9a\xbc\x4d\xef\x80\x01\x02\x03\x04\x05\x06\xff", UUID_LEN);
	fk.vm.state = API_VM_RUNNING;
	fk.vm.memory_bytes = 32 << 20;
	fk.vm.runtime_ms = 5000;
	fk.vm.tsc_hz = 50000000;
	fk.vm.throttle_max = 90;
	fk.vm.vcpu_count = 2;
	fk.vm.dirty_rate = 777;
	fk.vm.vcpus[0] = (struct api_vcpu_info){ .exits = 10, .throttle_pct = 0, .granted_ticks = 100, .throttled_ticks = 0 };
	fk.vm.vcpus[1] = (struct api_vcpu_info){ .exits = 11, .throttle_pct = 20, .granted_ticks = 80, .throttled_ticks = 20 };
	be = (struct api_backend){
		.host_info = fake_host_info,
		.vm_info = fake_vm_info,
		.set_throttle = fake_set_throttle,
		.set_dirty_limit = fake_set_dirty_limit,
		.ctx = &fk,
	};
	api = (struct api){ .token = TOKEN, .token_len = strlen(TOKEN), .version = "0.1.0-test", .be = &be };
}

static void with_migration(void)
{
	be.send_migration = fake_send;
	be.receive_migration = fake_recv;
	be.migration_cancel = fake_cancel;
	be.migration_status = fake_status;
	be.migration_resolve = fake_resolve;
}

static void with_link_test(void)
{
	be.link_listen = fake_link_listen;
	be.link_test = fake_link_test;
	be.link_status = fake_link_status;
}

/* Sends one request with the given Authorization line (or none) and parses the response. */
static unsigned call_auth(const char *method, const char *path, const char *auth, const char *json)
{
	static char raw[HTTP_HEAD_MAX + HTTP_BODY_MAX];
	size_t n, blen = json ? strlen(json) : 0;
	char *end;

	n = (size_t)snprintf(raw, sizeof(raw), "%s %s HTTP/1.1\r\nHost: hv\r\n%s%s%sContent-Length: %zu\r\n\r\n",
			     method, path, auth ? "Authorization: " : "", auth ? auth : "", auth ? "\r\n" : "", blen);
	memcpy(raw + n, json ? json : "", blen);
	http_req_init(&req);
	ck_assert_int_eq(http_parse(&req, raw, n + blen), HTTP_DONE);
	out_len = api_serve(&api, &req, out, sizeof(out) - 1);
	ck_assert_int_gt(out_len, 0);
	out[out_len] = '\0';
	ck_assert_int_eq(sscanf(out, "HTTP/1.1 %u ", &status), 1);
	end = strstr(out, "\r\n\r\n");
	ck_assert_ptr_nonnull(end);
	body = end + 4;
	return status;
}

static unsigned call(const char *method, const char *path, const char *json)
{
	return call_auth(method, path, "Bearer " TOKEN, json);
}

static bool has(const char *needle)
{
	return strstr(out, needle) != NULL;
}

/* A 400 naming field, with no action taken. */
static void expect_400(const char *path, const char *json, const char *field)
{
	char want[128];
	unsigned before = fk.actions;

	ck_assert_msg(call("PUT", path, json) == 400, "%s -> %u %s", json, status, body);
	ck_assert_uint_eq(fk.actions, before);
	ck_assert_msg(!strncmp(body, "{\"error\":\"", 10), "%s", body);
	if (field) {
		snprintf(want, sizeof(want), "\"field\":\"%s\"}", field);
		ck_assert_msg(has(want), "%s: want %s in %s", json, want, body);
	}
}

START_TEST(test_auth)
{
	static const char *const bad[] = { NULL, "Bearer wrong", "Bearer " TOKEN "x", "Bearer t0ken-012345678",
					   "Basic " TOKEN, "bearer T0KEN-0123456789", "Bearer" };
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_uint_eq(call_auth("GET", "/api/v1/vm.info", bad[i], NULL), 401);
		ck_assert(has("\r\nWWW-Authenticate: Bearer\r\n"));
		ck_assert_str_eq(body, "{\"error\":\"missing or wrong bearer token\"}");
		/* Unknown paths and bad bodies too: nothing is revealed before auth. */
		ck_assert_uint_eq(call_auth("GET", "/nope", bad[i], NULL), 401);
		ck_assert_uint_eq(call_auth("PUT", "/api/v1/vm.throttle", bad[i], "{\"percent\":5}"), 401);
	}
	ck_assert_uint_eq(fk.info_calls + fk.actions, 0);
	ck_assert_uint_eq(call_auth("GET", "/api/v1/vm.info", "bearer " TOKEN, NULL), 200);
	/* An empty configured token refuses everyone, even an empty-looking match. */
	api.token = "";
	api.token_len = 0;
	ck_assert_uint_eq(call("GET", "/api/v1/vmm.ping", NULL), 401);
	ck_assert(api_token_ok("abc", 3, "abc", 3));
	ck_assert(!api_token_ok("abc", 3, "abd", 3));
	ck_assert(!api_token_ok("abc", 3, "ab", 2));
	ck_assert(!api_token_ok("abc", 3, "abcd", 4));
	ck_assert(!api_token_ok("", 0, "", 0));
}
END_TEST

START_TEST(test_routing)
{
	ck_assert_uint_eq(call("GET", "/api/v1/nope", NULL), 404);
	ck_assert_str_eq(body, "{\"error\":\"no such endpoint\"}");
	ck_assert_uint_eq(call("GET", "/api/v1/vm.info/", NULL), 404);
	ck_assert_uint_eq(call("GET", "/API/V1/VM.INFO", NULL), 404);
	ck_assert_uint_eq(call("GET", "/", NULL), 404);
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.info", "{}"), 405);
	ck_assert(has("\r\nAllow: GET, HEAD\r\n"));
	ck_assert_uint_eq(call("GET", "/api/v1/vm.throttle", NULL), 405);
	ck_assert(has("\r\nAllow: PUT\r\n"));
	ck_assert_uint_eq(call("POST", "/api/v1/vm.throttle", "{\"percent\":1}"), 405);
	ck_assert_uint_eq(call("DELETE", "/api/v1/vmm.ping", NULL), 405);
	ck_assert_uint_eq(fk.actions, 0);
	ck_assert_uint_eq(call("GET", "/api/v1/vmm.ping?pretty=1", NULL), 200);
}
END_TEST

/* HEAD wherever GET is: GET's head, Content-Length included, and no body, whatever the status. */
START_TEST(test_head)
{
	ck_assert_uint_eq(call("HEAD", "/api/v1/vmm.ping", NULL), 200);
	ck_assert(has("\r\nContent-Length: 24\r\n"));
	ck_assert_str_eq(body, "");
	ck_assert_uint_eq(call("HEAD", "/api/v1/vm.info", NULL), 200);
	ck_assert_str_eq(body, "");
	ck_assert_uint_eq(fk.info_calls, 1);
	ck_assert_uint_eq(call("HEAD", "/api/v1/vm.throttle", NULL), 405);
	ck_assert(has("\r\nAllow: PUT\r\n"));
	ck_assert_str_eq(body, "");
	ck_assert_uint_eq(call("HEAD", "/api/v1/nope", NULL), 404);
	ck_assert_str_eq(body, "");
	ck_assert_uint_eq(call_auth("HEAD", "/api/v1/vmm.ping", NULL, NULL), 401);
	ck_assert_str_eq(body, "");
	ck_assert_uint_eq(fk.actions, 0);
}
END_TEST

START_TEST(test_authorized)
{
	http_req_init(&req);
	ck_assert_int_eq(http_parse(&req, "GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer " TOKEN "\r\n\r\n",
				    strlen("GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer " TOKEN "\r\n\r\n")),
			 HTTP_DONE);
	ck_assert(api_authorized(&api, &req));
	http_req_init(&req);
	ck_assert_int_eq(http_parse(&req, "GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer x\r\n\r\n",
				    strlen("GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer x\r\n\r\n")),
			 HTTP_DONE);
	ck_assert(!api_authorized(&api, &req));
	http_req_init(&req);
	ck_assert_int_eq(http_parse(&req, "GET / HTTP/1.0\r\n\r\n", 18), HTTP_DONE);
	ck_assert(!api_authorized(&api, &req));
}
END_TEST

START_TEST(test_ping_and_connection)
{
	ck_assert_uint_eq(call("GET", "/api/v1/vmm.ping", NULL), 200);
	ck_assert_str_eq(body, "{\"version\":\"0.1.0-test\"}");
	ck_assert(has("\r\nContent-Type: application/json\r\n"));
	ck_assert(has("\r\nContent-Length: 24\r\n"));
	ck_assert(has("\r\nConnection: keep-alive\r\n"));
	http_req_init(&req);
	ck_assert_int_eq(http_parse(&req, "GET /api/v1/vmm.ping HTTP/1.0\r\nAuthorization: Bearer " TOKEN "\r\n\r\n",
				    strlen("GET /api/v1/vmm.ping HTTP/1.0\r\nAuthorization: Bearer " TOKEN "\r\n\r\n")),
			 HTTP_DONE);
	out_len = api_serve(&api, &req, out, sizeof(out) - 1);
	out[out_len] = '\0';
	ck_assert(has("\r\nConnection: close\r\n"));
}
END_TEST

START_TEST(test_host_info)
{
	ck_assert_uint_eq(call("GET", "/api/v1/host.info", NULL), 200);
	ck_assert_str_eq(body, "{\"uptime_ms\":1234,\"memory\":{\"total_bytes\":1073741824,\"free_bytes\":536870912},"
			       "\"cpus\":2,\"tsc_hz\":2000000000,\"cpu_features\":[\"vmx\",\"ept\",\"pml\"],"
			       "\"nics\":[{\"name\":\"en0\",\"role\":\"management\",\"mac\":\"52:54:00:12:34:56\","
			       "\"link\":\"up\",\"rx_frames\":7,\"tx_frames\":5,\"rx_bytes\":900,\"tx_bytes\":700,"
			       "\"rx_dropped\":1,\"tx_ring_full\":2,\"rx_copied\":3}]}");
	fk.rc = HV_EIO;
	ck_assert_uint_eq(call("GET", "/api/v1/host.info", NULL), 500);
	ck_assert_str_eq(body, "{\"error\":\"hardware error\"}");
	be.host_info = NULL;
	ck_assert_uint_eq(call("GET", "/api/v1/host.info", NULL), 501);
}
END_TEST

START_TEST(test_vm_info)
{
	ck_assert_uint_eq(call("GET", "/api/v1/vm.info", NULL), 200);
	ck_assert_str_eq(body, "{\"uuid\":\"12345678-9abc-4def-8001-0203040506ff\",\"state\":\"running\",\"stop_reason\":\"\",\"memory_bytes\":33554432,"
			       "\"runtime_ms\":5000,\"tsc_hz\":50000000,\"throttle_percent\":0,\"throttle_max\":90,"
			       "\"dirty_limit\":0,\"dirty_rate\":777,\"vcpus\":["
			       "{\"id\":0,\"exits\":10,\"throttle_percent\":0,\"granted_ticks\":100,\"throttled_ticks\":0},"
			       "{\"id\":1,\"exits\":11,\"throttle_percent\":20,\"granted_ticks\":80,\"throttled_ticks\":20}]}");
	/* Reasons are escaped; a reason filling its array has no NUL. */
	fk.vm.state = API_VM_STOPPED;
	strcpy(fk.vm.stop_reason, "EPT violation at \"0x1\"\\\n\x80");
	ck_assert_uint_eq(call("GET", "/api/v1/vm.info", NULL), 200);
	ck_assert(has("\"state\":\"stopped\",\"stop_reason\":\"EPT violation at \\\"0x1\\\"\\\\\\u000a\\u0080\","));
	memset(fk.vm.stop_reason, 'r', sizeof(fk.vm.stop_reason));
	fk.vm.vcpu_count = 99;  /* clamped, never read past the array */
	ck_assert_uint_eq(call("GET", "/api/v1/vm.info", NULL), 200);
	ck_assert(has("\"id\":3,"));
	ck_assert(!has("\"id\":4,"));
	fk.rc = HV_ENOENT;
	ck_assert_uint_eq(call("GET", "/api/v1/vm.info", NULL), 404);
	be.vm_info = NULL;
	ck_assert_uint_eq(call("GET", "/api/v1/vm.info", NULL), 501);
}
END_TEST

START_TEST(test_response_too_large)
{
	http_req_init(&req);
	const char *s = "GET /api/v1/vm.info HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer " TOKEN "\r\n\r\n";
	ck_assert_int_eq(http_parse(&req, s, strlen(s)), HTTP_DONE);
	/* Room for a 500, not for vm.info. */
	out_len = api_serve(&api, &req, out, HTTP_HEAD_ROOM + 100);
	ck_assert_int_gt(out_len, 0);
	out[out_len] = '\0';
	ck_assert(has("HTTP/1.1 500 Internal Server Error\r\n"));
	ck_assert(has("{\"error\":\"response too large for the buffer\"}"));
	ck_assert_int_eq(api_serve(&api, &req, out, HTTP_HEAD_ROOM + 10), HV_ERANGE);
	ck_assert_int_eq(api_serve(&api, &req, out, 100), HV_ERANGE);
}
END_TEST

START_TEST(test_throttle_good)
{
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.throttle", "{\"percent\":50}"), 200);
	ck_assert_uint_eq(fk.actions, 1);
	ck_assert_int_eq(fk.vcpu, -1);
	ck_assert_uint_eq(fk.pct, 50);
	ck_assert_str_eq(body, "{\"percent\":50}");
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.throttle", " \r\n{ \"vcpu\" : 1 ,\n\t\"percent\": 0 } \n"), 200);
	ck_assert_uint_eq(fk.actions, 2);
	ck_assert_int_eq(fk.vcpu, 1);
	ck_assert_uint_eq(fk.pct, 0);
	ck_assert_str_eq(body, "{\"vcpu\":1,\"percent\":0}");
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.throttle", "{\"percent\":90,\"vcpu\":0}"), 200);
	ck_assert_uint_eq(fk.pct, 90);
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.throttle", "{\"dirty_limit\":4294967295}"), 200);
	ck_assert_uint_eq(fk.dirty_limit, 4294967295u);
	ck_assert_str_eq(body, "{\"dirty_limit\":4294967295}");
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.throttle", "{\"dirty_limit\":0}"), 200);
	ck_assert_uint_eq(fk.dirty_limit, 0);
	ck_assert_uint_eq(fk.actions, 5);
	/* The backend's refusal is reported, not hidden. */
	fk.rc = HV_EBUSY;
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.throttle", "{\"percent\":10}"), 409);
	fk.rc = HV_EINVAL;
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.throttle", "{\"dirty_limit\":10}"), 400);
	fk.rc = 0;
	be.set_throttle = NULL;
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.throttle", "{\"percent\":10}"), 501);
}
END_TEST

START_TEST(test_throttle_malformed_json)
{
	static const char *const bad[] = {
		"", " ", "{", "}", "[]", "1", "\"s\"", "null", "{\"percent\":}", "{\"percent\" 5}", "{,\"percent\":5}",
		"{\"percent\":5,}", "{\"percent\":5}}", "{\"percent\":5} x", "{\"percent\":5}{}", "{\"percent\":5} \"x\"",
		"{\"percent\":05}", "{\"percent\":5 6}", "{\"percent\":tru}", "{percent:5}", "{\"percent\"::5}",
		"{\"percent\",:5}", "{\"percent\":5,,\"vcpu\":1}", "{\"percent\":5 \"vcpu\":1}", "{\"percent\":-}",
		"{\"percent\":1.}", "{\"percent\":1e}", "{\"percent\":+1}", "{\"percent\":0x10}", "{\"per\ncent\":1}",
		"{'percent':1}", "{\"percent\":\"5\\x\"}", "{\"percent\"}", "{\"percent\":[1,2}",
	};
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_400("/api/v1/vm.throttle", bad[i], NULL);
	ck_assert_uint_eq(fk.info_calls, 0);
}
END_TEST

START_TEST(test_throttle_bad_values)
{
	char many[1024];
	unsigned i;
	char *p = many;

	expect_400("/api/v1/vm.throttle", "{\"percent\":\"50\"}", "percent");
	expect_400("/api/v1/vm.throttle", "{\"percent\":50.5}", "percent");
	expect_400("/api/v1/vm.throttle", "{\"percent\":5e1}", "percent");
	expect_400("/api/v1/vm.throttle", "{\"percent\":true}", "percent");
	expect_400("/api/v1/vm.throttle", "{\"percent\":null}", "percent");
	expect_400("/api/v1/vm.throttle", "{\"percent\":[1]}", "percent");
	expect_400("/api/v1/vm.throttle", "{\"percent\":{\"a\":1}}", "percent");
	expect_400("/api/v1/vm.throttle", "{\"percent\":-1}", "percent");
	expect_400("/api/v1/vm.throttle", "{\"percent\":-0}", "percent");
	expect_400("/api/v1/vm.throttle", "{\"percent\":100}", "percent");
	expect_400("/api/v1/vm.throttle", "{\"percent\":18446744073709551616}", "percent");
	expect_400("/api/v1/vm.throttle", "{\"percent\":91}", "percent");   /* above throttle_max */
	expect_400("/api/v1/vm.throttle", "{\"vcpu\":2,\"percent\":1}", "vcpu");
	expect_400("/api/v1/vm.throttle", "{\"vcpu\":4,\"percent\":1}", "vcpu");
	expect_400("/api/v1/vm.throttle", "{\"vcpu\":-1,\"percent\":1}", "vcpu");
	expect_400("/api/v1/vm.throttle", "{\"vcpu\":0}", "percent");
	expect_400("/api/v1/vm.throttle", "{}", "percent");
	expect_400("/api/v1/vm.throttle", "{\"dirty_limit\":4294967296}", "dirty_limit");
	expect_400("/api/v1/vm.throttle", "{\"dirty_limit\":5,\"percent\":1}", "dirty_limit");
	expect_400("/api/v1/vm.throttle", "{\"vcpu\":1,\"dirty_limit\":5}", "dirty_limit");
	expect_400("/api/v1/vm.throttle", "{\"percnt\":5}", "percnt");
	expect_400("/api/v1/vm.throttle", "{\"percent\":5,\"extra\":null}", "extra");
	expect_400("/api/v1/vm.throttle", "{\"percent\":1,\"percent\":2}", "percent");
	expect_400("/api/v1/vm.throttle", "{\"\\\"\":1}", "\\\\\\\"");
	ck_assert(has("\"error\":\"unknown field\""));
	/* A long unknown name is quoted back cut short. */
	expect_400("/api/v1/vm.throttle", "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":1}",
		   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	/* More values than the token pool. */
	p += sprintf(p, "{\"percent\":1");
	for (i = 0; i < API_JSON_TOKENS; i++)
		p += sprintf(p, ",\"k%u\":%u", i, i);
	strcpy(p, "}");
	expect_400("/api/v1/vm.throttle", many, NULL);
	ck_assert_str_eq(body, "{\"error\":\"JSON body has too many values\"}");
	ck_assert_uint_eq(fk.actions, 0);
}
END_TEST

START_TEST(test_error_messages)
{
	expect_400("/api/v1/vm.throttle", "{\"percent\":100}", "percent");
	ck_assert_str_eq(body, "{\"error\":\"must be an integer from 0 to 99\",\"field\":\"percent\"}");
	expect_400("/api/v1/vm.throttle", "{\"percent\":", NULL);
	ck_assert_str_eq(body, "{\"error\":\"body must be a JSON object\"}");
}
END_TEST

START_TEST(test_bad_request_from_parser)
{
	char raw[256];
	int n = snprintf(raw, sizeof(raw), "PUT /api/v1/vm.throttle HTTP/1.1\r\nHost: h\r\nContent-Length: %u\r\n\r\n",
			 HTTP_BODY_MAX + 1);

	http_req_init(&req);
	ck_assert_int_eq(http_parse(&req, raw, (size_t)n), HTTP_BAD);
	out_len = api_serve_bad(&req, out, sizeof(out) - 1);
	ck_assert_int_gt(out_len, 0);
	out[out_len] = '\0';
	ck_assert(has("HTTP/1.1 413 Content Too Large\r\n"));
	ck_assert(has("\r\nConnection: close\r\n"));
	ck_assert(has("{\"error\":\"request body too large\"}"));
	ck_assert_int_eq(api_serve_bad(&req, out, 64), HV_ERANGE);
}
END_TEST

START_TEST(test_migration_not_implemented)
{
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.send-migration", "{\"destination\":\"10.0.0.2:6000\"}"), 501);
	ck_assert_str_eq(body, "{\"error\":\"not implemented yet\"}");
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.receive-migration", "{\"listen\":\"0.0.0.0:6000\"}"), 501);
	ck_assert_uint_eq(call("GET", "/api/v1/vm.migration-status", NULL), 501);
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.migration-cancel", NULL), 501);
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.migration-cancel", "{}"), 501);
	/* Bodies are validated even before the action exists. */
	expect_400("/api/v1/vm.send-migration", "{}", "destination");
	expect_400("/api/v1/vm.migration-cancel", "{\"now\":true}", "now");
}
END_TEST

START_TEST(test_send_migration)
{
	with_migration();
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.send-migration", "{\"destination\":\"10.0.0.2:6000\"}"), 202);
	ck_assert_uint_eq(fk.actions, 1);
	ck_assert_uint_eq(fk.send.destination.ip, 0x0a000002);
	ck_assert_uint_eq(fk.send.destination.port, 6000);
	ck_assert_uint_eq(fk.send.connections, API_SEND_DEFAULT_CONNECTIONS);
	ck_assert_uint_eq(fk.send.downtime_ms, API_SEND_DEFAULT_DOWNTIME_MS);
	ck_assert_uint_eq(fk.send.max_throttle, API_SEND_DEFAULT_MAX_THROTTLE);
	ck_assert_uint_eq(fk.send.bandwidth, 0);
	ck_assert_uint_eq(fk.send.timeout_ms, 0);
	ck_assert_int_eq(fk.send.on_timeout, API_ON_TIMEOUT_ABORT);
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.send-migration",
			       "{\"destination\":\"192.168.1.255:65535\",\"connections\":16,\"downtime_ms\":60000,"
			       "\"bandwidth\":125000000,\"max_throttle\":0,\"timeout_ms\":86400000,\"on_timeout\":\"force\"}"),
			  202);
	ck_assert_uint_eq(fk.send.destination.ip, 0xc0a801ff);
	ck_assert_uint_eq(fk.send.destination.port, 65535);
	ck_assert_uint_eq(fk.send.connections, 16);
	ck_assert_uint_eq(fk.send.downtime_ms, 60000);
	ck_assert_uint_eq(fk.send.bandwidth, 125000000);
	ck_assert_uint_eq(fk.send.max_throttle, 0);
	ck_assert_uint_eq(fk.send.timeout_ms, 86400000);
	ck_assert_int_eq(fk.send.on_timeout, API_ON_TIMEOUT_FORCE);
	ck_assert_uint_eq(fk.actions, 2);

	expect_400("/api/v1/vm.send-migration", "{\"connections\":2}", "destination");
	expect_400("/api/v1/vm.send-migration", "{\"destination\":6000}", "destination");
	expect_400("/api/v1/vm.send-migration", "{\"destination\":\"10.0.0.2\"}", "destination");
	expect_400("/api/v1/vm.send-migration", "{\"destination\":\"10.0.0.2:0\"}", "destination");
	expect_400("/api/v1/vm.send-migration", "{\"destination\":\"host:6000\"}", "destination");
	static const char *const fields[][2] = {
		{ "\"connections\":0", "connections" },    { "\"connections\":17", "connections" },
		{ "\"downtime_ms\":0", "downtime_ms" },    { "\"downtime_ms\":60001", "downtime_ms" },
		{ "\"bandwidth\":-5", "bandwidth" },       { "\"bandwidth\":\"fast\"", "bandwidth" },
		{ "\"max_throttle\":100", "max_throttle" }, { "\"timeout_ms\":86400001", "timeout_ms" },
		{ "\"on_timeout\":\"maybe\"", "on_timeout" }, { "\"on_timeout\":\"Force\"", "on_timeout" },
		{ "\"on_timeout\":1", "on_timeout" },      { "\"vcpu\":1", "vcpu" },
	};
	char buf[256];
	unsigned i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		snprintf(buf, sizeof(buf), "{\"destination\":\"10.0.0.2:6000\",%s}", fields[i][0]);
		expect_400("/api/v1/vm.send-migration", buf, fields[i][1]);
	}
	ck_assert_uint_eq(fk.actions, 2);
	fk.rc = HV_EBUSY;
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.send-migration", "{\"destination\":\"10.0.0.2:6000\"}"), 409);
}
END_TEST

START_TEST(test_receive_and_cancel)
{
	with_migration();
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.receive-migration", "{\"listen\":\"0.0.0.0:6000\",\"connections\":4}"),
			  202);
	ck_assert_uint_eq(fk.recv.listen.ip, 0);
	ck_assert_uint_eq(fk.recv.listen.port, 6000);
	ck_assert_uint_eq(fk.recv.connections, 4);
	expect_400("/api/v1/vm.receive-migration", "{}", "listen");
	expect_400("/api/v1/vm.receive-migration", "{\"listen\":\"1.2.3.4:99999\"}", "listen");
	expect_400("/api/v1/vm.receive-migration", "{\"listen\":\"1.2.3.4:80\",\"connections\":0}", "connections");
	expect_400("/api/v1/vm.receive-migration", "{\"listen\":\"1.2.3.4:80\",\"destination\":\"1.2.3.4:80\"}",
		   "destination");
	ck_assert_uint_eq(fk.actions, 1);
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.migration-cancel", NULL), 200);
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.migration-cancel", " { } "), 200);
	ck_assert_uint_eq(fk.actions, 3);
	expect_400("/api/v1/vm.migration-cancel", "[]", NULL);
	fk.rc = HV_ENOENT;
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.migration-cancel", NULL), 404);
}
END_TEST

/* The switchover's timeouts and the tests' debug hold: each side takes its own phases only. */
START_TEST(test_migration_timeouts_and_hold)
{
	static const char *const bad_send[] = {
		"\"debug_hold\":\"ready:100\"", "\"debug_hold\":\"switchover\"", "\"debug_hold\":\"switchover:0\"",
		"\"debug_hold\":\"switchover:60001\"", "\"debug_hold\":\"switchover:-1\"", "\"debug_hold\":\":100\"",
		"\"debug_hold\":\"Commit:100\"", "\"debug_hold\":100",
	};
	static const char *const bad_recv[] = {
		"\"debug_hold\":\"commit:100\"", "\"debug_hold\":\"start:\"", "\"debug_hold\":\"start:1x\"",
	};
	char buf[256];
	unsigned i;

	with_migration();
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.send-migration", "{\"destination\":\"10.0.0.2:6000\"}"), 202);
	ck_assert_int_eq(fk.send.hold.phase, API_HOLD_NONE);
	ck_assert_uint_eq(fk.send.confirm_timeout_ms, 0);
	ck_assert_uint_eq(fk.send.reply_timeout_ms, 0);
	ck_assert_uint_eq(fk.send.pause_retries, API_SEND_DEFAULT_PAUSE_RETRIES);
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.send-migration",
			       "{\"destination\":\"10.0.0.2:6000\",\"pause_retries\":0}"), 202);
	ck_assert_uint_eq(fk.send.pause_retries, 0);
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.send-migration",
			       "{\"destination\":\"10.0.0.2:6000\",\"pause_retries\":8}"), 202);
	ck_assert_uint_eq(fk.send.pause_retries, 8);
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.send-migration",
			       "{\"destination\":\"10.0.0.2:6000\",\"confirm_timeout_ms\":4000,"
			       "\"reply_timeout_ms\":3600000,\"debug_hold\":\"commit:2500\"}"),
			  202);
	ck_assert_uint_eq(fk.send.confirm_timeout_ms, 4000);
	ck_assert_uint_eq(fk.send.reply_timeout_ms, 3600000);
	ck_assert_int_eq(fk.send.hold.phase, API_HOLD_COMMIT);
	ck_assert_uint_eq(fk.send.hold.ms, 2500);
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.send-migration",
			       "{\"destination\":\"10.0.0.2:6000\",\"debug_hold\":\"switchover:60000\"}"), 202);
	ck_assert_int_eq(fk.send.hold.phase, API_HOLD_SWITCHOVER);
	ck_assert_uint_eq(fk.send.hold.ms, 60000);
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.receive-migration",
			       "{\"listen\":\"0.0.0.0:6000\",\"commit_timeout_ms\":1,\"idle_timeout_ms\":5000,"
			       "\"debug_hold\":\"start:1\"}"),
			  202);
	ck_assert_uint_eq(fk.recv.commit_timeout_ms, 1);
	ck_assert_uint_eq(fk.recv.idle_timeout_ms, 5000);
	ck_assert_int_eq(fk.recv.hold.phase, API_HOLD_START);
	ck_assert_uint_eq(fk.recv.hold.ms, 1);
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.receive-migration",
			       "{\"listen\":\"0.0.0.0:6000\",\"debug_hold\":\"ready:700\"}"), 202);
	ck_assert_int_eq(fk.recv.hold.phase, API_HOLD_READY);
	ck_assert_uint_eq(fk.actions, 7);

	for (i = 0; i < sizeof(bad_send) / sizeof(bad_send[0]); i++) {
		snprintf(buf, sizeof(buf), "{\"destination\":\"10.0.0.2:6000\",%s}", bad_send[i]);
		expect_400("/api/v1/vm.send-migration", buf, "debug_hold");
	}
	for (i = 0; i < sizeof(bad_recv) / sizeof(bad_recv[0]); i++) {
		snprintf(buf, sizeof(buf), "{\"listen\":\"0.0.0.0:6000\",%s}", bad_recv[i]);
		expect_400("/api/v1/vm.receive-migration", buf, "debug_hold");
	}
	expect_400("/api/v1/vm.send-migration", "{\"destination\":\"10.0.0.2:6000\",\"confirm_timeout_ms\":0}",
		   "confirm_timeout_ms");
	expect_400("/api/v1/vm.send-migration", "{\"destination\":\"10.0.0.2:6000\",\"reply_timeout_ms\":3600001}",
		   "reply_timeout_ms");
	expect_400("/api/v1/vm.send-migration", "{\"destination\":\"10.0.0.2:6000\",\"commit_timeout_ms\":100}",
		   "commit_timeout_ms");
	expect_400("/api/v1/vm.send-migration", "{\"destination\":\"10.0.0.2:6000\",\"pause_retries\":9}",
		   "pause_retries");
	expect_400("/api/v1/vm.receive-migration", "{\"listen\":\"0.0.0.0:6000\",\"idle_timeout_ms\":0}",
		   "idle_timeout_ms");
	expect_400("/api/v1/vm.receive-migration", "{\"listen\":\"0.0.0.0:6000\",\"confirm_timeout_ms\":100}",
		   "confirm_timeout_ms");
	ck_assert_uint_eq(fk.actions, 7);
}
END_TEST

/* Status at any time: every figure an operator follows, and null while the expected downtime is unknown. */
START_TEST(test_migration_status)
{
	with_migration();
	fk.mig = (struct api_migration_status){ .role = "send", .state = "running", .phase = "precopy",
						.policy = "dirty rate outruns the link", .failure = "", .peer_failure = "",
						.pass = 3, .connections = 4, .throttle_pct = 40, .peak_throttle_pct = 60,
						.bytes_sent = 123456, .pages_sent = 30, .zero_pages = 2000,
						.remaining_bytes = 4096, .in_flight_bytes = 65536, .dirty_rate = 500,
						.bandwidth = 1048576,
						.dirty_limit = 250, .expected_downtime_ms = UINT64_MAX, .elapsed_ms = 900,
						.page_bytes_sent = 122880, .memory_first_ms = 12, .memory_last_ms = 812,
						.goodput = 153600, .pauses_called_off = 1, .called_off_ms = 281 };
	ck_assert_uint_eq(call("GET", "/api/v1/vm.migration-status", NULL), 200);
	ck_assert_str_eq(body, "{\"role\":\"send\",\"state\":\"running\",\"phase\":\"precopy\",\"pass\":3,"
			 "\"connections\":4,\"bytes_sent\":123456,\"pages_sent\":30,\"zero_pages\":2000,"
			 "\"remaining_bytes\":4096,\"in_flight_bytes\":65536,\"dirty_rate\":500,\"bandwidth\":1048576,\"throttle_percent\":40,"
			 "\"peak_throttle_percent\":60,\"dirty_limit\":250,\"expected_downtime_ms\":null,"
			 "\"downtime_ms\":0,\"elapsed_ms\":900,\"pages_written\":0,\"bytes_in\":0,\"attempts\":0,"
			 "\"page_bytes_sent\":122880,\"memory_first_ms\":12,\"memory_last_ms\":812,\"goodput\":153600,"
			 "\"pauses_called_off\":1,\"called_off_ms\":281,"
			 "\"policy\":\"dirty rate outruns the link\",\"failure\":\"\",\"peer_failure\":\"\"}");
	fk.mig.expected_downtime_ms = 42;
	fk.mig.state = "failed";
	fk.mig.failure = "integrity";
	ck_assert_uint_eq(call("GET", "/api/v1/vm.migration-status", NULL), 200);
	ck_assert_ptr_nonnull(strstr(body, "\"expected_downtime_ms\":42,"));
	ck_assert_ptr_nonnull(strstr(body, "\"failure\":\"integrity\""));
	ck_assert_uint_eq(fk.actions, 0);
}
END_TEST

START_TEST(test_migration_resolve)
{
	with_migration();
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.migration-resolve", "{\"action\":\"discard\"}"), 200);
	ck_assert_int_eq(fk.resolved, API_RESOLVE_DISCARD + 1);
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.migration-resolve", "{\"action\":\"resume\"}"), 200);
	ck_assert_int_eq(fk.resolved, API_RESOLVE_RESUME + 1);
	ck_assert_uint_eq(fk.actions, 2);
	expect_400("/api/v1/vm.migration-resolve", "{}", "action");
	expect_400("/api/v1/vm.migration-resolve", "{\"action\":\"keep\"}", "action");
	expect_400("/api/v1/vm.migration-resolve", "{\"action\":\"resume\",\"force\":true}", "force");
	ck_assert_uint_eq(fk.actions, 2);
	fk.rc = HV_EINVAL; /* nothing waits for a decision */
	ck_assert_uint_eq(call("PUT", "/api/v1/vm.migration-resolve", "{\"action\":\"resume\"}"), 400);
	ck_assert_uint_eq(call("GET", "/api/v1/vm.migration-resolve", NULL), 405);
}
END_TEST

START_TEST(test_link_not_implemented)
{
	ck_assert_uint_eq(call("PUT", "/api/v1/host.link-listen", "{\"listen\":\"10.0.0.3:5001\"}"), 501);
	ck_assert_uint_eq(call("PUT", "/api/v1/host.link-test", "{\"peer\":\"10.0.0.3:5001\"}"), 501);
	ck_assert_uint_eq(call("GET", "/api/v1/host.link-status", NULL), 501);
	ck_assert_uint_eq(fk.actions, 0);
}
END_TEST

START_TEST(test_link_listen)
{
	with_link_test();
	ck_assert_uint_eq(call("PUT", "/api/v1/host.link-listen", "{\"listen\":\"10.0.0.3:5002\"}"), 202);
	ck_assert_str_eq(body, "{\"port\":5002}");
	ck_assert_uint_eq(fk.link_port, 5002);
	expect_400("/api/v1/host.link-listen", "{}", "listen");
	expect_400("/api/v1/host.link-listen", "{\"listen\":\"10.0.0.3\"}", "listen");
	expect_400("/api/v1/host.link-listen", "{\"listen\":5002}", "listen");
	expect_400("/api/v1/host.link-listen", "{\"listen\":\"10.0.0.3:5002\",\"connections\":2}", "connections");
	ck_assert_uint_eq(fk.actions, 1);
	fk.rc = HV_EBUSY; /* already listening */
	ck_assert_uint_eq(call("PUT", "/api/v1/host.link-listen", "{\"listen\":\"10.0.0.3:5003\"}"), 409);
	ck_assert_uint_eq(call("GET", "/api/v1/host.link-listen", NULL), 405);
}
END_TEST

START_TEST(test_link_test)
{
	with_link_test();
	ck_assert_uint_eq(call("PUT", "/api/v1/host.link-test", "{\"peer\":\"10.0.0.3:5002\"}"), 202);
	ck_assert_uint_eq(fk.link.peer.ip, 0x0a000003);
	ck_assert_uint_eq(fk.link.peer.port, 5002);
	ck_assert_uint_eq(fk.link.connections, 1);
	ck_assert_uint_eq(call("PUT", "/api/v1/host.link-test", "{\"connections\":4,\"peer\":\"10.0.0.4:6\"}"), 202);
	ck_assert_uint_eq(fk.link.connections, 4);
	ck_assert_uint_eq(fk.link.peer.ip, 0x0a000004);
	ck_assert_uint_eq(fk.actions, 2);
	expect_400("/api/v1/host.link-test", "{}", "peer");
	expect_400("/api/v1/host.link-test", "{\"peer\":\"0.0.0.0:5002\"}", "peer");
	expect_400("/api/v1/host.link-test", "{\"peer\":\"10.0.0.3:0\"}", "peer");
	expect_400("/api/v1/host.link-test", "{\"peer\":\"10.0.0.3:5002\",\"connections\":0}", "connections");
	expect_400("/api/v1/host.link-test", "{\"peer\":\"10.0.0.3:5002\",\"connections\":5}", "connections");
	expect_400("/api/v1/host.link-test", "{\"peer\":\"10.0.0.3:5002\",\"bytes\":1000}", "bytes");
	ck_assert_uint_eq(fk.actions, 2);
	fk.rc = HV_EBUSY; /* a test runs */
	ck_assert_uint_eq(call("PUT", "/api/v1/host.link-test", "{\"peer\":\"10.0.0.3:5002\"}"), 409);
}
END_TEST

START_TEST(test_link_status)
{
	with_link_test();
	fk.link_status = (struct net_link_status){ .state = NET_LINK_DONE, .peer = 0x0a4d0003, .peer_port = 5002,
						   .connections = 2, .connections_ok = 2, .bytes = 10485760, .ms = 10001,
						   .rate = 1048471, .listen_port = 5002, .received_sessions = 3,
						   .received_bytes = 777 };
	ck_assert_uint_eq(call("GET", "/api/v1/host.link-status", NULL), 200);
	ck_assert_str_eq(body, "{\"state\":\"done\",\"peer\":\"10.77.0.3:5002\",\"connections\":2,"
			 "\"connections_ok\":2,\"bytes\":10485760,\"ms\":10001,\"rate\":1048471,\"listen_port\":5002,"
			 "\"received_sessions\":3,\"received_bytes\":777}");
	fk.link_status = (struct net_link_status){ .state = NET_LINK_IDLE };
	ck_assert_uint_eq(call("GET", "/api/v1/host.link-status", NULL), 200);
	ck_assert_ptr_nonnull(strstr(body, "{\"state\":\"idle\",\"peer\":\"0.0.0.0:0\","));
	ck_assert_uint_eq(call("PUT", "/api/v1/host.link-status", "{}"), 405);
	ck_assert_uint_eq(fk.actions, 0);
}
END_TEST

START_TEST(test_parse_endpoint)
{
	static const char *const bad[] = { "", ":", "1.2.3.4", "1.2.3.4:", "1.2.3:4", "1.2.3.4.5:6", "256.0.0.1:1",
					   "01.2.3.4:5", "1.2.3.4:05", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:6x",
					   " 1.2.3.4:5", "1.2.3.4:5 ", "-1.2.3.4:5", "1.2.3.4:9999999999", "a.b.c.d:1" };
	struct api_endpoint ep;
	unsigned i;

	ck_assert_int_eq(api_parse_endpoint("255.255.255.255:1", 17, &ep), HV_OK);
	ck_assert_uint_eq(ep.ip, 0xffffffff);
	ck_assert_uint_eq(ep.port, 1);
	ck_assert_int_eq(api_parse_endpoint("0.0.0.0:80", 10, &ep), HV_OK);
	ck_assert_uint_eq(ep.ip, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(api_parse_endpoint(bad[i], strlen(bad[i]), &ep) == HV_EINVAL, "%s", bad[i]);
}
END_TEST

static Suite *api_suite(void)
{
	Suite *s = suite_create("api");
	TCase *tc = tcase_create("api");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_auth);
	tcase_add_test(tc, test_routing);
	tcase_add_test(tc, test_head);
	tcase_add_test(tc, test_authorized);
	tcase_add_test(tc, test_ping_and_connection);
	tcase_add_test(tc, test_host_info);
	tcase_add_test(tc, test_vm_info);
	tcase_add_test(tc, test_response_too_large);
	tcase_add_test(tc, test_throttle_good);
	tcase_add_test(tc, test_throttle_malformed_json);
	tcase_add_test(tc, test_throttle_bad_values);
	tcase_add_test(tc, test_error_messages);
	tcase_add_test(tc, test_bad_request_from_parser);
	tcase_add_test(tc, test_migration_not_implemented);
	tcase_add_test(tc, test_send_migration);
	tcase_add_test(tc, test_migration_status);
	tcase_add_test(tc, test_migration_timeouts_and_hold);
	tcase_add_test(tc, test_migration_resolve);
	tcase_add_test(tc, test_receive_and_cancel);
	tcase_add_test(tc, test_parse_endpoint);
	tcase_add_test(tc, test_link_not_implemented);
	tcase_add_test(tc, test_link_listen);
	tcase_add_test(tc, test_link_test);
	tcase_add_test(tc, test_link_status);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(api_suite());
}
