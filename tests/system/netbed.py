"""The network test bed for system tests: a namespace with a bridge and taps, and Bochs hosts inside it.

Nothing is created or addressed in the machine's own namespace.
"""
import os
import re
import shutil
import subprocess
import time

import pytest

from machine import ROOT, make_iso

NETBED = os.path.join(ROOT, "tools", "netbed.sh")
RUN_BOCHS = os.path.join(ROOT, "tools", "run-bochs.sh")
BRIDGE_ADDR = "10.77.0.1/24"
HV_ADDR = "10.77.0.2"
HV_MAC = "52:54:00:12:34:56"
E1000_LINE = f"e1000: enabled=1, mac={HV_MAC}, ethmod=tuntap, ethdev=/dev/net/tun:tap0, script=none"
WALL_LIMIT = 150  # seconds of wall time for one Bochs run


def _bed_missing():
    if os.geteuid() != 0:
        return "needs root (network namespaces, taps)"
    if not os.path.exists("/dev/net/tun"):
        return "/dev/net/tun is missing"
    return ""


needs_bed = pytest.mark.skipif(bool(_bed_missing()), reason=f"network test bed unavailable: {_bed_missing()}")


@pytest.fixture
def netns():
    """A fresh namespace with a bridge and tap0, deleted afterwards even when the test fails."""
    ns = f"hvnet{os.getpid()}"
    subprocess.run([NETBED, "down", ns], check=True)  # a leftover of a killed run
    subprocess.run([NETBED, "up", ns, "1", BRIDGE_ADDR], check=True)
    try:
        yield ns
    finally:
        # Everything in the namespace was started by this test: stop it by pid, then delete the bed.
        pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), 15)
            except ProcessLookupError:
                pass
        subprocess.run([NETBED, "down", ns], check=True)


def wait_for(path, pattern, proc, seconds):
    """Polls the serial log for a line matching pattern while Bochs runs; returns the log text."""
    rx = re.compile(pattern, re.M)
    deadline = time.monotonic() + seconds
    text = ""
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                text = f.read()
            if rx.search(text):
                return text
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    return text



def start_host(netns, workdir, cmdline, extra=None):
    """Boots the hypervisor in Bochs inside netns with an e1000 on tap0; returns (process, serial log path)."""
    os.makedirs(workdir, exist_ok=True)
    iso = make_iso(workdir, cmdline)
    serial = os.path.join(workdir, "serial.log")
    if os.path.exists(serial):
        os.remove(serial)
    env = dict(os.environ, BOCHS_EXTRA=extra or E1000_LINE, BOCHS_LOG_COPY=os.path.join(workdir, "bochs.log"))
    proc = subprocess.Popen(["ip", "netns", "exec", netns, RUN_BOCHS, iso, serial, str(WALL_LIMIT)], env=env)
    return proc, serial


def stop_host(proc):
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=30)


def host_log(serial):
    """The host's whole console output, printed for whoever debugs a failure."""
    with open(serial, errors="replace") as f:
        text = f.read()
    print(text)
    return text


def error_lines(text):
    return [l for l in text.splitlines() if re.match(r"^\[\s*\d+\.\d+\] E ", l)]


# --- network boot (PXE) ---
PXE_ROM = "/usr/lib/ipxe/82540em.rom"  # iPXE, Debian's ipxe-qemu: the e1000's option ROM
MKNETBOOT = os.path.join(ROOT, "tools", "mknetboot.sh")
CMDLINE_CHECK = os.path.join(ROOT, "build", "tools", "cmdline-check")  # the kernel's parser, built by make
GRUB_BOOT_FILE = "boot/grub/i386-pc/core.0"
IPXE_BOOT_FILE = "boot.ipxe"


def make_netboot(tree, hosts):
    """Builds a network boot tree from {"<mac>|default": command line}; returns its SHA256SUMS text."""
    from machine import GUEST_BIN, HV_ELF
    conf = tree + ".hosts"
    shutil.rmtree(conf, ignore_errors=True)
    os.makedirs(conf)
    for name, words in hosts.items():
        with open(os.path.join(conf, f"{name}.conf"), "w") as f:
            f.write(f"# written by the test\n{words}\n")
    r = subprocess.run([MKNETBOOT, tree, HV_ELF, GUEST_BIN, conf], capture_output=True, text=True,
                       env=dict(os.environ, CMDLINE_CHECK=CMDLINE_CHECK))
    print(r.stdout, r.stderr)
    if r.returncode:
        raise subprocess.CalledProcessError(r.returncode, r.args, r.stdout, r.stderr)
    with open(os.path.join(tree, "SHA256SUMS")) as f:
        return f.read()


def start_pxe_server(netns, tree, boot_file, log, *dnsmasq_args):
    """dnsmasq on the bed's bridge: DHCP with boot_file, TFTP from tree, ProxyDHCP and RA answers for iPXE."""
    out = open(log, "w")
    proc = subprocess.Popen([NETBED, "pxe", netns, tree, boot_file, *dnsmasq_args], stdout=out, stderr=subprocess.STDOUT)
    out.close()
    return proc


def start_pxe_host(netns, workdir, mac, tap, wall=WALL_LIMIT):
    """Powers on a diskless Bochs host whose e1000 boots from the network; returns (process, serial log path)."""
    os.makedirs(workdir, exist_ok=True)
    serial = os.path.join(workdir, "serial.log")
    if os.path.exists(serial):
        os.remove(serial)
    line = f"e1000: enabled=1, mac={mac}, ethmod=tuntap, ethdev=/dev/net/tun:{tap}, script=none, bootrom={PXE_ROM}"
    env = dict(os.environ, BOCHS_EXTRA=line, BOCHS_LOG_COPY=os.path.join(workdir, "bochs.log"))
    proc = subprocess.Popen(["ip", "netns", "exec", netns, RUN_BOCHS, "pxe", serial, str(wall)], env=env)
    return proc, serial
