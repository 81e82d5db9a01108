/* The receiving state machine: see receiver.h and docs/migration-stream.md. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "kernel/lib/err.h"
#include "migration/receiver.h"
#include "migration/prof.h"
#include "migration/xxh.h"

/* What handling a record came to. */
enum { APPLIED = 0, HOLD = 1 };

static const uint8_t zero_page[MIGR_PAGE_SIZE];

static const char *const phase_text[] = {
	[MIGR_RP_HELLO] = "hello", [MIGR_RP_AUTH] = "auth", [MIGR_RP_HEADER] = "header",
	[MIGR_RP_TRANSFER] = "transfer", [MIGR_RP_COMMIT] = "wait-commit", [MIGR_RP_START] = "start",
	[MIGR_RP_END] = "end",
};

const char *migr_recv_phase_str(uint32_t phase)
{
	return phase <= MIGR_RP_END ? phase_text[phase] : "unknown";
}

static const char *phase_now(const struct migr_receiver *r)
{
	return migr_recv_phase_str(r->phase);
}

/* Time since t on this host's clock, in units per second (1000: ms). */
static uint64_t since(const struct migr_receiver *r, uint64_t t, uint64_t units)
{
	uint64_t d = r->p.clock.ops->now(r->p.clock.ctx) - t, hz = r->p.clock.ops->hz;

	return d / hz * units + d % hz * units / hz;
}

/* Ends the migration before COMMIT: the VM is thrown away, A is told why (the words go to prog.detail too). */
static int fail(struct migr_receiver *r, uint32_t code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct migr_receiver *r, uint32_t code, const char *fmt, ...)
{
	va_list ap;
	uint32_t s;

	if (r->status != MIGR_RECV_RUNNING)
		return HV_EINVAL;
	r->prog.error = code;
	va_start(ap, fmt);
	vsnprintf(r->prog.detail, sizeof(r->prog.detail), fmt, ap);
	va_end(ap);
	if (r->created)
		r->p.vm->discard(r->p.vm_ctx);
	r->created = 0;
	if (r->link[0].up && !r->link[0].failed) {
		migr_link_queue_error(&r->link[0], code, r->prog.detail);
		(void)migr_link_flush(&r->link[0], &r->p.transport);
	}
	for (s = 0; s <= r->cfg.max_connections; s++)
		if (r->link[s].up)
			r->p.transport.ops->close(r->p.transport.ctx, s);
	r->status = MIGR_RECV_FAILED;
	return HV_EINVAL;
}

int migr_receiver_start(struct migr_receiver *r, const struct migr_receiver_cfg *cfg,
			const struct migr_receiver_ports *p, const struct migr_receiver_bufs *b)
{
	uint32_t i;

	if (!cfg->secret || cfg->max_connections == 0 || cfg->max_connections > MIGR_CONN_MAX ||
	    !b->hashes)
		return HV_EINVAL;
	for (i = 0; i < cfg->max_connections; i++)
		if (!b->data_in[i])
			return HV_EINVAL;
	memset(r, 0, sizeof(*r));
	r->cfg = *cfg;
	r->p = *p;
	r->b = *b;
	migr_hold_init(&r->hold, cfg->hold_phase, cfg->hold_ms);
	r->zero_hash = migr_page_hash(zero_page);
	migr_link_init(&r->link[0], 0, r->ctl_out, sizeof(r->ctl_out), r->ctl_in, sizeof(r->ctl_in),
		       MIGR_CONN_CONTROL, 0, MIGR_DIR_A_TO_B);
	for (i = 1; i <= cfg->max_connections; i++)
		migr_link_init(&r->link[i], i, NULL, 0, b->data_in[i - 1], MIGR_REC_MAX, MIGR_CONN_DATA,
			       MIGR_CONN_UNBOUND, MIGR_DIR_A_TO_B);
	r->t_wait = p->clock.ops->now(p->clock.ctx);
	return HV_OK;
}

void migr_receiver_link(struct migr_receiver *r, uint32_t slot, uint32_t event)
{
	if (slot > r->cfg.max_connections) {
		/* More connections than we take: refuse this one, keep going. */
		r->p.transport.ops->close(r->p.transport.ctx, slot);
		return;
	}
	if (slot > r->top)
		r->top = slot;
	if (event == MIGR_LINK_UP)
		r->link[slot].up = 1;
	else
		r->link[slot].failed = 1;
}

