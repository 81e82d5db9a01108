/*
 * The destination: a buffer, the real receiver on the TCP port (started by
 * the first connection, as the hypervisor starts it), then the check the
 * sender asks for on one more connection.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "kernel/lib/err.h"
#include "linerate/report.h"
#include "linerate/run.h"
#include "linerate/tcp.h"
#include "linerate/verify.h"
#include "linerate/vm.h"
#include "migration/codec.h"
#include "migration/receiver.h"

#define IDLE_WAIT_MS 1
#define VERIFY_TIMEOUT_MS 30000

struct recv_run {
	const struct lr_opts *o;
	struct lr_tcp tcp;
	struct lr_dest dest;
	struct migr_receiver rcv;
	struct migr_receiver_bufs b;
	int started, failed_start, tcp_ready;
	char congestion[17];
	double cpu0;
	uint64_t t0;
};

static int start(struct recv_run *r)
{
	struct migr_receiver_cfg cfg = {
		.secret = r->o->secret,
		.secret_len = r->o->secret_len,
		.mac_ops = NULL, /* whichever sound MAC the source proposes */
		.max_connections = r->o->connections,
	};
	struct migr_receiver_ports p = { { &lr_tcp_ops, &r->tcp }, { &lr_dest_mem_ops, &r->dest }, { &lr_clock_ops, NULL },
					 &lr_dest_ops, &r->dest };

	return migr_receiver_start(&r->rcv, &cfg, &p, &r->b);
}

/* The first connection starts the receiver: its timeouts count from there. */
static void on_link(void *owner, uint32_t c, uint32_t event)
{
	struct recv_run *r = owner;

	if (!r->started && event == MIGR_LINK_UP) {
		r->t0 = lr_now_us();
		r->cpu0 = lr_cpu_process();
		if (start(r)) {
			r->failed_start = 1;
			return;
		}
		r->started = 1;
	}
	if (r->started)
		migr_receiver_link(&r->rcv, c, event);
}

static int setup(struct recv_run *r)
{
	const struct lr_opts *o = r->o;
	uint64_t npages = o->mem / MIGR_PAGE_SIZE;
	char why[160];
	uint32_t i;

	r->b.hashes = calloc(npages, 8);
	r->b.npages = npages;
	for (i = 0; i < o->connections; i++)
		if (!(r->b.data_in[i] = aligned_alloc(64, MIGR_PAD8(MIGR_REC_MAX))))
			return -1;
	if (!r->b.hashes)
		return -1;
	/*
	 * Allocated and touched before anything is measured, as a hypervisor's VM memory is, and before
	 * listening: a sender that connected meanwhile would wait for it on its own migration clock.
	 */
	r->dest.cap = o->mem;
	r->dest.buf = mmap(NULL, o->mem, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r->dest.buf == MAP_FAILED) {
		r->dest.buf = NULL;
		lr_say("cannot map %llu bytes", (unsigned long long)o->mem);
		return -1;
	}
	(void)madvise(r->dest.buf, o->mem, MADV_HUGEPAGE);
	(void)madvise(r->dest.buf, o->mem, MADV_POPULATE_WRITE);
	r->tcp_ready = 1; /* from here on the port's sockets are set (or -1), even if listening fails */
	if (lr_tcp_server(&r->tcp, o->host, o->port, (int)o->sockbuf_kib * 1024, why, sizeof(why)) ||
	    lr_tcp_congestion(&r->tcp, o->congestion, o->congestion_given, r->congestion, sizeof(r->congestion), why,
			      sizeof(why))) {
		lr_say("%s", why);
		return -1;
	}
	r->tcp.event = on_link;
	r->tcp.owner = r;
	if (!o->quiet)
		lr_say("listening on %s:%u for up to %u data connections", o->host, o->port, o->connections);
	return 0;
}

static uint32_t run(struct recv_run *r)
{
	uint64_t deadline = lr_now_us() + (uint64_t)r->o->timeout_s * 1000000ull, moved;
	uint32_t st = MIGR_RECV_RUNNING, phase;
	int idle = 0;

	while (st == MIGR_RECV_RUNNING && !r->failed_start) {
		(void)lr_tcp_poll(&r->tcp, idle ? IDLE_WAIT_MS : 0);
		if (lr_now_us() > deadline) {
			lr_say("the run's time (--timeout %u s) is up", r->o->timeout_s);
			return MIGR_RECV_FAILED;
		}
		if (!r->started) {
			idle = 1;
			continue;
		}
		moved = r->tcp.bytes_in + r->tcp.bytes_out;
		phase = r->rcv.phase;
		st = migr_receiver_step(&r->rcv);
		idle = moved == r->tcp.bytes_in + r->tcp.bytes_out && phase == r->rcv.phase;
	}
	return r->failed_start ? MIGR_RECV_FAILED : st;
}

