/* The sending state machine: see sender.h and docs/migration-stream.md. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "kernel/lib/err.h"
#include "kernel/lib/sorted.h"
#include "migration/sender.h"
#include "migration/sender_priv.h"
#include "migration/xxh.h"

#define MS(s, ticks) migr_scale((ticks), 1000, (s)->p.clock.ops->hz)

static const char *const phase_text[] = {
	[MIGR_SP_CONNECT] = "connect",
	[MIGR_SP_HELLO] = "handshake",
	[MIGR_SP_ACK] = "header",
	[MIGR_SP_DATA_CONNECT] = "connect-data",
	[MIGR_SP_PRECOPY] = "precopy",
	[MIGR_SP_FINAL] = "final",
	[MIGR_SP_STATE] = "state",
	[MIGR_SP_READY] = "wait-ready",
	[MIGR_SP_CONFIRM] = "wait-confirm",
	[MIGR_SP_END] = "end",
};

const char *migr_send_phase_str(uint32_t phase)
{
	return phase <= MIGR_SP_END ? phase_text[phase] : "unknown";
}

static uint64_t since_ms(const struct migr_sender *s, uint64_t t)
{
	return MS(s, migr_sender_now(s) - t);
}

int migr_sender_fail(struct migr_sender *s, uint32_t code, const char *fmt, ...)
{
	va_list ap;
	uint32_t c;

	if (s->status != MIGR_SEND_RUNNING)
		return HV_EINVAL;
	s->prog.error = code;
	va_start(ap, fmt);
	vsnprintf(s->prog.detail, sizeof(s->prog.detail), fmt, ap);
	va_end(ap);
	if (s->committed) {
		s->status = MIGR_SEND_COMMITTED_UNCONFIRMED;
		return HV_EINVAL;
	}
	s->p.throttle.ops->release(s->p.throttle.ctx);
	s->p.dirty.ops->stop(s->p.dirty.ctx);
	if (s->paused)
		s->p.vm->resume(s->p.vm_ctx);
	s->paused = 0;
	if (s->link[0].up && !s->link[0].failed) {
		migr_link_queue_error(&s->link[0], code, s->prog.detail);
		(void)migr_link_flush(&s->link[0], &s->p.transport);
	}
	for (c = 0; c <= s->granted; c++)
		s->p.transport.ops->close(s->p.transport.ctx, c);
	s->status = MIGR_SEND_FAILED;
	return HV_EINVAL;
}

int migr_sender_start(struct migr_sender *s, const struct migr_sender_cfg *cfg, const struct migr_sender_ports *p,
		      const struct migr_sender_bufs *b)
{
	static const uint8_t zero[MIGR_PAGE_SIZE];
	uint64_t bytes = p->memory.ops->size(p->memory.ctx);
	uint32_t i;

	if (cfg->connections == 0 || cfg->connections > MIGR_CONN_MAX || !cfg->mac_ops || !cfg->secret ||
	    bytes == 0 || bytes % MIGR_PAGE_SIZE || b->npages < bytes / MIGR_PAGE_SIZE ||
	    b->chunk_size < MIGR_SEND_CHUNK_MIN || b->window == 0 || b->window > MIGR_CONN_MAX)
		return HV_EINVAL;
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	s->p = *p;
	s->b = *b;
	s->npages = bytes / MIGR_PAGE_SIZE;
	migr_hold_init(&s->hold, cfg->hold_phase, cfg->hold_ms);
	s->zero_hash = migr_page_hash(zero);
	s->prog.expected_downtime_ms = UINT64_MAX;
	migr_link_init(&s->link[0], 0, s->ctl_out, sizeof(s->ctl_out), s->ctl_in, sizeof(s->ctl_in),
		       MIGR_CONN_CONTROL, 0, MIGR_DIR_B_TO_A);
	for (i = 1; i <= MIGR_CONN_MAX; i++)
		migr_link_init(&s->link[i], i, s->tail[i - 1], MIGR_SEND_TAIL, s->ctl_in, 0, MIGR_CONN_DATA, i,
			       MIGR_DIR_B_TO_A);
	s->t_start = s->t_wait = migr_sender_now(s);
	s->p.vm->random(s->p.vm_ctx, s->nonce_a, sizeof(s->nonce_a));
	return p->transport.ops->open(p->transport.ctx, 0);
}

void migr_sender_link(struct migr_sender *s, uint32_t c, uint32_t event)
{
	if (c > MIGR_CONN_MAX)
		return;
	if (event == MIGR_LINK_UP)
		s->link[c].up = 1;
	else
		s->link[c].failed = 1;
}

void migr_sender_cancel(struct migr_sender *s)
{
	/* After COMMIT the VM is B's: a cancel changes nothing. */
	if (!s->committed)
		(void)migr_sender_fail(s, MIGR_ERR_CANCELLED, "cancelled by the operator");
}

int migr_sender_resolve(struct migr_sender *s, int resume)
{
	if (s->status != MIGR_SEND_COMMITTED_UNCONFIRMED)
		return HV_EINVAL;
	s->p.dirty.ops->stop(s->p.dirty.ctx);
	if (resume) {
		if (s->p.vm->resume(s->p.vm_ctx) < 0)
			return HV_EIO;
		s->paused = 0;
		s->status = MIGR_SEND_FAILED;
	} else {
		s->p.vm->release(s->p.vm_ctx);
		s->status = MIGR_SEND_DONE;
	}
	return HV_OK;
}

