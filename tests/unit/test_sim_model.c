/*
 * Unit tests for the migration simulator's own model (sim/): cases with a
 * closed-form answer, page-by-page tracking against the aggregate model,
 * and the policy models' constants through the sender's interface.
 */
#include <check.h>
#include <math.h>
#include <string.h>
#include "migration/policy.h"
#include "migration/stream.h"
#include "sim/sim.h"
#include "tests/unit/check_run.h"

#define MIB (1024.0 * 1024)
#define STEP_S 0.01 /* the simulator's longest step: a pass ends within one */

static const struct sim_policy *policy(const char *name)
{
	unsigned i;

	for (i = 0; i < sim_npolicies; i++)
		if (!strcmp(sim_policies[i].name, name))
			return &sim_policies[i];
	ck_abort_msg("no policy %s", name);
	return NULL;
}

static struct sim_scenario vm(double ram, double gbit, double rtt_s, unsigned conns, uint32_t mode)
{
	struct sim_scenario s = { .ram = ram, .nvcpu = 2 };

	s.link = (struct sim_link){ .bandwidth = gbit * SIM_GBIT, .rtt = rtt_s, .conns = conns, .mode = mode,
		.chunk = 1 * MIB, .window = 1e12 };
	s.lim.max_throttle_pct = 99;
	return s;
}

static void sweeper(struct sim_scenario *s, double mb_s, double set_bytes)
{
	s->w[s->nwriters++] = (struct sim_writer){ .vcpu = 0, .pattern = SIM_SWEEP, .rate = mb_s * SIM_MB / SIM_PAGE,
		.set_pages = (uint64_t)(set_bytes / SIM_PAGE) };
}

/* An idle VM moves its RAM once, at the link's rate: RAM / bandwidth, then an empty final pass. */
START_TEST(test_idle_takes_ram_over_bandwidth)
{
	static const uint32_t tracking[] = { SIM_TRACK_PAGES, SIM_TRACK_AGGREGATE };
	struct sim_scenario s = vm(1 * SIM_GIB, 1, 0, 1, SIM_PIPELINED);
	struct sim_result r;
	double want = s.ram / s.link.bandwidth;

	ck_assert_int_eq(sim_run(&s, policy("ours"), tracking[_i], 0, &r), 0);
	ck_assert(r.converged);
	ck_assert_uint_eq(r.passes, 1);
	ck_assert_double_eq_tol(r.total_s, want, STEP_S);
	ck_assert_double_eq_tol(r.sent_over_ram, 1.0, 1e-6);
	ck_assert_double_eq(r.peak_throttle, 0);
}
END_TEST

/*
 * A writer that re-dirties 128 MiB every 0.5 s against a 1 Gb/s link: every
 * pass leaves about a second's worth of the link dirty, four times what
 * 300 ms can carry. Without a throttle nothing converges; Xen's fixed pass
 * count stops anyway, with a downtime far over the limit.
 */
START_TEST(test_dirty_above_bandwidth_never_converges_unthrottled)
{
	struct sim_scenario s = vm(1 * SIM_GIB, 1, 0, 1, SIM_PIPELINED);
	struct sim_result r;

	sweeper(&s, 2 * s.link.bandwidth / SIM_MB, 128 * MIB);
	s.lim.max_throttle_pct = 0;
	ck_assert_int_eq(sim_run(&s, policy("ours"), SIM_TRACK_AGGREGATE, 0, &r), 0);
	ck_assert(!r.switched && !r.converged);
	ck_assert_double_eq_tol(r.total_s, SIM_LIMIT_S, STEP_S);
	ck_assert_double_eq(r.peak_throttle, 0);
	ck_assert_int_eq(sim_run(&s, policy("xen"), SIM_TRACK_AGGREGATE, 0, &r), 0);
	ck_assert(r.switched && !r.converged);
	ck_assert_double_gt(r.downtime_ms, 1000 * 128 * MIB / s.link.bandwidth * 0.9);
	/* The same writer, throttle allowed: a 99% throttle brings it under the link. */
	s.lim.max_throttle_pct = 99;
	ck_assert_int_eq(sim_run(&s, policy("ours"), SIM_TRACK_AGGREGATE, 0, &r), 0);
	ck_assert(r.converged);
	ck_assert_double_gt(r.peak_throttle, 50);
}
END_TEST

/* Stop-and-wait: one chunk per round trip plus its transfer time, per connection. */
START_TEST(test_stop_and_wait_one_chunk_per_rtt)
{
	struct sim_scenario s = vm(256 * MIB, 1, 0.005, 1, SIM_STOP_WAIT);
	double c = s.link.chunk, b = s.link.bandwidth, chunks = s.ram / c;
	struct sim_result r;

	ck_assert_double_eq_tol(sim_link_burst_s(&s.link, 10 * c), 10 * (c / b + 0.005), 1e-12);
	ck_assert_double_eq_tol(sim_link_rate(&s.link), c / (c / b + 0.005), 1e-6);
	/* Four connections: ceil(10 / 4) = 3 rounds, each a chunk at a quarter of the line plus a round trip. */
	s.link.conns = 4;
	ck_assert_double_eq_tol(sim_link_burst_s(&s.link, 10 * c), 3 * (c / (b / 4) + 0.005), 1e-12);
	s.link.conns = 1;
	ck_assert_int_eq(sim_run(&s, policy("ours"), SIM_TRACK_PAGES, 0, &r), 0);
	ck_assert(r.converged);
	/* The empty final pass waits for its acknowledgement, and the commit for its own: two round trips. */
	ck_assert_double_eq_tol(r.total_s, chunks * (c / b + 0.005) + 2 * 0.005, STEP_S);
}
END_TEST

