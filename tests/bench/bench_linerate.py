#!/usr/bin/env python3
"""Line-rate benchmark: the migration stream as a Linux program, beside iperf3 and QEMU's own migration.

On loopback inside a namespace of its own, every byte through the delay relay (tools/relay/; "0 ms" is
the same relay holding nothing). For 1, 2, 4 and 8 connections, at 0 and 5 ms each way: ours migrating
LINERATE_MEM of non-zero memory with idle writers, iperf3 with as many streams, and QEMU migrating as much
non-zero guest memory with as many multifd channels, interleaved, LINERATE_REPS times each; the table
shows the medians. Then ours on all-zero memory (zero-page elision), a moderate and a write-heavy writer
under the real policy, and a soak of LINERATE_SOAK small back-to-back migrations, each verified.
Writes one record per run to build/bench/linerate.json and checks the issue's targets at the end.
A run whose digests differ fails the benchmark. Without the program, ours is reported as not run.

Environment: LINERATE_MEM (MiB, 2048), LINERATE_REPS (3), LINERATE_CONNS ("1,2,4,8"), LINERATE_DELAYS
("0,5"), LINERATE_IPERF_S (iperf3 seconds, 3), LINERATE_SOAK (3000), LINERATE_SOAK_MEM (MiB, 4),
LINERATE_QEMU (1; 0 skips QEMU), LINERATE_PROG (the program). Needs root (namespace).
"""
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "system"))
from machine import BUILD  # noqa: E402
from relaybed import Netns, Relay, bed_missing  # noqa: E402
import linerate_qemu  # noqa: E402
import linerate_runs  # noqa: E402
from linerate_runs import MIB, ours_missing, run_iperf3, run_ours  # noqa: E402

OUT = os.path.join(BUILD, "bench")
WORK = os.path.join(BUILD, "bench", "linerate")
FILL_ELF = os.path.join(BUILD, "bench", "qemu-fill.elf")


def env_list(name, default):
    return [int(x) for x in os.environ.get(name, default).split(",") if x]


MEM = int(os.environ.get("LINERATE_MEM", "2048")) * MIB
REPS = int(os.environ.get("LINERATE_REPS", "3"))
CONNS = env_list("LINERATE_CONNS", "1,2,4,8")
DELAYS = env_list("LINERATE_DELAYS", "0,5")
IPERF_S = int(os.environ.get("LINERATE_IPERF_S", "3"))
SOAK = int(os.environ.get("LINERATE_SOAK", "3000"))
SOAK_MEM = int(os.environ.get("LINERATE_SOAK_MEM", "4")) * MIB
QEMU_ON = os.environ.get("LINERATE_QEMU", "1") != "0"
SOAK_CONNS = (1, 2, 4, 8, 16)
SOAK_PATTERNS = ("none", "seq", "random", "hot")
# The writers of the policy runs: a tenth of loopback's rate, and flat out (the policy must throttle them).
WRITERS = {"moderate": {"pattern": "random", "rate": 200, "writers": 1},
           "write-heavy": {"pattern": "random", "rate": "flat", "writers": 2}}
WRITER_CONNS, WRITER_DELAY = 4, 0


def median(values):
    vals = [v for v in values if v is not None]
    return round(statistics.median(vals), 3) if vals else None


def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def one_run(ns, conns, delay, rep, ours_ok):
    """ours, iperf3 and QEMU back to back on one configuration: one record."""
    tag = f"c{conns}-d{delay}-r{rep}"
    rec = {"connections": conns, "delay_ms": delay, "memory": "nonzero", "memory_bytes": MEM, "rep": rep}
    if ours_ok:
        o = run_ours(ns, os.path.join(WORK, tag, "ours"), conns, delay, MEM)
        rec.update(o if "error" not in o else {"ours_error": o["error"], "digest_match": False})
    else:
        rec.update({"ours_mib_s": None, "digest_match": None, "ours": "not run"})
    rec.update(run_iperf3(ns, os.path.join(WORK, tag, "iperf3"), conns, delay, IPERF_S, rec.get("congestion")))
    if QEMU_ON:
        try:
            rec.update(linerate_qemu.migrate(ns, os.path.join(WORK, tag, "qemu"), FILL_ELF, MEM, conns, delay))
        except RuntimeError as e:
            rec["qemu_error"] = str(e)[:500]
    rec["ratio_iperf3"] = ratio(rec.get("ours_mib_s"), rec.get("iperf3_mib_s"))
    rec["ratio_qemu"] = ratio(rec.get("ours_mib_s"), rec.get("qemu_mib_s"))
    return rec