static const char *phase_now(const struct migr_sender *s)
{
	return migr_send_phase_str(s->phase);
}

static void control_lost(struct migr_sender *s)
{
	(void)migr_sender_fail(s, MIGR_ERR_PROTOCOL, "control connection lost in phase %s", phase_now(s));
}

/*
 * The handshake's round trip is one sample, and a busy host (a descheduled peer, a loaded link)
 * can make it many times the path's: the pause's estimate counts two of them, and with a limit
 * near that the switchover never fits however little is left (a 25 ms limit on loopback took a
 * 12 ms handshake and then 100,000 empty passes). So every PROGRESS report is a sample too. B had
 * read `read` bytes when it wrote it; the log says until when the data connections had carried
 * fewer, so the byte that made `read` left after that: now less that time is at least its way to
 * B, B's read and report, and the report's way back, queues included. The least sample is the
 * path's round trip; queues are the estimate's other term (queued_bytes).
 */
static void rtt_sample(struct migr_sender *s, uint64_t read)
{
	size_t lo = u64_lower_bound(s->written_bytes, s->written_n, read);
	uint64_t us;

	if (lo == 0)
		return; /* the log holds no count below it */
	us = migr_scale(migr_sender_now(s) - s->written_t[lo - 1], 1000000, s->p.clock.ops->hz);
	if (us && us < s->prog.rtt_us)
		s->prog.rtt_us = (uint32_t)us;
}

/* B has read this much: the rest of what was sent is on its way (a count from a confused peer is ignored). */
static void on_progress(struct migr_sender *s, const struct migr_rec *rec)
{
	struct migr_progress pr;
	uint64_t out = migr_sender_data_out(s);

	memcpy(&pr, rec->body, sizeof(pr));
	if (pr.data_bytes > out || pr.data_bytes < s->peer_read)
		return;
	s->peer_read = pr.data_bytes;
	s->t_peer_read = migr_sender_now(s);
	s->prog.in_flight_bytes = out - pr.data_bytes;
	rtt_sample(s, pr.data_bytes);
}

/*
 * What B has not read yet, now: its last report is up to MIGR_PROGRESS_MS
 * old, and B has gone on reading at the link's rate since. The report
 * alone would hold a drained link full for that long.
 */
static uint64_t in_flight_now(const struct migr_sender *s)
{
	uint64_t out = migr_sender_data_out(s), read;

	if (!s->peer_read)
		return 0;
	read = s->peer_read + migr_scale(s->prog.bandwidth, migr_sender_now(s) - s->t_peer_read, s->p.clock.ops->hz);
	return out > read ? out - read : 0;
}

/*
 * The next record on control, or 0; ERROR from B ends the migration. B's
 * PROGRESS reports are taken here, however many have come in a row (a loop:
 * the peer decides how many), and never reach the caller; nor does the
 * READY B still sends for a pause called off after its DIGEST.
 */
static int control_record(struct migr_sender *s, struct migr_rec *rec)
{
	struct migr_link *l = &s->link[0];
	char peer[MIGR_DETAIL_MAX];
	int rc;

	for (;;) {
		rc = migr_link_poll(l, &s->p.transport);
		if (rc < 0) {
			if (l->failed)
				control_lost(s);
			else
				(void)migr_sender_fail(s, l->dec.why, "bad record (type %s) from the destination on "
						       "control in phase %s", migr_rec_type_str(l->dec.type), phase_now(s));
			return 0;
		}
		if (rc == 0)
			return 0;
		*rec = l->pend;
		l->has_pend = 0;
		if (rec->type == MIGR_REC_PROGRESS)
			on_progress(s, rec);
		else if (rec->type == MIGR_REC_READY && s->stale_ready)
			s->stale_ready--;
		else
			break;
	}
	if (rec->type == MIGR_REC_ERROR) {
		s->prog.peer_error = migr_link_peer_error(rec, peer, sizeof(peer));
		(void)migr_sender_fail(s, MIGR_ERR_PROTOCOL, "ERROR from the destination in phase %s: %.120s",
				       phase_now(s), peer);
		return 0;
	}
	s->t_wait = migr_sender_now(s);
	return 1;
}

/* A connection ended before COMMIT: an ERROR B sent before it closed says why better than the loss does. */
static void connection_lost(struct migr_sender *s, uint32_t c)
{
	struct migr_link *l = &s->link[0];
	struct migr_rec rec;

	if (l->up && migr_link_poll(l, &s->p.transport) == 1 && l->pend.type == MIGR_REC_ERROR) {
		(void)control_record(s, &rec);
		return;
	}
	(void)migr_sender_fail(s, MIGR_ERR_PROTOCOL, "%s connection %u lost in phase %s", c ? "data" : "control", c,
			       phase_now(s));
}

static int expect(struct migr_sender *s, const struct migr_rec *rec, uint32_t type)
{
	if (rec->type == type)
		return 1;
	(void)migr_sender_fail(s, MIGR_ERR_PROTOCOL, "unexpected %s record from the destination on control in phase %s",
			       migr_rec_type_str(rec->type), phase_now(s));
	return 0;
}

