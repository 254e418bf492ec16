#!/usr/bin/env python3
"""tcpstatectl over the logs of the real daemon.

The daemon runs in a private namespace while known connections are made:
one held in each state of an orderly close with nftables (SYN_SENT,
ESTABLISHED, FIN_WAIT1, FIN_WAIT2 and TIME_WAIT on the client, CLOSE_WAIT on
the server), a reset one, a refused one. Then tcpstatectl must tell them:

- list -o json: one object per connection, path, role, outcome, peer;
- show: the two ends side by side, client left, server right, in time order;
- stats: counts, outcomes, handshake and time in state, the CLOSE_WAIT socket;
- the filters (--port, --host, --cookie, --state, --outcome, --open,
  --since/--until), in text and JSON logs;
- follow: a connection's change printed within one poll of the daemon
  writing it, across the log's rotation;
- the default source: the configured log and its rotated files, .gz too;
- bad input: skipped, counted, reported with FILE:LINE; exit 0, 64, 66;
- the configuration read as the daemon reads it: quotes, inline comments.

Run by hand: see README.md in this directory.
"""

import gzip
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from tcpstate_testlib import (Daemon, Endpoint, Netns, accept, check,
                              check_equal, connect, connect_finish,
                              connect_start, exchange, fail, listener, main,
                              nft_drop, rst_close, wait_until)

ARROW = "\u2192"


def ctl_path():
    path = os.environ.get("TCPSTATECTL", "")
    check(os.access(path, os.X_OK),
          f"TCPSTATECTL={path!r} is not an executable: run under ctest")
    return path


def ctl(*args, expect=0, stdin=None):
    """Runs tcpstatectl ARGS in UTC; checks its exit status; returns
    (stdout, stderr)."""
    env = dict(os.environ, TZ="UTC")
    env.pop("NO_COLOR", None)
    p = subprocess.run([ctl_path(), *args], input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=env, timeout=60)
    check(p.returncode == expect,
          f"tcpstatectl {' '.join(args)} exited {p.returncode}, expected "
          f"{expect}\n  stdout:\n{p.stdout}\n  stderr:\n{p.stderr}")
    return p.stdout, p.stderr


def ctl_json(*args):
    out, _ = ctl(*args, "-o", "json")
    try:
        return [json.loads(line) for line in out.splitlines()]
    except ValueError as e:
        fail(f"tcpstatectl {' '.join(args)} -o json: not JSON Lines ({e}):\n{out}")


def path_of(c):
    return [s["state"] for s in c["states"]]


def classic(ns, d, srv):
    """One connection through SYN_SENT, ESTABLISHED, FIN_WAIT1, FIN_WAIT2 and
    TIME_WAIT on the client, CLOSE_WAIT on the server, each state held until
    the daemon logged it. Returns the two Endpoints (client, server)."""
    port = srv.getsockname()[1]
    # The client's SYNs dropped: it waits in SYN_SENT; the retransmitted
    # SYN (after 1 s) connects once the rule is gone.
    with nft_drop(ns, f"tcp dport {port} tcp flags == syn"):
        c = connect_start(socket.AF_INET, "127.0.0.1", port)
        cli = Endpoint(c, peer=("127.0.0.1", port))
        d.wait_transition(cli, "NONE", "SYN_SENT")
    connect_finish(c)
    d.wait_transition(cli, "SYN_SENT", "ESTABLISHED")
    a = accept(srv)
    acc = Endpoint(a)
    exchange(c, a)
    # Everything from the server dropped: the client's FIN is never
    # acknowledged (FIN_WAIT1) while the server got it (CLOSE_WAIT).
    with nft_drop(ns, f"tcp sport {port}"):
        c.close()
        d.wait_transition(cli, "ESTABLISHED", "FIN_WAIT1")
        d.wait_transition(acc, "ESTABLISHED", "CLOSE_WAIT")
    d.wait_transition(cli, "FIN_WAIT1", "FIN_WAIT2")
    a.close()
    d.wait_transition(cli, "FIN_WAIT2", "TIME_WAIT")
    d.wait_for(lambda r: r["cookie"] == acc.cookie and r["to"] == "NONE",
               f"the end of {acc}")
    return cli, acc