/* Page by page and aggregate agree where both run: a VM writing at random over a quarter of its RAM. */
START_TEST(test_pages_match_aggregate)
{
	struct sim_scenario s = vm(2 * SIM_GIB, 10, 0.0001, 4, SIM_PIPELINED);
	struct sim_result p, a;
	unsigned i;

	s.nvcpu = 4;
	for (i = 0; i < 4; i++)
		s.w[s.nwriters++] = (struct sim_writer){ .vcpu = i, .pattern = SIM_UNIFORM,
			.rate = 200 * SIM_MB / SIM_PAGE, .set_pages = (uint64_t)(s.ram / 4 / SIM_PAGE) };
	ck_assert_int_eq(sim_run(&s, policy("ours"), SIM_TRACK_PAGES, 0, &p), 0);
	ck_assert_int_eq(sim_run(&s, policy("ours"), SIM_TRACK_AGGREGATE, 0, &a), 0);
	ck_assert(p.converged && a.converged);
	ck_assert_uint_gt(p.passes, 1);
	ck_assert_uint_eq(p.passes, a.passes);
	ck_assert_double_eq_tol(p.total_s, a.total_s, a.total_s * 0.02);
	ck_assert_double_eq_tol(p.sent_over_ram, a.sent_over_ram, 0.02);
	ck_assert_double_eq_tol(p.downtime_ms, a.downtime_ms, 20);
}
END_TEST

static struct migr_stats boundary(uint32_t pass, uint64_t elapsed_ms, uint64_t dirtied, uint32_t throttle)
{
	return (struct migr_stats){ .pass = pass, .pass_done = 1, .remaining_bytes = dirtied,
		.bandwidth = 100000000, .elapsed_ms = elapsed_ms, .throttle_pct = throttle, .nvcpu = 4 };
}

/* Passes 1..n of 1 s each, every one dirtying `dirtied` bytes; at[k]: the throttle set at the end of pass k. */
static void passes(const char *name, uint32_t n, uint64_t dirtied, uint32_t *at)
{
	uint64_t state[SIM_POLICY_STATE / sizeof(uint64_t)] = { 0 };
	struct migr_limits lim = { .max_throttle_pct = 99 };
	struct migr_stats st;
	struct migr_decision d;
	uint32_t pass, throttle = 0;

	for (pass = 1; pass <= n; pass++) {
		st = boundary(pass, pass * 1000, dirtied, throttle);
		policy(name)->decide(state, &lim, &st, &d);
		at[pass] = d.action == MIGR_ACT_SET_THROTTLE ? d.throttle_pct : 0;
		throttle = at[pass] ? at[pass] : throttle;
	}
}

/* One decision of a fresh model. */
static uint32_t once(const char *name, uint32_t pass, uint64_t dirtied)
{
	uint64_t state[SIM_POLICY_STATE / sizeof(uint64_t)] = { 0 };
	struct migr_limits lim = { .max_throttle_pct = 99 };
	struct migr_stats st = boundary(pass, pass * 1000, dirtied, 0);
	struct migr_decision d;

	policy(name)->decide(state, &lim, &st, &d);
	return d.action;
}

/* QEMU: 20% at the second period that dirtied over half its transfer, then +10% every second one. */
START_TEST(test_qemu_auto_converge_steps)
{
	uint32_t at[9] = { 0 }, k;

	/* Each 1 s period sends 100 MB and dirties 60 MB: over the 50% trigger. */
	passes("qemu-auto-converge", 8, 60000000, at);
	ck_assert_uint_eq(at[1], 0);
	ck_assert_uint_eq(at[2], 20);
	ck_assert_uint_eq(at[3], 0);
	ck_assert_uint_eq(at[4], 30);
	ck_assert_uint_eq(at[6], 40);
	/* 40 MB: under half the transfer, never a trigger. */
	passes("qemu-auto-converge", 8, 40000000, at);
	for (k = 1; k <= 8; k++)
		ck_assert_uint_eq(at[k], 0);
	/* 30 MB fit 300 ms at 100 MB/s: switch over. */
	ck_assert_uint_eq(once("qemu-auto-converge", 3, 30000000), MIGR_ACT_SWITCHOVER);
	ck_assert_uint_eq(once("qemu-auto-converge", 3, 31000000), MIGR_ACT_CONTINUE);
}
END_TEST