static int send_hello(struct migr_sender *s)
{
	struct migr_hello h = { .version = MIGR_VERSION, .mac_alg = s->cfg.mac_ops->alg };

	memcpy(h.nonce, s->nonce_a, sizeof(h.nonce));
	if (migr_link_queue_preamble(&s->link[0]) || migr_link_queue(&s->link[0], MIGR_REC_HELLO, &h, sizeof(h)))
		return migr_sender_fail(s, MIGR_ERR_INTERNAL, "control queue full");
	s->phase = MIGR_SP_HELLO;
	s->t_hello = migr_sender_now(s);
	return HV_OK;
}

/* B's HELLO: check its proof, derive the key, prove ourselves, send the header. */
static int on_hello(struct migr_sender *s, const struct migr_rec *rec)
{
	struct migr_hello h;
	struct migr_auth a;
	struct migr_header hd = { .vcpus = s->cfg.vcpus, .connections = s->cfg.connections,
				  .cpu_features = s->cfg.cpu_features, .tsc_hz = s->cfg.tsc_hz };
	uint8_t proof[32], sid[32], key[MIGR_KEY_SIZE];
	const struct migr_mac_ops *ops = s->cfg.mac_ops;

	/* HELLO to HELLO: the network both ways plus B handling one record, as at READY and CONFIRM. */
	s->prog.rtt_us = (uint32_t)migr_scale(migr_sender_now(s) - s->t_hello, 1000000, s->p.clock.ops->hz);
	memcpy(&h, rec->body, sizeof(h));
	if (h.version != MIGR_VERSION || h.mac_alg != ops->alg)
		return migr_sender_fail(s, MIGR_ERR_VERSION, "version or MAC algorithm refused");
	memcpy(s->nonce_b, h.nonce, sizeof(s->nonce_b));
	migr_mac_derive(ops, s->cfg.secret, s->cfg.secret_len, "ferry B", s->nonce_a, s->nonce_b, proof);
	if (!migr_mac_equal(proof, h.proof, sizeof(proof)))
		return migr_sender_fail(s, MIGR_ERR_AUTH, "the destination does not hold the secret");
	migr_mac_derive(ops, s->cfg.secret, s->cfg.secret_len, "ferry A", s->nonce_a, s->nonce_b, a.proof);
	migr_mac_derive(ops, s->cfg.secret, s->cfg.secret_len, "ferry key", s->nonce_a, s->nonce_b, key);
	migr_mac_set(&s->mac, ops, key);
	migr_mac_wipe(key, sizeof(key));
	migr_mac_derive(ops, s->cfg.secret, s->cfg.secret_len, "ferry sid", s->nonce_a, s->nonce_b, sid);
	memcpy(s->session_id, sid, sizeof(s->session_id));
	memcpy(hd.uuid, s->cfg.uuid, sizeof(hd.uuid));
	hd.ram_bytes = s->npages * MIGR_PAGE_SIZE;
	if (migr_link_queue(&s->link[0], MIGR_REC_AUTH, &a, sizeof(a)))
		return migr_sender_fail(s, MIGR_ERR_INTERNAL, "control queue full");
	migr_tx_key(&s->link[0].tx, &s->mac);
	migr_dec_key(&s->link[0].dec, &s->mac);
	if (migr_link_queue(&s->link[0], MIGR_REC_HEADER, &hd, sizeof(hd)))
		return migr_sender_fail(s, MIGR_ERR_INTERNAL, "control queue full");
	s->phase = MIGR_SP_ACK;
	return HV_OK;
}

static int on_ack(struct migr_sender *s, const struct migr_rec *rec)
{
	struct migr_ack a;
	uint32_t i;

	memcpy(&a, rec->body, sizeof(a));
	if (a.type != MIGR_REC_HEADER || a.value == 0 || a.value > s->cfg.connections)
		return migr_sender_fail(s, MIGR_ERR_PROTOCOL, "bad acknowledgement of the header");
	s->granted = a.value;
	for (i = 1; i <= s->granted; i++)
		if (s->p.transport.ops->open(s->p.transport.ctx, i) < 0)
			return migr_sender_fail(s, MIGR_ERR_INTERNAL, "cannot open a data connection");
	s->phase = MIGR_SP_DATA_CONNECT;
	return HV_OK;
}

static uint64_t bytes_sent(const struct migr_sender *s)
{
	return s->link[0].bytes_out + migr_sender_data_out(s);
}

/* Opens pass `pass`: the bitmap holds its pages; PASS_BEGIN goes on control. */
static int begin_pass(struct migr_sender *s, uint32_t flags)
{
	struct migr_pass_begin pb = { .pass = s->prog.pass + 1, .flags = flags, .pages = s->pass_pages };

	if (migr_link_queue(&s->link[0], MIGR_REC_PASS_BEGIN, &pb, sizeof(pb)))
		return HV_EBUSY;
	s->prog.pass++;
	s->cursor = 0;
	s->pass_done_pages = 0;
	memset(s->conn_pages, 0, sizeof(s->conn_pages));
	memset(s->pass_end_queued, 0, sizeof(s->pass_end_queued));
	s->t_pass = migr_sender_now(s);
	s->pass_bytes0 = bytes_sent(s);
	s->pass_dry = 0;
	return HV_OK;
}

