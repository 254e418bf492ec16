#!/usr/bin/env python3
"""The metrics textfile: the daemon's own file, read as node_exporter would.

Connections are held in known states in a private namespace (nftables holds
a handshake in SYN_SENT, an application that never closes holds CLOSE_WAIT),
and the file must say so: the socket gauges by state and family, the
transition counters, a handshake in its histogram, the daemon's health; and
`promtool check metrics` must accept it. A missing directory turns metrics
off with one notice and nothing else.

Run by hand: see README.md in this directory.
"""

import os
import re
import shutil
import socket
import subprocess
import tempfile

from tcpstate_testlib import (Daemon, Endpoint, Netns, accept, check,
                              check_equal, connect, connect_finish,
                              connect_start, listener, main, nft_drop,
                              wait_until)

SAMPLE = re.compile(r'^([a-z_]+)(\{[^}]*\})? (\S+)$')


def read_metrics(path):
    """The samples of the textfile at PATH as {'name{labels}': float}, or
    None while it does not exist."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return None
    out = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        check(m, f"not a sample line: {line!r}")
        out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def wait_metrics(path, cond, what):
    """Waits until the file at PATH satisfies COND; returns its samples."""
    got = {}

    def ok():
        got["m"] = read_metrics(path)
        return got["m"] is not None and cond(got["m"])
    wait_until(ok, what, timeout=15,
               on_timeout=lambda: print(open(path).read() if os.path.exists(path) else "no file"))
    return got["m"]


def promtool_check(path):
    promtool = shutil.which("promtool")
    check(promtool, "promtool not found (install prometheus: .ci/deps test)")
    with open(path, "rb") as f:
        p = subprocess.run([promtool, "check", "metrics"], stdin=f,
                           capture_output=True, text=True, timeout=30)
    check_equal((p.returncode, p.stdout + p.stderr), (0, ""), "promtool check metrics")


def test_textfile():
    tmp = tempfile.mkdtemp(prefix="tcpstated-metrics-")
    prom = os.path.join(tmp, "tcpstated.prom")
    try:
        with Netns() as ns:
            srv = listener(socket.AF_INET)
            srv6 = listener(socket.AF_INET6, "::1")
            port = srv.getsockname()[1]
            d = Daemon(ns, config=f"[metrics]\npath = {prom}\ninterval = 1\n")
            wait_metrics(prom, lambda m: m['tcpstated_sockets{state="listen",family="ipv4"}'] == 1
                         and m['tcpstated_sockets{state="listen",family="ipv6"}'] == 1,
                         "the two listeners in the file")

            # A handshake held in SYN_SENT by dropping SYN-ACKs until a poll
            # has seen it, then completed by the next retransmission (~1 s).
            with nft_drop(ns, f"tcp sport {port} tcp flags & (syn|ack) == syn|ack"):
                c1 = connect_start(socket.AF_INET, "127.0.0.1", port)
                cli = Endpoint(c1, peer=("127.0.0.1", port))
                d.wait_transition(cli, "NONE", "SYN_SENT")
            connect_finish(c1)
            d.wait_transition(cli, "SYN_SENT", "ESTABLISHED")
            a1 = accept(srv)

            # CLOSE_WAIT held: the client closes, the server never does.
            c2 = connect(socket.AF_INET, "127.0.0.1", port)
            a2 = accept(srv)
            srv_end = Endpoint(a2)
            d.wait_transition(srv_end, "NONE", "ESTABLISHED")
            c2.close()
            d.wait_transition(srv_end, "ESTABLISHED", "CLOSE_WAIT")

            hs = "tcpstated_handshake_duration_seconds"
            m = wait_metrics(prom, lambda m: m.get(hs + "_count") == 1
                             and m['tcpstated_sockets{state="close_wait",family="ipv4"}'] == 1,
                             "the handshake and CLOSE_WAIT in the file")
            check_equal(m['tcpstated_sockets{state="established",family="ipv4"}'], 2,
                        "established sockets (c1 and its accepted end)")
            check_equal(m['tcpstated_sockets{state="listen",family="ipv4"}'], 1, "listeners")
            check_equal(m['tcpstated_sockets{state="established",family="ipv6"}'], 0,
                        "established IPv6 sockets")
            check(m['tcpstated_transitions_total{from="syn_sent",to="established"}'] >= 1,
                  "SYN_SENT -> ESTABLISHED counted")
            check_equal(m['tcpstated_transitions_total{from="established",to="close_wait"}'], 1,
                        "ESTABLISHED -> CLOSE_WAIT counted")
            check(not any('from="none",to="listen"' in k for k in m),
                  "the listeners there at start are no transitions")
            # Held for one retransmission timeout: about a second.
            check(0.2 < m[hs + "_sum"] < 5, f"handshake took {m[hs + '_sum']} s")
            check_equal(m[hs + '_bucket{le="0.1"}'], 0, "handshakes under 100 ms")
            check_equal(m[hs + '_bucket{le="+Inf"}'], 1, "handshakes in all")
            check(m["tcpstated_polls_total"] > 5, "polls counted")
            check(m['tcpstated_poll_duration_seconds_count'] > 5, "poll durations counted")
            check_equal(m["tcpstated_dumps_failed_total"], 0, "dumps failed")
            check_equal(m["tcpstated_records_lost_total"], 0, "records lost")
            check(m["tcpstated_records_written_total"] >= 6, "records written")
            check_equal(m['tcpstated_build_info{version="%s"}' % d_version(d)], 1, "build_info")
            check(not os.path.exists(prom + ".tmp"), "no temporary file left")
            check_equal(os.stat(prom).st_mode & 0o777, 0o644, "the file's mode")
            promtool_check(prom)
            for s in (c1, a1, a2, srv, srv6):
                s.close()
            d.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def d_version(d):
    out = subprocess.run([d.argv[0], "--version"], capture_output=True, text=True)
    return out.stdout.split()[-1]


def test_missing_directory():
    """No directory, no metrics: said once, and the daemon runs on."""
    with Netns() as ns:
        d = Daemon(ns, config="[metrics]\npath = /nonexistent/tcpstated/x.prom\ninterval = 1\n")
        wait_until(lambda: "metrics off" in d.stderr(), "the notice")
        d.sync()
        d.sync()
        check_equal(d.stderr().count("metrics off"), 1, "notices about metrics")
        check(not os.path.exists("/nonexistent/tcpstated"), "nothing made")
        d.stop()


if __name__ == "__main__":
    main([test_textfile, test_missing_directory])
