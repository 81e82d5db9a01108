"""The management API keeps answering the operator while other clients misbehave.

One hypervisor boots for the whole module; each test drives it from the test
bed's namespace with tests/system/apiload.py (raw sockets: exactly which
bytes go out in which segment) and asserts what the operator sees: answers,
in full, within a few seconds of wall time. The tests run in file order; the
host must still serve a plain request after each.
"""
import json
import os
import re
import shutil
import subprocess

import pytest

from machine import workdir_for
from netbed import needs_bed
from tcpbed import Host, bed, error_lines

TOKEN = "s3cret-token-for-tests-0123456789"
APILOAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apiload.py")
OPERATOR_SECONDS = 5.0  # wall seconds an operator's request may take while others misbehave


@pytest.fixture(scope="module")
def hv():
    """(namespace, host): the hypervisor with its API on 10.77.0.2:8080, up for the whole module."""
    with bed("hvapi", 1) as ns:
        host = Host(ns, workdir_for("test_api_hostile"), 0,
                    f"vcpus=1 guest.mode=compute run_for=600000 api.token={TOKEN}", ips=50000000, wall_limit=170)
        try:
            text = host.wait(r"I api: listening on en0 \(10\.77\.0\.2\), port 8080", 90)
            assert "api: listening" in text, text[-3000:]
            yield ns, host
        finally:
            host.stop()
            text = host.text()
            print(text)
            assert not error_lines(text), error_lines(text)


