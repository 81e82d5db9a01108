"""Faults inside the switchover, between two hypervisors in Bochs.

The switchover's phases last milliseconds: each test holds one open with
the requests' debug option (debug_hold, docs/openapi.yaml) and lands a
cancel or a cut link inside it. Whatever happens, the VM never runs on both
hosts: before COMMIT it runs on on the source, after COMMIT the operator
asks the destination and tells the source to discard or resume its paused
copy, and afterwards the guest's progress lines show up on exactly one host.
Timeouts and holds are in emulated milliseconds, on each host's own clock: a
host with nothing to run skips its idle time and its clock runs several
times faster than the wall clock (measured here: ~6x on an idle host, ~2.5x
on one running the guest), so holds are long enough for the test to act
inside them, and a destination's idle timeout is no shorter than 10 s.
"""
import json
import re
import subprocess
import time

import pytest

from migbed import GUEST, PORT, SECRET, TOKEN, curl, progress, status, two_hosts, wait_state
from netbed import needs_bed
from tcpbed import host_addr

COMMON = f"api.token={TOKEN} migr.secret={SECRET}"
ENDED = ("done", "failed", "committed-unconfirmed")


def receive(ns, dst, **extra):
    code, body = curl(ns, dst, "PUT", "vm.receive-migration", dict(listen=f"{host_addr(dst)}:{PORT}", **extra))
    assert code == 202, body


def send(ns, src, dst, **extra):
    code, body = curl(ns, src, "PUT", "vm.send-migration", dict(destination=f"{host_addr(dst)}:{PORT}", **extra))
    assert code == 202, body


def wait_phase(ns, host, phase, seconds):
    """Polls status until the state machine is in phase; returns the last status seen."""
    deadline = time.monotonic() + seconds
    while True:
        s = status(ns, host)
        if s["phase"] == phase or s["state"] in ENDED or time.monotonic() > deadline:
            return s
        time.sleep(0.2)


def held(ns, host, phase):
    """Waits until host's migration is held in phase (its debug hold)."""
    s = wait_phase(ns, host, phase, 120)
    assert s["phase"] == phase, s


def cut_until_ended(ns, tap, host, log_host=None, log=None):
    """Host tap's link out of the bridge (Bochs runs on, its frames go nowhere, its API too) until host's
    migration ended and, if asked, log_host logged log once more; returns host's status and log_host's log."""
    # A line of an earlier attempt does not count: the host must log it again.
    count = len(re.findall(log, log_host.text(), re.M)) + 1 if log_host else 0
    subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", f"tap{tap}", "nomaster"], check=True)
    try:
        s = wait_state(ns, host, ENDED, 120)
        text = log_host.wait(log, 120, count=count) if log_host else ""
    finally:
        subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", f"tap{tap}", "master", "br0"], check=True)
    print(json.dumps(s))
    return s, text


def vm_state(ns, host):
    code, body = curl(ns, host, "GET", "vm.info")
    return json.loads(body)["state"] if code == 200 else code


def runs_on_exactly(hosts, i, lines=3):
    """The guest's progress continues on host i, intact, and not at all on the other host."""
    other = hosts[1 - i]
    before_other = len(progress(other.text()))
    before = len(progress(hosts[i].text()))
    deadline = time.monotonic() + 90
    while True:
        text = hosts[i].text()
        after = progress(text)[before:]
        if ({p["vcpu"] for p in after} == {"0", "1"} and len(after) >= 2 * lines) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert {p["vcpu"] for p in after} == {"0", "1"} and len(after) >= 2 * lines, text[-2000:]
    assert all(p["errors"] == "0" for p in progress(text)), "the guest found corruption"
    assert len(progress(other.text())) == before_other, "the guest runs on both hosts"


@needs_bed
@pytest.mark.timeout(600)
def test_faults_before_commit_during_switchover(request):
    """A cancel and a cut link while A holds the VM paused before its last pages: it runs on A again and B
    throws its copy away and waits again; then a cancel after COMMIT changes nothing and the VM moves to B."""
    with two_hosts(request, "hvmsw", f"{GUEST} {COMMON}", f"vm=none {COMMON}", 500) as (ns, hosts):
        # Cancel while paused.
        receive(ns, 1)
        send(ns, 0, 1, debug_hold="switchover:8000")
        held(ns, 0, "final")
        assert vm_state(ns, 0) == "paused"
        code, body = curl(ns, 0, "PUT", "vm.migration-cancel")
        assert code == 200, body
        s = wait_state(ns, 0, ENDED, 30)
        assert (s["state"], s["failure"]) == ("failed", "cancelled"), s
        d = wait_state(ns, 1, ("listening",), 30)
        assert d["peer_failure"] == "cancelled" and d["pages_written"] > 0, d
        assert "receive failed" in hosts[1].wait(r"receive failed", 30)
        assert vm_state(ns, 0) == "running" and vm_state(ns, 1) == 404
        runs_on_exactly(hosts, 0)

        # The link cut while paused: A gives up after its reply timeout, B after its idle timeout.
        code, body = curl(ns, 1, "PUT", "vm.migration-cancel")  # listening again: a new request with timeouts
        assert code == 200, body
        receive(ns, 1, idle_timeout_ms=10000)
        send(ns, 0, 1, debug_hold="switchover:8000", reply_timeout_ms=3000)
        held(ns, 0, "final")
        s, btext = cut_until_ended(ns, 1, 0, hosts[1], r"receive failed")
        assert (s["state"], s["failure"]) == ("failed", "timeout"), s
        assert "receive failed: timeout" in btext, btext[-2000:]
        assert vm_state(ns, 0) == "running"
        runs_on_exactly(hosts, 0)
        d = wait_state(ns, 1, ("listening",), 30)
        assert d["state"] == "listening" and vm_state(ns, 1) == 404, d
        code, body = curl(ns, 1, "PUT", "vm.migration-cancel")  # and again
        assert code == 200, body
        # B waits for COMMIT longer than A holds it back: each on its own clock, and the two run apart (a
        # hold of 8 s on A's outlasted B's default 10 s on a loaded machine).
        receive(ns, 1, commit_timeout_ms=60000)

        # After COMMIT a cancel changes nothing: the VM is B's (B, ready again, takes it).
        send(ns, 0, 1, debug_hold="commit:8000")
        held(ns, 0, "wait-confirm")
        code, body = curl(ns, 0, "PUT", "vm.migration-cancel")
        assert code == 409, body
        s = wait_state(ns, 0, ENDED, 60)
        d = wait_state(ns, 1, ("done", "failed"), 30)
        assert s["state"] == "done" and d["state"] == "done", (s, d)
        assert s["downtime_ms"] >= 8000, s
        assert vm_state(ns, 1) == "running" and vm_state(ns, 0) == 404
        runs_on_exactly(hosts, 1)