def summarize(records):
    """Medians per (connections, delay, memory)."""
    keys = ["ours_mib_s", "iperf3_mib_s", "qemu_mib_s", "cpu_s_per_gib_send", "cpu_s_per_gib_recv",
            "iperf3_cpu_s_per_gib_send", "iperf3_cpu_s_per_gib_recv", "qemu_cpu_s_per_gib_send",
            "qemu_cpu_s_per_gib_recv", "qemu_downtime_ms", "downtime_ms", "bytes", "memory_mib_s", "steal_pct",
            "iperf3_steal_pct"]
    groups = {}
    for r in records:
        groups.setdefault((r["connections"], r["delay_ms"], r["memory"]), []).append(r)
    out = []
    for (c, d, m), rs in groups.items():
        s = {"connections": c, "delay_ms": d, "memory": m, "runs": len(rs)}
        for k in keys:
            s[k] = median([r.get(k) for r in rs])
        s["ratio_iperf3"] = ratio(s["ours_mib_s"], s["iperf3_mib_s"])
        s["ratio_qemu"] = ratio(s["ours_mib_s"], s["qemu_mib_s"])
        dm = [r.get("digest_match") for r in rs]
        s["digest_match"] = None if all(x is None for x in dm) else all(x is True for x in dm)
        out.append(s)
    return out


def fmt(v, width=8, digits=0):
    if v is None:
        return "-".rjust(width)
    if isinstance(v, bool):
        return ("yes" if v else "NO").rjust(width)
    return f"{v:.{digits}f}".rjust(width) if isinstance(v, float) else str(v).rjust(width)


def table(summary, ours_note):
    print(f"\nLine rate on loopback through the delay relay: {MEM // MIB} MiB, median of {REPS} "
          f"(MiB/s; CPU s/GiB sender/receiver; steal: % of this machine's CPU time its host took during ours/iperf3)")
    if ours_note:
        print(f"  ours: NOT RUN ({ours_note}); its columns are empty, not zero")
    print(f"{'conns':>5} {'delay':>5} {'memory':>7} | {'ours':>8} {'iperf3':>8} {'ratio':>6} {'qemu':>8} "
          f"{'vs qemu':>7} | {'ours cpu':>11} {'iperf3 cpu':>11} {'qemu cpu':>11} | {'qemu dt':>7} {'digest':>6} | "
          f"{'steal %':>9}")
    for s in sorted(summary, key=lambda s: (s["memory"] != "nonzero", s["connections"], s["delay_ms"])):
        def cpu(a, b):
            return f"{fmt(a, 5, 2)}/{fmt(b, 5, 2)}"
        print(f"{s['connections']:>5} {s['delay_ms']:>3}ms {s['memory']:>7} | {fmt(s['ours_mib_s'])} "
              f"{fmt(s['iperf3_mib_s'])} {fmt(s['ratio_iperf3'], 6, 2)} {fmt(s['qemu_mib_s'])} "
              f"{fmt(s['ratio_qemu'], 7, 2)} | {cpu(s['cpu_s_per_gib_send'], s['cpu_s_per_gib_recv'])} "
              f"{cpu(s['iperf3_cpu_s_per_gib_send'], s['iperf3_cpu_s_per_gib_recv'])} "
              f"{cpu(s['qemu_cpu_s_per_gib_send'], s['qemu_cpu_s_per_gib_recv'])} | "
              f"{fmt(s['qemu_downtime_ms'], 7)} {fmt(s['digest_match'], 6)} | "
              f"{fmt(s['steal_pct'], 4, 1)}/{fmt(s['iperf3_steal_pct'], 4, 1)}")
    for s in summary:
        if s["memory"] == "zero" and s["memory_mib_s"] is not None:
            print(f"  all-zero memory, {s['connections']} conn: {s['memory_mib_s']:.0f} MiB of memory per second, "
                  f"{s['bytes']} bytes on the wire (CPU s/GiB above: per GiB on the wire)")


