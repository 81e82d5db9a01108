/*
 * The source's "guest": a memory buffer and writer threads that dirty it in
 * the test guest's patterns (docs/test-guest.md: sequential, random, hot
 * set; rate-limited or flat out). Writer k owns slice k of the pages, so
 * that what it wrote last (its record) is its own to keep and to check:
 * before each rewrite it checks the page still holds its last stamp, and
 * once the writers are stopped lr_guest_check() compares every page with
 * what the fill and the record say it must hold.
 *
 * A page's content is a pure function of its number (lr_fill_word), except
 * word 0, which holds the last stamp its writer put there (0 never written).
 * The throttle parks a writer for its share of every period, as the
 * hypervisor's scheduler does with a vCPU.
 */
#ifndef LR_GUEST_H
#define LR_GUEST_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include "linerate/opts.h"

#define LR_PAGE 4096u
#define LR_THROTTLE_PERIOD_NS 20000000ull /* as the scheduler's default throttle period */

struct lr_guest;

struct lr_writer {
	pthread_t th;
	struct lr_guest *g;
	uint32_t id;
	uint64_t first, count; /* its slice of pages */
	uint64_t rng, seq;     /* pattern state */
	uint64_t gen;
	_Atomic uint64_t writes, errors;
	int started;
};

struct lr_guest {
	uint8_t *mem;
	uint64_t bytes, npages;
	int zero;
	uint64_t *record;      /* per page: the last stamp written, 0: the fill */
	uint32_t nwriters, pattern, hot_pct;
	uint64_t pages_per_s;  /* per writer, 0: flat out */
	struct lr_writer w[LR_WRITERS_MAX];
	/* Called after each write with the page number (the writers' own dirty record). */
	void (*on_write)(void *ctx, uint32_t writer, uint64_t gfn);
	void *on_write_ctx;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	_Atomic int paused, stop;
	uint32_t parked;
	_Atomic uint32_t throttle_pct;
	_Atomic uint64_t limit_pps; /* per writer; 0: no dirty limit */
};

/* The word at index i of page gfn before any writer touched it; all zero with zero memory. */
static inline uint64_t lr_fill_word(uint64_t gfn, uint64_t i, int zero)
{
	return zero ? 0 : ((gfn + 1) * 0x9e3779b97f4a7c15ull) ^ (i * 0xc2b2ae3d27d4eb4full) ^ 0x5bd1e9955bd1e995ull;
}

/* Maps and fills bytes of memory, on 4 KiB pages if small_pages (else 2 MiB where the kernel gives them). */
int lr_guest_init(struct lr_guest *g, uint64_t bytes, int zero, int small_pages);
/* Starts the writers (none with pattern none). */
int lr_guest_start(struct lr_guest *g, uint32_t pattern, uint32_t writers, uint64_t rate_mib_s, uint32_t hot_pct);
/* Returns once every writer is parked: nothing is written until resume. */
void lr_guest_pause(struct lr_guest *g);
void lr_guest_resume(struct lr_guest *g);
/* Stops and joins the writers. */
void lr_guest_stop(struct lr_guest *g);
void lr_guest_throttle(struct lr_guest *g, uint32_t pct);
void lr_guest_dirty_limit(struct lr_guest *g, uint64_t pages_per_s);
/* Writers stopped: pages whose content differs from the fill and the record. */
uint64_t lr_guest_check(const struct lr_guest *g, const uint8_t *mem);
uint64_t lr_guest_writes(struct lr_guest *g);
uint64_t lr_guest_errors(struct lr_guest *g);
/* The writer owning page gfn. */
uint32_t lr_guest_owner(const struct lr_guest *g, uint64_t gfn);
void lr_guest_free(struct lr_guest *g);

#endif
