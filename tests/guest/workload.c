#include "tests/guest/arch.h"
#include "tests/guest/console.h"
#include "tests/guest/lib.h"
#include "tests/guest/workload.h"

#define REPORT_MS_DEFAULT 1000
#define MAX_BURST 4 /* writes a late vCPU may do back to back to catch up */
/* A lapse of guest time this long (not asleep, not working) gets a clock line: twice a throttle period. */
#define CLOCK_GAP_MS 20

static uint32_t xorshift32(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

/* Uniform in [0, n) without a division. */
static uint32_t below(uint32_t r, uint32_t n)
{
	return (uint32_t)(((uint64_t)r * n) >> 32);
}

int work_init(struct work *w, const struct hv_boot_params *bp, uint32_t vcpu)
{
	const struct hv_guest_params *g = &bp->guest;
	uint32_t report_ms = g->report_ms ? g->report_ms : REPORT_MS_DEFAULT;

	memset(w, 0, sizeof(*w));
	if (guest_slice(bp->ram_size, bp->vcpus, vcpu, &w->slice) < 0)
		return -1;
	w->vcpu = vcpu;
	w->pattern = g->pattern;
	w->gen = (uint32_t *)(uintptr_t)(w->slice.table_pfn << GUEST_PAGE_SHIFT);
	w->span = w->slice.data_pages;
	if (g->pattern == HV_PATTERN_HOT && g->hot_pages && g->hot_pages < w->span)
		w->span = g->hot_pages;
	w->rng = g->seed + vcpu * 0x9e3779b9u;
	if (w->rng == 0)
		w->rng = 0x6d2b79f5u;
	w->verify_every = g->verify_every;
	w->announce = g->announce;
	w->prefill = g->prefill ? w->slice.data_pages : 0;
	w->until_sweep = g->verify_every;

	w->tsc_hz = bp->tsc_hz;
	w->ticks_per_ms = udiv64(bp->tsc_hz, 1000, NULL);
	w->report_ticks = w->ticks_per_ms * report_ms;
	w->interval = g->rate ? udiv64(bp->tsc_hz, g->rate, NULL) : 0;
	w->start = rdtsc();
	w->next_due = w->start;
	w->next_report = w->start + w->report_ticks;
	w->mark = w->start;
	return 0;
}

static void *page_ptr(const struct work *w, uint32_t idx)
{
	return (void *)(uintptr_t)((w->slice.data_pfn + idx) << GUEST_PAGE_SHIFT);
}

/*
 * A line's output is this vCPU's own work, not a lapse (two vCPUs' lines
 * in turn take longer than CLOCK_GAP_MS, and a clock line must not beget
 * the next), unless a lapse came inside it: then it is measured from there.
 */
static void output_done(struct work *w, const struct con_lapse *lapse)
{
	w->mark = lapse->ticks >= CLOCK_GAP_MS * w->ticks_per_ms ? lapse->at : rdtsc();
}

static void report(struct work *w, uint64_t now)
{
	uint64_t ms = udiv64(now - w->start, w->ticks_per_ms, NULL);
	uint64_t dms = ms - w->last_ms;
	uint64_t rate = dms ? udiv64((w->writes - w->last_writes) * 1000, dms, NULL) : 0;
	struct con_lapse lapse;

	/* From where this vCPU's time is known: now, or past it if a clock line went out first. */
	con_printf_lapse(&lapse, w->mark > now ? w->mark : now,
			 "progress vcpu=%u t=%llu writes=%llu rate=%llu verified=%llu errors=%u\n", w->vcpu, ms, w->writes,
			 rate, w->verified, w->errors);
	output_done(w, &lapse);
	w->last_ms = ms;
	w->last_writes = w->writes;
	w->next_report += w->report_ticks;
	if (w->next_report <= now) /* missed periods (preempted, long sweep): skip them */
		w->next_report = now + w->report_ticks;
}

/*
 * Time that went by while this vCPU neither slept nor swept: it was
 * descheduled, throttled, or its VM paused (a migration moves the TSC on
 * by the pause). Measured from one pass of the loop to the next, so it
 * includes the one page the vCPU verified and wrote in between (a few
 * thousand instructions), and a pause within that write is seen too. A
 * long one gets a line with the raw TSC it began at, so a test sees the
 * jump the guest saw and sets it against the TSCs the hypervisors log.
 */
static void clock_check(struct work *w, uint64_t now)
{
	struct con_lapse lapse;

	if (now <= w->mark || now - w->mark < CLOCK_GAP_MS * w->ticks_per_ms) {
		w->mark = now;
		return;
	}
	con_printf_lapse(&lapse, now, "clock vcpu=%u t=%llu gap_us=%llu from=%llu\n", w->vcpu,
			 udiv64(now - w->start, w->ticks_per_ms, NULL),
			 udiv64((now - w->mark) * 1000, w->ticks_per_ms, NULL), w->mark);
	output_done(w, &lapse);
}

static void maybe_report(struct work *w)
{
	uint64_t now = rdtsc();

	if (now >= w->next_report)
		report(w, now);
}

/* Checks page idx against its generation; reports and returns -1 if corrupt. */
static int verify_page(struct work *w, uint32_t idx)
{
	const void *page = page_ptr(w, idx);
	uint32_t pfn = w->slice.data_pfn + idx, gen = w->gen[idx], off;

	w->verified++;
	if (page_check_owned(page, pfn, gen, w->vcpu, &off) == 0)
		return 0;
	uint32_t found = page_found_gen(page);

	w->errors++;
	con_printf("CORRUPT vcpu=%u page=%u expected_gen=%u found_gen=%u offset=%u\n",
		   w->vcpu, pfn, gen, found, off);
	hc_report_error(pfn, gen, found);
	return -1;
}

/* Writes page idx with its next generation (generation 0 is "never written"). */
static void write_page(struct work *w, uint32_t idx)
{
	uint32_t gen = w->gen[idx] + 1;

	if (gen == 0)
		gen = 1;
	if (w->announce) {
		/* Announce before writing: a harvest may fall between the two, never after the write. */
		hc_will_write(w->slice.data_pfn + idx);
		hc_will_write((uint32_t)((uintptr_t)&w->gen[idx] >> 12));
	}
	page_fill(page_ptr(w, idx), w->slice.data_pfn + idx, gen, w->vcpu);
	w->gen[idx] = gen;
	w->writes++;
}

/* Verifies every page of the slice, rewriting the corrupt ones. */
static void sweep(struct work *w)
{
	for (uint32_t i = 0; i < w->slice.data_pages; i++) {
		if (verify_page(w, i) < 0)
			write_page(w, i);
		maybe_report(w);
	}
	w->mark = rdtsc(); /* a sweep's time is work, not a lapse */
}

static uint32_t next_page(struct work *w)
{
	uint32_t idx;

	if (w->prefill) /* the whole slice once, in order, then the pattern */
		return w->slice.data_pages - w->prefill--;
	switch (w->pattern) {
	case HV_PATTERN_SEQ:
		idx = w->next;
		w->next = idx + 1 < w->span ? idx + 1 : 0;
		return idx;
	default: /* HV_PATTERN_RANDOM, HV_PATTERN_HOT: random in [0, span) */
		return below(xorshift32(&w->rng), w->span);
	}
}

/* One unit of work: verify a page, overwrite it, sweep when due. */
static void step(struct work *w)
{
	uint32_t idx = next_page(w);

	verify_page(w, idx); /* a corrupt page is reported, then overwritten anyway */
	write_page(w, idx);
	if (w->verify_every && --w->until_sweep == 0) {
		sweep(w);
		w->until_sweep = w->verify_every;
	}
}

void work_run(struct work *w, uint64_t until_writes)
{
	while (!until_writes || w->writes < until_writes) {
		uint64_t now = rdtsc();

		clock_check(w, now);
		if (now >= w->next_report)
			report(w, now);
		if (!w->interval) {
			step(w);
			continue;
		}
		if (now >= w->next_due) {
			step(w);
			w->next_due += w->interval;
			if (now > w->next_due && now - w->next_due > MAX_BURST * w->interval)
				w->next_due = now - MAX_BURST * w->interval;
			continue;
		}
		uint64_t wake = w->next_due < w->next_report ? w->next_due : w->next_report;

		clock_check(w, rdtsc()); /* a lapse inside this pass's line: before the sleep hides it */
		if (hc_sleep_until(wake) != HV_HC_OK)
			while (rdtsc() < wake) /* no sleep hypercall: spin */
				cpu_relax();
		w->mark = wake; /* asleep until then by its own choice */
	}
}