def check_classic_pair(conns, cli, acc):
    by_cookie = {c["cookie"]: c for c in conns}
    check(cli.cookie in by_cookie and acc.cookie in by_cookie,
          f"both ends listed: {conns}")
    client, server = by_cookie[cli.cookie], by_cookie[acc.cookie]
    check_equal(path_of(client), ["SYN_SENT", "ESTABLISHED", "FIN_WAIT1",
                                  "FIN_WAIT2", "TIME_WAIT"], "client's path")
    check_equal(path_of(server)[-2:], ["CLOSE_WAIT", "NONE"], "server's path ends")
    check_equal((client["role"], server["role"]), ("client", "server"), "roles")
    check_equal((client["outcome"], server["outcome"]),
                ("local-close", "remote-close"), "outcomes")
    check_equal((client["peer_cookie"], server["peer_cookie"]),
                (acc.cookie, cli.cookie), "each end's peer")
    check_equal((client["lport"], client["rport"]), (cli.lport, cli.rport),
                "client's ports")
    check("end" not in client and "end" in server, "only the server ended")
    # Held about 1 s in SYN_SENT (the SYN retransmission timer), so the
    # handshake took at least most of a second.
    check(700_000 <= client["handshake_us"] <= 5_000_000,
          f"client's handshake {client['handshake_us']} us")
    check_equal((server["bytes_sent"], server["bytes_received"]), (5, 5),
                "server's bytes: 4 and its FIN sent, 4 and the client's FIN received")
    return client, server


def test_list_show_stats():
    for fmt in ("text", "json"):
        with Netns() as ns:
            srv = listener(socket.AF_INET)
            port = srv.getsockname()[1]
            d = Daemon(ns, fmt=fmt, destroy_events=True)
            cli, acc = classic(ns, d, srv)
            d.sync()
            conns = ctl_json("list", "-f", d.log, "--port", str(port))
            check_equal(len(conns), 2, f"connections of port {port} ({fmt} log)")
            check_classic_pair(conns, cli, acc)

            # Text: one line each, the path spelled out, the outcome.
            out, _ = ctl("list", "-f", d.log, "--port", str(port))
            lines = out.splitlines()
            check_equal(len(lines), 3, f"header and two lines:\n{out}")
            check(f"SYN_SENT {ARROW} ESTABLISHED {ARROW} FIN_WAIT1 {ARROW} "
                  f"FIN_WAIT2 {ARROW} TIME_WAIT" in out, f"client's path in\n{out}")
            check("local-close" in out and "remote-close" in out, out)
            check("\033[" not in out, "colour in output that is no terminal")

            check_show(d, port, cli, acc)
            check_stats(d, port, acc)
            check_filters(d, port, cli, acc)
            d.stop()


def check_show(d, port, cli, acc):
    """The side-by-side view: client's states on the left of the bar, the
    server's on the right, rows in time order."""
    out, _ = ctl("show", "-f", d.log, "--port", str(port))
    lines = out.splitlines()
    check(lines[0].startswith("client ") and f"cookie {cli.cookie}" in lines[0],
          f"first header is the client's:\n{out}")
    check(lines[1].startswith("server ") and f"cookie {acc.cookie}" in lines[1],
          f"second header is the server's:\n{out}")
    left, right, times = [], [], []
    for line in lines[3:]:
        if "\u2502" not in line:
            break
        l, r = line.split("\u2502")
        words_l, words_r = l.split()[2:], r.split()
        times.append(" ".join(l.split()[:2]))
        (left if words_l else right).append((words_l or words_r)[0])
    check_equal(left, ["SYN_SENT", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2",
                       "TIME_WAIT"], f"left column:\n{out}")
    check_equal(right[-2:], ["CLOSE_WAIT", "NONE"], f"right column:\n{out}")
    check_equal(times, sorted(times), f"rows in time order:\n{out}")
    check("client: local-close" in out and "server: remote-close" in out, out)
    # One end alone is a timeline of its own, each state with its time.
    out, _ = ctl("show", "-f", d.log, "--cookie", str(acc.cookie))
    check(out.splitlines()[0].startswith("127.0.0.1:"), f"one end:\n{out}")


