#!/usr/bin/env python3
"""tcpstated's benchmark: what a snapshot costs, against the floor and the
loops it replaces. See docs/performance.md for what is measured and how.

In a private network namespace holding N established loopback connections
(both ends inside, so 2 sockets each), it runs each contender for a window of
SECONDS and measures its CPU, the snapshots it took and its peak RSS:

  floor      bench/floor.c: the cheapest full dump at 10 Hz, discarded
  tcpstated  the daemon at 100 ms, shipped defaults, JSON Lines to /dev/shm
  ss         while :; do ss -tan >/dev/null; sleep 0.1; done
  netstat    the same with netstat -antp (the loop tcpstated replaces)

In each of ROUNDS rounds the daemons (floor, tcpstated, baseline) run side
by side, measured over one window, their 100 ms schedules evenly offset, all
on one CPU (a different one each round; --no-pin: anywhere); each
loop runs alone in a window of its own (--sequential: every contender alone).
The order of the windows rotates, and the table shows medians and, against
the floor, the median of the ratios within each round. Then a churn run: new
connections at RATE/s on top of 10k sockets, floor and tcpstated side by
side likewise.

Needs root (namespaces). Python 3 standard library only. The same file is
also the socket holder and the churn generator, run as children (--holder,
--churn), so that the sockets are spread over processes that each hold at
most 20,000 files.

  bench/run.py [--build DIR] [--quick | --smoke] [options]
"""

import argparse
import collections
import contextlib
import ctypes
import datetime
import json
import os
import platform
import re
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
NETNS_DIR = "/run/netns"
CLONE_NEWNET = 0x40000000
INTERVAL = 0.1          # every contender's cadence, seconds
WARMUP = 1.0            # seconds after start before the window opens (--smoke: less)
FDS_PER_HOLDER = 19000  # a process may hold at most 20,000 files here
BASE_PORT = 20000       # listeners: BASE_PORT, BASE_PORT + 1, ...
CHURN_PORT = 19999
CHURN_LIFETIME = 0.25   # seconds a churned connection stays open
DAEMONS = ("floor", "tcpstated", "baseline")  # the others are shell loops


# ---------------------------------------------------------------------------
# Helpers for the child roles

def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def connect_pair(listener, port):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.connect(("127.0.0.1", port))
    s, _ = listener.accept()
    return c, s


def role_holder(port, count):
    """Opens COUNT connections to its own listener on PORT, says "ready" and
    holds them until its standard input closes."""
    hard = raise_nofile()
    if 2 * count + 16 > hard:
        sys.exit(f"holder: {count} connections need more than {hard} files")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(4096)
    held = [connect_pair(listener, port) for _ in range(count)]
    print("ready", flush=True)
    sys.stdin.read()
    del held


def role_churn(port, rate, seconds):
    """Opens RATE connections per second for SECONDS, on an absolute schedule
    of 10 ms batches, each closed (client first, so the client end goes
    through TIME_WAIT) CHURN_LIFETIME after it opened. Bounded: at most
    RATE * SECONDS connections, RATE * CHURN_LIFETIME open at a time. Prints
    how many it opened and in what time."""
    raise_nofile()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(4096)
    open_ = collections.deque()
    total = int(rate * seconds)
    step = 0.01
    per_step = rate * step
    start = time.monotonic()
    opened = 0
    due = 0.0
    print("ready", flush=True)
    while opened < total:
        now = time.monotonic()
        due += per_step
        while opened < min(int(due), total):
            open_.append((now, *connect_pair(listener, port)))
            opened += 1
        while open_ and now - open_[0][0] >= CHURN_LIFETIME:
            _, c, s = open_.popleft()
            c.close()
            s.close()
        pause = start + (opened / rate) - time.monotonic()
        if pause > 0:
            time.sleep(min(pause, step))
    elapsed = time.monotonic() - start
    time.sleep(CHURN_LIFETIME)
    for _, c, s in open_:
        c.close()
        s.close()
    print(f"opened={opened} seconds={elapsed:.3f}", flush=True)


# ---------------------------------------------------------------------------
# The namespace

