#!/usr/bin/env python3
"""The sd_notify protocol and SIGHUP reload, outside systemd.

Plays systemd's part: a datagram socket as NOTIFY_SOCKET and a watchdog of
WATCHDOG_USEC for the daemon's PID, and checks what the daemon says: READY=1
with a status first, watchdog pings at half the interval, status at most once
a second, RELOADING=1 / READY=1 around a reload that switches the log to JSON
and to another file, and back to text in the same file (rotated first, so
that no file mixes formats), WATCHDOG_USEC= when the poll interval outgrows the
watchdog, STOPPING=1 on SIGTERM; and the notifications' receive buffer as
granted in the status, a warning only when a size asked for was not.
Needs no root: sock_diag dumps the host's
sockets for any user. Environment: TCPSTATED, the daemon binary.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def event_buffer(binary, d):
    """[poll] event_buffer: the default takes what net.core.rmem_max allows
    and says so only in the status; a size asked for and not granted is a
    warning that names the sysctl. Without CAP_NET_ADMIN (dropped when root,
    as the service has none), so that rmem_max caps the buffer."""
    with open("/proc/sys/net/core/rmem_max") as f:
        rmem_max = int(f.read())
    wrapper = ["setpriv", "--bounding-set=-net_admin"] if os.geteuid() == 0 else []
    conf = os.path.join(d, "buffer.conf")
    for text, warned in (("", False), ("event_buffer = 1G\n", True)):
        with open(conf, "w") as f:
            f.write("[poll]\n%s[log]\npath = %s\n[metrics]\nenabled = no\n"
                    % (text, os.path.join(d, "buffer.log")))
        ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        ns_path = os.path.join(d, "notify-buffer")
        ns.bind(ns_path)
        ns.settimeout(10)
        proc = subprocess.Popen(wrapper + [binary, "--config", conf],
                                env=dict(os.environ, NOTIFY_SOCKET=ns_path),
                                stderr=subprocess.PIPE, text=True)
        try:
            first = ns.recv(4096).decode()
        except socket.timeout:
            first = ""
        proc.send_signal(signal.SIGTERM)
        err = proc.communicate(timeout=10)[1]
        ns.close()
        os.unlink(ns_path)
        what = "event_buffer %s" % (text.strip() or "by default")
        want = min(rmem_max, 16 << 20) if not warned else min(rmem_max, 1 << 30)
        check("(buffer %d KiB)" % (want // 1024) in first,
              "%s: the buffer granted in the status: %r" % (what, first))
        check(("net.core.rmem_max" in err) == warned and
              ("sysctl -w net.core.rmem_max=1073741824" in err) == warned,
              "%s: %s warning naming the sysctl: %r" % (what, "a" if warned else "no",
                                                        err[-400:]))


def main():
    binary = os.environ["TCPSTATED"]
    d = tempfile.mkdtemp(prefix="tcpstated-notify-")
    conf = os.path.join(d, "tcpstated.conf")
    log_a, log_b = os.path.join(d, "a.log"), os.path.join(d, "b.log")

    def write_conf(path, fmt, interval):
        with open(conf, "w") as f:
            f.write("[poll]\ninterval_ms = %d\n[log]\npath = %s\nformat = %s\n"
                    "[metrics]\nenabled = no\n" % (interval, path, fmt))

    write_conf(log_a, "text", 100)
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns_path = os.path.join(d, "notify")
    ns.bind(ns_path)
    msgs = []  # (monotonic time, message)

    def recv_until(pred, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ns.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                m = ns.recv(4096).decode()
            except socket.timeout:
                break
            msgs.append((time.monotonic(), m))
            if pred(m):
                return m
        return None

    env = dict(os.environ, NOTIFY_SOCKET=ns_path, WATCHDOG_USEC="1000000")
    # WATCHDOG_PID must be the daemon's own PID: let the shell exec it.
    proc = subprocess.Popen(["sh", "-c", 'WATCHDOG_PID=$$ exec "$0" --config "$1"',
                             binary, conf], env=env, stderr=subprocess.PIPE, text=True)
    try:
        first = recv_until(lambda m: True, 10)
        check(first is not None and "READY=1" in first.split("\n")
              and "STATUS=tracking " in first, "first message is READY=1 with a status: %r" % first)
        check(os.path.exists(log_a), "log open at READY=1")

        # Two seconds of running, with a new listener every 50 ms so that the
        # status changes at every poll: pings every 0.5 s, status at most 1/s.
        churn = []

        def make_listeners():
            for _ in range(40):
                s = socket.socket()
                s.bind(("127.0.0.1", 0))
                s.listen()
                churn.append(s)
                time.sleep(0.05)
        th = threading.Thread(target=make_listeners)
        t0 = time.monotonic()
        th.start()
        recv_until(lambda m: False, 2.2)
        th.join()
        for s in churn:
            s.close()
        window = [m for t, m in msgs if t >= t0]
        pings = [m for m in window if m == "WATCHDOG=1"]
        check(3 <= len(pings) <= 6, "watchdog pings at half of 1 s in 2.2 s: %d" % len(pings))
        statuses = [t for t, m in msgs if t >= t0 and m.startswith("STATUS=")]
        gaps = [b - a for a, b in zip(statuses, statuses[1:])]
        check(len(statuses) >= 1 and all(g > 0.9 for g in gaps),
              "status updated, at most once a second: gaps %s" % gaps)

        # Reload: JSON into another file, interval 1 s > 1 s watchdog / 3.
        write_conf(log_b, "json", 1000)
        del msgs[:]
        proc.send_signal(signal.SIGHUP)
        ready = recv_until(lambda m: "READY=1" in m.split("\n"), 5)
        # A status update or a watchdog ping of the last poll may still be on
        # its way when SIGHUP is sent; RELOADING=1 must come before READY=1.
        seen = [m for _, m in msgs if not m.startswith("STATUS=") and m != "WATCHDOG=1"]
        check(seen and seen[0].startswith("RELOADING=1") and ready is not None,
              "RELOADING=1 then READY=1: %r" % seen)
        check("WATCHDOG_USEC=3000000" in seen, "watchdog widened to three 1 s polls")
        check(os.path.exists(log_b), "new log file opened")
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        port = srv.getsockname()[1]

        def listen_record():
            try:
                with open(log_b) as f:
                    for line in f:
                        r = json.loads(line)
                        if r["lport"] == port and r["to"] == "LISTEN":
                            return r
            except (OSError, ValueError):
                return None
            return None
        deadline = time.monotonic() + 5
        while not listen_record() and time.monotonic() < deadline:
            time.sleep(0.1)
        r = listen_record()
        check(r is not None and r["how"] == "poll", "JSON record in the new file after reload")
        srv.close()
        port_json = port

        # Back to 100 ms: the unit's watchdog again.
        write_conf(log_b, "json", 100)
        del msgs[:]
        proc.send_signal(signal.SIGHUP)
        recv_until(lambda m: "READY=1" in m.split("\n"), 5)
        check("WATCHDOG_USEC=1000000" in [m for _, m in msgs], "watchdog back to 1 s")

        # Back to text in the same file: the JSON file is rotated away first,
        # so that each file holds one format (jq reads the one, grep the other).
        write_conf(log_b, "text", 100)
        del msgs[:]
        proc.send_signal(signal.SIGHUP)
        check(recv_until(lambda m: "READY=1" in m.split("\n"), 5) is not None,
              "READY=1 after a reload to text")
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        port = srv.getsockname()[1]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with open(log_b) as f:
                text = f.read()
            if f":{port} " in text:
                break
            time.sleep(0.1)
        srv.close()
        check(f"127.0.0.1:{port} " in text and "NONE" in text and "LISTEN" in text,
              "text record in the file after the reload to text")
        check(text and not any(line.startswith("{") for line in text.splitlines()),
              "no JSON record in the text file: %r" % text[:300])
        with open(log_b + ".1") as f:
            old = f.read().splitlines()
        try:
            parsed = [json.loads(line) for line in old]
        except ValueError as e:
            parsed = []
            check(False, "the rotated file is JSON Lines: %s" % e)
        check(parsed and any(r.get("lport") == port_json for r in parsed),
              "the JSON records kept whole in %s.1" % log_b)

        # A bad file: error, old configuration kept, still READY.
        with open(conf, "a") as f:
            f.write("bogus = 1\n")
        del msgs[:]
        proc.send_signal(signal.SIGHUP)
        check(recv_until(lambda m: "READY=1" in m.split("\n"), 5) is not None,
              "READY=1 after a refused reload")

        proc.send_signal(signal.SIGTERM)
        stop = recv_until(lambda m: m.startswith("STOPPING=1"), 5)
        check(stop is not None, "STOPPING=1 on SIGTERM")
        rc = proc.wait(timeout=10)
        err = proc.stderr.read()
        check(rc == 0, "exit 0, got %d" % rc)
        check("bogus: unknown key" in err and "keeping the running configuration" in err,
              "bad file reported and ignored: %r" % err[-300:])
        # The journal is on by default; a host without journald is said
        # once, at start, and not again at each of the reloads.
        if not os.path.exists("/run/systemd/journal/socket"):
            check(err.count("no journal on this host") == 1,
                  "no journal here: said once in %d reloads" % err.count("reloaded "))
        with open(log_a) as f:
            a = f.read()
        check(not a or a.endswith("\n"), "old log closed on a whole record")
        event_buffer(binary, d)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        ns.close()
        subprocess.run(["rm", "-rf", d])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
