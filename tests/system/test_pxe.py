"""Network boot: diskless Bochs hosts boot by PXE from dnsmasq in the test bed's namespace.

Each host's e1000 boots iPXE from its option ROM; DHCP names the loader
(GRUB's PXE image by default, or an iPXE script), which fetches the
configuration meant for the host's MAC address (or the default), the
hypervisor and the guest over TFTP. The hypervisor then drives the same NIC
the firmware used, without resetting it: ping, the API and DHCP must work.
"""
import json
import os
import re
import shutil
import subprocess
import time

import pytest

from machine import workdir_for
from netbed import (GRUB_BOOT_FILE, IPXE_BOOT_FILE, NETBED, error_lines, make_netboot, needs_bed, netns,  # noqa: F401
                    start_pxe_host, start_pxe_server, stop_host, wait_for)

MAC_A, ADDR_A, TOKEN_A = "52:54:00:00:00:0a", "10.77.0.10", "host-a-token-0123456789"
MAC_B, ADDR_B, TOKEN_B = "52:54:00:00:00:0b", "10.77.0.11", "host-b-token-9876543210"
MAC_C, ADDR_C, TOKEN_D = "52:54:00:00:00:0c", "10.77.0.12", "default-token-abcdefghij"  # C has no file of its own
HOSTS = {
    MAC_A.replace(":", "-"): f"net.mgmt={ADDR_A}/24 api.token={TOKEN_A} vcpus=1 mem=8M run_for=60000",
    MAC_B.replace(":", "-"): f"net.mgmt={ADDR_B}/24 api.token={TOKEN_B} vcpus=2 mem=16M run_for=60000",
    # The default takes its address from DHCP: the NIC the firmware used must do DHCP again under the hypervisor.
    "default": f"net.mgmt=dhcp api.token={TOKEN_D} vcpus=1 mem=12M run_for=60000",
}
GUEST_RAM = {MAC_A: 8 << 20, MAC_B: 16 << 20, MAC_C: 12 << 20}
# The DHCP server pins host C's address, so the test knows where the default host will be.
DNSMASQ_PINS = (f"--dhcp-host={MAC_C},{ADDR_C}",)
BOOT_LIMIT = 120  # wall seconds from power-on to the API listening, on a loaded machine


@pytest.fixture(scope="module")
def tree():
    path = os.path.join(workdir_for("pxe"), "tree")
    sums = make_netboot(path, HOSTS)
    print(sums)
    return path


def ns_run(ns, *cmd, timeout=90):
    return subprocess.run(["ip", "netns", "exec", ns, *cmd], capture_output=True, text=True, timeout=timeout)


def api_get(ns, addr, token, what):
    r = ns_run(ns, "curl", "-s", "-m", "30", "-w", "\n%{http_code}", "-H", f"Authorization: Bearer {token}",
               f"http://{addr}:8080/api/v1/{what}")
    body, _, code = r.stdout.rpartition("\n")
    return int(code or 0), body


def boot_times(text, t_wall):
    """Power-on to guest start: emulated (TSC since reset at entry + the hypervisor's own clock), and wall."""
    entry = re.search(r"FerryHV starting: TSC \d+ kHz, (\d+) ms since reset", text)
    start = re.search(r"\[\s*(\d+\.\d+)\] I guest: \[vm0/vcpu0\] guest: start", text)
    assert entry and start, "no start line or no guest start on the console"
    return int(entry.group(1)) / 1000 + float(start.group(1)), t_wall


def power_on(ns, request, name, mac, tap):
    t0 = time.monotonic()
    proc, serial = start_pxe_host(ns, os.path.join(workdir_for(request.node.name), name), mac, tap)
    return proc, serial, t0


def wait_up(proc, serial, t0):
    text = wait_for(serial, r"I api: listening on en0|^\[[ .0-9]+\] E |FerryHV netboot: cannot", proc, BOOT_LIMIT)
    print(text)
    assert "I api: listening on en0" in text, "the host did not come up"
    text = wait_for(serial, r"guest: start", proc, 30)
    wall = time.monotonic() - t0
    # The console check wants the guest's own report (after 1 s of its time): wait for the first one.
    wait_for(serial, r"\[vm0/vcpu0\] progress ", proc, 60)
    return text, wall