def check_stats(d, port, acc):
    (st,) = ctl_json("stats", "-f", d.log, "--port", str(port))
    check_equal(st["connections"], 2, "connections counted")
    check_equal(st["outcomes"], {"local-close": 1, "remote-close": 1}, "outcomes")
    (g,) = st["groups"]
    check_equal((g["key"], g["connections"]), (str(port), 2),
                "both ends grouped under the service's port")
    check(g["handshake"]["count"] >= 1 and g["handshake"]["max_us"] >= 700_000,
          f"handshake distribution {g['handshake']}")
    check("CLOSE_WAIT" in st["time_in_state"] and "FIN_WAIT1" in st["time_in_state"],
          f"time in state {st['time_in_state']}")
    (cw,) = st["longest_close_wait"]
    check_equal(cw["cookie"], acc.cookie, "the socket longest in CLOSE_WAIT")
    check(cw["close_wait_us"] > 0, f"its time {cw}")
    out, _ = ctl("stats", "-f", d.log, "--port", str(port), "--by", "rhost")
    check("127.0.0.1" in out and "longest in CLOSE_WAIT" in out, out)


def check_filters(d, port, cli, acc):
    def cookies(*args):
        return sorted(c["cookie"] for c in ctl_json("list", "-f", d.log, *args))

    both = sorted([cli.cookie, acc.cookie])
    p = ("--port", str(port))
    check_equal(cookies(*p, "--state", "CLOSE_WAIT"), [acc.cookie], "--state CLOSE_WAIT")
    check_equal(cookies(*p, "--state", "FIN_WAIT1"), [cli.cookie], "--state FIN_WAIT1")
    check_equal(cookies(*p, "--outcome", "remote-close"), [acc.cookie], "--outcome")
    check_equal(cookies(*p, "--outcome", "fin"), both, "--outcome fin: either end's close")
    check_equal(cookies(*p, "--open"), [cli.cookie], "--open: the client in TIME_WAIT")
    check_equal(cookies("--cookie", str(cli.cookie)), [cli.cookie], "--cookie")
    check_equal(cookies(*p, "--host", "127.0.0.0/8"), both, "--host 127.0.0.0/8")
    check_equal(cookies(*p, "--host", "10.0.0.0/8"), [], "--host 10.0.0.0/8")
    check_equal(cookies(*p, "--since", "-1h", "--until", "now"), both, "--since -1h")
    check_equal(cookies(*p, "--since", "+1h"), [], "--since +1h")
    check_equal(cookies(*p, "--until", "2000-01-01 00:00"), [], "--until 2000")
    check_equal(cookies("--port", "1"), [], "--port 1")
    # Listeners are not connections, unless asked for.
    check(acc.lport not in [c["lport"] for c in ctl_json("list", "-f", d.log)
                            if c["rport"] == 0], "a listener listed")
    check(any(c["lport"] == port and c["outcome"] == "listener"
              for c in ctl_json("list", "-f", d.log, "--state", "LISTEN")),
          "--state LISTEN lists the listener")


def test_outcomes():
    """A reset connection and a refused connect, told by how they ended."""
    with Netns() as ns:
        srv = listener(socket.AF_INET)
        port = srv.getsockname()[1]
        d = Daemon(ns, destroy_events=True)
        d.sync()
        c = connect(socket.AF_INET, "127.0.0.1", port)
        a = accept(srv)
        cli, acc = Endpoint(c), Endpoint(a)
        d.wait_transition(cli, "NONE", "ESTABLISHED")
        d.wait_transition(acc, "NONE", "ESTABLISHED")
        exchange(c, a)
        rst_close(c)
        # The reset server end, still held by its application, goes to CLOSE
        # at the first poll that misses it; it ends when the application
        # closes it.
        d.wait_transition(acc, "ESTABLISHED", "CLOSE")
        a.close()
        d.wait_for(lambda r: r["cookie"] == acc.cookie and r["to"] == "NONE",
                   f"the end of {acc}")
        # Nothing listens on dead_port: the connect is refused at once. The
        # kernel clears the remote port and the unbound local address of a
        # socket that a reset ends, so it is known by its local port.
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        dead_port = closed.getsockname()[1]
        closed.close()
        r = socket.socket()
        check(r.connect_ex(("127.0.0.1", dead_port)) != 0, "a refused connect")
        refused_port = r.getsockname()[1]
        r.close()
        d.wait_log(lambda recs: any(x["lport"] == refused_port and x["to"] == "NONE"
                                    for x in recs), "the refused connect's end")
        d.sync()
        reset = ctl_json("list", "-f", d.log, "--port", str(port))
        check_equal(sorted(c["outcome"] for c in reset), ["reset", "reset"],
                    f"a reset connection, both ends: {reset}")
        refused = ctl_json("list", "-f", d.log, "--outcome", "refused")
        check_equal([c["lport"] for c in refused], [refused_port],
                    f"the refused connect: {refused}")
        d.stop()