def setns(fd):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def sh(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


class Netns:
    """A network namespace the benchmark process moves into for good.
    EHASH > 0 gives it a private established hash of that many buckets
    (created from a parent namespace whose tcp_child_ehash_entries is set,
    as tests/integration does; the host's sysctls are never touched); 0
    leaves it on the host's shared hash."""

    def __init__(self, ehash):
        self.name = f"tcpbench-{os.getpid()}"
        self.alive = False
        if ehash:
            parent = self.name + "-parent"
            try:
                sh("ip", "netns", "add", parent)
                sh("ip", "netns", "exec", parent, "sysctl", "-q", "-w",
                   f"net.ipv4.tcp_child_ehash_entries={ehash}")
                sh("nsenter", f"--net={NETNS_DIR}/{parent}",
                   "ip", "netns", "add", self.name)
            finally:
                subprocess.run(["ip", "netns", "delete", parent],
                               stderr=subprocess.DEVNULL)
        else:
            sh("ip", "netns", "add", self.name)
        self.alive = True
        fd = os.open(f"{NETNS_DIR}/{self.name}", os.O_RDONLY)
        setns(fd)
        os.close(fd)
        sh("ip", "link", "set", "lo", "up")
        # /proc/sys/net is the namespace of the process that opens it.
        with open("/proc/sys/net/ipv4/ip_local_port_range", "w") as f:
            f.write("30000 65000")  # above the listeners (BASE_PORT...)
        with open("/proc/sys/net/ipv4/tcp_ehash_entries") as f:
            self.ehash = int(f.read())  # negative: the host's, shared

    def close(self):
        if self.alive:
            subprocess.run(["ip", "netns", "delete", self.name],
                           stderr=subprocess.DEVNULL)
            self.alive = False


def tcp_sockets():
    """Sockets in this namespace: (in use, TIME_WAIT), from sockstat."""
    with open("/proc/net/sockstat") as f:
        m = re.search(r"TCP: inuse (\d+) orphan \d+ tw (\d+)", f.read())
    return int(m.group(1)), int(m.group(2))


# ---------------------------------------------------------------------------
# Contenders

def cpu_ns(pid):
    """CPU time of process PID so far (all its threads), in ns, precise:
    its CPU-time clock rather than /proc/PID/stat's 10 ms ticks."""
    return time.clock_gettime_ns((~pid << 3) | 2)


def user_sys_ticks(pid):
    """utime and stime of process PID from /proc/PID/stat, in clock ticks:
    coarse, but they split the precise total into user and kernel time."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        m = re.search(r"VmHWM:\s+(\d+) kB", f.read())
    return int(m.group(1))


def timer_due_ns(pid, timeout):
    """When the timerfd of process PID next expires, in ns of CLOCK_MONOTONIC,
    from its fdinfo (which gives the time left), waiting up to TIMEOUT
    seconds for it to be created and armed; None if it was not. A timer that
    has expired and not yet been read shows 0 left too: it is read again."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(FileNotFoundError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") != "anon_inode:[timerfd]":
                    continue
                now = time.monotonic_ns()
                with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                    m = re.search(r"it_value: \((\d+), (\d+)\)", f.read())
                left = int(m.group(1)) * 10**9 + int(m.group(2))
                if left:
                    return now + left
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.002)


def daemon_config(exe, tmp, kind, shipped_path=None):
    """The shipped configuration for the daemon EXE, written into TMP: the
    metrics textfile goes to TMP every second (the most a user can ask, so
    that a window of a few seconds pays for several writes). For a baseline
    that predates some of it, each line its --check-config refuses
    (FILE:LINE) is commented out, a section's keys with their section; better,
    give it its own shipped configuration as SHIPPED_PATH (--baseline-config),
    whose defaults it was measured with."""
    with open(shipped_path or os.path.join(SOURCE, "conf/tcpstated.conf")) as f:
        shipped = f.read()
    prom = os.path.join(tmp, f"{kind}.prom")
    text = re.sub(r"^path = /var/lib/prometheus/.*$", "path = " + prom, shipped, flags=re.M)
    text = re.sub(r"^interval = 15$", "interval = 1", text, flags=re.M)
    path = os.path.join(tmp, f"{kind}.conf")
    lines = text.split("\n")
    for _ in range(len(lines)):
        with open(path, "w") as f:
            f.write("\n".join(lines))
        r = subprocess.run([exe, "--config", path, "--check-config"], capture_output=True,
                           text=True)
        m = re.search(re.escape(path) + r":(\d+):", r.stderr)
        if r.returncode == 0 or not m:
            break
        i = int(m.group(1)) - 1
        lines[i] = "# " + lines[i]
        if lines[i].startswith("# ["):  # an unknown section: its keys go with it
            for j in range(i + 1, len(lines)):
                if lines[j].startswith("["):
                    break
                if lines[j] and not lines[j].startswith("#"):
                    lines[j] = "# " + lines[j]
    return path


