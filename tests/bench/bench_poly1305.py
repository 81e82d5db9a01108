#!/usr/bin/env python3
"""Poly1305 from each library the builds could use, on this host.

Runs build/bench/poly1305-bench (tests/bench/poly1305.c, built by `make bench`
or `make build/bench/poly1305-bench`): instructions per byte (the cost of a
byte in the emulator) and CPU ns per byte for mbed TLS, the hypervisor's
(OpenSSL's assembly, mk/openssl-poly.mk, on each of its paths this CPU has:
hv is the scalar one, hv_avx, hv_avx2, hv_avx512, hv_ifma), the system libsodium and
OpenSSL's libcrypto (the Linux build's), then libcrypto again with its
wider paths masked through OPENSSL_ia32cap, down to its scalar code.
Prints the table; writes build/bench/poly1305.json.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
BUILD = os.path.join(ROOT, "build")
BENCH = os.path.join(BUILD, "bench", "poly1305-bench")
OUT = os.path.join(BUILD, "bench", "poly1305.json")

# OPENSSL_ia32cap: "~" clears the bits given; after ":" the CPUID leaf 7 words (EBX bit 16 AVX512F,
# bit 21 AVX512IFMA, bit 5 AVX2); bit 60 of the first word is CPUID.1:ECX.AVX.
OPENSSL_PATHS = [
    ("openssl_no_ifma", ":~0x200000"),
    ("openssl_avx2", ":~0x210000"),
    ("openssl_avx", ":~0x210020"),
    ("openssl_scalar", "~0x1000000000000000:0"),
]


def run(out, env_cap=None, only=None):
    env = dict(os.environ)
    env.pop("OPENSSL_ia32cap", None)
    if env_cap is not None:
        env["OPENSSL_ia32cap"] = env_cap
    cmd = [BENCH] + (["-l", only] if only else []) + [out]
    subprocess.run(cmd, check=True, timeout=600, env=env, stdout=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)["results"]


def main():
    if not os.access(BENCH, os.X_OK):
        sys.exit(f"bench_poly1305: {BENCH} missing (make {os.path.relpath(BENCH, ROOT)})")
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    tmp = OUT + ".part"
    results = run(tmp)
    for name, cap in OPENSSL_PATHS:
        (r,) = run(tmp, cap, "openssl")
        r.update(name=name, what=f"{r['what']}, OPENSSL_ia32cap={cap}")
        results.append(r)
    os.unlink(tmp)
    for r in results:
        if not (r["insn_per_byte"] > 0 and r["ns_per_byte_128k"] > 0):
            sys.exit(f"bench_poly1305: no figure for {r['name']}")
    base = next(r for r in results if r["name"] == "mbedtls")
    print(f"{'library':<16} {'insn/B':>7} {'x mbedtls':>9} {'ns/B 64K':>9} {'ns/B 128K':>9} {'ns/B 1M':>9}")
    for r in results:
        r["insn_vs_mbedtls"] = round(r["insn_per_byte"] / base["insn_per_byte"], 3)
        print(f"{r['name']:<16} {r['insn_per_byte']:7.3f} {r['insn_vs_mbedtls']:9.3f} {r['ns_per_byte_64k']:9.3f} "
              f"{r['ns_per_byte_128k']:9.3f} {r['ns_per_byte_1m']:9.3f}")
    with open(OUT, "w") as f:
        json.dump({"results": results}, f, indent=2)
        f.write("\n")
    print(f"wrote {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
