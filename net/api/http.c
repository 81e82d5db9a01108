#include "net/api/http.h"

#include <stdio.h>
#include <string.h>
#include "kernel/lib/err.h"

static const char *const http_method_names[HTTP_M_COUNT] = {
	[HTTP_M_GET] = "GET",
	[HTTP_M_HEAD] = "HEAD",
	[HTTP_M_POST] = "POST",
	[HTTP_M_PUT] = "PUT",
	[HTTP_M_DELETE] = "DELETE",
	[HTTP_M_PATCH] = "PATCH",
	[HTTP_M_OPTIONS] = "OPTIONS",
};

const char *http_method_name(enum http_method m)
{
	return (unsigned)m < HTTP_M_COUNT ? http_method_names[m] : "?";
}

const char *http_status_text(unsigned status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	}
	return "Unknown";
}

void http_req_init(struct http_req *req)
{
	/* The buffers are overwritten before they are read: clearing 72 KiB per request is waste. */
	memset(req, 0, offsetof(struct http_req, head));
	req->phase = HTTP_PH_HEAD;
}

static char http_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool http_str_ieq(struct http_str s, const char *lit)
{
	size_t n = strlen(lit);
	size_t i;

	if (s.len != n)
		return false;
	for (i = 0; i < n; i++)
		if (http_lower(s.p[i]) != http_lower(lit[i]))
			return false;
	return true;
}