@needs_bed
@pytest.mark.timeout(600)
def test_link_cut_after_commit(request):
    """The link is cut after COMMIT. (a) COMMIT reached B: B runs the VM, A keeps its paused copy until the
    operator, having asked B, tells it to discard. (b) COMMIT did not reach B: B throws its copy away after its
    commit timeout; the operator, having asked B, tells A to resume. The VM runs on one host only."""
    with two_hosts(request, "hvmcu", f"{GUEST} {COMMON}", f"vm=none {COMMON}", 500) as (ns, hosts):
        # (a) B holds after COMMIT, before it starts the VM and confirms; the link goes meanwhile.
        receive(ns, 1, debug_hold="start:20000")
        send(ns, 0, 1, confirm_timeout_ms=5000)
        held(ns, 1, "start")
        code, body = curl(ns, 1, "PUT", "vm.migration-cancel")
        assert code == 409, body  # COMMIT came: the VM is B's
        s, _ = cut_until_ended(ns, 1, 0)
        assert (s["state"], s["failure"]) == ("committed-unconfirmed", "timeout"), s
        assert vm_state(ns, 0) == "paused"
        # The operator asks B: it runs the VM. A lets its copy go.
        d = wait_state(ns, 1, ("done", "failed"), 60)
        assert d["state"] == "done" and vm_state(ns, 1) == "running", d
        code, body = curl(ns, 0, "PUT", "vm.migration-resolve", {"action": "discard"})
        assert code == 200, body
        assert status(ns, 0)["state"] == "done" and vm_state(ns, 0) == 404
        runs_on_exactly(hosts, 1)

        # (b) Back from B to A: B holds COMMIT back and the link to A goes before it leaves.
        receive(ns, 0, commit_timeout_ms=5000)
        send(ns, 1, 0, debug_hold="commit:15000", confirm_timeout_ms=25000)
        held(ns, 1, "wait-confirm")
        s, atext = cut_until_ended(ns, 0, 1, hosts[0], r"receive failed")
        assert (s["state"], s["failure"]) == ("committed-unconfirmed", "timeout"), s
        assert "receive failed: timeout" in atext, atext[-2000:]
        # The operator asks A: no VM there. B resumes its copy.
        d = wait_state(ns, 0, ("listening",), 30)
        assert d["state"] == "listening" and vm_state(ns, 0) == 404, d
        assert vm_state(ns, 1) == "paused"
        code, body = curl(ns, 1, "PUT", "vm.migration-resolve", {"action": "resume"})
        assert code == 200, body
        assert status(ns, 1)["state"] == "failed" and vm_state(ns, 1) == "running"
        runs_on_exactly(hosts, 1)


@needs_bed
@pytest.mark.timeout(600)
def test_pause_called_off_then_completes(request):
    """B holds READY back for longer than the downtime limit: A calls its pause off before the limit (the VM
    runs on A again, B drops the state it got), precopy goes on, and a later pause completes: the VM runs on B
    with the memory digest matched, the guest's self-check clean, and the called-off pause under the limit."""
    with two_hosts(request, "hvmco", f"{GUEST} {COMMON}", f"vm=none {COMMON}", 400) as (ns, hosts):
        receive(ns, 1, debug_hold="ready:2000")
        send(ns, 0, 1)
        s = wait_state(ns, 0, ENDED, 300)
        d = wait_state(ns, 1, ("done", "failed"), 60)
        print(json.dumps(s), json.dumps(d))
        assert s["state"] == "done" and d["state"] == "done", (s, d)
        assert s["pauses_called_off"] >= 1 and d["pauses_called_off"] >= 1, (s, d)
        assert 0 < s["called_off_ms"] < 300, s
        atext = hosts[0].wait(r"pause called off in phase [\w-]+", 30)
        btext = hosts[1].wait(r"receive done: memory digest matched", 30)
        assert "the source called its pause off" in btext, btext[-3000:]
        assert vm_state(ns, 1) == "running" and vm_state(ns, 0) == 404
        runs_on_exactly(hosts, 1)
        assert "called off" in atext
