/*
 * The source: guest memory with its writers, the tracker, the real sender
 * on the TCP port, then the check against the receiver.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "kernel/lib/err.h"
#include "linerate/clock.h"
#include "linerate/fault.h"
#include "linerate/guest.h"
#include "linerate/report.h"
#include "linerate/run.h"
#include "linerate/tcp.h"
#include "linerate/track.h"
#include "linerate/verify.h"
#include "linerate/vm.h"
#include "migration/codec.h"
#include "migration/mac_pick.h"
#include "migration/sender.h"

#define IDLE_WAIT_MS 2      /* between steps when nothing moved */
#define VERIFY_TIMEOUT_MS 30000
#define FAULT_HOLD_US 10000000ull

static const char *const pattern_names[] = { "none", "seq", "random", "hot" };
static const char *const fault_names[] = { NULL, "forged-record", "malformed", "outside-memory", "no-secret" };

struct send_run {
	const struct lr_opts *o;
	struct lr_guest g;
	struct lr_track track;
	struct lr_tcp tcp;
	struct lr_source src;
	struct lr_mem mem;
	struct migr_sender snd;
	uint64_t *bitmap, *hashes;
	uint8_t *chunks, *stage;
	char congestion[17];
	const struct migr_mac_ops *mac; /* the record MAC proposed */
	struct lr_report rep;
};

static void on_link(void *owner, uint32_t c, uint32_t event)
{
	migr_sender_link(owner, c, event);
}

/* --mac, or the faster sound one here, timed at start-up (migration/mac_pick.h). */
static int choose_mac(struct send_run *r)
{
	struct migr_mac_timing t;
	unsigned i;

	if (r->o->mac_alg) {
		r->mac = migr_mac_find(r->o->mac_alg);
		if (!r->mac)
			lr_say("--mac: this CPU cannot run that MAC");
		else
			lr_say("record MAC: %s (--mac)", r->mac->name);
		return r->mac ? 0 : -1;
	}
	/* A few microseconds of tags: a clock read in whole microseconds could not tell them apart. */
	r->mac = migr_mac_pick(lr_now_ns, &t);
	for (i = 0; i < MIGR_MAC_PICK_CANDIDATES; i++)
		if (t.ops[i])
			lr_say("record MAC %s: %.3f ns a byte", t.ops[i]->name, (double)t.ticks[i] / (double)t.bytes);
	lr_say("record MAC: %s, the faster here", r->mac->name);
	return 0;
}

static int setup(struct send_run *r)
{
	const struct lr_opts *o = r->o;
	char why[160];
	uint64_t npages = o->mem / MIGR_PAGE_SIZE;
	/*
	 * Huge pages where the harvest still sees 4 KiB writes: the first pass then meets one page
	 * table entry per 2 MiB, not per 4 KiB. On this test bed (a paravirtualised kernel) the
	 * sender's CPU per GiB fell from 1.13-1.50 s to 0.79-0.90 s (1 connection, 2 GiB, 4
	 * interleaved runs each).
	 */
	int huge = o->tracker == LR_TRACK_SELF || lr_track_huge_pages_split();

	if (lr_guest_init(&r->g, o->mem, o->zero, !huge)) {
		lr_say("cannot map %llu bytes of guest memory", (unsigned long long)o->mem);
		return -1;
	}
	if (lr_track_init(&r->track, &r->g, o->tracker, why, sizeof(why))) {
		lr_say("dirty tracking: %s", why);
		return -1;
	}
	lr_say("tracker: %s%s; guest memory on %s", lr_track_name(&r->track),
	       r->track.kind == LR_TRACKER_SELF ? " (fallback: the writers record their own writes)"
						: " (userfaultfd async write-protect, PAGEMAP_SCAN harvest)",
	       huge ? "2 MiB pages where the kernel gives them" : "4 KiB pages");
	if (choose_mac(r))
		return -1;
	r->bitmap = calloc((npages + 63) / 64, 8);
	r->hashes = calloc(npages, 8);
	if (!r->bitmap || !r->hashes)
		return -1;
	if (lr_tcp_client(&r->tcp, o->host, o->port, (int)o->sockbuf_kib * 1024, why, sizeof(why)) ||
	    lr_tcp_congestion(&r->tcp, o->congestion, o->congestion_given, r->congestion, sizeof(r->congestion), why,
			      sizeof(why))) {
		lr_say("%s", why);
		return -1;
	}
	lr_say("TCP congestion control: %s%s", r->congestion,
	       r->tcp.cc[0] ? "" : " (the system's: " LR_CONGESTION_DEFAULT " is not offered)");
	r->tcp.event = on_link;
	r->tcp.owner = &r->snd;
	return lr_guest_start(&r->g, o->pattern, o->writers, o->rate_mib_s, o->hot_pct) ? -1 : 0;
}

