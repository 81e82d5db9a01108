/*
 * Levelled, prefixed log lines on the host console:
 *   [   12.345678] I vmx: message
 * The time is host uptime from the calibrated TSC (0 before calibration).
 * Where lines go, the clock and how to stop the machine come in through a
 * port (log_init), so logging depends on nothing of the host.
 */
#ifndef HV_KERNEL_LIB_LOG_H
#define HV_KERNEL_LIB_LOG_H

#include <stdarg.h>
#include <stdint.h>

enum hv_log_level {
	LOG_ERROR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3,
};

struct log_port {
	void (*write)(const char *s, unsigned long len); /* where lines go */
	void (*flush)(void);         /* pushes out what is queued when the machine stops */
	uint64_t (*uptime_us)(void); /* each line's time stamp */
	void (*halt)(void);          /* stops the machine after a panic */
};

/* Lines are dropped until a port is given; port must outlive logging. */
void log_init(const struct log_port *port);
void log_set_level(enum hv_log_level level);
enum hv_log_level log_get_level(void);

void hv_log(enum hv_log_level level, const char *subsys, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void hv_vlog(enum hv_log_level level, const char *subsys, const char *fmt, va_list ap);

/* For host bugs only (never for guest faults): logs and stops the machine. */
void hv_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define log_err(sub, ...) hv_log(LOG_ERROR, sub, __VA_ARGS__)
#define log_warn(sub, ...) hv_log(LOG_WARN, sub, __VA_ARGS__)
#define log_info(sub, ...) hv_log(LOG_INFO, sub, __VA_ARGS__)
#define log_debug(sub, ...) hv_log(LOG_DEBUG, sub, __VA_ARGS__)

/* Logs an error value with the place it was found; evaluates to err. */
#define HV_TRACE(err) hv_trace_error((err), __FILE__, __LINE__, __func__)
int hv_trace_error(int err, const char *file, int line, const char *func);

#endif
