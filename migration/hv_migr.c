/* Live migration on this host: the task that drives the sender or the receiver (migration/hv_migr.h). */
#include "migration/hv_migr.h"

#include <string.h>
#include "kernel/arch/x86/frames.h"
#include "kernel/arch/x86/time.h"
#include "kernel/lib/err.h"
#include "kernel/lib/log.h"
#include "kernel/sched_loop.h"
#include "kernel/task.h"
#include "kernel/vmm/vm.h"
#include "migration/hv_ports.h"
#include "migration/hv_vcpu.h"
#include "migration/hv_prof.h"
#include "migration/prof.h"
#include "migration/receiver.h"
#include "migration/sender.h"
#include "migration/transport_lwip.h"
#include "net/net.h"

#define MH_POLL_US 1000u          /* between steps while waiting for the network */
#define MH_PROGRESS_US 1000000u   /* a console line per second */
#define MH_ALIGN(n) (((n) + 4095u) & ~(uint64_t)4095u)

static struct {
	struct migr_hv_params p;
	struct host_task task;
	struct vm *vm;                /* the VM on this host now */
	uint32_t role, state;
	bool rcv_started;
	bool rcv_vm_turn;             /* the received VM has had its first turn before the receive's report */
	struct migr_hv_recv_req recv_req;
	uint32_t connections;
	uint64_t recv_pages;          /* receiving: the largest VM the buffers hold hashes for */
	uint64_t attempts;
	struct migr_hv_vm hv;
	struct migr_lwip tr;
	struct migr_sender snd;
	struct migr_receiver rcv;
	uint64_t buf, buf_size;       /* frames holding the state machine's buffers */
	uint64_t next_progress;
	uint32_t error, peer_error;   /* of the last migration that ended */
	uint64_t started_at;
	uint64_t cpu_at_start, idle_at_start; /* the task's runtime and the host's idle time when it started */
	bool polling;                 /* this host's CPU polls rather than halts (sched_loop_poll) */
} mh;

static const char *const mh_state_names[] = {
	[MIGR_HV_IDLE] = "idle", [MIGR_HV_LISTENING] = "listening", [MIGR_HV_RUNNING] = "running",
	[MIGR_HV_DONE] = "done", [MIGR_HV_FAILED] = "failed",
	[MIGR_HV_COMMITTED_UNCONFIRMED] = "committed-unconfirmed",
};
static const char *const mh_role_names[] = { [MIGR_HV_NONE] = "none", [MIGR_HV_SEND] = "send",
					     [MIGR_HV_RECEIVE] = "receive" };

const char *migr_hv_state_str(uint32_t state)
{
	return state < sizeof(mh_state_names) / sizeof(mh_state_names[0]) ? mh_state_names[state] : "unknown";
}

const char *migr_hv_role_str(uint32_t role)
{
	return role < sizeof(mh_role_names) / sizeof(mh_role_names[0]) ? mh_role_names[role] : "unknown";
}

struct vm *migr_hv_vm(void) { return mh.vm; }

static uint64_t mh_ms(uint64_t ticks) { return time_ticks_to_us(ticks) / 1000; }

/* What a migration cost this host: the task's CPU per byte moved, and how long the host had nothing to do. */
static void mh_log_cost(uint64_t bytes)
{
	uint64_t cpu = mh.task.se.runtime - mh.cpu_at_start, idle = mh.p.sched->idle_ticks - mh.idle_at_start;

	log_info("migr", "cost: the migration task ran %llu ms (%llu ticks per byte), the host idled %llu ms of %llu ms",
		 (unsigned long long)mh_ms(cpu), (unsigned long long)(bytes ? cpu / bytes : 0),
		 (unsigned long long)mh_ms(idle), (unsigned long long)mh_ms(time_now() - mh.started_at));
}

/*
 * A migration runs: the CPU polls rather than halts until it ends. Its
 * pause waits on round trips, and in Bochs a halted CPU's clock skips
 * ahead to its next timer while the peer's does not (docs/migration-policy.md).
 */
static void mh_cost_start(void)
{
	mh.cpu_at_start = mh.task.se.runtime;
	mh.idle_at_start = mh.p.sched->idle_ticks;
	if (!mh.polling)
		sched_loop_poll(true);
	mh.polling = true;
}

