/* Between the sender's files only: not part of its interface. */
#ifndef MIGR_SENDER_PRIV_H
#define MIGR_SENDER_PRIV_H

#include <stdint.h>
#include "migration/sender.h"

static inline uint64_t migr_sender_now(const struct migr_sender *s) { return s->p.clock.ops->now(s->p.clock.ctx); }
/* a * num / den without overflow for the magnitudes here (num, den < 2^32 or a small). */
static inline uint64_t migr_scale(uint64_t a, uint64_t num, uint64_t den)
{
	return a / den * num + a % den * num / den;
}
static inline uint64_t migr_sender_ms(const struct migr_sender *s, uint64_t ticks)
{
	return migr_scale(ticks, 1000, s->p.clock.ops->hz);
}
static inline uint64_t migr_sender_since_ms(const struct migr_sender *s, uint64_t t)
{
	return migr_sender_ms(s, migr_sender_now(s) - t);
}
/*
 * Ends the migration: before COMMIT the VM runs here again (throttle
 * released, log stopped, B told why); after it the VM stays paused and the
 * status is committed-unconfirmed. The words (a printf format) go to
 * prog.detail and into the ERROR for B: name what was unexpected and in
 * which phase. Returns HV_EINVAL, for "return fail()".
 */
int migr_sender_fail(struct migr_sender *s, uint32_t code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * Moves chunks of the current pass to the data connections, as much as they
 * take now. A negative hv_err when a connection failed (HV_ERANGE: guest
 * memory could not be read); the caller ends the migration.
 */
int migr_sender_pump(struct migr_sender *s);
/* Bytes handed to the transport on every data connection, preambles included. */
uint64_t migr_sender_data_out(const struct migr_sender *s);
/* Notes the data connections' byte count now (rtt samples from B's PROGRESS are timed against it). */
void migr_sender_log_written(struct migr_sender *s);
/*
 * The path holds enough: what B has not read yet, by its last PROGRESS, is
 * over the in-flight cap. 0 while B has not reported (a peer that does not).
 */
int migr_sender_path_full(const struct migr_sender *s);
/* Bytes handed to the transport on every connection, control included. */
static inline uint64_t migr_sender_bytes_sent(const struct migr_sender *s)
{
	return s->link[0].bytes_out + migr_sender_data_out(s);
}
/* Bytes built into chunks or queued on a link and not yet taken by the transport. */
uint64_t migr_sender_unsent(const struct migr_sender *s);
/* Every page of the pass is in a chunk and every PASS_END is with the transport. */
int migr_sender_pass_complete(const struct migr_sender *s);
/* sender_policy.c */
/* Opens the next pass (s->pass_pages in the bitmap): PASS_BEGIN goes on control. HV_EBUSY: control is full. */
int migr_sender_begin_pass(struct migr_sender *s, uint32_t flags);
/* After a called-off pause's pass, RESUMED to B if owed; then the harvest and the next pass. */
int migr_sender_resumed_then_next_pass(struct migr_sender *s);
/* Every step: bytes sent and pages dirtied, sampled every MIGR_POLICY_PERIOD_MS for the bandwidth and rates. */
void migr_sender_sample(struct migr_sender *s);
/* What the pause would still have to send before B has it all: built, queued, and on the path. */
uint64_t migr_sender_queued(const struct migr_sender *s);
/* Asks the policy (at a pass's end when boundary, with the pages harvested) and applies its decision. */
void migr_sender_policy(struct migr_sender *s, int boundary, uint64_t harvested);
/* Pauses the VM for the switchover and lifts the throttle; HV_OK when it was paused already. */
int migr_sender_pause_vm(struct migr_sender *s);
/* Every step while paused: calls the pause off (the VM runs here again) before it can outlast the limit. */
void migr_sender_check_pause(struct migr_sender *s);

#endif
