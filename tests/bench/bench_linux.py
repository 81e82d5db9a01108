#!/usr/bin/env python3
"""Linux boot benchmark: emulated time from power-on to Debian's kernel's shell, and its VM exits by reason.

Bochs runs with clock sync=none (50 M TSC ticks per emulated second), so the
figures repeat; exits cost Bochs ~95 ticks each, real hardware 1-2 thousand
cycles, so the exit counts are printed beside the times. Writes
build/bench/linux.json.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "system"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from table import print_table  # noqa: E402
from machine import BUILD, LINUX_INITRD, LINUX_KERNEL, ROOT, boot  # noqa: E402

OUT = os.path.join(BUILD, "bench")
RUN_MS = 36000
KERNEL = "console=ttyS0 earlyprintk=serial nokaslr lpj=50000 tsc=reliable"
REAL_EXIT_CYCLES = 1500  # a VM exit and entry on current Intel hardware, for the "what it would cost" line
TSC_HZ = 50_000_000


def host_ms(line):
    m = re.match(r"^\[\s*(\d+)\.(\d{6})\]", line)
    return int(m[1]) * 1000 + int(m[2]) / 1000 if m else None


def first(b, pattern):
    rx = re.compile(pattern)
    return next((l for l in b.lines if rx.search(l)), None)


def main():
    os.makedirs(OUT, exist_ok=True)
    b = boot(os.path.join(OUT, "linux"), f"mem=128M vcpus=1 run_for={RUN_MS}", timeout=400, megs=512,
             guest=(LINUX_KERNEL, KERNEL, LINUX_INITRD))
    reset = re.search(r"FerryHV starting: TSC \d+ kHz, (\d+) ms since reset", b.serial)
    created = first(b, r"I vm: vm0: \d+ MiB RAM")
    init = first(b, r"Run /init as init process")
    prompt = first(b, r"\] guest# ")
    stats = first(b, r"stats: vm0/vcpu0:")
    if not (reset and created and init and prompt and stats):
        raise SystemExit("bench: Linux did not reach its shell:\n" + b.serial[-4000:])
    linux_init_s = float(re.search(r"\[vm0/vcpu0\] \[\s*([\d.]+)\] Run /init", init)[1])
    exits = {int(r): int(n) for r, n in re.findall(r" (\d+):(\d+)", stats.split("reason:count")[1].split(")")[0])}
    names = {1: "external interrupt", 7: "interrupt window", 10: "CPUID", 12: "HLT", 28: "CR access",
             30: "I/O", 31: "RDMSR", 32: "WRMSR", 48: "EPT violation", 52: "preemption timer"}
    total = sum(exits.values())
    res = {
        "machine": "bochs tigerlake, ips=50000000, clock sync=none, 128 MiB guest",
        "kernel": open(os.path.join(BUILD, "linux", "stamp")).read().strip(),
        "emulated_s_power_on_to_hypervisor": int(reset[1]) / 1000,
        "emulated_s_hypervisor_to_vm_created": host_ms(created) / 1000,
        "emulated_s_hypervisor_to_init": host_ms(init) / 1000,
        "emulated_s_hypervisor_to_shell_prompt": host_ms(prompt) / 1000,
        "emulated_s_power_on_to_shell_prompt": round(int(reset[1]) / 1000 + host_ms(prompt) / 1000, 3),
        "linux_clock_s_at_init": linux_init_s,
        "run_s": RUN_MS / 1000,
        "exits_by_reason": {names.get(r, str(r)): n for r, n in sorted(exits.items())},
        "exits_total": total,
        "exits_per_s": round(total / (RUN_MS / 1000)),
        "exit_share_at_1500_cycles_per_exit_on_a_3ghz_cpu": round(total * REAL_EXIT_CYCLES / 3e9 / (RUN_MS / 1000), 4),
    }
    with open(os.path.join(OUT, "linux.json"), "w") as f:
        json.dump(res, f, indent=2)
    rows = [(k, v) for k, v in res.items() if k != "exits_by_reason"]
    rows += [(f"exits: {k}", v) for k, v in res["exits_by_reason"].items()]
    print_table("Linux boot benchmark", rows, os.path.join(OUT, "linux.json"), ROOT)


if __name__ == "__main__":
    main()