/* RFC 9110 tchar: what method and header names are made of. */
static bool http_is_tchar(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool http_is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static enum http_result http_fail(struct http_req *req, unsigned status, const char *reason)
{
	req->phase = HTTP_PH_BAD;
	req->status = status;
	req->reason = reason;
	return HTTP_BAD;
}

/* Splits "a, b ,c" lists: returns the next element (trimmed) and advances *s. */
static struct http_str http_next_elem(struct http_str *s)
{
	struct http_str e = { s->p, 0 };
	size_t i = 0;

	while (i < s->len && s->p[i] != ',')
		i++;
	e.len = i;
	while (e.len > 0 && http_is_ows(e.p[0])) {
		e.p++;
		e.len--;
	}
	while (e.len > 0 && http_is_ows(e.p[e.len - 1]))
		e.len--;
	if (i < s->len)
		i++;
	s->p += i;
	s->len -= i;
	return e;
}

static enum http_result http_parse_request_line(struct http_req *req, struct http_str line)
{
	size_t i = 0, start;
	unsigned m;
	struct http_str method, version;

	while (i < line.len && http_is_tchar(line.p[i]))
		i++;
	method = (struct http_str){ line.p, i };
	if (i == 0 || i >= line.len || line.p[i] != ' ')
		return http_fail(req, 400, "malformed request line");
	for (m = 0; m < HTTP_M_COUNT; m++)
		if (method.len == strlen(http_method_names[m]) && !memcmp(method.p, http_method_names[m], method.len))
			break;

	start = ++i;
	while (i < line.len && line.p[i] > ' ' && line.p[i] < 0x7f)
		i++;
	req->target = (struct http_str){ line.p + start, i - start };
	if (req->target.len == 0 || req->target.p[0] != '/' || i >= line.len || line.p[i] != ' ')
		return http_fail(req, 400, "malformed request target");
	req->path = req->target;
	for (start = 0; start < req->target.len; start++)
		if (req->target.p[start] == '?')
			break;
	req->path.len = start;

	version = (struct http_str){ line.p + i + 1, line.len - i - 1 };
	if (version.len != 8 || memcmp(version.p, "HTTP/", 5) || version.p[6] != '.' ||
	    version.p[5] < '0' || version.p[5] > '9' || version.p[7] < '0' || version.p[7] > '9')
		return http_fail(req, 400, "malformed HTTP version");
	if (version.p[5] != '1')
		return http_fail(req, 505, "only HTTP/1.x is supported");
	req->minor = (unsigned)(version.p[7] - '0');
	req->keep_alive = req->minor >= 1;

	/* A method we do not know at all is 501; a known one the path lacks is the router's 405. */
	if (m == HTTP_M_COUNT)
		return http_fail(req, 501, "method not implemented");
	req->method = (enum http_method)m;
	return HTTP_NEED_MORE;
}

static enum http_result http_parse_header_line(struct http_req *req, struct http_str line)
{
	struct http_header *h;
	size_t i = 0;

	if (line.len > 0 && http_is_ows(line.p[0]))
		return http_fail(req, 400, "obsolete header line folding");
	while (i < line.len && http_is_tchar(line.p[i]))
		i++;
	if (i == 0 || i >= line.len || line.p[i] != ':')
		return http_fail(req, 400, "malformed header line");
	if (req->header_count == HTTP_HEADERS_MAX)
		return http_fail(req, 431, "too many header fields");
	h = &req->headers[req->header_count++];
	h->name = (struct http_str){ line.p, i };
	h->value = (struct http_str){ line.p + i + 1, line.len - i - 1 };
	while (h->value.len > 0 && http_is_ows(h->value.p[0])) {
		h->value.p++;
		h->value.len--;
	}
	while (h->value.len > 0 && http_is_ows(h->value.p[h->value.len - 1]))
		h->value.len--;
	for (i = 0; i < h->value.len; i++) {
		unsigned char c = (unsigned char)h->value.p[i];
		if ((c < ' ' && c != '\t') || c == 0x7f)
			return http_fail(req, 400, "control character in header value");
	}
	return HTTP_NEED_MORE;
}

static enum http_result http_parse_content_length(struct http_req *req, struct http_str v)
{
	size_t n = 0, i;

	if (v.len == 0)
		return http_fail(req, 400, "malformed Content-Length");
	for (i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return http_fail(req, 400, "malformed Content-Length");
		/* Saturate instead of overflowing: anything past the limit is 413 anyway. */
		if (n <= HTTP_BODY_MAX)
			n = n * 10 + (size_t)(v.p[i] - '0');
	}
	if (n > HTTP_BODY_MAX)
		return http_fail(req, 413, "request body too large");
	req->content_length = n;
	return HTTP_NEED_MORE;
}

static enum http_result http_parse_authorization(struct http_req *req, struct http_str v)
{
	size_t i;

	if (req->has_auth)
		return http_fail(req, 400, "more than one Authorization header");
	if (v.len < 7 || !http_str_ieq((struct http_str){ v.p, 6 }, "Bearer") || v.p[6] != ' ')
		return HTTP_NEED_MORE;  /* another scheme: no token, so the API answers 401 */
	v.p += 7;
	v.len -= 7;
	while (v.len > 0 && v.p[0] == ' ') {
		v.p++;
		v.len--;
	}
	for (i = 0; i < v.len; i++)
		if (v.p[i] <= ' ' || v.p[i] >= 0x7f)
			return HTTP_NEED_MORE;  /* not a token68: treated as no token */
	if (v.len == 0)
		return HTTP_NEED_MORE;
	req->has_auth = true;
	req->token = v;
	return HTTP_NEED_MORE;
}

/* Interprets the headers this server acts on; the rest stay in req->headers. */
static enum http_result http_interpret_headers(struct http_req *req)
{
	bool has_length = false, has_te = false, te_chunked = false;
	unsigned hosts = 0, i;

	for (i = 0; i < req->header_count; i++) {
		struct http_str n = req->headers[i].name, v = req->headers[i].value, e;

		if (http_str_ieq(n, "Content-Length")) {
			if (has_length)
				return http_fail(req, 400, "more than one Content-Length header");
			has_length = true;
			if (http_parse_content_length(req, v) == HTTP_BAD)
				return HTTP_BAD;
		} else if (http_str_ieq(n, "Transfer-Encoding")) {
			has_te = true;
			while (v.len > 0)
				if (http_str_ieq(http_next_elem(&v), "chunked"))
					te_chunked = true;
		} else if (http_str_ieq(n, "Host")) {
			hosts++;
		} else if (http_str_ieq(n, "Authorization")) {
			if (http_parse_authorization(req, v) == HTTP_BAD)
				return HTTP_BAD;
		} else if (http_str_ieq(n, "Connection")) {
			while (v.len > 0) {
				e = http_next_elem(&v);
				if (http_str_ieq(e, "close"))
					req->keep_alive = false;
				else if (http_str_ieq(e, "keep-alive") && req->minor == 0)
					req->keep_alive = true;
			}
		} else if (http_str_ieq(n, "Expect")) {
			if (!http_str_ieq(v, "100-continue"))
				return http_fail(req, 417, "only Expect: 100-continue is supported");
			req->expect_continue = true;
		}
	}
	/* Close wins over keep-alive whichever header came first. */
	for (i = 0; i < req->header_count; i++) {
		struct http_str v = req->headers[i].value;
		if (http_str_ieq(req->headers[i].name, "Connection"))
			while (v.len > 0)
				if (http_str_ieq(http_next_elem(&v), "close"))
					req->keep_alive = false;
	}
	if (has_te && has_length)
		return http_fail(req, 400, "both Transfer-Encoding and Content-Length");
	if (has_te)
		return te_chunked ? http_fail(req, 411, "chunked bodies are not supported: send Content-Length")
				  : http_fail(req, 501, "transfer coding not implemented");
	if (req->minor >= 1 && hosts != 1)
		return http_fail(req, 400, "HTTP/1.1 needs exactly one Host header");
	if (hosts > 1)
		return http_fail(req, 400, "more than one Host header");
	return HTTP_NEED_MORE;
}

/* The head is complete in req->head: splits it into lines and interprets them. */
static enum http_result http_parse_head(struct http_req *req)
{
	size_t pos = 0, end, i;
	bool first = true;

	while (pos < req->head_len) {
		struct http_str line;

		for (end = pos; req->head[end] != '\n'; end++)
			;
		line = (struct http_str){ req->head + pos, end - pos };
		pos = end + 1;
		if (line.len > 0 && line.p[line.len - 1] == '\r')
			line.len--;
		if (line.len == 0)
			break;  /* the blank line ending the head */
		for (i = 0; i < line.len; i++)
			if (line.p[i] == '\r' || line.p[i] == '\0')
				return http_fail(req, 400, "stray CR or NUL in the head");
		if (first) {
			if (http_parse_request_line(req, line) == HTTP_BAD)
				return HTTP_BAD;
			first = false;
		} else if (http_parse_header_line(req, line) == HTTP_BAD) {
			return HTTP_BAD;
		}
	}
	return http_interpret_headers(req);
}

static enum http_result http_done(struct http_req *req, size_t used)
{
	req->phase = HTTP_PH_DONE;
	req->body = req->body_buf;
	req->used = used;
	return HTTP_DONE;
}

enum http_result http_parse(struct http_req *req, const char *data, size_t len)
{
	size_t i = 0, n;

	req->used = 0;
	if (req->phase == HTTP_PH_BAD)
		return HTTP_BAD;
	if (req->phase == HTTP_PH_DONE)
		return HTTP_DONE;
	while (req->phase == HTTP_PH_HEAD && i < len) {
		char c = data[i++];
		size_t line_len;

		/* Empty lines before a request are allowed (RFC 9112 2.2) and cost no memory. */
		if (req->head_len == 0 && (c == '\r' || c == '\n'))
			continue;
		if (req->head_len == HTTP_HEAD_MAX) {
			req->used = i;
			return req->line_start == 0 ? http_fail(req, 414, "request line too long")
						    : http_fail(req, 431, "request head too large");
		}
		req->head[req->head_len++] = c;
		if (c != '\n')
			continue;
		line_len = req->head_len - 1 - req->line_start;
		if (line_len == 0 || (line_len == 1 && req->head[req->line_start] == '\r')) {
			if (http_parse_head(req) == HTTP_BAD) {
				req->used = i;
				return HTTP_BAD;
			}
			if (req->content_length == 0)
				return http_done(req, i);
			req->phase = HTTP_PH_BODY;
		}
		req->line_start = req->head_len;
	}
	if (req->phase == HTTP_PH_BODY && i < len) {
		n = req->content_length - req->body_len;
		if (n > len - i)
			n = len - i;
		memcpy(req->body_buf + req->body_len, data + i, n);
		req->body_len += n;
		i += n;
		if (req->body_len == req->content_length)
			return http_done(req, i);
	}
	req->used = i;
	return HTTP_NEED_MORE;
}

const struct http_str *http_req_header(const struct http_req *req, const char *name)
{
	unsigned i;

	for (i = 0; i < req->header_count; i++)
		if (http_str_ieq(req->headers[i].name, name))
			return &req->headers[i].value;
	return NULL;
}

int http_response_write(char *out, size_t cap, const struct http_resp *resp)
{
	int n;

	n = snprintf(out, cap,
		     "HTTP/1.1 %u %s\r\n"
		     "Content-Type: application/json\r\n"
		     "Content-Length: %zu\r\n"
		     "Connection: %s\r\n"
		     "%s%s%s"
		     "%s%s%s"
		     "\r\n",
		     resp->status, http_status_text(resp->status), resp->body_len,
		     resp->keep_alive ? "keep-alive" : "close",
		     resp->allow ? "Allow: " : "", resp->allow ? resp->allow : "", resp->allow ? "\r\n" : "",
		     resp->www_auth ? "WWW-Authenticate: " : "", resp->www_auth ? resp->www_auth : "",
		     resp->www_auth ? "\r\n" : "");
	if (n < 0 || (size_t)n >= cap)
		return HV_ERANGE;
	if (resp->head_only)
		return n;
	if (resp->body_len > cap - (size_t)n || resp->body_len > 0x7fffffff - (size_t)n)
		return HV_ERANGE;
	/* A body already inside out must not have been overwritten by the head. */
	if ((uintptr_t)resp->body >= (uintptr_t)out && (uintptr_t)resp->body - (uintptr_t)out < (size_t)n)
		return HV_ERANGE;
	if (resp->body_len)
		memmove(out + n, resp->body, resp->body_len);
	return n + (int)resp->body_len;
}

unsigned http_response_status(const char *resp, size_t len)
{
	static const char prefix[] = "HTTP/1.1 ";
	const size_t plen = sizeof(prefix) - 1;
	unsigned status = 0;
	size_t i;

	if (len < plen + 3 || memcmp(resp, prefix, plen))
		return 0;
	for (i = plen; i < plen + 3; i++) {
		if (resp[i] < '0' || resp[i] > '9')
			return 0;
		status = status * 10 + (unsigned)(resp[i] - '0');
	}
	return status;
}
