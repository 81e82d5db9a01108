#!/usr/bin/env python3
"""Log-dirty benchmarks, in Bochs with deterministic emulated time.

1. Guest write throughput with logging off, with EPT write-protection and
   with PML, for a sequential and a random writer (1 vCPU, flat out), while
   the hypervisor harvests every 100 ms as a migration's passes would: the
   guest's own writes per emulated second, as ratios to logging off.
2. Harvest cost for 64 MiB and 512 MiB of guest RAM, with a sparse dirty
   set (a hot set of 16 pages) and a dense one (a sequential writer, 1 s
   between harvests): emulated TSC ticks per harvest, per GiB of RAM and per
   harvested page, so it shows what grows with RAM and what with pages.

Prints a table; writes build/bench/dirty.json.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "system"))
from machine import BUILD, boot, workdir_for  # noqa: E402

OUT = os.path.join(BUILD, "bench")
TICKS_PER_US = 50  # Bochs ips=50000000 with clock sync=none: one TSC tick per instruction


def boot_bench(name, cmdline, megs=256):
    os.environ["BOCHS_MEGS"] = str(megs)
    try:
        b = boot(workdir_for("bench_dirty_" + name), cmdline, timeout=600)
    finally:
        os.environ.pop("BOCHS_MEGS", None)
    if b.log_lines(level="E") or "CORRUPT" in b.serial:
        raise SystemExit(f"bench {name}: errors in the run:\n{b.serial}")
    return b


def write_rate(name, pattern, backend):
    logging = f"dirty={backend} dirty.check=100 dirty.verify=0 dirty.rounds=100000" if backend else ""
    b = boot_bench(name, f"vcpus=1 guest.pattern={pattern} guest.verify=0 guest.report_ms=500 {logging} "
                         f"run_for=4500")
    rates = [int(p["rate"]) for p in b.progress(vcpu=0)][2:]  # the first second warms up
    if len(rates) < 3:
        raise SystemExit(f"bench {name}: too few progress lines:\n{b.serial}")
    return sum(rates) / len(rates)


def harvest_cost(name, mem_mb, dense, backend):
    workload = "guest.pattern=seq" if dense else "guest.pattern=hot guest.hot=16"
    period, rounds = (1000, 3) if dense else (200, 5)
    # The self-check's final pass comes one period after its last round: the run lasts past it.
    run_for = period * (rounds + 1) + 800
    b = boot_bench(name, f"vcpus=1 mem={mem_mb}M {workload} guest.verify=0 dirty={backend} "
                         f"dirty.check={period} dirty.verify=0 dirty.rounds={rounds} run_for={run_for}",
                   megs=max(256, mem_mb * 2))
    m = re.search(r"harvest cost: (\d+) ticks for (\d+) pages in (\d+) harvests of (\d+) MiB", b.serial)
    if not m:
        raise SystemExit(f"bench {name}: no harvest cost line:\n{b.serial}")
    ticks, pages, harvests, mib = map(int, m.groups())
    per_harvest = ticks / harvests
    return {
        "ram_mib": mib, "dirty_set": "dense" if dense else "sparse", "backend": backend,
        "harvests": harvests, "pages_per_harvest": round(pages / harvests, 1),
        "ticks_per_harvest": round(per_harvest), "us_per_harvest": round(per_harvest / TICKS_PER_US, 1),
        "us_per_gib": round(per_harvest / TICKS_PER_US / (mib / 1024), 1),
        "ticks_per_page": round(ticks / pages, 1) if pages else None,
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    throughput = {}
    for pattern in ("seq", "random"):
        base = write_rate(f"{pattern}_off", pattern, None)
        row = {"off_pages_per_s": round(base)}
        for backend in ("wp", "pml"):
            r = write_rate(f"{pattern}_{backend}", pattern, backend)
            row[f"{backend}_pages_per_s"] = round(r)
            row[f"{backend}_ratio"] = round(r / base, 3)
        throughput[pattern] = row
    harvest = [harvest_cost(f"{mem}_{'dense' if dense else 'sparse'}_{backend}", mem, dense, backend)
               for backend in ("wp", "pml") for dense in (False, True) for mem in (64, 512)]
    results = {"machine": "bochs tigerlake, ips=50000000, clock sync=none (1 TSC tick per instruction)",
               "write_throughput": throughput, "harvest": harvest}
    with open(os.path.join(OUT, "dirty.json"), "w") as f:
        json.dump(results, f, indent=2)

    print("guest write throughput (pages per emulated second, 1 vCPU, harvest every 100 ms)")
    print(f"{'writer':<8}{'off':>10}{'wp':>10}{'wp/off':>9}{'pml':>10}{'pml/off':>9}")
    for pattern, r in throughput.items():
        print(f"{pattern:<8}{r['off_pages_per_s']:>10}{r['wp_pages_per_s']:>10}{r['wp_ratio']:>9.3f}"
              f"{r['pml_pages_per_s']:>10}{r['pml_ratio']:>9.3f}")
    print()
    print("harvest cost (emulated time)")
    print(f"{'backend':<8}{'set':<8}{'RAM MiB':>8}{'pages/harvest':>15}{'us/harvest':>12}{'us/GiB':>10}{'ticks/page':>12}")
    for h in harvest:
        print(f"{h['backend']:<8}{h['dirty_set']:<8}{h['ram_mib']:>8}{h['pages_per_harvest']:>15}"
              f"{h['us_per_harvest']:>12}{h['us_per_gib']:>10}{str(h['ticks_per_page']):>12}")
    print("\nJSON: build/bench/dirty.json")


if __name__ == "__main__":
    main()