static int on_hello(struct migr_receiver *r, const struct migr_rec *rec)
{
	const struct migr_mac_ops *ops;
	struct migr_hello h;

	memcpy(&h, rec->body, sizeof(h));
	/* Any sound MAC the source proposes, unless the configuration names one. */
	ops = r->cfg.mac_ops ? (h.mac_alg == r->cfg.mac_ops->alg ? r->cfg.mac_ops : NULL) : migr_mac_find(h.mac_alg);
	if (h.version != MIGR_VERSION || !ops)
		return fail(r, MIGR_ERR_VERSION, "version or MAC algorithm not offered");
	r->mac.ops = ops;
	memcpy(r->nonce_a, h.nonce, sizeof(r->nonce_a));
	r->p.vm->random(r->p.vm_ctx, r->nonce_b, sizeof(r->nonce_b));
	memset(&h, 0, sizeof(h));
	h.version = MIGR_VERSION;
	h.mac_alg = ops->alg;
	memcpy(h.nonce, r->nonce_b, sizeof(h.nonce));
	migr_mac_derive(ops, r->cfg.secret, r->cfg.secret_len, "ferry B", r->nonce_a, r->nonce_b, h.proof);
	if (migr_link_queue_preamble(&r->link[0]) || migr_link_queue(&r->link[0], MIGR_REC_HELLO, &h, sizeof(h)))
		return fail(r, MIGR_ERR_INTERNAL, "control queue full");
	r->phase = MIGR_RP_AUTH;
	return APPLIED;
}

/* A's proof; from here on every record on every connection is keyed. */
static int on_auth(struct migr_receiver *r, const struct migr_rec *rec)
{
	const struct migr_mac_ops *ops = r->mac.ops;
	uint8_t proof[32], sid[32], key[MIGR_KEY_SIZE];
	uint32_t i;

	migr_mac_derive(ops, r->cfg.secret, r->cfg.secret_len, "ferry A", r->nonce_a, r->nonce_b, proof);
	if (!migr_mac_equal(proof, rec->body, sizeof(proof)))
		return fail(r, MIGR_ERR_AUTH, "the source does not hold the secret");
	migr_mac_derive(ops, r->cfg.secret, r->cfg.secret_len, "ferry key", r->nonce_a, r->nonce_b, key);
	migr_mac_set(&r->mac, ops, key);
	migr_mac_wipe(key, sizeof(key));
	migr_mac_derive(ops, r->cfg.secret, r->cfg.secret_len, "ferry sid", r->nonce_a, r->nonce_b, sid);
	memcpy(r->session_id, sid, sizeof(r->session_id));
	migr_tx_key(&r->link[0].tx, &r->mac);
	for (i = 0; i <= r->cfg.max_connections; i++)
		migr_dec_key(&r->link[i].dec, &r->mac);
	r->key_ready = 1;
	r->phase = MIGR_RP_HEADER;
	return APPLIED;
}

/*
 * Pages received in place go straight into the VM's memory, before their tag and hashes are checked:
 * any failure after that ends the migration and discards the VM (fail()), which never runs here.
 */
static uint8_t *place_pages(void *ctx, uint64_t gfn, uint32_t count)
{
	struct migr_receiver *r = ctx;

	if (!r->created || gfn >= r->npages || count > r->npages - gfn)
		return NULL; /* refused where the record is applied, as any other */
	return r->p.memory.ops->span(r->p.memory.ctx, gfn, count);
}

