/* The sending state machine: see sender.h and docs/migration-stream.md. */
#include <string.h>
#include "kernel/lib/err.h"
#include "kernel/lib/sorted.h"
#include "migration/sender.h"
#include "migration/sender_priv.h"
#include "migration/xxh.h"

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
	(void)migr_sender_begin_pass(s, 0);
	s->phase = MIGR_SP_PRECOPY;
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
	    (migr_sender_since_ms(s, s->t_policy) >= MIGR_POLICY_PERIOD_MS || (s->draining && !migr_sender_queued(s)))) {
		migr_sender_policy(s, 0, 0);
		if (s->status != MIGR_SEND_RUNNING)
			return HV_OK;
	}
	/*
	 * The cap: no more bytes than it allows since the first one, while the
	 * guest runs. It protects the link's other traffic from a copy that may
	 * take long; once the VM is paused every millisecond is the guest's.
	 */
	if (s->cfg.limits.bandwidth_cap && s->prog.first_byte_ticks && !s->paused &&
	    migr_sender_bytes_sent(s) > migr_scale(migr_sender_now(s) - s->prog.first_byte_ticks, s->cfg.limits.bandwidth_cap, s->p.clock.ops->hz))
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
			return migr_sender_resumed_then_next_pass(s);
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
		s->prog.downtime_ms = migr_sender_since_ms(s, s->t_pause);
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
	if ((p <= MIGR_SP_DATA_CONNECT || p >= MIGR_SP_READY) && p != MIGR_SP_END && migr_sender_since_ms(s, s->t_wait) > wait)
		(void)migr_sender_fail(s, MIGR_ERR_TIMEOUT, "the destination did not answer in phase %s", phase_now(s));
	/* Paused, and the link takes nothing: before COMMIT the VM had better run here again. */
	else if ((p == MIGR_SP_FINAL || p == MIGR_SP_STATE) && migr_sender_since_ms(s, s->last_bytes_t) > wait)
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
	migr_sender_sample(s);
	if (s->status != MIGR_SEND_RUNNING)
		return s->status;
	if (s->phase <= MIGR_SP_DATA_CONNECT)
		handshake(s);
	else if (s->phase <= MIGR_SP_STATE)
		(void)transfer(s);
	else
		(void)finish(s);
	if (s->status == MIGR_SEND_RUNNING)
		migr_sender_check_pause(s);
	if (s->status == MIGR_SEND_RUNNING)
		check_timeouts(s);
	if (s->status == MIGR_SEND_RUNNING)
		flush_control(s);
	if (!s->phase_at[s->phase])
		s->phase_at[s->phase] = migr_sender_now(s);
	s->prog.phase = s->phase;
	return s->status;
}