class Follower:
    """tcpstatectl follow, its output read line by line as it comes, each
    line with the time it arrived."""

    def __init__(self, *args):
        env = dict(os.environ, TZ="UTC")
        self.proc = subprocess.Popen([ctl_path(), "follow", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env)
        self.lines = []
        self.buf = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        """A test that failed leaves no follower behind."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()

    def read(self, timeout=0.05):
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            ready, _, _ = select.select([self.proc.stdout], [], [], max(left, 0))
            if not ready:
                return self.lines
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                return self.lines
            self.buf += chunk
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                self.lines.append((time.monotonic(), line.decode()))

    def wait_line(self, pred, what, timeout=10):
        def found():
            self.read()
            return next((t for t, l in self.lines if pred(l)), None)
        return wait_until(found, what, timeout,
                          lambda: "\n".join(l for _, l in self.lines))

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        _, err = self.proc.communicate(timeout=10)
        check_equal(self.proc.returncode, 0, f"follow's exit status ({err!r})")
        return err.decode()


def lag(d, f, cookie, to, timeout=10):
    """How long after the daemon wrote COOKIE's record into TO the follower
    printed it: both are watched at once, the log every 2 ms."""
    logged = shown = None
    end = time.monotonic() + timeout
    while (logged is None or shown is None) and time.monotonic() < end:
        if logged is None:
            with open(d.log, errors="replace") as log:
                if any(f"cookie={cookie}" in l and f"{ARROW} {to} " in l for l in log):
                    logged = time.monotonic()
        f.read(0.002)
        if shown is None:
            shown = next((t for t, l in f.lines if f"cookie {cookie}" in l
                          and f"{ARROW} {to}" in l), None)
    check(logged is not None and shown is not None,
          f"the record into {to} of cookie {cookie}: logged {logged}, followed {shown}")
    return max(shown - logged, 0.0)


def test_follow():
    """Each change of a connection is printed within one poll of the
    daemon writing it (the default poll, 100 ms; here the daemon polls every
    20 ms); the follower runs until SIGINT and exits 0."""
    with Netns() as ns:
        srv = listener(socket.AF_INET)
        port = srv.getsockname()[1]
        d = Daemon(ns, fmt="text", destroy_events=True)
        d.sync()
        with Follower("-f", d.log, "--port", str(port)) as f:
            f.read(0.5)
            lags = []
            with nft_drop(ns, f"tcp dport {port} tcp flags == syn"):
                c = connect_start(socket.AF_INET, "127.0.0.1", port)
                cli = Endpoint(c, peer=("127.0.0.1", port))
                lags.append(lag(d, f, cli.cookie, "SYN_SENT"))
            connect_finish(c)
            lags.append(lag(d, f, cli.cookie, "ESTABLISHED"))
            a = accept(srv)
            acc = Endpoint(a)
            exchange(c, a)
            c.close()
            lags.append(lag(d, f, cli.cookie, "FIN_WAIT2"))
            a.close()
            lags.append(lag(d, f, cli.cookie, "TIME_WAIT"))
            lags.append(lag(d, f, acc.cookie, "NONE"))
            check(all(x <= 0.1 for x in lags),
                  f"follow printed changes {[round(x * 1000, 1) for x in lags]} ms after "
                  "the daemon wrote them, expected within one poll (100 ms)")
            print(f"  follow's lag behind the log: {[round(x * 1000, 1) for x in lags]} ms")
            err = f.stop()
            check("bad line" not in err, f"follow's report: {err}")
        d.stop()


def rotating_daemon(ns, compress, keep=200, max_size="4K"):
    d = Daemon(ns, destroy_events=True, config=(
        f"[log]\nmax_size = {max_size}\nkeep = {keep}\n"
        f"compress = {'yes' if compress else 'no'}\n"))
    conf = os.path.join(d.dir, "ctl.conf")
    with open(conf, "w") as f:
        f.write(f"[poll]\ninterval_ms = 20\n[log]\npath = {d.log}\n")
    return d, conf


def churn(d, srv, n):
    """N connections to SRV, each closed by the client, then by the server."""
    d.sync()
    eps = []
    for _ in range(n):
        c = connect(socket.AF_INET, "127.0.0.1", srv.getsockname()[1])
        a = accept(srv)
        eps.append((Endpoint(c), Endpoint(a)))
        exchange(c, a)
        c.close()
        a.close()
    return eps


def test_rotated_and_gzipped():
    """The default source is the configured log with its rotated files, the
    oldest first, .gz ones included: every connection is found once."""
    with Netns() as ns:
        srv = listener(socket.AF_INET)
        port = srv.getsockname()[1]
        d, conf = rotating_daemon(ns, compress=True)
        eps = churn(d, srv, 60)
        d.sync()
        wait_until(lambda: os.path.exists(d.log + ".3.gz"), "three gzipped rotations")
        d.stop()
        conns = ctl_json("list", "--config", conf, "--port", str(port))
        want = sorted(e.cookie for pair in eps for e in pair)
        got = sorted(c["cookie"] for c in conns)
        check_equal(got, want, "connections over the rotated set")
        # Across a rotation, a connection is still whole: the clients'
        # paths start at NONE.
        check(all(not c["partial"] for c in conns if c["role"] == "client"),
              "a client split across two files")
        # The same set named by hand, oldest first, gives the same.
        files = sorted((f for f in os.listdir(d.dir) if f.startswith("transitions.log.")),
                       key=lambda f: -int(f.split(".")[2]))
        args = [a for f in files for a in ("-f", os.path.join(d.dir, f))]
        got = sorted(c["cookie"] for c in ctl_json("list", *args, "-f", d.log,
                                                    "--port", str(port)))
        check_equal(got, want, "the rotated set named with -f")


def test_follow_across_rotation():
    with Netns() as ns:
        srv = listener(socket.AF_INET)
        port = srv.getsockname()[1]
        # 4K: a rotation with nearly every poll, several between two reads
        # of the follower at times.
        d, conf = rotating_daemon(ns, compress=False)
        d.sync()
        with Follower("--config", conf, "--port", str(port), "-o", "json") as f:
            f.read(0.5)
            eps = churn(d, srv, 40)
            d.sync()
            check(os.path.exists(d.log + ".2"), "the log rotated at least twice")
            want = {e.cookie for pair in eps for e in pair}

            def followed():
                f.read()
                return want <= {json.loads(l)["cookie"] for _, l in f.lines}
            def missing():
                seen = {json.loads(l)["cookie"] for _, l in f.lines}
                logged = set()
                for name in os.listdir(d.dir):
                    if name.startswith("transitions.log"):
                        with open(os.path.join(d.dir, name)) as log:
                            logged |= {json.loads(l)["cookie"] for l in log if "cookie" in l}
                return (f"not followed: {sorted(want - seen)}, of which not logged: "
                        f"{sorted(want - logged)}")
            wait_until(followed, "every connection followed across rotations",
                       on_timeout=missing)
            f.stop()
        d.stop()


def test_bad_input():
    with Netns() as ns:
        srv = listener(socket.AF_INET)
        port = srv.getsockname()[1]
        d = Daemon(ns, destroy_events=True)
        d.sync()
        churn(d, srv, 3)
        d.sync()
        d.stop()
        work = d.dir
        with open(d.log) as f:
            good = f.read()
        bad = os.path.join(work, "bad.log")
        with open(bad, "w") as f:
            lines = good.splitlines(keepends=True)
            f.write(lines[0] + "this is no record\n" + "".join(lines[1:]) +
                    "{\"ts\":\"2026-\x00\n" + lines[-1][:40])
        out, err = ctl("list", "-f", bad, "-o", "json")
        check(len(out.splitlines()) >= 6, f"the good lines' connections:\n{out}")
        check(f"{bad}:2: not a record" in err, f"FILE:LINE of the bad line in\n{err}")
        check(f"{bad}:{len(lines) + 2}: not a record" in err, err)
        check(f"{bad}:{len(lines) + 3}: torn line" in err, err)
        check("skipped 3 bad line(s)" in err, err)
        # A truncated .gz: its lines up to the break, then one report.
        gz = os.path.join(work, "cut.log.gz")
        data = gzip.compress(good.encode() * 50)
        with open(gz, "wb") as f:
            f.write(data[:len(data) // 2])
        out, err = ctl("list", "-f", gz, "-o", "json")
        check("gzip data broke off" in err and out, f"a truncated .gz:\n{err}")
        # Standard input, text or JSON.
        out, _ = ctl("list", "-f", "-", "-o", "json", stdin=good)
        check(len(out.splitlines()) >= 6, out)
        # The configuration read by the daemon's rules: the quotes and the
        # '#' comment are not part of the path, and a line the daemon would
        # refuse is reported with FILE:LINE.
        conf = os.path.join(work, "quoted.conf")
        with open(conf, "w") as f:
            f.write(f'[poll]\ninterval_ms = 20 ; often\n[log]\npath = "{d.log}"  # comment\n')
        out, _ = ctl("list", "--config", conf, "-o", "json")
        check(len(out.splitlines()) >= 6, f"the log named in quotes:\n{out}")
        with open(conf, "w") as f:
            f.write(f"[log]\npath = {d.log}\n  keep = 3\n")
        _, err = ctl("list", "--config", conf, expect=66)
        check(f"{conf}:3: [log] path: indented line" in err, f"FILE:LINE in\n{err}")
        # Exit status: 66 with no input, 64 for a bad command line.
        ctl("list", "-f", os.path.join(work, "none"), expect=66)
        ctl("list", "--config", os.path.join(work, "none.conf"), expect=66)
        ctl("list", "--bogus", expect=64)
        ctl("frobnicate", expect=64)
        ctl("--port", "65536", expect=64)
        ctl("--since", "soon", expect=64)
        ctl("--state", "NOPE", expect=64)


def native_to_export(datagram, host, realtime_us):
    """One journal entry as sd_journal_sendv() sent it (the native protocol)
    in the journal export format, which encodes each field the same way,
    with the fields journald would add."""
    head = (f"__REALTIME_TIMESTAMP={realtime_us}\n__MONOTONIC_TIMESTAMP={realtime_us}\n"
            f"_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME={host}\n"
            "_TRANSPORT=journal\n").encode()
    return head + datagram + (b"" if datagram.endswith(b"\n") else b"\n") + b"\n"


def drain(sink, entries):
    """Appends each datagram SINK receives to ENTRIES, until it is shut down."""
    while True:
        data = sink.recv(1 << 20)
        if not data:
            return
        entries.append(data)


def test_journal():
    """--journal and -D read what the daemon sends to the journal. The
    daemon runs with [journal] enabled in a mount namespace of its own whose
    /run/systemd/journal/socket is the test's socket; each entry it sends is
    written, as two hosts' entries, into a journal directory by the real
    systemd-journal-remote, which -D then reads."""
    remote = shutil.which("systemd-journal-remote") or "/lib/systemd/systemd-journal-remote"
    check(os.access(remote, os.X_OK),
          "systemd-journal-remote not found (install systemd-journal-remote)")
    with Netns() as ns:
        srv = listener(socket.AF_INET)
        port = srv.getsockname()[1]
        d = Daemon(ns, destroy_events=True, config="[journal]\nenabled = yes\n")
        d.kill()  # the same daemon again, with the journal socket the test's
        sock_dir = os.path.join(d.dir, "journal")
        os.mkdir(sock_dir)
        sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sink.bind(os.path.join(sock_dir, "socket"))
        script = ("mount -t tmpfs tcpst-run /run && mkdir -p /run/systemd && "
                  f"ln -s {sock_dir} /run/systemd/journal && exec \"$@\"")
        proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "--",
                                 "sh", "-c", script, "sh", *d.argv],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        # Read as they come: a full socket would block the daemon's send.
        entries = []
        reader = threading.Thread(target=lambda: drain(sink, entries), daemon=True)
        reader.start()
        try:
            d.proc = proc
            cli, acc = classic(ns, d, srv)
            d.sync()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            sink.shutdown(socket.SHUT_RDWR)
            reader.join(timeout=10)
        check(len(entries) >= 10, f"{len(entries)} journal entries sent")
        export = b"".join(native_to_export(e, host, 1_700_000_000_000_000 + i)
                          for host in ("web1", "web2") for i, e in enumerate(entries))
        jdir = os.path.join(d.dir, "remote")
        os.mkdir(jdir)
        p = subprocess.run([remote, "--split-mode=none", f"--output={jdir}/all.journal", "-"],
                           input=export, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        check(p.returncode == 0, f"systemd-journal-remote: {p.stdout.decode()}")
        conns = ctl_json("list", "-D", jdir, "--port", str(port))
        for host in ("web1", "web2"):
            check_classic_pair([c for c in conns if c["host"] == host], cli, acc)
        check_equal(len(conns), 4, "two ends on each of two hosts")
        out, _ = ctl("list", "-D", jdir, "--port", str(port))
        check("web1" in out and "web2" in out and "HOST" in out, f"hosts shown:\n{out}")
        out, _ = ctl("show", "-D", jdir, "--cookie", str(cli.cookie))
        check("web1: 127.0.0.1" in out and "web2: 127.0.0.1" in out, out)


# Records of a daemon watching two namespaces (netns = all), as record.c
# writes them: the same loopback connection, 127.0.0.1:40000 to
# 127.0.0.1:80, in both (two containers running the same thing), each pair
# closed in order; then "blue" vanishes with a third connection open.
NETNS_RECORDS = [
    ("00.000000", 40000, 80, "NONE", "SYN_SENT", "poll", 11, "red", 4026532281),
    ("00.000000", 40000, 80, "NONE", "SYN_SENT", "poll", 21, "blue", 4026532282),
    ("00.000100", 80, 40000, "NONE", "SYN_RECV", "poll", 22, "blue", 4026532282),
    ("00.000100", 80, 40000, "NONE", "SYN_RECV", "poll", 12, "red", 4026532281),
    ("00.001000", 40000, 80, "SYN_SENT", "ESTABLISHED", "poll", 11, "red", 4026532281),
    ("00.001000", 80, 40000, "SYN_RECV", "ESTABLISHED", "poll", 12, "red", 4026532281),
    ("00.001000", 40000, 80, "SYN_SENT", "ESTABLISHED", "poll", 21, "blue", 4026532282),
    ("00.001000", 80, 40000, "SYN_RECV", "ESTABLISHED", "poll", 22, "blue", 4026532282),
    ("00.002000", 40000, 80, "ESTABLISHED", "FIN_WAIT1", "poll", 11, "red", 4026532281),
    ("00.002000", 80, 40000, "ESTABLISHED", "CLOSE_WAIT", "poll", 12, "red", 4026532281),
    ("00.003000", 40000, 80, "FIN_WAIT1", "NONE", "poll", 11, "red", 4026532281),
    ("00.003000", 80, 40000, "CLOSE_WAIT", "NONE", "poll", 12, "red", 4026532281),
    ("00.004000", 40001, 80, "NONE", "ESTABLISHED", "poll", 23, "blue", 4026532282),
    ("00.005000", 40000, 80, "ESTABLISHED", "NONE", "netns", 21, "blue", 4026532282),
    ("00.005000", 80, 40000, "ESTABLISHED", "NONE", "netns", 22, "blue", 4026532282),
    ("00.005000", 40001, 80, "ESTABLISHED", "NONE", "netns", 23, "blue", 4026532282),
]


def netns_logs(work):
    """The records above as a text log and a JSON log. Returns their paths."""
    text, js = [], []
    for sec, lport, rport, frm, to, how, cookie, name, ino in NETNS_RECORDS:
        ts = f"2026-12-04T10:00:{sec}Z"
        text.append(f"{ts} ipv4 127.0.0.1:{lport:<11} {ARROW} 127.0.0.1:{rport:<11} "
                    f"{frm:<11} {ARROW} {to:<11} {how:<7} cookie={cookie} uid=0 "
                    f"netns={name} netns_ino={ino}\n")
        js.append(json.dumps({"ts": ts, "family": "ipv4", "laddr": "127.0.0.1",
                              "lport": lport, "raddr": "127.0.0.1", "rport": rport,
                              "from": frm, "to": to, "how": how, "cookie": cookie,
                              "uid": 0, "netns": name, "netns_ino": ino},
                             separators=(",", ":")) + "\n")
    paths = os.path.join(work, "netns.log"), os.path.join(work, "netns.json")
    for path, lines in zip(paths, (text, js)):
        with open(path, "w") as f:
            f.write("".join(lines))
    return paths


def test_netns_records():
    work = tempfile.mkdtemp(prefix="tcpstatectl-netns-")
    try:
        for log in netns_logs(work):
            conns = ctl_json("list", "-f", log)
            check_equal(len(conns), 5, f"five sockets in {log}")
            by_cookie = {c["cookie"]: c for c in conns}
            # Each end paired with the other end in its own namespace.
            check_equal({c: (by_cookie[c]["netns"], by_cookie[c]["netns_ino"],
                             by_cookie[c].get("peer_cookie")) for c in (11, 12, 21, 22)},
                        {11: ("red", 4026532281, 12), 12: ("red", 4026532281, 11),
                         21: ("blue", 4026532282, 22), 22: ("blue", 4026532282, 21)},
                        "namespaces and peers")
            check_equal([by_cookie[c]["outcome"] for c in (11, 12, 21, 22, 23)],
                        ["local-close", "remote-close", "netns-gone", "netns-gone",
                         "netns-gone"], "outcomes")
            check_equal(path_of(by_cookie[21])[-1], "NONE", "blue's client ended")
            check_equal(by_cookie[21]["states"][-1]["how"], "netns", "by its namespace")
            # --netns by name, glob and inode.
            for pattern, want in (("red", {11, 12}), ("bl*", {21, 22, 23}),
                                  ("4026532282", {21, 22, 23}), ("green", set())):
                got = {c["cookie"] for c in ctl_json("list", "-f", log, "--netns", pattern)}
                check_equal(got, want, f"--netns {pattern} in {log}")
            out, _ = ctl("list", "-f", log)
            lines = out.splitlines()
            check(lines[0].startswith("NETNS ") and len(lines) == 6, f"a NETNS column:\n{out}")
            check(sum(line.startswith("blue ") for line in lines) == 3, out)
            out, _ = ctl("show", "-f", log, "--netns", "red")
            check("cookie 11  netns red" in out and "cookie 12  netns red" in out
                  and "blue" not in out, f"show --netns red:\n{out}")
            stats = ctl_json("stats", "-f", log, "--by", "netns")[0]
            check_equal({g["key"]: g["connections"] for g in stats["groups"]},
                        {"red": 2, "blue": 3}, "stats --by netns")
            check_equal(stats["outcomes"].get("netns-gone"), 3, "stats' outcomes")
            out, _ = ctl("stats", "-f", log, "--by", "netns")
            check(any(line.split()[:2] == ["blue", "3"] for line in out.splitlines()),
                  f"stats --by netns:\n{out}")
        ctl("list", "--netns", "", expect=64)
        # A log without namespaces: no column, no keys.
        plain = os.path.join(work, "plain.log")
        with open(os.path.join(work, "netns.log")) as f, open(plain, "w") as g:
            g.write("".join(line.split(" netns=")[0] + "\n" for line in f))
        out, _ = ctl("list", "-f", plain)
        check(out.startswith("START"), f"no NETNS column:\n{out}")
        check(all("netns" not in c for c in ctl_json("list", "-f", plain)), "no keys")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main([test_list_show_stats, test_outcomes, test_follow, test_rotated_and_gzipped,
          test_follow_across_rotation, test_bad_input, test_journal, test_netns_records])
