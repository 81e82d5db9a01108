#!/usr/bin/env python3
"""Throttle accuracy, as the guest sees it, for 1 and 4 vCPUs; release latency at 99%.

The hypervisor sets each target in turn (throttle.bench=full) and reads the
guest's own work counters over one emulated second per target; "actual" is
1 - work rate / work rate at 0%. Bochs with clock sync=none makes emulated
time deterministic, so the figures repeat. Prints a table; writes
build/bench/throttle.json.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "system"))
from machine import BUILD, boot, workdir_for  # noqa: E402

OUT = os.path.join(BUILD, "bench")
LEVEL_RE = re.compile(r"bench: target=(\d+) actual=(\d+\.\d+) work=\d+ ticks=\d+ granted=(\d+\.\d+)")
RELEASE_RE = re.compile(r"bench: release from 99% latency_max_us=(\d+)((?: vcpu\d=\d+)+)")
PAUSE_RE = re.compile(r"bench: pause at 99% latency_us=(\d+) work_while_paused=(\d+)")


def measure(vcpus):
    b = boot(workdir_for(f"bench_throttle_{vcpus}"),
             f"vcpus={vcpus} guest.mode=compute guest.report_ms=60000 throttle.bench=full run_for=60000",
             timeout=600)
    if b.log_lines(level="E") or "bench: done" not in b.serial:
        raise SystemExit(f"bench throttle {vcpus} vCPUs failed:\n{b.serial}")
    levels = [{"target": int(m[1]), "actual": float(m[2]), "granted_pct": float(m[3])}
              for m in LEVEL_RE.finditer(b.serial)]
    rel = RELEASE_RE.search(b.serial)
    first = {f"vcpu{v}": int(us) for v, us in re.findall(r"vcpu(\d)=(\d+)", rel[2])}
    pause = PAUSE_RE.search(b.serial)
    return {"levels": levels, "release_first_entry_us": first,
            "pause_latency_us": int(pause[1]), "work_while_paused": int(pause[2])}


def main():
    os.makedirs(OUT, exist_ok=True)
    results = {"machine": "bochs tigerlake, ips=50000000, clock sync=none; period 20 ms, slice 1 ms",
               "vcpus": {str(n): measure(n) for n in (1, 4)}}
    with open(os.path.join(OUT, "throttle.json"), "w") as f:
        json.dump(results, f, indent=2)
    one, four = results["vcpus"]["1"], results["vcpus"]["4"]
    print("throttle accuracy (actual = 1 - guest work rate / work rate at 0%)")
    print(f"{'target %':>9}{'1 vCPU':>10}{'error':>8}{'4 vCPUs':>10}{'error':>8}")
    worst = 0.0
    for a, b in zip(one["levels"], four["levels"]):
        e1, e4 = a["actual"] - a["target"], b["actual"] - b["target"]
        if a["target"] >= 10:
            worst = max(worst, abs(e1), abs(e4))
        print(f"{a['target']:>9}{a['actual']:>10.2f}{e1:>+8.2f}{b['actual']:>10.2f}{e4:>+8.2f}")
    print(f"worst |error| from 10% to 99%: {worst:.2f} points")
    for n, r in (("1", one), ("4", four)):
        firsts = ", ".join(f"{k} {v} us" for k, v in r["release_first_entry_us"].items())
        print(f"{n} vCPU(s): release from 99%, first scheduled after it: {firsts}; "
              f"pause: {r['pause_latency_us']} us, guest work while paused: {r['work_while_paused']}")
    print("\nJSON: build/bench/throttle.json")


if __name__ == "__main__":
    main()
