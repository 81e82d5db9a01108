/* One relayed connection: two delay lines, each a ring of pipes plus a delayq (relay.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "tools/relay/delayq.h"
#include "tools/relay/line.h"
#include "tools/relay/relay.h"

/* Release times in flight per direction; with the grain they cover delay / grain arrivals. */
#define RELAY_RECS 4096
/* Splices per wake-up and direction before the other direction gets its turn. */
#define RELAY_BURST 16

struct relay_dir {
	int in, out;
	int in_ended;    /* the source's FIN is queued */
	int out_ended;   /* the FIN was forwarded */
	int out_blocked; /* the last splice out found the socket full */
	struct relay_line line;
	struct delayq q;
	struct delayq_rec recs[RELAY_RECS];
};

static uint64_t relay_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void relay_dir_init(struct relay_dir *d, int in, int out, const struct relay_params *p)
{
	memset(d, 0, sizeof(*d));
	d->in = in;
	d->out = out;
	relay_line_init(&d->line, p->line_bytes);
	delayq_init(&d->q, d->recs, RELAY_RECS, p->delay_ns, p->grain_ns);
}

/* Socket -> line while both have room; 0, or a negative errno when the source failed. */
static int relay_dir_in(struct relay_dir *d)
{
	int i;

	for (i = 0; i < RELAY_BURST && !d->in_ended && !delayq_closed(&d->q); i++) {
		ssize_t n = relay_line_in(&d->line, d->in);

		if (n > 0) {
			delayq_push(&d->q, relay_now(), (uint64_t)n);
			continue;
		}
		if (n == 0) {
			delayq_push_fin(&d->q, relay_now());
			d->in_ended = 1;
			break;
		}
		if (n == -EINTR)
			continue;
		return n == -EAGAIN ? 0 : (int)n;
	}
	return 0;
}

/* Line -> socket for every due byte; 0, or a negative errno when the destination failed. */
static int relay_dir_out(struct relay_dir *d, _Atomic uint64_t *moved)
{
	int i;

	d->out_blocked = 0;
	for (i = 0; i < RELAY_BURST; i++) {
		uint64_t ready = delayq_ready(&d->q, relay_now());
		ssize_t n;

		if (!ready)
			break;
		if (ready == DELAYQ_FIN) {
			delayq_consume(&d->q, DELAYQ_FIN);
			shutdown(d->out, SHUT_WR);
			d->out_ended = 1;
			break;
		}
		n = relay_line_out(&d->line, d->out, ready);
		if (n > 0) {
			delayq_consume(&d->q, (uint64_t)n);
			atomic_fetch_add(moved, (uint64_t)n);
			continue;
		}
		if (n == -EINTR)
			continue;
		if (n == -EAGAIN) {
			d->out_blocked = 1;
			break;
		}
		return n < 0 ? (int)n : -EPIPE;
	}
	return 0;
}

/* The poll interest of one direction: its source when there is room, its destination when it is blocked. */
static void relay_dir_poll(const struct relay_dir *d, struct pollfd *in, struct pollfd *out)
{
	in->fd = d->in;
	in->events = (!d->in_ended && !d->line.full && !delayq_closed(&d->q)) ? POLLIN : 0;
	out->fd = d->out;
	out->events = d->out_blocked ? POLLOUT : 0;
}

void relay_conn_run(int a, int b, const struct relay_params *p, struct relay_totals *t)
{
	struct relay_dir *d;
	int rc = 0, i;

	/* Two delay lines of RELAY_RECS records each: too large for a thread's stack. */
	d = calloc(2, sizeof(*d));
	if (!d) {
		rc = -ENOMEM;
		goto out;
	}
	relay_dir_init(&d[0], a, b, p);
	relay_dir_init(&d[1], b, a, p);
	while (!(d[0].out_ended && d[1].out_ended)) {
		struct pollfd fds[4];
		uint64_t now, due = UINT64_MAX;
		struct timespec ts, *tsp = NULL;

		for (i = 0; i < 2 && rc == 0; i++)
			rc = relay_dir_out(&d[i], i ? &t->down : &t->up);
		if (rc)
			break;
		for (i = 0; i < 2; i++) {
			relay_dir_poll(&d[i], &fds[2 * i], &fds[2 * i + 1]);
			/* Wake for the head's release unless it waits for room in the destination. */
			if (!d[i].out_blocked && !d[i].out_ended && delayq_next_due(&d[i].q) < due)
				due = delayq_next_due(&d[i].q);
		}
		now = relay_now();
		if (due != UINT64_MAX) {
			uint64_t wait = due > now ? due - now : 0;

			ts.tv_sec = (time_t)(wait / 1000000000ull);
			ts.tv_nsec = (long)(wait % 1000000000ull);
			tsp = &ts;
		}
		if (ppoll(fds, 4, tsp, NULL) < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		for (i = 0; i < 2 && rc == 0; i++)
			if (fds[2 * i].revents)
				rc = relay_dir_in(&d[i]);
		if (rc)
			break;
		/* A destination that hung up or reset cannot take the rest. */
		for (i = 0; i < 2; i++)
			if ((fds[2 * i + 1].revents & (POLLERR | POLLHUP)) && !d[i].out_ended)
				rc = -EPIPE;
		if (rc)
			break;
	}
	relay_line_close(&d[0].line);
	relay_line_close(&d[1].line);
	free(d);
out:
	if (rc) {
		atomic_fetch_add(&t->failed, 1);
		fprintf(stderr, "relay: connection failed: %s\n", strerror(-rc));
	}
	/* A failed relay resets both peers rather than ending their streams cleanly. */
	if (rc) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		setsockopt(b, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(a);
	close(b);
}
