#include <stdarg.h>
#include <stdint.h>
#include "tests/guest/arch.h"
#include "tests/guest/console.h"
#include "tests/guest/lib.h"

#define LSR_THR_EMPTY 0x20
#define LSR_POLL_MAX 100000 /* don't hang on a missing UART */

struct line {
	char buf[CON_LINE_MAX];
	unsigned len;
};

static volatile uint32_t con_lock; /* in .bss: zeroed before any vCPU prints */

static void put(struct line *l, char c)
{
	if (l->len < CON_LINE_MAX - 1) /* room for the final '\n' */
		l->buf[l->len++] = c;
}

static void put_u64(struct line *l, uint64_t v, unsigned base)
{
	char tmp[20]; /* UINT64_MAX has 20 decimal digits */
	unsigned n = 0;

	do {
		uint64_t r;

		v = udiv64(v, base, &r);
		tmp[n++] = "0123456789abcdef"[r];
	} while (v);
	while (n)
		put(l, tmp[--n]);
}

static void format(struct line *l, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(l, *fmt);
			continue;
		}
		fmt++;
		int ll = fmt[0] == 'l' && fmt[1] == 'l';

		if (ll)
			fmt += 2;
		switch (*fmt) {
		case 'u':
		case 'x': {
			uint64_t v = ll ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned);

			put_u64(l, v, *fmt == 'u' ? 10 : 16);
			break;
		}
		case 'd': {
			int v = va_arg(ap, int);

			if (v < 0)
				put(l, '-');
			put_u64(l, v < 0 ? -(uint64_t)v : (uint64_t)v, 10);
			break;
		}
		case 's':
			for (const char *s = va_arg(ap, const char *); *s; s++)
				put(l, *s);
			break;
		case 'c':
			put(l, (char)va_arg(ap, int));
			break;
		case '%':
			put(l, '%');
			break;
		case '\0':
			return;
		default: /* unsupported: show it */
			put(l, '%');
			put(l, *fmt);
		}
	}
}

/* One step of output: the stretch since the previous one, kept if it is the longest. */
static void step(struct con_lapse *lp, uint64_t *prev)
{
	uint64_t t;

	if (!lp)
		return;
	t = rdtsc();
	if (t - *prev > lp->ticks) {
		lp->ticks = t - *prev;
		lp->at = *prev;
	}
	*prev = t;
}

static void lock(struct con_lapse *lp, uint64_t *prev)
{
	/* Test-and-test-and-set; the holder may be preempted, so just wait. */
	for (;;) {
		uint32_t old = 1;

		__asm__ volatile("xchgl %0, %1" : "+r"(old), "+m"(con_lock) : : "memory");
		if (old == 0)
			return;
		while (con_lock) {
			cpu_relax();
			step(lp, prev);
		}
	}
}

static void unlock(void)
{
	__asm__ volatile("" : : : "memory");
	con_lock = 0; /* a plain store releases on x86 */
}

static void uart_putc(char c)
{
	for (unsigned i = 0; i < LSR_POLL_MAX && !(inb(COM1_LSR) & LSR_THR_EMPTY); i++)
		cpu_relax();
	outb(COM1, (uint8_t)c);
}

static void vprint(struct con_lapse *lp, uint64_t prev, const char *fmt, va_list ap)
{
	struct line l;

	l.len = 0;
	format(&l, fmt, ap);
	if (l.len == CON_LINE_MAX - 1 && l.buf[l.len - 1] != '\n')
		l.buf[l.len++] = '\n'; /* cut: still end the line */

	lock(lp, &prev);
	step(lp, &prev);
	for (unsigned i = 0; i < l.len; i++) {
		uart_putc(l.buf[i]);
		step(lp, &prev);
	}
	unlock();
}

void con_write_rep(const char *line, uint32_t len)
{
	struct con_lapse lp = { 0, 0 };
	uint64_t prev = 0;

	lock(&lp, &prev);
	__asm__ volatile("cld; rep outsb" : "+S"(line), "+c"(len) : "d"((uint16_t)COM1) : "memory");
	unlock();
}

void con_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint(NULL, 0, fmt, ap);
	va_end(ap);
}

void con_printf_lapse(struct con_lapse *lapse, uint64_t since, const char *fmt, ...)
{
	va_list ap;

	lapse->at = lapse->ticks = 0;
	va_start(ap, fmt);
	vprint(lapse, since, fmt, ap);
	va_end(ap);
}