static int data_connected(struct migr_sender *s)
{
	struct migr_conn_bind cb = { 0 };
	uint64_t i, words = (s->npages + 63) / 64;

	for (i = 1; i <= s->granted; i++)
		if (!s->link[i].up)
			return HV_OK;
	memcpy(cb.session_id, s->session_id, sizeof(cb.session_id));
	for (i = 1; i <= s->granted; i++) {
		cb.index = (uint32_t)i;
		migr_tx_key(&s->link[i].tx, &s->mac);
		if (migr_link_queue_preamble(&s->link[i]) ||
		    migr_link_queue(&s->link[i], MIGR_REC_CONN_BIND, &cb, sizeof(cb)))
			return migr_sender_fail(s, MIGR_ERR_INTERNAL, "data queue full");
	}
	if (s->p.dirty.ops->start(s->p.dirty.ctx) < 0)
		return migr_sender_fail(s, MIGR_ERR_INTERNAL, "cannot start the dirty log");
	/* The first pass sends every page. */
	for (i = 0; i < words; i++)
		s->b.bitmap[i] = ~0ull;
	if (s->npages % 64)
		s->b.bitmap[words - 1] = (1ull << (s->npages % 64)) - 1;
	s->pass_pages = s->npages;
	s->t_control = s->t_policy = migr_sender_now(s);
	(void)begin_pass(s, 0);
	s->phase = MIGR_SP_PRECOPY;
	return HV_OK;
}

static uint64_t pending(const struct migr_sender *s)
{
	return s->p.dirty.ops->pending ? s->p.dirty.ops->pending(s->p.dirty.ctx) : 0;
}

/*
 * Every 250 ms: a sample of bytes sent and pages dirtied, for rates over the
 * last second. Bytes over time is the link's rate only while the sender
 * keeps it busy. When the sender runs dry (its pass sent, every chunk handed
 * over: a quiet or throttled guest between passes; or the policy holding
 * pages back while the link drains), its throughput falls
 * with what it has to send; a bandwidth that followed it would make the
 * pause's fixed part (queued bytes, state, round trips) look ever longer, and
 * the switchover that fits would never come. So a second in which the sender
 * was dry for a quarter of a window or more may raise the estimate, never
 * lower it; a busy second sets it.
 */
static void sample(struct migr_sender *s)
{
	uint64_t t = migr_sender_now(s), b = bytes_sent(s), bw;
	int i, dry = 0;

	if (b != s->prog.bytes_sent || !s->last_bytes_t)
		s->last_bytes_t = t;
	s->prog.bytes_sent = b;
	s->prog.elapsed_ms = MS(s, t - s->t_start);
	if (s->dry && s->t_step) {
		s->window_dry += t - s->t_step;
		s->pass_dry += t - s->t_step;
	}
	s->t_step = t;
	s->dry = s->phase == MIGR_SP_PRECOPY && (s->cursor >= s->npages || s->draining) && !migr_sender_unsent(s);
	if (s->samples_t[0] && MS(s, t - s->samples_t[0]) < MIGR_POLICY_PERIOD_MS)
		return;
	for (i = 4; i > 0; i--) {
		s->samples_t[i] = s->samples_t[i - 1];
		s->samples_bytes[i] = s->samples_bytes[i - 1];
		s->samples_pending[i] = s->samples_pending[i - 1];
		s->samples_dry[i] = s->samples_dry[i - 1];
	}
	s->samples_dry[0] = s->samples_t[1] && s->window_dry * 4 >= t - s->samples_t[1];
	s->samples_t[0] = t;
	s->samples_bytes[0] = b;
	s->samples_pending[0] = pending(s);
	s->window_dry = 0;
	if (!s->samples_t[4] || t <= s->samples_t[4])
		return;
	bw = migr_scale(b - s->samples_bytes[4], s->p.clock.ops->hz, t - s->samples_t[4]);
	for (i = 0; i < 4; i++)
		dry |= s->samples_dry[i];
	if (!dry || bw > s->prog.bandwidth)
		s->prog.bandwidth = bw;
}

/* Pages/s first dirtied over the sampled window (the count restarts at each harvest). */
static uint64_t window_dirty_rate(const struct migr_sender *s)
{
	uint64_t t = s->samples_t[0], p = s->samples_pending[0];

	if (!s->samples_t[4] || t <= s->samples_t[4])
		return 0;
	if (p >= s->samples_pending[4] && s->samples_t[4] >= s->t_pass)
		return migr_scale(p - s->samples_pending[4], s->p.clock.ops->hz, t - s->samples_t[4]);
	return t > s->t_pass ? migr_scale(p, s->p.clock.ops->hz, t - s->t_pass) : 0;
}

/*
 * What was built and B has not read yet crosses first: the chunks and link
 * queues here, then what the transport holds, and beyond it what B's last
 * PROGRESS said was still between A's sends and B's reads (the peer's
 * receive buffers, any relay on the path), which A's own queues never show.
 */
static uint64_t queued(const struct migr_sender *s)
{
	uint64_t sum = 0, path = in_flight_now(s);
	uint32_t c;

	if (s->p.transport.ops->queued)
		for (c = 0; c <= s->granted; c++)
			sum += s->p.transport.ops->queued(s->p.transport.ctx, c);
	return migr_sender_unsent(s) + (path > sum ? path : sum);
}

/*
 * The switchover starts here: the VM stops at once (the rest of a pass
 * underway goes with it paused), the throttle is lifted, and from here on
 * the status shows no throttle and no dirtying.
 */
static int pause_vm(struct migr_sender *s)
{
	if (s->paused)
		return HV_OK;
	if (s->p.vm->pause(s->p.vm_ctx) < 0)
		return migr_sender_fail(s, MIGR_ERR_INTERNAL, "cannot pause the VM");
	s->paused = 1;
	s->t_pause = migr_sender_now(s);
	s->p.throttle.ops->release(s->p.throttle.ctx);
	s->prog.throttle_pct = 0;
	s->prog.dirty_limit = 0;
	s->prog.dirty_rate = 0;
	return HV_OK;
}

