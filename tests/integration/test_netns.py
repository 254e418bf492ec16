#!/usr/bin/env python3
"""--netns and [poll] netns: watching a namespace the daemon does not run in.

The daemon runs in namespace A and is told to watch namespace B, by name
(/run/netns/B) and by path (/proc/PID/ns/net of a process in B). It must log
B's connections and none of A's. A namespace that does not exist is refused
at start with exit status 66 and the path in the message, and so does
--check-config.

Run by hand: see README.md in this directory.
"""

import os
import shutil
import tempfile
import socket
import subprocess

from tcpstate_testlib import (Daemon, Endpoint, Netns, check, check_equal,
                              connect, listener, main, write_config)

EX_NOINPUT = 66


def watch_other(how):
    with Netns() as a, Netns() as b:
        with b.inside():
            sleeper = subprocess.Popen(["sleep", "60"])
        try:
            spec = b.name if how == "name" else f"/proc/{sleeper.pid}/ns/net"
            with a.inside():
                # Sockets in A before and after the start: never logged.
                a_srv = listener(socket.AF_INET)
                d = Daemon(a, args=("--netns", spec))
            with b.inside():
                b_srv = listener(socket.AF_INET)
                b_lst = Endpoint(b_srv)
                d.wait_transition(b_lst, "NONE", "LISTEN")
                c = connect(socket.AF_INET, "127.0.0.1", b_lst.lport)
                cli = Endpoint(c, peer=("127.0.0.1", b_lst.lport))
                d.wait_transition(cli, "NONE", "ESTABLISHED")
            with a.inside():
                a_c = connect(socket.AF_INET, "127.0.0.1", a_srv.getsockname()[1])
                a_cookies = {Endpoint(s).cookie for s in (a_srv, a_c)}
            # A marker in B after A's connection: once it is logged, a dump
            # taken after A's connection existed has been diffed.
            with b.inside():
                marker = listener(socket.AF_INET)
                d.wait_transition(Endpoint(marker), "NONE", "LISTEN")
            recs = d.records()
            check(not [r for r in recs if r["cookie"] in a_cookies],
                  f"records of namespace A's sockets in a daemon watching B:\n"
                  f"{d.describe()}")
            check("watching network namespace" in d.stderr(),
                  f"no 'watching network namespace' message:\n{d.stderr()}")
            d.stop()
            for s in (a_srv, a_c, b_srv, c, marker):
                s.close()
        finally:
            sleeper.kill()
            sleeper.wait()


def test_netns_by_name():
    watch_other("name")


def test_netns_by_path():
    watch_other("path")


def test_netns_config_key_and_missing():
    # The daemon never gets as far as polling, but runs in a namespace of
    # its own all the same.
    tmp = tempfile.mkdtemp(prefix="tcpstated-it-")
    with Netns():
        conf = write_config(tmp, "[poll]\nnetns = tcpst-no-such-namespace\n")
        p = subprocess.run([os.environ["TCPSTATED"], "--config", conf,
                            "--log-file", os.path.join(tmp, "log")],
                           capture_output=True, text=True, timeout=10)
        check_equal(p.returncode, EX_NOINPUT, f"exit status for a missing namespace "
                    f"(stderr {p.stderr!r})")
        check("/run/netns/tcpst-no-such-namespace" in p.stderr,
              f"the missing namespace's path is not in {p.stderr!r}")
        # --check-config opens it as the start does: the same status and
        # message, with what to write instead, and no "configuration OK".
        p = subprocess.run([os.environ["TCPSTATED"], "--config", conf,
                            "--check-config"], capture_output=True, text=True, timeout=10)
        check_equal(p.returncode, EX_NOINPUT, f"--check-config with a missing netns "
                    f"(stderr {p.stderr!r})")
        check("cannot open network namespace /run/netns/tcpst-no-such-namespace: "
              "No such file or directory (no such name in /run/netns, see `ip netns "
              "list`; or write a path such as /proc/PID/ns/net)" in p.stderr
              and not p.stdout, f"--check-config: {p.stderr!r}, {p.stdout!r}")
        p = subprocess.run([os.environ["TCPSTATED"], "--config", conf,
                            "--netns", "/proc/self/ns/mnt", "--check-config"],
                           capture_output=True, text=True, timeout=10)
        check_equal(p.returncode, 71, f"--check-config with a mount namespace "
                    f"(stderr {p.stderr!r})")
        check("/proc/self/ns/mnt is not a network namespace (another kind of namespace)"
              in p.stderr, f"message: {p.stderr!r}")
        with Netns() as other:
            p = subprocess.run([os.environ["TCPSTATED"], "--config", conf,
                                "--netns", other.name, "--check-config"],
                               capture_output=True, text=True, timeout=10)
            check_equal(p.returncode, 0, f"--check-config with an existing netns "
                        f"(stderr {p.stderr!r})")
            check(f"netns = {other.name}\n" in p.stdout,
                  f"netns not in --check-config output {p.stdout!r}")
        # Not a network namespace.
        p = subprocess.run([os.environ["TCPSTATED"], "--config", conf,
                            "--netns", "/proc/self/ns/mnt",
                            "--log-file", os.path.join(tmp, "log")],
                           capture_output=True, text=True, timeout=10)
        check_equal(p.returncode, 71, f"exit status for a mount namespace "
                    f"(stderr {p.stderr!r})")
        check("not a network namespace" in p.stderr, f"message: {p.stderr!r}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main([test_netns_by_name, test_netns_by_path, test_netns_config_key_and_missing])
