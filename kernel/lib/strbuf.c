#include "kernel/lib/strbuf.h"

#include <stdarg.h>
#include <stdio.h>

void strbuf_init(struct strbuf *sb, char *buf, size_t cap)
{
	*sb = (struct strbuf){ .buf = buf, .cap = buf ? cap : 0 };
	strbuf_reset(sb);
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	sb->overflow = false;
	if (sb->cap)
		sb->buf[0] = '\0';
}

void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->overflow)
		return;
	if (sb->cap == 0) {
		sb->overflow = true;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sb->cap - sb->len) {
		sb->overflow = true;
		sb->len = sb->cap - 1; /* vsnprintf kept what fits */
	} else {
		sb->len += (size_t)n;
	}
}