static void mh_poll_end(void)
{
	if (mh.polling)
		sched_loop_poll(false);
	mh.polling = false;
}

static void mh_vm_changed(void *ctx, struct vm *vm)
{
	(void)ctx;
	mh.vm = vm;
	if (mh.p.vm_changed)
		mh.p.vm_changed(mh.p.ctx, vm);
}

static void mh_buffers_free(void)
{
	if (mh.buf && frames_free(mh.buf, mh.buf_size))
		log_err("migr", "buffers at %#llx not given back", (unsigned long long)mh.buf);
	mh.buf = 0;
	mh.buf_size = 0;
}

/* zeroed: the caller reads what it has not written; else they come as their last owner left them. */
static uint8_t *mh_buffers_take(uint64_t size, bool zeroed)
{
	mh.buf_size = MH_ALIGN(size);
	mh.buf = zeroed ? frames_alloc(mh.buf_size, 4096) : frames_alloc_unzeroed(mh.buf_size, 4096);
	return (uint8_t *)(uintptr_t)mh.buf;
}

static int mh_receiver_start(void);

static void mh_event(void *owner, uint32_t conn, uint32_t event)
{
	(void)owner;
	if (mh.role == MIGR_HV_SEND && mh.state == MIGR_HV_RUNNING) {
		migr_sender_link(&mh.snd, conn, event);
		return;
	}
	if (mh.role != MIGR_HV_RECEIVE || mh.state != MIGR_HV_LISTENING)
		return;
	/* The first connection of an attempt starts the receiver: its timeouts count from here. */
	if (!mh.rcv_started && event == MIGR_LINK_UP) {
		if (mh_receiver_start()) {
			mh_poll_end();
			log_err("migr", "receiver not started");
			return;
		}
		mh.rcv_started = true;
		mh.rcv_vm_turn = false;
	}
	if (mh.rcv_started)
		migr_receiver_link(&mh.rcv, conn, event);
}

/* A debug hold is for tests: the console says when one is on. */
static void mh_log_hold(uint32_t phase, uint64_t ms)
{
	static const char *const names[MIGR_HOLD_PHASES] = {
		[MIGR_HOLD_SWITCHOVER] = "switchover", [MIGR_HOLD_COMMIT] = "commit",
		[MIGR_HOLD_READY] = "ready", [MIGR_HOLD_START] = "start",
	};

	if (phase != MIGR_HOLD_NONE && phase < MIGR_HOLD_PHASES)
		log_info("migr", "debug hold: phase %s held open for %llu ms", names[phase], (unsigned long long)ms);
}

/* ---- sending ---- */