static int on_header(struct migr_receiver *r, const struct migr_rec *rec)
{
	struct migr_ack ack = { .type = MIGR_REC_HEADER };
	uint64_t i;

	memcpy(&r->header, rec->body, sizeof(r->header));
	r->npages = r->header.ram_bytes / MIGR_PAGE_SIZE;
	if (r->npages > r->b.npages)
		return fail(r, MIGR_ERR_RESOURCES, "the VM is larger than this host takes");
	if (r->p.vm->create(r->p.vm_ctx, rec->body) < 0)
		return fail(r, MIGR_ERR_RESOURCES, "this host cannot offer the VM's shape");
	r->created = 1;
	if (r->p.memory.ops->size(r->p.memory.ctx) != r->header.ram_bytes)
		return fail(r, MIGR_ERR_INTERNAL, "created VM has the wrong size");
	for (i = 0; i < r->npages; i++)
		r->b.hashes[i] = r->zero_hash;
	if (r->b.written)
		memset(r->b.written, 0, (r->npages + 63) / 64 * sizeof(uint64_t));
	if (r->p.memory.ops->span)
		for (i = 1; i <= r->cfg.max_connections; i++)
			migr_dec_place(&r->link[i].dec, place_pages, r);
	r->granted = r->header.connections < r->cfg.max_connections ? r->header.connections
								     : r->cfg.max_connections;
	ack.value = r->granted;
	if (migr_link_queue(&r->link[0], MIGR_REC_ACK, &ack, sizeof(ack)))
		return fail(r, MIGR_ERR_INTERNAL, "control queue full");
	r->phase = MIGR_RP_TRANSFER;
	return APPLIED;
}

static int on_pass_begin(struct migr_receiver *r, const struct migr_rec *rec)
{
	struct migr_pass_begin pb;

	if (r->pass_open)
		return HOLD; /* behind the barrier of the pass before */
	memcpy(&pb, rec->body, sizeof(pb));
	if (pb.pass != r->pass + 1 || r->pass_final || pb.pages > r->npages)
		return fail(r, MIGR_ERR_PROTOCOL, "pass out of order");
	r->pass_open = 1;
	r->pass_final = (pb.flags & MIGR_PASS_FINAL) != 0;
	r->pass_expected = pb.pages;
	r->pass_got = 0;
	if (r->pass_final)
		r->t_final = r->prog.t_final = r->p.clock.ops->now(r->p.clock.ctx);
	memset(r->conn_pages, 0, sizeof(r->conn_pages));
	return APPLIED;
}

static int on_vcpu(struct migr_receiver *r, const struct migr_rec *rec)
{
	struct migr_vcpu_state v;

	memcpy(&v, rec->body, sizeof(v));
	if (!r->pass_final || v.vcpu >= r->header.vcpus || (r->vcpus_seen >> v.vcpu) & 1)
		return fail(r, MIGR_ERR_PROTOCOL, "vCPU state out of place");
	if (r->p.vm->load_vcpu(r->p.vm_ctx, v.vcpu, rec->body + sizeof(v), rec->length - (uint32_t)sizeof(v),
			       v.count) < 0)
		return fail(r, MIGR_ERR_PROTOCOL, "vCPU state refused");
	r->vcpus_seen |= 1ull << v.vcpu;
	return APPLIED;
}

/* The last check before READY: all state here, and the digest over what was written. */
static int on_digest(struct migr_receiver *r, const struct migr_rec *rec)
{
	struct migr_digest d;
	uint64_t all = r->header.vcpus == 64 ? ~0ull : (1ull << r->header.vcpus) - 1;

	if (r->pass_final && !r->final_done)
		return HOLD;
	memcpy(&d, rec->body, sizeof(d));
	if (!r->final_done || r->vcpus_seen != all || !r->time_seen || d.pages != r->npages)
		return fail(r, MIGR_ERR_PROTOCOL, "digest before all state");
	/* A test's hold: everything in, READY not sent yet. */
	if (migr_hold_wait(&r->hold, MIGR_HOLD_READY, &r->p.clock))
		return HOLD;
	if (d.digest != XXH3_64bits(r->b.hashes, r->npages * sizeof(uint64_t)))
		return fail(r, MIGR_ERR_INTEGRITY, "memory digest differs");
	if (migr_link_queue(&r->link[0], MIGR_REC_READY, NULL, 0))
		return fail(r, MIGR_ERR_INTERNAL, "control queue full");
	r->phase = MIGR_RP_COMMIT;
	r->t_wait = r->prog.t_ready = r->p.clock.ops->now(r->p.clock.ctx);
	return APPLIED;
}

/*
 * The source called its pause off before COMMIT and runs the VM again: the
 * state it sent is stale and the pass it called final was an ordinary one.
 * Nothing here ran, so forgetting that state is all it takes; the next
 * final pass brings it all again. RESUMED follows the called-off pass's
 * PASS_BEGIN on control, so it waits for that pass's pages like DIGEST does.
 */