def check_host(ns, mac, addr, token):
    """The host answers on the NIC its firmware booted from, with the configuration meant for it."""
    ping = ns_run(ns, "ping", "-c", "2", "-W", "5", "-w", "60", addr)
    assert ping.returncode == 0, f"no answer from {addr}:\n{ping.stdout}{ping.stderr}"
    code, body = api_get(ns, addr, token, "host.info")
    assert code == 200, (code, body)
    nic = json.loads(body)["nics"][0]
    assert nic["mac"] == mac and nic["role"] == "management" and nic["link"] == "up", nic
    assert nic["rx_frames"] > 0 and nic["tx_frames"] > 0, nic
    code, body = api_get(ns, addr, token, "vm.info")
    assert code == 200 and json.loads(body)["memory_bytes"] == GUEST_RAM[mac], (code, body)


def check_console(serial, loader, secret):
    with open(serial, errors="replace") as f:
        text = f.read()
    assert re.search(rf'I boot: loader "{loader}', text), "booted by another loader than expected"
    assert "api.token=<secret>" in text
    assert secret not in text, "the API token reached the console"
    assert not error_lines(text), error_lines(text)
    progress = re.findall(r"\[vm0/vcpu0\] progress .* errors=(\d+)", text)
    assert progress and all(e == "0" for e in progress), "the guest did not run cleanly"
    return text


def add_taps(ns, n):
    for i in range(1, n):
        subprocess.run([NETBED, "tap", ns, f"tap{i}"], check=True)


def boot_hosts(request, ns, tree, boot_file, hosts, loader):
    """Boots hosts [(mac, addr, token)] by PXE at once and checks each; returns their boot times."""
    add_taps(ns, len(hosts))
    log = os.path.join(workdir_for(request.node.name), "dnsmasq.log")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    server = start_pxe_server(ns, tree, boot_file, log, *DNSMASQ_PINS)
    time.sleep(1)  # dnsmasq binds before the first DHCP discover
    started, times = [], []
    try:
        for i, (mac, _, _) in enumerate(hosts):
            started.append(power_on(ns, request, mac.replace(":", "-"), mac, f"tap{i}"))
            time.sleep(1.5)  # two Bochs starting at once collide on their VNC port
        for (proc, serial, t0), (mac, addr, token) in zip(started, hosts):
            text, wall = wait_up(proc, serial, t0)
            times.append(boot_times(text, wall))
            check_host(ns, mac, addr, token)
        # Each host's token is its own: the other host's is refused.
        if len(hosts) == 2:
            code, _ = api_get(ns, hosts[0][1], hosts[1][2], "host.info")
            assert code == 401, f"host {hosts[0][0]} took another host's token ({code})"
    finally:
        for proc, _, _ in started:
            stop_host(proc)
        server.terminate()
        server.wait(timeout=10)
    for (_, serial, _), (_, _, token) in zip(started, hosts):
        check_console(serial, loader, token)
    for (mac, _, _), (emulated, wall) in zip(hosts, times):
        print(f"PXE boot of {mac} via {loader}: power-on to guest start {emulated:.3f} s emulated, {wall:.1f} s wall")
    return times


@needs_bed
def test_grub_two_hosts_each_with_its_own_configuration(request, netns, tree):
    boot_hosts(request, netns, tree, GRUB_BOOT_FILE, [(MAC_A, ADDR_A, TOKEN_A), (MAC_B, ADDR_B, TOKEN_B)], "GRUB")


@needs_bed
def test_grub_host_without_a_file_gets_the_default(request, netns, tree):
    boot_hosts(request, netns, tree, GRUB_BOOT_FILE, [(MAC_C, ADDR_C, TOKEN_D)], "GRUB")
    with open(os.path.join(workdir_for(request.node.name), MAC_C.replace(":", "-"), "serial.log")) as f:
        assert re.search(rf"I net: en0: address {re.escape(ADDR_C)}/24", f.read()), "no DHCP address"


@needs_bed
def test_ipxe_per_mac_and_default(request, netns, tree):
    boot_hosts(request, netns, tree, IPXE_BOOT_FILE, [(MAC_A, ADDR_A, TOKEN_A), (MAC_C, ADDR_C, TOKEN_D)], "iPXE")


