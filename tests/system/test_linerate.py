"""The migration stream as a Linux program (linerate/, ferry-migrate): the same sender, receiver and policy as
the hypervisor's, over TCP on loopback, with writer threads dirtying the source while it moves.

Each run must end with both processes reporting success, the destination's digest over its whole buffer equal
to the source's, and the writers' self-check clean (every page holds what its writer wrote last). The soak runs
20 small migrations back to back, each verified and each bounded in time, so a hang fails.
"""
import json
import os
import subprocess

import pytest

from linerate import FERRY, loopback_ns, migrate, secret_file

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (a network namespace)")

MIB = 1 << 20


def checked(s, r, mem_bytes):
    """The user's view of a good migration: both sides done, digests equal, nothing lost."""
    assert s.rc == 0 and r.rc == 0, (s.rc, r.rc, s.stderr[-2000:], r.stderr[-2000:])
    sr, rr = s.record, r.record
    assert sr["status"] == "done" and rr["status"] == "done", (sr, rr)
    assert sr["digest_match"] is True and rr["digest_match"] is True, (sr, rr)
    assert sr["digest_send"] == sr["digest_recv"] == rr["digest_recv"] == rr["digest_send"], (sr, rr)
    assert sr["selfcheck_errors"] == 0, sr
    assert sr["mem_bytes"] == mem_bytes and rr["mem_bytes"] == mem_bytes
    # Every page reached the destination at least once, as data or as a zero page.
    assert sr["pages_sent"] + sr["zero_pages"] >= mem_bytes // 4096, sr
    assert rr["pages_written"] + rr["zero_pages"] >= mem_bytes // 4096, rr
    assert sr["passes"] >= 2 and 0 <= sr["downtime_ms"] <= sr["total_ms"], sr
    for k in ("cpu_s_per_gib_send", "cpu_s_per_gib_recv"):
        assert sr[k] > 0, (k, sr)
    assert sr["ours_mib_s"] > 0 or sr["pages_sent"] == 0, sr  # goodput counts page bytes only
    return sr


@pytest.mark.timeout(300)
@pytest.mark.parametrize("connections", [1, 4])
def test_migrate_with_writers(request, connections):
    """64 MiB of non-zero memory while two writers dirty random pages: the pages they dirty go again."""
    work, secret = secret_file(request)
    with loopback_ns("lrmig") as ns:
        s, r = migrate(ns, work, secret, "64M", connections,
                       ["--pattern", "random", "--writers", "2", "--rate", "40"], seconds=120)
    sr = checked(s, r, 64 * MIB)
    print(sr)
    assert "tracker:" in s.stderr, s.stderr  # said at start-up
    assert f"TCP congestion control: {sr['congestion']}" in s.stderr, (sr, s.stderr)
    assert sr["congestion"] and r.record["congestion"], (sr, r.record)
    assert sr["connections"] == connections
    assert sr["writes"] > 0 and sr["pages_sent"] > 64 * MIB // 4096, sr  # dirtied pages went again
    # What the switchover was decided on: a rate, and no more left than the memory holds.
    assert sr["switch_bandwidth_mib_s"] > 0 and 0 <= sr["switch_remaining_bytes"] <= 64 * MIB, sr
    assert not sr["converged"] or sr["expected_downtime_ms"] <= sr["downtime_limit_ms"], sr
    if sr["tracker"] != "pagemap-uffd-wp":
        assert sr["tracker"] == "self-recorded" and "fallback" in s.stderr, s.stderr


@pytest.mark.timeout(300)
def test_harvest_reports_only_written_pages(request):
    """A slow writer over a second of precopy (the link capped at 64 MiB/s): every page that goes again stands for
    one write, whatever size of page the memory sits on (a 2 MiB page must not go again whole for a write into
    one of its 4 KiB pages)."""
    work, secret = secret_file(request)
    with loopback_ns("lrgran") as ns:
        s, r = migrate(ns, work, secret, "64M", 1, ["--pattern", "random", "--writers", "1", "--rate", "1",
                                                   "--bandwidth", "64"],
                       seconds=120)
    sr = checked(s, r, 64 * MIB)
    print(sr)
    assert "guest memory on " in s.stderr, s.stderr  # the page size, said at start-up
    again = sr["pages_sent"] + sr["zero_pages"] - 64 * MIB // 4096
    assert sr["writes"] > 50 and 0 <= again <= sr["writes"], sr


