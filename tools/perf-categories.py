#!/usr/bin/env python3
"""Where the CPU time of a transfer went, by kind of work: a `perf record -e cpu-clock -c PERIOD_NS` file read
with `perf report`, its samples per process (pid:name) and symbol put into categories (copies, checksums and
digests, MACs, syscall entry and exit, the TCP/IP stack, ...), as CPU seconds per GiB moved.

usage: perf-categories.py [--time=START,END] PERF_DATA PERIOD_NS BYTES LABEL COMM[,COMM...] [JSON_OUT]
(COMM: the process names to count; everything else on the machine is left out. --time: only the samples in
that span, seconds on the recording's clock, as `perf report --time` takes it: a recording made with
`-k CLOCK_MONOTONIC` and a program that reports its span on that clock count the span alone.)
Code in libcrypto, whose assembly has no symbols, counts as MACs and crypto by its library.
"""
import json
import re
import subprocess
import sys

# First match wins: the more specific kinds of work come first.
CATEGORIES = [
    ("the program's memory fill and self-check", r"^lr_guest"),
    ("MACs and crypto", r"mbedtls|poly1305|sha256|sha512|chacha|hmac|_gcm|gcm_|gmac|aesni|aes_"),
    ("checksums and digests", r"xxh|XXH|csum|crc"),
    ("copies", r"memcpy|memmove|copy_user|_copy_to_iter|_copy_from_iter|copy_page|rep_movs|skb_copy|copyout|copyin"),
    ("page faults and zeroing", r"clear_page|memset|do_anonymous_page|handle_mm_fault|exc_page_fault|"
                                r"do_user_addr_fault|folio_zero|alloc_anon_folio|__alloc_pages|get_page_from_freelist"),
    ("dirty tracking", r"pagemap|uffd|userfault|change_protection|change_pte_range|mwriteprotect|pagemap_scan"),
    ("syscall entry and exit", r"entry_SYSCALL|do_syscall|syscall_exit|exit_to_user|__x64_sys|syscall_return|"
                               r"^syscall$|__GI___libc|__libc_(send|recv|write|read)|^(send|recv|write|read|splice)$"),
    ("splice and pipes", r"splice|pipe_|iov_iter"),
    ("softirq (loopback receive runs here)", r"_raw_spin_unlock_irqrestore|handle_softirqs|do_softirq|"
                                             r"__local_bh_enable|net_rx_action|__napi_poll|process_backlog"),
    ("TCP/IP stack", r"^tcp_|^__tcp|^ip_|^__ip|inet_|^sk_|^__sk|^skb_|^__skb|^sock_|^__sock|^__dev|^dev_|"
                     r"^net_|loopback|netif|napi|release_sock|lock_sock|kfree_skb|__alloc_skb|__kmalloc|kmem_cache"),
    ("scheduling and wake-ups", r"schedule|finish_task_switch|try_to_wake_up|futex|switch_to|enqueue|dequeue|"
                                r"pick_next|update_curr|ttwu|poll|ep_|select"),
    # A paravirtualised kernel (PVM) takes a timer sample that came while interrupts were off when it turns
    # them back on: the kernel work of a locked section or a softirq lands here, not where it was done.
    ("kernel work with interrupts off (sampled at their return)", r"irq_enable$"),
]
DSO_CATEGORIES = [("MACs and crypto", r"^libcrypto|^libsodium|^libmbed")]
LINE_RE = re.compile(r"^\s+([\d.]+)%\s+(\d+)\s+(\S+)\s+(\S+)\s+\[[.k]\]\s+(.+?)\s*$")


def category(dso, sym):
    for name, rx in DSO_CATEGORIES:
        if re.search(rx, dso):
            return name
    for name, rx in CATEGORIES:
        if re.search(rx, sym):
            return name
    return "other"


def main():
    args = sys.argv[1:]
    span = []
    if args and args[0].startswith("--time="):
        span = ["--time", args.pop(0).split("=", 1)[1]]
    data, period_ns, nbytes, label, comms = args[0], int(args[1]), int(args[2]), args[3], args[4]
    out = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "-n", "-g", "none",
                          "--sort", "pid,dso,sym", "--comms", comms, *span], capture_output=True, text=True,
                         check=True).stdout
    gib = nbytes / (1 << 30)
    table = {}
    for line in out.splitlines():
        m = LINE_RE.match(line)
        if m:
            comm, dso, sym = m[3], m[4], m[5]
            key = (comm, category(dso, sym))
            table[key] = table.get(key, 0) + int(m[2])
    per = {}
    for (comm, cat), samples in table.items():
        per.setdefault(comm, {})[cat] = round(samples * period_ns / 1e9 / gib, 4)
    print(f"\n{label}: CPU seconds per GiB moved ({nbytes / (1 << 30):.2f} GiB), by process and kind of work")
    for comm, cats in sorted(per.items()):
        total = sum(cats.values())
        print(f"  {comm}: {total:.3f} s/GiB")
        for cat, v in sorted(cats.items(), key=lambda kv: -kv[1]):
            print(f"    {v:8.3f}  {100 * v / total if total else 0:5.1f}%  {cat}")
    if len(args) > 5:
        with open(args[5], "w") as f:
            json.dump({"label": label, "bytes": nbytes, "s_per_gib": per}, f, indent=1)


if __name__ == "__main__":
    main()
