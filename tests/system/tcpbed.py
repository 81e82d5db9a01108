"""Hypervisor hosts on the namespace test bed for TCP tests and benchmarks (lwiperf, kernel/selftest/perf.h).

tools/netbed.sh makes a namespace with a bridge (10.77.0.1/24) and taps
tap0..tapN-1; each host is a Bochs with an e1000 on its own tap, its own MAC
and address. Nothing is created or addressed in the machine's own namespace.
"""
import contextlib
import os
import re
import signal
import subprocess
import time

from machine import ROOT, make_iso

NETBED = os.path.join(ROOT, "tools", "netbed.sh")
RUN_BOCHS = os.path.join(ROOT, "tools", "run-bochs.sh")

BRIDGE = "10.77.0.1"
# One serial line per finished or aborted lwiperf session, and the clients' summary (kernel/selftest/perf.h).
REPORT_RE = re.compile(r"^\[\s*[\d.]+\] (?P<level>[IE]) perf: (?P<role>server|client) (?P<dir>rx from|tx to) "
                       r"(?P<addr>[\d.]+):(?P<port>\d+) (?P<outcome>done|aborted \([\w ]+\)): (?P<bytes>\d+) bytes "
                       r"in (?P<ms>\d+) ms, (?P<kbit>\d+) kbit/s$", re.M)
SUMMARY_RE = re.compile(r"^\[\s*[\d.]+\] [IE] perf: clients done: (?P<ok>\d+) of (?P<n>\d+), (?P<bytes>\d+) bytes "
                        r"in (?P<ms>\d+) ms, (?P<kbit>\d+) kbit/s$", re.M)


def host_addr(i):
    return f"10.77.0.{i + 2}"


def host_mac(i):
    return f"52:54:00:12:34:{0x56 + i:02x}"


@contextlib.contextmanager
def bed(name, taps):
    """A fresh namespace with taps tap0..; everything in it is stopped and it is deleted afterwards."""
    ns = f"{name}{os.getpid()}"
    subprocess.run([NETBED, "down", ns], check=True)  # a leftover of a killed run
    subprocess.run([NETBED, "up", ns, str(taps), BRIDGE + "/24"], check=True)
    try:
        yield ns
    finally:
        for pid in subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split():
            try:
                os.kill(int(pid), 15)
            except ProcessLookupError:
                pass
        subprocess.run([NETBED, "down", ns], check=True)


class Host:
    """One hypervisor in Bochs on tap<i> of namespace ns, at host_addr(i)."""
    last_start = 0.0

    def __init__(self, ns, workdir, i, cmdline, ips, wall_limit=120, guest=None, megs=None):
        """guest and megs as machine.make_iso and BOCHS_MEGS take them (a Linux guest needs both)."""
        os.makedirs(workdir, exist_ok=True)
        self.serial = os.path.join(workdir, "serial.log")
        iso = make_iso(workdir, f"{cmdline} net.mgmt={host_addr(i)}/24", guest)
        line = (f"e1000: enabled=1, mac={host_mac(i)}, ethmod=tuntap, ethdev=/dev/net/tun:tap{i}, script=none")
        self.env = dict(os.environ, BOCHS_EXTRA=line, BOCHS_IPS=str(ips),
                        BOCHS_LOG_COPY=os.path.join(workdir, "bochs.log"))
        if megs:
            self.env["BOCHS_MEGS"] = str(megs)
        self.cmd = ["ip", "netns", "exec", ns, RUN_BOCHS, iso, self.serial, str(wall_limit)]
        self.retries = 3
        self._launch()

    def _launch(self):
        # Two Bochs starting within a second collide on their rfb port.
        time.sleep(max(0.0, Host.last_start + 1.2 - time.monotonic()))
        Host.last_start = time.monotonic()
        self.started = time.monotonic()
        if os.path.exists(self.serial):
            os.remove(self.serial)  # an old run's log must not answer for this one
        self.proc = subprocess.Popen(self.cmd, env=self.env)

    def _relaunched(self):
        """A Bochs that died at once without a word lost the rfb port to another one starting (maybe another
        test run's): start it again."""
        if self.proc.poll() is None or self.text() or self.retries == 0 or time.monotonic() - self.started > 20:
            return False
        self.retries -= 1
        time.sleep(1.5)
        self._launch()
        return True

    def text(self):
        try:
            with open(self.serial, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait(self, pattern, seconds, count=1, poll=0.2):
        """Polls the serial log until pattern matched count times (or Bochs ended); returns the log text."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + seconds
        while True:
            text = self.text()
            if self._relaunched():
                continue
            if len(rx.findall(text)) >= count or time.monotonic() > deadline or self.proc.poll() is not None:
                return text
            time.sleep(poll)

    def reports(self):
        return [m.groupdict() for m in REPORT_RE.finditer(self.text())]

    def stop(self):
        """Stops run-bochs.sh and what it started (timeout, Bochs), by pid; returns once Bochs let go of its tap."""
        pids = _descendants(self.proc.pid) + [self.proc.pid]
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                self.proc.poll()  # reaps run-bochs.sh
                if not any(os.path.exists(f"/proc/{p}") and _state(p) != "Z" for p in pids):
                    return
                time.sleep(0.1)


def _ppids():
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    out[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    return out


def _descendants(pid):
    pp, out, todo = _ppids(), [], [pid]
    while todo:
        parent = todo.pop()
        kids = [c for c, p in pp.items() if p == parent]
        out += kids
        todo += kids
    return out[::-1]  # deepest first


def _state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def error_lines(text):
    return [l for l in text.splitlines() if re.match(r"^\[\s*\d+\.\d+\] E ", l)]


def iperf_client(ns, addr, seconds, conns=1):
    """Linux iperf 2 client in the namespace; returns (returncode, output)."""
    cmd = ["ip", "netns", "exec", ns, "iperf", "-c", addr, "-t", str(seconds), "-f", "k"]
    if conns > 1:
        cmd += ["-P", str(conns)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    return r.returncode, r.stdout + r.stderr