static void apply(struct migr_sender *s, const struct migr_decision *d)
{
	const struct migr_throttle *t = &s->p.throttle;

	s->prog.reason = d->reason;
	s->prog.expected_downtime_ms = d->expected_downtime_ms;
	s->draining = d->action == MIGR_ACT_DRAIN;
	switch (d->action) {
	case MIGR_ACT_SET_THROTTLE:
		if (s->prog.dirty_limit)
			t->ops->set_dirty_limit(t->ctx, 0, 0);
		t->ops->set_percent(t->ctx, d->throttle_pct);
		s->prog.throttle_pct = d->throttle_pct;
		s->prog.dirty_limit = 0;
		if (d->throttle_pct > s->prog.peak_throttle_pct)
			s->prog.peak_throttle_pct = d->throttle_pct;
		s->t_control = migr_sender_now(s);
		break;
	case MIGR_ACT_SET_DIRTY_LIMIT:
		if (s->prog.throttle_pct)
			t->ops->set_percent(t->ctx, 0);
		t->ops->set_dirty_limit(t->ctx, d->dirty_limit, d->max_pct);
		s->prog.throttle_pct = 0;
		s->prog.dirty_limit = d->dirty_limit;
		s->t_control = migr_sender_now(s);
		break;
	case MIGR_ACT_SWITCHOVER:
		/* B has not answered a pause called off yet: a new one would wait behind it. */
		if (!s->stale_ready)
			s->switching = 1;
		break;
	case MIGR_ACT_GIVE_UP:
		/* Out of precopy time, or nothing moved for too long: both are timeouts to an operator. */
		(void)migr_sender_fail(s, d->reason == MIGR_WHY_TIMEOUT_ABORT || d->reason == MIGR_WHY_LINK_STALLED ?
				       MIGR_ERR_TIMEOUT : MIGR_ERR_PROTOCOL, "%s", migr_reason_str(d->reason));
		break;
	}
}

/*
 * Bytes/s over a later pass's busy time (0: the first pass, or too short to tell). A later pass
 * sends scattered pages, as the final one does, and each costs both ends more than a page of the
 * first pass's long runs: moderate writer, 4 connections, line-rate build, 3 runs: the second
 * pass moved 206-311 MiB/s where the first moved 611-649, and a pause estimated from the window
 * (mostly first pass) took 1.6 times as long as estimated.
 */
static uint64_t pass_bandwidth(const struct migr_sender *s, uint64_t t)
{
	uint64_t busy = t - s->t_pass;

	if (s->prog.pass < 2 || s->pass_dry >= busy)
		return 0;
	busy -= s->pass_dry;
	if (MS(s, busy) < MIGR_POLICY_PERIOD_MS)
		return 0;
	return migr_scale(bytes_sent(s) - s->pass_bytes0, s->p.clock.ops->hz, busy);
}

static void policy(struct migr_sender *s, int boundary, uint64_t harvested)
{
	uint64_t rates[MIGR_VCPUS_MAX], t = migr_sender_now(s);
	struct migr_stats st = {
		.pass = s->prog.pass,
		.pass_done = (uint32_t)boundary,
		.bandwidth = s->prog.bandwidth,
		.pass_bandwidth = pass_bandwidth(s, t),
		.elapsed_ms = MS(s, t - s->t_start),
		.stalled_ms = MS(s, t - s->last_bytes_t),
		.throttle_pct = s->prog.throttle_pct,
		.dirty_limit = s->prog.dirty_limit,
		.control_age_ms = MS(s, t - s->t_control),
		.sent_bytes = bytes_sent(s),
		.vcpu_dirty_rate = rates,
		.rtt_us = s->prog.rtt_us,
		.conns = s->granted,
		.queued_bytes = queued(s),
		.state_bytes = s->cfg.state_bytes,
		.free_dirty_rate = s->free_rate,
		.harvest_us = migr_scale(s->harvest_ticks, 1000000, s->p.clock.ops->hz),
		.pause_overrun_pct = s->overrun_pct,
	};
	struct migr_decision d;

	if (boundary) {
		st.remaining_bytes = harvested * MIGR_PAGE_SIZE;
		st.dirty_rate = t > s->t_pass ? migr_scale(harvested, s->p.clock.ops->hz, t - s->t_pass) : 0;
	} else {
		st.remaining_bytes = (s->pass_pages - s->pass_done_pages + pending(s)) * MIGR_PAGE_SIZE;
		st.dirty_rate = window_dirty_rate(s);
	}
	if (s->p.dirty.ops->vcpu_rates)
		st.nvcpu = s->p.dirty.ops->vcpu_rates(s->p.dirty.ctx, rates, MIGR_VCPUS_MAX);
	s->prog.remaining_bytes = st.remaining_bytes;
	s->prog.dirty_rate = st.dirty_rate;
	s->t_policy = t;
	/*
	 * A window within a pass, unthrottled: what the guest writes when nothing holds it back. The highest
	 * such reading: the count restarts only at a harvest, so a working set filling up reads ever lower
	 * while the guest writes on as fast (a hot set read 155 pages/s early in the full copy and under 10
	 * at its end), and the lower reading would release the throttle the guest then outruns again.
	 */
	if (!boundary && !st.throttle_pct && !st.dirty_limit && st.dirty_rate > s->free_rate)
		s->free_rate = st.dirty_rate;
	migr_policy_decide(&s->cfg.limits, &st, &d);
	s->prog.decisions++;
	if (d.action == MIGR_ACT_SWITCHOVER) {
		s->switch_stats = st;
		s->switch_stats.vcpu_dirty_rate = NULL;
		s->switch_decision = d;
	}
	apply(s, &d);
	/* Decided within a pass (what remains fits, or time is up): the pause starts now, not at the pass's end. */
	if (s->switching && !boundary && s->status == MIGR_SEND_RUNNING)
		(void)pause_vm(s);
}

