#!/usr/bin/env python3
"""The log file under faults: a full disk, a deleted directory, SIGKILL.

Disk full: the log lives on a 64 KiB tmpfs, mounted in a private mount
namespace of this test (gone with the process, whatever happens). While the
tmpfs is full the daemon keeps polling, says once on stderr that it cannot
write, and drops records; once space is back it writes again, and the first
write carries a loss record whose count is what the daemon's exit summary says it lost, and
no more than what a witness daemon (logging the same namespace to a normal
disk) has and the log lacks.

Run by hand: see README.md in this directory.
"""

import ctypes
import datetime
import errno
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from tcpstate_testlib import (Daemon, Netns, check, check_equal, check_sequences,
                              churn_listeners, generations_logged, listener, main,
                              read_lines, run, wait_until)

CLONE_NEWNS = 0x00020000


def private_mounts():
    """Moves this process into a mount namespace of its own, so that the
    tmpfs is seen by it and its children only."""
    if getattr(private_mounts, "done", False):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    run(["mount", "--make-rprivate", "/"])
    private_mounts.done = True


def ts_seconds(ts):
    t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ")
    return t.replace(tzinfo=datetime.timezone.utc).timestamp()


def fill(directory):
    """Fills the file system of DIRECTORY; returns the filler's path."""
    path = os.path.join(directory, "filler")
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as e:
            check(e.errno == errno.ENOSPC, f"filling: {e}")
    return path


def test_disk_full():
    private_mounts()
    mnt = tempfile.mkdtemp(prefix="tcpstated-tmpfs-")
    run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", mnt])
    try:
        with Netns() as ns:
            witness = Daemon(ns)
            d = Daemon(ns, log=os.path.join(mnt, "log", "t.log"))
            logged = generations_logged(d.log, "json", 0)
            churn_listeners(witness, 10, others=[logged])

            t_full = time.time()
            filler = fill(mnt)
            # About 100 KiB of records that cannot be written.
            churn_listeners(witness, 40, batches=6)
            wait_until(lambda: "cannot write" in d.stderr(), "the loss to be reported")
            d.check_alive()
            reports = re.findall(r"cannot write .*", d.stderr())
            check("No space left on device" in reports[0], f"report: {reports[0]}")

            os.unlink(filler)
            t_free = time.time()
            after = churn_listeners(witness, 5, others=[logged])
            d.wait_for(lambda r: True, "records after the loss")
            wait_until(lambda: d.losses(), "the loss record")
            d.stop()
            witness.stop()

            with open(d.log, "rb") as f:
                records, losses = read_lines(f.read(), "json", d.log)
            # The log's last page may still have room for a small batch, so
            # the disk can come and go for a while: each such write ends an
            # incident with its loss record. Whatever the count, every
            # incident is reported once, and all the losses add up.
            messages = re.findall(r"cannot write|records were lost between", d.stderr())
            check(messages and all(a != b for a, b in zip(messages, messages[1:])),
                  f"one report per incident, each closed by a recovery:\n{d.stderr()}")
            check_equal(messages.count("cannot write"), len(losses),
                        "incidents vs loss records")
            lost = sum(x["lost"] for x in losses)
            key = lambda r: (r["cookie"], r["from"], r["to"])  # noqa: E731
            have = {key(r) for r in records}
            want = {key(r) for r in witness.records()}
            check(have <= want, f"records the witness does not have: {have - want}")
            # The daemon may have missed a listener that the witness saw
            # (they poll apart), so the witness bounds the count from above;
            # the daemon's own summary gives it exactly.
            m = re.search(r"(\d+) transitions logged, (\d+) summaries, (\d+) records lost",
                          d.stderr())
            check(m, f"exit summary:\n{d.stderr()}")
            check_equal(lost, int(m.group(3)), "lost count vs the exit summary")
            check_equal(int(m.group(1)) + int(m.group(2)) - lost, len(records),
                        "records written vs transitions and summaries less those lost")
            check(lost <= len(want - have),
                  f"{lost} lost, but only {len(want - have)} records "
                  "that the witness has are missing")
            check(lost >= 100, f"only {lost} records lost")
            for loss in losses:
                check(t_full - 1 <= ts_seconds(loss["since"]) <= ts_seconds(loss["until"])
                      <= t_free + 1, f"loss times {loss} outside {t_full}..{t_free}")
            # Every record after the last loss record is whole and there.
            i = [r for r in records if r["cookie"] in {e.cookie for e in after}]
            check_equal(len(i), 2 * len(after), "records after space came back")
            counts = [int(n) for n in re.findall(r"(\d+) records were lost between", d.stderr())]
            check_equal(counts, [x["lost"] for x in losses],
                        "the recovery messages give the counts")
            loss = {"lost": lost}
            print(f"  {loss['lost']} records lost and reported, "
                  f"{len(records)} written")
    finally:
        subprocess.run(["umount", "-l", mnt])
        os.rmdir(mnt)


