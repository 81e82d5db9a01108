"""A hostile source against a hypervisor that receives: the Linux build of the stream (ferry-migrate) with a
test-only fault, run inside the test bed's namespace, sends to hypervisor B (vm=none) in Bochs.

Each fault comes after a correct handshake (or is the handshake itself, without the secret), on a stream
that describes a VM B can take, so that the fault and nothing else is what B refuses: B must answer with a
clear reason, write nothing into any guest, keep no VM, and be ready again. At the end a real migration from
hypervisor A shows it is.
"""
import json
import os
import re
import subprocess

import pytest

from linerate import FERRY
from machine import workdir_for
from migbed import GUEST, PORT, SECRET, TOKEN, curl, migrate, status, two_hosts, wait_state
from netbed import needs_bed
from tcpbed import host_addr

# fault -> the reason B gives (its status' "failure", the sender's peer_error)
FAULTS = [("no-secret", "authentication"), ("forged-record", "integrity"), ("malformed", "protocol"),
          ("outside-memory", "range")]


def hostile_send(ns, work, fault, tsc_khz):
    secret = os.path.join(work, "secret")
    with open(secret, "w") as f:
        f.write(SECRET + "\n")
    out = os.path.join(work, f"{fault}.json")
    p = subprocess.run(["ip", "netns", "exec", ns, FERRY, "send", "--to", f"{host_addr(1)}:{PORT}",
                        "--connections", "1", "--secret-file", secret, "--mem", "8M", "--vcpus", "1",
                        "--tsc-khz", str(tsc_khz), "--fault", fault, "--json", out, "--timeout", "120"],
                       capture_output=True, text=True, timeout=180)
    with open(out) as f:
        return p.returncode, json.load(f), p.stderr


@needs_bed
@pytest.mark.timeout(1200)
def test_hostile_source_refused(request):
    common = f"api.token={TOKEN} migr.secret={SECRET}"
    work = workdir_for(request.node.name)
    os.makedirs(work, exist_ok=True)
    with two_hosts(request, "hvhost", f"{GUEST} {common}", f"vm=none {common}", 1100) as (ns, hosts):
        a, b = hosts
        # The VM's shape must be one B takes: its TSC rate, no CPU feature, one vCPU, 8 MiB.
        tsc_khz = int(re.search(r"FerryHV starting: TSC (\d+) kHz", b.text())[1])
        code, body = curl(ns, 1, "PUT", "vm.receive-migration", {"listen": f"{host_addr(1)}:{PORT}", "connections": 1})
        assert code == 202, body
        for attempt, (fault, reason) in enumerate(FAULTS, 1):
            rc, rec, err = hostile_send(ns, work, fault, tsc_khz)
            print(fault, rc, rec, err)
            assert rc == 3 and rec["peer_error"] == reason, (fault, rc, rec, err)
            d = wait_state(ns, 1, ("listening",), 60)
            assert d["attempts"] == attempt and d["failure"] == reason, (fault, d)
            assert d["pages_written"] == 0 and d["zero_pages"] == 0, (fault, d)
            text = b.wait(rf"receive failed: {reason}", 60)
            assert f"receive failed: {reason}" in text, text[-2000:]
        # Nothing of any attempt was kept: B has no VM.
        assert re.search(r"I host: uptime \d+ ms, no VM", b.wait(r"I host: uptime \d+ ms, no VM", 30))
        assert SECRET not in b.text()
        # Ready for a good migration: B stops listening on the operator's word, then takes A's VM.
        code, body = curl(ns, 1, "PUT", "vm.migration-cancel")
        assert code == 200 and status(ns, 1)["state"] == "idle", body
        s, d = migrate(ns, 0, 1, hosts, 1)
        assert s["state"] == "done" and d["state"] == "done", (s, d)
        assert "receive done" in b.wait(r"I migr: receive done", 30)
        assert a.text()  # A logged its side (checked for error lines by two_hosts)