/* A pass ended: harvest; go on live, or pause and send the last pages. */
static int next_pass(struct migr_sender *s)
{
	uint64_t t0 = migr_sender_now(s);
	long got = s->p.dirty.ops->harvest(s->p.dirty.ctx, s->b.bitmap, s->npages), more;

	s->harvest_ticks = migr_sender_now(s) - t0;
	if (got < 0)
		return migr_sender_fail(s, MIGR_ERR_INTERNAL, "harvest failed");
	if (!s->switching)
		policy(s, 1, (uint64_t)got);
	if (s->status != MIGR_SEND_RUNNING)
		return HV_OK;
	if (s->switching) {
		if (pause_vm(s) < 0)
			return HV_OK;
		/*
		 * Paused: this harvest drains every log, nothing is written after it. Logging stops once
		 * B has confirmed (or the VM resumes here): ending it takes time the pause need not wait
		 * for (the line-rate tracker's unprotect of 2 GiB came before the final pass).
		 */
		more = s->p.dirty.ops->harvest(s->p.dirty.ctx, s->b.bitmap, s->npages);
		if (more < 0)
			return migr_sender_fail(s, MIGR_ERR_INTERNAL, "harvest failed");
		got += more;
		s->phase = MIGR_SP_FINAL;
	}
	s->pass_pages = (uint64_t)got;
	if (begin_pass(s, s->switching ? MIGR_PASS_FINAL : 0) < 0)
		return migr_sender_fail(s, MIGR_ERR_INTERNAL, "control queue full");
	return HV_OK;
}

/* After the last pages: each vCPU's state, the devices, the time, the digest. */
static int send_state(struct migr_sender *s)
{
	struct migr_vcpu_state vh;
	struct migr_digest dg = { .pages = s->npages };
	uint8_t *b = s->scratch;
	long n;

	while (s->state_i < s->cfg.vcpus) {
		vh.vcpu = s->state_i;
		n = s->p.vm->vcpu_state(s->p.vm_ctx, s->state_i, b + sizeof(vh), sizeof(s->scratch) - sizeof(vh),
					&vh.count);
		if (n < 0 || n > (long)(sizeof(s->scratch) - sizeof(vh)))
			return migr_sender_fail(s, MIGR_ERR_INTERNAL, "no vCPU state");
		memcpy(b, &vh, sizeof(vh));
		if (migr_link_queue(&s->link[0], MIGR_REC_VCPU_STATE, b, (uint32_t)(n + (long)sizeof(vh))))
			return HV_OK;
		s->state_i++;
	}
	for (;;) {
		n = s->p.vm->device_state(s->p.vm_ctx, s->dev_i, b, MIGR_DEVICE_STATE_MAX);
		if (n <= 0)
			break;
		if (n > MIGR_DEVICE_STATE_MAX)
			return migr_sender_fail(s, MIGR_ERR_INTERNAL, "device state too large");
		if (migr_link_queue(&s->link[0], MIGR_REC_DEVICE_STATE, b, (uint32_t)n))
			return HV_OK;
		s->dev_i++;
	}
	if (!s->time_sent) {
		if (s->p.vm->time(s->p.vm_ctx, b, sizeof(struct migr_time)) < 0)
			return migr_sender_fail(s, MIGR_ERR_INTERNAL, "no time state");
		if (migr_link_queue(&s->link[0], MIGR_REC_TIME, b, sizeof(struct migr_time)))
			return HV_OK;
		s->time_sent = 1;
	}
	dg.digest = XXH3_64bits(s->b.hashes, s->npages * sizeof(uint64_t));
	if (migr_link_queue(&s->link[0], MIGR_REC_DIGEST, &dg, sizeof(dg)))
		return HV_OK;
	s->phase = MIGR_SP_READY;
	s->t_wait = migr_sender_now(s);
	return HV_OK;
}

/* A called-off pause's pass has ended: B learns the VM runs here again, then the next pass begins. */
static int resumed_then_next_pass(struct migr_sender *s)
{
	if (s->resumed_owed) {
		if (migr_link_queue(&s->link[0], MIGR_REC_RESUMED, NULL, 0))
			return migr_sender_fail(s, MIGR_ERR_INTERNAL, "control queue full");
		s->resumed_owed = 0;
	}
	return next_pass(s);
}

/*
 * The pause would outlast the limit: before COMMIT the VM is still this
 * host's, so it runs again and precopy goes on, the pass underway sent live
 * (its pages are read when they go, and any the guest writes from now on
 * are logged for a later pass). B has seen the pause only if the final
 * pass began; it then gets RESUMED, after that pass's pages, and forgets
 * the state it got. The next switchover must fit by as much as this one
 * overran its estimate.
 */
