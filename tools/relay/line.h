/*
 * The bytes of one delay line: a ring of pipes that socket data is spliced
 * into and out of, in order. A pipe holds at most pipe-max-size (1 MiB by
 * default, more only with CAP_SYS_RESOURCE), which at a few GiB/s is less
 * than a millisecond, so a line chains as many pipes as its capacity needs,
 * opened only when the bytes in flight need them.
 */
#ifndef RELAY_LINE_H
#define RELAY_LINE_H

#include <stdint.h>
#include <sys/types.h>

#define RELAY_LINE_PIPES 64

struct relay_pipe {
	int r, w;      /* -1 until opened */
	uint64_t cap;  /* F_GETPIPE_SZ: bytes, if every slot were a full page */
	uint64_t fill; /* bytes in it */
};

struct relay_line {
	struct relay_pipe p[RELAY_LINE_PIPES];
	uint32_t npipes;     /* ring size: capacity / pipe size, at most RELAY_LINE_PIPES */
	uint32_t head, tail; /* read from p[head], written into p[tail] */
	uint64_t fill;       /* bytes in all pipes */
	int full;            /* the last splice in found no room anywhere */
};

/* A line of about cap_bytes (at least one pipe). */
void relay_line_init(struct relay_line *l, uint64_t cap_bytes);
/* Splices up to what the line holds from fd: bytes moved, 0 at end of stream, or a negative errno (-EAGAIN: nothing to read or no room, see full). */
ssize_t relay_line_in(struct relay_line *l, int fd);
/* Splices up to n of the oldest bytes to fd: bytes moved, or a negative errno (-EAGAIN: fd is full). */
ssize_t relay_line_out(struct relay_line *l, int fd, uint64_t n);
void relay_line_close(struct relay_line *l);

#endif
