#!/usr/bin/env python3
"""Short connections: every one is in the log, thanks to destroy notifications.

2,000 connections over loopback, each opened, used for one byte and closed
within a few milliseconds, far under the 100 ms poll interval. One daemon
with destroy notifications must log at least 99.9 % of them on both the
client and the server side, each as a valid path through the TCP state
machine; a second daemon, polling alone, shows how few a netstat-style loop
sees. Both figures are printed.

Run by hand: see README.md in this directory.
"""

import collections
import os
import re
import socket
import threading
import time

from tcpstate_testlib import (Daemon, Netns, check, check_valid_paths,
                              check_ts_order, listener, main, show)

CONNECTIONS = int(os.environ.get("CHURN_CONNECTIONS", "2000"))
INTERVAL_MS = 100  # the shipped default, as a netstat loop would poll
# By hand, to measure losses with another buffer: CHURN_EVENT_BUFFER=208K.
EVENT_BUFFER = os.environ.get("CHURN_EVENT_BUFFER", "16M")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def exit_counts(d):
    """The destroy-event counts of the daemon's exit summary."""
    m = re.search(r"(\d+) destroy events, (\d+) destroy events lost",
                  d.stderr())
    check(m, f"no destroy-event counts in the exit summary:\n{d.stderr()}")
    return int(m.group(1)), int(m.group(2))


def serve(srv, stop):
    """Accepts, reads the byte, closes: the server closes first."""
    srv.settimeout(0.2)
    while not stop.is_set():
        try:
            a, _ = srv.accept()
        except socket.timeout:
            continue
        a.recv(1)
        a.close()


def churn(port, n):
    """N connections, one at a time; returns their client ports and how long
    each lived (connect to close, seconds)."""
    ports, lives = [], []
    for _ in range(n):
        t0 = time.monotonic()
        c = socket.create_connection(("127.0.0.1", port))
        c.sendall(b"x")
        c.recv(1)  # the server's FIN
        ports.append(c.getsockname()[1])
        c.close()
        lives.append(time.monotonic() - t0)
    return ports, lives


def stories(records, summaries):
    """Per 4-tuple: the cookies of the connections the log tells of."""
    by_tuple = collections.defaultdict(set)
    for r in records + summaries:
        by_tuple[(r["lport"], r["rport"])].add(r["cookie"])
    return by_tuple


def seen(made, by_tuple, side):
    """How many of the connections MADE (a Counter of 4-tuples) the log
    tells of, counting a 4-tuple used k times as at most k connections."""
    return sum(min(k, len(by_tuple.get(t, ()))) for t, k in made.items())


def test_churn():
    with Netns() as ns:
        srv = listener(socket.AF_INET, backlog=1024)
        port = srv.getsockname()[1]
        d = Daemon(ns, interval_ms=INTERVAL_MS, destroy_events=True,
                   config=f"event_buffer = {EVENT_BUFFER}\n")
        p = Daemon(ns, interval_ms=INTERVAL_MS, log="poll-only.log")
        d.sync()
        p.sync()
        cpu0 = (cpu_seconds(d.proc.pid), cpu_seconds(p.proc.pid))

        stop = threading.Event()
        t = threading.Thread(target=serve, args=(srv, stop))
        t.start()
        t0 = time.monotonic()
        try:
            ports, lives = churn(port, CONNECTIONS)
        finally:
            stop.set()
            t.join()
        elapsed = time.monotonic() - t0
        d.sync()
        p.sync()
        cpu1 = (cpu_seconds(d.proc.pid), cpu_seconds(p.proc.pid))

        lives.sort()
        client = collections.Counter((cp, port) for cp in ports)
        server = collections.Counter((port, cp) for cp in ports)
        recs = [r for r in d.records() if r["cookie"] not in d.markers]
        sums = d.summaries()
        by_tuple = stories(recs, sums)
        precs = [r for r in p.records() if r["cookie"] not in p.markers]
        p_tuple = stories(precs, [])
        got_c, got_s = seen(client, by_tuple, "client"), seen(server, by_tuple, "server")
        poll_c, poll_s = seen(client, p_tuple, "client"), seen(server, p_tuple, "server")

        # Every connection's records are one path through the state machine,
        # in time order, starting at NONE; the stories end at NONE, or in
        # TIME_WAIT for the server side that closed first.
        check_ts_order(d.records())
        check_valid_paths(recs)
        last = {}
        for r in recs:
            last[r["cookie"]] = r["to"]
        open_ends = [c for c, s in last.items() if s not in ("NONE", "TIME_WAIT", "LISTEN")]
        check(not open_ends, "stories that end neither at NONE nor in "
              "TIME_WAIT:\n" + show([r for r in d.records() + d.summaries()
                                     if r["cookie"] in open_ends[:5]]))
        d.stop()
        p.stop()
        events, lost = exit_counts(d)

        n = len(ports)
        print(f"  {n} connections in {elapsed:.2f} s; lifetime median "
              f"{lives[n // 2] * 1e3:.2f} ms, 99th percentile "
              f"{lives[n * 99 // 100] * 1e3:.2f} ms, max {lives[-1] * 1e3:.2f} ms")
        print(f"  with destroy events: client side {got_c}/{n} "
              f"({100.0 * got_c / n:.2f} %), server side {got_s}/{n} "
              f"({100.0 * got_s / n:.2f} %), {len(sums)} summaries, "
              f"{events} events, {lost} lost")
        print(f"  polling alone:       client side {poll_c}/{n} "
              f"({100.0 * poll_c / n:.2f} %), server side {poll_s}/{n} "
              f"({100.0 * poll_s / n:.2f} %)")
        print(f"  CPU during the churn: {cpu1[0] - cpu0[0]:.2f} s with events, "
              f"{cpu1[1] - cpu0[1]:.2f} s polling alone")

        check(lives[n // 2] < 0.005,
              f"median connection lifetime {lives[n // 2] * 1e3:.2f} ms, "
              "expected under 5 ms")
        # A lost notification is never silent: it is counted. Only as many
        # connections as were counted lost may be missing.
        need = n - n // 1000  # 99.9 %
        check(got_c >= need - lost and got_s >= need - lost,
              f"connections missing from the log: client side {n - got_c}, "
              f"server side {n - got_s}, of {n}; {lost} events lost")
        check(got_c + got_s >= 2 * n - lost - 2 * (n // 1000),
              f"{2 * n - got_c - got_s} connections unaccounted for")
        check(len(sums) >= 2 * need - lost,
              f"{len(sums)} summaries for {2 * n} connections")
        check(poll_c + poll_s < (got_c + got_s) // 2,
              "polling alone saw nearly as many connections: the churn was "
              "too slow to show anything")
        srv.close()


if __name__ == "__main__":
    main([test_churn])
