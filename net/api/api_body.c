/*
 * The management API's shared handler parts: JSON bodies decoded against a
 * field table (jsmn), refusals, and JSON string output. Every file holding
 * endpoints uses them; none of them calls an endpoint.
 */
#include <string.h>
#include "kernel/lib/err.h"
#include "kernel/lib/parse.h"
#include "kernel/lib/strbuf.h"
#include "net/api/api_priv.h"

#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>

/* ---- JSON output ---------------------------------------------------------- */

/* A JSON string literal; everything outside printable ASCII is \u-escaped. */
void api_put_str(struct strbuf *o, const char *s, size_t len)
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

int api_fail(struct api_err *e, unsigned status, const char *field, size_t field_len, const char *msg)
{
	e->status = status;
	e->msg = msg;
	if (field_len > API_FIELD_MAX)
		field_len = API_FIELD_MAX;
	memcpy(e->field, field ? field : "", field ? field_len : 0);
	e->field[field ? field_len : 0] = '\0';
	return HV_EINVAL;
}

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

int api_decode_body(struct api_call *c, const struct api_field *f, unsigned nf, struct api_value *v)
{
	struct api_obj *o = &(struct api_obj){ 0 };
	int rc = api_obj_parse(o, c->req->body, c->req->content_length, c->err);

	return rc < 0 ? rc : api_decode(o, f, nf, v, c->err);
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

int api_backend_fail(struct api_err *e, int err)
{
	return api_fail(e, api_status_of(err), NULL, 0, hv_strerror(err));
}

int api_not_implemented(struct api_call *c)
{
	return api_fail(c->err, 501, NULL, 0, "not implemented yet");
}

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