def zero_runs(ns, ours_ok):
    """Ours on all-zero memory: what zero-page elision saves (iperf3 beside it for the ratio)."""
    recs = []
    for rep in range(REPS if ours_ok else 0):
        tag = f"zero-r{rep}"
        rec = {"connections": 1, "delay_ms": 0, "memory": "zero", "memory_bytes": MEM, "rep": rep}
        o = run_ours(ns, os.path.join(WORK, tag, "ours"), 1, 0, MEM, zero=True)
        rec.update(o if "error" not in o else {"ours_error": o["error"], "digest_match": False})
        rec.update(run_iperf3(ns, os.path.join(WORK, tag, "iperf3"), 1, 0, IPERF_S, rec.get("congestion")))
        rec["ratio_iperf3"] = ratio(rec.get("ours_mib_s"), rec.get("iperf3_mib_s"))
        recs.append(rec)
    return recs


def writer_runs(ns, ours_ok):
    """The real policy against a moderate and a write-heavy writer: time, passes, bytes/memory, downtime."""
    out = []
    for name, w in (WRITERS.items() if ours_ok else ()):
        for rep in range(REPS):
            o = run_ours(ns, os.path.join(WORK, f"writer-{name}-r{rep}"), WRITER_CONNS, WRITER_DELAY, MEM, **w)
            rec = {"writer": name, "connections": WRITER_CONNS, "delay_ms": WRITER_DELAY, "memory": "nonzero",
                   "memory_bytes": MEM, "rep": rep, **w}
            rec.update(o if "error" not in o else {"ours_error": o["error"], "digest_match": False})
            out.append(rec)
    if out:
        print(f"\nThe real policy with writers ({WRITER_CONNS} connections, {WRITER_DELAY} ms; median of {REPS})")
        print(f"{'writer':>12} | {'total s':>8} {'passes':>6} {'bytes/mem':>9} {'downtime':>8} {'MiB/s':>8} {'digest':>6}")
        for name in WRITERS:
            rs = [r for r in out if r["writer"] == name]
            dm = all(r.get("digest_match") is True for r in rs)
            print(f"{name:>12} | {fmt(median([r.get('total_s') for r in rs]), 8, 2)} "
                  f"{fmt(median([r.get('passes') for r in rs]), 6)} "
                  f"{fmt(median([r.get('bytes_per_memory') for r in rs]), 9, 2)} "
                  f"{fmt(median([r.get('downtime_ms') for r in rs]), 8)} "
                  f"{fmt(median([r.get('ours_mib_s') for r in rs]))} {fmt(dm, 6)}")
    return out


def soak(ns, ours_ok):
    """SOAK small migrations back to back through one 0 ms relay, each verified and bounded in time."""
    if not ours_ok or not SOAK:
        return {"runs": 0, "passed": None, "note": "not run"}
    t0 = time.monotonic()
    done, failure = 0, None
    work = os.path.join(WORK, "soak")
    relay = Relay(ns, linerate_runs.OURS_PORT, 0, work)
    try:
        for i in range(SOAK):
            conns, pattern = SOAK_CONNS[i % len(SOAK_CONNS)], SOAK_PATTERNS[i % len(SOAK_PATTERNS)]
            o = run_ours(ns, work, conns, 0, SOAK_MEM, pattern=pattern, writers=1 if pattern != "none" else None,
                         seconds=60, relay=relay)
            if "error" in o or o.get("digest_match") is not True:
                failure = {"run": i, "connections": conns, "pattern": pattern, **o}
                break
            done += 1
            if (i + 1) % 500 == 0:
                print(f"  soak: {i + 1} of {SOAK} verified ({time.monotonic() - t0:.0f} s)", flush=True)
    finally:
        totals = relay.stop()
    return {"runs": SOAK, "verified": done, "passed": failure is None and done == SOAK, "failure": failure,
            "memory_bytes": SOAK_MEM, "seconds": round(time.monotonic() - t0, 1), "relay": totals}


