#!/usr/bin/env python3
"""Cost of the migration stream's per-page crypto on this host's CPU.

Runs build/bench/migr-crypto-bench (built by `make bench` from
tests/bench/migr_crypto.c against the host build of mbed TLS and the
hypervisor's Poly1305, OpenSSL's assembly, and page hash, each on the widest
path this CPU allows, as the hypervisor picks at boot): MiB/s over
4 KiB pages for the Poly1305 record MAC (with its per-record ChaCha20 key,
records of 128 KiB), HMAC-SHA256-128, the per-page XXH3-64 and memcpy, one
timed run each, with ratios. Prints the table; writes
build/bench/migr_crypto.json, plus what a page costs the sender in all
(XXH3-64 and the default MAC) as a bound on the stream's single-core rate.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
BUILD = os.path.join(ROOT, "build")
BENCH = os.path.join(BUILD, "bench", "migr-crypto-bench")
OUT = os.path.join(BUILD, "bench", "migr_crypto.json")


def main():
    if not os.access(BENCH, os.X_OK):
        sys.exit(f"bench_migr_crypto: {BENCH} missing (make {os.path.relpath(BENCH, ROOT)})")
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    subprocess.run([BENCH, OUT], check=True, timeout=120)
    with open(OUT) as f:
        doc = json.load(f)
    by = {r["name"]: r for r in doc["results"]}
    for name in ("poly1305", "hmac_sha256_128", "xxh3_64", "memcpy"):
        if not by.get(name, {}).get("mib_s", 0) > 0:
            sys.exit(f"bench_migr_crypto: no rate for {name} in {OUT}")
    # The sender hashes every page and MACs every byte: their costs per page add up.
    page_ns = by["xxh3_64"]["ns_per_page"] + by["poly1305"]["ns_per_page"]
    doc["sender_page_ns"] = round(page_ns, 1)
    doc["sender_mib_s_one_core"] = round(doc["page_bytes"] / page_ns * 1e9 / (1 << 20), 1)
    doc["poly1305_over_hmac"] = round(by["poly1305"]["mib_s"] / by["hmac_sha256_128"]["mib_s"], 2)
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    print(f"XXH3-64 + Poly1305 per page: {page_ns:.0f} ns, at most {doc['sender_mib_s_one_core']:.0f} MiB/s "
          f"on one core; Poly1305 is {doc['poly1305_over_hmac']:.1f}x HMAC-SHA256-128")
    print(f"wrote {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
