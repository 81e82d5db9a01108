#!/usr/bin/env python3
"""Network boot time: power-on to guest start, booting from a CD (GRUB ISO) and through PXE (GRUB, iPXE).

Emulated time comes from the hypervisor's first line (its TSC since reset,
which counts from power-on at one tick per emulated instruction) plus its
own clock at guest start; wall time is measured from starting Bochs to the
guest's start line on the console. Firmware that waits (DHCP, timers) waits
in emulated time, which Bochs' sync=none skips through at little wall cost,
so the two clocks differ. Runs in a network namespace of its own (root).
Prints a table; writes JSON to build/bench/pxe.json.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "system"))
from machine import BUILD, ROOT, make_iso  # noqa: E402
from netbed import (GRUB_BOOT_FILE, IPXE_BOOT_FILE, NETBED, PXE_ROM, RUN_BOCHS, make_netboot,  # noqa: E402
                    start_pxe_server)

OUT = os.path.join(BUILD, "bench")
WORK = os.path.join(OUT, "pxe")
RUNS = int(os.environ.get("BENCH_PXE_RUNS", "3"))
CMDLINE = "vcpus=1 mem=8M run_for=300 net.mgmt=10.77.0.2/24"
MAC = "52:54:00:12:34:56"
ENTRY_RE = re.compile(r"FerryHV starting: TSC \d+ kHz, (\d+) ms since reset")
START_RE = re.compile(r"^\[\s*(\d+\.\d+)\] I guest: \[vm0/vcpu0\] guest: start", re.M)


def one_boot(ns, media, serial):
    """Powers on one host; returns (emulated s, wall s) from power-on to the guest's start."""
    open(serial, "w").close()
    nic = f"e1000: enabled=1, mac={MAC}, ethmod=tuntap, ethdev=/dev/net/tun:tap0, script=none"
    env = dict(os.environ, BOCHS_EXTRA=nic + (f", bootrom={PXE_ROM}" if media == "pxe" else ""))
    t0 = time.monotonic()
    proc = subprocess.Popen(["ip", "netns", "exec", ns, RUN_BOCHS, media, serial, "120"], env=env)
    wall = None
    while proc.poll() is None:
        with open(serial, errors="replace") as f:
            if wall is None and START_RE.search(f.read()):
                wall = time.monotonic() - t0
        time.sleep(0.02)
    with open(serial, errors="replace") as f:
        text = f.read()
    entry, start = ENTRY_RE.search(text), START_RE.search(text)
    if not (entry and start and wall):
        sys.exit(f"bench_pxe: the guest did not start; see {serial}")
    return int(entry.group(1)) / 1000 + float(start.group(1)), wall


def main():
    os.makedirs(WORK, exist_ok=True)
    tree = os.path.join(WORK, "tree")
    make_netboot(tree, {"default": CMDLINE})
    iso = make_iso(WORK, CMDLINE)
    ns = f"hvbench{os.getpid()}"
    subprocess.run([NETBED, "up", ns, "1"], check=True)
    results = {}
    try:
        for name, media, boot_file in (("cd, GRUB ISO", iso, None), ("PXE, GRUB (default)", "pxe", GRUB_BOOT_FILE),
                                       ("PXE, iPXE", "pxe", IPXE_BOOT_FILE)):
            server = start_pxe_server(ns, tree, boot_file, os.path.join(WORK, "dnsmasq.log")) if boot_file else None
            time.sleep(1 if server else 0)
            runs = [one_boot(ns, media, os.path.join(WORK, "serial.log")) for _ in range(RUNS)]
            if server:
                server.terminate()
                server.wait(timeout=10)
            results[name] = {"emulated_s": [round(e, 3) for e, _ in runs], "wall_s": [round(w, 2) for _, w in runs]}
    finally:
        subprocess.run([NETBED, "down", ns], check=True)
    print(f"{'power-on to guest start':28} {'emulated s (median)':>20} {'wall s (median)':>16}   runs")
    for name, r in results.items():
        print(f"{name:28} {statistics.median(r['emulated_s']):20.3f} {statistics.median(r['wall_s']):16.2f}   {RUNS}")
    with open(os.path.join(OUT, "pxe.json"), "w") as f:
        json.dump({"cmdline": CMDLINE, "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
