/* Connection plumbing shared by the sender and the receiver: see link.h. */
#include <stdio.h>
#include <string.h>
#include "kernel/lib/err.h"
#include "migration/link.h"

void migr_link_init(struct migr_link *l, uint32_t slot, uint8_t *out, size_t out_cap, uint8_t *in, size_t in_cap,
		    uint32_t kind, uint32_t dec_conn, uint32_t dir_in)
{
	memset(l, 0, sizeof(*l));
	l->slot = slot;
	l->out = out;
	l->out_cap = out_cap;
	migr_tx_init(&l->tx, slot, dir_in == MIGR_DIR_A_TO_B ? MIGR_DIR_B_TO_A : MIGR_DIR_A_TO_B);
	migr_dec_init(&l->dec, in, in_cap, kind, dec_conn, dir_in);
}

/* Room for n more bytes at the end of the queue, moving what is left to the front if need be. */
static uint8_t *reserve(struct migr_link *l, size_t n)
{
	if (l->out_off == l->out_len)
		l->out_off = l->out_len = 0;
	if (l->out_cap - l->out_len < n && l->out_off) {
		memmove(l->out, l->out + l->out_off, l->out_len - l->out_off);
		l->out_len -= l->out_off;
		l->out_off = 0;
	}
	return l->out_cap - l->out_len < n ? NULL : l->out + l->out_len;
}

int migr_link_queue_preamble(struct migr_link *l)
{
	uint8_t *p = reserve(l, sizeof(struct migr_preamble));

	if (!p)
		return HV_EBUSY;
	l->out_len += migr_enc_preamble(p, sizeof(struct migr_preamble));
	return HV_OK;
}

int migr_link_queue(struct migr_link *l, uint32_t type, const void *body, uint32_t len)
{
	uint8_t *p = reserve(l, MIGR_REC_SIZE(len));
	long n;

	if (!p)
		return HV_EBUSY;
	n = migr_enc(&l->tx, type, body, len, p, l->out_cap - l->out_len);
	if (n < 0)
		return (int)n;
	l->out_len += (size_t)n;
	return HV_OK;
}

void migr_link_queue_error(struct migr_link *l, uint32_t code, const char *text)
{
	uint8_t body[sizeof(struct migr_error) + MIGR_ERROR_TEXT_MAX];
	struct migr_error e = { .code = code };
	size_t n = strlen(text);

	if (n > MIGR_ERROR_TEXT_MAX)
		n = MIGR_ERROR_TEXT_MAX;
	e.text_len = (uint32_t)n;
	memcpy(body, &e, sizeof(e));
	memcpy(body + sizeof(e), text, n);
	(void)migr_link_queue(l, MIGR_REC_ERROR, body, (uint32_t)(sizeof(e) + n));
}

uint32_t migr_link_peer_error(const struct migr_rec *rec, char *out, size_t cap)
{
	char text[MIGR_ERROR_TEXT_MAX + 1];
	struct migr_error e;
	size_t i, n;

	memcpy(&e, rec->body, sizeof(e));
	n = rec->length - sizeof(e);
	if (e.text_len < n)
		n = e.text_len;
	/* The peer's words go into our log: printable ASCII only. */
	for (i = 0; i < n; i++) {
		char ch = (char)rec->body[sizeof(e) + i];

		text[i] = ch >= ' ' && ch <= '~' ? ch : '?';
	}
	text[n] = 0;
	snprintf(out, cap, "%s: %s", migr_error_str(e.code), text);
	return e.code;
}

int migr_link_write(struct migr_link *l, const struct migr_transport *t, const uint8_t *buf, size_t len,
		    size_t *off)
{
	size_t room, n;
	long w;

	while (*off < len) {
		room = t->ops->room(t->ctx, l->slot);
		if (room == 0)
			return 0;
		n = len - *off < room ? len - *off : room;
		w = t->ops->write(t->ctx, l->slot, buf + *off, n);
		if (w < 0) {
			l->failed = 1;
			return (int)w;
		}
		*off += (size_t)w;
		l->bytes_out += (uint64_t)w;
		if ((size_t)w < n)
			return 0;
	}
	return 1;
}

int migr_link_flush(struct migr_link *l, const struct migr_transport *t)
{
	return migr_link_write(l, t, l->out, l->out_len, &l->out_off);
}

int migr_link_poll(struct migr_link *l, const struct migr_transport *t)
{
	uint8_t *dst;
	size_t want;
	long n;
	int rc;

	if (l->has_pend)
		return 1;
	for (;;) {
		dst = migr_dec_space(&l->dec, &want);
		if (want == 0)
			return l->dec.err ? l->dec.err : HV_EINVAL;
		n = t->ops->read(t->ctx, l->slot, dst, want);
		if (n < 0) {
			l->failed = 1;
			return (int)n;
		}
		if (n == 0)
			return 0;
		l->bytes_in += (uint64_t)n;
		rc = migr_dec_commit(&l->dec, (size_t)n, &l->pend);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			l->has_pend = 1;
			return 1;
		}
	}
}