def test_directory_deleted():
    """The log's directory deleted underneath: the daemon makes it again
    within about a second and goes on logging, whole lines only."""
    with Netns() as ns:
        witness = Daemon(ns)
        d = Daemon(ns, log="sub/dir/t.log")
        churn_listeners(witness, 5, others=[generations_logged(d.log, "json", 0)])
        shutil.rmtree(os.path.join(d.dir, "sub"))
        t0 = time.monotonic()
        wait_until(lambda: os.path.exists(d.log), "the log file to be made again")
        print(f"  recreated after {time.monotonic() - t0:.2f} s")
        after = churn_listeners(witness, 5, others=[generations_logged(d.log, "json", 0)])
        d.stop()
        with open(d.log, "rb") as f:
            records, losses = read_lines(f.read(), "json", d.log)
        cookies = {e.cookie for e in after}
        check_equal(len([r for r in records if r["cookie"] in cookies]), 2 * len(after),
                    "records of the listeners made after the directory came back")
        check_equal(oct(os.stat(os.path.dirname(d.log)).st_mode & 0o777), oct(0o750),
                    "mode of the directory made again")


def test_directory_replaced():
    """The log's directory replaced by a file: the log cannot be made again.
    The daemon says so once, keeps polling and counts what it cannot write;
    once the way is clear it makes the log again and writes the loss
    record."""
    with Netns() as ns:
        witness = Daemon(ns)
        d = Daemon(ns, log="sub/t.log")
        churn_listeners(witness, 5, others=[generations_logged(d.log, "json", 0)])
        sub = os.path.join(d.dir, "sub")
        shutil.rmtree(sub)
        with open(sub, "w") as f:
            f.write("in the way\n")
        wait_until(lambda: "cannot reopen" in d.stderr(), "the failed reopen to be reported")
        churn_listeners(witness, 20, batches=2)
        d.check_alive()
        check_equal(len(re.findall("cannot reopen", d.stderr())), 1,
                    f"reports of the failed reopen:\n{d.stderr()}")
        os.unlink(sub)
        wait_until(lambda: os.path.exists(d.log), "the log file to be made again")
        after = churn_listeners(witness, 5, others=[generations_logged(d.log, "json", 0)])
        wait_until(lambda: d.losses(), "the loss record",
                   on_timeout=lambda: f"stderr:\n{d.stderr()}\nlog:\n" + open(d.log).read()[:3000])
        d.stop()
        loss = d.losses()[0]
        m = re.search(r"(\d+) records lost, ", d.stderr())
        check(m and int(m.group(1)) == loss["lost"] > 0,
              f"loss record {loss} vs the exit summary:\n{d.stderr()}")
        check("working again" in d.stderr(), f"recovery reported:\n{d.stderr()}")
        cookies = {e.cookie for e in after}
        check_equal(len([r for r in d.records() if r["cookie"] in cookies]), 2 * len(after),
                    "records after the directory came back")


def test_sigkill_leaves_whole_lines():
    """SIGKILL in the middle of heavy writing leaves only whole lines. Linux
    can end a write early on SIGKILL (between two pages of it); if it did,
    the next start cuts the torn record off before writing."""
    rng = random.Random(4)
    with Netns() as ns:
        srv = listener(socket.AF_INET, backlog=4096)
        port = srv.getsockname()[1]
        log = None
        torn = 0
        for round in range(4):
            d = Daemon(ns, interval_ms=10, log=log or "t.log")
            log = d.log
            d.wait_for(lambda r: True, "the first record")
            if round and tore:
                check("torn by a crash" in d.stderr(),
                      f"the cut of the torn record is reported:\n{d.stderr()}")
            if round == 3:
                break
            # Hundreds of sockets appear and vanish every poll.
            deadline = time.monotonic() + rng.uniform(0.3, 0.6)
            while time.monotonic() < deadline:
                socks = [listener(socket.AF_INET) for _ in range(100)]
                for s in socks:
                    s.close()
                conns = []
                for _ in range(50):
                    c = socket.create_connection(("127.0.0.1", port))
                    a, _ = srv.accept()
                    conns += [c, a]
                for s in conns:
                    s.close()
            d.proc.send_signal(signal.SIGKILL)
            d.proc.wait()
            with open(log, "rb") as f:
                data = f.read()
            tore = not data.endswith(b"\n")
            if tore:
                torn += 1
                cut = len(data) - data.rfind(b"\n") - 1
                print(f"  round {round}: the kill tore a record ({cut} bytes)")
            else:
                read_lines(data, "json", log)
        d.stop()
        with open(log, "rb") as f:
            records, _ = read_lines(f.read(), "json", log)
        check(len(records) > 1000, f"only {len(records)} records")
        print(f"  {len(records)} records, {torn} of 3 kills tore a record")
        srv.close()


if __name__ == "__main__":
    main([test_disk_full, test_directory_deleted, test_directory_replaced,
          test_sigkill_leaves_whole_lines])