static int start(struct send_run *r)
{
	const struct lr_opts *o = r->o;
	struct migr_sender_cfg cfg = {
		.limits = { .downtime_ms = o->downtime_ms, .bandwidth_cap = o->bandwidth_mib_s << 20,
			    .max_throttle_pct = o->max_throttle, .max_precopy_ms = o->max_precopy_ms,
			    .on_timeout = o->abort_on_timeout ? MIGR_TIMEOUT_ABORT : MIGR_TIMEOUT_FORCE },
		.connections = o->connections,
		.vcpus = o->vcpus,
		.cpu_features = 0, /* asks nothing of the destination's CPU */
		.tsc_hz = o->tsc_hz,
		.secret = o->secret,
		.secret_len = o->secret_len,
		.mac_ops = r->mac,
		.pause_retries = o->pause_retries,
	};
	struct migr_sender_ports p = {
		{ &lr_tcp_ops, &r->tcp }, { &lr_mem_ops, &r->mem }, { &lr_track_ops, &r->track },
		{ &lr_throttle_ops, &r->g }, { &lr_clock_ops, NULL }, &lr_source_ops, &r->src,
	};
	/* As the hypervisor sizes it: two chunks in flight per connection, at most one per slot. */
	uint32_t window = o->connections * 2 < MIGR_CONN_MAX ? o->connections * 2 : MIGR_CONN_MAX;
	size_t chunk = MIGR_PAD8((size_t)o->chunk_kib << 10);
	struct migr_sender_bufs b;

	if (chunk < MIGR_PAD8(MIGR_SEND_CHUNK_MIN))
		chunk = MIGR_PAD8(MIGR_SEND_CHUNK_MIN);
	r->chunks = aligned_alloc(4096, (window * chunk + 4095) & ~(size_t)4095);
	r->stage = aligned_alloc(4096, LR_STAGE_PAGES * MIGR_PAGE_SIZE);
	if (!r->chunks || !r->stage)
		return HV_ENOMEM;
	b = (struct migr_sender_bufs){ r->bitmap, r->hashes, o->mem / MIGR_PAGE_SIZE, r->chunks, chunk, window };
	lr_random(NULL, cfg.uuid, sizeof(cfg.uuid));
	r->mem = (struct lr_mem){ .mem = r->g.mem, .bytes = o->mem, .track = &r->track, .stage = r->stage,
				  .sending = r->bitmap };
	r->src = (struct lr_source){ .g = &r->g, .vcpus = o->vcpus, .tsc_hz = o->tsc_hz };
	return migr_sender_start(&r->snd, &cfg, &p, &b);
}

/* Steps the sender until it ends or the run's time is up; the fault, if any, goes in on the way. */
static void run(struct send_run *r)
{
	uint64_t deadline = lr_now_us() + (uint64_t)r->o->timeout_s * 1000000ull, hold_until = 0, moved;
	uint32_t phase, st = MIGR_SEND_RUNNING;
	int idle = 0, injected = 0, cancelled = 0;

	while (st == MIGR_SEND_RUNNING) {
		(void)lr_tcp_poll(&r->tcp, idle ? IDLE_WAIT_MS : 0);
		/*
		 * Held after the fault: the state machine reads control (the destination's answer, or its
		 * progress reports), but no page goes until the destination has answered or the hold is over.
		 */
		if (hold_until && lr_now_us() >= hold_until) {
			hold_until = 0;
			r->tcp.data_held = 0;
		}
		moved = r->tcp.bytes_in + r->tcp.bytes_out;
		phase = r->snd.phase;
		st = migr_sender_step(&r->snd);
		if (r->o->fault && !injected && lr_fault_ready(&r->snd)) {
			injected = 1;
			if (lr_fault_inject(&r->snd, &r->tcp, r->o->fault, r->o->mem / MIGR_PAGE_SIZE))
				lr_say("fault: the faulty record could not be written");
			hold_until = lr_now_us() + FAULT_HOLD_US;
			r->tcp.data_held = 1;
		}
		idle = moved == r->tcp.bytes_in + r->tcp.bytes_out && phase == r->snd.phase;
		if (!cancelled && lr_now_us() > deadline) {
			lr_say("the run's time (--timeout %u s) is up: cancelling", r->o->timeout_s);
			migr_sender_cancel(&r->snd);
			cancelled = 1;
			deadline = lr_now_us() + 10000000ull; /* the cancel itself must end too */
		} else if (cancelled && lr_now_us() > deadline) {
			break;
		}
	}
}

