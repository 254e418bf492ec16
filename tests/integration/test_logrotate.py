#!/usr/bin/env python3
"""logrotate itself, with the shipped conf/logrotate, rotating the log while
the daemon writes: nothing lost, repeated or torn.

The shipped file is used as it is, with two substitutions: the log's path,
and the postrotate command (systemctl kill ... SIGUSR1 becomes kill -USR1
PID, there being no service here). logrotate -f runs four times while
listeners come and go; afterwards PATH.N ... PATH.1, PATH (gunzipped) must
hold exactly what a witness daemon, whose log is not rotated, wrote.

Run by hand: see README.md in this directory.
"""

import os
import shutil
import subprocess

from tcpstate_testlib import (Daemon, Netns, check, check_equal, check_sequences,
                              check_ts_order, churn_listeners, generations_logged, main,
                              per_socket, read_generations)

SHIPPED_PATH = "/var/log/tcpstated/transitions.log"
SHIPPED_SIGNAL = "systemctl kill --kill-whom=main --signal=SIGUSR1 tcpstated.service"
KEEP = 10


def shipped_config():
    src = os.environ.get("TCPSTATED_SOURCE_DIR") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..")
    with open(os.path.join(src, "conf", "logrotate")) as f:
        return f.read()


def test_logrotate_loses_nothing():
    check(shutil.which("logrotate"), "logrotate not found (apt-get install logrotate)")
    text = shipped_config()
    check(SHIPPED_PATH in text and SHIPPED_SIGNAL in text,
          "conf/logrotate no longer has the path and command this test replaces")
    check(f"rotate {KEEP}" in text, f"conf/logrotate does not keep {KEEP} files")
    with Netns() as ns:
        witness = Daemon(ns)
        d = Daemon(ns, config="[log]\nmax_size = 0\n")
        conf = os.path.join(d.dir, "logrotate.conf")
        with open(conf, "w") as f:
            f.write(text.replace(SHIPPED_PATH, d.log)
                    .replace(SHIPPED_SIGNAL, f"kill -USR1 {d.proc.pid}"))
        state = os.path.join(d.dir, "logrotate.state")
        logged = generations_logged(d.log, "json", KEEP)
        churn_listeners(witness, 10, others=[logged])
        for _ in range(4):
            rot = subprocess.Popen(["logrotate", "-f", "-s", state, conf],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True)
            churn_listeners(witness, 20, batches=2, others=[logged])
            out, _ = rot.communicate(timeout=30)
            check_equal(rot.returncode, 0, f"logrotate's status; it said:\n{out}")
        churn_listeners(witness, 10, others=[logged])
        d.stop()
        witness.stop()

        records, losses, files = read_generations(d.log, "json", KEEP)
        names = [os.path.basename(n) for n, _, _ in files]
        check_equal(names[-2:], ["transitions.log.1", "transitions.log"],
                    "the newest files (delaycompress keeps .1 plain)")
        check(len(names) == 5 and all(n.endswith(".gz") for n in names[:-2]),
              f"files after four rotations: {names}")
        check_equal(losses, [], "loss records")
        check_sequences(records)
        check_ts_order(records)
        keys = [tuple(sorted(r.items())) for r in records]
        check_equal(len(set(keys)), len(keys), "distinct records")
        want, got = per_socket(witness.records()), per_socket(records)
        check_equal(sorted(got), sorted(want), "cookies in the rotated log vs the witness's")
        for c in want:
            check_equal(got[c], want[c], f"records of cookie {c}")
        print(f"  {len(records)} records in {names}")


if __name__ == "__main__":
    main([test_logrotate_loses_nothing])