static void mh_send_ended(uint32_t st)
{
	const struct migr_send_progress *g = &mh.snd.prog;

	migr_hv_prof_report(mh.p.sched, "send", &mh);
	mh.error = g->error;
	mh.peer_error = g->peer_error;
	if (st == MIGR_SEND_DONE) {
		const uint64_t *at = mh.snd.phase_at, p0 = mh.snd.t_pause, now = time_now();

		mh.state = MIGR_HV_DONE;
		/* Where the downtime went, on this clock: the last pages, the state, B's check, B's start. */
		log_info("migr", "switchover: expected %llu ms; from the pause: final pass of %llu pages at %llu ms, "
			 "its pages handed over %llu ms, state %llu ms, READY %llu ms, CONFIRM %llu ms",
			 (unsigned long long)g->expected_downtime_ms, (unsigned long long)mh.snd.pass_pages,
			 (unsigned long long)mh_ms(at[MIGR_SP_FINAL] - p0), (unsigned long long)mh_ms(at[MIGR_SP_STATE] - p0),
			 (unsigned long long)mh_ms(at[MIGR_SP_READY] - p0), (unsigned long long)mh_ms(at[MIGR_SP_CONFIRM] - p0),
			 (unsigned long long)mh_ms(now - p0));
		log_info("migr", "switchover: decided on %llu bytes left, %llu queued, %llu of state, %llu B/s "
			 "(the pause's: %llu), round trip %u us, harvest %llu us",
			 (unsigned long long)mh.snd.switch_stats.remaining_bytes,
			 (unsigned long long)mh.snd.switch_stats.queued_bytes,
			 (unsigned long long)mh.snd.switch_stats.state_bytes,
			 (unsigned long long)mh.snd.switch_stats.bandwidth,
			 (unsigned long long)mh.snd.switch_decision.pause_bandwidth, mh.snd.switch_stats.rtt_us,
			 (unsigned long long)mh.snd.switch_stats.harvest_us);
		log_info("migr", "switchover: the guest's TSC stood at %llu at the pause",
			 (unsigned long long)mh.hv.tsc_at_pause);
		for (unsigned i = 0; i < mh.snd.cfg.vcpus && i < HV_MAX_VCPUS; i++)
			log_info("migr", "switchover: vcpu%u last left its guest %llu us before the pause", i,
				 (unsigned long long)mh.hv.lapse_us[i]);
		log_info("migr", "send done: the VM runs on the destination; downtime %llu ms, %u passes, %llu bytes "
			 "sent, %llu pages, %llu zero pages, peak throttle %u%%, %llu ms in all",
			 (unsigned long long)g->downtime_ms, g->pass, (unsigned long long)g->bytes_sent,
			 (unsigned long long)g->pages_sent, (unsigned long long)g->zero_pages, g->peak_throttle_pct,
			 (unsigned long long)mh_ms(time_now() - mh.started_at));
		mh_log_cost(g->bytes_sent);
	} else if (st == MIGR_SEND_COMMITTED_UNCONFIRMED) {
		mh.state = MIGR_HV_COMMITTED_UNCONFIRMED;
		log_warn("migr", "send: COMMIT sent and no confirmation (%s: %s): the paused VM is kept; resolve it with "
			 "vm.migration-resolve after asking the destination", migr_error_str(g->error), g->detail);
	} else {
		mh.state = MIGR_HV_FAILED;
		log_warn("migr", "send failed: %s%s%s (%s); the VM runs here", migr_error_str(g->error),
			 g->peer_error ? ", destination said: " : "", g->peer_error ? migr_error_str(g->peer_error) : "",
			 g->detail);
	}
	migr_lwip_shutdown(&mh.tr);
	mh_buffers_free();
	mh_poll_end();
}

/* What the pause sends besides pages: every vCPU, the UART, the time, the digest, the final pass's marks. */
static uint64_t mh_state_bytes(uint32_t vcpus)
{
	return vcpus * MIGR_REC_SIZE(sizeof(struct migr_vcpu_state) + MIGR_HV_VCPU_BYTES) +
	       MIGR_REC_SIZE(sizeof(struct migr_device_state) + sizeof(struct migr_uart16550)) +
	       MIGR_REC_SIZE(sizeof(struct migr_time)) + MIGR_REC_SIZE(sizeof(struct migr_digest)) +
	       MIGR_REC_SIZE(sizeof(struct migr_pass_begin)) + MIGR_CONN_MAX * MIGR_REC_SIZE(sizeof(struct migr_pass_end));
}

