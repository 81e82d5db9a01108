"""ferry-migrate (linerate/) driven as the benchmark harness drives it: a receiver and a sender process on the
loopback of a fresh network namespace, each bounded in time; their JSON records are returned."""
import contextlib
import json
import os
import subprocess
import time

from machine import BUILD, workdir_for

FERRY = os.path.join(BUILD, "linerate", "ferry-migrate")
SECRET = "linerate-test-secret-0123456789"


@contextlib.contextmanager
def loopback_ns(name):
    """A namespace with only its loopback up; whatever runs in it is stopped and it is deleted afterwards."""
    ns = f"{name}{os.getpid()}"
    subprocess.run(["ip", "netns", "del", ns], capture_output=True)  # a leftover of a killed run
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True)
        yield ns
    finally:
        for pid in subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split():
            try:
                os.kill(int(pid), 9)
            except ProcessLookupError:
                pass
        subprocess.run(["ip", "netns", "del", ns], check=True)


def secret_file(request):
    work = workdir_for(request.node.name)
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, "secret")
    with open(path, "w") as f:
        f.write(SECRET + "\n")
    return work, path


class Result:
    def __init__(self, rc, record, stderr):
        self.rc, self.record, self.stderr = rc, record, stderr


def _finish(proc, json_path, seconds):
    try:
        _, err = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"ferry-migrate hung (more than {seconds} s): {err[-2000:]}")
    record = None
    if os.path.exists(json_path):
        with open(json_path) as f:
            record = json.loads(f.read())
    return Result(proc.returncode, record, err)


def migrate(ns, work, secret, mem, connections, send_args=(), port=7100, seconds=60, tag="run", recv_mem=None):
    """One migration on the namespace's loopback (the receiver takes up to recv_mem, else mem); returns
    (sender, receiver) Results."""
    rjson, sjson = os.path.join(work, f"{tag}-recv.json"), os.path.join(work, f"{tag}-send.json")
    for p in (rjson, sjson):
        if os.path.exists(p):
            os.remove(p)
    common = ["--connections", str(connections), "--secret-file", secret]
    recv = subprocess.Popen(["ip", "netns", "exec", ns, FERRY, "recv", "--listen", f"127.0.0.1:{port}", *common,
                             "--mem", recv_mem or mem, "--json", rjson, "--timeout", str(seconds)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the receiver says it listens before the sender may come
            out = subprocess.run(["ip", "netns", "exec", ns, "ss", "-Hltn", f"sport = :{port}"], capture_output=True,
                                 text=True).stdout
            if out.strip():
                break
            time.sleep(0.05)
        send = subprocess.Popen(["ip", "netns", "exec", ns, FERRY, "send", "--to", f"127.0.0.1:{port}", *common,
                                 "--mem", mem, "--json", sjson, "--timeout", str(seconds), *send_args],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        s = _finish(send, sjson, seconds + 15)
        r = _finish(recv, rjson, 15)
    finally:
        if recv.poll() is None:
            recv.kill()
            recv.wait()
    return s, r
