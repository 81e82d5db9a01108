#!/usr/bin/env python3
"""Network benchmark: TCP throughput of the hypervisor's lwIP over its e1000, with lwiperf and Linux iperf 2.

Directions, each with 1 and 4 connections:
  linux->hv   `iperf -c` in the test bed's namespace to a hypervisor with net.iperf=server
  hv->linux   a hypervisor with net.iperf=client to `iperf -s` in the namespace
  hv->hv      hypervisor B (client) to hypervisor A (server) on the same bridge
MiB/s are given per wall second and per emulated second of the hypervisor's
own clock (lwiperf reports ms of sys_now(), i.e. emulated time): of the
receiver where the receiver is a hypervisor, else of the sender. Bochs
receives at most one frame per emulated millisecond, so
a hypervisor receives at most ~1.4 MiB per emulated second, and sending is
paced by the ACKs it receives. Bochs runs with clock sync=none at
BENCH_NET_IPS (default 10M) instructions per emulated second. This is the
raw link capacity migration is compared with. Prints a table; writes JSON
to build/bench/net.json. Needs root (network namespace, taps).
"""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "system"))
from machine import BUILD, ROOT  # noqa: E402
from tcpbed import BRIDGE, SUMMARY_RE, Host, bed, error_lines, host_addr  # noqa: E402

OUT = os.path.join(BUILD, "bench")
IPS = int(os.environ.get("BENCH_NET_IPS", "10000000"))
LINUX_SECONDS = 5  # iperf -c -t: wall seconds
MIB = 1 << 20


def mib_s(nbytes, seconds):
    return round(nbytes / MIB / seconds, 3) if seconds else 0.0


def csv_rows(text):
    """iperf 2 -y C lines: (id, start, end, bytes)."""
    rows = []
    for line in text.splitlines():
        f = line.split(",")
        if len(f) >= 9 and re.fullmatch(r"-?\d+", f[5]):
            start, end = (float(x) for x in f[6].split("-"))
            rows.append((int(f[5]), start, end, int(f[7])))
    return rows


def wait_reports(host, role, addr, n, seconds):
    rx = rf"perf: {role} (rx from|tx to) {re.escape(addr)}:\d+ .* kbit/s\r?\n"  # whole lines only
    host.wait(rx, seconds, count=n)
    got = [r for r in host.reports() if r["role"] == role and r["addr"] == addr]
    bad = [r for r in got if r["outcome"] != "done"]
    if len(got) < n or bad:
        raise SystemExit(f"bench: {role} reports from {addr}: wanted {n} done, got {got}\n{host.text()[-3000:]}")
    return got


def emulated(reports):
    """Bytes and emulated seconds of parallel sessions: their sum over the longest."""
    return sum(int(r["bytes"]) for r in reports), max(int(r["ms"]) for r in reports) / 1000