int migr_hv_send(const struct migr_hv_send_req *req)
{
	struct vm *vm = mh.vm;
	struct migr_sender_cfg cfg = { 0 };
	struct migr_sender_ports ports;
	struct migr_sender_bufs b = { 0 };
	uint64_t npages, bitmap_bytes, hash_bytes;
	uint8_t *m;
	int rc;

	if (!mh.p.secret || !mh.p.secret[0])
		return HV_ENOTSUP;
	if (mh.state == MIGR_HV_RUNNING || mh.state == MIGR_HV_LISTENING || mh.state == MIGR_HV_COMMITTED_UNCONFIRMED)
		return HV_EBUSY;
	if (!vm || vm->state != VM_RUNNING || vm->paused)
		return HV_ENOENT;
	npages = vm->ram_size / MIGR_PAGE_SIZE;
	bitmap_bytes = (npages + 63) / 64 * 8;
	hash_bytes = npages * 8;
	b.window = req->connections * 2 < MIGR_CONN_MAX ? req->connections * 2 : MIGR_CONN_MAX;
	b.chunk_size = MIGR_PAD8(MIGR_SEND_CHUNK_MIN);
	m = mh_buffers_take(bitmap_bytes + hash_bytes + b.window * b.chunk_size, true);
	if (!m)
		return HV_ENOMEM;
	b.bitmap = (uint64_t *)m;
	b.hashes = (uint64_t *)(m + bitmap_bytes);
	b.chunks = m + bitmap_bytes + hash_bytes;
	b.npages = npages;

	cfg.limits = (struct migr_limits){ .downtime_ms = req->downtime_ms, .bandwidth_cap = req->bandwidth,
					   .max_throttle_pct = req->max_throttle, .max_precopy_ms = req->timeout_ms,
					   .on_timeout = req->abort_on_timeout ? MIGR_TIMEOUT_ABORT : MIGR_TIMEOUT_FORCE };
	cfg.connections = req->connections;
	memcpy(cfg.uuid, vm->uuid, sizeof(cfg.uuid));
	cfg.vcpus = vm->vcpu_count;
	cfg.cpu_features = migr_hv_cpu_features();
	cfg.tsc_hz = time_tsc_hz();
	cfg.secret = (const uint8_t *)mh.p.secret;
	cfg.secret_len = strlen(mh.p.secret);
	cfg.mac_ops = mh.p.mac ? mh.p.mac : migr_mac_find(MIGR_MAC_DEFAULT);
	cfg.confirm_timeout_ms = req->confirm_timeout_ms;
	cfg.reply_timeout_ms = req->reply_timeout_ms;
	cfg.pause_retries = req->pause_retries;
	cfg.hold_phase = req->hold_phase;
	cfg.hold_ms = req->hold_ms;
	cfg.state_bytes = mh_state_bytes(vm->vcpu_count);

	mh.hv = (struct migr_hv_vm){ .vm = vm, .store = mh.p.store, .sched = mh.p.sched,
				     .throttle_max = vm->throttle.max_pct, .vm_changed = mh_vm_changed };
	migr_lwip_init_client(&mh.tr, net_migr_netif(), req->ip, req->port, mh_event, NULL);
	ports = (struct migr_sender_ports){
		{ &migr_lwip_ops, &mh.tr }, { &migr_hv_memory_ops, &mh.hv }, { &migr_hv_dirty_ops, &mh.hv },
		{ &migr_hv_throttle_ops, &mh.hv }, { &migr_hv_clock_ops, NULL }, &migr_hv_source_ops, &mh.hv,
	};
	mh.role = MIGR_HV_SEND;
	mh.state = MIGR_HV_RUNNING;
	rc = migr_sender_start(&mh.snd, &cfg, &ports, &b);
	if (rc) {
		mh.state = MIGR_HV_FAILED;
		migr_lwip_shutdown(&mh.tr);
		mh_buffers_free();
		return rc;
	}
	mh.connections = req->connections;
	mh.attempts++;
	mh.error = mh.peer_error = 0;
	mh.started_at = time_now();
	mh_cost_start();
	mh.next_progress = mh.started_at + time_us_to_ticks(MH_PROGRESS_US);
	migr_hv_prof_begin(mh.p.sched, &mh);
	log_info("migr", "send: to %u.%u.%u.%u:%u, %u connections, downtime limit %u ms, %llu MiB of RAM, record MAC %s",
		 req->ip >> 24, req->ip >> 16 & 0xff, req->ip >> 8 & 0xff, req->ip & 0xff, req->port,
		 req->connections, req->downtime_ms, (unsigned long long)(vm->ram_size >> 20), cfg.mac_ops->name);
	mh_log_hold(req->hold_phase, req->hold_ms);
	sched_wake(&mh.task.se);
	return HV_OK;
}

/* ---- receiving ---- */