static void call_off(struct migr_sender *s, uint64_t ms)
{
	uint64_t expected = s->switch_decision.expected_downtime_ms, pct;
	uint32_t phase = s->phase;

	if (s->p.vm->resume(s->p.vm_ctx) < 0) {
		(void)migr_sender_fail(s, MIGR_ERR_INTERNAL, "cannot resume the VM");
		return;
	}
	s->paused = 0;
	s->switching = 0;
	s->prog.called_off++;
	s->prog.called_off_phase = phase;
	if (ms > s->prog.called_off_ms)
		s->prog.called_off_ms = ms;
	/*
	 * It was cut short and would have run longer still. At most the target halves: a pause held up
	 * by something else than its size (the peer, the link) is no better for a far smaller one, and
	 * below the pause's fixed part (state, round trips) no switchover would ever fit.
	 */
	pct = expected && expected != UINT64_MAX ? ms * 100 / expected + 50 : MIGR_CALL_OFF_OVERRUN_MAX;
	if (pct > MIGR_CALL_OFF_OVERRUN_MAX)
		pct = MIGR_CALL_OFF_OVERRUN_MAX;
	if (pct > s->overrun_pct)
		s->overrun_pct = (uint32_t)pct;
	memset(&s->phase_at[MIGR_SP_FINAL], 0, sizeof(s->phase_at) - MIGR_SP_FINAL * sizeof(s->phase_at[0]));
	s->t_policy = migr_sender_now(s);
	if (phase == MIGR_SP_PRECOPY)
		return; /* the final pass had not begun: B never saw the pause */
	s->phase = MIGR_SP_PRECOPY;
	s->resumed_owed = 1;
	if (phase == MIGR_SP_FINAL)
		return; /* RESUMED once the pass underway has ended */
	s->stale_ready += phase == MIGR_SP_READY;
	s->state_i = s->dev_i = 0;
	s->time_sent = 0;
	(void)resumed_then_next_pass(s);
}

/*
 * Called off only while a retry is left and nobody chose a long pause: a
 * forced switchover (precopy ran out of time) accepts it, and a test's debug
 * hold stretches a phase on purpose.
 */
static void check_pause(struct migr_sender *s)
{
	uint64_t limit = migr_downtime_limit_ms(&s->cfg.limits);
	uint64_t margin = 2 * (uint64_t)s->prog.rtt_us / 1000, ms;

	if (!s->paused || s->committed || s->phase > MIGR_SP_READY || s->prog.called_off >= s->cfg.pause_retries ||
	    s->cfg.hold_phase != MIGR_HOLD_NONE || s->switch_decision.reason == MIGR_WHY_TIMEOUT_FORCE)
		return;
	if (margin < MIGR_CALL_OFF_MARGIN_MS)
		margin = MIGR_CALL_OFF_MARGIN_MS;
	ms = since_ms(s, s->t_pause);
	if (ms + margin >= limit)
		call_off(s, ms);
}

/* Pages and state phases: B speaks only to refuse; data flows. */
static int transfer(struct migr_sender *s)
{
	struct migr_rec rec;
	int rc;

	if (control_record(s, &rec))
		(void)expect(s, &rec, MIGR_REC_ERROR);
	if (s->status != MIGR_SEND_RUNNING)
		return HV_OK;
	if (s->paused)
		s->prog.remaining_bytes = s->phase == MIGR_SP_STATE ? 0 :
					  (s->pass_pages - s->pass_done_pages) * MIGR_PAGE_SIZE;
	/* A test's hold: the VM paused, nothing of the last pass sent yet (and no stall either). */
	if (s->phase == MIGR_SP_FINAL && migr_hold_wait(&s->hold, MIGR_HOLD_SWITCHOVER, &s->p.clock)) {
		s->last_bytes_t = migr_sender_now(s);
		return HV_OK;
	}
	if (s->phase == MIGR_SP_STATE)
		return send_state(s);
	/*
	 * The policy's tick comes whether or not the cap holds the pages back,
	 * and as soon as a drain it asked for is over.
	 */
	if (s->phase == MIGR_SP_PRECOPY && !s->switching &&
	    (since_ms(s, s->t_policy) >= MIGR_POLICY_PERIOD_MS || (s->draining && !queued(s)))) {
		policy(s, 0, 0);
		if (s->status != MIGR_SEND_RUNNING)
			return HV_OK;
	}
	/*
	 * The cap: no more bytes than it allows since the first one, while the
	 * guest runs. It protects the link's other traffic from a copy that may
	 * take long; once the VM is paused every millisecond is the guest's.
	 */
	if (s->cfg.limits.bandwidth_cap && s->prog.first_byte_ticks && !s->paused &&
	    bytes_sent(s) > migr_scale(migr_sender_now(s) - s->prog.first_byte_ticks, s->cfg.limits.bandwidth_cap, s->p.clock.ops->hz))
		return HV_OK;
	rc = migr_sender_pump(s);
	if (rc < 0)
		return migr_sender_fail(s, rc == HV_ERANGE ? MIGR_ERR_INTERNAL : MIGR_ERR_PROTOCOL, "%s in phase %s",
					rc == HV_ERANGE ? "cannot read guest memory" : "a data connection failed",
					phase_now(s));
	if (migr_sender_pass_complete(s)) {
		if (s->phase == MIGR_SP_FINAL)
			s->phase = MIGR_SP_STATE;
		else
			return resumed_then_next_pass(s);
	}
	return HV_OK;
}

