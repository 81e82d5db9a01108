"""Clients of the management API, hostile and not, run inside the test bed's namespace.

    python3 apiload.py CHECK TOKEN [ARGS...]

prints one JSON object with what happened; tests/system/test_api_hostile.py
asserts on it. Raw sockets only: each check controls exactly which bytes go
out in which segment.
"""
import json
import random
import socket
import struct
import sys
import threading
import time

HOST, PORT = "10.77.0.2", 8080
BRIDGE = "10.77.0.1"  # the namespace's own address on the bridge
SPOOFED = "10.77.0.66"  # a source no host answers ARP for: its SYN-ACKs go nowhere


def request(token, path="vmm.ping", method="GET", version="1.1", extra="", body=b"", length=None):
    """The bytes of one request; length overrides the Content-Length (to send the body later)."""
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    if length is None and (body or method == "PUT"):
        length = len(body)
    clen = f"Content-Length: {length}\r\n" if length is not None else ""
    return (f"{method} /api/v1/{path} HTTP/{version}\r\nHost: hv\r\n{auth}{extra}{clen}\r\n").encode() + body


class Reader:
    """Splits a byte stream into HTTP responses, each checked against its Content-Length."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed by the server")
        self.buf += data

    def response(self, head_only=False):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        n = 0 if head_only or status == 100 else int(headers.get("content-length", "0"))
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, headers, body


def run_all(functions, timeout):
    """Runs the functions in threads at once and waits for all of them."""
    threads = [threading.Thread(target=f) for f in functions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)


def connect(timeout):
    return socket.create_connection((HOST, PORT), timeout=timeout)


def operator_ping(token, timeout=8.0):
    """One fresh connection, one authenticated request: (status or error text, wall seconds)."""
    t0 = time.monotonic()
    try:
        with connect(timeout) as s:
            s.sendall(request(token))
            status, _, body = Reader(s).response()
            if status == 200:
                json.loads(body)
            return status, time.monotonic() - t0
    except (OSError, EOFError, ValueError) as e:
        return f"{type(e).__name__}: {e}", time.monotonic() - t0


def check_fin(token, n="40"):
    """HTTP/1.0 requests whose FIN shares the request's segment (TCP_CORK, shutdown, uncork)."""
    ok, failure = 0, None
    for i in range(int(n)):
        try:
            with connect(5) as s:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
                s.sendall(request(token, version="1.0"))
                s.shutdown(socket.SHUT_WR)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
                r = Reader(s)
                status, headers, body = r.response()
                if status != 200 or "version" not in json.loads(body):
                    raise ValueError(f"status {status}, body {body!r}")
                while True:  # then the server's FIN, and nothing else
                    r._fill()
        except EOFError:
            if r.buf:
                failure = f"request {i}: {len(r.buf)} bytes after the response"
                break
            ok += 1
            continue
        except (OSError, ValueError) as e:
            failure = f"request {i}: {type(e).__name__}: {e}"
            break
    return {"ok": ok, "of": int(n), "failure": failure}


def check_idle(token, n="64"):
    """n connections that never send a byte, then the operator's request."""
    held, refused = [], 0
    for _ in range(int(n)):
        try:
            held.append(connect(5))
        except OSError:
            refused += 1
    status, seconds = operator_ping(token)
    for s in held:
        s.close()
    return {"opened": len(held), "refused": refused, "status": status, "seconds": round(seconds, 2)}


def check_idle_operator(token, n="16"):
    """n kept-alive connections of the operator's, one answer each and then idle, filling every slot;
    then the operator's request on a new connection. Afterwards, what became of the idle ones: closed
    with a FIN (recv gives b""), reset, or still answering."""
    held = []
    for _ in range(int(n)):
        s = connect(5)
        s.sendall(request(token))
        status, _, _ = Reader(s).response()
        if status != 200:
            raise SystemExit(f"an idle connection's first request got {status}")
        held.append(s)
    status, seconds = operator_ping(token)
    out = {"status": status, "seconds": round(seconds, 2), "closed": 0, "reset": 0, "answered": 0, "other": []}
    for s in held:
        try:
            s.setblocking(False)
            try:
                data = s.recv(1)
            except BlockingIOError:
                data = None  # still open, nothing sent: it must answer the next request
            s.settimeout(5)
            if data == b"":
                out["closed"] += 1
            elif data is None:
                s.sendall(request(token))
                status, _, _ = Reader(s).response()
                if status == 200:
                    out["answered"] += 1
                else:
                    out["other"].append(status)
            else:
                out["other"].append(repr(data))
        except ConnectionResetError:
            out["reset"] += 1
        except (OSError, EOFError, ValueError) as e:
            out["other"].append(f"{type(e).__name__}: {e}")
        finally:
            s.close()
    return out


