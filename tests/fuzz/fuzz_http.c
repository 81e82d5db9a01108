/*
 * libFuzzer target for net/api/http.c: the input is a byte stream as a client
 * might send it, cut into pieces of varying size (the first byte picks the
 * cut length), carrying any number of pipelined requests.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "net/api/http.h"

static struct http_req req;
static char out[HTTP_HEAD_ROOM + 1024];

#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* What must hold for any request the parser accepts. */
static void check_done(const struct http_req *r)
{
	CHECK(r->method < HTTP_M_COUNT);
	CHECK(r->content_length <= HTTP_BODY_MAX);
	CHECK(r->header_count <= HTTP_HEADERS_MAX);
	CHECK(r->target.len > 0 && r->target.p[0] == '/');
	CHECK(r->path.p == r->target.p && r->path.len <= r->target.len);
	CHECK(r->target.p >= r->head && r->target.p + r->target.len <= r->head + HTTP_HEAD_MAX);
	CHECK(!r->has_auth || (r->token.len > 0 && r->token.p >= r->head &&
			       r->token.p + r->token.len <= r->head + HTTP_HEAD_MAX));
	if (r->content_length)
		CHECK(r->body[0] == r->body[0] && r->body[r->content_length - 1] == r->body[r->content_length - 1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p;
	size_t left, chunk;

	if (size == 0)
		return 0;
	chunk = data[0] ? data[0] : size;
	p = (const char *)data + 1;
	left = size - 1;
	http_req_init(&req);
	while (left > 0) {
		size_t n = left < chunk ? left : chunk;
		enum http_result r = http_parse(&req, p, n);
		size_t used = req.used;

		CHECK(req.used <= n);
		if (r == HTTP_BAD) {
			struct http_resp resp = { .status = req.status, .body = "{}", .body_len = 2 };
			CHECK(req.status >= 400 && req.status < 600 && req.reason);
			CHECK(http_response_write(out, sizeof(out), &resp) > 0);
			break;
		}
		if (r == HTTP_NEED_MORE) {
			CHECK(req.used == n);
		} else {
			check_done(&req);
			http_req_init(&req);
		}
		/* Every request takes at least one byte, so this loop ends. */
		CHECK(used > 0);
		p += used;
		left -= used;
	}
	return 0;
}
