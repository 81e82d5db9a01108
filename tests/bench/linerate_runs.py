"""One run of each contender of the line-rate benchmark, all through the same delay relay in the bed's namespace.

ours    the migration program (LINERATE_PROG, build/linerate/ferry-migrate): `recv`, then `send` through the
        relay; its figures come from the --json record each side writes (ours_figures(): the one place that
        knows the program's key names and command line).
iperf3  `iperf3 -c` with the same number of streams through the relay to a one-off `iperf3 -s`; goodput is
        what the server received over its own time (the client counts what the relay absorbed too).
CPU seconds per GiB are each process's own: rusage of the iperf3 processes over their whole life; the
migration program's own report of its migration (its start-up fills memory), else its rusage.
"""
import json
import os
import secrets

from relaybed import Relay, wait_listening

MIB = 1 << 20
GIB = 1 << 30
OURS_PORT = 7100
IPERF_PORT = 5201
PROG = os.environ.get("LINERATE_PROG") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "build", "linerate", "ferry-migrate")


def ours_missing():
    """Why ours cannot run ('' if it can)."""
    return "" if os.access(PROG, os.X_OK) else f"{os.path.relpath(PROG)} is not built"


def _pick(rec, *keys):
    for k in keys:
        if k in rec and rec[k] is not None:
            return rec[k]
    return None


def _per_gib(cpu_s, nbytes):
    return round(cpu_s / (nbytes / GIB), 3) if cpu_s is not None and nbytes else None


def ours_figures(send, recv, send_proc, recv_proc, mem_bytes):
    """The program's two records in the benchmark's terms; CPU falls back to rusage where a record lacks it."""
    nbytes = _pick(send, "bytes", "bytes_sent")
    cpu_send = _pick(send, "cpu_s_per_gib_send")
    cpu_recv = _pick(recv, "cpu_s_per_gib_recv")
    cpu_source = "program (the migration alone)"
    if cpu_send is None or cpu_recv is None:
        cpu_source = "rusage (whole process, start-up included)"
        cpu_send = cpu_send if cpu_send is not None else _per_gib(send_proc.cpu_s, nbytes or mem_bytes)
        cpu_recv = cpu_recv if cpu_recv is not None else _per_gib(recv_proc.cpu_s, nbytes or mem_bytes)
    total_ms = _pick(send, "total_ms")
    return {
        "bytes": nbytes,
        "ours_mib_s": _pick(send, "ours_mib_s", "goodput_mib_s"),
        "passes": _pick(send, "passes"),
        "downtime_ms": _pick(send, "downtime_ms"),
        "total_s": round(total_ms / 1000, 3) if total_ms is not None else None,
        "bytes_per_memory": round(nbytes / mem_bytes, 3) if nbytes else None,
        # Memory migrated per second: what zero-page elision speeds up (the wire carries little then).
        "memory_mib_s": round(mem_bytes / MIB / (total_ms / 1000), 1) if total_ms else None,
        "cpu_s_per_gib_send": cpu_send,
        "cpu_s_per_gib_recv": cpu_recv,
        "cpu_source": cpu_source,
        "tracker": _pick(send, "tracker"),
        "mac": _pick(send, "mac"),
        "mac_path": _pick(send, "mac_path"),
        "congestion": _pick(send, "congestion"),
        "converged": _pick(send, "converged"),
        # What tools/sim-validate.py replays the run from: the throttle it reached, the writes it made.
        "peak_throttle": _pick(send, "peak_throttle"),
        "writes": _pick(send, "writes"),
        "downtime_limit_ms": _pick(send, "downtime_limit_ms"),
        "downtime_recv_ms": _pick(send, "downtime_recv_ms"),
        "selfcheck_errors": _pick(send, "selfcheck_errors"),
        # Both sides must agree, and the writers' self-check must be clean.
        "digest_match": _pick(send, "digest_match") is True and _pick(recv, "digest_match") is not False
        and not _pick(send, "selfcheck_errors"),
    }