def missing_file_run(request, netns, tree, boot_file, wall):
    """Boots one host from a copy of the tree without the guest image; returns (console, dnsmasq log, seconds)."""
    broken = os.path.join(workdir_for(request.node.name), "tree")
    shutil.rmtree(broken, ignore_errors=True)
    shutil.copytree(tree, broken, symlinks=True)
    os.remove(os.path.join(broken, "ferryhv", "guest.bin"))
    log = os.path.join(workdir_for(request.node.name), "dnsmasq.log")
    server = start_pxe_server(netns, broken, boot_file, log)
    time.sleep(1)
    t0 = time.monotonic()
    proc, serial = start_pxe_host(netns, os.path.join(workdir_for(request.node.name), "host"), MAC_A, "tap0", wall)
    try:
        proc.wait(timeout=wall + 15)
    finally:
        stop_host(proc)
        server.terminate()
        server.wait(timeout=10)
    with open(serial, errors="replace") as f, open(log) as g:
        return f.read(), g.read(), time.monotonic() - t0


@needs_bed
def test_grub_missing_file_is_reported_and_the_host_stops(request, netns, tree):
    text, served, took = missing_file_run(request, netns, tree, GRUB_BOOT_FILE, 90)
    print(text, served)
    assert "guest.bin not found" in served, "the TFTP server was not asked for the guest image"
    assert "FerryHV netboot: cannot load /ferryhv/guest.bin from the TFTP server" in text, "no clear message"
    assert "FerryHV starting" not in text, "the hypervisor started without its guest"
    # GRUB halts (powers the machine off) instead of waiting at a prompt: the run ends well inside the bound.
    assert took < 60, f"the host did not stop after the message ({took:.0f} s)"


@needs_bed
def test_ipxe_missing_file_stops_the_host(request, netns, tree):
    # iPXE writes its messages to the screen only (Debian's ROM has no serial console): the test can see
    # only that the hypervisor did not start and that the host powered off instead of hanging.
    text, served, took = missing_file_run(request, netns, tree, IPXE_BOOT_FILE, 90)
    print(text, served)
    assert "guest.bin not found" in served, "the TFTP server was not asked for the guest image"
    assert "FerryHV starting" not in text, "the hypervisor started without its guest"
    assert took < 60, f"the host did not stop after the failure ({took:.0f} s)"


def test_netboot_tree_is_reproducible(tmp_path):
    """Same inputs, same bytes: two builds of the tree agree file by file, and name no build path."""
    hosts = {"default": "vcpus=1", "52-54-00-00-00-0a": "vcpus=2 net.mgmt=10.77.0.10/24"}
    one = make_netboot(str(tmp_path / "one"), hosts)
    time.sleep(1.1)  # a timestamp taken from the clock would differ now
    two = make_netboot(str(tmp_path / "two"), hosts)
    print(one)
    assert one == two
    listed = {line.split()[1] for line in one.splitlines()}
    for name in ("ferryhv/hv.elf", "ferryhv/hv32.elf", "ferryhv/guest.bin", "boot.ipxe", "hosts/default.ipxe",
                 "hosts/52-54-00-00-00-0a.ipxe", "boot/grub/grub.cfg", "boot/grub/grub.cfg-01-52-54-00-00-00-0a",
                 "boot/grub/i386-pc/core.0"):
        assert name in listed, f"{name} missing from the tree"
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))).encode()
    for name in listed:
        with open(tmp_path / "one" / name, "rb") as f:
            assert root not in f.read(), f"{name} names the build's path"
    # Every file carries the same fixed timestamp.
    stamps = {os.lstat(os.path.join(d, f)).st_mtime for d, _, fs in os.walk(tmp_path / "one") for f in fs}
    assert len(stamps) == 1, stamps


def test_netboot_refuses_a_bad_host_file(tmp_path):
    """A wrong word in a host's file stops the build with the kernel's own message, the secret masked."""
    with pytest.raises(subprocess.CalledProcessError) as failed:
        make_netboot(str(tmp_path / "tree"), {"default": "vcpus=1", "52-54-00-00-00-0a":
                                              "net.mgmt=10.77.0.10/24 api.token=short-secret"})
    err = failed.value.stderr
    assert "52-54-00-00-00-0a.conf: api.token=<secret>: must be 16..64 characters" in err, err
    assert "short-secret" not in err, "the build printed a secret"
    assert not (tmp_path / "tree").exists(), "a failed build left a tree to copy"
