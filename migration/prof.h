/*
 * Where a migration's time goes: ticks and counts per stage of the stream
 * (harvest, page copy, XXH3, MAC, lwIP writes and output, the receiver's
 * copies), for the summary a host logs when a migration ends. Off until an
 * owner gives it a clock (migr_prof_start); then each probe costs two clock
 * reads. The stages nest (a record's MAC happens inside the task's step):
 * each is reported on its own, never summed.
 */
#ifndef MIGR_PROF_H
#define MIGR_PROF_H

#include <stdint.h>

enum migr_prof_stage {
	MIGR_PROF_STEP,       /* one run of the migration task, whole */
	MIGR_PROF_HARVEST,    /* dirty-log harvest */
	MIGR_PROF_ZERO,       /* is the page all zeros? */
	MIGR_PROF_READ,       /* guest page copied into a record */
	MIGR_PROF_HASH,       /* XXH3 of a page, sent or received */
	MIGR_PROF_MAC,        /* a record's tag, made or checked */
	MIGR_PROF_TCP_WRITE,  /* tcp_write: bytes copied into lwIP */
	MIGR_PROF_TCP_OUTPUT, /* tcp_output after the step's writes */
	MIGR_PROF_RX_COPY,    /* received pbufs copied to the decoder, tcp_recved */
	MIGR_PROF_WRITE,      /* received page copied into guest memory */
	MIGR_PROF_STAGES
};

struct migr_prof_stat {
	uint64_t ticks, calls, max;
};

struct migr_prof {
	uint64_t (*now)(void); /* NULL: probes do nothing */
	struct migr_prof_stat stat[MIGR_PROF_STAGES];
	uint64_t bytes[MIGR_PROF_STAGES]; /* bytes the stage handled, where it knows */
};

extern struct migr_prof migr_prof;

/* Clears every stat and starts counting on now(); NULL stops. */
void migr_prof_start(uint64_t (*now)(void));
const char *migr_prof_name(uint32_t stage);

static inline uint64_t migr_prof_begin(void) { return migr_prof.now ? migr_prof.now() : 0; }

/* Ends a probe begun at t0 (from migr_prof_begin) that handled n bytes. */
static inline void migr_prof_end(enum migr_prof_stage s, uint64_t t0, uint64_t n)
{
	struct migr_prof_stat *st = &migr_prof.stat[s];
	uint64_t d;

	if (!migr_prof.now || !t0) /* off, or off when the probe began */
		return;
	d = migr_prof.now() - t0;
	st->ticks += d;
	st->calls++;
	if (d > st->max)
		st->max = d;
	migr_prof.bytes[s] += n;
}

#endif
