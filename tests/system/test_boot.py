"""The hypervisor boots, reports its VT-x capabilities and runs the test guest on 1 and 4 vCPUs."""
import re


def assert_no_errors(b):
    errors = [m.group(0) for m in b.log_lines(level="E")]
    assert not errors, f"unexpected error lines: {errors}"
    assert "CORRUPT" not in b.serial


def test_capabilities_line(run):
    b = run("vcpus=1 run_for=1500")
    caps = b.log_lines(subsys="vmx")
    line = next((m["msg"] for m in caps if m["msg"].startswith("caps:")), None)
    assert line, b.serial
    for feature in ("EPT", "unrestricted guest", "preemption timer", "EPT A/D", "PML"):
        assert re.search(rf"\b{feature} (yes|no)\b", line), f"{feature} missing from: {line}"
    assert "EPT yes" in line and "unrestricted guest yes" in line and "preemption timer yes" in line
    assert b.index_of(r"VMX operation on") >= 0


def test_one_vcpu_makes_progress(run):
    b = run("vcpus=1 run_for=3500 guest.pattern=seq")
    assert_no_errors(b)
    assert b.index_of(r"\[vm0/vcpu0\] guest: start vcpu=0/1 ram=32M mode=work pattern=seq") >= 0
    prog = b.progress(vcpu=0)
    assert len(prog) >= 2, b.serial
    writes = [int(p["writes"]) for p in prog]
    assert writes == sorted(writes) and writes[-1] > writes[0] > 0
    assert all(int(p["errors"]) == 0 and int(p["verified"]) > 0 for p in prog)
    assert b.index_of(r"run_for reached") >= 0
    # The host timer kept ticking while the guest ran, partly as external-interrupt exits.
    stats = next(l for l in b.lines if "stats: vm0/vcpu0:" in l)
    assert re.search(r" 1:\d+ ", stats) and re.search(r" 52:\d+", stats), stats
    assert re.search(r"host ticks", b.serial) and not re.search(r", 0 host ticks", b.lines[b.index_of("uptime 2")])


def test_four_vcpus_each_make_progress(run):
    b = run("vcpus=4 run_for=3500 guest.pattern=random")
    assert_no_errors(b)
    for vcpu in range(4):
        assert b.index_of(rf"\[vm0/vcpu{vcpu}\] guest: start vcpu={vcpu}/4") >= 0, f"vcpu{vcpu} never started"
        prog = b.progress(vcpu=vcpu)
        assert len(prog) >= 2, f"vcpu{vcpu}: no progress lines"
        assert int(prog[-1]["writes"]) > int(prog[0]["writes"]) > 0
        assert all(int(p["errors"]) == 0 for p in prog)
    # Round robin: every vCPU got a fair share of the CPU.
    ran = {int(m["vcpu"]): int(m["us"]) for m in
           (re.search(r"vm0/vcpu(?P<vcpu>\d+): ran (?P<us>\d+) us", l) for l in b.lines) if m}
    assert sorted(ran) == [0, 1, 2, 3], b.serial
    assert max(ran.values()) < 1.1 * min(ran.values()), ran
