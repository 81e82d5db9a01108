/* Unit tests for net/api/http.c: the incremental request parser and the response writer. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/lib/err.h"
#include "net/api/http.h"
#include "tests/unit/check_run.h"

static struct http_req req;
static char big[2 * HTTP_BODY_MAX + 2 * HTTP_HEAD_MAX];

static enum http_result feed(const char *s)
{
	http_req_init(&req);
	return http_parse(&req, s, strlen(s));
}

/* Feeds s one byte per call: every call but the last must need more. */
static enum http_result feed_bytewise(const char *s, size_t len)
{
	enum http_result r = HTTP_NEED_MORE;
	size_t i;

	http_req_init(&req);
	for (i = 0; i < len; i++) {
		r = http_parse(&req, s + i, 1);
		if (r != HTTP_NEED_MORE)
			break;
		ck_assert_uint_eq(req.used, 1);
	}
	return r;
}

static bool str_is(struct http_str s, const char *lit)
{
	return s.len == strlen(lit) && !memcmp(s.p, lit, s.len);
}

/* A request whose head (with the blank line) is exactly head_len bytes. */
static size_t make_head(char *out, size_t head_len)
{
	const char *pre = "GET /x HTTP/1.1\r\nHost: h\r\nX-Pad: ";
	size_t fixed = strlen(pre) + 4, pad = head_len - fixed;

	strcpy(out, pre);
	memset(out + strlen(pre), 'a', pad);
	strcpy(out + strlen(pre) + pad, "\r\n\r\n");
	return head_len;
}

static void expect_bad(const char *s, unsigned status)
{
	ck_assert_int_eq(feed(s), HTTP_BAD);
	ck_assert_uint_eq(req.status, status);
	ck_assert_ptr_nonnull(req.reason);
}

START_TEST(test_simple_get)
{
	const char *s = "GET /api/v1/vm.info?verbose=1 HTTP/1.1\r\nHost: hv\r\nAuthorization: Bearer s3cr3t\r\n\r\n";

	ck_assert_int_eq(feed(s), HTTP_DONE);
	ck_assert_uint_eq(req.used, strlen(s));
	ck_assert_int_eq(req.method, HTTP_M_GET);
	ck_assert(str_is(req.target, "/api/v1/vm.info?verbose=1"));
	ck_assert(str_is(req.path, "/api/v1/vm.info"));
	ck_assert_uint_eq(req.minor, 1);
	ck_assert(req.keep_alive);
	ck_assert(req.has_auth);
	ck_assert(str_is(req.token, "s3cr3t"));
	ck_assert_uint_eq(req.content_length, 0);
	ck_assert_uint_eq(req.header_count, 2);
	ck_assert(str_is(*http_req_header(&req, "host"), "hv"));
	ck_assert_ptr_null(http_req_header(&req, "Content-Type"));
}
END_TEST