static int mh_receiver_start(void)
{
	struct migr_receiver_cfg cfg = {
		.secret = (const uint8_t *)mh.p.secret,
		.secret_len = strlen(mh.p.secret),
		.mac_ops = NULL, /* whichever sound MAC the source proposes */
		.max_connections = mh.connections,
		.commit_timeout_ms = mh.recv_req.commit_timeout_ms,
		.idle_timeout_ms = mh.recv_req.idle_timeout_ms,
		.hold_phase = mh.recv_req.hold_phase,
		.hold_ms = mh.recv_req.hold_ms,
	};
	struct migr_receiver_ports ports = {
		{ &migr_lwip_ops, &mh.tr }, { &migr_hv_memory_ops, &mh.hv }, { &migr_hv_clock_ops, NULL },
		&migr_hv_dest_ops, &mh.hv,
	};
	struct migr_receiver_bufs b = { { 0 }, NULL, 0, NULL };
	uint8_t *m = (uint8_t *)(uintptr_t)mh.buf;
	uint64_t data = (uint64_t)mh.connections * MIGR_PAD8(MIGR_REC_MAX);
	uint32_t i;

	for (i = 0; i < mh.connections; i++)
		b.data_in[i] = m + i * MIGR_PAD8(MIGR_REC_MAX);
	b.hashes = (uint64_t *)(m + data);
	b.npages = mh.recv_pages;
	b.written = (uint64_t *)(m + data + mh.recv_pages * 8);
	mh.hv = (struct migr_hv_vm){ .store = mh.p.store, .sched = mh.p.sched, .vm_changed = mh_vm_changed };
	mh.attempts++;
	mh.started_at = time_now();
	mh_cost_start();
	mh.next_progress = mh.started_at + time_us_to_ticks(MH_PROGRESS_US);
	migr_hv_prof_begin(mh.p.sched, &mh);
	return migr_receiver_start(&mh.rcv, &cfg, &ports, &b);
}

int migr_hv_receive(const struct migr_hv_recv_req *req)
{
	uint32_t connections = req->connections;
	uint64_t data = (uint64_t)connections * MIGR_PAD8(MIGR_REC_MAX), free, pages;
	int rc;

	if (!mh.p.secret || !mh.p.secret[0])
		return HV_ENOTSUP;
	if (mh.state == MIGR_HV_RUNNING || mh.state == MIGR_HV_LISTENING || mh.state == MIGR_HV_COMMITTED_UNCONFIRMED ||
	    mh.vm)
		return HV_EBUSY;
	/* Page hashes and written bits for the largest VM this host's free memory could hold. */
	free = frames_free_bytes();
	if (free < data + (8u << 20))
		return HV_ENOMEM;
	pages = (free - data) * 64 / (64 * (MIGR_PAGE_SIZE + 8) + 8);
	/*
	 * Not zeroed: sized for the largest VM this host could take (1 GiB of hashes for 512 GiB free), and
	 * the receiver sets the hashes and written bits of the VM's pages when the header comes.
	 */
	if (!mh_buffers_take(data + pages * 8 + (pages + 63) / 64 * 8, false))
		return HV_ENOMEM;
	mh.recv_pages = pages;
	mh.connections = connections;
	mh.recv_req = *req;
	rc = migr_lwip_listen(&mh.tr, net_migr_netif(), req->port, connections + 1, mh_event, NULL);
	if (rc) {
		mh_buffers_free();
		return rc;
	}
	mh.role = MIGR_HV_RECEIVE;
	mh.state = MIGR_HV_LISTENING;
	mh.rcv_started = false;
	mh.error = mh.peer_error = 0;
	log_info("migr", "receive: listening on port %u for up to %u connections", req->port, connections);
	mh_log_hold(req->hold_phase, req->hold_ms);
	sched_wake(&mh.task.se);
	return HV_OK;
}

