#!/usr/bin/env python3
"""Migration benchmark: live migration between two hypervisor hosts in Bochs, against raw lwIP TCP on the same link.

Guests (the test guest, 8 MiB, 2 vCPUs):
  idle       guest.rate=1: one page per second per vCPU
  moderate   guest.rate=50 pages per second per vCPU, sequential
  heavy      guest.prefill=1 guest.pattern=hot: the guest first writes all the
             RAM it may use (everything above its 4 MiB image), then a hot set
             of 25% of RAM, flat out
For each guest the two hosts boot once and the VM goes back and forth, five
times (BENCH_MIGR_REPS) with each of 1, 2 and 4 data connections. Before
each migration the sender runs the link
test (host.link-test: lwIP TCP, lwiperf, 10 s) to the destination's listener
with the same number of connections: that is the raw TCP rate. Both hosts
poll while it runs, as they do during a migration, so that both measure the
same link (docs/migration-policy.md, "The test bed's clock"). Goodput is
the page bytes the sender sent (zero pages excluded) over the time from its
first to its last memory byte; both rates are on the sender's clock (Bochs'
emulated time, clock sync=none, the IPS of tests/system/migbed.py). Every
record's MAC is on: the product offers no way to turn it off.

Then a soak: at least 20 back-to-back migrations A->B->A... of the moderate
guest, each checked (done on both sides, B's digest matched, the guest's
progress continues on the destination with errors=0) and each bounded in
time: a hang fails the soak loudly.

Prints a table; writes build/bench/migration.json and, per run, a timeline
(CSV and PNG by tools/migr-plot.sh) under build/bench/migration/ from the
sender's once-per-second console progress lines. Needs root.
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import types

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "system"))
import migbed  # noqa: E402
from machine import BUILD, ROOT  # noqa: E402
from migbed import PORT, RECV_DONE_RE, SECRET, TOKEN, curl, progress, status  # noqa: E402
from tcpbed import host_addr  # noqa: E402

OUT = os.path.join(BUILD, "bench")
PLOTS = os.path.join(OUT, "migration")
MIB = 1 << 20
RAM = 8 << 20
VCPUS = 2
DOWNTIME_LIMIT_MS = 300
LINK_PORT = 5002
# BENCH_MIGR_CONNS=1,4 runs only those connection counts; BENCH_MIGR_SOAK=0 skips the soak.
CONNECTIONS = tuple(int(c) for c in os.environ.get("BENCH_MIGR_CONNS", "1,2,4").split(",") if c)
SOAK = int(os.environ.get("BENCH_MIGR_SOAK", "20"))
# Runs per guest and connection count, each a link test and the migration after it: the table gives their
# medians (a run's ratio is its own goodput over its own link test's rate). One run's ratio swings by a third
# either way (the two emulators' clocks, docs/migration-policy.md): five runs make the median hold still.
# BENCH_MIGR_REPS=1 for a quick look.
REPS = int(os.environ.get("BENCH_MIGR_REPS", "5"))
MIGRATION_WALL_S = 240   # one migration, wall seconds: longer is a hang
LINK_TEST_WALL_S = 120
COMMON = f"api.token={TOKEN} migr.secret={SECRET}"
HOT_PAGES = RAM // 4096 // 4 // VCPUS  # guest.hot is per vCPU
GUESTS = {
    "idle": "guest.rate=1",
    "moderate": "guest.rate=50",
    "heavy": f"guest.prefill=1 guest.pattern=hot guest.hot={HOT_PAGES}",
}
# BENCH_MIGR_GUESTS=moderate,heavy runs only those (the soak always runs the moderate guest).
ONLY = [g for g in os.environ.get("BENCH_MIGR_GUESTS", "").split(",") if g]
SEND_PROGRESS_RE = re.compile(
    r"^\[\s*[\d.]+\] I migr: send: (?P<phase>[\w-]+), pass (?P<pass>\d+), (?P<sent>\d+) KiB sent, (?P<left>\d+) KiB "
    r"left, (?P<zero>\d+) zero pages, dirty (?P<dirty>\d+) pages/s, (?P<bw>\d+) KiB/s, throttle (?P<thr>\d+)%, "
    r"expected downtime (?P<edt>\d+) ms, (?P<ms>\d+) ms \(", re.M)
SEND_ALL_RE = re.compile(r"I migr: send done: .* (?P<ms>\d+) ms in all")
RECV_VIEW_RE = re.compile(r"I migr: receive done: .* downtime \(this host's view\) (?P<ms>\d+) ms")
PROFILE_RE = re.compile(r"I mprof: (.*)$", re.M)
# The destination's view, on its own clock: its intake is what paces the emulated link (one frame per
# millisecond of its clock), so there both rates count the same link whatever the source's clock does.
SERVER_RE = re.compile(r"I perf: server rx from \S+ done: (?P<bytes>\d+) bytes in (?P<ms>\d+) ms")
RECV_PAGES_RE = re.compile(r"I migr: receive: (?P<bytes>\d+) bytes of page data from its first record to its "
                           r"last in (?P<ms>\d+) ms")
# A's timeline of the pause (migration/hv_migr.c): where the downtime went, against what the policy expected.
PAUSE_RE = re.compile(r"I migr: switchover: expected (?P<expected_ms>\d+) ms; from the pause: final pass of "
                      r"(?P<final_pages>\d+) pages at (?P<final_pass_ms>\d+) ms, its pages handed over "
                      r"(?P<pages_done_ms>\d+) ms, state (?P<state_done_ms>\d+) ms, READY (?P<ready_ms>\d+) ms, "
                      r"CONFIRM (?P<confirm_ms>\d+) ms")
SWITCH_RE = re.compile(r"I migr: switchover: decided on (?P<left>\d+) bytes left, (?P<queued>\d+) queued, "
                       r"(?P<state>\d+) of state, (?P<bw>\d+) B/s, round trip (?P<rtt_us>\d+) us, "
                       r"harvest (?P<harvest_us>\d+) us")
# B's, from the final pass's first record.
PAUSE_DEST_RE = re.compile(r"I migr: switchover \(this host's clock\): final pass begun to its pages in "
                           r"(?P<pages_ms>\d+) ms, READY (?P<ready_ms>\d+) ms, COMMIT (?P<commit_ms>\d+) ms, "
                           r"CONFIRM (?P<confirm_ms>\d+) ms")


def ratio(num, den):
    """num / den to 3 places, or None when either is unknown (or den is 0)."""
    return round(num / den, 3) if num is not None and den else None


def dest_goodput(text):
    """Page data over the time from the first page record to the last, on the destination's clock (MiB/s)."""
    m = RECV_PAGES_RE.search(text)
    return mib_s(int(m["bytes"]) * 1000 / int(m["ms"])) if m and int(m["ms"]) else None