static void handshake(struct migr_sender *s)
{
	struct migr_rec rec;

	if (s->phase == MIGR_SP_CONNECT) {
		if (s->link[0].up)
			(void)send_hello(s);
		return;
	}
	if (s->phase == MIGR_SP_DATA_CONNECT) {
		(void)data_connected(s);
		return;
	}
	if (!control_record(s, &rec))
		return;
	if (s->phase == MIGR_SP_HELLO && expect(s, &rec, MIGR_REC_HELLO))
		(void)on_hello(s, &rec);
	else if (s->phase == MIGR_SP_ACK && expect(s, &rec, MIGR_REC_ACK))
		(void)on_ack(s, &rec);
}

static int finish(struct migr_sender *s)
{
	struct migr_rec rec;
	uint32_t c;

	if (!control_record(s, &rec)) {
		/* Control ended and everything B sent before its end has been read: no answer is coming. */
		if (s->status == MIGR_SEND_RUNNING && s->link[0].failed)
			control_lost(s);
		return HV_OK;
	}
	if (s->phase == MIGR_SP_READY && expect(s, &rec, MIGR_REC_READY)) {
		if (migr_link_queue(&s->link[0], MIGR_REC_COMMIT, NULL, 0) < 0)
			return migr_sender_fail(s, MIGR_ERR_INTERNAL, "control queue full");
		/* From here on the VM is B's to run: never resumed here by this machine. */
		s->committed = 1;
		s->phase = MIGR_SP_CONFIRM;
		s->t_wait = migr_sender_now(s);
	} else if (s->phase == MIGR_SP_CONFIRM && expect(s, &rec, MIGR_REC_CONFIRM)) {
		s->prog.downtime_ms = since_ms(s, s->t_pause);
		s->prog.remaining_bytes = 0;
		s->prog.in_flight_bytes = 0;
		s->p.dirty.ops->stop(s->p.dirty.ctx);
		s->p.vm->release(s->p.vm_ctx);
		for (c = 0; c <= s->granted; c++)
			(void)migr_link_queue(&s->link[c], MIGR_REC_END, NULL, 0);
		s->phase = MIGR_SP_END;
	}
	return HV_OK;
}

static void end(struct migr_sender *s)
{
	uint32_t c;

	for (c = 0; c <= s->granted; c++)
		if (!s->link[c].failed && migr_link_flush(&s->link[c], &s->p.transport) == 0)
			return;
	for (c = 0; c <= s->granted; c++)
		s->p.transport.ops->close(s->p.transport.ctx, c);
	s->status = MIGR_SEND_DONE;
}

static void check_timeouts(struct migr_sender *s)
{
	uint64_t wait = s->cfg.reply_timeout_ms ? s->cfg.reply_timeout_ms : 30000;
	uint32_t p = s->phase;

	if (p == MIGR_SP_CONFIRM)
		wait = s->cfg.confirm_timeout_ms ? s->cfg.confirm_timeout_ms : 10000;
	if ((p <= MIGR_SP_DATA_CONNECT || p >= MIGR_SP_READY) && p != MIGR_SP_END && since_ms(s, s->t_wait) > wait)
		(void)migr_sender_fail(s, MIGR_ERR_TIMEOUT, "the destination did not answer in phase %s", phase_now(s));
	/* Paused, and the link takes nothing: before COMMIT the VM had better run here again. */
	else if ((p == MIGR_SP_FINAL || p == MIGR_SP_STATE) && since_ms(s, s->last_bytes_t) > wait)
		(void)migr_sender_fail(s, MIGR_ERR_TIMEOUT, "nothing moved on the link while paused");
}

/* What is queued on control goes out; a test's hold keeps COMMIT back for a while. */
static void flush_control(struct migr_sender *s)
{
	if (s->phase == MIGR_SP_CONFIRM && migr_hold_wait(&s->hold, MIGR_HOLD_COMMIT, &s->p.clock))
		return;
	if (migr_link_flush(&s->link[0], &s->p.transport) < 0)
		control_lost(s);
}

uint32_t migr_sender_step(struct migr_sender *s)
{
	uint32_t c;

	if (s->status != MIGR_SEND_RUNNING)
		return s->status;
	if (s->phase == MIGR_SP_END) {
		end(s);
		return s->status;
	}
	/*
	 * After COMMIT the data connections have carried all they had to: B may
	 * close them as soon as it has confirmed, and their ends may be seen here
	 * before CONFIRM is read from control. Control alone decides then.
	 */
	for (c = 0; c <= s->granted && !s->committed && s->status == MIGR_SEND_RUNNING; c++)
		if (s->link[c].failed)
			connection_lost(s, c);
	if (s->link[0].up)
		flush_control(s);
	sample(s);
	if (s->status != MIGR_SEND_RUNNING)
		return s->status;
	if (s->phase <= MIGR_SP_DATA_CONNECT)
		handshake(s);
	else if (s->phase <= MIGR_SP_STATE)
		(void)transfer(s);
	else
		(void)finish(s);
	if (s->status == MIGR_SEND_RUNNING)
		check_pause(s);
	if (s->status == MIGR_SEND_RUNNING)
		check_timeouts(s);
	if (s->status == MIGR_SEND_RUNNING)
		flush_control(s);
	if (!s->phase_at[s->phase])
		s->phase_at[s->phase] = migr_sender_now(s);
	s->prog.phase = s->phase;
	return s->status;
}
