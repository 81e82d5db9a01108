"""Loopback test bed of the line-rate benchmark: a fresh network namespace, processes inside it, the delay relay.

Every process runs in the namespace (`ip netns exec`, which execs the program under the same pid), so its
ports and traffic stay there; the namespace and whatever still runs in it are removed at the end, also on
failure. Processes are waited for with wait4 so that their CPU time is known.
"""
import os
import re
import signal
import subprocess
import time

from machine import BUILD

RELAY = os.path.join(BUILD, "tools", "relay")
RELAY_RE = re.compile(r"relay: listening on [\d.]+:(?P<port>\d+) to ")
TOTALS_RE = re.compile(r"relay: (?P<conns>\d+) connections, (?P<up>\d+) bytes to target, "
                       r"(?P<down>\d+) bytes back, (?P<failed>\d+) failed")
TCP_LISTEN = "0A"  # /proc/net/tcp state of a listening socket


def bed_missing():
    """Why the bed cannot run here ('' if it can)."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    if not os.path.exists(RELAY):
        return f"{RELAY} is missing (make {os.path.relpath(RELAY, os.path.dirname(BUILD))})"
    return ""


class Proc:
    """A process in the namespace; finish() reaps it and keeps its exit status and CPU seconds."""

    def __init__(self, ns, argv, out=None, err=None):
        self.argv = argv
        self.out_path = out
        stdout = open(out, "w") if out else subprocess.DEVNULL
        stderr = open(err, "w") if err else subprocess.STDOUT if out else subprocess.DEVNULL
        self.p = subprocess.Popen(["ip", "netns", "exec", ns] + argv, stdout=stdout, stderr=stderr)
        for f in (stdout, stderr):
            if hasattr(f, "close"):
                f.close()
        self.pid = self.p.pid
        self.rc = None
        self.cpu_s = None
        self.reaped = False
        self.hung = False  # killed by finish() or kill() rather than ended by itself

    def poll(self):
        if not self.reaped:
            pid, status, ru = os.wait4(self.pid, os.WNOHANG)
            if pid == self.pid:
                self._reaped(status, ru)
        return self.rc

    def _reaped(self, status, ru):
        self.reaped = True
        self.rc = os.waitstatus_to_exitcode(status)
        self.cpu_s = ru.ru_utime + ru.ru_stime
        self.p.returncode = self.rc  # so that Popen does not wait for it again

    def finish(self, seconds):
        """Waits up to seconds; a process still running then is killed and reported as hung (rc None)."""
        deadline = time.monotonic() + seconds
        while self.poll() is None and not self.reaped and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self.reaped:
            self.kill()
        return None if self.hung else self.rc

    def stop(self, seconds=10):
        """SIGTERM, then SIGKILL: for servers that run until told."""
        if self.poll() is None and not self.reaped:
            self.p.send_signal(signal.SIGTERM)
            return self.finish(seconds)
        return None if self.hung else self.rc

    def kill(self):
        if self.poll() is None and not self.reaped:
            self.p.kill()
            _, status, ru = os.wait4(self.pid, 0)
            self._reaped(status, ru)
            self.hung = True

    def text(self):
        if not self.out_path or not os.path.exists(self.out_path):
            return ""
        with open(self.out_path, errors="replace") as f:
            return f.read()

    def cpu_now(self):
        """CPU seconds so far of a running process (its threads included), from /proc."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Netns:
    """A namespace with only loopback, up; `with Netns("tag") as ns:` deletes it and kills what runs in it."""

    def __init__(self, tag):
        self.name = f"{tag}{os.getpid()}"

    def __enter__(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)  # a killed run's leftover
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        subprocess.run(["ip", "-n", self.name, "link", "set", "lo", "up"], check=True)
        return self

    def __exit__(self, *exc):
        pids = subprocess.run(["ip", "netns", "pids", self.name], capture_output=True, text=True).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        subprocess.run(["ip", "netns", "del", self.name], check=True)
        return False

    def start(self, argv, out=None, err=None):
        return Proc(self.name, argv, out, err)

    def run(self, argv, seconds, out=None):
        """Runs argv to its end (killed after seconds); returns the Proc."""
        p = self.start(argv, out)
        p.finish(seconds)
        return p


def listening(pid, port):
    """True once the namespace of pid has a TCP socket listening on port (read from that pid's /proc view)."""
    lines = []
    for table in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{table}") as f:
                lines += f.read().splitlines()[1:]
        except FileNotFoundError:
            return False
    for line in lines:
        local, state = line.split()[1], line.split()[3]
        if state == TCP_LISTEN and int(local.split(":")[1], 16) == port:
            return True
    return False


def wait_listening(proc, port, seconds=10):
    """Waits until proc (running) listens on port: a server is connected to only once it is ready."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if listening(proc.pid, port):
            return
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.argv[0]} ended ({proc.rc}) before listening on {port}:\n{proc.text()[-2000:]}")
        time.sleep(0.01)
    raise RuntimeError(f"{proc.argv[0]} does not listen on {port} after {seconds} s:\n{proc.text()[-2000:]}")


class Relay:
    """The delay relay in the namespace, from a port the kernel picks to 127.0.0.1:target_port."""

    def __init__(self, ns, target_port, delay_ms, workdir, line_mib=None):
        os.makedirs(workdir, exist_ok=True)
        argv = [RELAY, "--listen", "127.0.0.1:0", "--to", f"127.0.0.1:{target_port}", "--delay-ms", str(delay_ms)]
        if line_mib:
            argv += ["--line-mib", str(line_mib)]
        self.proc = ns.start(argv, out=os.path.join(workdir, f"relay-{target_port}-{delay_ms}.log"))
        self.port = self._port()
        wait_listening(self.proc, self.port)
        self.totals = None

    def _port(self):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            m = RELAY_RE.search(self.proc.text())
            if m:
                return int(m["port"])
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        raise RuntimeError(f"relay did not start:\n{self.proc.text()}")

    def stop(self):
        """Stops the relay; returns its totals (connections, bytes each way, failed connections)."""
        self.proc.stop()
        m = TOTALS_RE.search(self.proc.text())
        self.totals = {k: int(v) for k, v in m.groupdict().items()} if m else None
        return self.totals
