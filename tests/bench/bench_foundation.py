#!/usr/bin/env python3
"""Foundation benchmarks: boot time to guest start, and the cost of a VM exit.

Bochs runs with clock sync=none, so the TSC advances one tick per emulated
instruction and emulated-time figures repeat from run to run; wall-clock
figures depend on the machine's load. Prints a table; writes JSON to
build/bench/foundation.json.
"""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "system"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from table import print_table  # noqa: E402
from machine import BUILD, ROOT, make_iso  # noqa: E402

OUT = os.path.join(BUILD, "bench")
START_RE = re.compile(r"^\[\s*(\d+)\.(\d{6})\] I guest: \[vm0/vcpu0\] guest: start", re.M)


def boot_until(workdir, cmdline, pattern, timeout=240):
    """Boots in Bochs; returns (serial text, wall seconds until pattern first appeared)."""
    os.makedirs(workdir, exist_ok=True)
    iso = make_iso(workdir, cmdline)
    serial = os.path.join(workdir, "serial.log")
    open(serial, "w").close()
    start = time.monotonic()
    proc = subprocess.Popen([os.path.join(ROOT, "tools", "run-bochs.sh"), iso, serial, str(timeout)])
    seen = None
    rx = re.compile(pattern, re.M)
    while proc.poll() is None:
        with open(serial, errors="replace") as f:
            if seen is None and rx.search(f.read()):
                seen = time.monotonic() - start
        time.sleep(0.02)
    with open(serial, errors="replace") as f:
        text = f.read()
    if seen is None and rx.search(text):
        seen = time.monotonic() - start
    return text, seen


def bench_boot():
    text, wall = boot_until(os.path.join(OUT, "boot"), "vcpus=1 run_for=200", r"guest: start vcpu=0")
    m = START_RE.search(text)
    if not m or wall is None:
        raise SystemExit("bench: the guest never started:\n" + text)
    return {
        "wall_s_power_on_to_guest_start": round(wall, 3),
        "emulated_ms_hv_start_to_guest_start": round(int(m[1]) * 1000 + int(m[2]) / 1000, 3),
    }


def bench_exit_cost():
    text, _ = boot_until(os.path.join(OUT, "exit"), "vcpus=1 guest.mode=cpuid run_for=3000", r"cpuid-bench")
    m = re.search(r"cpuid-bench iterations=(\d+) cpuid_ticks=(\d+) plain_insns=(\d+) plain_ticks=(\d+) "
                  r"cpuid_per_s=(\d+) insns_per_s=(\d+)", text)
    if not m:
        raise SystemExit("bench: no cpuid-bench line:\n" + text)
    iters, cpuid_ticks, insns, plain_ticks, cpuid_per_s, insns_per_s = map(int, m.groups())
    return {
        "cpuid_iterations": iters,
        "cpuid_exits_per_s": cpuid_per_s,
        "plain_insns_per_s": insns_per_s,
        "ratio_insns_per_exit": round(insns_per_s / cpuid_per_s, 1),
        "ticks_per_cpuid_exit": round(cpuid_ticks / iters, 1),
        "ticks_per_plain_insn": round(plain_ticks / insns, 3),
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    results = {"machine": "bochs tigerlake, ips=50000000, clock sync=none",
               "boot": bench_boot(), "exit": bench_exit_cost()}
    with open(os.path.join(OUT, "foundation.json"), "w") as f:
        json.dump(results, f, indent=2)
    b, e = results["boot"], results["exit"]
    rows = [
        ("boot: power-on to guest start (wall s)", b["wall_s_power_on_to_guest_start"]),
        ("boot: hypervisor start to guest start (emulated ms)", b["emulated_ms_hv_start_to_guest_start"]),
        ("exit: CPUID exits per emulated second", e["cpuid_exits_per_s"]),
        ("exit: plain guest instructions per emulated second", e["plain_insns_per_s"]),
        ("exit: plain instructions per CPUID exit (ratio)", e["ratio_insns_per_exit"]),
        ("exit: TSC ticks per CPUID exit round trip", e["ticks_per_cpuid_exit"]),
    ]
    print_table("foundation benchmark", rows, os.path.join(OUT, "foundation.json"), ROOT)


if __name__ == "__main__":
    main()
