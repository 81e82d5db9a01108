/*
 * Which record MAC a sender proposes: the fastest sound one here, measured
 * at start-up on the host's own clock. Poly1305 and AES-GMAC trade places
 * by machine: a CPU with fast carry-less multiplication runs GHASH in about
 * half Poly1305's time, while an emulator, where each instruction costs the
 * same, runs Poly1305's AVX-512 IFMA code in 58% of GHASH's instructions.
 */
#ifndef MIGR_MAC_PICK_H
#define MIGR_MAC_PICK_H

#include <stdint.h>
#include "migration/mac.h"

#define MIGR_MAC_PICK_CANDIDATES 2

struct migr_mac_timing {
	const struct migr_mac_ops *ops[MIGR_MAC_PICK_CANDIDATES]; /* NULL where this CPU cannot run one */
	uint64_t ticks[MIGR_MAC_PICK_CANDIDATES];                 /* the fastest of a few rounds */
	uint64_t bytes;                                           /* tagged per candidate and round */
};

/*
 * Tags the same records under each candidate with now() (any monotonic
 * clock) around them; returns the one to propose. Another candidate must be
 * at least MIGR_MAC_PICK_MARGIN percent faster than Poly1305 to win it, so
 * that a close call does not change the stream from one boot to the next.
 */
#define MIGR_MAC_PICK_MARGIN 10
const struct migr_mac_ops *migr_mac_pick(uint64_t (*now)(void), struct migr_mac_timing *t);

/* Pure: the choice migr_mac_pick() makes from its timings. */
const struct migr_mac_ops *migr_mac_pick_from(const struct migr_mac_timing *t);

#endif