static int on_resumed(struct migr_receiver *r)
{
	if (!r->pass_final)
		return fail(r, MIGR_ERR_PROTOCOL, "RESUMED without a switchover");
	if (!r->final_done)
		return HOLD;
	r->p.vm->drop_state(r->p.vm_ctx);
	r->pass_final = r->final_done = 0;
	r->vcpus_seen = 0;
	r->time_seen = 0;
	r->phase = MIGR_RP_TRANSFER;
	r->t_wait = r->p.clock.ops->now(r->p.clock.ctx);
	r->prog.t_final = r->prog.t_pages = r->prog.t_ready = 0;
	r->prog.called_off++;
	return APPLIED;
}

/* After COMMIT: start the VM and confirm, once a test's hold lets go. */
static void start_vm(struct migr_receiver *r)
{
	if (migr_hold_wait(&r->hold, MIGR_HOLD_START, &r->p.clock))
		return;
	r->prog.t_commit = r->p.clock.ops->now(r->p.clock.ctx);
	if (r->p.vm->start(r->p.vm_ctx, since(r, r->t_final, 1000000000)) < 0) {
		(void)fail(r, MIGR_ERR_INTERNAL, "the VM does not start");
		return;
	}
	r->created = 0; /* it runs: never discarded from here on */
	(void)migr_link_queue(&r->link[0], MIGR_REC_CONFIRM, NULL, 0);
	r->prog.downtime_ms = since(r, r->t_final, 1000);
	r->phase = MIGR_RP_END;
}

/* The source gave up and said why: its words end the migration here. */
static int peer_error(struct migr_receiver *r, uint32_t slot, const struct migr_rec *rec)
{
	char peer[MIGR_DETAIL_MAX];

	r->prog.peer_error = migr_link_peer_error(rec, peer, sizeof(peer));
	return fail(r, MIGR_ERR_PROTOCOL, "ERROR from the source on connection %u in phase %s: %.120s", slot,
		    phase_now(r), peer);
}

static int control(struct migr_receiver *r, const struct migr_rec *rec)
{
	if (rec->type == MIGR_REC_ERROR)
		return peer_error(r, 0, rec);
	switch (r->phase) {
	case MIGR_RP_HELLO:
		if (rec->type == MIGR_REC_HELLO)
			return on_hello(r, rec);
		break;
	case MIGR_RP_AUTH:
		if (rec->type == MIGR_REC_AUTH)
			return on_auth(r, rec);
		break;
	case MIGR_RP_HEADER:
		if (rec->type == MIGR_REC_HEADER)
			return on_header(r, rec);
		break;
	case MIGR_RP_TRANSFER:
		switch (rec->type) {
		case MIGR_REC_PASS_BEGIN:
			return on_pass_begin(r, rec);
		case MIGR_REC_VCPU_STATE:
			return on_vcpu(r, rec);
		case MIGR_REC_DEVICE_STATE:
			if (!r->pass_final || r->p.vm->load_device(r->p.vm_ctx, rec->body, rec->length) < 0)
				return fail(r, MIGR_ERR_PROTOCOL, "device state refused");
			return APPLIED;
		case MIGR_REC_TIME:
			if (!r->pass_final || r->time_seen || r->p.vm->load_time(r->p.vm_ctx, rec->body) < 0)
				return fail(r, MIGR_ERR_PROTOCOL, "time refused");
			r->time_seen = 1;
			return APPLIED;
		case MIGR_REC_DIGEST:
			return on_digest(r, rec);
		case MIGR_REC_RESUMED:
			return on_resumed(r);
		}
		break;
	case MIGR_RP_COMMIT:
		if (rec->type == MIGR_REC_COMMIT) {
			r->phase = MIGR_RP_START;
			return APPLIED;
		}
		if (rec->type == MIGR_REC_RESUMED)
			return on_resumed(r);
		break;
	case MIGR_RP_END:
		if (rec->type == MIGR_REC_END)
			return APPLIED;
		break;
	}
	return fail(r, MIGR_ERR_PROTOCOL, "unexpected %s record on control in phase %s", migr_rec_type_str(rec->type),
		    phase_now(r));
}

/* Pages belong to the open pass; a pass not yet begun on control waits. */
static int pass_check(struct migr_receiver *r, uint32_t pass)
{
	if (pass == r->pass + 1 && !r->pass_open)
		return HOLD;
	if (pass != r->pass + 1)
		return fail(r, MIGR_ERR_PROTOCOL, "pages of another pass");
	return APPLIED;
}

