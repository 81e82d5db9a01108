#!/usr/bin/env python3
"""Runs inside the relay test's namespace: an echo server, then round trips and echoed streams through relays.

usage: relay_probe.py ECHO_PORT RELAY_PORT CONNS MIB
Prints one JSON object: round-trip times in ms, direct and through the relay, and per connection whether
the echoed bytes came back intact (SHA-256 of what was sent against what came back) after the sender's FIN.
"""
import hashlib
import json
import random
import socket
import statistics
import sys
import threading
import time

ROUND_TRIPS = 50
MSG = 64


def echo_server(port, ready):
    srv = socket.create_server(("127.0.0.1", port), backlog=64)
    ready.set()
    while True:
        c, _ = srv.accept()
        threading.Thread(target=echo, args=(c,), daemon=True).start()


def echo(c):
    with c:
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            c.sendall(b)
        c.shutdown(socket.SHUT_WR)


def round_trips(port):
    """Times ROUND_TRIPS request/answer pairs of MSG bytes on one connection, in ms."""
    out = []
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(ROUND_TRIPS):
            msg = bytes([i % 256]) * MSG
            t0 = time.monotonic()
            s.sendall(msg)
            got = b""
            while len(got) < MSG:
                b = s.recv(MSG - len(got))
                if not b:
                    raise SystemExit("probe: echo ended early")
                got += b
            out.append((time.monotonic() - t0) * 1000)
            if got != msg:
                raise SystemExit("probe: echo changed a message")
    return out


def stream(port, seed, nbytes, result):
    """Sends nbytes of seeded data, then FIN; reads the echo to its end; records both digests."""
    data = random.Random(seed).randbytes(nbytes)
    sent = hashlib.sha256(data).hexdigest()
    back = hashlib.sha256()
    got = 0
    with socket.create_connection(("127.0.0.1", port)) as s:
        def send():
            view = memoryview(data)
            for off in range(0, nbytes, 1 << 18):
                s.sendall(view[off:off + (1 << 18)])
            s.shutdown(socket.SHUT_WR)
        t = threading.Thread(target=send)
        t.start()
        while True:
            b = s.recv(1 << 18)
            if not b:
                break
            back.update(b)
            got += len(b)
        t.join()
    result[seed] = {"bytes": nbytes, "returned": got, "intact": back.hexdigest() == sent}


def main():
    echo_port, relay_port, conns, mib = (int(x) for x in sys.argv[1:5])
    ready = threading.Event()
    threading.Thread(target=echo_server, args=(echo_port, ready), daemon=True).start()
    ready.wait()
    direct, relayed = round_trips(echo_port), round_trips(relay_port)
    result = {}
    # One stream large enough to cross many pipes of the delay line, the others small and concurrent.
    threads = [threading.Thread(target=stream, args=(relay_port, i, (mib << 20) if i == 0 else (1 << 20) + i, result))
               for i in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"rtt_direct_ms": {"min": min(direct), "median": statistics.median(direct)},
                      "rtt_relay_ms": {"min": min(relayed), "median": statistics.median(relayed)},
                      "streams": [result[i] for i in sorted(result)]}))


if __name__ == "__main__":
    main()