static void mh_recv_ended(uint32_t st)
{
	const struct migr_recv_progress *g = &mh.rcv.prog;

	migr_hv_prof_report(mh.p.sched, "receive", &mh);
	mh.error = g->error;
	mh.peer_error = g->peer_error;
	mh.rcv_started = false;
	mh_poll_end();
	if (st == MIGR_RECV_DONE) {
		mh.state = MIGR_HV_DONE;
		log_info("migr", "switchover (this host's clock): final pass begun to its pages in %llu ms, READY %llu ms, "
			 "COMMIT %llu ms, CONFIRM %llu ms",
			 (unsigned long long)mh_ms(g->t_pages - g->t_final), (unsigned long long)mh_ms(g->t_ready - g->t_final),
			 (unsigned long long)mh_ms(g->t_commit - g->t_final), (unsigned long long)g->downtime_ms);
		if (g->pages_filled)
			log_warn("migr", "the source's first pass left %llu pages unsent: zeroed here",
				 (unsigned long long)g->pages_filled);
		/* Logged now, not at the start: a console line there would lengthen the pause. */
		log_info("migr", "start: the guest's TSC goes on at %llu, %llu us after %llu at the pause",
			 (unsigned long long)mh.hv.tsc_at_start, (unsigned long long)(mh.hv.downtime_ns / 1000),
			 (unsigned long long)mh.hv.time.tsc_at_pause);
		/* The link's pace is this host's intake: the same goodput on this clock, beside the source's. */
		log_info("migr", "receive: %llu bytes of page data from its first record to its last in %llu ms "
			 "(this host's clock)", (unsigned long long)(g->pages_written * MIGR_PAGE_SIZE),
			 (unsigned long long)mh_ms(g->last_page_ticks - g->first_page_ticks));
		log_info("migr", "receive done: memory digest matched over %llu pages; the VM runs here; downtime "
			 "(this host's view) %llu ms, %llu pages written, %llu zero pages, %llu bytes in",
			 (unsigned long long)(mh.hv.header.ram_bytes / MIGR_PAGE_SIZE), (unsigned long long)g->downtime_ms,
			 (unsigned long long)g->pages_written, (unsigned long long)g->zero_pages,
			 (unsigned long long)mh.tr.bytes_in);
		mh_log_cost(mh.tr.bytes_in);
		migr_lwip_shutdown(&mh.tr);
		mh_buffers_free();
		return;
	}
	log_warn("migr", "receive failed: %s%s%s (%s); nothing kept, listening again", migr_error_str(g->error),
		 g->peer_error ? ", source said: " : "", g->peer_error ? migr_error_str(g->peer_error) : "", g->detail);
	migr_lwip_rearm(&mh.tr);
	mh.state = MIGR_HV_LISTENING;
}

/* ---- the operator ---- */

int migr_hv_cancel(void)
{
	if (mh.role == MIGR_HV_SEND && mh.state == MIGR_HV_RUNNING) {
		if (mh.snd.committed)
			return HV_EBUSY; /* the VM is the destination's now */
		migr_sender_cancel(&mh.snd);
		return HV_OK;
	}
	if (mh.role == MIGR_HV_RECEIVE && mh.state == MIGR_HV_LISTENING && !mh.rcv_started) {
		migr_lwip_shutdown(&mh.tr);
		mh_buffers_free();
		mh.state = MIGR_HV_IDLE;
		return HV_OK;
	}
	if (mh.role == MIGR_HV_RECEIVE && mh.rcv_started && mh.rcv.phase >= MIGR_RP_START &&
	    mh.rcv.status == MIGR_RECV_RUNNING)
		return HV_EBUSY; /* COMMIT came: the VM is this host's */
	if (mh.role == MIGR_HV_RECEIVE && mh.rcv_started && mh.rcv.phase < MIGR_RP_START) {
		migr_receiver_link(&mh.rcv, 0, MIGR_LINK_FAILED); /* the next step fails it and discards the VM */
		return HV_OK;
	}
	return HV_ENOENT;
}

int migr_hv_resolve(bool resume)
{
	int rc;

	if (mh.role != MIGR_HV_SEND || mh.state != MIGR_HV_COMMITTED_UNCONFIRMED)
		return HV_EINVAL;
	rc = migr_sender_resolve(&mh.snd, resume);
	if (rc)
		return rc;
	mh.state = resume ? MIGR_HV_FAILED : MIGR_HV_DONE;
	log_info("migr", "resolved by the operator: the VM %s", resume ? "runs here again" : "was freed here");
	return HV_OK;
}

static void mh_goodput(const struct migr_sender *s, struct migr_hv_status *o)
{
	const struct migr_send_progress *g = &s->prog;
	uint64_t us;

	o->page_bytes_sent = g->pages_sent * MIGR_PAGE_SIZE;
	if (!g->first_byte_ticks || g->last_page_ticks <= g->first_byte_ticks)
		return;
	o->memory_first_ms = mh_ms(g->first_byte_ticks - s->t_start);
	o->memory_last_ms = mh_ms(g->last_page_ticks - s->t_start);
	us = time_ticks_to_us(g->last_page_ticks - g->first_byte_ticks);
	o->goodput = us ? o->page_bytes_sent * 1000000u / us : 0;
}

