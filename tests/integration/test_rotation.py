#!/usr/bin/env python3
"""Built-in rotation under churn: nothing lost, repeated or torn.

A daemon logs with a tiny max_size (4K) while a second one, the witness,
logs the same namespace to a file that is never rotated. Listeners are
opened and closed in batches, each held until the witness has logged it, so
that every daemon in the namespace writes the same records. Afterwards the
rotated files PATH.N ... PATH.1, PATH (gunzipped where compressed), read in
that order, must hold exactly the witness's records: every socket's records
an unbroken chain, no duplicates, no partial lines, no file above max_size,
no more than `keep` rotated files. `tail -F` must follow across rotations.

Run by hand: see README.md in this directory.
"""

import os
import re
import signal
import subprocess
import threading

from tcpstate_testlib import (Daemon, Netns, check, check_equal,
                              check_sequences, check_ts_order, churn_listeners,
                              generations_logged, main, per_socket, read_generations,
                              wait_until, write_config)

MAX_SIZE = 4096


def settle(d, witness, keep):
    """Returns once D, whose log rotates, has logged a last marker listener
    opened and closed after everything else."""
    churn_listeners(witness, 1, others=[generations_logged(d.log, d.fmt, keep)])


def check_files(files, keep, path):
    rotated = [n for n, _, _ in files if n != path]
    check(len(rotated) <= keep, f"{len(rotated)} rotated files kept, keep = {keep}")
    for n, size, data in files:
        check(size <= MAX_SIZE and len(data) <= MAX_SIZE,
              f"{n}: {size} bytes ({len(data)} uncompressed), max_size {MAX_SIZE}")
    check(not os.path.lexists(f"{path}.{keep + 1}")
          and not os.path.lexists(f"{path}.{keep + 1}.gz"),
          f"a file beyond keep = {keep} exists")


def rotation(fmt, compress):
    keep = 60
    with Netns() as ns:
        witness = Daemon(ns, fmt=fmt)
        d = Daemon(ns, fmt=fmt, config=(
            f"[log]\nmax_size = 4K\nkeep = {keep}\n"
            f"compress = {'yes' if compress else 'no'}\n"))
        eps = churn_listeners(witness, 30, batches=6,
                              others=[generations_logged(d.log, fmt, keep)])
        settle(d, witness, keep)
        if compress:
            # The worker is not waited for at stop; let it catch up first.
            wait_until(lambda: not any(os.path.exists(f"{d.log}.{k}")
                                       for k in range(1, keep + 1)),
                       "every rotated file to be compressed")
        d.stop()
        witness.stop()

        records, losses, files = read_generations(d.log, fmt, keep)
        check_equal(losses, [], "loss records")
        check_files(files, keep, d.log)
        check(len(files) >= 10, f"only {len(files)} files: too few rotations")
        if compress:
            check(all(n.endswith(".gz") for n, _, _ in files[:-1]),
                  f"uncompressed rotated files: {[n for n, _, _ in files]}")
        check_sequences(records)
        check_ts_order(records)
        keys = [tuple(sorted(r.items())) for r in records]
        check_equal(len(set(keys)), len(keys), "distinct records")
        # Exactly what the witness wrote, socket by socket.
        want = per_socket(witness.records())
        got = per_socket(records)
        check_equal(sorted(got), sorted(want), "cookies in the rotated log vs the witness's")
        for c in want:
            check_equal(got[c], want[c], f"records of cookie {c}")
        for e in eps:
            check_equal(got.get(e.cookie), [("NONE", "LISTEN"), ("LISTEN", "NONE")],
                        f"records of {e}")
        print(f"  {len(records)} records in {len(files)} files")


def test_rotation_json():
    rotation("json", compress=False)


def test_rotation_text_compressed():
    rotation("text", compress=True)


def test_keep_drops_the_oldest():
    """With keep = 3, only PATH.1 ... PATH.3 stay, and they hold the newest
    records, still whole and in order."""
    keep = 3
    with Netns() as ns:
        witness = Daemon(ns)
        d = Daemon(ns, config=f"[log]\nmax_size = 4K\nkeep = {keep}\n")
        others = [generations_logged(d.log, "json", keep)]
        churn_listeners(witness, 30, batches=3, others=others)
        last = churn_listeners(witness, 5, others=others)
        settle(d, witness, keep)
        d.stop()
        records, losses, files = read_generations(d.log, "json", keep)
        check_files(files, keep, d.log)
        check_equal(len(files), keep + 1, "files kept")
        # The oldest socket may have lost its first record with a dropped
        # file; after it, every chain is whole.
        first = {}
        for r in records:
            first.setdefault(r["cookie"], r)
        check_sequences([r for r in records if first[r["cookie"]]["from"] == "NONE"])
        check_ts_order(records)
        got = per_socket(records)
        for e in last:
            check_equal(got.get(e.cookie), [("NONE", "LISTEN"), ("LISTEN", "NONE")],
                        f"records of {e}")


