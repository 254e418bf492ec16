#!/usr/bin/env python3
"""Attribution: the cgroup, systemd unit and process of a socket's owner.

A child process is put into a cgroup made for the test (one whose name looks
like a systemd service, one that does not) before it opens its sockets; the
daemon must report that cgroup's path, and the unit, in both formats. The
test cgroups are removed at the end, whatever happens. With
[attribution] processes = yes, a child with a name of its own (with blanks
and quotes, to test the escaping) must be reported with its pid and name.

Run by hand: see README.md in this directory.
"""

import contextlib
import os
import socket
import subprocess
import sys
import time

from tcpstate_testlib import (SKIP, cgroup2_root, Daemon, Endpoint, Netns, check, check_equal,
                              connect, listener, main, wait_until)

# A child that opens a listener on loopback, prints its port and waits.
CHILD = r"""
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
sys.stdin.read()
"""


@contextlib.contextmanager
def test_cgroup(rel):
    """Creates the cgroup REL (a path below the cgroup2 root, each level
    created), yields its absolute path, and removes it again."""
    root = cgroup2_root()
    created = []
    path = root
    try:
        for part in rel.strip("/").split("/"):
            path = os.path.join(path, part)
            os.mkdir(path)
            created.append(path)
        yield path
    finally:
        for p in reversed(created):
            for _ in range(100):
                try:
                    os.rmdir(p)
                    break
                except OSError:
                    time.sleep(0.02)  # its last process is still exiting


@contextlib.contextmanager
def child_in(cgroup):
    """A child process in CGROUP holding a listener; yields (proc, port)."""
    def enter():
        with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
    p = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, preexec_fn=enter)
    try:
        port = int(p.stdout.readline())
        yield p, port
    finally:
        p.kill()
        p.wait()


def owner_of(d, port):
    r = d.wait_for(lambda r: r["lport"] == port and r["to"] == "LISTEN",
                   f"the LISTEN record of port {port}")
    return {k: r[k] for k in ("cgroup", "unit") if k in r}


def cgroup_and_unit(fmt):
    tag = f"tcpst{os.getpid()}"
    with Netns() as ns:
        d = Daemon(ns, fmt=fmt)
        with test_cgroup(f"{tag}.slice/{tag}-web.service/worker") as cg:
            with child_in(cg) as (_, port):
                o = owner_of(d, port)
                if fmt == "json":
                    check_equal(o, {"cgroup": f"/{tag}.slice/{tag}-web.service/worker",
                                    "unit": f"{tag}-web.service"}, "owner")
                else:  # text has the unit only
                    check_equal(o, {"unit": f"{tag}-web.service"}, "owner")
        with test_cgroup(f"{tag}-plain") as cg:
            with child_in(cg) as (_, port):
                o = owner_of(d, port)
                check_equal(o, {"cgroup": f"/{tag}-plain"} if fmt == "json" else {},
                            "owner of a socket in a cgroup without a unit")
        # A minisocket has no cgroup of its own: a TIME_WAIT socket's record
        # names the owner its full socket had.
        srv = listener(socket.AF_INET)
        c = connect(socket.AF_INET, "127.0.0.1", srv.getsockname()[1])
        a, _ = srv.accept()
        cli = Endpoint(c)
        c.close()
        a.close()
        r = d.wait_for(lambda r: r["cookie"] == cli.cookie and r["to"] == "TIME_WAIT",
                       "the TIME_WAIT record of the client")
        first = d.wait_for(lambda r: r["cookie"] == cli.cookie and r["from"] == "NONE",
                           "the first record of the client")
        check_equal({k: r[k] for k in ("cgroup", "unit", "uid", "inode") if k in r},
                    {k: first[k] for k in ("cgroup", "unit", "uid", "inode") if k in first},
                    f"the owner on the TIME_WAIT record {r}")
        d.stop()
        srv.close()


def test_cgroup_json():
    cgroup_and_unit("json")


def test_cgroup_text():
    cgroup_and_unit("text")


# A child with a name of its own (prctl PR_SET_NAME, as /proc/PID/comm shows
# it) that holds a listener and a connection to it.
NAMED = r"""
import ctypes, socket, sys
ctypes.CDLL(None).prctl(15, sys.argv[1].encode(), 0, 0, 0)  # PR_SET_NAME
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
c = socket.create_connection(s.getsockname())
print(s.getsockname()[1], c.getsockname()[1], flush=True)
sys.stdin.read()
"""


def named_child(name):
    p = subprocess.Popen([sys.executable, "-c", NAMED, name], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    lport, cport = map(int, p.stdout.readline().split())
    return p, lport, cport


def processes(fmt, cgroups=True):
    with Netns() as ns:
        # Started before the daemon: the scan for the first records finds
        # them (a socket opened later is found by the next scan, at most
        # one a second).
        name = 'tc "p" x\\y'  # a blank, quotes, a backslash: escaped in both formats
        p, lport, cport = named_child(name)
        try:
            d = Daemon(ns, fmt=fmt, config="[attribution]\nprocesses = yes\n" +
                       ("" if cgroups else "cgroups = no\n"))
            lst = d.wait_for(lambda r: r["lport"] == lport and r["to"] == "LISTEN",
                             "the child's listener")
            cli = d.wait_for(lambda r: r["lport"] == cport and r["to"] == "ESTABLISHED",
                             "the child's connection")
            for r in (lst, cli):
                check_equal((r.get("pid"), r.get("comm")), (p.pid, name),
                            f"pid and comm of {r}")
                if fmt == "json":  # text records give the unit, not the cgroup
                    check(("cgroup" in r) == cgroups, f"cgroup with cgroups = {cgroups}: {r}")
            # The server side of the connection is in the listener's queue,
            # held by no process: no pid, no comm.
            srv = d.wait_for(lambda r: r["rport"] == cport and r["to"] == "ESTABLISHED",
                             "the server side of the child's connection")
            check("pid" not in srv and "comm" not in srv,
                  f"a process for a socket nobody holds: {srv}")
            # A socket that closes keeps its process in its last record.
            p.kill()
            p.wait()
            gone = d.wait_for(lambda r: r["cookie"] == lst["cookie"] and r["to"] == "NONE",
                              "the child's listener going away")
            check_equal(gone.get("pid"), p.pid, f"pid in the last record {gone}")
            d.stop()
        finally:
            p.kill()
            p.wait()


def test_processes_json():
    processes("json")


def test_processes_text():
    processes("text")


def test_processes_without_cgroups():
    # Turning cgroups off once freed the process map too, which the
    # records then read (found by ASan).
    processes("json", cgroups=False)


def test_cgroups_off():
    with Netns() as ns:
        d = Daemon(ns, config="[attribution]\ncgroups = no\n")
        srv = listener(socket.AF_INET)
        r = d.wait_transition(Endpoint(srv), "NONE", "LISTEN")
        check("cgroup" not in r, f"a cgroup with cgroups = no: {r}")
        d.stop()


if __name__ == "__main__":
    if cgroup2_root() is None and os.geteuid() == 0:
        print("SKIP: no cgroup2 file system at /sys/fs/cgroup or /sys/fs/cgroup/unified")
        sys.exit(SKIP)
    main([test_cgroup_json, test_cgroup_text, test_cgroups_off, test_processes_json,
          test_processes_text, test_processes_without_cgroups])