def machine_cpu():
    """The machine's CPU time so far from /proc/stat, in ticks: (stolen by the host it runs on, all)."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:9]]
    return ticks[7] if len(ticks) > 7 else 0, sum(ticks)


def steal_pct(before, after):
    """The share of the machine's CPU time the host took between two machine_cpu() readings, in %: a run
    with a large one was measured on CPUs that were not all there, ours and the baseline alike."""
    total = after[1] - before[1]
    return round(100 * (after[0] - before[0]) / total, 1) if total > 0 else None


def _read_json(path):
    try:
        with open(path) as f:
            text = f.read().strip()
        return json.loads(text.splitlines()[-1]) if text else None
    except (OSError, ValueError):
        return None


def run_ours(ns, work, conns, delay_ms, mem_bytes, pattern="none", rate=None, writers=None, zero=False,
             seconds=600, relay=None):
    """One migration through the relay (a fresh one unless given); its figures, or a dict with 'error'."""
    os.makedirs(work, exist_ok=True)
    secret = os.path.join(work, "secret")
    with open(secret, "w") as f:
        f.write(secrets.token_hex(24))
    mem = f"{mem_bytes // MIB}M"
    rjson, sjson = os.path.join(work, "recv.json"), os.path.join(work, "send.json")
    for p in (rjson, sjson):
        if os.path.exists(p):
            os.remove(p)
    common = ["--connections", str(conns), "--secret-file", secret, "--mem", mem]
    recv = ns.start([PROG, "recv", "--listen", f"127.0.0.1:{OURS_PORT}"] + common + ["--json", rjson],
                    out=os.path.join(work, "recv.log"))
    own_relay = relay is None
    send = None
    try:
        wait_listening(recv, OURS_PORT, 60)
        if own_relay:
            relay = Relay(ns, OURS_PORT, delay_ms, work)
        argv = [PROG, "send", "--to", f"127.0.0.1:{relay.port}"] + common + ["--pattern", pattern]
        if rate is not None:
            argv += ["--rate", str(rate)]
        if writers is not None:
            argv += ["--writers", str(writers)]
        if zero:
            argv += ["--zero"]
        argv += ["--downtime-ms", "300", "--json", sjson]
        cpu0 = machine_cpu()
        send = ns.start(argv, out=os.path.join(work, "send.log"))
        send.finish(seconds)
        stolen = steal_pct(cpu0, machine_cpu())
        recv.finish(30)
    finally:
        if send:
            send.kill()
        recv.kill()
        if own_relay and relay:
            relay.stop()
    s, r = _read_json(sjson), _read_json(rjson)
    if send.hung or recv.hung or send.rc != 0 or recv.rc != 0 or s is None or r is None:
        return {"error": f"send rc={send.rc} hung={send.hung}, recv rc={recv.rc} hung={recv.hung}",
                "send_log": send.text()[-1500:], "recv_log": recv.text()[-1500:]}
    return dict(ours_figures(s, r, send, recv, mem_bytes), steal_pct=stolen)


def run_iperf3(ns, work, conns, delay_ms, seconds, congestion=None):
    """iperf3 with conns streams for `seconds` through a fresh relay, with the sender's TCP congestion
    control where one is given (ours' in the same round: the same path, the same algorithm); its figures
    (raises on failure)."""
    os.makedirs(work, exist_ok=True)
    srv = ns.start(["iperf3", "-s", "-1", "-p", str(IPERF_PORT), "-J"], out=os.path.join(work, "iperf3-s.json"))
    relay = cli = None
    try:
        wait_listening(srv, IPERF_PORT)
        relay = Relay(ns, IPERF_PORT, delay_ms, work)
        cc = ["-C", congestion] if congestion else []
        cpu0 = machine_cpu()
        cli = ns.start(["iperf3", "-c", "127.0.0.1", "-p", str(relay.port), "-P", str(conns), "-t", str(seconds),
                        "-J"] + cc, out=os.path.join(work, "iperf3-c.json"))
        cli.finish(seconds + 60)
        stolen = steal_pct(cpu0, machine_cpu())
        srv.finish(30)
    finally:
        if cli:
            cli.kill()
        srv.kill()
        if relay:
            relay.stop()
    if cli.rc != 0 or srv.rc != 0:
        raise RuntimeError(f"iperf3 failed: client {cli.rc} server {srv.rc}\n{cli.text()[-1500:]}")
    got = json.loads(srv.text())["end"]["sum_received"]
    return {
        "iperf3_mib_s": round(got["bytes"] / MIB / got["seconds"], 1),
        "iperf3_congestion": congestion or "system default",
        "iperf3_bytes": got["bytes"],
        "iperf3_cpu_s_per_gib_send": _per_gib(cli.cpu_s, got["bytes"]),
        "iperf3_cpu_s_per_gib_recv": _per_gib(srv.cpu_s, got["bytes"]),
        "iperf3_steal_pct": stolen,
    }
