#!/usr/bin/env python3
"""[filter]: only watched sockets and states produce records.

Ports and addresses are compiled into inet_diag bytecode that the kernel runs
during the dump: `--once` (which prints the dump as the kernel returned it)
shows that unwatched sockets never reach user space, and the log shows that
they produce no records. States select records: every record written leaves
or enters a watched state.

Run by hand: see README.md in this directory.
"""

import os
import signal
import socket
import subprocess

from tcpstate_testlib import (Daemon, Endpoint, Netns, accept, check,
                              check_equal, connect, listener, main, wait_until,
                              write_config)


def daemon_with(ns, text):
    d = Daemon(ns, config=text)
    return d, d.config


def once(conf):
    out = subprocess.run([os.environ["TCPSTATED"], "--config", conf, "--once"],
                         capture_output=True, text=True, timeout=10, check=True)
    return out.stdout.splitlines()[1:]


def involves_port(r, port):
    return r["lport"] == port or r["rport"] == port


def test_ports():
    with Netns() as ns:
        watched = listener(socket.AF_INET)
        other = listener(socket.AF_INET)
        wport, oport = watched.getsockname()[1], other.getsockname()[1]
        d, conf = daemon_with(ns, f"[filter]\nports = {wport} 1-2\n")
        d.wait_transition(Endpoint(watched), "NONE", "LISTEN")
        # Made with the daemon stopped, so that it first sees them
        # established (at 20 ms, a poll can land in a loaded machine's
        # handshake). Both connections exist at once: when the watched one
        # is logged, the dump had the unwatched one too.
        with d.paused():
            oc = connect(socket.AF_INET, "127.0.0.1", oport)
            oa = accept(other)
            wc = connect(socket.AF_INET, "127.0.0.1", wport)
            wa = accept(watched)
        d.wait_transition(Endpoint(wc), "NONE", "ESTABLISHED")
        d.wait_transition(Endpoint(wa), "NONE", "ESTABLISHED")
        oc.close()
        oa.close()
        wc.close()
        d.wait_transition(Endpoint(wa), "ESTABLISHED", "CLOSE_WAIT")
        recs = d.records()
        bad = [r for r in recs if not involves_port(r, wport)]
        check(not bad, f"records of unwatched sockets: {bad}\n{d.describe()}")
        # The kernel itself leaves them out of the dump.
        rows = once(conf)
        check(rows and all(f":{wport} " in row for row in rows),
              f"--once shows sockets off port {wport}:\n" + "\n".join(rows))
        check(any(f":{oport} " in line for line in ns.ss().splitlines()),
              "the unwatched listener is not there at all")
        d.stop()
        wa.close()


def test_local_remote_ports_and_addresses():
    with Netns() as ns:
        a = listener(socket.AF_INET, "127.0.0.2")
        b = listener(socket.AF_INET, "127.0.0.1")
        aport, bport = a.getsockname()[1], b.getsockname()[1]
        d, _ = daemon_with(ns, "[filter]\naddresses = 127.0.0.2/32 10.0.0.0/8\n"
                               f"local_ports = {aport}\n")
        d.wait_transition(Endpoint(a), "NONE", "LISTEN")
        with d.paused():  # first seen established (see test_ports)
            bc = connect(socket.AF_INET, "127.0.0.1", bport)
            ac = connect(socket.AF_INET, "127.0.0.2", aport)
            aa = accept(a)
        # The client's local port is not watched, its server's is.
        d.wait_transition(Endpoint(aa), "NONE", "ESTABLISHED")
        recs = d.records()
        check_equal(sorted({(r["laddr"], r["lport"]) for r in recs}),
                    [("127.0.0.2", aport)], "local endpoints logged")
        d.stop()
        for s in (bc, ac, aa, a, b):
            s.close()


def test_states_and_reload():
    with Netns() as ns:
        srv = listener(socket.AF_INET)
        port = srv.getsockname()[1]
        d, conf = daemon_with(ns, "[filter]\nstates = ESTABLISHED\n")
        with d.paused():  # first seen established (see test_ports)
            c = connect(socket.AF_INET, "127.0.0.1", port)
            a = accept(srv)
        cli = Endpoint(c)
        d.wait_transition(cli, "NONE", "ESTABLISHED")
        c.close()
        d.wait_transition(cli, "ESTABLISHED", "FIN_WAIT2")
        a.close()
        # FIN_WAIT2 -> TIME_WAIT is not logged; a socket opened after it is.
        ns.wait_ss(cli, "TIME-WAIT")
        with d.paused():
            c2 = connect(socket.AF_INET, "127.0.0.1", port)
        d.wait_transition(Endpoint(c2), "NONE", "ESTABLISHED")
        recs = d.records()
        bad = [r for r in recs if "ESTABLISHED" not in (r["from"], r["to"])]
        check(not bad, f"records that do not involve ESTABLISHED: {bad}")

        # A reload to a port filter: the old port is no longer logged, the
        # new one is.
        before = [r for r in d.records() if involves_port(r, port)]
        other = listener(socket.AF_INET)
        oport = other.getsockname()[1]
        # Through write_config(), which keeps the metrics in the test's directory.
        check_equal(write_config(d.dir, f"[filter]\nports = {oport}\n"), conf, "config path")
        d.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "reloaded" in d.stderr(), "the reload to be done")
        with d.paused():
            c3 = connect(socket.AF_INET, "127.0.0.1", port)
            a3 = accept(srv)
            oc = connect(socket.AF_INET, "127.0.0.1", oport)
        d.wait_transition(Endpoint(oc), "NONE", "ESTABLISHED")
        after = [r for r in d.records() if involves_port(r, port)]
        check_equal(after, before, "records on the old port after the reload")
        d.stop()
        for s in (srv, c2, other, oc, c3, a3):
            s.close()


def test_bound_only_sockets_are_not_connections():
    """A socket that is bound but neither listens nor connects is no TCP
    connection: the kernel can dump it (as CLOSE) but is not asked to."""
    with Netns() as ns:
        d = Daemon(ns)
        b = socket.socket()
        b.bind(("127.0.0.1", 0))
        marker = listener(socket.AF_INET)
        d.wait_transition(Endpoint(marker), "NONE", "LISTEN")
        d.sync()
        bad = [r for r in d.records() if r["lport"] == b.getsockname()[1]]
        check(not bad, f"records of a bound-only socket: {bad}")
        rows = once(d.config)
        check(not [r for r in rows if r.startswith("CLOSE ")],
              "--once shows a bound-only socket:\n" + "\n".join(rows))
        d.stop()
        b.close()
        marker.close()


if __name__ == "__main__":
    main([test_ports, test_local_remote_ports_and_addresses, test_states_and_reload,
          test_bound_only_sockets_are_not_connections])
