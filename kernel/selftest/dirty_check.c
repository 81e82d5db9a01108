#include "kernel/selftest/dirty_check.h"

#include <stdio.h>
#include <string.h>
#include "kernel/arch/x86/frames.h"
#include "kernel/arch/x86/time.h"
#include "kernel/lib/err.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/dirty.h"
#include "kernel/vmm/vm.h"

#define CHECK_REPORT_MAX 5 /* individual misses logged per kind */

static int check_bitmap(struct dirty_bitmap *b, uint64_t pages)
{
	uint64_t pa = frames_alloc(dirty_bitmap_words(pages) * sizeof(uint64_t), FRAME_SIZE);

	if (!pa)
		return HV_ENOMEM;
	dirty_bitmap_init(b, (uint64_t *)(uintptr_t)pa, pages);
	return HV_OK;
}

/* HV_HC_TEST_WILL_WRITE: the guest is about to write page pfn. */
static int64_t check_will_write(void *ctx, uint64_t pfn)
{
	struct dirty_check *c = ctx;

	if (!c->vm->dirty.logging || !dirty_bitmap_set(&c->announced, pfn))
		return HV_HC_EINVAL;
	c->announced_total++;
	return HV_HC_OK;
}

static void check_copy_harvest(struct dirty_check *c)
{
	uint64_t page = 0, len;

	while (dirty_bitmap_next_run(&c->harvest, &page, &len)) {
		memcpy(c->shadow + page * FRAME_SIZE, vm_gpa_to_hva(c->vm, page * FRAME_SIZE, len * FRAME_SIZE),
		       len * FRAME_SIZE);
		page += len;
	}
}

/* Copies the harvest into the shadow and checks it against what the guest and the hypervisor wrote. */
static void check_verify_round(struct dirty_check *c)
{
	uint64_t pages = c->vm->ram_size / FRAME_SIZE, p, data_first = HV_GUEST_DATA_GPA / FRAME_SIZE;
	uint64_t shared_pfn = HV_GUEST_SHARED_GPA / FRAME_SIZE;

	check_copy_harvest(c);
	if (!dirty_bitmap_test(&c->harvest, shared_pfn) && c->host_missed++ < CHECK_REPORT_MAX)
		log_err("dirty", "check: round %u: the hypervisor's write to page %llu is missing", c->round + 1,
			(unsigned long long)shared_pfn);
	for (p = 0; p < pages; p++) {
		bool harvested = dirty_bitmap_test(&c->harvest, p);

		if (dirty_bitmap_test(&c->carry, p) && !harvested && c->missed++ < CHECK_REPORT_MAX)
			log_err("dirty", "check: round %u: MISSED page %llu, written before the previous harvest",
				c->round + 1, (unsigned long long)p);
		/* A write announced last round may still be under way when that round's harvest came. */
		if (harvested && p >= data_first && !dirty_bitmap_test(&c->announced, p) &&
		    !dirty_bitmap_test(&c->previous, p) && c->extra++ < CHECK_REPORT_MAX)
			log_debug("dirty", "check: round %u: page %llu harvested, never announced", c->round + 1,
				  (unsigned long long)p);
	}
	/* What was announced but not yet harvested must be in the next harvest. */
	for (p = 0; p < dirty_bitmap_words(pages); p++) {
		c->carry.words[p] = c->announced.words[p] & ~c->harvest.words[p];
		c->previous.words[p] = c->announced.words[p];
		c->announced.words[p] = 0;
	}
}

/*
 * One harvest and its checks. The final one is a migration's last pass: the
 * guest is off the CPU while this task runs, and logging stops before that
 * harvest, so it must bring every page written since the previous one.
 */
static void check_round(struct dirty_check *c, bool final)
{
	struct hv_shared_info info = { .round = c->round + 1, .uptime_us = time_uptime_us() };
	uint64_t start;
	int64_t n;

	/* A write by the hypervisor itself, which the next harvest must contain. */
	if (c->verify)
		vm_guest_write(c->vm, HV_GUEST_SHARED_GPA, &info, sizeof(info));
	if (final)
		dirty_log_stop(c->vm);
	dirty_bitmap_clear_all(&c->harvest);
	start = time_now();
	n = dirty_harvest(c->vm, &c->harvest);
	if (!final) /* the cost of a harvest while logging runs, as the benchmarks report it */
		c->harvest_ticks += time_now() - start;
	if (n < 0) {
		log_err("dirty", "check: harvest failed: %s", hv_strerror((int)n));
		return;
	}
	if (final)
		c->final_pages = (uint64_t)n;
	else
		c->harvested += (uint64_t)n;
	if (c->verify)
		check_verify_round(c);
	if (!final)
		c->round++;
}