class Run:
    """One contender, started; open() and close() bracket its window, then
    finish() stops it and gives its figures."""

    def __init__(self, kind, args, cpu=None):
        self.kind = kind
        self.args = args
        self.tmp = args.tmp
        self.r = {"kind": kind}
        self.out = open(os.path.join(self.tmp, f"{kind}.out"), "w+")
        self.err = open(os.path.join(self.tmp, f"{kind}.err"), "w+")
        # One log per daemon: tcpstated and baseline may run side by side.
        self.log = os.path.join(self.tmp, f"{kind}.log")
        self.stopfile = os.path.join(self.tmp, "stop")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.stopfile)
        if kind == "floor":
            cmd = [args.floor, "100"]
        elif kind in ("tcpstated", "baseline"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.log)
            exe = args.tcpstated if kind == "tcpstated" else args.baseline
            conf = args.baseline_config if kind == "baseline" else None
            cmd = [exe, "--config", daemon_config(exe, self.tmp, kind, conf),
                   "--format", "json", "--log-file", self.log]
        else:
            tool = {"ss": "ss -tan", "netstat": "netstat -antp"}[kind]
            cmd = ["sh", "-c", 'n=0; while [ ! -e "$1" ]; do ' + tool +
                   ' >/dev/null 2>&1; n=$((n+1)); sleep 0.1; done; echo "$n"',
                   "sh", self.stopfile]
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        env.pop("WATCHDOG_USEC", None)
        self.t0 = time.monotonic()
        pin = None if cpu is None else (lambda: os.sched_setaffinity(0, {cpu}))
        self.p = subprocess.Popen(cmd, stdout=self.out, stderr=self.err, env=env,
                                  preexec_fn=pin)

    def daemon(self):
        return self.kind in DAEMONS

    def log_lines(self):
        try:
            with open(self.log, "rb") as f:
                return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
        except FileNotFoundError:
            return 0

    def open(self, c0, w0, sockets):
        """Opens a daemon's window at W0, when its CPU clock read C0 and the
        namespace held SOCKETS (all read by the caller, at one instant for
        all the daemons of a window). A loop has no window: it is measured
        over its whole life."""
        if self.daemon():
            self.c0, self.w0, self.l0 = c0, w0, self.log_lines()
            self.us0 = user_sys_ticks(self.p.pid)
            self.r["sockets"] = sockets

    def close(self, c1, w1, sockets):
        """Closes its window at W1 (CPU clock C1, SOCKETS in the namespace)
        and tells it to stop."""
        if self.daemon():
            self.c1, self.w1, self.l1 = c1, w1, self.log_lines()
            self.us1 = user_sys_ticks(self.p.pid)
            self.r["sockets_end"] = sockets
            self.r["peak_rss_kib"] = vm_hwm_kib(self.p.pid)
            self.p.send_signal(signal.SIGTERM)
        else:
            open(self.stopfile, "w").close()
            self.r["sockets"] = sockets

    def finish(self):
        """Waits for it to exit, returns its figures."""
        r = self.r
        _, status, ru = os.wait4(self.p.pid, 0)
        end = time.monotonic()
        self.p.returncode = status
        self.out.seek(0)
        self.err.seek(0)
        out, err = self.out.read(), self.err.read()
        if status != 0:
            raise RuntimeError(f"{self.kind} exited with status {status}:\n{out}{err}")
        r["user_share"] = ru.ru_utime / max(1e-9, ru.ru_utime + ru.ru_stime)
        if self.kind == "floor":
            m = re.search(r"dumps=(\d+) skipped=(\d+)", out)
            total, r["skipped"] = int(m.group(1)), int(m.group(2))
        elif self.kind in ("tcpstated", "baseline"):
            m = re.search(r"stopped after (\d+) polls.* (\d+) polls skipped", err)
            total, r["skipped"] = int(m.group(1)), int(m.group(2))
            # From the exit summary, not from an earlier warning.
            m = re.search(r"stopped after .* late p50/p99 ([\d.]+)/([\d.]+) ms.*"
                          r"took p50/p99 ([\d.]+)/([\d.]+) ms", err)
            if m:
                r["late_p50"], r["late_p99"], r["took_p50"], r["took_p99"] = \
                    map(float, m.groups())
            r["records_per_s"] = (self.l1 - self.l0) / (self.w1 - self.w0)
        else:
            total = int(out.split()[-1])
        if self.daemon():
            # Polls in the window: the schedule's ticks, scaled by the share
            # of ticks the whole run served (1 unless polls were skipped).
            wall = self.w1 - self.w0
            served = total / max(1, total + r["skipped"])
            snaps = wall / INTERVAL * served
            cpu = (self.c1 - self.c0) / 1e9
            du, ds = self.us1[0] - self.us0[0], self.us1[1] - self.us0[1]
            # Below 20 ticks (0.2 s of CPU) the split says nothing.
            r["user_share"] = du / (du + ds) if du + ds >= 20 else None
        else:
            # A loop's whole life, its children included (wait4's rusage).
            wall = end - self.t0
            snaps = total
            cpu = ru.ru_utime + ru.ru_stime
            r["peak_rss_kib"] = ru.ru_maxrss  # its largest child
        r["cpu_pct"] = 100.0 * cpu / wall
        r["snaps_per_s"] = snaps / wall
        r["cpu_ms_per_snap"] = 1000.0 * cpu / max(1e-9, snaps)
        if r["user_share"] is not None:
            r["user_ms_per_snap"] = r["cpu_ms_per_snap"] * r["user_share"]
        return r


