"""Boots the hypervisor in an emulator with a given command line and returns what it printed."""
import os
import re
import subprocess
import time
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
HV_ELF = os.path.join(BUILD, "hv.elf")
GUEST_BIN = os.path.join(BUILD, "guest", "guest.bin")
LINUX_KERNEL = os.path.join(BUILD, "linux", "bzImage")
LINUX_INITRD = os.path.join(BUILD, "linux", "initramfs.gz")

PROGRESS_RE = re.compile(
    r"\[vm(?P<vm>\d+)/vcpu(?P<vcpu>\d+)\] progress vcpu=(?P<gvcpu>\d+) t=(?P<t>\d+) writes=(?P<writes>\d+) "
    r"rate=(?P<rate>\d+) verified=(?P<verified>\d+) errors=(?P<errors>\d+)")
LOG_RE = re.compile(r"^\[\s*(?P<sec>\d+)\.(?P<usec>\d{6})\] (?P<level>[EWID]) (?P<subsys>[\w-]+): (?P<msg>.*)$")


def kvm_vmx_available():
    """QEMU/KVM runs our code only on an Intel host whose KVM offers VMX."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False, "/dev/kvm is missing or not accessible"
    with open("/proc/cpuinfo") as f:
        flags = f.read()
    if not re.search(r"^flags\s*:.*\bvmx\b", flags, re.M):
        return False, "/dev/kvm exists but this CPU offers no VMX (VT-x) to KVM"
    return True, ""


@dataclass
class Boot:
    serial: str
    wall_seconds: float
    lines: list = field(default_factory=list)

    def log_lines(self, level=None, subsys=None):
        out = []
        for line in self.lines:
            m = LOG_RE.match(line)
            if m and (level is None or m["level"] == level) and (subsys is None or m["subsys"] == subsys):
                out.append(m)
        return out

    def progress(self, vcpu=None):
        out = [m for m in (PROGRESS_RE.search(l) for l in self.lines) if m]
        return [m for m in out if vcpu is None or int(m["vcpu"]) == vcpu]

    def index_of(self, pattern):
        rx = re.compile(pattern)
        for i, line in enumerate(self.lines):
            if rx.search(line):
                return i
        return -1


def workdir_for(test_name):
    """A build folder named after the test, in characters the emulators' config files accept."""
    return os.path.join(BUILD, "systest", re.sub(r"[^\w.-]", "_", test_name))


def make_iso(workdir, cmdline, guest=None):
    """guest: None for the test guest, or (image, module string, initrd) for another (a Linux kernel)."""
    iso = os.path.join(workdir, "hv.iso")
    modules = [GUEST_BIN] if guest is None else [guest[0], guest[1]] + ([guest[2]] if guest[2] else [])
    subprocess.run([os.path.join(ROOT, "tools", "mkiso.sh"), iso, HV_ELF, modules[0], cmdline] + modules[1:],
                   check=True)
    return iso


def boot(workdir, cmdline, machine="bochs", timeout=180, guest=None, megs=None):
    """Boots once; the command line should carry run_for=... so the machine powers itself off."""
    os.makedirs(workdir, exist_ok=True)
    iso = make_iso(workdir, cmdline, guest)
    serial = os.path.join(workdir, "serial.log")
    start = time.monotonic()
    if machine == "bochs":
        cmd = [os.path.join(ROOT, "tools", "run-bochs.sh"), iso, serial, str(timeout)]
    else:
        cmd = [os.path.join(ROOT, "tools", "run-qemu.sh"), iso, serial, str(timeout), machine]
    env = dict(os.environ, BOCHS_MEGS=str(megs), QEMU_MEGS=str(megs)) if megs else None
    subprocess.run(cmd, check=True, env=env)
    wall = time.monotonic() - start
    with open(serial, errors="replace") as f:
        text = f.read()
    return Boot(serial=text, wall_seconds=wall, lines=text.splitlines())
