/*
 * libFuzzer target for net/api/api.c (with net/api/http.c in front): the first byte
 * picks an endpoint and the rest is its JSON body behind a valid,
 * authenticated head; with the top bit set the whole input is the raw
 * request instead. A fake backend records whether an action ran: it must
 * not unless the answer is a success.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/lib/err.h"
#include "net/api/api.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define TOKEN "fuzz-token"

static struct http_req req;
static char raw[HTTP_HEAD_MAX + HTTP_BODY_MAX + 8192]; /* >= fuzz.mk's FUZZ_MAX_LEN */
static char out[8192];
static unsigned actions;

static int f_vm_info(void *ctx, struct api_vm_info *vm)
{
	(void)ctx;
	vm->state = API_VM_RUNNING;
	vm->vcpu_count = 2;
	vm->throttle_max = 80;
	strcpy(vm->stop_reason, "\"\\\x01");
	return 0;
}

static int f_host_info(void *ctx, struct api_host_info *h)
{
	(void)ctx;
	h->feature_count = 1;
	h->features[0] = "vmx";
	return 0;
}

static int f_throttle(void *ctx, int vcpu, unsigned pct)
{
	(void)ctx;
	CHECK(vcpu >= -1 && vcpu < 2 && pct <= 80);
	actions++;
	return 0;
}

static int f_dirty(void *ctx, uint64_t limit)
{
	(void)ctx;
	CHECK(limit <= UINT32_MAX);
	actions++;
	return 0;
}

static int f_send(void *ctx, const struct api_send_migration *m)
{
	(void)ctx;
	CHECK(m->connections >= 1 && m->connections <= API_CONNECTIONS_MAX && m->max_throttle <= 99);
	CHECK(m->destination.port != 0 && m->downtime_ms >= 1);
	actions++;
	return 0;
}

static int f_recv(void *ctx, const struct api_receive_migration *m)
{
	(void)ctx;
	CHECK(m->listen.port != 0 && m->connections >= 1 && m->connections <= API_CONNECTIONS_MAX);
	actions++;
	return 0;
}

static int f_cancel(void *ctx)
{
	(void)ctx;
	actions++;
	return 0;
}

static int f_link_listen(void *ctx, uint16_t port)
{
	(void)ctx;
	CHECK(port != 0);
	actions++;
	return 0;
}

static int f_link_test(void *ctx, const struct api_link_test *t)
{
	(void)ctx;
	CHECK(t->peer.ip != 0 && t->peer.port != 0 && t->connections >= 1 && t->connections <= API_LINK_CONNECTIONS_MAX);
	actions++;
	return 0;
}

static const struct api_backend be = {
	.host_info = f_host_info, .vm_info = f_vm_info, .set_throttle = f_throttle, .set_dirty_limit = f_dirty,
	.send_migration = f_send, .receive_migration = f_recv, .migration_cancel = f_cancel,
	.link_listen = f_link_listen, .link_test = f_link_test,
};
static const struct api api = { .token = TOKEN, .token_len = sizeof(TOKEN) - 1, .version = "fuzz", .be = &be };

static const char *const paths[] = {
	"PUT /api/v1/vm.throttle", "PUT /api/v1/vm.send-migration", "PUT /api/v1/vm.receive-migration",
	"PUT /api/v1/vm.migration-cancel", "GET /api/v1/vm.info", "GET /api/v1/host.info",
	"GET /api/v1/vmm.ping", "GET /api/v1/vm.migration-status", "PUT /api/v1/host.link-listen",
	"PUT /api/v1/host.link-test",
};

/* The response is one well-formed HTTP message whose Content-Length is its body (absent for a HEAD). */
static unsigned check_response(int n, bool head)
{
	unsigned status = 0;
	size_t clen = 0;
	const char *cl, *end;

	CHECK(n > 0 && (size_t)n < sizeof(out));
	out[n] = '\0';
	CHECK(sscanf(out, "HTTP/1.1 %u ", &status) == 1 && status >= 200 && status < 600);
	cl = strstr(out, "\r\nContent-Length: ");
	end = strstr(out, "\r\n\r\n");
	CHECK(cl && end && cl < end);
	clen = strtoul(cl + 18, NULL, 10);
	if (head) {
		CHECK(out + n == end + 4 && clen > 0);
		return status;
	}
	CHECK((size_t)(out + n - (end + 4)) == clen);
	CHECK(end[4] == '{' && out[n - 1] == '}');
	return status;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum http_result r;
	unsigned status;
	size_t len;
	int n;

	if (size == 0)
		return 0;
	if (data[0] & 0x80) {
		len = size - 1;
		if (len > sizeof(raw))
			return 0;
		memcpy(raw, data + 1, len);
	} else {
		len = (size_t)snprintf(raw, sizeof(raw),
				       "%s HTTP/1.1\r\nHost: hv\r\nAuthorization: Bearer " TOKEN "\r\nContent-Length: %zu\r\n\r\n",
				       paths[data[0] % (sizeof(paths) / sizeof(paths[0]))], size - 1);
		if (len + size - 1 > sizeof(raw))
			return 0;
		memcpy(raw + len, data + 1, size - 1);
		len += size - 1;
	}
	http_req_init(&req);
	r = http_parse(&req, raw, len);
	if (r == HTTP_NEED_MORE)
		return 0;
	actions = 0;
	n = r == HTTP_DONE ? api_serve(&api, &req, out, sizeof(out) - 1) : api_serve_bad(&req, out, sizeof(out) - 1);
	status = check_response(n, r == HTTP_DONE && req.method == HTTP_M_HEAD);
	/* Decode, then invoke: an action ran exactly when the answer is a success. */
	CHECK(actions <= 1);
	CHECK(status < 300 || actions == 0);
	return 0;
}
