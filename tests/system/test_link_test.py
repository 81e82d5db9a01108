"""The link test between two hypervisor hosts, as an operator checks a migration link: curl to both APIs.

B listens (host.link-listen), A sends to it over N TCP connections for lwiperf's
10 s (host.link-test) and reports what it measured on its own clock
(host.link-status); B counts what it received. The figures must agree with
each other and with the console, and be a rate this emulated link can carry.
"""
import json

import pytest

from machine import workdir_for
from migbed import IPS, TOKEN, curl
from netbed import needs_bed
from tcpbed import Host, bed, error_lines, host_addr

LINK_PORT = 5002
CONNS = 2


def link_status(ns, host):
    code, body = curl(ns, host, "GET", "host.link-status")
    assert code == 200, body
    return json.loads(body)


@needs_bed
@pytest.mark.timeout(600)
def test_link_test_between_two_hosts(request):
    work = workdir_for(request.node.name)
    with bed("hvlink", 2) as ns:
        hosts = []
        try:
            for i in (0, 1):
                hosts.append(Host(ns, f"{work}/{i}", i, f"vm=none api.token={TOKEN}", IPS, wall_limit=500))
            for h in hosts:
                assert "I api: listening on" in h.wait(r"I api: listening on", 120), h.text()[-2000:]
            assert link_status(ns, 0)["state"] == "idle"

            code, body = curl(ns, 1, "PUT", "host.link-listen", {"listen": f"{host_addr(1)}:{LINK_PORT}"})
            assert (code, json.loads(body)) == (202, {"port": LINK_PORT}), body
            code, body = curl(ns, 1, "PUT", "host.link-listen", {"listen": f"{host_addr(1)}:{LINK_PORT + 1}"})
            assert code == 409, body
            code, body = curl(ns, 0, "PUT", "host.link-test",
                              {"peer": f"{host_addr(1)}:{LINK_PORT}", "connections": CONNS})
            assert code == 202, body
            code, body = curl(ns, 0, "PUT", "host.link-test", {"peer": f"{host_addr(1)}:{LINK_PORT}"})
            assert code == 409, body  # one test at a time

            hosts[0].wait(r"I perf: clients done", 300)
            a = link_status(ns, 0)
            hosts[1].wait(r"perf: server rx from .* kbit/s\r?\n", 60, count=CONNS)
            b = link_status(ns, 1)
            print("A:", json.dumps(a), "\nB:", json.dumps(b))
            assert a["state"] == "done" and a["peer"] == f"{host_addr(1)}:{LINK_PORT}", a
            assert a["connections"] == CONNS and a["connections_ok"] == CONNS, a
            # lwiperf sends for 10 s of A's clock; the rate is its bytes over that time.
            assert 10000 <= a["ms"] <= 11000, a
            assert abs(a["rate"] - a["bytes"] * 1000 // a["ms"]) <= 1, a
            # Bochs receives at most one frame per emulated millisecond of B's clock, but A's rate is on A's
            # clock, which runs at its own pace when A idles (clock sync=none): only a loose bound holds. A
            # working link carries far more than a trickle.
            assert 100_000 <= a["rate"] <= 16_000_000, a
            # B got it all, less the iperf header segment of each connection.
            assert b["listen_port"] == LINK_PORT and b["received_sessions"] == CONNS, b
            assert a["bytes"] - CONNS * 1460 <= b["received_bytes"] <= a["bytes"], (a, b)
            assert f"clients done: {CONNS} of {CONNS}, {a['bytes']} bytes in {a['ms']} ms" in hosts[0].text()
            texts = [h.text() for h in hosts]
        finally:
            for h in hosts:
                h.stop()
    for text in texts:
        assert not error_lines(text), error_lines(text)
