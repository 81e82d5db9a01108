/*
 * Inside the management API (net/api/api.c): how a handler decodes a body,
 * reports a refusal and writes JSON, shared by the files that hold
 * endpoints. Not for use outside net/api/.
 */
#ifndef HV_NET_API_API_PRIV_H
#define HV_NET_API_API_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "kernel/lib/strbuf.h"
#include "net/api/api.h"

#define API_FIELD_MAX 48  /* bytes of a field name quoted back in an error */

/* Why a request was refused: status, message, and the field it concerns, if any. */
struct api_err {
	unsigned status;
	const char *msg;
	char field[API_FIELD_MAX + 1];
};

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

/* The context every handler gets. */
struct api_call {
	const struct api *api;
	const struct http_req *req;
	struct strbuf *out;
	struct api_err *err;
	unsigned status;             /* on success */
};

/* Fills e and returns HV_EINVAL, for a handler to return. */
int api_fail(struct api_err *e, unsigned status, const char *field, size_t field_len, const char *msg);
#define API_FAIL(e, field, msg) api_fail((e), 400, (field), strlen(field), (msg))
/* A backend's hv_err as the refusal's status. */
int api_backend_fail(struct api_err *e, int err);
int api_not_implemented(struct api_call *c);

/* The request's body as one flat JSON object, its pairs matched against a table of nf fields into v[]:
 * malformed JSON and unknown, repeated, mistyped or out-of-range fields fill c->err (400). */
int api_decode_body(struct api_call *c, const struct api_field *f, unsigned nf, struct api_value *v);
/* A JSON string literal of s[0..len). */
void api_put_str(struct strbuf *o, const char *s, size_t len);

/* The link test's endpoints (net/api/api_link.c). */
int api_link_listen(struct api_call *c);
int api_link_test(struct api_call *c);
int api_link_status(struct api_call *c);

#endif