@pytest.mark.timeout(300)
def test_write_heavy_hot_set_and_fallback_tracker(request):
    """A hot set written flat out over the writers' own record: labelled as the fallback, and still exact."""
    work, secret = secret_file(request)
    with loopback_ns("lrhot") as ns:
        s, r = migrate(ns, work, secret, "32M", 2,
                       ["--pattern", "hot", "--writers", "2", "--rate", "flat", "--tracker", "self"], seconds=120)
    sr = checked(s, r, 32 * MIB)
    print(sr)
    assert sr["tracker"] == "self-recorded" and "fallback" in s.stderr, (sr, s.stderr)


@pytest.mark.timeout(120)
def test_zero_memory_is_elided(request):
    """All-zero memory goes as lists of zero pages: almost no bytes on the wire."""
    work, secret = secret_file(request)
    with loopback_ns("lrzero") as ns:
        s, r = migrate(ns, work, secret, "64M", 2, ["--zero"], seconds=60)
    sr = checked(s, r, 64 * MIB)
    assert sr["memory"] == "zero" and sr["pages_sent"] == 0 and sr["zero_pages"] >= 64 * MIB // 4096, sr
    assert sr["bytes"] < 1 * MIB, sr
    assert sr["passes"] == 2, sr  # the full copy and the final pass: nothing was left to go again


def tcp_counters(ns):
    """The namespace's TCP counters (its own, from zero at its creation): /proc/net/snmp and netstat."""
    out = {}
    for name in ("snmp", "netstat"):
        lines = subprocess.run(["ip", "netns", "exec", ns, "cat", f"/proc/net/{name}"], capture_output=True,
                               text=True, check=True).stdout.splitlines()
        for head, vals in zip(lines[::2], lines[1::2]):
            proto, keys = head.split(":")
            out.update({f"{proto}.{k}": int(v) for k, v in zip(keys.split(), vals.split(":")[1].split())})
    return out


@pytest.mark.timeout(120)
def test_ready_receiver_and_clean_close(request):
    """A receiver listens only once its memory is ready, so a sender that comes at once does not spend its
    migration waiting for it; and neither side aborts a connection (closing one with unread data, or still
    sending on one the other side closed), nor is a live connection reset: a reset can cut what the peer still had
    to read. Not counted: the reset a kernel sends to a stale segment of a connection both sides have closed (under
    load, a spurious retransmission of a FIN can wait in the softirq backlog until after the close, and the
    listener answers it with RST as TCP requires), which cuts nothing."""
    work, secret = secret_file(request)
    with loopback_ns("lrclose") as ns:
        s, r = migrate(ns, work, secret, "16M", 4, recv_mem="2G", seconds=60)
        counters = tcp_counters(ns)
    sr = checked(s, r, 16 * MIB)
    rr = r.record
    # The receiver's clock starts at the first connection; the sender's before it connects.
    assert sr["total_ms"] < rr["total_ms"] + 500, (sr["total_ms"], rr["total_ms"])
    nonzero = json.dumps({k: v for k, v in counters.items() if v and k.startswith(("Tcp.", "TcpExt."))})
    aborts = {k: counters[k] for k in counters if k.startswith("TcpExt.TCPAbortOn")}
    assert len(aborts) >= 5 and not any(aborts.values()), (aborts, nonzero, s.stderr, r.stderr)
    assert counters["Tcp.EstabResets"] == 0, nonzero
    assert counters["Tcp.AttemptFails"] == 0, nonzero


@pytest.mark.timeout(120)
@pytest.mark.parametrize("fault,verdict", [("forged-record", "integrity"), ("malformed", "protocol"),
                                           ("outside-memory", "range")])
