/*
 * Levelled, prefixed log lines on the host console:
 *   [   12.345678] I vmx: message
 * The time is host uptime from the calibrated TSC (0 before calibration).
 */
#ifndef HV_KERNEL_LOG_H
#define HV_KERNEL_LOG_H

#include <stdarg.h>
#include "kernel/core/config.h"

typedef void (*log_sink_fn)(const char *s, unsigned long len);

/* Where lines go, and how to push out what is queued when the machine stops. */
void log_set_sink(log_sink_fn sink, void (*flush)(void));
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