def operator_during(token, attack, stop, seconds):
    """Runs attack() in a thread; once it had a second's head start, the operator pings afresh every 0.5 s."""
    t = threading.Thread(target=attack, daemon=True)
    t.start()
    time.sleep(1)
    operator, end = [], time.monotonic() + float(seconds)
    while time.monotonic() < end:
        operator.append(operator_ping(token, timeout=6))
        time.sleep(0.5)
    stop.set()
    t.join(10)
    return [[s, round(w, 2)] for s, w in operator]


def check_unauth(token, seconds="8", conns="20"):
    """A stranger that keeps conns connections busy with one wrong-token request each every 2 s."""
    stop, answers = threading.Event(), {"401": 0, "closed": 0, "refused": 0}
    socks = [None] * int(conns)

    def stranger():
        while not stop.is_set():
            for i in range(len(socks)):
                try:
                    if socks[i] is None:
                        socks[i] = connect(3)
                    socks[i].sendall(request("wrong-token-wrong-token"))
                    status, _, _ = Reader(socks[i]).response()
                    answers[str(status)] = answers.get(str(status), 0) + 1
                except (OSError, EOFError, ValueError):
                    answers["closed" if socks[i] else "refused"] += 1
                    if socks[i]:
                        socks[i].close()
                    socks[i] = None
            stop.wait(2)

    return {"operator": operator_during(token, stranger, stop, seconds), "stranger": answers}


def check_keepalive(token, clients="16", requests="20"):
    """clients connections at once, each sending requests one after another on the same connection."""
    barrier, lock = threading.Barrier(int(clients)), threading.Lock()
    result = {"ok": 0, "want": int(clients) * int(requests), "errors": []}

    def client(k):
        try:
            # The clients beyond the served ones wait in the queue, and one whose SYN found no room waits
            # for its retransmission (Linux: 1, 3, 7, 15 s after the first): a connection is not refused.
            with connect(30) as s:
                barrier.wait(40)
                r = Reader(s)
                for _ in range(int(requests)):
                    s.sendall(request(token))
                    status, _, body = r.response()
                    if status != 200:
                        raise ValueError(f"status {status}")
                    with lock:
                        result["ok"] += 1
        except (OSError, EOFError, ValueError, threading.BrokenBarrierError) as e:
            with lock:
                result["errors"].append(f"client {k}: {type(e).__name__}: {e}")

    run_all([lambda k=k: client(k) for k in range(int(clients))], 60)
    return result


def check_pipeline(token, n="50"):
    """n GETs in one send, with answers bigger than a ping among them, each answer read in full;
    then HEAD on a kept-alive connection, then Expect: 100-continue."""
    kinds = ["host.info", "host.info", "vmm.ping", "vm.info"]  # ~1 KiB each on average: ~300 KiB of answers
    plan = [kinds[i % len(kinds)] for i in range(int(n))]
    out = {"answered": 0, "of": len(plan), "failure": None}
    try:
        with socket.socket() as s:
            # A small receive window and a late reader: the answers pile up in the server's send buffer.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            # All the requests must fit in our own send buffer, or sendall blocks before we read a thing:
            # ~30 KB of requests is close to what the kernel's autotuning gives a new connection, and the
            # server rightly stops taking requests while its answers wait for our window. (One CI run timed
            # out with 0 answered; that this was why is likely, not shown.)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
            s.settimeout(10)
            s.connect((HOST, PORT))
            s.sendall(b"".join(request(token, path) for path in plan))
            time.sleep(1)
            r = Reader(s)
            for i, path in enumerate(plan):
                status, _, body = r.response()
                if status != 200:
                    raise ValueError(f"answer {i} ({path}): status {status}")
                json.loads(body)
                out["answered"] += 1
    except (OSError, EOFError, ValueError) as e:
        out["failure"] = f"{type(e).__name__}: {e}"
    out.update(head_then_get(token))
    out.update(expect_continue(token))
    return out


def head_then_get(token):
    """HEAD and GET in one send: the HEAD's answer has the GET's Content-Length and no body, so the GET's follows."""
    out = {}
    try:
        with connect(10) as s:
            s.sendall(request(token, method="HEAD") + request(token))
            r = Reader(s)
            status, headers, _ = r.response(head_only=True)
            out["head"] = [status, int(headers.get("content-length", "0"))]
            status, _, body = r.response()
            out["get_after_head"] = status if status != 200 else json.loads(body)["version"]
    except (OSError, EOFError, ValueError) as e:
        out["head_failure"] = f"{type(e).__name__}: {e}"
    return out