START_TEST(test_put_with_body_and_methods)
{
	static const char *const names[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS" };
	char buf[256];
	unsigned m;

	ck_assert_int_eq(feed("PUT /a HTTP/1.1\r\nHost: h\r\nContent-Length: 15\r\n\r\n{\"percent\": 50}"), HTTP_DONE);
	ck_assert_int_eq(req.method, HTTP_M_PUT);
	ck_assert_uint_eq(req.content_length, 15);
	ck_assert_mem_eq(req.body, "{\"percent\": 50}", 15);
	for (m = 0; m < HTTP_M_COUNT; m++) {
		snprintf(buf, sizeof(buf), "%s / HTTP/1.1\r\nHost: h\r\n\r\n", names[m]);
		ck_assert_int_eq(feed(buf), HTTP_DONE);
		ck_assert_int_eq(req.method, (int)m);
		ck_assert_str_eq(http_method_name(req.method), names[m]);
	}
}
END_TEST

START_TEST(test_bytewise)
{
	const char *s = "PUT /api/v1/vm.throttle HTTP/1.1\r\nHost: h\r\nContent-Length: 14\r\n"
			"authorization: bearer tok\r\n\r\n{\"percent\":10}";

	ck_assert_int_eq(feed_bytewise(s, strlen(s)), HTTP_DONE);
	ck_assert_uint_eq(req.used, 1);
	ck_assert(str_is(req.path, "/api/v1/vm.throttle"));
	ck_assert(str_is(req.token, "tok"));
	ck_assert_mem_eq(req.body, "{\"percent\":10}", 14);
	/* Without a body the last byte of the blank line completes it. */
	s = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
	ck_assert_int_eq(feed_bytewise(s, strlen(s)), HTTP_DONE);
	/* Bad bytes are reported on the byte that makes them bad. */
	s = "GET / HTTP/1.1\r\nHost h\r\n\r\n";
	ck_assert_int_eq(feed_bytewise(s, strlen(s)), HTTP_BAD);
	ck_assert_uint_eq(req.status, 400);
}
END_TEST

START_TEST(test_split_at_every_point)
{
	const char *s = "PUT /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
	size_t len = strlen(s), cut;

	for (cut = 0; cut <= len; cut++) {
		http_req_init(&req);
		ck_assert_int_eq(http_parse(&req, s, cut), cut == len ? HTTP_DONE : HTTP_NEED_MORE);
		if (cut < len)
			ck_assert_int_eq(http_parse(&req, s + cut, len - cut), HTTP_DONE);
		ck_assert_uint_eq(req.used, len - cut ? len - cut : cut);
		ck_assert_mem_eq(req.body, "hello", 5);
	}
}
END_TEST

START_TEST(test_pipelined)
{
	const char *s = "PUT /one HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
			"GET /two HTTP/1.1\r\nHost: h\r\n\r\n"
			"PUT /three HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nConnection: close\r\n\r\nxy";
	const char *p = s;
	size_t left = strlen(s);

	http_req_init(&req);
	ck_assert_int_eq(http_parse(&req, p, left), HTTP_DONE);
	ck_assert(str_is(req.path, "/one"));
	ck_assert_mem_eq(req.body, "abc", 3);
	p += req.used, left -= req.used;
	/* Feeding more before reset changes nothing. */
	ck_assert_int_eq(http_parse(&req, p, left), HTTP_DONE);
	ck_assert_uint_eq(req.used, 0);
	http_req_init(&req);
	ck_assert_int_eq(http_parse(&req, p, left), HTTP_DONE);
	ck_assert(str_is(req.path, "/two"));
	ck_assert_uint_eq(req.content_length, 0);
	p += req.used, left -= req.used;
	http_req_init(&req);
	ck_assert_int_eq(http_parse(&req, p, left), HTTP_DONE);
	ck_assert(str_is(req.path, "/three"));
	ck_assert_mem_eq(req.body, "xy", 2);
	ck_assert(!req.keep_alive);
	ck_assert_uint_eq(req.used, left);
}
END_TEST

START_TEST(test_lenient_line_ends)
{
	ck_assert_int_eq(feed("\r\n\r\nGET / HTTP/1.1\nHost: h\n\n"), HTTP_DONE);
	ck_assert(str_is(req.path, "/"));
	ck_assert_int_eq(feed("GET / HTTP/1.1\r\nHost:h\r\nX-Empty:\r\nX-Ws: \t v \t\r\n\r\n"), HTTP_DONE);
	ck_assert(str_is(*http_req_header(&req, "x-empty"), ""));
	ck_assert(str_is(*http_req_header(&req, "X-WS"), "v"));
}
END_TEST

START_TEST(test_bad_request_line)
{
	expect_bad("GET\r\n\r\n", 400);
	expect_bad("GET /\r\n\r\n", 400);
	expect_bad("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	expect_bad("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400);
	expect_bad(" GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	expect_bad("GET x HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	expect_bad("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	expect_bad("GET / HTTP/1\r\nHost: h\r\n\r\n", 400);
	expect_bad("GET / http/1.1\r\nHost: h\r\n\r\n", 400);
	expect_bad("GET / HTTP/1.x\r\nHost: h\r\n\r\n", 400);
	expect_bad("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505);
	expect_bad("G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	expect_bad("BREW / HTTP/1.1\r\nHost: h\r\n\r\n", 501);
	expect_bad("get / HTTP/1.1\r\nHost: h\r\n\r\n", 501);
	expect_bad("GET /a\rb HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}
END_TEST

START_TEST(test_bad_headers)
{
	expect_bad("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400);
	expect_bad("GET / HTTP/1.1\r\nHost: h\r\nName : v\r\n\r\n", 400);
	expect_bad("GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", 400);
	expect_bad("GET / HTTP/1.1\r\nHost: h\r\nA: b\r\n folded\r\n\r\n", 400);
	expect_bad("GET / HTTP/1.1\r\nHost: h\r\nA: b\x01\r\n\r\n", 400);
	expect_bad("GET / HTTP/1.1\r\nHost: h\r\nA: b\rc\r\n\r\n", 400);
	ck_assert_int_eq(http_parse(&req, "GET", 3), HTTP_BAD);   /* sticky */
	ck_assert_uint_eq(req.status, 400);
	expect_bad("GET / HTTP/1.1\r\n\r\n", 400);                  /* no Host */
	expect_bad("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
	expect_bad("GET / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n", 417);
	ck_assert_int_eq(feed("GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n\r\n"), HTTP_DONE);
	ck_assert(req.expect_continue);
	/* A NUL inside the head. */
	http_req_init(&req);
	ck_assert_int_eq(http_parse(&req, "GET / HTTP/1.1\r\nHost: h\0\r\n\r\n", 28), HTTP_BAD);
}
END_TEST

START_TEST(test_content_length)
{
	expect_bad("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400);
	expect_bad("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n", 400);
	expect_bad("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n", 400);
	expect_bad("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 1,1\r\n\r\n", 400);
	expect_bad("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\n", 400);
	expect_bad("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999999\r\n\r\n", 413);
	expect_bad("PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 411);
	expect_bad("PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n", 411);
	expect_bad("PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501);
	expect_bad("PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400);
	ck_assert_int_eq(feed("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 0003\r\n\r\nabc"), HTTP_DONE);
	ck_assert_uint_eq(req.content_length, 3);
	ck_assert_int_eq(feed("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabc"), HTTP_NEED_MORE);
}
END_TEST

START_TEST(test_head_limit)
{
	size_t n = make_head(big, HTTP_HEAD_MAX);

	http_req_init(&req);
	ck_assert_int_eq(http_parse(&req, big, n), HTTP_DONE);
	ck_assert_uint_eq(req.used, HTTP_HEAD_MAX);
	ck_assert_int_eq(feed_bytewise(big, n), HTTP_DONE);
	n = make_head(big, HTTP_HEAD_MAX + 1);
	http_req_init(&req);
	ck_assert_int_eq(http_parse(&req, big, n), HTTP_BAD);
	ck_assert_uint_eq(req.status, 431);
	ck_assert_uint_eq(req.used, HTTP_HEAD_MAX + 1);
	ck_assert_int_eq(feed_bytewise(big, n), HTTP_BAD);
	ck_assert_uint_eq(req.status, 431);
	/* A request line that never ends. */
	memset(big, 'a', HTTP_HEAD_MAX + 10);
	memcpy(big, "GET /", 5);
	http_req_init(&req);
	ck_assert_int_eq(http_parse(&req, big, HTTP_HEAD_MAX + 10), HTTP_BAD);
	ck_assert_uint_eq(req.status, 414);
}
END_TEST

START_TEST(test_header_count_limit)
{
	char *p;
	unsigned i;

	for (unsigned count = HTTP_HEADERS_MAX; count <= HTTP_HEADERS_MAX + 1; count++) {
		p = big + sprintf(big, "GET / HTTP/1.1\r\nHost: h\r\n");
		for (i = 1; i < count; i++)
			p += sprintf(p, "X-H%u: %u\r\n", i, i);
		strcpy(p, "\r\n");
		if (count == HTTP_HEADERS_MAX) {
			ck_assert_int_eq(feed(big), HTTP_DONE);
			ck_assert_uint_eq(req.header_count, HTTP_HEADERS_MAX);
		} else {
			expect_bad(big, 431);
		}
	}
}
END_TEST

START_TEST(test_body_limit)
{
	size_t n;

	n = (size_t)sprintf(big, "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: %u\r\n\r\n", HTTP_BODY_MAX);
	memset(big + n, 'b', HTTP_BODY_MAX);
	http_req_init(&req);
	ck_assert_int_eq(http_parse(&req, big, n + HTTP_BODY_MAX + 100), HTTP_DONE);
	ck_assert_uint_eq(req.used, n + HTTP_BODY_MAX);
	ck_assert_uint_eq(req.content_length, HTTP_BODY_MAX);
	ck_assert_int_eq(req.body[HTTP_BODY_MAX - 1], 'b');
	/* One past: refused as soon as the head is in, before any body byte. */
	n = (size_t)sprintf(big, "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: %u\r\n\r\n", HTTP_BODY_MAX + 1);
	http_req_init(&req);
	ck_assert_int_eq(http_parse(&req, big, n), HTTP_BAD);
	ck_assert_uint_eq(req.status, 413);
}
END_TEST

START_TEST(test_connection)
{
	ck_assert_int_eq(feed("GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n"), HTTP_DONE);
	ck_assert(!req.keep_alive);
	ck_assert_int_eq(feed("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, close\r\n\r\n"), HTTP_DONE);
	ck_assert(!req.keep_alive);
	ck_assert_int_eq(feed("GET / HTTP/1.0\r\n\r\n"), HTTP_DONE);
	ck_assert_uint_eq(req.minor, 0);
	ck_assert(!req.keep_alive);
	ck_assert_int_eq(feed("GET / HTTP/1.0\r\nconnection: Keep-Alive\r\n\r\n"), HTTP_DONE);
	ck_assert(req.keep_alive);
	ck_assert_int_eq(feed("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n"), HTTP_DONE);
	ck_assert(req.keep_alive);
}
END_TEST

START_TEST(test_authorization)
{
	ck_assert_int_eq(feed("GET / HTTP/1.1\r\nHost: h\r\nAUTHORIZATION: BEARER   abc.DEF-_~+/=\r\n\r\n"), HTTP_DONE);
	ck_assert(req.has_auth);
	ck_assert(str_is(req.token, "abc.DEF-_~+/="));
	ck_assert_int_eq(feed("GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Basic YTpi\r\n\r\n"), HTTP_DONE);
	ck_assert(!req.has_auth);
	ck_assert_int_eq(feed("GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer\r\n\r\n"), HTTP_DONE);
	ck_assert(!req.has_auth);
	ck_assert_int_eq(feed("GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer a b\r\n\r\n"), HTTP_DONE);
	ck_assert(!req.has_auth);
	ck_assert_int_eq(feed("GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearertok\r\n\r\n"), HTTP_DONE);
	ck_assert(!req.has_auth);
	expect_bad("GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n", 400);
}
END_TEST

START_TEST(test_response_write)
{
	char out[512];
	struct http_resp r = { .status = 200, .keep_alive = true, .body = "{\"a\":1}", .body_len = 7 };
	const char *want = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n"
			   "Connection: keep-alive\r\n\r\n{\"a\":1}";
	int n = http_response_write(out, sizeof(out), &r);

	ck_assert_int_eq(n, (int)strlen(want));
	ck_assert_mem_eq(out, want, (size_t)n);
	/* Exactly fitting is fine; one byte less is not. */
	ck_assert_int_eq(http_response_write(out, (size_t)n, &r), n);
	ck_assert_int_eq(http_response_write(out, (size_t)n - 1, &r), HV_ERANGE);
	ck_assert_int_eq(http_response_write(out, 10, &r), HV_ERANGE);
	r = (struct http_resp){ .status = 405, .allow = "PUT", .body = "{}", .body_len = 2 };
	n = http_response_write(out, sizeof(out), &r);
	out[n] = '\0';
	ck_assert_ptr_nonnull(strstr(out, "HTTP/1.1 405 Method Not Allowed\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "\r\nAllow: PUT\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "\r\nConnection: close\r\n"));
	r = (struct http_resp){ .status = 401, .www_auth = "Bearer", .body = "{}", .body_len = 2 };
	n = http_response_write(out, sizeof(out), &r);
	out[n] = '\0';
	ck_assert_ptr_nonnull(strstr(out, "\r\nWWW-Authenticate: Bearer\r\n"));
	/* A body already in out, past the head room, is moved into place. */
	memcpy(out + HTTP_HEAD_ROOM, "{\"b\":2}", 7);
	r = (struct http_resp){ .status = 200, .body = out + HTTP_HEAD_ROOM, .body_len = 7 };
	n = http_response_write(out, sizeof(out), &r);
	ck_assert_mem_eq(out + n - 7, "{\"b\":2}", 7);
	/* ... but not one the head would overwrite. */
	r.body = out + 10;
	ck_assert_int_eq(http_response_write(out, sizeof(out), &r), HV_ERANGE);
	ck_assert_str_eq(http_status_text(413), "Content Too Large");
	ck_assert_str_eq(http_status_text(999), "Unknown");
}
END_TEST

/* A HEAD's answer: the head says how long the GET's body is, and the body stays out. */
START_TEST(test_response_head_only)
{
	char out[512];
	const char *want = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n"
			   "Connection: keep-alive\r\n\r\n";
	struct http_resp r = { .status = 200, .keep_alive = true, .body = "{\"a\":1}", .body_len = 7, .head_only = true };
	int n = http_response_write(out, sizeof(out), &r);

	ck_assert_int_eq(n, (int)strlen(want));
	ck_assert_mem_eq(out, want, (size_t)n);
	/* The body need not fit: it is never written. */
	ck_assert_int_eq(http_response_write(out, (size_t)n + 1, &r), n);
	ck_assert_uint_eq(http_response_status(out, (size_t)n), 200);
}
END_TEST

START_TEST(test_response_status)
{
	ck_assert_uint_eq(http_response_status("HTTP/1.1 404 Not Found\r\n", 24), 404);
	ck_assert_uint_eq(http_response_status(HTTP_CONTINUE, strlen(HTTP_CONTINUE)), 100);
	ck_assert_uint_eq(http_response_status("HTTP/1.1 20", 11), 0);
	ck_assert_uint_eq(http_response_status("HTTP/1.0 200 OK", 15), 0);
	ck_assert_uint_eq(http_response_status("HTTP/1.1 2x0 OK", 15), 0);
	ck_assert_uint_eq(http_response_status("", 0), 0);
}
END_TEST

static Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("http");

	tcase_add_test(tc, test_simple_get);
	tcase_add_test(tc, test_put_with_body_and_methods);
	tcase_add_test(tc, test_bytewise);
	tcase_add_test(tc, test_split_at_every_point);
	tcase_add_test(tc, test_pipelined);
	tcase_add_test(tc, test_lenient_line_ends);
	tcase_add_test(tc, test_bad_request_line);
	tcase_add_test(tc, test_bad_headers);
	tcase_add_test(tc, test_content_length);
	tcase_add_test(tc, test_head_limit);
	tcase_add_test(tc, test_header_count_limit);
	tcase_add_test(tc, test_body_limit);
	tcase_add_test(tc, test_connection);
	tcase_add_test(tc, test_authorization);
	tcase_add_test(tc, test_response_write);
	tcase_add_test(tc, test_response_head_only);
	tcase_add_test(tc, test_response_status);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(http_suite());
}