/* Cloud Hypervisor: +10% after delta iterations 2, 4, 6...; Xen: 5 passes or under 50 pages. */
START_TEST(test_cloud_hypervisor_and_xen)
{
	uint32_t at[10] = { 0 };

	passes("cloud-hypervisor", 9, 500000000, at);
	ck_assert_uint_eq(at[2], 0);
	ck_assert_uint_eq(at[3], 10);
	ck_assert_uint_eq(at[4], 0);
	ck_assert_uint_eq(at[5], 20);
	ck_assert_uint_eq(at[7], 30);
	ck_assert_uint_eq(once("xen", 4, 500000000), MIGR_ACT_CONTINUE);
	ck_assert_uint_eq(once("xen", 4, 49 * MIGR_PAGE_SIZE), MIGR_ACT_SWITCHOVER);
	ck_assert_uint_eq(once("xen", 4, 50 * MIGR_PAGE_SIZE), MIGR_ACT_CONTINUE);
	ck_assert_uint_eq(once("xen", 5, 500000000), MIGR_ACT_SWITCHOVER);
}
END_TEST

/* "ours" is the sender's policy itself: the same decisions, field by field. */
START_TEST(test_ours_is_the_policy)
{
	struct migr_limits lim = { .max_throttle_pct = 80 };
	uint64_t rates[4] = { 29000, 10, 10, 10 };
	struct migr_stats st = { .pass = 2, .remaining_bytes = 1u << 30, .bandwidth = 125000000,
		.dirty_rate = 29030, .nvcpu = 4, .vcpu_dirty_rate = rates, .elapsed_ms = 20000,
		.control_age_ms = 5000 };
	struct migr_decision a, b;

	migr_policy_decide(&lim, &st, &a);
	policy("ours")->decide(NULL, &lim, &st, &b);
	ck_assert_mem_eq(&a, &b, sizeof(a));
	ck_assert_uint_eq(b.action, MIGR_ACT_SET_DIRTY_LIMIT);
}
END_TEST

/* A measured migration replayed: its text gives exactly that VM, and a wrong text changes nothing silently. */
START_TEST(test_custom_scenario_text)
{
	struct sim_scenario sc;
	char err[160];

	ck_assert_int_eq(sim_scenario_parse("name=emu,ram_mib=8,vcpus=2,bw_mib_s=0.5,rtt_ms=2,conns=4,downtime_ms=300,"
					    "max_throttle=90,writer=1/sweep/64/512/256/immune",
					    &sc, err, sizeof(err)),
			 0);
	ck_assert_str_eq(sc.name, "emu");
	ck_assert_double_eq(sc.ram, 8 * MIB);
	ck_assert_uint_eq(sc.nvcpu, 2);
	ck_assert_double_eq(sc.link.bandwidth, 0.5 * MIB);
	ck_assert_double_eq_tol(sc.link.rtt, 0.002, 1e-12);
	ck_assert_uint_eq(sc.link.conns, 4);
	ck_assert_uint_eq(sc.lim.downtime_ms, 300);
	ck_assert_uint_eq(sc.lim.max_throttle_pct, 90);
	ck_assert_uint_eq(sc.nwriters, 1);
	ck_assert_uint_eq(sc.w[0].vcpu, 1);
	ck_assert_uint_eq(sc.w[0].pattern, SIM_SWEEP);
	ck_assert_double_eq(sc.w[0].rate, 64);
	ck_assert_uint_eq(sc.w[0].set_start, 512);
	ck_assert_uint_eq(sc.w[0].set_pages, 256);
	ck_assert_int_eq(sc.w[0].immune, 1);

	ck_assert_int_eq(sim_scenario_parse("ram_mib=8,vcpus=2,bw=1", &sc, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "bw=1"));
	ck_assert_int_eq(sim_scenario_parse("ram_mib=8,vcpus=2,bw_mib_s=1,writer=0/uniform/9/2000/100", &sc, err,
					    sizeof(err)),
			 -1); /* pages 2000-2099 of a 2048-page VM */
	ck_assert_int_eq(sim_scenario_parse("ram_mib=8,vcpus=2,bw_mib_s=1,writer=2/uniform/9/0/100", &sc, err,
					    sizeof(err)),
			 -1); /* no vCPU 2 */
	ck_assert_int_eq(sim_scenario_parse("ram_mib=8,vcpus=2,bw_mib_s=-1", &sc, err, sizeof(err)), -1);
	ck_assert_int_eq(sim_scenario_parse("ram_mib=8,bw_mib_s=1", &sc, err, sizeof(err)), -1);
	ck_assert_int_eq(sim_scenario_parse("ram_mib=8,vcpus=2,bw_mib_s=1,writer=0/spiral/9/0/100", &sc, err,
					    sizeof(err)),
			 -1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sim");
	TCase *tc = tcase_create("model");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_idle_takes_ram_over_bandwidth, 0, 2);
	tcase_add_test(tc, test_dirty_above_bandwidth_never_converges_unthrottled);
	tcase_add_test(tc, test_stop_and_wait_one_chunk_per_rtt);
	tcase_add_test(tc, test_pages_match_aggregate);
	tcase_add_test(tc, test_qemu_auto_converge_steps);
	tcase_add_test(tc, test_cloud_hypervisor_and_xen);
	tcase_add_test(tc, test_ours_is_the_policy);
	tcase_add_test(tc, test_custom_scenario_text);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