static uint64_t check_stale_pages(struct dirty_check *c)
{
	uint64_t p, stale = 0, pages = c->vm->ram_size / FRAME_SIZE;

	for (p = 0; p < pages; p++)
		if (memcmp(c->shadow + p * FRAME_SIZE, vm_gpa_to_hva(c->vm, p * FRAME_SIZE, FRAME_SIZE), FRAME_SIZE) &&
		    stale++ < CHECK_REPORT_MAX)
			log_err("dirty", "check: page %llu differs from its last harvested copy", (unsigned long long)p);
	return stale;
}

static void check_finish(struct dirty_check *c)
{
	struct vm *vm = c->vm;
	char rates[96];
	unsigned i;
	int n = 0;

	check_round(c, true);
	/* The guest is not running while this task runs: RAM must equal the shadow exactly. */
	if (c->verify)
		c->stale = check_stale_pages(c);
	for (i = 0; i < vm->vcpu_count && n < (int)sizeof(rates) - 24; i++)
		n += snprintf(rates + n, sizeof(rates) - (size_t)n, " vcpu%u %llu", i,
			      (unsigned long long)dirty_rate_vcpu(&vm->vcpus[i]));
	log_info("dirty", "check: dirty rate pages/s: vm %llu,%s", (unsigned long long)dirty_rate_vm(vm), rates);
	log_info("dirty",
		 "check: backend=%s vcpus=%u rounds=%u harvested=%llu announced=%llu missed=%llu host_missed=%llu "
		 "extra=%llu stale=%llu pages=%llu wp_faults=%llu pml_entries=%llu pml_full=%llu harvest_us=%llu "
		 "verify=%u final=%llu merged=%llu",
		 dirty_backend_name(vm->dirty.backend), vm->vcpu_count, c->round, (unsigned long long)c->harvested,
		 (unsigned long long)c->announced_total, (unsigned long long)c->missed,
		 (unsigned long long)c->host_missed, (unsigned long long)c->extra, (unsigned long long)c->stale,
		 (unsigned long long)(vm->ram_size / FRAME_SIZE), (unsigned long long)vm->dirty.wp_faults,
		 (unsigned long long)vm->dirty.pml_entries, (unsigned long long)vm->dirty.pml_full_exits,
		 (unsigned long long)time_ticks_to_us(c->harvest_ticks), c->verify, (unsigned long long)c->final_pages,
		 (unsigned long long)vm->dirty.large_merged);
	log_info("dirty", "check: harvest cost: %llu ticks for %llu pages in %u harvests of %llu MiB",
		 (unsigned long long)c->harvest_ticks, (unsigned long long)c->harvested, c->round,
		 (unsigned long long)(vm->ram_size >> 20));
	vm->test.will_write = NULL;
}

static void check_run(struct host_task *t, uint64_t now)
{
	struct dirty_check *c = t->ctx;

	if (c->vm->state != VM_RUNNING || !c->vm->dirty.logging) {
		sched_stop(&t->se);
		return;
	}
	/* The guest runs one more period after the last round, so the final pass has writes to catch. */
	if (c->round >= c->rounds) {
		check_finish(c);
		sched_stop(&t->se);
		return;
	}
	check_round(c, false);
	sched_block(&t->se, now + c->period_ticks);
}

int dirty_check_start(struct dirty_check *c, struct sched *s, struct vm *vm, const struct dirty_check_params *p)
{
	uint64_t pages = vm->ram_size / FRAME_SIZE, shadow;
	int rc;

	memset(c, 0, sizeof(*c));
	c->vm = vm;
	c->rounds = p->rounds;
	c->verify = p->verify;
	c->period_ticks = time_us_to_ticks((uint64_t)p->period_ms * 1000);
	if (c->verify) {
		shadow = frames_alloc(vm->ram_size, FRAME_SIZE);
		if (!shadow)
			return HV_ENOMEM;
		c->shadow = (uint8_t *)(uintptr_t)shadow;
	}
	rc = check_bitmap(&c->harvest, pages);
	if (!rc)
		rc = check_bitmap(&c->announced, pages);
	if (!rc)
		rc = check_bitmap(&c->carry, pages);
	if (!rc)
		rc = check_bitmap(&c->previous, pages);
	if (!rc)
		rc = dirty_log_start(vm, p->backend);
	if (rc)
		return rc;
	/* Logging is on and the guest has not run since: this copy is the baseline. */
	if (c->verify)
		memcpy(c->shadow, vm_gpa_to_hva(vm, 0, vm->ram_size), vm->ram_size);
	vm->test.will_write = check_will_write;
	vm->test.will_write_ctx = c;
	c->task = (struct host_task){ .name = "dirty-check", .run = check_run, .ctx = c };
	rc = task_add(s, &c->task);
	if (!rc)
		sched_block(&c->task.se, time_now() + c->period_ticks);
	log_info("dirty", "check: every %u ms, %u rounds%s", p->period_ms, c->rounds,
		 c->verify ? "" : ", harvest only (dirty.verify=0)");
	return rc;
}