/* A pass takes no more pages than its PASS_BEGIN announced. */
static int pass_room(struct migr_receiver *r, uint32_t count)
{
	if (r->pass_got + count > r->pass_expected)
		return fail(r, MIGR_ERR_PROTOCOL, "more pages than the pass announced");
	return APPLIED;
}

static void mark_written(struct migr_receiver *r, uint64_t gfn)
{
	if (r->b.written)
		r->b.written[gfn / 64] |= 1ull << (gfn % 64);
}

/*
 * After the first pass: every page it did not write is zeroed, so that the
 * VM never sees what its memory held before (the memory was not zeroed at
 * creation). A sound sender's first pass writes them all, and this only
 * reads the bitmap.
 */
static int fill_unwritten(struct migr_receiver *r)
{
	uint64_t gfn, w;

	if (!r->b.written)
		return HV_OK;
	for (w = 0; w * 64 < r->npages; w++) {
		if (r->b.written[w] == ~0ull)
			continue;
		for (gfn = w * 64; gfn < (w + 1) * 64 && gfn < r->npages; gfn++) {
			if ((r->b.written[w] >> (gfn % 64)) & 1)
				continue;
			if (r->p.memory.ops->write_page(r->p.memory.ctx, gfn, zero_page) < 0)
				return fail(r, MIGR_ERR_RANGE, "guest memory refused a page");
			mark_written(r, gfn);
			r->prog.pages_filled++;
		}
	}
	return HV_OK;
}

static void count_pages(struct migr_receiver *r, uint32_t index, uint32_t count)
{
	r->conn_pages[index] += count;
	r->pass_got += count;
}

/* decode-then-invoke: range and every hash first, then the writes. */
static int on_pages(struct migr_receiver *r, uint32_t index, const struct migr_rec *rec)
{
	struct migr_page_run v;
	uint32_t i;
	uint64_t t0;
	int rc;

	migr_view_page_data(rec, &v);
	rc = pass_check(r, v.pass);
	if (rc)
		return rc;
	if (v.gfn >= r->npages || v.count > r->npages - v.gfn)
		return fail(r, MIGR_ERR_RANGE, "pages outside the VM");
	if (pass_room(r, v.count))
		return HV_EINVAL;
	t0 = migr_prof_begin();
	for (i = 0; i < v.count; i++)
		if (migr_page_hash(v.data + (size_t)i * MIGR_PAGE_SIZE) != migr_get_u64(v.hashes + (size_t)i * 8))
			return fail(r, MIGR_ERR_INTEGRITY, "page hash differs");
	migr_prof_end(MIGR_PROF_HASH, t0, (uint64_t)v.count * MIGR_PAGE_SIZE);
	t0 = migr_prof_begin();
	for (i = 0; i < v.count; i++) {
		if (!rec->pages &&
		    r->p.memory.ops->write_page(r->p.memory.ctx, v.gfn + i, v.data + (size_t)i * MIGR_PAGE_SIZE) < 0)
			return fail(r, MIGR_ERR_RANGE, "guest memory refused a page");
		r->b.hashes[v.gfn + i] = migr_get_u64(v.hashes + (size_t)i * 8);
		mark_written(r, v.gfn + i);
	}
	migr_prof_end(MIGR_PROF_WRITE, t0, (uint64_t)v.count * MIGR_PAGE_SIZE);
	count_pages(r, index, v.count);
	r->prog.last_page_ticks = r->p.clock.ops->now(r->p.clock.ctx);
	if (!r->prog.first_page_ticks)
		r->prog.first_page_ticks = r->prog.last_page_ticks;
	r->prog.pages_written += v.count;
	return APPLIED;
}

static int on_zero(struct migr_receiver *r, uint32_t index, const struct migr_rec *rec)
{
	struct migr_zero_pages z;
	const uint8_t *gfns = rec->body + sizeof(z);
	uint32_t i;
	int rc;

	memcpy(&z, rec->body, sizeof(z));
	rc = pass_check(r, z.pass);
	if (rc)
		return rc;
	for (i = 0; i < z.count; i++)
		if (migr_get_u64(gfns + (size_t)i * 8) >= r->npages)
			return fail(r, MIGR_ERR_RANGE, "zero page outside the VM");
	if (pass_room(r, z.count))
		return HV_EINVAL;
	for (i = 0; i < z.count; i++) {
		uint64_t gfn = migr_get_u64(gfns + (size_t)i * 8);

		if (r->p.memory.ops->write_page(r->p.memory.ctx, gfn, zero_page) < 0)
			return fail(r, MIGR_ERR_RANGE, "guest memory refused a page");
		r->b.hashes[gfn] = r->zero_hash;
		mark_written(r, gfn);
	}
	count_pages(r, index, z.count);
	r->prog.zero_pages += z.count;
	return APPLIED;
}

