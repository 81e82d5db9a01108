"""No guest event is lost when a VM exit interrupts its delivery, and none is lost over an emulated instruction.

The test guest's events mode takes #BP (INT3), #UD (UD2), #GP (a MOV to CR4 that sets OSXSAVE, which CPUID does
not offer) and single-step #DBs
in a loop and counts them; some of the single-stepped instructions exit to the
hypervisor (CPUID, IN, OUT, VMCALL). Log-dirty mode with the write-protection
backend re-protects the guest's stack every 2 ms, so the CPU's push of an
exception frame is what faults: the exit happens during event delivery, and
the event must go in again on the next entry.
"""
import re

EVENTS_RE = re.compile(r"\[vm0/vcpu(?P<vcpu>\d)\] events vcpu=\d+ rounds=(?P<rounds>\d+) bp=(?P<bp>\d+) "
                       r"ud=(?P<ud>\d+) gp=(?P<gp>\d+) db=(?P<db>\d+) errors=(?P<errors>\d+)")
STATS_RE = re.compile(r"I stats: vm0/vcpu(?P<vcpu>\d): .* (?P<reinjected>\d+) events re-injected")
STEP_TRAPS = 8  # #DBs per round: the single-stepped block of tests/guest/events.c


def test_events_survive_exits_during_delivery(run):
    vcpus = 2
    b = run(f"vcpus={vcpus} guest.mode=events guest.report_ms=250 dirty=wp dirty.check=2 dirty.rounds=400 "
            f"dirty.verify=0 run_for=1500", timeout=60)
    assert not [m.group(0) for m in b.log_lines(level="E")], b.serial
    last = {}
    for m in (EVENTS_RE.search(line) for line in b.lines):
        if m:
            last[int(m["vcpu"])] = {k: int(v) for k, v in m.groupdict().items()}
    assert sorted(last) == list(range(vcpus)), "not every vCPU reported its events"
    for r in last.values():
        assert r["errors"] == 0, r
        assert r["rounds"] > 1000, r
        assert r["bp"] == r["rounds"] and r["ud"] == r["rounds"] and r["db"] == STEP_TRAPS * r["rounds"], r
        assert r["gp"] == r["rounds"], r  # each MOV that set CR4.OSXSAVE raised #GP
    # The harvests did protect the stack, and exits did interrupt deliveries on every vCPU.
    check = re.search(r"check: backend=wp .* wp_faults=(\d+)", b.serial)
    assert check and int(check[1]) > 100, b.serial
    reinjected = {int(m["vcpu"]): int(m["reinjected"]) for m in (STATS_RE.search(l) for l in b.lines) if m}
    print(f"events re-injected per vCPU: {reinjected}")
    assert sorted(reinjected) == list(range(vcpus)) and all(n > 0 for n in reinjected.values()), reinjected
    assert re.search(r"I host: uptime \d+ ms, vm0 running, \d+ exits, 0 guest errors", b.serial)