def load(ns, check, *args, timeout=90):
    r = subprocess.run(["ip", "netns", "exec", ns, "python3", APILOAD, check, TOKEN, *map(str, args)],
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"apiload {check} failed: {r.stderr[-2000:]}"
    out = json.loads(r.stdout)
    print(check, out)
    return out


def still_serving(ns):
    status = load(ns, "idle", 0)["status"]
    assert status == 200, f"after the check, a plain request got {status!r}"


def slow_or_failed(operator):
    return [(s, w) for s, w in operator if s != 200 or w > OPERATOR_SECONDS]


@needs_bed
def test_fin_in_request_segment(hv):
    """HTTP/1.0 with the client's FIN in the request's segment: a full answer, then our FIN, 150 times over."""
    ns, _ = hv
    out = load(ns, "fin", 150)  # more than MEMP_NUM_TCP_PCB: a leaked pcb per request would show
    assert out["ok"] == out["of"], f"only {out['ok']} of {out['of']} got a full answer: {out['failure']}"
    still_serving(ns)


@needs_bed
def test_idle_connections_do_not_lock_out(hv):
    ns, _ = hv
    out = load(ns, "idle", 64)
    assert out["status"] == 200 and out["seconds"] < OPERATOR_SECONDS, \
        f"with {out['opened']} idle connections open the operator got {out['status']!r} after {out['seconds']} s"
    still_serving(ns)


@needs_bed
def test_idle_operator_connections_give_way(hv):
    """Every slot held by the operator's own idle kept-alive connections: a new request is still answered
    at once, and the connection that gave way for it got a FIN, not a reset."""
    ns, _ = hv
    out = load(ns, "idle_operator", 16)
    assert out["status"] == 200 and out["seconds"] < OPERATOR_SECONDS, \
        f"with every slot held by idle operator connections, a new request got {out['status']!r} after {out['seconds']} s"
    assert out["closed"] >= 1 and out["reset"] == 0 and not out["other"], f"what became of the idle ones: {out}"
    assert out["closed"] + out["answered"] == 16, out
    still_serving(ns)


@needs_bed
def test_unauthenticated_client_does_not_lock_out(hv):
    ns, _ = hv
    out = load(ns, "unauth", 8, 20)
    assert out["stranger"]["401"] > 0, f"the stranger never got its 401s: {out['stranger']}"
    bad = slow_or_failed(out["operator"])
    assert not bad, f"the operator's requests failed or took over {OPERATOR_SECONDS} s: {bad} of {out['operator']}"
    still_serving(ns)


@needs_bed
def test_16_keepalive_clients(hv):
    ns, _ = hv
    out = load(ns, "keepalive", 16, 20)
    assert out["ok"] == out["want"] and not out["errors"], \
        f"{out['ok']} of {out['want']} answered; errors: {out['errors']}"
    # 24 at once: 16 are served, 8 wait in the queue until slots free up; none is reset.
    out = load(ns, "keepalive", 24, 5)
    assert out["ok"] == out["want"] and not out["errors"], \
        f"24 clients: {out['ok']} of {out['want']} answered; errors: {out['errors']}"
    if shutil.which("ab"):
        r = subprocess.run(["ip", "netns", "exec", ns, "ab", "-k", "-c", "16", "-n", "640", "-s", "20",
                            "-H", f"Authorization: Bearer {TOKEN}", "http://10.77.0.2:8080/api/v1/vmm.ping"],
                           capture_output=True, text=True, timeout=120)
        print(r.stdout, r.stderr)
        complete = re.search(r"^Complete requests:\s+(\d+)", r.stdout, re.M)
        failed = re.search(r"^Failed requests:\s+(\d+)", r.stdout, re.M)
        assert r.returncode == 0 and complete and failed, f"ab -k -c 16 did not finish: {r.stderr[-1000:]}"
        assert int(complete[1]) == 640 and int(failed[1]) == 0 and "Non-2xx" not in r.stdout, r.stdout
    still_serving(ns)


@needs_bed
def test_pipelining_head_and_expect(hv):
    ns, _ = hv
    out = load(ns, "pipeline", 300)
    assert out["answered"] == out["of"] and out["failure"] is None, \
        f"{out['answered']} of {out['of']} pipelined requests answered in full: {out['failure']}"
    assert out.get("head", [0])[0] == 200 and out["head"][1] > 0 and out.get("get_after_head") == "0.1.0", \
        f"HEAD must get GET's head without a body, then the next answer follows: {out}"
    assert out.get("interim") == 100 and out.get("final") == 200, f"Expect: 100-continue: {out}"
    assert out.get("stranger") == 401, f"a stranger's Expect: 100-continue should get its 401 at once: {out}"
    still_serving(ns)


@needs_bed
def test_syn_flood(hv):
    """Spoofed SYNs that never complete their handshake, ~300 a second, while the operator connects afresh."""
    ns, _ = hv
    out = load(ns, "synflood", 8, 300)
    assert out["syns"] > 1000, f"the flood sent only {out['syns']} SYNs"
    bad = slow_or_failed(out["operator"])
    assert not bad, f"during the flood the operator's requests failed or took over {OPERATOR_SECONDS} s: {bad}"
    still_serving(ns)


@needs_bed
def test_deadlines(hv):
    """A head must complete quickly; the operator's idle connection lasts 10 s, failing requests do not extend it.
    Both run on the emulator's clock, so they are compared with each other rather than with wall seconds."""
    ns, _ = hv
    out = load(ns, "deadlines")
    assert out.get("failing_status") == 404, out
    assert out["idle"] < 19, f"the operator's idle connection was never closed: {out}"
    assert out["partial_head"] < out["idle"] / 2, \
        f"an incomplete head lasted {out['partial_head']} s, an idle connection {out['idle']} s: {out}"
    assert out["failing"] < out["idle"] + 1.5, \
        f"error answers kept a connection open {out['failing']} s, an idle one {out['idle']} s: {out}"


@needs_bed
def test_isn_unpredictable(hv):
    """Initial sequence numbers of consecutive connections are far apart (RFC 6528), not a counter."""
    ns, _ = hv
    isns = load(ns, "isn", 12)["isns"]
    assert len(isns) == 12, f"only {len(isns)} SYN-ACKs seen"
    close = [(a, b) for a, b in zip(isns, isns[1:]) if min((b - a) % 2**32, (a - b) % 2**32) < 2**16]
    assert not close, f"successive ISNs within 65536 of each other: {close} in {isns}"
