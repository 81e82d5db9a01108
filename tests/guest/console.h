/*
 * Line output on COM1 (0x3F8), serialized between vCPUs: a line is formatted
 * into a local buffer first, then sent whole under a spinlock, so lines from
 * different vCPUs never interleave.
 */
#ifndef GUEST_CONSOLE_H
#define GUEST_CONSOLE_H

#define CON_LINE_MAX 256 /* longer lines are cut (the newline is kept) */

/*
 * printf subset: %s %c %d %u %x %llu %llx %%, no width or flags.
 * Put the '\n' in fmt.
 */
void con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
