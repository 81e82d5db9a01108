/* The transport port over TCP sockets and epoll: see tcp.h. */
#define _GNU_SOURCE
#include "linerate/tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/sockios.h>
#include "kernel/lib/err.h"
#include "linerate/clock.h"

#define LISTEN_TAG 0xffffffffu
#define ROOM ((size_t)1 << 30) /* as much as a write may offer: the kernel says how much it took */

static int resolve(struct lr_tcp *t, const char *host, uint16_t port, char *why, size_t whylen)
{
	memset(&t->addr, 0, sizeof(t->addr));
	t->addr.sin_family = AF_INET;
	t->addr.sin_port = htons(port);
	if (!strcmp(host, "localhost"))
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &t->addr.sin_addr) != 1) {
		snprintf(why, whylen, "%s: not an IPv4 address", host);
		return -EINVAL;
	}
	return 0;
}

static void init(struct lr_tcp *t, int server, int sockbuf)
{
	uint32_t i;

	memset(t, 0, sizeof(*t));
	t->server = server;
	t->sockbuf = sockbuf;
	t->lfd = -1;
	for (i = 0; i < LR_TCP_SLOTS; i++)
		t->fd[i] = -1;
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
}

/* Low latency for control records, large buffers so that the window never starves a fast link. */
static void tune(const struct lr_tcp *t, int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (t->cc[0])
		(void)setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, t->cc, (socklen_t)strlen(t->cc));
	if (t->sockbuf) {
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &t->sockbuf, sizeof(t->sockbuf));
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &t->sockbuf, sizeof(t->sockbuf));
	}
}

static int watch(struct lr_tcp *t, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u32 = tag };

	return epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev);
}

int lr_tcp_congestion(struct lr_tcp *t, const char *name, int required, char *used, size_t usedlen, char *why,
		      size_t whylen)
{
	char offered[160] = "";
	socklen_t len = (socklen_t)usedlen;
	FILE *f;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc = 0;

	if (fd < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return -1;
	}
	t->cc[0] = 0;
	if (strlen(name) < sizeof(t->cc) &&
	    !setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, (socklen_t)strlen(name))) {
		memcpy(t->cc, name, strlen(name) + 1);
	} else if (required) {
		f = fopen("/proc/sys/net/ipv4/tcp_available_congestion_control", "re");
		if (f) {
			if (!fgets(offered, sizeof(offered), f))
				offered[0] = 0;
			offered[strcspn(offered, "\n")] = 0;
			fclose(f);
		}
		snprintf(why, whylen, "--congestion %s: not offered by this kernel (%s; it offers: %s)", name,
			 strerror(errno), offered[0] ? offered : "unknown");
		rc = -1;
	}
	if (!rc && getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, used, &len))
		snprintf(used, usedlen, "unknown");
	else if (!rc)
		used[usedlen - 1] = 0;
	close(fd);
	return rc;
}

int lr_tcp_client(struct lr_tcp *t, const char *host, uint16_t port, int sockbuf, char *why, size_t whylen)
{
	init(t, 0, sockbuf);
	if (t->epfd < 0) {
		snprintf(why, whylen, "epoll: %s", strerror(errno));
		return -errno;
	}
	return resolve(t, host, port, why, whylen);
}

int lr_tcp_server(struct lr_tcp *t, const char *host, uint16_t port, int sockbuf, char *why, size_t whylen)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = LISTEN_TAG };
	int one = 1, rc;

	init(t, 1, sockbuf);
	rc = resolve(t, host, port, why, whylen);
	if (rc)
		return rc;
	t->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->lfd < 0 || t->epfd < 0)
		goto fail;
	(void)setsockopt(t->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	tune(t, t->lfd); /* accepted sockets inherit the buffers, and the window scale follows from them */
	if (bind(t->lfd, (struct sockaddr *)&t->addr, sizeof(t->addr)) || listen(t->lfd, LR_TCP_SLOTS) ||
	    epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->lfd, &ev))
		goto fail;
	return 0;
