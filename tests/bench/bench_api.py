#!/usr/bin/env python3
"""Management API benchmark: requests answered per second, with and without keep-alive, at 1, 4 and 16 clients.

ApacheBench (`ab`, Debian's apache2-utils) in the test bed's namespace sends
GET vmm.ping with the bearer token to one hypervisor in Bochs for
BENCH_API_SECONDS of wall time per case: `ab -k` keeps connections alive,
plain `ab` opens one HTTP/1.0 connection per request (the server closes it
after the answer). Rates are given per wall second and per emulated second
of the hypervisor's own clock (host.info's uptime_ms before and after each
case), Bochs at ips=50M with clock sync=none. Wall rates depend on the
machine's load; the emulated ones less so, and their ratios are the point:
a close must not cost a timer tick, and 16 clients must all be served.
Prints a table; writes JSON to build/bench/api.json. Needs root (network
namespace, taps).
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "system"))
from machine import BUILD, ROOT  # noqa: E402
from tcpbed import Host, bed, error_lines, host_addr  # noqa: E402

OUT = os.path.join(BUILD, "bench")
TOKEN = "bench-token-0123456789abcdef"
SECONDS = int(os.environ.get("BENCH_API_SECONDS", "5"))
IPS = 50_000_000
URL = f"http://{host_addr(0)}:8080/api/v1/"
CASES = [(clients, keep) for keep in (True, False) for clients in (1, 4, 16)]


def uptime_ms(ns):
    out = subprocess.run(["ip", "netns", "exec", ns, "curl", "-s", "-m", "10", "-H", f"Authorization: Bearer {TOKEN}",
                          URL + "host.info"], capture_output=True, text=True, timeout=30).stdout
    return json.loads(out)["uptime_ms"]


def ab(ns, clients, keep):
    cmd = ["ip", "netns", "exec", ns, "ab", "-q", "-t", str(SECONDS), "-n", "1000000", "-c", str(clients), "-s", "20",
           "-H", f"Authorization: Bearer {TOKEN}"] + (["-k"] if keep else []) + [URL + "vmm.ping"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=SECONDS + 120)

    def field(name):
        m = re.search(rf"^{name}:\s+([\d.]+)", r.stdout, re.M)
        return float(m[1]) if m else None

    done, failed, wall = field("Complete requests"), field("Failed requests"), field("Time taken for tests")
    if r.returncode != 0 or done is None or wall is None:
        raise SystemExit(f"bench: ab -c {clients}{' -k' if keep else ''} failed:\n{r.stdout}\n{r.stderr}")
    non2xx = re.search(r"^Non-2xx responses:\s+(\d+)", r.stdout, re.M)
    return int(done), int(failed or 0), int(non2xx[1]) if non2xx else 0, wall


def main():
    results = []
    with bed("hvbapi", 1) as ns:
        host = Host(ns, os.path.join(OUT, "api"), 0, f"vcpus=1 guest.mode=compute run_for=3600000 api.token={TOKEN}",
                    IPS, wall_limit=SECONDS * len(CASES) * 3 + 120)
        try:
            if "api: listening" not in host.wait(r"api: listening on", 90):
                raise SystemExit("bench: the API did not come up:\n" + host.text()[-3000:])
            for clients, keep in CASES:
                t0 = uptime_ms(ns)
                done, failed, non2xx, wall = ab(ns, clients, keep)
                emulated = (uptime_ms(ns) - t0) / 1000
                results.append({"clients": clients, "keepalive": keep, "requests": done, "failed": failed,
                                "non_2xx": non2xx, "wall_s": wall, "emulated_s": emulated,
                                "per_wall_s": round(done / wall, 1), "per_emulated_s": round(done / emulated, 1)})
        finally:
            host.stop()
        errors = error_lines(host.text())
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "api.json")
    with open(path, "w") as f:
        json.dump({"seconds_per_case": SECONDS, "ips": IPS, "results": results}, f, indent=2)
    print(f"API benchmark: ab against GET vmm.ping, {SECONDS} s per case, Bochs ips={IPS // 1_000_000}M, clock sync=none")
    print(f"{'clients':>7} {'keep-alive':>10} {'requests':>8} {'failed':>6} {'non-2xx':>7} {'wall s':>7} {'req/s wall':>10} "
          f"{'emul s':>7} {'req/s emul':>10}")
    print("-" * 82)
    for r in results:
        print(f"{r['clients']:>7} {'yes' if r['keepalive'] else 'no':>10} {r['requests']:>8} {r['failed']:>6} "
              f"{r['non_2xx']:>7} {r['wall_s']:>7.2f} {r['per_wall_s']:>10.1f} {r['emulated_s']:>7.2f} "
              f"{r['per_emulated_s']:>10.1f}")
    if errors:
        print("error lines on the hypervisor's console:\n  " + "\n  ".join(errors))
    print(f"\nJSON: {os.path.relpath(path, ROOT)}")
    return 1 if errors or any(r["failed"] or r["non_2xx"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
