#!/usr/bin/env python3
"""Checks that every system call rot13d makes in the modes the systemd units
use is allowed by their SystemCallFilter (@system-service less @privileged
and @resources): rot13d runs under strace -f as rot13d.service starts it
(socket activation, -c 256 -t 300 and -v) and as rot13d-inetd@.service does
(-i -t 300 on a connection), serves connections, and ends on SIGTERM; the
calls seen are compared with what `systemd-analyze syscall-filter` lists.

Usage: syscalls-in-filter.py BINARY   (prints 'N passed, N failed')"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

binary = sys.argv[1]


def filter_set():
    out = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager"], capture_output=True, text=True, check=True).stdout
    groups, cur = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            cur = line.split()[0]
            groups[cur] = []
        elif line.strip() and not line.strip().startswith("#") and cur:
            groups[cur].append(line.strip())

    def expand(g):
        calls = set()
        for x in groups.get(g, []):
            calls |= expand(x) if x.startswith("@") else {x}
        return calls

    # As the units say it: @system-service and seccomp (rot13d's own
    # confinement), less @privileged and @resources.
    return (expand("@system-service") | {"seccomp"}) - expand("@privileged") - expand("@resources")


def calls_in(log):
    """The names of the calls in strace log `log` after the last execve
    (the shell that sets LISTEN_PID execs rot13d)."""
    names = set()
    for line in open(log):
        m = re.match(r"^\d+\s+(\w+)\(", line)
        if m and m.group(1) == "execve":
            names = set()
        elif m:
            names.add(m.group(1))
    os.unlink(log)
    return names


def exchange(addr, n=3):
    for i in range(n):
        c = socket.create_connection(addr, timeout=10)
        c.sendall(b"Hello %d\n" % i)
        c.shutdown(socket.SHUT_WR)
        assert c.recv(100) == b"Uryyb %d\n" % i
        c.close()


allowed = filter_set()
calls = set()

# rot13d.service: the socket passed as fd 3 (Accept=no).
listener = socket.socket(socket.AF_INET6)
listener.bind(("::1", 0))
listener.listen(16)
addr = listener.getsockname()[:2]
os.dup2(listener.fileno(), 3)
os.set_inheritable(3, True)
log = tempfile.mktemp(prefix="rot13d-filter-")
launcher = ["strace", "-f", "-qq", "-o", log, "sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" -c 256 -t 300 -v', binary]
p = subprocess.Popen(launcher, pass_fds=[3], stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(0.5)
try:
    exchange(addr)
    time.sleep(0.3)
finally:
    # SIGTERM to rot13d (strace's child), which ends strace too.
    for pid in open(f"/proc/{p.pid}/task/{p.pid}/children").read().split():
        os.kill(int(pid), 15)
    p.wait(timeout=10)
calls |= calls_in(log)
os.close(3)

# rot13d-inetd@.service: the connection as stdin and stdout (-i).
server = socket.create_server(("127.0.0.1", 0))
client = socket.create_connection(server.getsockname(), timeout=10)
conn, _ = server.accept()
log = tempfile.mktemp(prefix="rot13d-filter-")
p = subprocess.Popen(["strace", "-f", "-qq", "-o", log, binary, "-i", "-t", "300"], stdin=conn, stdout=conn, stderr=subprocess.DEVNULL)
conn.close()
client.sendall(b"Hello\n")
client.shutdown(socket.SHUT_WR)
assert client.recv(100) == b"Uryyb\n"
p.wait(timeout=10)
calls |= calls_in(log)

missing = sorted(calls - allowed)
print("calls made:", " ".join(sorted(calls)))
if missing:
    print("not allowed by the units' SystemCallFilter:", " ".join(missing))
    print("syscall filter: 0 passed, 1 failed")
    sys.exit(1)
print("syscall filter: 1 passed, 0 failed")
