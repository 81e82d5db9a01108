"""The vCPU throttle lives in the scheduler: exact shares, instant release, and the dirty-rate limit.

The hypervisor's throttle measurement (throttle.bench=) sets each target in
turn and reads the guest's own work counters (a compute loop the guest
registers with the hypervisor), comparing each window with the 0% window.
"""
import re

import pytest

LEVEL_RE = re.compile(r"bench: target=(\d+) actual=(\d+\.\d+) work=\d+ ticks=\d+ granted=\S+(.*)")
RELEASE_RE = re.compile(r"bench: release from 99% latency_max_us=(\d+)((?: vcpu\d=\d+)+)")
PAUSE_RE = re.compile(r"bench: pause at 99% latency_us=(\d+) work_while_paused=(\d+)")
DIRTY_RE = re.compile(r"bench: dirty-limit (off|on) vcpu(\d) work_per_s=(\d+) dirty_per_s=(\d+) throttle=(\d+)")


def no_errors(b):
    assert not b.log_lines(level="E"), [m.group(0) for m in b.log_lines(level="E")]
    assert "bench: done" in b.serial, b.serial


@pytest.mark.parametrize("vcpus", [1, 4])
def test_throttle_is_exact_and_releases_at_once(run, vcpus):
    b = run(f"vcpus={vcpus} guest.mode=compute guest.report_ms=60000 throttle.bench=quick run_for=30000")
    no_errors(b)
    levels = {int(m[1]): (float(m[2]), m[3]) for m in LEVEL_RE.finditer(b.serial)}
    assert sorted(levels) == [0, 50, 99], b.serial
    for target in (50, 99):
        actual, per_vcpu = levels[target]
        assert abs(actual - target) <= 0.5, f"target {target}%: the guest's work says {actual}%"
        for v, a in re.findall(r"vcpu(\d)=(\d+\.\d+)", per_vcpu):
            assert abs(float(a) - target) <= 0.5, f"vcpu{v} at {target}%: {a}%"
    rel = RELEASE_RE.search(b.serial)
    assert rel, b.serial
    # Every vCPU is back on the CPU within a millisecond of the release (one 1 ms slice shared).
    assert int(rel[1]) <= 1000, rel[0]
    pause = PAUSE_RE.search(b.serial)
    assert pause and int(pause[2]) == 0, "the guest worked while paused"


def test_dirty_limit_spares_the_vcpu_that_does_not_write(run):
    b = run("vcpus=2 guest.mode=mixed guest.pattern=random guest.report_ms=60000 guest.verify=0 "
            "dirty.check=100 dirty.verify=0 dirty.rounds=100000 throttle.dirty_limit=300 throttle.bench=dirty "
            "run_for=30000")
    no_errors(b)
    r = {(m[1], int(m[2])): (int(m[3]), int(m[4]), int(m[5])) for m in DIRTY_RE.finditer(b.serial)}
    assert len(r) == 4, b.serial
    writer_off, writer_on = r[("off", 0)], r[("on", 0)]
    compute_off, compute_on = r[("off", 1)], r[("on", 1)]
    assert writer_off[1] > 600, "the writer should dirty well above the limit unthrottled"
    # The controller overshoots its limit: 333 and 352 pages/s were measured for this configuration on two
    # builds whose only difference was code layout (Bochs is deterministic per binary). 25% bounds that
    # without letting an unlimited writer (> 600 pages/s, asserted above) pass.
    assert writer_on[1] <= 300 * 1.25, f"writer still dirties {writer_on[1]} pages/s"
    assert writer_on[2] > 0 and compute_on[2] == 0, "only the writer is throttled"
    ratio = compute_on[0] / compute_off[0]
    assert abs(ratio - 1) <= 0.02, f"the computing vCPU runs at {ratio:.3f} of its unthrottled speed"