/* After DONE: the writers' record against the buffer, then both sides' digests. */
static void verify(struct send_run *r)
{
	struct lr_verify_msg m = { 0 }, peer;
	int fd;

	r->rep.selfcheck_errors = lr_guest_check(&r->g, r->g.mem) + lr_guest_errors(&r->g);
	r->rep.digest_send = lr_digest(r->g.mem, r->o->mem);
	memcpy(m.uuid, r->snd.cfg.uuid, sizeof(m.uuid));
	m.digest = r->rep.digest_send;
	m.selfcheck_bad = r->rep.selfcheck_errors;
	lr_verify_seal(&m, r->o->secret, r->o->secret_len);
	fd = lr_tcp_connect_blocking(&r->tcp, VERIFY_TIMEOUT_MS);
	if (fd < 0 || lr_verify_send(fd, &m, VERIFY_TIMEOUT_MS) || lr_verify_recv(fd, &peer, VERIFY_TIMEOUT_MS) ||
	    lr_verify_open(&peer, r->o->secret, r->o->secret_len, m.uuid)) {
		lr_say("the destination's check did not arrive");
	} else {
		r->rep.verified = 1;
		r->rep.digest_recv = peer.digest;
		r->rep.cpu_s_recv = (double)peer.cpu_us / 1e6;
		r->rep.downtime_recv_ms = (double)peer.downtime_ms;
		r->rep.pages_written = peer.pages_written;
		r->rep.cpu_s_per_gib_recv = r->rep.bytes ? r->rep.cpu_s_recv / ((double)r->rep.bytes / (double)(1u << 30)) : 0;
	}
	if (fd >= 0)
		close(fd);
	r->rep.digest_match = r->rep.verified && r->rep.digest_recv == r->rep.digest_send && !r->rep.selfcheck_errors;
}

static const char *status_name(uint32_t st)
{
	return st == MIGR_SEND_DONE ? "done" : st == MIGR_SEND_COMMITTED_UNCONFIRMED ? "committed-unconfirmed" : "failed";
}

static void fill_report(struct send_run *r, double cpu0, double cpup0, uint64_t t0)
{
	const struct migr_send_progress *g = &r->snd.prog;
	const struct lr_opts *o = r->o;
	struct lr_report *p = &r->rep;
	double gib = (double)g->bytes_sent / (double)(1u << 30), window;

	p->role = "send";
	p->status = status_name(r->snd.status);
	p->error = g->error ? migr_error_str(g->error) : NULL;
	p->peer_error = g->peer_error ? migr_error_str(g->peer_error) : NULL;
	p->error_detail = g->error && g->detail[0] ? g->detail : NULL;
	p->link_error = g->error && r->tcp.lost[0] ? r->tcp.lost : NULL;
	p->tracker = lr_track_name(&r->track);
	p->congestion = r->congestion;
	p->mac = r->mac;
	p->pattern = pattern_names[o->pattern];
	p->fault = fault_names[o->fault];
	p->connections = r->snd.granted ? r->snd.granted : o->connections;
	p->mem = o->mem;
	p->zero = o->zero;
	p->writers = o->writers;
	p->rate_mib_s = o->rate_mib_s;
	p->bandwidth_cap_mib_s = o->bandwidth_mib_s;
	p->bytes = g->bytes_sent;
	p->pages_sent = g->pages_sent;
	p->zero_pages = g->zero_pages;
	p->passes = g->pass;
	p->downtime_ms = (double)g->downtime_ms;
	/* Where the pause went, from the pause on: the last pages begun, the state, B's READY, its CONFIRM. */
	if (r->snd.paused) {
		static const uint32_t marks[LR_PAUSE_MARKS] = { MIGR_SP_FINAL, MIGR_SP_STATE, MIGR_SP_READY, MIGR_SP_CONFIRM,
								 MIGR_SP_END };
		uint64_t hz = r->snd.p.clock.ops->hz;

		p->expected_downtime_ms = g->expected_downtime_ms;
		p->switch_remaining_bytes = r->snd.switch_stats.remaining_bytes;
		p->switch_queued_bytes = r->snd.switch_stats.queued_bytes;
		p->switch_bandwidth = r->snd.switch_decision.pause_bandwidth;
		p->switch_rtt_us = r->snd.switch_stats.rtt_us;
		for (unsigned i = 0; i < LR_PAUSE_MARKS; i++)
			p->pause_ms[i] = r->snd.phase_at[marks[i]] >= r->snd.t_pause ?
				(double)(r->snd.phase_at[marks[i]] - r->snd.t_pause) * 1e3 / (double)hz : -1;
	}
	p->downtime_limit_ms = o->downtime_ms;
	p->pause_retries = o->pause_retries;
	p->pauses_called_off = g->called_off;
	p->called_off_ms = (double)g->called_off_ms;
	p->converged = r->snd.status == MIGR_SEND_DONE && g->reason == MIGR_WHY_DOWNTIME_FITS;
	p->peak_throttle = g->peak_throttle_pct;
	p->mono_begin_us = t0;
	p->mono_end_us = lr_now_us();
	p->total_ms = (double)(p->mono_end_us - t0) / 1e3;
	window = (double)(g->last_page_ticks - g->first_byte_ticks) / 1e6;
	p->goodput_mib_s = window > 0 ? (double)g->pages_sent * MIGR_PAGE_SIZE / (double)(1 << 20) / window : 0;
	p->cpu_s_send = lr_cpu_thread() - cpu0;
	p->cpu_s_send_process = lr_cpu_process() - cpup0;
	p->cpu_s_per_gib_send = gib > 0 ? p->cpu_s_send / gib : 0;
	p->writes = lr_guest_writes(&r->g);
}

