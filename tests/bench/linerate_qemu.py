"""The QEMU baseline of the line-rate benchmark: QEMU's own migration of a filled guest through the delay relay.

Two qemu-system-x86_64 processes (TCG) in the bed's namespace run tests/bench/qemu_fill.s, which fills its
RAM above 2 MiB with non-zero pages and halts; the destination waits with `-incoming defer`. Both are
driven over QMP: multifd with the benchmark's connection count (1: plain migration), max-bandwidth far
above the link (QEMU's default caps migration at 128 MiB/s), downtime-limit 300 ms. Throughput is RAM
transferred over the migration's total time, both from query-migrate; CPU seconds are each process's own
(from /proc) over the migration.
"""
import json
import os
import socket
import time

from relaybed import Relay, wait_listening

QEMU = "qemu-system-x86_64"
DEST_PORT = 7300
MAX_BANDWIDTH = 1 << 40  # bytes/s: no cap
DOWNTIME_LIMIT_MS = 300
MIB = 1 << 20
GIB = 1 << 30


class Qmp:
    """A QMP connection: commands in, their return values out; events are skipped."""

    def __init__(self, path, seconds=30):
        deadline = time.monotonic() + seconds
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                self.s.close()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"QMP socket {path} never opened")
                time.sleep(0.05)
        self.f = self.s.makefile("rwb")
        self._reply()  # the greeting
        self.cmd("qmp_capabilities")

    def _reply(self):
        while True:
            line = self.f.readline()
            if not line:
                raise RuntimeError("QMP connection closed")
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def cmd(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}).encode() + b"\n")
        self.f.flush()
        msg = self._reply()
        if "error" in msg:
            raise RuntimeError(f"QMP {name} {args}: {msg['error']}")
        return msg["return"]

    def close(self):
        self.f.close()
        self.s.close()


def _start(ns, work, tag, fill_elf, mem_bytes, incoming):
    qmp = os.path.join(work, f"{tag}.qmp")
    debugcon = os.path.join(work, f"{tag}.debugcon")
    for path in (qmp, debugcon):
        if os.path.exists(path):
            os.remove(path)
    argv = [QEMU, "-machine", "pc,accel=tcg", "-m", f"{mem_bytes // MIB}M", "-kernel", fill_elf,
            "-display", "none", "-nodefaults", "-debugcon", f"file:{debugcon}",
            "-qmp", f"unix:{qmp},server=on,wait=off"]
    if incoming:
        argv += ["-incoming", "defer"]
    proc = ns.start(argv, out=os.path.join(work, f"{tag}.log"))
    return proc, qmp, debugcon


def _wait_filled(proc, debugcon, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if os.path.exists(debugcon) and "F" in open(debugcon).read():
            return
        if proc.poll() is not None:
            raise RuntimeError(f"QEMU source ended ({proc.rc}):\n{proc.text()[-2000:]}")
        time.sleep(0.05)
    raise RuntimeError(f"QEMU guest did not fill its RAM in {seconds} s")


def migrate(ns, work, fill_elf, mem_bytes, conns, delay_ms, seconds=300):
    """One QEMU migration of mem_bytes through a relay at delay_ms; returns its figures (raises on failure)."""
    os.makedirs(work, exist_ok=True)
    src = dst = relay = None
    qs = qd = None
    try:
        dst, dst_qmp, _ = _start(ns, work, "dst", fill_elf, mem_bytes, True)
        src, src_qmp, debugcon = _start(ns, work, "src", fill_elf, mem_bytes, False)
        qd, qs = Qmp(dst_qmp), Qmp(src_qmp)
        for q in (qs, qd):
            if conns > 1:
                q.cmd("migrate-set-capabilities", capabilities=[{"capability": "multifd", "state": True}])
                q.cmd("migrate-set-parameters", **{"multifd-channels": conns})
        qs.cmd("migrate-set-parameters", **{"max-bandwidth": MAX_BANDWIDTH, "downtime-limit": DOWNTIME_LIMIT_MS})
        _wait_filled(src, debugcon, seconds)
        qd.cmd("migrate-incoming", uri=f"tcp:127.0.0.1:{DEST_PORT}")
        wait_listening(dst, DEST_PORT)
        relay = Relay(ns, DEST_PORT, delay_ms, work)
        cpu0 = (src.cpu_now(), dst.cpu_now())
        qs.cmd("migrate", uri=f"tcp:127.0.0.1:{relay.port}")
        deadline = time.monotonic() + seconds
        while True:
            info = qs.cmd("query-migrate")
            if info.get("status") in ("completed", "failed", "cancelled"):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"QEMU migration still {info.get('status')} after {seconds} s")
            time.sleep(0.02)
        src_cpu = src.cpu_now()
        if info["status"] != "completed":
            raise RuntimeError(f"QEMU migration {info['status']}: {info}")
        # The destination loads the last bytes after the source is done: its CPU counts until it is too.
        while (dst_status := qd.cmd("query-migrate").get("status")) not in ("completed", "failed"):
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        if dst_status != "completed":
            raise RuntimeError(f"QEMU destination {dst_status} after the source completed")
        cpu1 = (src_cpu, dst.cpu_now())
    finally:
        for q in (qs, qd):
            if q:
                q.close()
        for p in (src, dst):
            if p:
                p.stop()
        if relay:
            relay.stop()
    ram = info["ram"]
    total_ms = info.get("total-time")
    if not total_ms:
        # Seen once on a loaded machine: a run without a figure is a failed run, not the benchmark's end.
        raise RuntimeError(f"QEMU reported no migration time: {info}")
    gib = ram["transferred"] / GIB
    return {
        "qemu_mib_s": round(ram["transferred"] / MIB / (total_ms / 1000), 1),
        "qemu_bytes": ram["transferred"],
        "qemu_normal_bytes": ram["normal-bytes"],
        "qemu_total_ms": total_ms,
        "qemu_setup_ms": info.get("setup-time"),
        "qemu_downtime_ms": info.get("downtime"),
        "qemu_passes": ram.get("dirty-sync-count"),
        "qemu_cpu_s_per_gib_send": round((cpu1[0] - cpu0[0]) / gib, 3),
        "qemu_cpu_s_per_gib_recv": round((cpu1[1] - cpu0[1]) / gib, 3),
    }