void migr_hv_status(struct migr_hv_status *o)
{
	memset(o, 0, sizeof(*o));
	o->role = mh.role;
	o->state = mh.state;
	o->phase = "";
	o->policy = "";
	o->failure = mh.error ? migr_error_str(mh.error) : "";
	o->peer_failure = mh.peer_error ? migr_error_str(mh.peer_error) : "";
	o->connections = mh.connections;
	o->attempts = mh.attempts;
	if (mh.role == MIGR_HV_SEND) {
		const struct migr_send_progress *g = &mh.snd.prog;

		o->phase = migr_send_phase_str(mh.snd.phase);
		o->policy = migr_reason_str(g->reason);
		o->pass = g->pass;
		o->bytes_sent = g->bytes_sent;
		o->pages_sent = g->pages_sent;
		o->zero_pages = g->zero_pages;
		o->remaining_bytes = g->remaining_bytes;
		o->in_flight_bytes = g->in_flight_bytes;
		o->dirty_rate = g->dirty_rate;
		o->bandwidth = g->bandwidth;
		o->throttle_pct = g->throttle_pct;
		o->peak_throttle_pct = g->peak_throttle_pct;
		o->dirty_limit = g->dirty_limit;
		o->expected_downtime_ms = g->expected_downtime_ms;
		o->downtime_ms = g->downtime_ms;
		o->elapsed_ms = g->elapsed_ms;
		o->pauses_called_off = g->called_off;
		o->called_off_ms = g->called_off_ms;
		o->connections = mh.snd.granted ? mh.snd.granted : mh.connections;
		mh_goodput(&mh.snd, o);
	} else if (mh.role == MIGR_HV_RECEIVE) {
		const struct migr_recv_progress *g = &mh.rcv.prog;

		o->phase = mh.state == MIGR_HV_LISTENING && !mh.rcv_started ? "listening"
			   : migr_recv_phase_str(mh.rcv.phase);
		o->pass = g->pass;
		o->zero_pages = g->zero_pages;
		o->pages_written = g->pages_written;
		o->bytes_in = mh.tr.bytes_in;
		o->downtime_ms = g->downtime_ms;
		o->pauses_called_off = g->called_off;
		o->elapsed_ms = mh.started_at ? mh_ms(time_now() - mh.started_at) : 0;
	}
}

/* ---- the task ---- */

static void mh_progress(uint64_t now)
{
	struct migr_hv_status s;

	if (now < mh.next_progress || (mh.state != MIGR_HV_RUNNING && !(mh.state == MIGR_HV_LISTENING && mh.rcv_started)))
		return;
	mh.next_progress = now + time_us_to_ticks(MH_PROGRESS_US);
	migr_hv_status(&s);
	if (mh.role == MIGR_HV_SEND)
		log_info("migr", "send: %s, pass %u, %llu KiB sent, %llu KiB left, %llu zero pages, dirty %llu pages/s, "
			 "%llu KiB/s, throttle %u%%, expected downtime %llu ms, %llu ms (%s)",
			 s.phase, s.pass, (unsigned long long)(s.bytes_sent >> 10),
			 (unsigned long long)(s.remaining_bytes >> 10), (unsigned long long)s.zero_pages,
			 (unsigned long long)s.dirty_rate, (unsigned long long)(s.bandwidth >> 10), s.throttle_pct,
			 (unsigned long long)(s.expected_downtime_ms == UINT64_MAX ? 0 : s.expected_downtime_ms),
			 (unsigned long long)s.elapsed_ms, s.policy);
	else
		log_info("migr", "receive: %s, pass %u, %llu pages written, %llu zero pages, %llu KiB in, %llu ms",
			 s.phase, s.pass, (unsigned long long)s.pages_written, (unsigned long long)s.zero_pages,
			 (unsigned long long)(s.bytes_in >> 10), (unsigned long long)s.elapsed_ms);
}

/*
 * The copy's share of the source's CPU while the guest wants the rest. At a
 * half the source could not keep the emulated link full behind a busy
 * guest (the destination's clock saw 88-92% of raw TCP's rate, median of 5
 * per guest and connection count); at two thirds, 90-95%, and the guest
 * keeps a third.
 */
#define MH_COPY_SHARE_PCT 67u

