/*
 * An incremental HTTP/1.1 request parser and a response writer for the
 * management API. Pure code: no sockets, no allocation, no globals, so it
 * is unit-tested and fuzzed on the host.
 *
 * A connection owns one struct http_req. Bytes are fed as they arrive with
 * http_parse(); it copies what it needs into the struct, so the caller may
 * reuse its buffer at once. Only Content-Length bodies are accepted.
 *
 * Pipelining: when http_parse() returns HTTP_DONE it has consumed only
 * req->used bytes of that call's data; the rest belong to the next request.
 * Handle the request, then http_req_init() and feed the remainder.
 *
 * On HTTP_BAD, req->status (4xx/5xx) and req->reason say why; the state is
 * sticky (every later call returns HTTP_BAD): answer and close the connection.
 */
#ifndef HV_NET_API_HTTP_H
#define HV_NET_API_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX 8192      /* request line + headers + the blank line */
#define HTTP_BODY_MAX 65536
#define HTTP_HEADERS_MAX 32

enum http_result {
	HTTP_NEED_MORE = 0,     /* all bytes consumed; the request is not complete */
	HTTP_DONE = 1,          /* a whole request is in req; req->used bytes were consumed */
	HTTP_BAD = -1,          /* malformed or over a limit: see req->status, req->reason */
};

enum http_method {
	HTTP_M_GET,
	HTTP_M_HEAD,
	HTTP_M_POST,
	HTTP_M_PUT,
	HTTP_M_DELETE,
	HTTP_M_PATCH,
	HTTP_M_OPTIONS,
	HTTP_M_COUNT,
};

/* A string inside the request's own buffers: not NUL-terminated. */
struct http_str {
	const char *p;
	size_t len;
};

struct http_header {
	struct http_str name;
	struct http_str value;
};

enum http_phase { HTTP_PH_HEAD, HTTP_PH_BODY, HTTP_PH_DONE, HTTP_PH_BAD };

struct http_req {
	/* Results, valid once http_parse() returned HTTP_DONE. */
	enum http_method method;
	struct http_str target;      /* as sent, e.g. "/api/v1/vm.info?x=1" */
	struct http_str path;        /* the target up to '?' */
	unsigned minor;              /* HTTP/1.<minor> */
	bool keep_alive;             /* from the version and Connection: */
	bool expect_continue;        /* Expect: 100-continue was sent */
	bool has_auth;               /* Authorization: Bearer <token> was sent */
	struct http_str token;       /* the bearer token */
	size_t content_length;
	struct http_header headers[HTTP_HEADERS_MAX];
	unsigned header_count;
	const char *body;            /* content_length bytes */

	/* Results of each call. */
	size_t used;                 /* bytes of the last call's data consumed */
	unsigned status;             /* on HTTP_BAD: the status to answer with */
	const char *reason;          /* on HTTP_BAD: a static, human-readable reason */

	/* Parser state. */
	enum http_phase phase;
	size_t head_len;
	size_t line_start;           /* offset of the current line in head */
	size_t body_len;
	char head[HTTP_HEAD_MAX];
	char body_buf[HTTP_BODY_MAX];
};

/* Makes req ready for a new request (a new connection or the next pipelined one). */
void http_req_init(struct http_req *req);

enum http_result http_parse(struct http_req *req, const char *data, size_t len);

/* The value of the first header called name (any case), or NULL. */
const struct http_str *http_req_header(const struct http_req *req, const char *name);

/* The method's name ("GET"), for logs and Allow headers. */
const char *http_method_name(enum http_method m);

/* The standard reason phrase of a status code ("Not Found"). */
const char *http_status_text(unsigned status);

struct http_resp {
	unsigned status;
	bool keep_alive;
	const char *allow;           /* methods for an Allow: header (405), or NULL */
	const char *www_auth;        /* WWW-Authenticate: value (401), or NULL */
	const char *body;            /* JSON */
	size_t body_len;
	bool head_only;              /* the answer to a HEAD: Content-Length says body_len, no body follows */
};

/* The interim answer to Expect: 100-continue, sent once the head is accepted and before the body is read. */
#define HTTP_CONTINUE "HTTP/1.1 100 Continue\r\n\r\n"

/*
 * Writes the status line, Content-Type: application/json, Content-Length,
 * Connection and the body (none when head_only) into out. Returns the length written, or
 * HV_ERANGE (nothing usable in out) when it does not fit in cap bytes.
 * The body may already lie in out at offset HTTP_HEAD_ROOM or later: the
 * head never needs more (with allow/www_auth of up to 64 bytes each).
 */
#define HTTP_HEAD_ROOM 384
int http_response_write(char *out, size_t cap, const struct http_resp *resp);

/* The status code of a response written by http_response_write, or 0 if resp does not start with a status line. */
unsigned http_response_status(const char *resp, size_t len);

#endif
