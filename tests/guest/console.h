/*
 * Line output on COM1 (0x3F8), serialized between vCPUs: a line is formatted
 * into a local buffer first, then sent whole under a spinlock, so lines from
 * different vCPUs never interleave.
 */
#ifndef GUEST_CONSOLE_H
#define GUEST_CONSOLE_H

#include <stdint.h>

/* The UART the console writes to, and its line-status register (strio.c reads it). */
#define COM1 0x3F8
#define COM1_LSR (COM1 + 5)

#define CON_LINE_MAX 256 /* longer lines are cut (the newline is kept) */

/*
 * printf subset: %s %c %d %u %x %llu %llx %%, no width or flags.
 * Put the '\n' in fmt.
 */
void con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A whole line sent with one REP OUTSB (string port I/O), under the same lock: no LSR polling. */
void con_write_rep(const char *line, uint32_t len);

/*
 * The longest stretch between two steps of a line's output (each turn of
 * the wait for the lock, each character): a lapse the vCPU had inside it
 * (descheduled, throttled, its VM paused), where the output's own cost is
 * many short steps. at: the TSC it began at.
 */
struct con_lapse {
	uint64_t at, ticks;
};

/*
 * con_printf, and the longest lapse inside its output into *lapse,
 * counted from since: the TSC up to which the caller knows where its time
 * went (a lapse between the caller's last look and the output is one too).
 */
void con_printf_lapse(struct con_lapse *lapse, uint64_t since, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