def test_reload_turns_rotation_on():
    """SIGHUP with max_size and compress newly set: the running daemon starts
    rotating and gzipping, and nothing is lost or repeated across it."""
    keep = 40
    with Netns() as ns:
        witness = Daemon(ns)
        d = Daemon(ns, config="[log]\nmax_size = 0\n")
        logged = generations_logged(d.log, "json", keep)
        churn_listeners(witness, 30, batches=2, others=[logged])
        check(not os.path.exists(d.log + ".1"), "rotated with max_size = 0")
        write_config(d.dir, f"[log]\nmax_size = 4K\nkeep = {keep}\ncompress = yes\n")
        d.proc.send_signal(signal.SIGHUP)
        d.wait_log(lambda recs: "reloaded" in d.stderr(), "the reload")
        churn_listeners(witness, 30, batches=2, others=[logged])
        wait_until(lambda: os.path.exists(d.log + ".1.gz"), "a gzipped rotated file")
        d.stop()
        witness.stop()
        records, losses, files = read_generations(d.log, "json", keep)
        check_equal(losses, [], "loss records")
        check_sequences(records)
        want, got = per_socket(witness.records()), per_socket(records)
        check_equal(got, want, "records per socket vs the witness's")
        # The file from before the reload was rotated as it stood (above
        # 4K, being older); every later one is within max_size.
        for n, size, data in files[1:]:
            check(len(data) <= MAX_SIZE, f"{n}: {len(data)} bytes after the reload")


def rotated_numbers(d):
    """The numbers N of D's rotated files, PATH.N and PATH.N.gz."""
    base = os.path.basename(d.log)
    return {int(m.group(1)) for n in os.listdir(d.dir)
            if (m := re.fullmatch(re.escape(base) + r"\.(\d+)(\.gz)?", n))}


def test_reload_lowers_keep():
    """SIGHUP with keep lowered from 8 to 2 deletes PATH.3 ... PATH.8 (.gz)
    at once, and the daemon goes on rotating within the new keep."""
    with Netns() as ns:
        witness = Daemon(ns)
        conf = "[poll]\ndestroy_events = no\n[log]\nmax_size = 4K\ncompress = yes\n"
        d = Daemon(ns, config="[log]\nmax_size = 4K\ncompress = yes\nkeep = 8\n")
        logged = generations_logged(d.log, "json", 8)
        churn_listeners(witness, 30, batches=3, others=[logged])
        wait_until(lambda: os.path.exists(d.log + ".8.gz"), "PATH.8.gz",
                   on_timeout=d.describe)
        write_config(d.dir, conf + "keep = 2\n")
        d.proc.send_signal(signal.SIGHUP)
        d.wait_log(lambda recs: "reloaded" in d.stderr(), "the reload")
        check_equal(rotated_numbers(d), {1, 2},
                    "numbers of the rotated files after the reload")
        churn_listeners(witness, 30, batches=1,
                        others=[generations_logged(d.log, "json", 2)])
        settle(d, witness, 2)
        d.stop()
        witness.stop()
        _, losses, files = read_generations(d.log, "json", 2)
        check_equal(losses, [], "loss records")
        check_files(files, 2, d.log)
        check_equal(rotated_numbers(d), {1, 2}, "numbers of the rotated files at the end")


def test_tail_follows_rotation():
    """tail -F (follow by name) prints every line across rotations."""
    keep = 20
    with Netns() as ns:
        witness = Daemon(ns)
        d = Daemon(ns, fmt="text", config=f"[log]\nmax_size = 4K\nkeep = {keep}\n")
        wait_until(lambda: os.path.exists(d.log), "the log file")
        tail = subprocess.Popen(["tail", "-F", "-n", "+1", "-s", "0.05", d.log],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        out = bytearray()
        reader = threading.Thread(target=lambda: [out.extend(b) for b in
                                                  iter(lambda: tail.stdout.read1(65536), b"")],
                                  daemon=True)
        reader.start()
        try:
            def all_data():
                return b"".join(data for _, _, data in read_generations(d.log, "text", keep)[2])
            # Batches small enough that each rotation is seen by tail apart.
            for _ in range(6):
                churn_listeners(witness, 10, others=[generations_logged(d.log, "text", keep)])
                settle(d, witness, keep)
                wait_until(lambda: bytes(out) == all_data(),
                           "tail -F to print what the files hold",
                           on_timeout=lambda: f"tail printed {len(out)} bytes, files hold "
                           f"{len(all_data())}")
            files = read_generations(d.log, "text", keep)[2]
            check(len(files) >= 4, f"only {len(files)} files: too few rotations")
            print(f"  tail -F followed {len(files) - 1} rotations, {len(out)} bytes")
        finally:
            tail.send_signal(signal.SIGTERM)
            tail.wait()
        d.stop()


if __name__ == "__main__":
    main([test_rotation_json, test_rotation_text_compressed, test_keep_drops_the_oldest,
          test_reload_turns_rotation_on, test_reload_lowers_keep, test_tail_follows_rotation])