static int on_bind(struct migr_receiver *r, uint32_t slot, const struct migr_rec *rec)
{
	struct migr_conn_bind b;

	memcpy(&b, rec->body, sizeof(b));
	if (!migr_mac_equal(b.session_id, r->session_id, sizeof(b.session_id)) || b.index > r->granted ||
	    r->index_slot[b.index])
		return fail(r, MIGR_ERR_PROTOCOL, "bad connection binding");
	r->slot_index[slot] = (uint8_t)b.index;
	r->index_slot[b.index] = (uint8_t)slot;
	return APPLIED;
}

static int data(struct migr_receiver *r, uint32_t slot, const struct migr_rec *rec)
{
	uint32_t index = r->slot_index[slot];
	struct migr_pass_end pe;
	int rc;

	if (rec->type == MIGR_REC_ERROR)
		return peer_error(r, slot, rec);
	if (!index)
		return rec->type == MIGR_REC_CONN_BIND ? on_bind(r, slot, rec)
						       : fail(r, MIGR_ERR_PROTOCOL, "%s record on connection %u before its "
							      "binding", migr_rec_type_str(rec->type), slot);
	switch (rec->type) {
	case MIGR_REC_PAGE_DATA:
		return on_pages(r, index, rec);
	case MIGR_REC_ZERO_PAGES:
		return on_zero(r, index, rec);
	case MIGR_REC_PASS_END:
		memcpy(&pe, rec->body, sizeof(pe));
		rc = pass_check(r, pe.pass);
		if (rc)
			return rc;
		if (pe.pages != r->conn_pages[index])
			return fail(r, MIGR_ERR_PROTOCOL, "pass page count differs");
		r->at_barrier[index] = 1;
		return APPLIED;
	case MIGR_REC_END:
		return APPLIED;
	}
	return fail(r, MIGR_ERR_PROTOCOL, "unexpected %s record on data connection %u in phase %s",
		    migr_rec_type_str(rec->type), index, phase_now(r));
}

/* The barrier: a pass is complete when every data connection ended it and the pages add up. */
static void pass_barrier(struct migr_receiver *r)
{
	uint32_t i;

	if (!r->pass_open)
		return;
	for (i = 1; i <= r->granted; i++)
		if (!r->at_barrier[i])
			return;
	if (r->pass_got != r->pass_expected) {
		(void)fail(r, MIGR_ERR_PROTOCOL, "pass lost pages");
		return;
	}
	memset(r->at_barrier, 0, sizeof(r->at_barrier));
	r->pass_open = 0;
	r->pass++;
	r->prog.pass = r->pass;
	if (r->pass == 1 && fill_unwritten(r))
		return;
	if (r->pass_final) {
		r->final_done = 1;
		r->prog.t_pages = r->p.clock.ops->now(r->p.clock.ctx);
	}
}

/* Reads and applies records on one connection until it has nothing, or must wait. */
static void serve(struct migr_receiver *r, uint32_t slot)
{
	struct migr_link *l = &r->link[slot];
	int rc;

	while (r->status == MIGR_RECV_RUNNING && l->up && !l->failed) {
		if (slot && (!r->key_ready || r->phase < MIGR_RP_TRANSFER))
			return; /* data waits for the header */
		if (slot && r->slot_index[slot] && r->at_barrier[r->slot_index[slot]])
			return;
		/* Past the step's time, data waits for the next step (the first record always goes); control does not. */
		if (slot && r->step_records && since(r, r->t_step, 1000000) >= MIGR_RECV_STEP_US)
			return;
		rc = migr_link_poll(l, &r->p.transport);
		if (rc < 0) {
			if (l->failed)
				(void)fail(r, MIGR_ERR_PROTOCOL, "connection %u lost in phase %s", slot, phase_now(r));
			else
				(void)fail(r, l->dec.why, "bad record (type %s) on connection %u in phase %s",
					   migr_rec_type_str(l->dec.type), slot, phase_now(r));
			return;
		}
		if (rc == 0)
			return;
		r->t_wait = r->p.clock.ops->now(r->p.clock.ctx);
		rc = slot ? data(r, slot, &l->pend) : control(r, &l->pend);
		if (rc == HOLD)
			return;
		l->has_pend = 0;
		if (slot) {
			pass_barrier(r);
			r->step_records++;
		}
	}
}