def clocks(runs):
    """The CPU clocks of the daemons among RUNS, read back to back, then the
    wall clock and the sockets: one instant for all of them (the reads take
    microseconds; the slower figures, log lines and /proc, come after)."""
    cpu = {run: cpu_ns(run.p.pid) for run in runs if run.daemon()}
    return cpu, time.monotonic(), tcp_sockets()


def measure(kinds, args, seconds, arm_ns):
    """Starts the contenders KINDS, several daemons or one loop, lets them run
    WARMUP after the last start, measures them all over the same window of
    SECONDS, stops them and returns their figures.

    Each daemon arms its timer at its start plus INTERVAL. They are started
    so that their schedules are evenly offset (two 50 ms apart) and their
    dumps take turns instead of walking the kernel's tables at the same
    moment, where they would contend for the caches or warm them for each
    other. With ARGS.cpu set, the daemons all run on that CPU: the two vCPUs
    here differ by up to 40 % in what a dump costs, and where the scheduler
    puts each daemon decided most of a ratio. ARM_NS holds, per kind, the time from its start to its timer's
    arming last seen (3-47 ms here, tcpstated's longer than the floor's),
    and learns from each start."""
    period = round(INTERVAL * 1e9)
    runs, due = [], []
    try:
        for i, kind in enumerate(kinds):
            # A start whose schedule lands more than a tenth of the interval
            # off is retried, twice at most: on a busy machine the arming
            # time varies by tens of ms.
            for attempt in range(3):
                if runs:
                    # Its schedule i/n of the interval after the first's (or,
                    # that unknown, after the first's start): the first such
                    # start not in the past. A kind not started yet is
                    # assumed to arm as fast as the first.
                    first = due[0] if due[0] is not None else round(runs[0].t0 * 1e9)
                    target = first + i * period // len(kinds)
                    at = target - period - arm_ns.get(kind, arm_ns.get(kinds[0], 0))
                    at -= (at - time.monotonic_ns()) // period * period
                    time.sleep(max(0.0, (at - time.monotonic_ns()) / 1e9))
                run = Run(kind, args, args.cpu if len(kinds) > 1 else None)
                d = timer_due_ns(run.p.pid, 1.0) if len(kinds) > 1 else None
                if d is not None:
                    arm_ns[kind] = (d - round(run.t0 * 1e9)) % period
                if (not runs or d is None or attempt == 2 or
                        min((d - target) % period, (target - d) % period) <= period // 10):
                    break
                run.p.kill()
                run.p.wait()
            runs.append(run)
            due.append(d)
        # The window opens after the start-up (tcpstated's first poll logs
        # every socket as "initial"), so that it measures the steady state.
        time.sleep(max(0.0, runs[-1].t0 + WARMUP - time.monotonic()))
        c0, w0, s0 = clocks(runs)
        for run in runs:
            run.open(c0.get(run), w0, s0)
        if len(runs) > 1:
            # The offsets achieved: an arming may be late, on a busy machine.
            due = [timer_due_ns(run.p.pid, 0.2) for run in runs]
            for run, d in zip(runs, due):
                if d is not None and due[0] is not None:
                    run.r["phase_ms"] = (d - due[0]) % period / 1e6
        time.sleep(max(0.0, w0 + seconds - time.monotonic()))
        c1, w1, s1 = clocks(runs)
        for run in runs:
            run.close(c1.get(run), w1, s1)
        return [run.finish() for run in runs]
    finally:
        # After a failure, none is left running.
        for run in runs:
            if run.p.returncode is None and run.p.poll() is None:
                run.p.kill()
                run.p.wait()


# ---------------------------------------------------------------------------
# The driver

class Bench:
    def __init__(self, args):
        self.args = args
        self.ns = None
        self.holders = []
        self.next_port = BASE_PORT
        self.held = 0  # connections held
        self.arm_ns = {}  # per daemon, from its start to its timer's arming

    def new_netns(self):
        """Moves into a fresh namespace, deleting the last one (its sockets,
        TIME_WAIT ones included, go with it)."""
        self.close()
        self.ns = Netns(self.args.ehash)
        self.next_port = BASE_PORT
        self.held = 0
        return self.ns

    def close(self):
        self.release()
        if self.ns:
            self.ns.close()
            self.ns = None

    def spawn_self(self, *role_args, stdin=subprocess.PIPE):
        return subprocess.Popen([sys.executable, os.path.abspath(__file__), *role_args],
                                stdin=stdin, stdout=subprocess.PIPE, text=True)

    def hold(self, sockets):
        """Adds holders until SOCKETS sockets (2 per connection) are held."""
        want = sockets // 2
        per_holder = FDS_PER_HOLDER // 2
        started = []
        while self.held < want:
            n = min(per_holder, want - self.held)
            started.append(self.spawn_self("--holder", str(self.next_port), str(n)))
            self.next_port += 1
            self.held += n
        for p in started:
            line = p.stdout.readline()
            if line.strip() != "ready":
                raise RuntimeError("a socket holder failed to start")
        self.holders += started

    def release(self):
        for p in self.holders:
            p.stdin.close()
            p.wait()
        self.holders.clear()

    def rounds(self, kinds, seconds, label, churn=None):
        """Runs the contenders ROUNDS times. Side by side (the default), the
        daemons among KINDS share one window per round and each loop has its
        own; --sequential gives every contender its own window. The order of
        the windows rotates from round to round, and so does the order in
        which the daemons start. Under CHURN (connections/s) each window gets
        a fresh namespace holding --churn-base sockets: the TIME_WAIT sockets
        a churn window leaves behind last 60 s, and would make later windows
        dearer than earlier ones."""
        results = {k: [] for k in kinds}
        daemons = [k for k in kinds if k in DAEMONS]
        if self.args.sequential or not daemons:
            windows = [[k] for k in kinds]
        else:
            windows = [daemons] + [[k] for k in kinds if k not in DAEMONS]
        for rnd in range(self.args.rounds):
            for window in windows[rnd % len(windows):] + windows[:rnd % len(windows)]:
                gen = None
                if churn:
                    self.new_netns()
                    self.hold(self.args.churn_base)
                    # Until the window closes: a daemon's start takes up to
                    # three attempts (measure()), about 0.5 s at worst.
                    gen = self.spawn_self("--churn", str(CHURN_PORT), str(churn),
                                          str(0.5 * len(window) + WARMUP + seconds + 0.5),
                                          stdin=subprocess.DEVNULL)
                    if gen.stdout.readline().strip() != "ready":
                        raise RuntimeError("the churn generator failed to start")
                i = rnd % len(window)
                # Side by side, on one CPU, a different one each round.
                cpus = sorted(os.sched_getaffinity(0))
                self.args.cpu = cpus[rnd % len(cpus)] if self.args.pin else None
                rs = measure(window[i:] + window[:i], self.args, seconds, self.arm_ns)
                if gen:
                    out = gen.stdout.read()
                    gen.wait()
                    m = re.search(r"opened=(\d+) seconds=([\d.]+)", out)
                    for r in rs:
                        r["churn_rate"] = int(m.group(1)) / float(m.group(2))
                for r in rs:
                    results[r["kind"]].append(r)
                    print(f"  {label} round {rnd + 1} {r['kind']:9s} {fmt_run(r)}",
                          file=sys.stderr, flush=True)
        return results


def soak(bench, args):
    """One long churn run of tcpstated alone, its memory sampled every 10 s:
    does its RSS stay flat once the socket population has settled?"""
    bench.new_netns()
    bench.hold(args.churn_base)
    gen = bench.spawn_self("--churn", str(CHURN_PORT), str(args.churn_rate), str(args.soak),
                           stdin=subprocess.DEVNULL)
    if gen.stdout.readline().strip() != "ready":
        raise RuntimeError("the churn generator failed to start")
    run = Run("tcpstated", args)
    samples = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < args.soak:
        time.sleep(10)
        with open(f"/proc/{run.p.pid}/status") as f:
            st = f.read()
        rss = int(re.search(r"VmRSS:\s+(\d+)", st).group(1))
        hwm = int(re.search(r"VmHWM:\s+(\d+)", st).group(1))
        samples.append((time.monotonic() - t0, sum(tcp_sockets()), rss, hwm))
        print(f"  soak {samples[-1][0]:5.0f} s  sockets {samples[-1][1]:6d}  "
              f"VmRSS {rss / 1024:5.1f} MiB  VmHWM {hwm / 1024:5.1f} MiB",
              file=sys.stderr, flush=True)
    run.p.send_signal(signal.SIGTERM)
    run.p.wait()
    gen.wait()
    run.err.seek(0)
    err = run.err.read()
    if run.p.returncode != 0:
        raise RuntimeError(f"tcpstated exited with status {run.p.returncode}:\n{err}")
    return samples, err.strip().splitlines()[-1]


def fmt_run(r):
    s = (f"cpu {r['cpu_pct']:5.1f}%  {r['snaps_per_s']:5.2f}/s  "
         f"{r['cpu_ms_per_snap']:8.3f} ms/snap (user {fnum(r.get('user_ms_per_snap'), '.3f')})  rss {r['peak_rss_kib'] / 1024:5.1f} MiB  "
         f"sockets {r['sockets'][0]}+{r['sockets'][1]}tw")
    if "churn_rate" in r:
        s += f" to {r['sockets_end'][0]}+{r['sockets_end'][1]}tw"
    if "late_p50" in r:
        s += f"  late {r['late_p50']}/{r['late_p99']} ms took {r['took_p50']}/{r['took_p99']} ms"
    if "churn_rate" in r:
        s += f"  churn {r['churn_rate']:.0f}/s"
    if "records_per_s" in r:
        s += f"  records {r['records_per_s']:.0f}/s"
    if "phase_ms" in r:
        s += f"  phase +{r['phase_ms']:.1f} ms"
    return s


def median(rs, key):
    vals = [r[key] for r in rs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def summarize(results):
    """Medians per contender, and the ratios."""
    out = {}
    for kind, rs in results.items():
        out[kind] = {k: median(rs, k) for k in
                     ("cpu_pct", "snaps_per_s", "cpu_ms_per_snap", "peak_rss_kib", "user_share",
                      "user_ms_per_snap",
                      "late_p50", "late_p99", "took_p50", "took_p99", "records_per_s",
                      "churn_rate", "skipped")}
        out[kind]["sockets"] = int(median([{"s": sum(r["sockets"])} for r in rs], "s"))
        if all("sockets_end" in r for r in rs):
            out[kind]["sockets_end"] = int(median([{"s": sum(r["sockets_end"])} for r in rs],
                                                  "s"))
        out[kind]["rounds"] = len(rs)
    for kind in ("tcpstated", "baseline"):
        if kind not in out or "floor" not in out:
            continue
        out[kind]["x_floor"] = out[kind]["cpu_ms_per_snap"] / out["floor"]["cpu_ms_per_snap"]
        # The ratio per round (side by side, both over the same window of a
        # shared machine whose speed drifts from second to second), then its
        # median: less noisy than the ratio of the medians.
        per_round = [t["cpu_ms_per_snap"] / f["cpu_ms_per_snap"]
                     for t, f in zip(results[kind], results["floor"])]
        out[kind]["x_floor_rounds"] = statistics.median(per_round)
    for loop in ("netstat", "ss"):
        if "tcpstated" in out and loop in out:
            out[loop]["x_tcpstated"] = (out[loop]["cpu_ms_per_snap"] /
                                        out["tcpstated"]["cpu_ms_per_snap"])
    return out


def fnum(v, spec):
    return "-" if v is None else format(v, spec)


def print_table(title, table, f=sys.stdout):
    print(f"\n{title}\n", file=f)
    print("| sockets | contender | CPU %/core | snapshots/s | CPU ms/snapshot | of which user "
          "| peak RSS MiB | vs floor | loop / tcpstated | late p50/p99 ms | poll p50/p99 ms |",
          file=f)
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |", file=f)
    for n, summary in table:
        for kind in ("floor", "tcpstated", "baseline", "ss", "netstat"):
            s = summary.get(kind)
            if not s:
                continue
            late = took = "-"
            if s.get("late_p50") is not None:
                late = f"{s['late_p50']:.2f} / {s['late_p99']:.2f}"
                took = f"{s['took_p50']:.2f} / {s['took_p99']:.2f}"
            xf = "-"
            if "x_floor" in s:
                xf = f"{s['x_floor']:.2f} ({s['x_floor_rounds']:.2f})"
            print(f"| {s['sockets']} | {kind} | {fnum(s['cpu_pct'], '.1f')} "
                  f"| {fnum(s['snaps_per_s'], '.2f')} | {fnum(s['cpu_ms_per_snap'], '.3f')} "
                  f"| {fnum(s['user_ms_per_snap'], '.3f')} "
                  f"| {fnum(s['peak_rss_kib'] and s['peak_rss_kib'] / 1024, '.1f')} "
                  f"| {xf} | {fnum(s.get('x_tcpstated'), '.0f')} | {late} | {took} |", file=f)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(SOURCE, "build"),
                    help="build directory holding tcpstated and tcpstate-floor")
    ap.add_argument("--sizes", default="0,10000,40000",
                    help="socket counts, comma-separated (2 sockets per connection)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10.0, help="measured window per run")
    ap.add_argument("--contenders", default="floor,tcpstated,ss,netstat",
                    help="any of floor, tcpstated, ss, netstat, baseline")
    ap.add_argument("--baseline", help="another tcpstated binary to compare (contender "
                                       "baseline), e.g. a build of an older commit")
    ap.add_argument("--baseline-config",
                    help="the baseline's own shipped configuration (e.g. git show "
                         "COMMIT:conf/tcpstated.conf > FILE), instead of this tree's with "
                         "what it refuses commented out")
    ap.add_argument("--churn-rate", type=int, default=2000, help="new connections/s (0: none)")
    ap.add_argument("--churn-base", type=int, default=10000, help="sockets held under churn")
    ap.add_argument("--ehash", type=int, default=262144,
                    help="buckets of the namespace's private established hash; 0: share the "
                         "host's")
    ap.add_argument("--sequential", action="store_true",
                    help="every contender in a window of its own, the floor and tcpstated "
                         "included, instead of the daemons side by side")
    ap.add_argument("--quick", action="store_true", help="0 and 10k sockets, 1 round of 3 s")
    ap.add_argument("--smoke", action="store_true",
                    help="a few seconds in all, to check the script works")
    ap.add_argument("--no-pin", dest="pin", action="store_false",
                    help="side by side, let the daemons run on any CPU rather than all on "
                         "one (which one rotating from round to round)")
    ap.add_argument("--json", help="also write the raw results to this file")
    ap.add_argument("--soak", type=float, default=0,
                    help="instead of the benchmark: tcpstated alone under churn for this many "
                         "seconds, its RSS sampled every 10 s")
    ap.add_argument("--holder", nargs=2, type=int, help=argparse.SUPPRESS)
    ap.add_argument("--churn", nargs=3, type=float, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.holder:
        return role_holder(*args.holder)
    if args.churn:
        return role_churn(int(args.churn[0]), args.churn[1], args.churn[2])

    if args.quick:
        args.sizes, args.rounds, args.seconds = "0,10000", 1, 3.0
    if args.smoke:
        args.sizes, args.rounds, args.seconds = "0,200", 1, 0.5
        args.churn_rate, args.churn_base, args.ehash = 200, 200, 1024
        global WARMUP
        WARMUP = 0.3
    if os.geteuid() != 0:
        print("bench/run.py: needs root (network namespaces)", file=sys.stderr)
        return 77
    args.tcpstated = os.path.join(args.build, "tcpstated")
    args.floor = os.path.join(args.build, "tcpstate-floor")
    kinds = [k for k in args.contenders.split(",") if k]
    for k in kinds:
        tool = {"ss": "ss", "netstat": "netstat"}.get(k)
        if tool and not shutil.which(tool):
            print(f"bench/run.py: {tool} is not installed (apt-get install "
                  f"{'net-tools' if tool == 'netstat' else 'iproute2'}); leaving it out",
                  file=sys.stderr)
            kinds.remove(k)
    if "baseline" in kinds and not args.baseline:
        print("bench/run.py: the contender baseline needs --baseline PATH", file=sys.stderr)
        return 64
    for exe in (args.tcpstated, args.floor) + ((args.baseline,) if args.baseline else ()):
        if not os.access(exe, os.X_OK):
            print(f"bench/run.py: {exe} not found; build first "
                  f"(cmake --build {args.build})", file=sys.stderr)
            return 1
    sizes = sorted(int(s) for s in args.sizes.split(","))

    raise_nofile()
    tmpbase = "/dev/shm" if os.path.isdir("/dev/shm") else None
    args.tmp = tempfile.mkdtemp(prefix="tcpbench-", dir=tmpbase)
    bench = Bench(args)
    ns = bench.new_netns()
    started = datetime.datetime.now(datetime.timezone.utc)
    load0 = loadavg()
    table, churn_table, raw = [], [], {}

    def cleanup(*_):
        bench.close()
        shutil.rmtree(args.tmp, ignore_errors=True)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        hash_desc = (f"private established hash of {ns.ehash} buckets" if ns.ehash > 0
                     else f"the host's shared established hash ({-ns.ehash} buckets)")
        print(f"namespace {ns.name}: {hash_desc}; load average {load0}", file=sys.stderr)
        if args.soak:
            samples, summary = soak(bench, args)
            first = [s for s in samples if s[0] >= 60][:6] or samples[:1]
            print(f"soak: {args.churn_rate} new connections/s on top of {args.churn_base} "
                  f"sockets for {args.soak:g} s; load average {load0} at start, "
                  f"{loadavg()} at end\n")
            print("| s | sockets | VmRSS MiB | VmHWM MiB |\n| ---: | ---: | ---: | ---: |")
            for t, n, rss, hwm in samples:
                print(f"| {t:.0f} | {n} | {rss / 1024:.1f} | {hwm / 1024:.1f} |")
            print(f"\nVmRSS in the 2nd minute {max(s[2] for s in first) / 1024:.1f} MiB, "
                  f"at the end {samples[-1][2] / 1024:.1f} MiB; {summary}")
            return 0
        for n in sizes:
            bench.hold(n)
            print(f"{n} sockets held: {tcp_sockets()}", file=sys.stderr, flush=True)
            res = bench.rounds(kinds, args.seconds, f"{n:>6}")
            raw[str(n)] = res
            table.append((n, summarize(res)))
        if args.churn_rate:
            ck = [k for k in ("floor", "tcpstated", "baseline") if k in kinds]
            res = bench.rounds(ck, args.seconds, "churn", churn=args.churn_rate)
            raw["churn"] = res
            churn_table.append((args.churn_base, summarize(res)))
    finally:
        cleanup()

    load1 = loadavg()
    print(f"\ntcpstated benchmark, {started:%Y-%m-%d %H:%M} UTC, {platform.node()}, "
          f"kernel {platform.release()}, {os.cpu_count()} CPUs, {hash_desc}; "
          f"{args.rounds} rounds x {args.seconds:g} s, "
          f"{'each contender alone' if args.sequential else 'daemons side by side'}"
          f"{', on one CPU' if args.pin and not args.sequential else ''}, medians; "
          f"load average {load0} at start, {load1} at end")
    print_table("Steady state (sockets held open):", table)
    if churn_table:
        c = churn_table[0][1]
        print_table(f"Churn: {args.churn_rate} new connections/s on top of "
                    f"{args.churn_base} sockets (sockets at window start):", churn_table)
        t = c.get("tcpstated", {})
        if t:
            print(f"\nchurn achieved {fnum(t.get('churn_rate'), '.0f')} connections/s; "
                  f"sockets (TIME_WAIT included) {t['sockets']} at the window's start, "
                  f"{t.get('sockets_end')} at its end; "
                  f"tcpstated wrote {fnum(t.get('records_per_s'), '.0f')} records/s, "
                  f"kept {fnum(t.get('snaps_per_s'), '.2f')} polls/s, "
                  f"skipped {fnum(t.get('skipped'), '.0f')}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"started": started.isoformat(), "load": [load0, load1],
                       "ehash": ns.ehash, "args": vars(args), "runs": raw}, f, indent=1,
                      default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