def criteria(summary, soak_result, ours_ok):
    """The issue's targets, each with its verdict (None: could not be judged in this run)."""
    def get(c, d, key, mem="nonzero"):
        for s in summary:
            if s["connections"] == c and s["delay_ms"] == d and s["memory"] == mem:
                return s.get(key)
        return None
    out = []
    r1 = get(1, 0, "ratio_iperf3")
    out.append(("1 connection: ours >= 90% of iperf3 (0 ms)", None if r1 is None else r1 >= 0.9, r1))
    o5, o0 = get(4, 5, "ours_mib_s"), get(4, 0, "ours_mib_s")
    r45 = ratio(o5, o0)
    out.append(("4 connections: ours at 5 ms >= 80% of ours at 0 ms", None if r45 is None else r45 >= 0.8, r45))
    for c in CONNS:
        for d in DELAYS:
            rq = get(c, d, "ratio_qemu")
            out.append((f"{c} conn, {d} ms: ours ahead of QEMU", None if rq is None else rq > 1, rq))
    dms = [s["digest_match"] for s in summary if s["digest_match"] is not None]
    out.append(("every digest matches", all(dms) if dms else None, len(dms)))
    out.append((f"soak of {SOAK} passes", soak_result.get("passed"), soak_result.get("verified")))
    print("\nTargets")
    for name, ok, val in out:
        verdict = "n/a (ours not run)" if ok is None and not ours_ok else "n/a" if ok is None else (
            "PASS" if ok else "FAIL")
        print(f"  {verdict:>18}  {name}  [{val}]")
    return [{"target": n, "pass": ok, "value": v} for n, ok, v in out]


def main():
    # Configured by the environment alone: any argument (--help) shows how, and runs nothing.
    if len(sys.argv) > 1:
        print(__doc__)
        raise SystemExit(0 if sys.argv[1] in ("-h", "--help") else 2)
    why = bed_missing() or ("" if os.path.exists(FILL_ELF) else f"{FILL_ELF} is missing")
    if why:
        raise SystemExit(f"bench-linerate: {why}")
    os.makedirs(WORK, exist_ok=True)
    ours_note = ours_missing()
    ours_ok = not ours_note
    if not ours_ok:
        print(f"bench-linerate: ours NOT RUN: {ours_note}; iperf3 and QEMU baselines only", flush=True)
    records = []
    t0 = time.monotonic()
    with Netns("lrbench") as ns:
        for conns in CONNS:
            for delay in DELAYS:
                for rep in range(REPS):
                    rec = one_run(ns, conns, delay, rep, ours_ok)
                    records.append(rec)
                    print(f"  {conns} conn {delay} ms run {rep + 1}: ours {fmt(rec.get('ours_mib_s'))} "
                          f"iperf3 {fmt(rec.get('iperf3_mib_s'))} qemu {fmt(rec.get('qemu_mib_s'))} MiB/s, "
                          f"steal {fmt(rec.get('steal_pct'), 1, 1)}/{fmt(rec.get('iperf3_steal_pct'), 1, 1)} % "
                          f"({time.monotonic() - t0:.0f} s)", flush=True)
        records += zero_runs(ns, ours_ok)
        summary = summarize(records)
        table(summary, ours_note)
        writers = writer_runs(ns, ours_ok)
        soak_result = soak(ns, ours_ok)
    print(f"\nSoak: {soak_result}")
    targets = criteria(summary, soak_result, ours_ok)
    result = {"memory_bytes": MEM, "reps": REPS, "iperf3_seconds": IPERF_S, "ours_run": ours_ok,
              "ours_note": ours_note or None, "path": "loopback in a namespace, through tools/relay",
              "records": records, "summary": summary, "writers": writers, "soak": soak_result, "targets": targets,
              "seconds": round(time.monotonic() - t0, 1)}
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "linerate.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(f"wrote {os.path.join(OUT, 'linerate.json')}")
    bad = [r for r in records + writers if r.get("digest_match") is False]
    if bad or soak_result.get("passed") is False:
        raise SystemExit(f"bench-linerate: {len(bad)} runs with a failed digest or error; soak "
                         f"{soak_result.get('passed')}: see {WORK}")


if __name__ == "__main__":
    main()
