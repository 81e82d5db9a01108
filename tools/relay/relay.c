/*
 * relay: the delay relay of the line-rate benchmark (relay.h).
 * usage: relay --listen HOST:PORT --to HOST:PORT [--delay-ms MS] [--grain-us US] [--line-mib MIB]
 * Accepts any number of connections; each gets its own connection to the
 * target and its own thread. Prints one line once listening (with the port,
 * which --listen HOST:0 lets the kernel choose) and, on SIGTERM or SIGINT,
 * one line of totals before it exits.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tools/relay/relay.h"

struct relay_job {
	int a, b;
};

static struct relay_params relay_p = { .delay_ns = 0, .grain_ns = 100000, .line_bytes = 32ull << 20 };
static struct relay_totals relay_t;
static volatile sig_atomic_t relay_stop;

static void relay_on_signal(int sig)
{
	(void)sig;
	relay_stop = 1;
}

/* "a.b.c.d:port" into sa; 0 or -1. */
static int relay_parse_addr(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535)
		return -1;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static void *relay_thread(void *arg)
{
	struct relay_job job = *(struct relay_job *)arg;

	free(arg);
	relay_conn_run(job.a, job.b, &relay_p, &relay_t);
	return NULL;
}

static int relay_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* The target side of a new connection, non-blocking once connected; the fd or -1. */
static int relay_connect(const struct sockaddr_in *to)
{
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)to, sizeof(*to)) < 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Starts a thread for the accepted socket a; on any failure a is closed (the client sees the connection end). */
static void relay_start(int a, const struct sockaddr_in *to)
{
	int one = 1;
	struct relay_job *job;
	pthread_attr_t attr;
	pthread_t th;
	int b = relay_connect(to);

	if (b < 0) {
		fprintf(stderr, "relay: connect to target: %s\n", strerror(errno));
		goto fail_a;
	}
	/* Each side forwards what it holds at once: the relay adds its delay and nothing else. */
	setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (relay_nonblock(a) < 0 || relay_nonblock(b) < 0)
		goto fail_ab;
	job = malloc(sizeof(*job));
	if (!job)
		goto fail_ab;
	job->a = a;
	job->b = b;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, relay_thread, job) != 0) {
		pthread_attr_destroy(&attr);
		free(job);
		goto fail_ab;
	}
	pthread_attr_destroy(&attr);
	atomic_fetch_add(&relay_t.conns, 1);
	return;
fail_ab:
	close(b);
fail_a:
	atomic_fetch_add(&relay_t.failed, 1);
	close(a);
}

static int relay_usage(const char *argv0)
{
	fprintf(stderr, "usage: %s --listen HOST:PORT --to HOST:PORT [--delay-ms MS] [--grain-us US] [--line-mib MIB]\n",
		argv0);
	return 2;
}

/* A non-negative number; -1 if malformed. */
static double relay_number(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	return (*end || end == s || v < 0) ? -1 : v;
}

static int relay_listen(const struct sockaddr_in *at, uint16_t *port)
{
	int one = 1;
	struct sockaddr_in got;
	socklen_t len = sizeof(got);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)at, sizeof(*at)) < 0 || listen(fd, 128) < 0 ||
	    getsockname(fd, (struct sockaddr *)&got, &len) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(got.sin_port);
	return fd;
}

int main(int argc, char **argv)
{
	struct sockaddr_in at, to;
	struct sigaction sa;
	int have_at = 0, have_to = 0, i, lfd;
	uint16_t port;
	char host[INET_ADDRSTRLEN], thost[INET_ADDRSTRLEN];

	for (i = 1; i + 1 < argc; i += 2) {
		double v = 0;

		if (!strcmp(argv[i], "--listen"))
			have_at = relay_parse_addr(argv[i + 1], &at) == 0;
		else if (!strcmp(argv[i], "--to"))
			have_to = relay_parse_addr(argv[i + 1], &to) == 0;
		else if ((v = relay_number(argv[i + 1])) < 0)
			return relay_usage(argv[0]);
		else if (!strcmp(argv[i], "--delay-ms"))
			relay_p.delay_ns = (uint64_t)(v * 1e6);
		else if (!strcmp(argv[i], "--grain-us"))
			relay_p.grain_ns = (uint64_t)(v * 1e3);
		else if (!strcmp(argv[i], "--line-mib") && v >= 1 && v <= 64)
			relay_p.line_bytes = (uint64_t)v << 20;
		else
			return relay_usage(argv[0]);
	}
	if (i != argc || !have_at || !have_to)
		return relay_usage(argv[0]);
	/* Threads relay on their own; only the accepting thread takes the stop signal. */
	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = relay_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	lfd = relay_listen(&at, &port);
	if (lfd < 0) {
		fprintf(stderr, "relay: listen: %s\n", strerror(errno));
		return 1;
	}
	inet_ntop(AF_INET, &at.sin_addr, host, sizeof(host));
	inet_ntop(AF_INET, &to.sin_addr, thost, sizeof(thost));
	printf("relay: listening on %s:%u to %s:%u, %.3f ms each way, line %llu MiB\n", host, port, thost,
	       ntohs(to.sin_port), relay_p.delay_ns / 1e6, (unsigned long long)(relay_p.line_bytes >> 20));
	fflush(stdout);
	while (!relay_stop) {
		int a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (a >= 0)
			relay_start(a, &to);
		else if (errno != EINTR && errno != ECONNABORTED)
			fprintf(stderr, "relay: accept: %s\n", strerror(errno)), usleep(10000);
	}
	printf("relay: %llu connections, %llu bytes to target, %llu bytes back, %llu failed\n",
	       (unsigned long long)relay_t.conns, (unsigned long long)relay_t.up, (unsigned long long)relay_t.down,
	       (unsigned long long)relay_t.failed);
	return 0;
}