def test_destination_refuses_a_bad_record(request, fault, verdict):
    """The Linux destination receives page data straight into its buffer: a record whose page changed after
    its tag, one that says more pages than it holds, and one past the VM's memory are each refused for their
    own reason, and the migration fails on both sides (the destination's VM is never started)."""
    work, secret = secret_file(request)
    with loopback_ns("lrfault") as ns:
        s, r = migrate(ns, work, secret, "16M", 1, ["--fault", fault], seconds=30, tag=fault)
    assert s.rc == 3, (s.rc, s.stderr[-2000:], r.stderr[-2000:])  # the destination refused, as it must
    assert s.record["peer_error"] == verdict, s.record
    assert r.rc == 1 and r.record["status"] == "failed" and r.record["error"] == verdict, (r.rc, r.record)
    assert not r.record.get("digest_match"), r.record
    # Why, in words, on both sides: the destination's own reason, and the sender's record says what it was told.
    assert r.record["error_detail"] and f"MIGRATION FAILED: {verdict} (" in r.stderr, (r.record, r.stderr[-2000:])
    assert "ERROR from the destination" in (s.record["error_detail"] or ""), s.record


@pytest.mark.timeout(60)
def test_nobody_listening(request):
    """A destination that is not there: the sender fails at once and says why in words, the socket's reason
    included, on stderr and in its JSON (not only an error code)."""
    work, secret = secret_file(request)
    sjson = os.path.join(work, "send.json")
    with loopback_ns("lrnone") as ns:
        p = subprocess.run(["ip", "netns", "exec", ns, FERRY, "send", "--to", "127.0.0.1:7999", "--secret-file",
                            secret, "--mem", "4M", "--json", sjson, "--timeout", "20"],
                           capture_output=True, text=True, timeout=40)
    with open(sjson) as f:
        rec = json.loads(f.read())
    assert p.returncode == 1 and rec["status"] == "failed", (p.returncode, rec)
    assert rec["link_error"] == "connection 0: Connection refused", rec
    assert rec["error_detail"], rec
    assert "MIGRATION FAILED" in p.stderr and "Connection refused" in p.stderr, p.stderr


@pytest.mark.timeout(240)
def test_soak_back_to_back(request):
    """20 small migrations in a row, 1 to 4 connections, writers running; each verified, each bounded."""
    work, secret = secret_file(request)
    with loopback_ns("lrsoak") as ns:
        for i in range(20):
            conns = 1 + i % 4
            s, r = migrate(ns, work, secret, "8M", conns, ["--pattern", "random", "--writers", "1", "--rate", "20"],
                           port=7200 + i, seconds=20, tag=f"soak{i}")
            sr = checked(s, r, 8 * MIB)
            assert sr["connections"] == conns, (i, sr)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("args,needle", [
    (["send", "--to", "127.0.0.1:1", "--mem", "64M", "--connections", "17"], "--connections"),
    (["recv", "--listen", "127.0.0.1:1", "--mem", "9G"], "--mem"),
    (["send", "--mem", "64M"], "--to HOST:PORT is required"),
    (["send", "--to", "127.0.0.1:1", "--mem", "64M", "--fault", "bogus"], "--fault"),
])
def test_bad_options(args, needle):
    """A bad command line: exit code 2 and one line naming the problem; the secret is never printed."""
    env = dict(os.environ, FERRY_MIGR_SECRET="environment-secret-0123456789")
    p = subprocess.run([FERRY, *args], capture_output=True, text=True, timeout=30, env=env)
    assert p.returncode == 2 and needle in p.stderr, (p.returncode, p.stderr)
    assert "environment-secret" not in p.stderr + p.stdout


@pytest.mark.timeout(60)
def test_congestion_not_offered():
    """A TCP congestion control asked for by name that the kernel does not offer: a clear error naming what it
    offers, before any connection is tried (the default, where not offered, falls back to the system's)."""
    env = dict(os.environ, FERRY_MIGR_SECRET="environment-secret-0123456789")
    p = subprocess.run([FERRY, "send", "--to", "127.0.0.1:1", "--mem", "1M", "--congestion", "nosuchcc"],
                       capture_output=True, text=True, timeout=30, env=env)
    assert p.returncode != 0 and "--congestion nosuchcc: not offered by this kernel" in p.stderr, p.stderr
    assert "it offers:" in p.stderr and "connect" not in p.stderr, p.stderr