def numbers(match):
    """A log line's named fields as integers, or None when the line is not there."""
    return {k: int(v) for k, v in match.groupdict().items()} if match else None


class Hang(Exception):
    pass


class Refused(Exception):
    """A host refused a request it takes in a healthy state (e.g. 500 when its memory ran out)."""


class TapMeter:
    """Wall-clock view of one host's sending: the bytes its Bochs wrote into its tap, sampled every 0.25 s.
    Wall time is the only clock both emulated hosts share (each Bochs keeps its own emulated time)."""

    def __init__(self, ns, host):
        self.cmd = ["ip", "-n", ns, "-j", "-s", "link", "show", "dev", f"tap{host}"]
        self.samples, self.stop = [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            out = subprocess.run(self.cmd, capture_output=True, text=True).stdout
            try:
                self.samples.append((time.monotonic(), json.loads(out)[0]["stats64"]["rx"]["bytes"]))
            except (ValueError, IndexError, KeyError):
                pass
            self.stop.wait(0.25)

    def done(self):
        """(wire bytes, wall seconds) from the first to the last sample interval that carried bulk data."""
        self.stop.set()
        self.thread.join()
        busy = [i for i in range(1, len(self.samples))
                if self.samples[i][1] - self.samples[i - 1][1] > 16384]
        if not busy:
            return 0, 0.0
        (t0, b0), (t1, b1) = self.samples[busy[0] - 1], self.samples[busy[-1]]
        return b1 - b0, t1 - t0


def mib_s(bytes_per_s):
    return round(bytes_per_s / MIB, 3)


def wait_for(what, seconds, poll, fn):
    """fn() until it returns something true; a Hang after seconds of wall time."""
    deadline = time.monotonic() + seconds
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            raise Hang(f"{what}: nothing after {seconds} s")
        time.sleep(poll)


def link_test(ns, hosts, src, dst, conns):
    """Raw lwIP TCP src -> dst's link-test listener: its status (rate on src's clock), the wall rate, and
    src's CPU profile of the run (the migration's terms: vCPUs, idle, each task)."""
    before, before_dst = len(hosts[src].text()), len(hosts[dst].text())
    meter = TapMeter(ns, src)
    code, body = curl(ns, src, "PUT", "host.link-test", {"peer": f"{host_addr(dst)}:{LINK_PORT}", "connections": conns})
    if code != 202:
        raise Refused(f"host.link-test on host {src} answered {code} {body}")

    def finished():
        code, body = curl(ns, src, "GET", "host.link-status")
        s = json.loads(body) if code == 200 else {}
        return s if s.get("state") in ("done", "failed") else None
    s = wait_for(f"link test {src}->{dst}", LINK_TEST_WALL_S, 0.5, finished)
    _, wall = meter.done()
    s["wall_mib_s"] = mib_s(s["bytes"] / wall) if wall else 0.0  # payload, like the goodput
    done_re = r"I mprof: link: task net "
    text = hosts[src].wait(done_re, 10, count=1 + len(re.findall(done_re, hosts[src].text()[:before])))
    s["profile"] = [p for p in PROFILE_RE.findall(text[before:]) if p.startswith("link:")]
    # The listener's report of each session, on its clock: bytes over the longest session.
    # A session that ended otherwise than done leaves no such line: then there is no figure (None).
    deadline, sessions = time.monotonic() + 10, []
    while len(sessions) < conns and time.monotonic() < deadline:
        sessions = list(SERVER_RE.finditer(hosts[dst].text()[before_dst:]))
        time.sleep(0.2)
    ms = max((int(m["ms"]) for m in sessions), default=0)
    s["dest_mib_s"] = mib_s(sum(int(m["bytes"]) for m in sessions) * 1000 / ms) if ms and len(sessions) == conns \
        else None
    # Both hosts poll during the test, so their clocks keep the pace a migration's do; should the receiver's
    # lwiperf still give up on an idle timer of its own, what ran until then is a measurement.
    if s["ms"] < 1000 or s["bytes"] == 0:
        raise Refused(f"link test {src}->{dst} x{conns} measured nothing: {s}")
    return s


def migrate(ns, hosts, src, dst, conns):
    """One migration with its checks; returns (record, timeline rows). Raises Hang when it does not end."""
    before_src, before_dst = len(hosts[src].text()), len(hosts[dst].text())
    digests_before = len(RECV_DONE_RE.findall(hosts[dst].text()))
    progress_before = len(progress(hosts[dst].text()))

    def receive():
        code, body = curl(ns, dst, "PUT", "vm.receive-migration",
                          {"listen": f"{host_addr(dst)}:{PORT}", "connections": conns})
        if code not in (202, 409):  # 409: the host still frees the VM it sent a moment ago
            raise Refused(f"vm.receive-migration on host {dst} answered {code} {body}")
        return code == 202
    wait_for(f"host {dst} ready to receive", 30, 0.5, receive)
    meter = TapMeter(ns, src)
    t0 = time.monotonic()
    code, body = curl(ns, src, "PUT", "vm.send-migration",
                      {"destination": f"{host_addr(dst)}:{PORT}", "connections": conns,
                       "downtime_ms": DOWNTIME_LIMIT_MS})
    if code != 202:
        raise Refused(f"vm.send-migration on host {src} answered {code} {body}")
    s = wait_for(f"migration {src}->{dst}", MIGRATION_WALL_S, 0.5,
                 lambda: (lambda x: x if x["state"] in ("done", "failed", "committed-unconfirmed") else None)(
                     status(ns, src)))
    wall = time.monotonic() - t0
    wire, wire_wall = meter.done()
    d = wait_for(f"destination {dst} done", 60, 0.5,
                 lambda: (lambda x: x if x["state"] in ("done", "failed", "listening") else None)(status(ns, dst)))
    sends_before = len(re.findall(r"I migr: send (done|failed)", hosts[src].text()[:before_src]))
    src_text = hosts[src].wait(r"I migr: send (done|failed)", 30, count=sends_before + 1)[before_src:]
    ok = s["state"] == "done" and d["state"] == "done"
    # This migration's line, not an earlier one's: a host that received before already has one.
    dst_text = hosts[dst].wait(RECV_DONE_RE.pattern, 30 if ok else 1, count=digests_before + 1)
    digest = ok and len(RECV_DONE_RE.findall(dst_text)) == digests_before + 1
    guest_ok = False
    if ok:
        # The guest carries on at the destination: new progress lines from both vCPUs, none with an error.
        text = hosts[dst].wait(r"\[vm0/vcpu1\] progress", 60, count=progress_before // 2 + 3)
        after = progress(text)[progress_before:]
        guest_ok = {p["vcpu"] for p in after} == {"0", "1"} and all(p["errors"] == "0" for p in after)
    rows = [(int(m["ms"]) / 1000, int(m["left"]) * 1024, int(m["dirty"]), int(m["thr"]), int(m["bw"]) * 1024)
            for m in SEND_PROGRESS_RE.finditer(src_text)]
    if ok and s["elapsed_ms"]:
        rows.append((s["elapsed_ms"] / 1000, 0, s["dirty_rate"], s["throttle_percent"], s["bandwidth"]))
    total = SEND_ALL_RE.search(src_text)
    b_view = RECV_VIEW_RE.search(hosts[dst].text()[before_dst:])
    rec = {
        "direction": f"{'AB'[src]}->{'AB'[dst]}", "connections": conns, "ram_bytes": RAM,
        "state": s["state"], "failure": s["failure"],
        "total_ms": int(total["ms"]) if total else s["elapsed_ms"],
        "downtime_ms": s["downtime_ms"], "downtime_dest_view_ms": int(b_view["ms"]) if b_view else None,
        "expected_downtime_ms": s["expected_downtime_ms"],
        # Pauses called off before COMMIT (they would have outlasted the limit): the guest saw them too.
        "pauses_called_off": s["pauses_called_off"], "called_off_ms": s["called_off_ms"],
        "longest_pause_ms": max(s["downtime_ms"], s["called_off_ms"]),
        "downtime_limit_ms": DOWNTIME_LIMIT_MS, "passes": s["pass"], "peak_throttle": s["peak_throttle_percent"],
        "bytes_sent": s["bytes_sent"], "page_bytes_sent": s["page_bytes_sent"], "zero_pages": s["zero_pages"],
        "memory_first_ms": s["memory_first_ms"], "memory_last_ms": s["memory_last_ms"],
        "goodput_mib_s": mib_s(s["goodput"]), "converged": s["state"] == "done" and
        not s["policy"].startswith("precopy timed out"), "digest_match": digest, "guest_ok": guest_ok,
        "policy": s["policy"], "wall_s": round(wall, 2), "wire_bytes": wire, "wire_wall_s": round(wire_wall, 2),
        "goodput_wall_mib_s": mib_s(s["page_bytes_sent"] / wire_wall) if wire_wall else 0.0,
        # Where each host's time went (migration/hv_prof.c's summary at the end of the migration).
        "pause_timeline": numbers(PAUSE_RE.search(src_text)),
        "switch_decision": numbers(SWITCH_RE.search(src_text)),
        "pause_timeline_dest": numbers(PAUSE_DEST_RE.search(dst_text[before_dst:])),
        "goodput_dest_mib_s": dest_goodput(dst_text[before_dst:]),
        "profile_src": PROFILE_RE.findall(src_text), "profile_dst": PROFILE_RE.findall(dst_text[before_dst:]),
    }
    return rec, rows


def write_timeline(name, rows):
    os.makedirs(PLOTS, exist_ok=True)
    path = os.path.join(PLOTS, f"{name}.csv")
    with open(path, "w") as f:
        f.write("t_s,remaining_bytes,dirty_pages_s,throttle_pct,bandwidth_bytes_s\n")
        for r in rows:
            f.write(",".join(str(x) for x in r) + "\n")
    return os.path.join(PLOTS, f"{name}.png")


def hosts_for(name, guest):
    """A and B booted by migbed's two_hosts (its IPS and clock settings), both with a link-test listener."""
    request = types.SimpleNamespace(node=types.SimpleNamespace(name=f"bench_migration_{name}"))
    return migbed.two_hosts(request, f"hvmb{name[:3]}", f"vcpus={VCPUS} mem={RAM >> 20}M {guest} {COMMON}",
                            f"vm=none {COMMON}", 3000)


def listen_both(ns):
    for i in (0, 1):
        code, body = curl(ns, i, "PUT", "host.link-listen", {"listen": f"{host_addr(i)}:{LINK_PORT}"})
        if code != 202:
            raise Refused(f"host.link-listen on host {i} answered {code} {body}")


def guest_runs(kind, guest):
    runs = []
    with hosts_for(kind, guest) as (ns, hosts):
        listen_both(ns)
        src = 0
        for conns, rep in [(c, r) for c in CONNECTIONS for r in range(REPS)]:
            dst = 1 - src
            raw = link_test(ns, hosts, src, dst, conns)
            rec, rows = migrate(ns, hosts, src, dst, conns)
            rec = {"guest": kind, "rep": rep, **rec, "raw_tcp_mib_s": mib_s(raw["rate"]), "raw_tcp_bytes": raw["bytes"],
                   "raw_tcp_ms": raw["ms"], "raw_tcp_complete": raw["state"] == "done",
                   "raw_tcp_wall_mib_s": raw["wall_mib_s"], "profile_link_src": raw["profile"],
                   "raw_tcp_dest_mib_s": raw["dest_mib_s"]}
            rec["goodput_ratio_dest"] = ratio(rec["goodput_dest_mib_s"], raw["dest_mib_s"])
            rec["goodput_ratio"] = ratio(rec["goodput_mib_s"], rec["raw_tcp_mib_s"])
            rec["goodput_ratio_wall"] = ratio(rec["goodput_wall_mib_s"], raw["wall_mib_s"])
            rec["plot"] = os.path.relpath(write_timeline(f"{kind}-{conns}conn-{rep + 1}", rows), ROOT)
            runs.append(rec)
            print(f"  {kind} x{conns} run {rep + 1}: {rec['state']}, {rec['total_ms']} ms, "
                  f"downtime {rec['downtime_ms']} ms, "
                  f"goodput {rec['goodput_mib_s']} MiB/s, raw {rec['raw_tcp_mib_s']} MiB/s (sender's clock); "
                  f"wall {rec['goodput_wall_mib_s']} / {rec['raw_tcp_wall_mib_s']} MiB/s", flush=True)
            for line in rec["profile_link_src"] + rec["profile_src"] + rec["profile_dst"]:
                print(f"    {line}", flush=True)
            if rec["state"] != "done":
                break  # the VM stayed where it was: this guest's hosts are done
            src = dst
    return runs


def soak():
    """Back-to-back migrations, each checked; returns a summary. A hang ends it and is reported."""
    done, downtimes, views, problems = 0, [], [], []
    called_off, longest = 0, 0
    t0 = time.monotonic()
    try:
        with hosts_for("soak", GUESTS["moderate"]) as (ns, hosts):
            src = 0
            for i in range(SOAK):
                conns = CONNECTIONS[i % len(CONNECTIONS)]
                try:
                    rec, _ = migrate(ns, hosts, src, 1 - src, conns)
                except Hang as e:
                    problems.append(f"migration {i + 1} ({'AB'[src]}->{'AB'[1 - src]}) HUNG: {e}")
                    break
                except Refused as e:
                    problems.append(f"migration {i + 1} ({'AB'[src]}->{'AB'[1 - src]}) refused: {e}")
                    break
                checks = {"done": rec["state"] == "done", "digest matched": rec["digest_match"],
                          "guest carries on, errors=0": rec["guest_ok"]}
                failed = [k for k, v in checks.items() if not v]
                if failed:
                    problems.append(f"migration {i + 1} ({rec['direction']}): not {', '.join(failed)} "
                                    f"(state {rec['state']}, failure {rec['failure']!r})")
                    break
                done += 1
                downtimes.append(rec["downtime_ms"])
                called_off += rec["pauses_called_off"]
                longest = max(longest, rec["longest_pause_ms"])
                views.append({"downtime_ms": rec["downtime_ms"], "expected_ms": rec["expected_downtime_ms"],
                              "pauses_called_off": rec["pauses_called_off"], "called_off_ms": rec["called_off_ms"],
                              "dest_view_ms": rec["downtime_dest_view_ms"], "connections": conns,
                              "direction": rec["direction"]})
                src = 1 - src
    except AssertionError as e:  # two_hosts' checks at the end: an error line on a console
        problems.append(f"console error lines: {e}")
    stats = {}
    if downtimes:
        q = sorted(downtimes)
        stats = {"min": q[0], "median": statistics.median(q), "mean": round(statistics.mean(q), 1),
                 "p90": q[min(len(q) - 1, int(0.9 * len(q)))], "max": q[-1]}
    return {"asked": SOAK, "completed": done, "downtime_ms": stats, "downtimes_ms": downtimes,
            "pauses_called_off": called_off, "longest_pause_ms": longest,
            "pauses": views, "problems": problems, "wall_s": round(time.monotonic() - t0, 1)}


def fmt(v, width, digits):
    """A number right-aligned to width with digits after the point, or '-' when there is none."""
    return f"{v:>{width}.{digits}f}" if v is not None else f"{'-':>{width}}"


def table(runs):
    head = (f"{'guest':<9} {'conns':>5} {'dir':<5} {'total ms':>8} {'down ms':>7} {'off':>3} {'passes':>6} {'thr %':>5} "
            f"{'sent/RAM':>8} {'goodput':>8} {'raw TCP':>8} {'ratio':>6} {'wall gp':>8} {'wall raw':>8} {'ratio':>6} "
            f"{'B ratio':>7} {'conv':>5} {'digest':>6}")
    print(head)
    print("-" * len(head))
    for r in runs:
        raw = f"{r['raw_tcp_mib_s']:.3f}{'' if r['raw_tcp_complete'] else '*'}"
        print(f"{r['guest']:<9} {r['connections']:>5} {r['direction']:<5} {r['total_ms']:>8} {r['downtime_ms']:>7} "
              f"{r['pauses_called_off']:>3} {r['passes']:>6} {r['peak_throttle']:>5} {r['bytes_sent'] / RAM:>8.2f} {r['goodput_mib_s']:>8.3f} "
              f"{raw:>8} {fmt(r['goodput_ratio'], 6, 2)} {r['goodput_wall_mib_s']:>8.3f} "
              f"{r['raw_tcp_wall_mib_s']:>8.3f} "
              f"{fmt(r['goodput_ratio_wall'], 6, 2)} {fmt(r['goodput_ratio_dest'], 7, 2)} "
              f"{'yes' if r['converged'] else 'NO':>5} "
              f"{'yes' if r['digest_match'] else 'NO':>6}")


def summary(runs):
    """Per guest and connection count: the medians of its runs (ratios paired run by run), the worst downtime."""
    out = []
    for kind in dict.fromkeys(r["guest"] for r in runs):
        for conns in dict.fromkeys(r["connections"] for r in runs if r["guest"] == kind):
            rs = [r for r in runs if r["guest"] == kind and r["connections"] == conns]

            def med(key):
                v = [r[key] for r in rs if r.get(key) is not None]
                return statistics.median(v) if v else None
            out.append({"guest": kind, "connections": conns, "runs": len(rs), "total_ms": med("total_ms"),
                        "downtime_ms_max": max(r["downtime_ms"] for r in rs), "passes": med("passes"),
                        "pauses_called_off": sum(r["pauses_called_off"] for r in rs),
                        "longest_pause_ms": max(r["longest_pause_ms"] for r in rs),
                        "peak_throttle_max": max(r["peak_throttle"] for r in rs),
                        "sent_ram": round(statistics.median(r["bytes_sent"] / RAM for r in rs), 2),
                        "goodput_mib_s": med("goodput_mib_s"), "raw_tcp_mib_s": med("raw_tcp_mib_s"),
                        "goodput_ratio": med("goodput_ratio"), "goodput_ratio_wall": med("goodput_ratio_wall"),
                        "goodput_ratio_dest": med("goodput_ratio_dest"),
                        "ratios": [r["goodput_ratio"] for r in rs],
                        "converged": all(r["converged"] for r in rs),
                        "digest_match": all(r["digest_match"] for r in rs)})
    return out


def summary_table(rows):
    head = (f"{'guest':<9} {'conns':>5} {'runs':>4} {'total ms':>8} {'max down':>8} {'off':>3} {'passes':>6} "
            f"{'max thr':>7} "
            f"{'sent/RAM':>8} {'goodput':>8} {'raw TCP':>8} {'ratio':>6} {'wall':>6} {'B':>5}  {'ratios':<24} "
            f"{'conv':>4} "
            f"{'digest':>6}")
    print(head)
    print("-" * len(head))
    for r in rows:
        ratios = " ".join(fmt(x, 4, 2) for x in r["ratios"])
        print(f"{r['guest']:<9} {r['connections']:>5} {r['runs']:>4} {fmt(r['total_ms'], 8, 0)} "
              f"{r['downtime_ms_max']:>8} {r['pauses_called_off']:>3} {fmt(r['passes'], 6, 0)} {r['peak_throttle_max']:>7} {r['sent_ram']:>8.2f} "
              f"{fmt(r['goodput_mib_s'], 8, 3)} "
              f"{fmt(r['raw_tcp_mib_s'], 8, 3)} {fmt(r['goodput_ratio'], 6, 2)} {fmt(r['goodput_ratio_wall'], 6, 2)} "
              f"{fmt(r['goodput_ratio_dest'], 5, 2)}  {ratios:<24} {'yes' if r['converged'] else 'NO':>4} {'yes' if r['digest_match'] else 'NO':>6}")


def main():
    if os.geteuid() != 0:
        raise SystemExit("bench_migration: needs root (network namespace, taps)")
    t_start = time.monotonic()
    shutil.rmtree(PLOTS, ignore_errors=True)  # an older run's timelines must not pass for this one's
    runs, errors = [], []
    for kind, guest in GUESTS.items():
        if ONLY and kind not in ONLY:
            continue
        try:
            runs += guest_runs(kind, guest)
        except (AssertionError, Hang, Refused) as e:
            errors.append(f"{kind}: {e}")
            print(f"  {kind}: {e}", flush=True)
    plots = subprocess.run([os.path.join(ROOT, "tools", "migr-plot.sh"), PLOTS], capture_output=True, text=True)
    s = soak() if SOAK else {"asked": 0, "completed": 0, "downtime_ms": {}, "downtimes_ms": [], "problems": [],
                             "wall_s": 0.0}
    results = {
        "bochs_ips": migbed.IPS, "clock": "sender's emulated clock (Bochs, clock sync=none)",
        "mac": "on (HMAC handshake, a MAC on every record); the product offers no way to turn it off",
        "guests": {k: f"vcpus={VCPUS} mem={RAM >> 20}M {v}" for k, v in GUESTS.items()},
        "wall_clock": "goodput_wall_mib_s and raw_tcp_wall_mib_s: wall time, the one clock both emulators share, "
                      "from the sender's tap counters sampled every 0.25 s",
        "timeline_source": "the sender's console progress lines, once per emulated second, plus the final status",
        "wall_s_total": round(time.monotonic() - t_start, 1), "errors": errors, "runs": runs,
        "summary": summary(runs), "soak": s,
    }
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "migration.json")
    with open(path, "w") as f:
        json.dump(results, f, indent=2)

    print(f"\nmigration benchmark: {RAM >> 20} MiB, {VCPUS} vCPUs, downtime limit {DOWNTIME_LIMIT_MS} ms, "
          f"Bochs ips={migbed.IPS // 1_000_000}M; MiB/s on the sender's emulated clock")
    print("MAC on in every run (the product cannot turn it off). heavy: hot set of 25% of RAM flat out; the guest "
          "cannot write all its RAM first, the rest stays zero.")
    print("goodput, raw TCP: MiB/s on the sender's emulated clock; wall gp, wall raw: MiB/s of wall time (page bytes "
          "over the wall time the sender's tap carried bulk data; the link test's payload likewise).\n"
          "B ratio: the same two rates on the destination's clock (page data from its first record to its last; the "
          "link test's sessions as its listener reported them): its intake paces the emulated link.\n"
          "* raw TCP: the receiver's lwiperf gave up before the 10 s (an idle timer of its own); the rate "
          "is over the part that ran.")
    table(runs)
    print(f"\nMedians of {REPS} runs per guest and connection count (ratio: the median of each run's goodput over its "
          f"own link test; ratios: each run's; max down, max thr: the worst run's)")
    summary_table(results["summary"])
    print("off: pauses called off before COMMIT, each shorter than the limit (the VM ran on the source again); "
          "max down: the pause that completed")
    for r in runs:
        if r["longest_pause_ms"] > r["downtime_limit_ms"]:
            print(f"  over the limit: {r['guest']} x{r['connections']} downtime {r['downtime_ms']} ms, "
                  f"longest pause called off {r['called_off_ms']} ms")
    print(f"\nsoak: {s['completed']} of {s['asked']} migrations done and checked, downtime ms {s['downtime_ms']}, "
          f"{s.get('pauses_called_off', 0)} pauses called off (longest pause {s.get('longest_pause_ms', 0)} ms), "
          f"{s['wall_s']} s wall")
    for p in s["problems"] + errors:
        print(f"  PROBLEM: {p}")
    print(plots.stdout.strip() or plots.stderr.strip())
    print(f"JSON: {os.path.relpath(path, ROOT)}; timelines: {os.path.relpath(PLOTS, ROOT)}/*.png; "
          f"wall {results['wall_s_total']} s")
    if errors or s["problems"] or not runs or not all(r["digest_match"] for r in runs):
        sys.exit(1)


if __name__ == "__main__":
    main()