/*
 * While pages flow, A learns every MIGR_PROGRESS_MS or MIGR_PROGRESS_BYTES,
 * whichever comes first, what B has read: the
 * bytes between its sends and B's reads (socket buffers, relays, the
 * receive window) are a part of the pause A cannot see from its own
 * queues. Optional on the wire: a source that predates it skips it.
 */
static void report_progress(struct migr_receiver *r)
{
	struct migr_progress pr = { 0 };
	uint64_t now = r->p.clock.ops->now(r->p.clock.ctx);
	uint32_t s;

	if (r->phase != MIGR_RP_TRANSFER)
		return;
	for (s = 1; s <= r->top; s++)
		pr.data_bytes += r->link[s].bytes_in;
	if (pr.data_bytes == r->reported ||
	    (pr.data_bytes - r->reported < MIGR_PROGRESS_BYTES && r->t_report &&
	     since(r, r->t_report, 1000) < MIGR_PROGRESS_MS))
		return;
	if (migr_link_queue(&r->link[0], MIGR_REC_PROGRESS | MIGR_OPTIONAL, &pr, sizeof(pr)))
		return; /* control is full: the next step tells */
	r->reported = pr.data_bytes;
	r->t_report = now;
}

uint32_t migr_receiver_step(struct migr_receiver *r)
{
	uint64_t timeout;
	uint32_t s;

	if (r->status != MIGR_RECV_RUNNING)
		return r->status;
	r->t_step = r->p.clock.ops->now(r->p.clock.ctx);
	r->step_records = 0;
	for (s = 0; s <= r->top && r->status == MIGR_RECV_RUNNING; s++) {
		if (!r->link[s].failed || r->phase >= MIGR_RP_START)
			continue;
		serve(r, 0); /* an ERROR the source sent before it closed says why better than the loss does */
		if (r->phase < MIGR_RP_START)
			(void)fail(r, MIGR_ERR_PROTOCOL, "connection %u lost in phase %s", s, phase_now(r));
	}
	/* Each step starts one connection further: a step's time bound does not favour the first. */
	for (s = 0; s < r->cfg.max_connections; s++) {
		uint32_t slot = 1 + (r->rr + s) % r->cfg.max_connections;

		if (slot <= r->top) /* no link above it: nothing to serve */
			serve(r, slot);
	}
	r->rr++;
	serve(r, 0);
	pass_barrier(r);
	if (r->status != MIGR_RECV_RUNNING)
		return r->status;
	if (r->phase == MIGR_RP_START)
		start_vm(r);
	if (r->status != MIGR_RECV_RUNNING)
		return r->status;
	report_progress(r);
	if (migr_link_flush(&r->link[0], &r->p.transport) < 0 && r->phase < MIGR_RP_START) {
		(void)fail(r, MIGR_ERR_PROTOCOL, "control connection lost in phase %s", phase_now(r));
		return r->status;
	}
	/* CONFIRM out, or no way to send it: the VM runs here either way. */
	if (r->phase == MIGR_RP_END && (r->link[0].out_off == r->link[0].out_len || r->link[0].failed))
		r->status = MIGR_RECV_DONE;
	timeout = r->phase == MIGR_RP_COMMIT ? (r->cfg.commit_timeout_ms ? r->cfg.commit_timeout_ms : 10000)
					     : (r->cfg.idle_timeout_ms ? r->cfg.idle_timeout_ms : 30000);
	if (r->status == MIGR_RECV_RUNNING && r->phase < MIGR_RP_START && since(r, r->t_wait, 1000) > timeout)
		(void)fail(r, MIGR_ERR_TIMEOUT, "the source went silent in phase %s", phase_now(r));
	r->prog.phase = r->phase;
	return r->status;
}