/* Answers the sender's check with this side's digest and figures. */
static int answer(struct recv_run *r, struct lr_report *p, double cpu_s)
{
	struct lr_verify_msg m, mine = { 0 };
	int fd = lr_tcp_accept_blocking(&r->tcp, VERIFY_TIMEOUT_MS), rc = -1;

	if (fd < 0)
		return -1;
	if (lr_verify_recv(fd, &m, VERIFY_TIMEOUT_MS) ||
	    lr_verify_open(&m, r->o->secret, r->o->secret_len, r->dest.hdr.uuid))
		goto out;
	memcpy(mine.uuid, r->dest.hdr.uuid, sizeof(mine.uuid));
	mine.digest = p->digest_recv;
	mine.cpu_us = (uint64_t)(cpu_s * 1e6);
	mine.downtime_ms = r->rcv.prog.downtime_ms;
	mine.pages_written = r->dest.pages_written;
	lr_verify_seal(&mine, r->o->secret, r->o->secret_len);
	if (lr_verify_send(fd, &mine, VERIFY_TIMEOUT_MS))
		goto out;
	p->verified = 1;
	p->digest_send = m.digest;
	p->selfcheck_errors = m.selfcheck_bad;
	rc = 0;
out:
	close(fd);
	return rc;
}

int lr_recv(const struct lr_opts *o)
{
	static struct recv_run r;
	struct lr_report p = { .role = "recv", .status = "failed", .connections = o->connections };
	uint32_t st, i;
	double cpu_s;
	int rc = LR_EXIT_FAILED;

	memset(&r, 0, sizeof(r));
	r.o = o;
	if (setup(&r))
		goto out;
	st = run(&r);
	cpu_s = r.started ? lr_cpu_process() - r.cpu0 : 0;
	p.status = st == MIGR_RECV_DONE ? "done" : "failed";
	p.error = r.rcv.prog.error ? migr_error_str(r.rcv.prog.error) : NULL;
	p.peer_error = r.rcv.prog.peer_error ? migr_error_str(r.rcv.prog.peer_error) : NULL;
	p.error_detail = r.rcv.prog.error && r.rcv.prog.detail[0] ? r.rcv.prog.detail : NULL;
	p.link_error = r.rcv.prog.error && r.tcp.lost[0] ? r.tcp.lost : NULL;
	p.connections = r.rcv.granted ? r.rcv.granted : o->connections;
	p.congestion = r.congestion[0] ? r.congestion : NULL;
	p.mac = r.rcv.mac.ops;
	p.mem = r.dest.hdr.ram_bytes;
	p.bytes = r.tcp.bytes_in;
	p.pages_written = r.dest.pages_written;
	p.zero_pages = r.rcv.prog.zero_pages;
	p.passes = r.rcv.prog.pass;
	p.downtime_recv_ms = (double)r.rcv.prog.downtime_ms;
	p.total_ms = r.started ? (double)(lr_now_us() - r.t0) / 1e3 : 0;
	p.cpu_s_recv = cpu_s;
	p.cpu_s_per_gib_recv = p.bytes ? cpu_s / ((double)p.bytes / (double)(1u << 30)) : 0;
	/*
	 * Our FINs go out now, before the digest and the check: the source's FIN, after its END records,
	 * is then acknowledged at once. Held until after them (~0.1 s for 2 GiB), it waited for the
	 * delayed ACK, and the source's loss probe sent it again first. The source's END records may
	 * still be unread: lr_tcp_shutdown reads them away before the sockets close, or the close resets.
	 */
	for (i = 0; i < LR_TCP_SLOTS; i++)
		lr_tcp_ops.close(&r.tcp, i);
	if (st == MIGR_RECV_DONE) {
		p.digest_recv = lr_digest(r.dest.buf, r.dest.hdr.ram_bytes);
		if (answer(&r, &p, cpu_s))
			lr_say("the source's check did not arrive");
		p.digest_match = p.verified && p.digest_send == p.digest_recv && !p.selfcheck_errors;
	}
	lr_tcp_shutdown(&r.tcp, 2000);
	if (lr_report_emit(&p, o->json))
		lr_say("cannot write %s", o->json);
	if (st != MIGR_RECV_DONE)
		lr_report_say_failed(&p, "the source said: ");
	else if (!p.digest_match)
		lr_say("MISMATCH: destination digest %016llx, source %s%016llx, source self-check errors %llu",
		       (unsigned long long)p.digest_recv, p.verified ? "" : "(no answer) ",
		       (unsigned long long)p.digest_send, (unsigned long long)p.selfcheck_errors);
	else
		rc = LR_EXIT_OK;
out:
	if (r.tcp_ready)
		lr_tcp_shutdown(&r.tcp, 0);
	if (r.dest.buf)
		munmap(r.dest.buf, o->mem);
	free(r.b.hashes);
	for (i = 0; i < MIGR_CONN_MAX; i++)
		free(r.b.data_in[i]);
	return rc;
}