fail:
	rc = -errno;
	snprintf(why, whylen, "listen on %s:%u: %s", host, port, strerror(errno));
	return rc;
}

int lr_tcp_fd(const struct lr_tcp *t, uint32_t c)
{
	return c < LR_TCP_SLOTS && t->state[c] == LR_C_UP ? t->fd[c] : -1;
}

static void drop(struct lr_tcp *t, uint32_t c)
{
	if (t->fd[c] >= 0)
		close(t->fd[c]);
	t->fd[c] = -1;
	t->lowat[c] = 0;
	t->ahead_len[c] = t->ahead_off[c] = t->bulk[c] = 0;
	t->state[c] = LR_C_DEAD;
}

static void accept_all(struct lr_tcp *t)
{
	uint32_t c;
	int fd;

	while ((fd = accept4(t->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		c = t->accepted++;
		if (c >= LR_TCP_SLOTS) {
			close(fd);
			continue;
		}
		tune(t, fd);
		t->fd[c] = fd;
		t->state[c] = LR_C_UP;
		if (watch(t, fd, c)) {
			drop(t, c);
			t->event(t->owner, c, MIGR_LINK_FAILED);
			continue;
		}
		t->event(t->owner, c, MIGR_LINK_UP);
	}
}

/* The first failure is the one that ended the migration: what a failed run prints beside the state machine's words. */
static void note_lost(struct lr_tcp *t, uint32_t c, const char *why)
{
	if (!t->lost[0])
		snprintf(t->lost, sizeof(t->lost), "connection %u: %s", c, why);
}

/* A closing connection reads what the peer still sends until its end, so that no reset cuts its tail. */
static void drain_closing(struct lr_tcp *t, uint32_t c)
{
	char sink[4096];
	ssize_t n;

	while ((n = recv(t->fd[c], sink, sizeof(sink), MSG_DONTWAIT)) > 0)
		;
	if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
		drop(t, c);
}

static void on_event(struct lr_tcp *t, uint32_t c, uint32_t ev)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (c >= LR_TCP_SLOTS)
		return;
	switch (t->state[c]) {
	case LR_C_CONNECTING:
		if (getsockopt(t->fd[c], SOL_SOCKET, SO_ERROR, &err, &len) || err) {
			note_lost(t, c, strerror(err ? err : errno));
			drop(t, c);
			t->event(t->owner, c, MIGR_LINK_FAILED);
		} else if (ev & EPOLLOUT) {
			t->state[c] = LR_C_UP;
			t->event(t->owner, c, MIGR_LINK_UP);
		}
		break;
	case LR_C_UP:
		/* An error or hang-up shows in the next read or write; a blocked writer must try again to see it. */
		if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			t->blocked[c] = 0;
		break;
	case LR_C_CLOSING:
		drain_closing(t, c);
		break;
	}
}

int lr_tcp_poll(struct lr_tcp *t, int timeout_ms)
{
	struct epoll_event ev[LR_TCP_SLOTS + 1];
	int n, i;

	n = epoll_wait(t->epfd, ev, LR_TCP_SLOTS + 1, timeout_ms);
	for (i = 0; i < n; i++) {
		if (ev[i].data.u32 == LISTEN_TAG)
			accept_all(t);
		else
			on_event(t, ev[i].data.u32, ev[i].events);
	}
	return n < 0 ? 0 : n;
}

int lr_tcp_connect_blocking(const struct lr_tcp *t, int timeout_ms)
{
	struct pollfd p;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err = 0;
	socklen_t len = sizeof(err);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)&t->addr, sizeof(t->addr)) && errno != EINPROGRESS)
		goto fail;
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&p, 1, timeout_ms) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) || err)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

