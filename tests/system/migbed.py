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
CLOCK_RE = re.compile(r"\[vm0/vcpu(?P<vcpu>\d)\] clock vcpu=\d+ t=(?P<t>\d+) gap_us=(?P<gap_us>\d+) "
                      r"from=(?P<from_tsc>\d+)")
DOWNTIME_LIMIT_MS = 300
# What a test accepts as A's measured pause. A's clock runs on while the host machine stalls B's emulator
# (two free-running Bochs on shared cores), and such a stall is counted as downtime: typical runs measure
# 170-270 ms against the 300 ms limit, one under heavy host load measured 383 ms (B idle, waiting for A's
# frames). The benchmark reports every run against the limit itself.
DOWNTIME_TEST_MS = DOWNTIME_LIMIT_MS * 3 // 2
# What the hypervisors say of a guest's clock across a migration: the guest's TSC at the pause (source), where
# it goes on and the pause it adds (destination), and how long after the VM's start each vCPU first entered it.
PAUSE_TSC_RE = re.compile(r"I migr: switchover: the guest's TSC stood at (?P<tsc>\d+) at the pause")
RESUME_TSC_RE = re.compile(r"I migr: start: the guest's TSC goes on at (?P<tsc>\d+), (?P<us>\d+) us after "
                           r"(?P<pause>\d+) at the pause")
FIRST_RUN_RE = re.compile(r"I vm: vm0/vcpu(?P<vcpu>\d+): first run (?P<us>\d+) us after its VM resumed")
TSC_KHZ_RE = re.compile(r"FerryHV starting: TSC (?P<khz>\d+) kHz")
# The guest's own part after the resume (tests/guest/workload.c measures from one pass of its loop to the next):
# the rest of the pass it was in at the pause, measured up to ~50 ms (the rest of a console line, a progress
# line, the other vCPU's turns), allowed this.
DEST_PASS_MS = 100
# B runs the vCPUs of the VM it started before anything else of its own: each within its turn of 1 ms slices
# (measured 0.5-1.6 ms; 10.9-12.3 ms when the receive's report was logged first).
DEST_FIRST_RUN_MS = 5
# B's view of the pause runs on past the time it adds to the guest's TSC: to its CONFIRM, after it loaded the
# vCPUs' state and resumed the VM (measured 2.2 ms).
DEST_START_MS = 10
# The hosts log ms (B's view) and us, the guest prints us.
CLOCK_SLACK_MS = 2


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


def check_guest_clock(src_text, src_len, dst_text, dst_len, dst_view_ms, sleep_ms):
    """The jump each vCPU's clock made across the migration, as the guest saw it, set against the raw TSC values
    the hypervisors log, so that two emulators' clocks running apart do not matter: A's guest TSC at the pause;
    where B makes it go on, which must be that plus B's view of the pause up to its start; and each vCPU's first
    clock line on B that ends after B resumed it (tests/guest). That line must have begun before the pause
    (or within the sleep the vCPU may have chosen across it) and ended after B's resume, by no more than B's
    delay to that vCPU's first entry and the rest of the guest's pass. A TSC set back, left behind, or moved on
    by the hosts' TSC difference fails. Returns the jumps the guest saw and the pause B added, in ms."""
    khz = int(TSC_KHZ_RE.search(dst_text)["khz"])
    ms = lambda ticks: round(ticks / khz, 3)
    pause = int(PAUSE_TSC_RE.search(src_text[src_len:])["tsc"])
    resume = RESUME_TSC_RE.search(dst_text[dst_len:])
    assert resume and int(resume["pause"]) == pause, (resume and resume.group(0), pause)
    added = int(resume["tsc"]) - pause
    assert dst_view_ms - DEST_START_MS <= ms(added) <= dst_view_ms + 1 and \
        abs(ms(added) - int(resume["us"]) / 1000) <= 0.1, (ms(added), dst_view_ms, resume.group(0))
    first = {}
    for m in FIRST_RUN_RE.finditer(dst_text[dst_len:]):
        first.setdefault(m["vcpu"], int(m["us"]) / 1000)
    assert first and max(first.values()) <= DEST_FIRST_RUN_MS, first
    jumps = {}
    for vcpu in first:
        # A line the guest made before the pause may come out here (the UART's state moved with it): the jump
        # is in the first line that ends after the resume, and that line must have begun before it.
        lines = [m for m in CLOCK_RE.finditer(dst_text[dst_len:]) if m["vcpu"] == vcpu]
        ends = lambda m: int(m["from_tsc"]) + int(m["gap_us"]) * khz // 1000
        line = next((m for m in lines[:3] if ends(m) >= int(resume["tsc"])), None)
        assert line and int(line["from_tsc"]) < int(resume["tsc"]), (vcpu, [m.group(0) for m in lines[:3]],
                                                                     resume.group(0))
        began, gap = int(line["from_tsc"]), int(line["gap_us"]) / 1000
        after = gap - ms(int(resume["tsc"]) - began)  # guest time the line saw after B resumed the VM
        assert began <= pause + sleep_ms * khz, (vcpu, line.group(0), pause)
        assert first[vcpu] - CLOCK_SLACK_MS <= after <= first[vcpu] + DEST_PASS_MS + CLOCK_SLACK_MS, \
            (vcpu, line.group(0), after, first, resume.group(0))
        jumps[vcpu] = gap
    return jumps, ms(added)


def migrate(ns, src, dst, hosts, connections, seconds=240, send=None):
    """One migration src -> dst with curl, done or failed within seconds of wall time; returns both statuses.
    send: more fields of the send request (limits)."""
    code, body = curl(ns, dst, "PUT", "vm.receive-migration",
                      {"listen": f"{host_addr(dst)}:{PORT}", "connections": connections})
    assert code == 202, body
    # A second request while one is set up: 409.
    code, body = curl(ns, dst, "PUT", "vm.receive-migration", {"listen": f"{host_addr(dst)}:{PORT}"})
    assert code == 409, body
    code, body = curl(ns, src, "PUT", "vm.send-migration",
                      {"destination": f"{host_addr(dst)}:{PORT}", "connections": connections, "downtime_ms": 300,
                       **(send or {})})
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
