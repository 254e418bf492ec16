#!/usr/bin/env python3
"""A dump that fails midway is skipped and counted, never diffed.

The LD_PRELOAD shim fault_recv.c makes every Nth recvmsg() on a netlink
socket fail with ENOBUFS, as an overrun receive queue would. With enough
sockets that a dump spans several receives, many dumps then break in the
middle: had one of them been compared with the previous snapshot, the
sockets it had not reached yet would have read as closed.
"""

import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tcpstate_testlib import (Daemon, Endpoint, Netns, check, check_equal,  # noqa: E402
                              check_sequences, connect, listener, main, rst_close,
                              wait_until)

PAIRS = 200   # 401 sockets: a dump takes two or three receives


def start_with_faults(ns, every):
    shim = os.environ.get("TCPSTATED_FAULT_SHIM")
    check(shim and os.path.exists(shim), f"TCPSTATED_FAULT_SHIM={shim!r} is missing")
    saved = dict(os.environ)
    os.environ["LD_PRELOAD"] = shim
    os.environ["TCPSTATED_FAULT_RECV"] = str(every)
    # A sanitized daemon wants its runtime first; the shim is not sanitized.
    os.environ["ASAN_OPTIONS"] = (os.environ.get("ASAN_OPTIONS", "") +
                                  ":verify_asan_link_order=0").lstrip(":")
    try:
        d = Daemon(ns)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return d


def test_failed_dumps_are_skipped_not_diffed():
    with Netns() as ns:
        srv = listener(socket.AF_INET)
        port = srv.getsockname()[1]
        pairs = []
        for _ in range(PAIRS):
            c = connect(socket.AF_INET, "127.0.0.1", port)
            a, _ = srv.accept()
            pairs.append((c, a))

        d = start_with_faults(ns, every=3)
        wait_until(lambda: len(d.records()) >= 2 * PAIRS + 1, "the initial records")
        # Let about fifty polls run, most of them through a broken dump: any
        # of them diffed would have logged hundreds of false closes.
        time.sleep(1.0)
        wait_until(lambda: "dump failed" in d.stderr(), "a failed dump to be reported")
        check("socket dumps work again" in d.stderr(),
              "recovery from failed dumps is reported:\n" + d.stderr())
        initial = d.records()
        check_equal(len(initial), 2 * PAIRS + 1, "records while nothing changed")
        check(all(r["how"] == "initial" for r in initial),
              "only initial records while nothing changed:\n" + d.describe())

        # Changes still come through, exactly once, between the failures.
        c, a = pairs.pop()
        ce, ae = Endpoint(c), Endpoint(a)
        rst_close(c)
        d.wait_transition(ce, "ESTABLISHED", "NONE")
        d.wait_transition(ae, "ESTABLISHED", "NONE")
        d.stop()
        records = d.records()
        check_equal(len(records), 2 * PAIRS + 3, "records in all")
        check_sequences(records)
        m = re.search(r"(\d+) polls: .* (\d+) dumps failed", d.stderr())
        check(m and int(m.group(2)) >= 10 and int(m.group(1)) >= 10,
              "the exit summary counts at least 10 good and 10 failed dumps:\n" +
              d.stderr())
        print(f"  {m.group(1)} dumps diffed, {m.group(2)} failed and skipped")
        for c, a in pairs:
            c.close()
            a.close()
        srv.close()


if __name__ == "__main__":
    main([test_failed_dumps_are_skipped_not_diffed])
