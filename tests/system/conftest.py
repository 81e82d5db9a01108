import pytest

from machine import boot, kvm_vmx_available, workdir_for


@pytest.fixture(params=["bochs", "kvm"])
def machine(request):
    """Every VT-x test runs in Bochs, and under QEMU/KVM where the host offers VMX."""
    if request.param == "kvm":
        ok, why = kvm_vmx_available()
        if not ok:
            pytest.skip(f"QEMU/KVM run skipped: {why}")
    return request.param


@pytest.fixture
def run(request, machine):
    """run(cmdline) boots the hypervisor and returns its serial output as a Boot."""
    workdir = workdir_for(request.node.name)

    def _run(cmdline, timeout=180):
        result = boot(workdir, cmdline, machine=machine, timeout=timeout)
        # Keep the output next to the test's name for whoever debugs a failure.
        print(result.serial)
        return result

    return _run