int lr_tcp_accept_blocking(struct lr_tcp *t, int timeout_ms)
{
	struct pollfd p = { .fd = t->lfd, .events = POLLIN };

	if (t->lfd < 0 || poll(&p, 1, timeout_ms) != 1)
		return -1;
	return accept4(t->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

void lr_tcp_shutdown(struct lr_tcp *t, int linger_ms)
{
	uint64_t deadline = lr_now_ns() + (uint64_t)linger_ms * 1000000ull;
	uint32_t c;
	int closing;

	do {
		closing = 0;
		for (c = 0; c < LR_TCP_SLOTS; c++)
			if (t->state[c] == LR_C_CLOSING) {
				drain_closing(t, c);
				closing |= t->state[c] == LR_C_CLOSING;
			}
		if (closing)
			(void)lr_tcp_poll(t, 5);
	} while (closing && lr_now_ns() < deadline);
	for (c = 0; c < LR_TCP_SLOTS; c++)
		if (t->fd[c] >= 0)
			drop(t, c);
	if (t->lfd >= 0)
		close(t->lfd);
	if (t->epfd >= 0)
		close(t->epfd);
	t->lfd = t->epfd = -1;
}

/* ---- the port ---- */

static int tp_open(void *ctx, uint32_t c)
{
	struct lr_tcp *t = ctx;
	int fd;

	if (t->server || c >= LR_TCP_SLOTS || t->fd[c] >= 0)
		return HV_EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return HV_EIO;
	tune(t, fd);
	if ((connect(fd, (struct sockaddr *)&t->addr, sizeof(t->addr)) && errno != EINPROGRESS) || watch(t, fd, c)) {
		close(fd);
		return HV_EIO;
	}
	t->fd[c] = fd;
	t->state[c] = LR_C_CONNECTING; /* epoll reports the outcome */
	return HV_OK;
}

static size_t tp_room(void *ctx, uint32_t c)
{
	struct lr_tcp *t = ctx;

	return c < LR_TCP_SLOTS && t->state[c] == LR_C_UP && !t->blocked[c] && !(c && t->data_held) ? ROOM : 0;
}

static long tp_write(void *ctx, uint32_t c, const void *buf, size_t n)
{
	struct lr_tcp *t = ctx;
	ssize_t k;

	if (c >= LR_TCP_SLOTS || t->state[c] != LR_C_UP)
		return HV_EIO;
	k = send(t->fd[c], buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (k < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			note_lost(t, c, strerror(errno));
			return HV_EIO;
		}
		k = 0;
	}
	if ((size_t)k < n)
		t->blocked[c] = 1; /* until epoll says it drained */
	t->bytes_out += (uint64_t)k;
	return (long)k;
}

/*
 * A reader that found its socket empty sleeps until as much has come as it wants (the rest of the
 * record it is reading), up to this much: waking for every segment had it read ~32 KiB a call
 * (67,000 recv calls for 2 GiB), CPU that the sender and the relay lack on a 2-core host. One
 * connection, 2 GiB through the relay at 0 ms, 5 interleaved runs: median 904 MiB/s without,
 * 959 / 978 / 949 with 256 KiB / 512 KiB / 1 MiB. A receive buffer smaller than twice this could
 * never fill to it, hence the cap at half the buffer; the loops' 1 ms idle poll reads what came
 * regardless, so no setting can strand a record.
 */
#define RCVLOWAT_MAX (512 * 1024)

static void want_at_least(struct lr_tcp *t, uint32_t c, size_t n)
{
	size_t cap = t->sockbuf && (size_t)t->sockbuf / 2 < RCVLOWAT_MAX ? (size_t)t->sockbuf / 2 : RCVLOWAT_MAX;
	int v = (int)(n < cap ? n : cap);

	if (v != t->lowat[c] && !setsockopt(t->fd[c], SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v)))
		t->lowat[c] = v;
}

/*
 * A small unit (a record's header, a page record's head, a tag) is read together with bytes that
 * follow it, kept for the next calls, each of which costs ~1.5-3 us on this test bed. After a
 * large record (a run of many pages, read straight into place) that is LR_TCP_AHEAD bytes: a page
 * record then costs two recv calls (its pages, then its tag with the next record's header and
 * head) instead of four, and the few page bytes read ahead are copied from here into place. After
 * a small one (a later pass's scattered pages, mostly one per record) it is LR_TCP_AHEAD_MAX, and
 * one call brings a dozen records, their pages copied once more from here. Moderate writer, 4
 * connections: the destination spent 2.6 ms of CPU per MiB of the second pass (0.59 in the first)
 * with two calls per page, 1.2 with this.
 */
#define BULK_SMALL (4u * MIGR_PAGE_SIZE)
#define BULK_CAP (MIGR_RUN_PAGES_MAX * MIGR_PAGE_SIZE)

static long tp_read(void *ctx, uint32_t c, void *buf, size_t n)
{
	struct lr_tcp *t = ctx;
	struct iovec iov[2] = { { buf, n }, { NULL, LR_TCP_AHEAD } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t k;

	if (c >= LR_TCP_SLOTS || t->state[c] == LR_C_CONNECTING || t->state[c] == LR_C_NONE)
		return 0;
	if (n >= LR_TCP_AHEAD) /* a moving average: a run cut short at a chunk's end is not a later pass */
		t->bulk[c] = (uint32_t)(((uint64_t)t->bulk[c] * 3 + (n < BULK_CAP ? n : BULK_CAP)) / 4);
	if (t->ahead_len[c]) {
		k = (ssize_t)(n < t->ahead_len[c] ? n : t->ahead_len[c]);
		memcpy(buf, t->ahead[c] + t->ahead_off[c], (size_t)k);
		t->ahead_off[c] += (uint32_t)k;
		t->ahead_len[c] -= (uint32_t)k;
		t->bytes_in += (uint64_t)k;
		return (long)k;
	}
	if (t->state[c] != LR_C_UP)
		return HV_EIO;
	iov[1].iov_base = t->ahead[c];
	if (t->bulk[c] && t->bulk[c] < BULK_SMALL)
		iov[1].iov_len = LR_TCP_AHEAD_MAX;
	k = n < LR_TCP_AHEAD ? recvmsg(t->fd[c], &mh, MSG_DONTWAIT) : recv(t->fd[c], buf, n, MSG_DONTWAIT);
	if (k > 0) {
		if ((size_t)k > n) {
			t->ahead_off[c] = 0;
			t->ahead_len[c] = (uint32_t)((size_t)k - n);
			k = (ssize_t)n;
		}
		t->bytes_in += (uint64_t)k;
		return (long)k;
	}
	if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		want_at_least(t, c, n);
		return 0;
	}
	note_lost(t, c, k == 0 ? "closed by the peer" : strerror(errno)); /* or reset */
	return HV_EIO;
}

static void tp_close(void *ctx, uint32_t c)
{
	struct lr_tcp *t = ctx;

	if (c >= LR_TCP_SLOTS || t->fd[c] < 0 || t->state[c] == LR_C_CLOSING)
		return;
	if (t->state[c] != LR_C_UP) {
		drop(t, c);
		return;
	}
	/* What was written still goes out; the peer's end is read away (lr_tcp_shutdown). */
	(void)shutdown(t->fd[c], SHUT_WR);
	t->state[c] = LR_C_CLOSING;
	drain_closing(t, c);
}

/* What the kernel holds unacknowledged: bytes the pause still has to see cross (the policy counts them). */
static size_t tp_queued(void *ctx, uint32_t c)
{
	struct lr_tcp *t = ctx;
	int n = 0;

	if (c >= LR_TCP_SLOTS || t->state[c] != LR_C_UP || ioctl(t->fd[c], SIOCOUTQ, &n) < 0 || n < 0)
		return 0;
	return (size_t)n;
}

const struct migr_transport_ops lr_tcp_ops = { tp_open, tp_room, tp_write, tp_read, tp_close, tp_queued };
