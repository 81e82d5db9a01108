#!/usr/bin/env python3
"""The simulator beside measured migrations: each run of the emulator's migration benchmark
(build/bench/migration.json) and of the Linux line-rate build's policy runs (build/bench/linerate.json)
replayed in `sim -C` with the scenario derived from what was measured, and the two printed side by side.

What is derived, and from where:
  RAM        the emulator's guest: its non-zero pages (RAM less the zero pages the sender found: the simulator
             sends every page in full, the sender sends a zero page as a list entry); Linux: the memory, all
             non-zero
  vCPUs      the guest's vcpus= option; Linux: one per writer thread
  writers    the test guest's options through its layout (docs/test-guest.md): per vCPU a slice above 4 MiB,
             one generation-table page written with every write, then the data pages (seq: a sweep, random
             and hot: uniform over the slice or the hot set), at guest.rate pages/s; a guest without a rate
             writes flat out: the rate its progress lines show on the sender's console while the migration
             ran unthrottled. Linux: --rate MiB/s over the writers, or flat: the writes it made over the
             migration's live time
  bandwidth  the run's own goodput (page bytes over the time from its first to its last memory byte);
             the raw TCP rate the bench measured beside it gives a second figure (what-if)
  RTT        the emulated link: 1 ms (Bochs' tap backend reads one frame per emulated millisecond);
             Linux: twice the relay's delay
  the rest   connections, downtime limit and throttle cap as the run had them

usage: sim-validate.py [--sim build/sim/sim] [--bench build/bench] [--systest build/systest]
Writes BENCH/sim-validate.json and, per run, BENCH/sim-validate/<run>/ (the simulation's sim.json and
timeline) and, with gnuplot, <run>.png: bytes remaining, measured against simulated.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = 4096
MIB = 1 << 20
GUEST_DATA_GPA = 0x400000  # HV_GUEST_DATA_GPA (kernel/guest_abi.h): the test guest writes above it
EMU_RTT_MS = 1.0
DEFAULT_DOWNTIME_MS = 300
MAX_THROTTLE = 99

SEND_START_RE = re.compile(r"I migr: send: to ")
SEND_END_RE = re.compile(r"I migr: send (done|failed)")
SEND_THROTTLE_RE = re.compile(r"I migr: send: [\w-]+, pass \d+, .* throttle (\d+)%")
GUEST_RATE_RE = re.compile(r"progress vcpu=(\d+) t=\d+ writes=\d+ rate=(\d+)")


def known(*values):
    """The first value that is not None (a record's own figure before the one from a side file)."""
    return next((v for v in values if v is not None), None)


def guest_options(cmdline):
    """'vcpus=2 mem=8M guest.rate=50' -> {'vcpus': '2', 'mem': '8M', 'guest.rate': '50'}."""
    return dict(w.split("=", 1) for w in cmdline.split() if "=" in w)


def guest_slices(ram_bytes, vcpus):
    """The test guest's layout (docs/test-guest.md): (pages per slice, table pages, data pages)."""
    per = (ram_bytes // PAGE - GUEST_DATA_GPA // PAGE) // vcpus
    table = -(-per // 1025)
    return per, table, per - table


def flat_rates(console, vcpus):
    """Per vCPU, the median of its progress rates on one migration's stretch of the sender's console, over the
    lines written while the sender held no throttle; each vCPU's first line is left out (its period began
    before the migration did)."""
    throttle, seen, rates = 0, set(), {v: [] for v in range(vcpus)}
    for line in console.splitlines():
        m = SEND_THROTTLE_RE.search(line)
        if m:
            throttle = int(m.group(1))
            continue
        m = GUEST_RATE_RE.search(line)
        if not m or int(m.group(1)) not in rates:
            continue
        v = int(m.group(1))
        if v in seen and throttle == 0:
            rates[v].append(int(m.group(2)))
        seen.add(v)
    return {v: statistics.median(r) for v, r in rates.items() if r}


def emulator_scenario(rec, cmdline, rates=None, observed=False):
    """The scenario of one emulator migration record; rates: flat_rates() of its console, for a guest without
    guest.rate (observed: for every guest, the rate it reached rather than the one it asked for). Raises
    ValueError when the record does not say enough."""
    o = guest_options(cmdline)
    vcpus, ram = int(o["vcpus"]), rec["ram_bytes"]
    pattern, rate, hot = o.get("guest.pattern", "seq"), int(o.get("guest.rate", 0)), int(o.get("guest.hot", 0))
    _, table, data = guest_slices(ram, vcpus)
    nonzero = ram // PAGE - rec["zero_pages"]
    want = hot if pattern == "hot" and 0 < hot < data else data
    # The VM is its non-zero pages; a writer's set is cut to its vCPU's share of them (the idle guest has
    # written only a few dozen pages of its slice when the migration starts).
    set_pages = max(1, min(want, nonzero // vcpus - table))
    writers = []
    for v in range(vcpus):
        r = (rates or {}).get(v) if observed or not rate else rate
        if r is None:
            raise ValueError(f"vCPU {v} writes flat out and its console shows no rate")
        first = v * (table + set_pages)
        writers.append((v, "uniform", r, first, 1))  # its generation table, written with every page
        writers.append((v, "sweep" if pattern == "seq" else "uniform", r, first + table, set_pages))
    return {"ram_mib": max(nonzero, vcpus * (table + set_pages)) * PAGE / MIB, "vcpus": vcpus,
            "bw_mib_s": rec["goodput_mib_s"], "rtt_ms": EMU_RTT_MS, "conns": rec["connections"],
            "downtime_ms": rec.get("downtime_limit_ms", DEFAULT_DOWNTIME_MS), "max_throttle": MAX_THROTTLE,
            "writers": writers}


def linerate_scenario(rec, send=None):
    """The scenario of one line-rate writer record; send: the sender's own JSON (its writes), where the
    record lacks them. Raises ValueError when the record does not say enough."""
    send = send or {}
    mem, k = rec["memory_bytes"], rec["writers"]
    pages, slice_pages = mem // PAGE, mem // PAGE // k
    if rec["rate"] == "flat":
        writes = known(rec.get("writes"), send.get("writes"))
        if not writes:
            raise ValueError("a flat-out writer without its count of writes")
        live_s = rec["total_s"] - (rec.get("downtime_ms") or 0) / 1000
        rate = writes / live_s / k
    else:
        rate = rec["rate"] * MIB / PAGE / k
    writers = []
    for v in range(k):
        first = v * slice_pages
        count = pages - first if v == k - 1 else slice_pages
        if rec["pattern"] == "hot":
            count = max(1, count * rec.get("hot_pct", 25) // 100)
        writers.append((v, "sweep" if rec["pattern"] == "seq" else "uniform", rate, first, count))
    return {"ram_mib": mem / MIB, "vcpus": k, "bw_mib_s": rec["ours_mib_s"], "rtt_ms": 2.0 * rec["delay_ms"],
            "conns": rec["connections"],
            "downtime_ms": known(rec.get("downtime_limit_ms"), send.get("downtime_limit_ms"), DEFAULT_DOWNTIME_MS),
            "max_throttle": MAX_THROTTLE, "writers": writers}


def scenario_text(sc, name="custom", **override):
    """sim -C's text (sim/custom.c) for a scenario dict; override replaces keys (the what-if runs)."""
    sc = {**sc, **override}
    keys = ("ram_mib", "vcpus", "bw_mib_s", "rtt_ms", "conns", "downtime_ms", "max_throttle")
    parts = [f"name={name}"] + [f"{k}={sc[k]:.12g}" if isinstance(sc[k], float) else f"{k}={sc[k]}" for k in keys]
    parts += [f"writer={v}/{pat}/{rate:.8g}/{first}/{n}" for v, pat, rate, first, n in sc["writers"]]
    return ",".join(parts)


def simulate(sim, text, out, timeline=False):
    """sim -C: our policy's record."""
    os.makedirs(out, exist_ok=True)
    argv = [sim, "-C", text, "-o", out] + (["-t"] if timeline else [])
    p = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    if p.returncode:
        raise RuntimeError(f"sim -C failed ({p.returncode}): {p.stderr.strip()}")
    with open(os.path.join(out, "sim.json")) as f:
        return next(r for r in json.load(f) if r["policy"] == "ours")


def console_stretches(text):
    """Each migration's stretch of a sender's console, in order."""
    out, start = [], None
    for m in re.finditer(r"^.*$", text, re.M):
        if SEND_START_RE.search(m.group(0)):
            start = m.start()
        elif start is not None and SEND_END_RE.search(m.group(0)):
            out.append(text[start:m.end()])
            start = None
    return out


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return None


def emulator_runs(path, systest):
    """(name, scenario, measured, timeline csv) per emulator record; skipped ones as (name, reason)."""
    d = json.loads(read(path))
    consoles, seen, out = {}, {}, []
    for rec in d["runs"]:
        kind, src = rec["guest"], rec["direction"][0].lower()
        name = f"emu-{kind}-{rec['connections']}conn"
        key = (kind, src)
        if key not in consoles:
            consoles[key] = console_stretches(read(os.path.join(systest, f"bench_migration_{kind}", src,
                                                                "serial.log")) or "")
        i = seen[key] = seen.get(key, -1) + 1
        stretch = consoles[key][i] if i < len(consoles[key]) else ""
        cmdline = d["guests"][kind]
        rates = flat_rates(stretch, int(guest_options(cmdline)["vcpus"]))
        try:
            sc = emulator_scenario(rec, cmdline, rates)
            seen_sc = emulator_scenario(rec, cmdline, rates, observed=True) if len(rates) == len(sc["writers"]) // 2 \
                else None
        except (ValueError, KeyError) as e:
            out.append((name, f"not derived: {e}"))
            continue
        measured = {"total_s": rec["total_ms"] / 1000, "downtime_ms": rec["downtime_ms"],
                    "downtime_dest_ms": rec.get("downtime_dest_view_ms"), "passes": rec["passes"],
                    "peak_throttle": rec["peak_throttle"], "sent_over_ram": rec["page_bytes_sent"] / rec["ram_bytes"],
                    "converged": rec["converged"] and rec["downtime_ms"] <= rec["downtime_limit_ms"]}
        csv = os.path.join(os.path.dirname(path), "migration", f"{kind}-{rec['connections']}conn.csv")
        out.append((name, sc, measured, rec["ram_bytes"], rec["raw_tcp_mib_s"], csv, seen_sc))
    return out


def linerate_runs(path):
    d = json.loads(read(path))
    iperf = {(s.get("connections"), s.get("delay_ms")): s.get("iperf3_mib_s") for s in d.get("summary") or []
             if isinstance(s, dict)}
    out = []
    for rec in d.get("writers") or []:
        name = f"linux-{rec['writer']}-r{rec['rep']}"
        if rec.get("ours_error") or rec.get("total_s") is None:
            out.append((name, f"the run failed: {rec.get('ours_error')}"))
            continue
        send = json.loads(read(os.path.join(os.path.dirname(path), "linerate", f"writer-{rec['writer']}-r{rec['rep']}",
                                            "send.json")) or "{}")
        try:
            sc = linerate_scenario(rec, send)
        except (ValueError, KeyError) as e:
            out.append((name, f"not derived: {e}"))
            continue
        measured = {"total_s": rec["total_s"], "downtime_ms": rec["downtime_ms"], "downtime_dest_ms":
                    known(rec.get("downtime_recv_ms"), send.get("downtime_recv_ms")), "passes": rec["passes"],
                    "peak_throttle": known(rec.get("peak_throttle"), send.get("peak_throttle")),
                    "sent_over_ram": rec["bytes_per_memory"], "converged": rec.get("converged")}
        out.append((name, sc, measured, rec["memory_bytes"], iperf.get((rec["connections"], rec["delay_ms"])), None,
                    None))
    return out


def compare(sim, bench, name, sc, measured, ram, raw_mib_s, seen_sc):
    """Runs the scenario and its what-ifs (the raw TCP rate, every page in full, the writers' rates as the
    console showed them); the side-by-side record."""
    work = os.path.join(bench, "sim-validate", name)
    r = simulate(sim, scenario_text(sc, name), work, timeline=True)
    sim_ram = sc["ram_mib"] * MIB
    simulated = {"total_s": r["total_s"], "downtime_ms": r["downtime_ms"], "passes": r["passes"] + 1,
                 "peak_throttle": r["peak_throttle"], "sent_over_ram": r["sent_over_ram"] * sim_ram / ram,
                 "converged": r["converged"]}
    what_if = {}
    if raw_mib_s:
        what_if["raw_tcp_total_s"] = simulate(sim, scenario_text(sc, name, bw_mib_s=float(raw_mib_s)),
                                              os.path.join(work, "raw-tcp"))["total_s"]
    if sim_ram < ram:
        what_if["full_ram_total_s"] = simulate(sim, scenario_text(sc, name, ram_mib=ram / MIB),
                                               os.path.join(work, "full-ram"))["total_s"]
    if seen_sc:
        what_if["seen_rate_total_s"] = simulate(sim, scenario_text(seen_sc, name),
                                                os.path.join(work, "seen-rate"))["total_s"]
    return {"run": name, "scenario": scenario_text(sc, name), "measured": measured, "simulated": simulated,
            "sim_over_measured_total": round(simulated["total_s"] / measured["total_s"], 3), "what_if": what_if}


def plot(bench, rec, csv):
    """Bytes remaining against time: the simulation's timeline and the sender's progress lines."""
    simcsv = os.path.join(bench, "sim-validate", rec["run"], "sim", f"{rec['run']}.csv")
    png = os.path.join(bench, "sim-validate", f"{rec['run']}.png")
    if not shutil.which("gnuplot") or not os.path.exists(simcsv):
        return
    series = f"'{simcsv}' index 0 using 1:($2/1048576) with steps lw 1.5 title 'simulated (ours)'"
    if csv and os.path.exists(csv):
        series += (f", '< tr , \\  < {csv}' skip 1 using 1:($2/1048576) with linespoints pt 7 ps 0.6 "
                   "title 'measured (sender clock)'")
    script = ["set terminal pngcairo size 900,500 font ',10' noenhanced", f"set output '{png}'",
              f"set title '{rec['run']}: bytes remaining'", "set grid; set xlabel 'time (s)'; set ylabel 'MiB'",
              f"plot {series}"]
    subprocess.run(["gnuplot"], input="\n".join(script) + "\n", text=True, capture_output=True)


def table(recs):
    head = (f"{'run':<26} {'total s meas/sim':>17} {'gap':>6} {'downtime ms meas(dst)/sim':>26} {'passes':>7} "
            f"{'peak thr %':>11} {'sent/RAM':>11} {'sim@raw TCP':>11} {'sim full RAM':>12} {'sim@seen rate':>13}")
    print(head)
    print("-" * len(head))
    for r in recs:
        m, s, w = r["measured"], r["simulated"], r["what_if"]
        dst = f"({m['downtime_dest_ms']:.0f})" if m.get("downtime_dest_ms") is not None else ""
        raw = f"{w['raw_tcp_total_s']:.2f} s" if "raw_tcp_total_s" in w else "-"
        full = f"{w['full_ram_total_s']:.2f} s" if "full_ram_total_s" in w else "-"
        seen = f"{w['seen_rate_total_s']:.2f} s" if "seen_rate_total_s" in w else "-"
        thr = f"{m['peak_throttle']}" if m["peak_throttle"] is not None else "-"
        print(f"{r['run']:<26} {m['total_s']:>8.2f} /{s['total_s']:>7.2f} {r['sim_over_measured_total']:>5.2f}x "
              f"{m['downtime_ms']:>9.0f} {dst:>7} /{s['downtime_ms']:>7.0f} {m['passes']:>3}/{s['passes']:<3} "
              f"{thr:>5}/{s['peak_throttle']:<5.0f} {m['sent_over_ram']:>5.2f}/{s['sent_over_ram']:<5.2f} "
              f"{raw:>11} {full:>12} {seen:>13}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sim", default=os.path.join(ROOT, "build", "sim", "sim"))
    ap.add_argument("--bench", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--systest", default=os.path.join(ROOT, "build", "systest"))
    a = ap.parse_args()
    runs = []
    sources = (("migration.json", "the emulator", "tests/bench/bench_migration.py",
                lambda p: emulator_runs(p, a.systest)),
               ("linerate.json", "the Linux build", "tests/bench/bench_linerate.py", linerate_runs))
    for fname, what, bench, fn in sources:
        path = os.path.join(a.bench, fname)
        if not os.path.exists(path):
            print(f"sim-validate: no {os.path.relpath(path, ROOT)}: {what}'s runs not compared (run {bench})")
            continue
        runs += fn(path)
    if not runs:
        return 0
    recs, skipped = [], []
    for run in runs:
        if len(run) == 2:
            skipped.append(run)
            continue
        name, sc, measured, ram, raw, csv, seen_sc = run
        rec = compare(a.sim, a.bench, name, sc, measured, ram, raw, seen_sc)
        plot(a.bench, rec, csv)
        recs.append(rec)
    print("\nThe simulator (policy: ours) beside measured migrations; passes count the final one; sent/RAM over the "
          "VM's whole RAM;\ndowntime in brackets: the destination's view; sim@raw TCP, sim full RAM: the simulated "
          "total with the raw TCP rate, with every page sent in full,\nwith the guest's writers at the rates its "
          "console showed while the migration ran unthrottled")
    table(recs)
    for name, why in skipped:
        print(f"  {name}: {why}")
    out = os.path.join(a.bench, "sim-validate.json")
    with open(out, "w") as f:
        json.dump({"runs": recs, "skipped": [{"run": n, "why": w} for n, w in skipped]}, f, indent=2)
    print(f"JSON: {os.path.relpath(out, ROOT)}; plots: {os.path.relpath(os.path.join(a.bench, 'sim-validate'), ROOT)}"
          "/*.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
