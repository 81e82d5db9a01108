"""A guest's fault stops that VM, never the hypervisor; bad configurations are refused clearly."""
import pytest

from machine import boot, workdir_for


def host_alive_after(b, index):
    """The hypervisor's once-a-second status line appears after the line at index."""
    return any("I host: uptime" in line and "vm0 stopped" in line for line in b.lines[index + 1:])


def test_access_outside_ram_stops_only_that_vm(run):
    b = run("vcpus=2 mem=32M guest.mode=oob run_for=4000")
    touch = b.index_of(r"\[vm0/vcpu0\] guest: touching outside RAM at 0x")
    assert touch >= 0, b.serial
    stop = b.index_of(r"E vm: vm0 stopped: vm0/vcpu0: EPT violation: write at guest-physical 0x[0-9a-f]+, "
                      r"outside guest RAM \(RAM is 0x2000000 bytes\)")
    assert stop > touch, b.serial
    assert b.index_of(r"E vmx: vm0/vcpu0: rip=0x") >= 0, "guest registers were not logged"
    assert "did not stop the VM" not in b.serial
    assert host_alive_after(b, stop), "the hypervisor did not keep running"
    assert b.index_of(r"run_for reached") > stop


def test_triple_fault_is_contained(run):
    b = run("vcpus=2 guest.mode=triple run_for=4000")
    now = b.index_of(r"\[vm0/vcpu0\] guest: triple fault now")
    stop = b.index_of(r"E vm: vm0 stopped: vm0/vcpu0: triple fault at rip 0x")
    assert 0 <= now < stop, b.serial
    assert b.index_of(r"E vmx: vm0/vcpu0: exit reason 2 \(triple fault\)") >= 0
    # The dump shows what the guest was running: the UD2 whose #UD could not be delivered.
    assert b.index_of(r"E vmx: vm0/vcpu0: bytes at rip: 0f 0b") >= 0, b.serial
    assert host_alive_after(b, stop)
    # vCPU 1 ran its workload until the VM was stopped, and never after.
    assert b.index_of(r"\[vm0/vcpu1\] guest: start vcpu=1/2") >= 0
    assert all(b.lines.index(p.string) < stop for p in b.progress(vcpu=1))


@pytest.mark.parametrize("cmdline,message", [
    ("vcpus=9", r"E cmdline: vcpus=9: must be 1\.\.4"),
    ("mem=12345", r"E cmdline: mem=12345: must be a multiple of 4K"),
    ("guest.mode=fast", r"E cmdline: guest\.mode=fast: must be one of work\|oob\|triple\|cpuid\|idle"),
    ("frobnicate=1", r"E cmdline: frobnicate=1: unknown option"),
    ("throttle=50 throttle.max=30", r"E cmdline: throttle=50: above throttle\.max=30"),
], ids=["vcpus", "mem", "mode", "unknown", "throttle"])
def test_bad_command_line_is_refused(machine, cmdline, message, request):
    if machine != "bochs":
        pytest.skip("the command line is checked before VT-x: one machine is enough")
    b = boot(workdir_for(request.node.name), cmdline, timeout=60)
    assert b.index_of(message) >= 0, b.serial
    assert b.index_of(r"E boot: bad command line") >= 0
    assert b.index_of(r"I vm: vm0:") < 0, "a VM was created from a bad command line"


def test_cpu_without_vmx_is_refused(request):
    """QEMU's TCG emulates no VT-x: the hypervisor must say what is missing and stop."""
    b = boot(workdir_for(request.node.name), "vcpus=1", machine="tcg", timeout=60)
    assert b.index_of(r"I vmx: caps: VT-x no") >= 0, b.serial
    assert b.index_of(r"E vmx: cannot run VMs: this CPU lacks VT-x") >= 0
    assert b.index_of(r"E boot: no usable VT-x; the hypervisor stops here") >= 0
    assert b.index_of(r"I vm: vm0:") < 0