static void mh_run(struct host_task *t, uint64_t now)
{
	bool busy = false;
	uint32_t st, phase, called_off;
	uint64_t sent, yield = 0;
	uint64_t t0 = migr_prof_begin();

	migr_lwip_events(&mh.tr);
	if (mh.role == MIGR_HV_SEND && mh.state == MIGR_HV_RUNNING) {
		sent = mh.tr.bytes_out;
		phase = mh.snd.phase;
		called_off = mh.snd.prog.called_off;
		st = migr_sender_step(&mh.snd);
		if (mh.snd.prog.called_off != called_off)
			log_info("migr", "switchover: pause called off in phase %s, before it could outlast the "
				 "%u ms limit (expected %llu ms; %llu bytes left, %llu queued at the decision): the VM "
				 "runs here again and precopy goes on (%u of %u)",
				 migr_send_phase_str(mh.snd.prog.called_off_phase), mh.snd.cfg.limits.downtime_ms,
				 (unsigned long long)mh.snd.switch_decision.expected_downtime_ms,
				 (unsigned long long)mh.snd.switch_stats.remaining_bytes,
				 (unsigned long long)mh.snd.switch_stats.queued_bytes,
				 mh.snd.prog.called_off, mh.snd.cfg.pause_retries);
		/*
		 * While the guest runs, a step that built pages is followed by
		 * time for everyone else: the copy takes at most MH_COPY_SHARE_PCT
		 * of the CPU. A round-robin turn per step would give it nearly all
		 * of it (a step is a chunk, many slices long), and a starved guest
		 * neither works nor dirties: the migration would hide a write-heavy
		 * guest and stall a quiet one for most of a second. Paused, nothing
		 * else needs the time. The task defers rather than blocks for that
		 * long: time the vCPUs leave (halted, asleep, throttled) goes to the
		 * copy, not to the idle loop.
		 */
		if (!mh.snd.paused && mh.tr.bytes_out != sent)
			yield = (time_now() - now) * (100 - MH_COPY_SHARE_PCT) / MH_COPY_SHARE_PCT;
		/*
		 * Again at once only after progress: a step that found the link full
		 * would spin on it, taking the time the vCPUs and the network task
		 * (which frees the link) need; the next poll is soon enough.
		 */
		busy = (mh.tr.bytes_out != sent || mh.snd.phase != phase) && !migr_hold_is_open(&mh.snd.hold);
		if (st != MIGR_SEND_RUNNING)
			mh_send_ended(st);
	} else if (mh.role == MIGR_HV_RECEIVE && mh.state == MIGR_HV_LISTENING) {
		if (mh.rcv_started) {
			called_off = mh.rcv.prog.called_off;
			st = migr_receiver_step(&mh.rcv);
			if (mh.rcv.prog.called_off != called_off)
				log_info("migr", "switchover: the source called its pause off (%u so far): its state is "
					 "dropped, precopy goes on", mh.rcv.prog.called_off);
			busy = migr_lwip_readable(&mh.tr);
			if (st == MIGR_RECV_DONE && !mh.rcv_vm_turn) {
				/* The guest's clock runs from its start: its vCPUs go before the report. */
				mh.rcv_vm_turn = true;
				busy = true;
			} else if (st != MIGR_RECV_RUNNING) {
				mh_recv_ended(st);
			}
		}
	}
	migr_lwip_events(&mh.tr); /* what the step wrote goes out now */
	migr_prof_end(MIGR_PROF_STEP, t0, 0);
	mh_progress(now);
	if (mh.state != MIGR_HV_RUNNING && mh.state != MIGR_HV_LISTENING)
		sched_block(&t->se, SCHED_NEVER); /* until the operator starts something */
	else if (yield)
		sched_defer(&t->se, time_now() + yield);
	else
		sched_block(&t->se, busy ? now : now + time_us_to_ticks(MH_POLL_US));
}

int migr_hv_init(const struct migr_hv_params *p)
{
	memset(&mh, 0, sizeof(mh));
	mh.p = *p;
	mh.vm = p->vm;
	migr_hv_ports_init();
	mh.task = (struct host_task){ .name = "migration", .run = mh_run };
	return task_add(p->sched, &mh.task);
}