def linux_to_hv(ns, server, conns, seen):
    cmd = ["ip", "netns", "exec", ns, "iperf", "-c", host_addr(0), "-t", str(LINUX_SECONDS), "-y", "C"]
    if conns > 1:
        cmd += ["-P", str(conns)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=LINUX_SECONDS + 120)
    rows = [x for x in csv_rows(r.stdout) if x[0] >= 0]  # per connection; 2.1.8 prints no sum row in CSV
    if r.returncode != 0 or len(rows) < conns:
        raise SystemExit(f"bench: iperf -c failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    start, end, wall_bytes = min(x[1] for x in rows), max(x[2] for x in rows), sum(x[3] for x in rows)
    reports = wait_reports(server, "server", BRIDGE, seen + conns, 120)[seen:]
    nbytes, emu_s = emulated(reports)
    return {"bytes": nbytes, "wall_s": round(end - start, 3), "wall_mib_s": mib_s(wall_bytes, end - start),
            "emulated_s": emu_s, "emulated_mib_s": mib_s(nbytes, emu_s), "emulated_clock": "receiver (hv)"}


def hv_client(ns, work, peer, conns):
    """Boots a hypervisor with conns lwiperf clients towards peer; returns (host, wall seconds of its transfer)."""
    h = Host(ns, work, 1, f"vcpus=1 net.iperf=client net.iperf_peer={peer} net.iperf_conns={conns}", IPS,
             wall_limit=300)
    h.wait(r"I perf: \d+ iperf clients? to ", 120, poll=0.05)
    t0 = time.monotonic()
    text = h.wait(r"perf: clients done: .* kbit/s\r?\n", 180, poll=0.05)
    wall = time.monotonic() - t0
    m = SUMMARY_RE.search(text)
    if not m or m["ok"] != m["n"]:
        raise SystemExit(f"bench: hypervisor clients to {peer} did not finish:\n{text[-3000:]}")
    return h, wall, m


def hv_to_linux(ns, work, conns):
    out = os.path.join(work, f"iperf-s-{conns}.csv")
    os.makedirs(work, exist_ok=True)
    with open(out, "w") as f:
        srv = subprocess.Popen(["ip", "netns", "exec", ns, "stdbuf", "-oL", "iperf", "-s", "-B", BRIDGE, "-y", "C"],
                               stdout=f, stderr=subprocess.STDOUT)
    try:
        time.sleep(1)
        h, wall, m = hv_client(ns, os.path.join(work, f"hv-linux-{conns}"), BRIDGE, conns)
        deadline = time.monotonic() + 30
        while len(csv_rows(open(out).read())) < conns and time.monotonic() < deadline:
            time.sleep(0.2)
        text = h.text()
        h.stop()
    finally:
        srv.terminate()
        srv.wait(timeout=10)
    rows = [x for x in csv_rows(open(out).read()) if x[0] >= 0]
    if len(rows) < conns:
        raise SystemExit(f"bench: iperf -s saw {len(rows)} of {conns} connections:\n{open(out).read()}")
    lin_bytes, lin_s = sum(x[3] for x in rows), max(x[2] - x[1] for x in rows)
    nbytes, emu_s = int(m["bytes"]), int(m["ms"]) / 1000
    return {"bytes": nbytes, "linux_bytes": lin_bytes, "wall_s": round(lin_s, 3), "wall_mib_s": mib_s(lin_bytes, lin_s),
            "wall_s_hv_poll": round(wall, 3), "emulated_s": emu_s, "emulated_mib_s": mib_s(nbytes, emu_s),
            "emulated_clock": "sender (hv)"}, text


def hv_to_hv(ns, work, server, conns, seen):
    h, wall, m = hv_client(ns, os.path.join(work, f"hv-hv-{conns}"), host_addr(0), conns)
    reports = wait_reports(server, "server", host_addr(1), seen + conns, 120)[seen:]
    text = h.text()
    h.stop()
    nbytes, emu_s = emulated(reports)
    snd_s = int(m["ms"]) / 1000
    return {"bytes": nbytes, "sender_bytes": int(m["bytes"]), "wall_s": round(wall, 3),
            "wall_mib_s": mib_s(int(m["bytes"]), wall), "emulated_s": emu_s, "emulated_mib_s": mib_s(nbytes, emu_s),
            "emulated_clock": "receiver (hv A)", "sender_emulated_s": snd_s,
            "sender_emulated_mib_s": mib_s(int(m["bytes"]), snd_s)}, text


def main():
    if os.geteuid() != 0:
        raise SystemExit("bench_net: needs root (network namespace, taps)")
    work = os.path.join(OUT, "net")
    runs, texts = [], []
    t_start = time.monotonic()
    with bed("hvbench", 2) as ns:
        server = Host(ns, os.path.join(work, "server"), 0, "vcpus=1 net.iperf=server", IPS, wall_limit=1200)
        try:
            text = server.wait(r"I perf: iperf server on ", 120)
            if "I perf: iperf server on" not in text:
                raise SystemExit("bench: the iperf server did not start:\n" + text[-3000:])
            seen_linux = 0
            for conns in (1, 4):
                r = linux_to_hv(ns, server, conns, seen_linux)
                seen_linux += conns
                runs.append(dict(direction="linux->hv", conns=conns, **r))
            for conns in (1, 4):
                r, t = hv_to_linux(ns, work, conns)
                texts.append(t)
                runs.append(dict(direction="hv->linux", conns=conns, **r))
            seen_hv = 0
            for conns in (1, 4):
                r, t = hv_to_hv(ns, work, server, conns, seen_hv)
                seen_hv += conns
                texts.append(t)
                runs.append(dict(direction="hv->hv", conns=conns, **r))
            texts.append(server.text())
        finally:
            server.stop()
    errors = [l for t in texts for l in error_lines(t)]
    results = {"bochs_ips": IPS, "linux_iperf_seconds": LINUX_SECONDS, "lwiperf_client_seconds": 10,
               "wall_s_total": round(time.monotonic() - t_start, 1), "errors": errors, "runs": runs}
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "net.json")
    with open(path, "w") as f:
        json.dump(results, f, indent=2)

    print(f"network benchmark: TCP (lwiperf / iperf 2), Bochs ips={IPS // 1_000_000}M, clock sync=none")
    print(f"{'direction':<11} {'conns':>5} {'MiB':>8} {'wall s':>7} {'MiB/s wall':>10} {'emul s':>7} "
          f"{'MiB/emul s':>10}  emulated clock")
    print("-" * 86)
    for r in runs:
        print(f"{r['direction']:<11} {r['conns']:>5} {r['bytes'] / MIB:>8.2f} {r['wall_s']:>7.2f} "
              f"{r['wall_mib_s']:>10.2f} {r['emulated_s']:>7.2f} {r['emulated_mib_s']:>10.2f}  {r['emulated_clock']}")
    for r in runs:
        if "sender_emulated_mib_s" in r:
            print(f"  {r['direction']} x{r['conns']}: sender's clock {r['sender_emulated_s']:.2f} s, "
                  f"{r['sender_emulated_mib_s']:.2f} MiB/emulated s")
    if errors:
        print("error lines on the hypervisors' consoles:\n  " + "\n  ".join(errors))
    print(f"\nJSON: {os.path.relpath(path, ROOT)}")
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
