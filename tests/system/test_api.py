"""The management API over the network, as an operator reaches it: curl from the test bed.

The hypervisor listens on its management NIC (net.mgmt) with a bearer token
(api.token). Good requests answer; a missing token, bad JSON, wrong types,
out-of-range values, unknown paths and oversized bodies get a 4xx with a JSON
error and change nothing; garbage, half-open and slow connections do not
bring the server down.
"""
import json
import subprocess

from machine import workdir_for
from netbed import HV_ADDR, error_lines, host_log, needs_bed, netns, start_host, stop_host, wait_for  # noqa: F401

TOKEN = "s3cret-token-for-tests-0123456789"
BASE = f"http://{HV_ADDR}:8080/api/v1"


def curl(ns, method, path, body=None, token=TOKEN, extra=()):
    cmd = ["ip", "netns", "exec", ns, "curl", "-s", "-m", "30", "-X", method, "-w", "\n%{http_code}"]
    if token is not None:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    if body is not None:
        cmd += ["-H", "Content-Type: application/json", "--data-binary", body]
    cmd += list(extra) + [f"{BASE}/{path}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
    text, _, code = out.rpartition("\n")
    return int(code or 0), text


def raw(ns, script):
    """Runs a Python snippet inside the namespace (raw sockets: garbage, half-open connections)."""
    return subprocess.run(["ip", "netns", "exec", ns, "python3", "-c", script], capture_output=True, text=True,
                          timeout=120)


@needs_bed
def test_management_api(request, netns):
    proc, serial = start_host(netns, workdir_for(request.node.name),
                              f"vcpus=2 guest.mode=compute run_for=90000 net.mgmt={HV_ADDR}/24 api.token={TOKEN}")
    try:
        text = wait_for(serial, r"I api: listening on en0 \(10\.77\.0\.2\), port 8080", proc, 90)
        assert "listening on" in text, text
        assert TOKEN not in text, "the token must never reach the console"

        code, body = curl(netns, "GET", "vmm.ping")
        assert code == 200 and json.loads(body)["version"], body
        code, body = curl(netns, "GET", "host.info")
        info = json.loads(body)
        assert code == 200 and "vmx" in info["cpu_features"] and "ept" in info["cpu_features"], body
        nic = info["nics"][0]
        assert nic["name"] == "en0" and nic["role"] == "management" and nic["link"] == "up", body
        assert nic["rx_frames"] > 0 and nic["tx_frames"] > 0 and nic["rx_bytes"] > nic["rx_frames"], body
        assert nic["rx_copied"] == 0, "received frames should go up to lwIP in their ring buffers" + body
        code, body = curl(netns, "GET", "vm.info")
        vm = json.loads(body)
        assert code == 200 and vm["state"] == "running" and len(vm["vcpus"]) == 2, body

        # Without or with a wrong token: 401, nothing else said.
        for token in (None, "wrong-token-wrong-token-wrong"):
            code, body = curl(netns, "GET", "vm.info", token=token)
            assert code == 401 and "error" in json.loads(body), (token, body)

        # Bad requests: 4xx with a JSON error naming what was wrong; the throttle stays at 0.
        bad = [
            ("PUT", "vm.throttle", '{"percent": 150}', 400, "percent"),
            ("PUT", "vm.throttle", '{"percent": "50"}', 400, "percent"),
            ("PUT", "vm.throttle", '{"percent": 50', 400, None),
            ("PUT", "vm.throttle", '{"vcpu": 7, "percent": 50}', 400, "vcpu"),
            ("PUT", "vm.throttle", '{"percent": 50, "colour": "red"}', 400, "colour"),
            ("GET", "vm.nothing", None, 404, None),
            ("DELETE", "vm.info", None, 405, None),
        ]
        for method, path, payload, want, field in bad:
            code, body = curl(netns, method, path, payload)
            err = json.loads(body)
            assert code == want and "error" in err, (method, path, payload, code, body)
            if field:
                assert err.get("field") == field or field in err["error"], (payload, body)
        code, body = curl(netns, "PUT", "vm.throttle", "x" * 70000)
        assert code == 413, (code, body[:200])
        vm = json.loads(curl(netns, "GET", "vm.info")[1])
        assert vm["throttle_percent"] == 0 and all(v["throttle_percent"] == 0 for v in vm["vcpus"]), vm

        # A good request changes the throttle, and vm.info says so.
        code, body = curl(netns, "PUT", "vm.throttle", '{"percent": 40}')
        assert code == 200, body
        code, body = curl(netns, "PUT", "vm.throttle", '{"vcpu": 1, "percent": 70}')
        assert code == 200, body
        vm = json.loads(curl(netns, "GET", "vm.info")[1])
        assert [v["throttle_percent"] for v in vm["vcpus"]] == [40, 70], vm

        # Garbage, a half-open connection and a slow client: the server answers the next request anyway.
        r = raw(netns, f"""
import socket, time
g = socket.create_connection(("{HV_ADDR}", 8080), timeout=20)
g.sendall(b"\\x00\\xff garbage that is not HTTP\\r\\n\\r\\n")
print("garbage:", g.recv(4096).split(b"\\r\\n")[0].decode())
idle = socket.create_connection(("{HV_ADDR}", 8080), timeout=30)   # half-open: never sends
slow = socket.create_connection(("{HV_ADDR}", 8080), timeout=30)
slow.sendall(b"GET /api/v1/vmm.ping HTTP/1.1\\r\\nHo")                 # and stops mid-header
t0 = time.time()
try:
    closed = idle.recv(1) == b""
except ConnectionResetError:
    closed = True
print("idle closed:", closed, round(time.time() - t0))
flood = []
for i in range(8):                                                 # more than the server takes at once
    try:
        flood.append(socket.create_connection(("{HV_ADDR}", 8080), timeout=10))
    except OSError as e:
        print("flood refused:", type(e).__name__)
for f in flood:
    f.close()
print("flood opened:", len(flood))
""")
        print(r.stdout, r.stderr)
        assert "garbage: HTTP/1.1 400" in r.stdout, r.stdout + r.stderr
        assert "idle closed: True" in r.stdout, "a half-open connection was never closed"
        assert "flood opened:" in r.stdout, r.stdout + r.stderr
        code, body = curl(netns, "GET", "vmm.ping")
        assert code == 200, "the server did not survive"
    finally:
        stop_host(proc)
    text = host_log(serial)
    assert not error_lines(text), error_lines(text)
    assert TOKEN not in text
