"""Networking: Linux pings the hypervisor over its e1000, on a test bed inside a network namespace.

The bed (tools/netbed.sh) is a namespace with a bridge (10.77.0.1/24) and one
tap; Bochs runs inside the namespace with an e1000 on the tap. Nothing is
created or addressed in the machine's own namespace.
"""
import os
import re
import shutil
import subprocess

from machine import boot, workdir_for
from netbed import NETBED, HV_ADDR, HV_MAC, WALL_LIMIT, error_lines, host_log, needs_bed, netns, start_host, stop_host, wait_for  # noqa: F401


@needs_bed
def test_linux_pings_the_hypervisor(request, netns):
    assert shutil.which("ping"), "ping is missing: install iputils-ping (tools/install-deps.sh)"
    # The guest keeps working meanwhile: the network task shares the CPU with its vCPU.
    proc, serial = start_host(netns, workdir_for(request.node.name),
                              f"vcpus=1 run_for=12000 net.mgmt={HV_ADDR}/24 net.gw=10.77.0.1")
    try:
        text = wait_for(serial, r"I net: en0: e1000 at .* link up", proc, 90)
        print(text)
        assert re.search(rf"I net: en0: e1000 at [0-9a-f]{{2}}:[0-9a-f]{{2}}\.\d, mac {HV_MAC}, management, "
                         rf"{re.escape(HV_ADDR)}/24 gw 10\.77\.0\.1, link up", text), "the NIC did not come up"
        ping = subprocess.run(["ip", "netns", "exec", netns, "ping", "-c", "3", "-W", "5", "-w", "60", HV_ADDR],
                              capture_output=True, text=True, timeout=90)
        print(ping.stdout, ping.stderr)
        assert ping.returncode == 0, f"ping failed:\n{ping.stdout}{ping.stderr}"
        assert re.search(r"3 packets transmitted, 3 received", ping.stdout), ping.stdout
        neigh = subprocess.run(["ip", "netns", "exec", netns, "ip", "neigh", "show", HV_ADDR],
                               capture_output=True, text=True).stdout
        assert HV_MAC in neigh.lower(), f"ARP did not resolve the hypervisor's MAC: {neigh}"
        proc.wait(timeout=WALL_LIMIT + 10)  # run_for powers the machine off
    finally:
        stop_host(proc)
    text = host_log(serial)
    assert not error_lines(text), error_lines(text)
    assert "run_for reached" in text
    progress = re.findall(r"\[vm0/vcpu0\] progress .* errors=(\d+)", text)
    assert progress and all(e == "0" for e in progress), "the guest did not keep running cleanly"


def test_net_without_a_nic_stops_the_boot(request):
    """net.mgmt= with no e1000 present: one clear line, and nothing starts."""
    b = boot(workdir_for(request.node.name), "net.mgmt=10.77.0.2/24 run_for=3000", machine="bochs", timeout=120)
    print(b.serial)
    assert b.index_of(r"E net: net.nics=1 but 0 e1000 \(8086:100e\) found on PCI") >= 0, b.serial
    assert b.index_of(r"E boot: net.mgmt asked for and no network; the hypervisor stops here") >= 0
    assert b.index_of(r"guest: start") < 0


MIGR_ADDR = "10.78.0.2"
TOKEN = "roles-test-token-0123456789"
TWO_NICS = (f"e1000: card=0, enabled=1, mac={HV_MAC}, ethmod=tuntap, ethdev=/dev/net/tun:tap0, script=none\n"
            "e1000: card=1, enabled=1, mac=52:54:00:12:34:57, ethmod=tuntap, ethdev=/dev/net/tun:tap1, script=none")


def ns_run(ns, *cmd, timeout=90):
    return subprocess.run(["ip", "netns", "exec", ns, *cmd], capture_output=True, text=True, timeout=timeout)


@needs_bed
def test_two_nics_two_roles(request, netns):
    """Management NIC from DHCP, migration NIC static on its own subnet; the API answers on the first only."""
    subprocess.run([NETBED, "tap", netns, "tap1"], check=True)
    assert ns_run(netns, "ip", "addr", "add", "10.78.0.1/24", "dev", "br0").returncode == 0
    leases = os.path.join(workdir_for(request.node.name), "leases")
    os.makedirs(os.path.dirname(leases), exist_ok=True)
    dnsmasq = subprocess.Popen(["ip", "netns", "exec", netns, "dnsmasq", "--no-daemon", "--conf-file=/dev/null",
                                "--interface=br0", "--bind-interfaces", "--port=0", f"--dhcp-leasefile={leases}",
                                "--dhcp-range=10.77.0.50,10.77.0.60,255.255.255.0,1h",
                                f"--dhcp-host={HV_MAC},10.77.0.55"])
    proc, serial = start_host(netns, workdir_for(request.node.name),
                              f"vcpus=1 run_for=60000 net.mgmt=dhcp net.migr={MIGR_ADDR}/24 api.token={TOKEN}",
                              extra=TWO_NICS)
    try:
        text = wait_for(serial, r"I net: en0: address 10\.77\.0\.55/24", proc, 120)
        print(text)
        assert re.search(r"I net: en0: .*management, address from DHCP", text), text
        assert re.search(rf"I net: en1: .*migration, {re.escape(MIGR_ADDR)}/24", text), text
        for addr in ("10.77.0.55", MIGR_ADDR):
            ping = ns_run(netns, "ping", "-c", "2", "-W", "5", "-w", "60", addr)
            assert ping.returncode == 0, f"no answer from {addr}:\n{ping.stdout}{ping.stderr}"
        ok = ns_run(netns, "curl", "-s", "-m", "30", "-H", f"Authorization: Bearer {TOKEN}",
                    "http://10.77.0.55:8080/api/v1/vmm.ping")
        assert '"version"' in ok.stdout, ok.stdout + ok.stderr
        refused = ns_run(netns, "curl", "-s", "-m", "30", "-H", f"Authorization: Bearer {TOKEN}",
                         f"http://{MIGR_ADDR}:8080/api/v1/vmm.ping")
        assert refused.returncode != 0 and '"version"' not in refused.stdout, "the API answered on the migration NIC"
    finally:
        stop_host(proc)
        dnsmasq.terminate()
        dnsmasq.wait(timeout=10)
    text = host_log(serial)
    assert not error_lines(text), error_lines(text)
