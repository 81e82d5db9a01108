/* Stage counters of a migration (migration/prof.h). */
#include "migration/prof.h"

#include <string.h>

struct migr_prof migr_prof;

static const char *const stage_names[MIGR_PROF_STAGES] = {
	[MIGR_PROF_STEP] = "step", [MIGR_PROF_HARVEST] = "harvest", [MIGR_PROF_ZERO] = "zero-check",
	[MIGR_PROF_READ] = "page-read", [MIGR_PROF_HASH] = "xxh3", [MIGR_PROF_MAC] = "mac",
	[MIGR_PROF_TCP_WRITE] = "tcp_write", [MIGR_PROF_TCP_OUTPUT] = "tcp_output", [MIGR_PROF_RX_COPY] = "rx-copy",
	[MIGR_PROF_WRITE] = "page-write",
};

void migr_prof_start(uint64_t (*now)(void))
{
	memset(&migr_prof, 0, sizeof(migr_prof));
	migr_prof.now = now;
}

const char *migr_prof_name(uint32_t stage) { return stage < MIGR_PROF_STAGES ? stage_names[stage] : "unknown"; }
