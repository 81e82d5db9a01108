/*
 * A bounded text buffer filled with printf formats: always NUL-terminated,
 * truncating, with a sticky overflow flag so that a caller can either keep
 * what fits (a one-line error message) or refuse the whole (a response body).
 */
#ifndef HV_KERNEL_LIB_STRBUF_H
#define HV_KERNEL_LIB_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf;
	size_t cap;     /* bytes of buf, the NUL included */
	size_t len;     /* characters written, without the NUL */
	bool overflow;  /* something did not fit; later writes are dropped */
};

/* Starts an empty text in buf[0..cap) (cap may be 0: everything is dropped). */
void strbuf_init(struct strbuf *sb, char *buf, size_t cap);

/* Empties the text and forgets an overflow. */
void strbuf_reset(struct strbuf *sb);

/* Appends, keeping what fits of a text that does not. */
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
