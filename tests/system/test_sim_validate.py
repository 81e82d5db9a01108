"""tools/sim-validate.py's scenario derivation, on the host (no emulator): a measured migration record and its
sender's console become the scenario sim -C replays, and the simulator accepts what comes out.

The records are shaped like the benches' (tests/bench/bench_migration.py, tests/bench/bench_linerate.py); the
expected figures follow from the test guest's layout in docs/test-guest.md (8 MiB, 2 vCPUs: data from 4 MiB,
two slices of 512 pages, each one generation-table page and 511 data pages).
"""
import importlib.util
import json
import os
import subprocess

import pytest

from machine import ROOT

spec = importlib.util.spec_from_file_location("sim_validate", os.path.join(ROOT, "tools", "sim-validate.py"))
sv = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sv)

RAM = 8 << 20


def emu_record(zero_pages, conns=2):
    return {"ram_bytes": RAM, "zero_pages": zero_pages, "goodput_mib_s": 0.344, "connections": conns,
            "downtime_limit_ms": 300}


def pages_of(writers):
    return [set(range(first, first + n)) for _, _, _, first, n in writers]


def test_hot_guest_flat_out_takes_the_rates_its_console_showed():
    sc = sv.emulator_scenario(emu_record(1529), "vcpus=2 mem=8M guest.pattern=hot guest.hot=256", {0: 80, 1: 70})
    assert sc["ram_mib"] * (1 << 20) == (2048 - 1529) * 4096  # the non-zero pages only
    assert (sc["vcpus"], sc["conns"], sc["bw_mib_s"], sc["rtt_ms"], sc["downtime_ms"]) == (2, 2, 0.344, 1.0, 300)
    # Per vCPU its generation-table page and its hot set, at the rate the console showed, uniform.
    assert [(v, pat, rate, n) for v, pat, rate, _, n in sc["writers"]] == [
        (0, "uniform", 80, 1), (0, "uniform", 80, 256), (1, "uniform", 70, 1), (1, "uniform", 70, 256)]
    sets = pages_of(sc["writers"])
    assert all(not (a & b) for i, a in enumerate(sets) for b in sets[i + 1:])  # disjoint
    assert max(max(s) for s in sets) < 2048 - 1529  # inside the VM


def test_paced_guest_keeps_its_rate_unless_asked_for_what_it_reached():
    rec, cmd = emu_record(1019), "vcpus=2 mem=8M guest.rate=50"
    sc = sv.emulator_scenario(rec, cmd, {0: 20, 1: 18})
    assert [(pat, rate, n) for _, pat, rate, _, n in sc["writers"]] == [
        ("uniform", 50, 1), ("sweep", 50, 511), ("uniform", 50, 1), ("sweep", 50, 511)]
    seen = sv.emulator_scenario(rec, cmd, {0: 20, 1: 18}, observed=True)
    assert [rate for _, _, rate, _, _ in seen["writers"]] == [20, 20, 18, 18]


def test_idle_guest_sets_are_cut_to_the_non_zero_pages():
    sc = sv.emulator_scenario(emu_record(1963), "vcpus=2 mem=8M guest.rate=1")
    pages = round(sc["ram_mib"] * 256)
    assert pages == 2048 - 1963
    assert [n for _, _, _, _, n in sc["writers"]] == [1, 41, 1, 41]  # 85 // 2 - 1 table page
    assert max(max(s) for s in pages_of(sc["writers"])) < pages


def test_flat_out_guest_without_a_console_rate_is_refused():
    with pytest.raises(ValueError):
        sv.emulator_scenario(emu_record(1529), "vcpus=2 mem=8M guest.pattern=hot guest.hot=256", {0: 80})


def test_console_rates_leave_out_first_and_throttled_lines():
    console = "\n".join([
        "[ 1.0] I migr: send: to 10.77.0.3:7000, 1 connections, downtime limit 300 ms, 8 MiB of RAM",
        "[ 1.1] I guest: [vm0/vcpu0] progress vcpu=0 t=1 writes=9 rate=170 verified=9 errors=0",
        "[ 2.1] I guest: [vm0/vcpu0] progress vcpu=0 t=2 writes=90 rate=81 verified=90 errors=0",
        "[ 2.5] I migr: send: precopy, pass 2, 5 KiB sent, 3 KiB left, 0 zero pages, dirty 5 pages/s, 9 KiB/s, "
        "throttle 60%, expected downtime 9 ms, 2500 ms (x)",
        "[ 3.1] I guest: [vm0/vcpu0] progress vcpu=0 t=3 writes=120 rate=30 verified=120 errors=0",
        "[ 3.5] I migr: send: precopy, pass 3, 9 KiB sent, 1 KiB left, 0 zero pages, dirty 5 pages/s, 9 KiB/s, "
        "throttle 0%, expected downtime 9 ms, 3500 ms (x)",
        "[ 4.1] I guest: [vm0/vcpu0] progress vcpu=0 t=4 writes=199 rate=79 verified=199 errors=0",
        "[ 4.2] I migr: send done: the VM runs on the destination; downtime 9 ms, 3 passes, 1 bytes sent",
    ])
    stretches = sv.console_stretches("noise before\n" + console + "\nnoise after\n")
    assert len(stretches) == 1
    assert sv.flat_rates(stretches[0], 2) == {0: 80}


def test_linerate_writers():
    base = {"memory_bytes": 2 << 30, "connections": 4, "delay_ms": 5, "pattern": "random", "total_s": 10.0,
            "downtime_ms": 200.0, "ours_mib_s": 600.0}
    mod = sv.linerate_scenario({**base, "rate": 200, "writers": 1})
    assert mod["writers"] == [(0, "uniform", 200 * 256, 0, 524288)]  # 200 MiB/s of 4 KiB pages
    assert (mod["rtt_ms"], mod["conns"], mod["bw_mib_s"], mod["downtime_ms"]) == (10.0, 4, 600.0, 300)
    # Flat out: the writes it made over the live time (total less downtime), split over the writers.
    heavy = sv.linerate_scenario({**base, "rate": "flat", "writers": 2, "writes": None}, {"writes": 9_800_000})
    assert [(v, first, n) for v, _, _, first, n in heavy["writers"]] == [(0, 0, 262144), (1, 262144, 262144)]
    assert heavy["writers"][0][2] == pytest.approx(9_800_000 / 9.8 / 2)
    with pytest.raises(ValueError):
        sv.linerate_scenario({**base, "rate": "flat", "writers": 2})


def test_the_simulator_takes_the_derived_text(tmp_path):
    """End to end through the real sim -C: a derivation it refused would be no validation at all."""
    subprocess.run(["make", "--no-print-directory", "-s", "build/sim/sim"], cwd=ROOT, check=True, timeout=120)
    sc = sv.emulator_scenario(emu_record(1529), "vcpus=2 mem=8M guest.pattern=hot guest.hot=256", {0: 80, 1: 70})
    rec = sv.simulate(os.path.join(ROOT, "build", "sim", "sim"), sv.scenario_text(sc, "t"), str(tmp_path))
    assert rec["policy"] == "ours" and rec["scenario"] == "t"
    # 519 non-zero pages at 0.344 MiB/s: at least the one full copy's time, and it converges.
    assert rec["total_s"] >= 519 * 4096 / (0.344 * (1 << 20)) and rec["converged"]
    with open(tmp_path / "sim.json") as f:
        assert len(json.load(f)) >= 1
