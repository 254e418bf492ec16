#!/usr/bin/env python3
"""Measures what process attribution and [filter] cost at scale.

Creates a network namespace and, inside a pid namespace of its own (so that
/proc shows only these processes, not the rest of the machine), PROCS
processes that each hold SOCKETS/PROCS listening TCP sockets; then runs
attrib_cost (built with the tests: build/tests/attrib_cost) there and prints
its figures. Needs root. Usage:

    bench/attrib/attrib_cost.py BUILD_DIR [PROCS [SOCKETS]]

Defaults: 500 processes, 10000 sockets.
"""

import os
import socket
import subprocess
import sys
import time

HOLDER = r"""
import socket, sys
n = int(sys.argv[1])
socks = []
for _ in range(n):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    socks.append(s)
print("ready", flush=True)
sys.stdin.read()
"""


def inner(tool, procs, sockets):
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    per = sockets // procs
    children = []
    try:
        for _ in range(procs):
            p = subprocess.Popen([sys.executable, "-c", HOLDER, str(per)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            children.append(p)
        for p in children:
            assert p.stdout.readline().strip() == "ready"
        # One more listener, the one port the filter keeps.
        keep = socket.socket()
        keep.bind(("127.0.0.1", 0))
        keep.listen(1)
        out = subprocess.run([tool, str(keep.getsockname()[1])], check=True,
                             stdout=subprocess.PIPE, text=True).stdout
        print(out, end="")
    finally:
        for p in children:
            p.kill()
        for p in children:
            p.wait()


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--inner":
        inner(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return
    build = sys.argv[1]
    procs = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    sockets = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    tool = os.path.abspath(os.path.join(build, "tests", "attrib_cost"))
    ns = f"tcpst-bench-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        t0 = time.monotonic()
        subprocess.run(["ip", "netns", "exec", ns, "unshare", "--pid", "--fork",
                        "--mount-proc", sys.executable, os.path.abspath(__file__),
                        "--inner", tool, str(procs), str(sockets)], check=True)
        print(f"# {procs} processes, {sockets} sockets; {time.monotonic() - t0:.1f} s in all")
    finally:
        subprocess.run(["ip", "netns", "delete", ns])


if __name__ == "__main__":
    main()