def expect_continue(token):
    out = {}
    body = b'{"percent": 0}'
    try:
        with connect(10) as s:
            s.sendall(request(token, "vm.throttle", "PUT", extra="Expect: 100-continue\r\n", length=len(body)))
            r = Reader(s)
            out["interim"] = r.response()[0]
            s.sendall(body)
            out["final"] = r.response()[0]
        with connect(10) as s:  # a stranger's body is refused before it is sent
            s.sendall(request("wrong-token-wrong-token", "vm.throttle", "PUT", extra="Expect: 100-continue\r\n",
                              length=len(body)))
            out["stranger"] = Reader(s).response()[0]
    except (OSError, EOFError, ValueError) as e:
        out["continue_failure"] = f"{type(e).__name__}: {e}"
    return out


def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def syn_packet(src, dst, sport, dport):
    seq = random.getrandbits(32)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", _checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.getrandbits(16), 0, 64, socket.IPPROTO_TCP, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    return ip + tcp


def check_synflood(token, seconds="8", rate="300"):
    """SYNs from a spoofed address that never completes a handshake, while the operator connects afresh."""
    stop, sent = threading.Event(), [0]

    def flood():
        raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        gap, t = 1.0 / float(rate), time.monotonic()
        while not stop.is_set():
            raw.sendto(syn_packet(SPOOFED, HOST, random.randint(1024, 65535), PORT), (HOST, 0))
            sent[0] += 1
            t += gap
            time.sleep(max(0.0, t - time.monotonic()))
        raw.close()

    return {"operator": operator_during(token, flood, stop, seconds), "syns": sent[0]}


def _closed_after(s, t0, limit=20.0):
    """Wall seconds from t0 until the server closes s (FIN or reset), or limit if it never does."""
    s.settimeout(0.2)
    while time.monotonic() - t0 < limit:
        try:
            if s.recv(4096) == b"":
                break
        except socket.timeout:
            continue
        except OSError:
            break
    return round(time.monotonic() - t0, 2)


def check_deadlines(token):
    """How long the server keeps three connections: a head that never completes; the operator's, idle after a
    good request; the operator's, sending a failing request every 2 s after a good one."""
    out = {}

    def partial():
        with connect(10) as s:
            t0 = time.monotonic()
            s.sendall(b"GET /api/v1/vmm.ping HTTP/1.1\r\nHost: hv\r\n")
            out["partial_head"] = _closed_after(s, t0)

    def idle():
        with connect(10) as s:
            s.sendall(request(token))
            Reader(s).response()
            out["idle"] = _closed_after(s, time.monotonic())

    def failing():
        with connect(10) as s:
            r = Reader(s)
            s.sendall(request(token))
            r.response()
            t0 = time.monotonic()
            try:
                while time.monotonic() - t0 < 20:
                    if _closed_after(s, time.monotonic(), 2.0) < 2.0:
                        break
                    s.settimeout(10)
                    s.sendall(request(token, "vm.nothing"))
                    out["failing_status"] = r.response()[0]
            except (OSError, EOFError):
                pass
            out["failing"] = round(time.monotonic() - t0, 2)

    run_all([partial, idle, failing], 40)
    return out


def check_isn(token, n="12"):
    """The server's initial sequence numbers: SYNs from the bridge's address, SYN-ACKs read off a raw socket."""
    rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    rx.settimeout(3)
    isns = []
    for i in range(int(n)):
        # Below Linux's ephemeral range (32768-60999): a port an earlier test's connect() used may still be
        # in TIME_WAIT on the server, which answers a new SYN there with an ACK, not a SYN-ACK.
        sport = 20000 + i
        tx.sendto(syn_packet(BRIDGE, HOST, sport, PORT), (HOST, 0))
        try:
            while True:
                pkt, (src, _) = rx.recvfrom(65536)
                ihl = (pkt[0] & 15) * 4
                tsport, tdport, seq, _, _, flags = struct.unpack("!HHIIBB", pkt[ihl:ihl + 14])
                if src == HOST and tsport == PORT and tdport == sport and flags & 0x12 == 0x12:
                    isns.append(seq)
                    break
        except socket.timeout:
            break
    rx.close()
    tx.close()
    return {"isns": isns}


CHECKS = {name[len("check_"):]: f for name, f in globals().items() if name.startswith("check_")}

if __name__ == "__main__":
    print(json.dumps(CHECKS[sys.argv[1]](*sys.argv[2:])))