/* The destination must refuse the handshake: its ERROR code is the verdict. */
static int no_secret(struct send_run *r)
{
	uint32_t code = lr_fault_no_secret(&r->tcp, r->mac->alg, VERIFY_TIMEOUT_MS);

	r->rep = (struct lr_report){ .role = "send", .status = "failed", .fault = "no-secret",
				     .tracker = lr_track_name(&r->track), .pattern = pattern_names[r->o->pattern],
				     .connections = r->o->connections, .mem = r->o->mem,
				     .peer_error = code ? migr_error_str(code) : NULL };
	lr_report_emit(&r->rep, r->o->json);
	lr_say("fault no-secret: the destination %s%s", code ? "refused: " : "did not refuse", code ? migr_error_str(code) : "");
	return code ? LR_EXIT_REFUSED : LR_EXIT_FAILED;
}

int lr_send(const struct lr_opts *o)
{
	static struct send_run r; /* the sender's buffers are large */
	double cpu0, cpup0;
	uint64_t t0;
	int rc = LR_EXIT_FAILED;

	memset(&r, 0, sizeof(r));
	r.o = o;
	if (setup(&r))
		goto out;
	if (o->fault == LR_FAULT_NO_SECRET) {
		rc = no_secret(&r);
		goto out;
	}
	t0 = lr_now_us();
	cpu0 = lr_cpu_thread();
	cpup0 = lr_cpu_process();
	if (start(&r)) {
		lr_say("the sender does not start");
		goto out;
	}
	run(&r);
	fill_report(&r, cpu0, cpup0, t0);
	lr_guest_stop(&r.g);
	if (r.snd.status == MIGR_SEND_DONE)
		verify(&r);
	/* After the check: the receiver closes its side of the stream once it has answered. */
	lr_tcp_shutdown(&r.tcp, 2000);
	if (lr_report_emit(&r.rep, o->json))
		lr_say("cannot write %s", o->json);
	if (o->fault) {
		lr_say("fault %s: the destination %s%s", fault_names[o->fault],
		       r.rep.peer_error ? "refused: " : "did not refuse", r.rep.peer_error ? r.rep.peer_error : "");
		rc = r.snd.status == MIGR_SEND_FAILED && r.rep.peer_error ? LR_EXIT_REFUSED : LR_EXIT_FAILED;
	} else if (r.snd.status != MIGR_SEND_DONE) {
		lr_report_say_failed(&r.rep, "the destination said: ");
	} else if (!r.rep.digest_match) {
		lr_say("MISMATCH: source digest %016llx, destination %s%016llx, self-check errors %llu",
		       (unsigned long long)r.rep.digest_send, r.rep.verified ? "" : "(no answer) ",
		       (unsigned long long)r.rep.digest_recv, (unsigned long long)r.rep.selfcheck_errors);
	} else {
		rc = LR_EXIT_OK;
	}
out:
	lr_guest_stop(&r.g);
	lr_tcp_shutdown(&r.tcp, 0);
	lr_track_free(&r.track);
	lr_guest_free(&r.g);
	free(r.bitmap);
	free(r.hashes);
	free(r.chunks);
	free(r.stage);
	return rc;
}
