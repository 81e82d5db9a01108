/*
 * A debug option for tests: hold one phase of the switchover open for a
 * while, so that a fault (a cancel, a cut link) lands in a phase too short
 * to hit by timing. Off unless a request asks for it.
 *
 * The sender or receiver asks migr_hold_wait() whenever it reaches the
 * phase; while the hold is open it does nothing further in that phase and
 * returns, and comes back on its next step: nothing blocks, the host's
 * other tasks and the management API carry on. Link failures, timeouts and
 * the operator's cancel are still seen during a hold.
 */
#ifndef MIGR_HOLD_H
#define MIGR_HOLD_H

#include <stdint.h>
#include "migration/port.h"

enum migr_hold_phase {
	MIGR_HOLD_NONE = 0,
	MIGR_HOLD_SWITCHOVER, /* sender: VM paused and last harvest done; the last pages and state not yet sent */
	MIGR_HOLD_COMMIT,     /* sender: committed (the VM is no longer its to resume); COMMIT not yet on the wire */
	MIGR_HOLD_READY,      /* receiver: the final pass and all state in; READY not yet sent */
	MIGR_HOLD_START,      /* receiver: COMMIT in (the VM is its); not yet started, CONFIRM not yet sent */
	MIGR_HOLD_PHASES,
};

struct migr_hold {
	uint32_t phase;   /* enum migr_hold_phase; MIGR_HOLD_NONE: off */
	uint64_t ms;      /* how long, on the machine's clock */
	uint64_t opened;  /* clock ticks when the machine first reached the phase */
	uint8_t state;    /* armed, open, over */
};

void migr_hold_init(struct migr_hold *h, uint32_t phase, uint64_t ms);
/*
 * Whether the machine must wait at phase now. The first call at the hold's
 * phase opens it; it stays open until ms have passed, then never again:
 * each migration holds at most once.
 */
int migr_hold_wait(struct migr_hold *h, uint32_t phase, const struct migr_clock *clock);
/* Whether a hold is open now: the owner need not poll the machine busily. */
int migr_hold_is_open(const struct migr_hold *h);

#endif
