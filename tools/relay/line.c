/* The delay line's bytes: a ring of pipes (line.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "tools/relay/line.h"

/* What one pipe may hold without CAP_SYS_RESOURCE: /proc/sys/fs/pipe-max-size's default. */
#define RELAY_PIPE_BYTES (1u << 20)

void relay_line_init(struct relay_line *l, uint64_t cap_bytes)
{
	uint32_t i;
	uint64_t n = (cap_bytes + RELAY_PIPE_BYTES - 1) / RELAY_PIPE_BYTES;

	for (i = 0; i < RELAY_LINE_PIPES; i++) {
		l->p[i].r = l->p[i].w = -1;
		l->p[i].cap = l->p[i].fill = 0;
	}
	l->npipes = n < 1 ? 1 : n > RELAY_LINE_PIPES ? RELAY_LINE_PIPES : (uint32_t)n;
	l->head = l->tail = 0;
	l->fill = 0;
	l->full = 0;
}

static int relay_pipe_open(struct relay_pipe *p)
{
	int fds[2];
	int sz;

	if (p->r >= 0)
		return 0;
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
		return -errno;
	/* Past the per-user soft limit the kernel refuses: the pipe keeps its default size. */
	fcntl(fds[1], F_SETPIPE_SZ, RELAY_PIPE_BYTES);
	sz = fcntl(fds[1], F_GETPIPE_SZ);
	p->r = fds[0];
	p->w = fds[1];
	p->cap = sz > 0 ? (uint64_t)sz : 4096;
	p->fill = 0;
	return 0;
}

/* Moves the tail to the next pipe when that one is free; 0, or -EAGAIN when the ring is full. */
static int relay_line_advance(struct relay_line *l)
{
	uint32_t next = (l->tail + 1) % l->npipes;
	int rc;

	if (next == l->head)
		return -EAGAIN;
	rc = relay_pipe_open(&l->p[next]);
	if (rc)
		return rc == -EMFILE || rc == -ENFILE ? -EAGAIN : rc;
	l->tail = next;
	return 0;
}

ssize_t relay_line_in(struct relay_line *l, int fd)
{
	int tries;

	if (relay_pipe_open(&l->p[l->tail]) < 0)
		return -EAGAIN;
	/* A pipe fills by slots before bytes (a slot may hold a partial page): on to the next one. */
	for (tries = 0; tries < 2; tries++) {
		struct relay_pipe *p = &l->p[l->tail];
		ssize_t n = 0;

		if (p->fill < p->cap) {
			n = splice(fd, NULL, p->w, NULL, p->cap - p->fill, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				p->fill += (uint64_t)n;
				l->fill += (uint64_t)n;
				l->full = 0;
				return n;
			}
			if (n == 0 || errno != EAGAIN)
				return n == 0 ? 0 : -errno;
			/* EAGAIN on an empty pipe: the socket has nothing. */
			if (!p->fill)
				return -EAGAIN;
		}
		if (relay_line_advance(l) < 0) {
			l->full = 1;
			return -EAGAIN;
		}
	}
	return -EAGAIN;
}

ssize_t relay_line_out(struct relay_line *l, int fd, uint64_t n)
{
	struct relay_pipe *p = &l->p[l->head];
	ssize_t got;

	while (!p->fill && l->head != l->tail) {
		l->head = (l->head + 1) % l->npipes;
		p = &l->p[l->head];
	}
	if (!p->fill)
		return 0;
	got = splice(p->r, NULL, fd, NULL, n < p->fill ? n : p->fill, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (got < 0)
		return -errno;
	p->fill -= (uint64_t)got;
	l->fill -= (uint64_t)got;
	l->full = 0;
	return got;
}

void relay_line_close(struct relay_line *l)
{
	uint32_t i;

	for (i = 0; i < RELAY_LINE_PIPES; i++)
		if (l->p[i].r >= 0) {
			close(l->p[i].r);
			close(l->p[i].w);
			l->p[i].r = l->p[i].w = -1;
		}
}
