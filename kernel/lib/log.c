#include "kernel/lib/log.h"

#include <stdio.h>
#include "kernel/lib/err.h"

static const struct log_port *log_port;
static enum hv_log_level log_level = LOG_INFO;
static const char level_tag[] = { 'E', 'W', 'I', 'D' };

void log_init(const struct log_port *port) { log_port = port; }
void log_set_level(enum hv_log_level level) { log_level = level; }
enum hv_log_level log_get_level(void) { return log_level; }

void hv_vlog(enum hv_log_level level, const char *subsys, const char *fmt, va_list ap)
{
	char line[256];
	uint64_t us, n;
	int len;

	if (level > log_level || !log_port)
		return;
	us = log_port->uptime_us ? log_port->uptime_us() : 0;
	len = snprintf(line, sizeof(line), "[%5llu.%06llu] %c %s: ", (unsigned long long)(us / 1000000),
		       (unsigned long long)(us % 1000000), level_tag[level], subsys);
	if (len < 0)
		return;
	n = (uint64_t)len;
	len = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (len > 0)
		n += (uint64_t)len < sizeof(line) - n - 1 ? (uint64_t)len : sizeof(line) - n - 2;
	line[n++] = '\n';
	log_port->write(line, (unsigned long)n);
}

void hv_log(enum hv_log_level level, const char *subsys, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hv_vlog(level, subsys, fmt, ap);
	va_end(ap);
}

void hv_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hv_vlog(LOG_ERROR, "panic", fmt, ap);
	va_end(ap);
	hv_log(LOG_ERROR, "panic", "hypervisor halted");
	if (log_port && log_port->flush)
		log_port->flush();
	if (log_port && log_port->halt)
		log_port->halt();
	for (;;)
		; /* a port without halt: stay here */
}

int hv_trace_error(int err, const char *file, int line, const char *func)
{
	hv_log(LOG_ERROR, "trace", "%s (%d) at %s:%d in %s()", hv_strerror(err), err, file, line, func);
	return err;
}
