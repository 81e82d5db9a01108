/*
 * The sender's side of the policy (migration/policy.h): the samples it is
 * fed (bytes, dirtying, what is queued on the path), its decisions applied
 * (throttle, dirty limit, drain, switchover, giving up), the pause, and the
 * pause called off when it would outlast the limit, and the passes these
 * decide: each begun, harvested at its end, followed by another live or
 * by the final one. The state machine around it is sender.c.
 */
#include <string.h>
#include "kernel/lib/err.h"
#include "migration/sender.h"
#include "migration/sender_priv.h"

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
void migr_sender_sample(struct migr_sender *s)
{
	uint64_t t = migr_sender_now(s), b = migr_sender_bytes_sent(s), bw;
	int i, dry = 0;

	if (b != s->prog.bytes_sent || !s->last_bytes_t)
		s->last_bytes_t = t;
	s->prog.bytes_sent = b;
	s->prog.elapsed_ms = migr_sender_ms(s, t - s->t_start);
	if (s->dry && s->t_step) {
		s->window_dry += t - s->t_step;
		s->pass_dry += t - s->t_step;
	}
	s->t_step = t;
	s->dry = s->phase == MIGR_SP_PRECOPY && (s->cursor >= s->npages || s->draining) && !migr_sender_unsent(s);
	if (s->samples_t[0] && migr_sender_ms(s, t - s->samples_t[0]) < MIGR_POLICY_PERIOD_MS)
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
uint64_t migr_sender_queued(const struct migr_sender *s)
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
int migr_sender_pause_vm(struct migr_sender *s)
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
	if (migr_sender_ms(s, busy) < MIGR_POLICY_PERIOD_MS)
		return 0;
	return migr_scale(migr_sender_bytes_sent(s) - s->pass_bytes0, s->p.clock.ops->hz, busy);
}

void migr_sender_policy(struct migr_sender *s, int boundary, uint64_t harvested)
{
	uint64_t rates[MIGR_VCPUS_MAX], t = migr_sender_now(s);
	struct migr_stats st = {
		.pass = s->prog.pass,
		.pass_done = (uint32_t)boundary,
		.bandwidth = s->prog.bandwidth,
		.pass_bandwidth = pass_bandwidth(s, t),
		.elapsed_ms = migr_sender_ms(s, t - s->t_start),
		.stalled_ms = migr_sender_ms(s, t - s->last_bytes_t),
		.throttle_pct = s->prog.throttle_pct,
		.dirty_limit = s->prog.dirty_limit,
		.control_age_ms = migr_sender_ms(s, t - s->t_control),
		.sent_bytes = migr_sender_bytes_sent(s),
		.vcpu_dirty_rate = rates,
		.rtt_us = s->prog.rtt_us,
		.conns = s->granted,
		.queued_bytes = migr_sender_queued(s),
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
		(void)migr_sender_pause_vm(s);
}

/* Opens pass `pass`: the bitmap holds its pages; PASS_BEGIN goes on control. */
int migr_sender_begin_pass(struct migr_sender *s, uint32_t flags)
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
	s->pass_bytes0 = migr_sender_bytes_sent(s);
	s->pass_dry = 0;
	return HV_OK;
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
		migr_sender_policy(s, 1, (uint64_t)got);
	if (s->status != MIGR_SEND_RUNNING)
		return HV_OK;
	if (s->switching) {
		if (migr_sender_pause_vm(s) < 0)
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
	if (migr_sender_begin_pass(s, s->switching ? MIGR_PASS_FINAL : 0) < 0)
		return migr_sender_fail(s, MIGR_ERR_INTERNAL, "control queue full");
	return HV_OK;
}

/* A called-off pause's pass has ended: B learns the VM runs here again, then the next pass begins. */
int migr_sender_resumed_then_next_pass(struct migr_sender *s)
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
	(void)migr_sender_resumed_then_next_pass(s);
}

/*
 * Called off only while a retry is left and nobody chose a long pause: a
 * forced switchover (precopy ran out of time) accepts it, and a test's debug
 * hold stretches a phase on purpose.
 */
void migr_sender_check_pause(struct migr_sender *s)
{
	uint64_t limit = migr_downtime_limit_ms(&s->cfg.limits);
	uint64_t margin = 2 * (uint64_t)s->prog.rtt_us / 1000, ms;

	if (!s->paused || s->committed || s->phase > MIGR_SP_READY || s->prog.called_off >= s->cfg.pause_retries ||
	    s->cfg.hold_phase != MIGR_HOLD_NONE || s->switch_decision.reason == MIGR_WHY_TIMEOUT_FORCE)
		return;
	if (margin < MIGR_CALL_OFF_MARGIN_MS)
		margin = MIGR_CALL_OFF_MARGIN_MS;
	ms = migr_sender_since_ms(s, s->t_pause);
	if (ms + margin >= limit)
		call_off(s, ms);
}
