#!/usr/bin/env python3
"""tcpstated watching many network namespaces (issue 16): its CPU per poll
cycle against the sum of the per-namespace floors, and the cadence each
namespace gets. See docs/performance.md, "Many namespaces (issue 16)".

It creates NAMESPACES namespaces (50) holding SOCKETS sockets each (200: 100
established loopback connections, both ends inside), first each with a
private established hash (created from a parent namespace whose
net.ipv4.tcp_child_ehash_entries is set; the host's sysctls are never
touched), then all on the host's shared hash. In each mode it runs, side by
side on one CPU, their 100 ms (or whatever) schedules half an interval apart:

  floor      tcpstate-floor (bench/floor.c) given every namespace: at each
             tick the cheapest full dump of each, one after the other
  tcpstated  the shipped configuration with [poll] netns = PREFIX* (a glob:
             other namespaces on the host are not watched), its metrics
             textfile in a temporary directory, written every second, JSON
             Lines to a temporary file

once with [poll] netns_budget = 100 at an interval where a full cycle fits
(100 ms on private hashes, 500 ms on the shared one) and once with the
default budget of 20 % at 100 ms. A cycle is every watched namespace polled
once; tcpstated's cycles are counted from tcpstated_netns_polls_total in its
metrics textfile, the window opening and closing as that file is rewritten,
and the cadence per namespace is its polls over the window. An extra run
gives tcpstated's cost with no namespace matching (its rescans alone).

Needs root (namespaces). Python 3 standard library only; it reuses
bench/run.py's helpers. The same file is the socket holder, run as a child
(--hold). Every namespace it made is removed at the end, whatever happens
(but a SIGKILL).

  bench/netns_bench.py [--build DIR] [--smoke] [options]
"""

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run as bench  # noqa: E402  (bench/run.py: its helpers, not its main)

PORT = 20000          # each namespace's listener (below the ephemeral range)
WARMUP = 3.0          # seconds from tcpstated's start to the window: the
                      # first polls log every socket, and the budget's spread
                      # settles on what the polls cost
RATIO_TARGET = 1.2    # issue 16: CPU per cycle within 1.2x the floors' sum


# ---------------------------------------------------------------------------
# The namespaces and their sockets

def role_hold(per_ns, names):
    """In each namespace NAMES in turn: a listener, PER_NS / 2 connections
    to it, the listener closed (PER_NS established sockets remain). Then
    prints "ready" and each namespace's tcp_ehash_entries (negative: the
    host's shared hash), and holds the sockets until its stdin closes."""
    bench.raise_nofile()
    held, ehash = [], []
    for name in names:
        fd = os.open(f"{bench.NETNS_DIR}/{name}", os.O_RDONLY)
        bench.setns(fd)
        os.close(fd)
        # /proc/sys/net is the namespace of the process that opens it.
        with open("/proc/sys/net/ipv4/tcp_ehash_entries") as f:
            ehash.append(f.read().strip())
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", PORT))
        listener.listen(per_ns)
        held += [bench.connect_pair(listener, PORT) for _ in range(per_ns // 2)]
        listener.close()
    print("ready", *ehash, flush=True)
    sys.stdin.read()
    del held


class Namespaces:
    """COUNT namespaces named PREFIX00, PREFIX01..., each with a private
    established hash of EHASH buckets (0: on the host's), their loopback up,
    holding PER_NS sockets each (a child process holds them all)."""

    def __init__(self, prefix, count, per_ns, ehash):
        self.names = [f"{prefix}{i:02d}" for i in range(count)]
        self.made = []
        self.holder = None
        if ehash:
            # The parent's name does not match the glob tcpstated is given,
            # and it is gone before tcpstated starts.
            parent = f"nsbparent-{os.getpid()}"
            try:
                bench.sh("ip", "netns", "add", parent)
                bench.sh("ip", "netns", "exec", parent, "sysctl", "-q", "-w",
                         f"net.ipv4.tcp_child_ehash_entries={ehash}")
                for name in self.names:
                    # nsenter, not "ip netns exec": the latter's private mount
                    # namespace would keep the new /run/netns entry from us.
                    self.made.append(name)
                    bench.sh("nsenter", f"--net={bench.NETNS_DIR}/{parent}",
                             "ip", "netns", "add", name)
            finally:
                subprocess.run(["ip", "netns", "delete", parent], stderr=subprocess.DEVNULL)
        else:
            for name in self.names:
                self.made.append(name)
                bench.sh("ip", "netns", "add", name)
        for name in self.names:
            bench.sh("ip", "-n", name, "link", "set", "lo", "up")
        self.holder = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--hold", str(per_ns), *self.names],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        words = self.holder.stdout.readline().split()
        if not words or words[0] != "ready":
            raise RuntimeError("the socket holder failed")
        self.ehash = sorted(set(int(w) for w in words[1:]))
        if len(self.ehash) != 1 or (self.ehash[0] > 0) != bool(ehash):
            raise RuntimeError(f"tcp_ehash_entries of the namespaces: {self.ehash}, "
                               f"expected {'a private hash' if ehash else 'the shared one'}")
        self.ehash = self.ehash[0]

    def close(self):
        if self.holder:
            self.holder.stdin.close()
            self.holder.wait()
            self.holder = None
        for name in self.made:
            subprocess.run(["ip", "netns", "delete", name], stderr=subprocess.DEVNULL)
        self.made = []


def own_namespaces(pid):
    """Namespaces in /run/netns that this run (PID) made, left over."""
    with contextlib.suppress(FileNotFoundError):
        return [n for n in os.listdir(bench.NETNS_DIR)
                if n.startswith(f"nsb-{pid}-") or n == f"nsbparent-{pid}"]
    return []


# ---------------------------------------------------------------------------
# The metrics textfile

METRIC = re.compile(r'^tcpstated_(netns_\w+)(?:\{netns="([^"]*)",netns_ino="\d+"\})? (\S+)$',
                    re.M)


def read_metrics(path):
    """The netns figures of the textfile at PATH: {"watched": n,
    "interval": seconds, "polls": {name: n}, "sockets": {name: n}}."""
    with open(path) as f:
        text = f.read()
    out = {"polls": {}, "sockets": {}}
    for series, name, value in METRIC.findall(text):
        if series == "netns_watched":
            out["watched"] = int(value)
        elif series == "netns_poll_interval_seconds":
            out["interval"] = float(value)
        elif series == "netns_polls_total":
            out["polls"][name] = int(value)
        elif series == "netns_sockets":
            out["sockets"][name] = int(value)
    return out


def mtime_ns(path):
    try:
        return os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return None


def at_rewrite(path, pids, timeout):
    """Waits for the textfile at PATH to be rewritten (polled every 2 ms),
    then reads at once the CPU clocks of PIDS and the wall clock: the counts
    in the file and the clocks are then of one instant, give or take the
    2 ms (tcpstated writes it after a tick's polls, and the next tick is an
    interval away). Returns (cpu_ns per pid, monotonic seconds, metrics)."""
    before = mtime_ns(path)
    deadline = time.monotonic() + timeout
    while mtime_ns(path) == before:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path} was not rewritten within {timeout:g} s")
        time.sleep(0.002)
    cpu = [bench.cpu_ns(pid) for pid in pids]
    now = time.monotonic()
    return cpu, now, read_metrics(path)


# ---------------------------------------------------------------------------
# One run: tcpstated and the floor side by side

def config(args, tmp, glob, budget):
    """The shipped configuration (run.py's: metrics to TMP every second),
    watching GLOB with the budget BUDGET."""
    path = bench.daemon_config(args.tcpstated, tmp, "tcpstated")
    with open(path) as f:
        text = f.read()
    text = re.sub(r"^netns =.*$", f"netns = {glob}", text, flags=re.M)
    text = re.sub(r"^netns_budget = .*$", f"netns_budget = {budget}", text, flags=re.M)
    with open(path, "w") as f:
        f.write(text)
    return path


def start(cmd, tmp, name, cpu):
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    env.pop("WATCHDOG_USEC", None)
    out = open(os.path.join(tmp, f"{name}.out"), "w+")
    err = open(os.path.join(tmp, f"{name}.err"), "w+")
    pin = None if cpu is None else (lambda: os.sched_setaffinity(0, {cpu}))
    p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, preexec_fn=pin)
    p.outf, p.errf = out, err
    return p


def stop(p, what):
    """SIGTERM, then its output; raises if it did not exit 0."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    p.outf.seek(0)
    p.errf.seek(0)
    out, err = p.outf.read(), p.errf.read()
    if p.returncode != 0:
        raise RuntimeError(f"{what} exited with status {p.returncode}:\n{out}{err}")
    return out, err


def measure(args, ns, mode, interval, budget, cpu):
    """tcpstated watching the namespaces NS (None: a glob that matches
    none) at INTERVAL ms with the budget BUDGET, and the floor beside it
    (unless NS is None), over one window of args.seconds. Returns the row."""
    tmp = tempfile.mkdtemp(prefix="tcpstated-", dir=args.tmp)
    glob = f"{args.prefix}{mode[0]}*" if ns else f"{args.prefix}none*"
    prom = os.path.join(tmp, "tcpstated.prom")
    log = os.path.join(tmp, "transitions.json")
    names = ns.names if ns else []
    n = len(names)
    r = {"mode": mode, "interval_ms": interval, "budget": budget, "namespaces": n,
         "ehash": ns.ehash if ns else None, "cpu": cpu}
    procs = []
    try:
        td = start([args.tcpstated, "--config", config(args, tmp, glob, budget),
                    "--interval-ms", str(interval), "--format", "json", "--log-file", log],
                   tmp, "tcpstated", cpu)
        procs.append(td)
        period = interval * 1_000_000
        if ns:
            # The floor's schedule half an interval after tcpstated's: it
            # arms its timer at its start plus the interval, ARM_NS after
            # its start (learnt from the previous run; a first guess of 5 ms).
            due = bench.timer_due_ns(td.pid, 2.0)
            if due is None:
                raise RuntimeError("tcpstated armed no timer")
            arm = args.arm_ns.get("floor", 5_000_000)
            at = due + period // 2 - period - arm
            at += -(-(time.monotonic_ns() - at) // period) * period  # the next one
            time.sleep(max(0.0, (at - time.monotonic_ns()) / 1e9))
            t0 = time.monotonic_ns()
            fl = start([args.floor, str(interval)] +
                       [f"{bench.NETNS_DIR}/{name}" for name in names], tmp, "floor", cpu)
            procs.append(fl)
            fdue = bench.timer_due_ns(fl.pid, 2.0)
            if fdue is not None:
                args.arm_ns["floor"] = (fdue - t0) % period
                tdue = bench.timer_due_ns(td.pid, 0.5)
                if tdue is not None:
                    r["phase_ms"] = (fdue - tdue) % period / 1e6
        time.sleep(WARMUP)
        pids = [p.pid for p in procs]
        c0, w0, m0 = at_rewrite(prom, pids, 3.0)
        time.sleep(max(0.0, args.seconds - 1.1))  # the textfile is rewritten every second
        c1, w1, m1 = at_rewrite(prom, pids, 3.0)
        r["load"] = bench.loadavg()
        wall = w1 - w0
        r["window_s"] = wall
        r["tcpstated_cpu_pct"] = 100.0 * (c1[0] - c0[0]) / 1e9 / wall
        r["watched"] = m1.get("watched")
        r["poll_interval_ms"] = 1000.0 * m1.get("interval", 0)
        r["poll_interval_ms_open"] = 1000.0 * m0.get("interval", 0)
        if ns:
            polls = [m1["polls"].get(name, 0) - m0["polls"].get(name, 0) for name in names]
            r["cadence"] = [p / wall for p in polls]
            r["sockets"] = [m1["sockets"].get(name) for name in names]
            cycles = sum(polls) / n
            r["tcpstated_ms_cycle"] = (c1[0] - c0[0]) / 1e6 / cycles if cycles else None
            r["floor_cpu_pct"] = 100.0 * (c1[1] - c0[1]) / 1e9 / wall
        else:
            r["tcpstated_ms_s"] = (c1[0] - c0[0]) / 1e6 / wall
        _, err = stop(td, "tcpstated")
        spread = re.findall(r"each is now polled every (\d+) ms", err)
        r["spread_said"] = int(spread[-1]) if spread else None
        if ns:
            out, _ = stop(fl, "tcpstate-floor")
            m = re.search(r"dumps=(\d+) skipped=(\d+) rounds=(\d+)", out)
            rounds, skipped = int(m.group(3)), int(m.group(2))
            r["floor_skipped"] = skipped
            # Its rounds in the window: the window's ticks, times the share
            # of ticks the whole run served (as run.py counts the floor's).
            fcycles = wall / (interval / 1000.0) * rounds / max(1, rounds + skipped)
            r["floor_ms_cycle"] = (c1[1] - c0[1]) / 1e6 / fcycles if fcycles else None
            r["ratio"] = (r["tcpstated_ms_cycle"] / r["floor_ms_cycle"]
                          if r["tcpstated_ms_cycle"] and r["floor_ms_cycle"] else None)
        return r
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def check(r, per_ns):
    """What a sane run shows; the problems, as sentences."""
    bad = []
    n = r["namespaces"]
    if r["watched"] != n:
        bad.append(f"tcpstated watched {r['watched']} namespaces, expected {n}")
    if not n:
        return bad
    if any(s != per_ns for s in r["sockets"]):
        bad.append(f"sockets per namespace {sorted(set(map(str, r['sockets'])))}, "
                   f"expected {per_ns}")
    if r["poll_interval_ms"] < r["interval_ms"]:
        bad.append(f"poll interval {r['poll_interval_ms']} ms below the interval")
    # Every namespace at about the cadence tcpstated says it keeps (half of
    # it at least: a tick can be skipped on a busy machine, and a window of
    # a few seconds sees few polls of a spread namespace).
    said = 1000.0 / r["poll_interval_ms"] if r["poll_interval_ms"] else 0
    if min(r["cadence"]) < 0.5 * said or max(r["cadence"]) > 1.5 * said + 1.0 / r["window_s"]:
        bad.append(f"cadence {min(r['cadence']):.2f}-{max(r['cadence']):.2f}/s, "
                   f"tcpstated says every {r['poll_interval_ms']:.0f} ms")
    for k in ("tcpstated_ms_cycle", "floor_ms_cycle", "ratio"):
        if r[k] is None or not 0 < r[k] < 1e6:
            bad.append(f"{k} = {r[k]}")
    return bad


# ---------------------------------------------------------------------------
# The table

def fnum(v, spec):
    return "-" if v is None else format(v, spec)


def summarize(rows):
    """One line per (mode, interval, budget): medians over the rounds, and
    the ratio's per-round values."""
    groups = {}
    for r in rows:
        groups.setdefault((r["mode"], r["interval_ms"], r["budget"]), []).append(r)
    out = []
    for (mode, interval, budget), rs in groups.items():
        def med(k):
            vals = [r[k] for r in rs if r.get(k) is not None]
            return statistics.median(vals) if vals else None
        s = {"mode": mode, "interval_ms": interval, "budget": budget, "rounds": len(rs),
             "ehash": rs[0]["ehash"], "namespaces": rs[0]["namespaces"]}
        for k in ("floor_ms_cycle", "tcpstated_ms_cycle", "ratio", "tcpstated_cpu_pct",
                  "floor_cpu_pct", "poll_interval_ms", "tcpstated_ms_s"):
            s[k] = med(k)
        s["ratios"] = [r["ratio"] for r in rs if r.get("ratio") is not None]
        if rs[0]["namespaces"]:
            s["cadence_min"] = min(min(r["cadence"]) for r in rs)
            s["cadence_median"] = statistics.median(c for r in rs for c in r["cadence"])
        out.append(s)
    return out


def print_table(summary, f=sys.stdout):
    print("| hash | namespaces | interval ms | budget % | polled every ms | floor ms/cycle "
          "| tcpstated ms/cycle | ratio (per round) | polls/s per namespace min / median "
          "| tcpstated CPU % | floor CPU % |", file=f)
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |", file=f)
    for s in summary:
        if not s["namespaces"]:
            print(f"| none matches (rescans alone) | 0 | {s['interval_ms']} | {s['budget']} | - "
                  f"| - | {fnum(s['tcpstated_ms_s'], '.2f')} ms/s | - | - "
                  f"| {fnum(s['tcpstated_cpu_pct'], '.2f')} | - |", file=f)
            continue
        hash_ = (f"private ({s['ehash']})" if s["ehash"] > 0
                 else f"shared ({-s['ehash']})")
        ratios = ", ".join(f"{x:.2f}" for x in s["ratios"])
        print(f"| {hash_} | {s['namespaces']} | {s['interval_ms']} | {s['budget']} "
              f"| {fnum(s['poll_interval_ms'], '.0f')} | {fnum(s['floor_ms_cycle'], '.2f')} "
              f"| {fnum(s['tcpstated_ms_cycle'], '.2f')} | {fnum(s['ratio'], '.2f')} "
              f"({ratios}) | {s['cadence_min']:.2f} / {s['cadence_median']:.2f} "
              f"| {fnum(s['tcpstated_cpu_pct'], '.1f')} | {fnum(s['floor_cpu_pct'], '.1f')} |",
              file=f)


def fmt_row(r):
    if not r["namespaces"]:
        return (f"no namespace: tcpstated {r['tcpstated_ms_s']:.2f} ms/s "
                f"({r['tcpstated_cpu_pct']:.2f} %)  load {r['load']}")
    return (f"{r['mode']:7s} {r['interval_ms']:3d} ms budget {r['budget']:3d}: floor "
            f"{fnum(r['floor_ms_cycle'], '7.2f')} ms/cycle ({r['floor_cpu_pct']:4.1f} %, "
            f"{r['floor_skipped']} skipped), tcpstated {fnum(r['tcpstated_ms_cycle'], '7.2f')} "
            f"ms/cycle ({r['tcpstated_cpu_pct']:4.1f} %) x{fnum(r['ratio'], '.2f')}, every "
            f"{r['poll_interval_ms']:.0f} ms, polls/s {min(r['cadence']):.2f}-"
            f"{max(r['cadence']):.2f}, phase {fnum(r.get('phase_ms'), '.1f')} ms, "
            f"cpu {r['cpu']}, load {r['load']}")


# ---------------------------------------------------------------------------
# The driver

def parse_runs(text):
    """"private:100:100,shared:300:100" -> [("private", 100, 100), ...]."""
    runs = []
    for item in text.split(","):
        mode, interval, budget = item.split(":")
        if mode not in ("private", "shared"):
            raise argparse.ArgumentTypeError(f"{mode}: private or shared")
        runs.append((mode, int(interval), int(budget)))
    return runs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(bench.SOURCE, "build"),
                    help="build directory holding tcpstated and tcpstate-floor")
    ap.add_argument("--namespaces", type=int, default=50)
    ap.add_argument("--sockets", type=int, default=200,
                    help="sockets per namespace (an even number: 2 per connection)")
    ap.add_argument("--ehash", type=int, default=1024,
                    help="buckets of each private established hash")
    ap.add_argument("--runs", type=parse_runs,
                    default=parse_runs("private:100:100,private:100:20,"
                                       "shared:500:100,shared:100:20"),
                    help="MODE:INTERVAL_MS:BUDGET,... (MODE private or shared)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=10.0, help="measured window per run")
    ap.add_argument("--no-idle", dest="idle", action="store_false",
                    help="leave out the run with no namespace matching")
    ap.add_argument("--no-pin", dest="pin", action="store_false",
                    help="let tcpstated and the floor run on any CPU rather than both on "
                         "one (which one rotating from round to round)")
    ap.add_argument("--smoke", action="store_true",
                    help="3 namespaces of 20 sockets, 1 round of about 2 s per mode")
    ap.add_argument("--json", help="also write the raw results to this file")
    ap.add_argument("--hold", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.hold:
        return role_hold(int(args.hold[0]), args.hold[1:])
    if args.smoke:
        args.namespaces, args.sockets, args.rounds, args.seconds = 3, 20, 1, 1.0
        args.runs = parse_runs("private:100:100,shared:100:20")
        args.idle = False
        global WARMUP
        WARMUP = 1.2
    if os.geteuid() != 0:
        print("bench/netns_bench.py: needs root (network namespaces)", file=sys.stderr)
        return 77
    if args.sockets % 2 or args.namespaces < 1 or args.namespaces > 100:
        ap.error("--sockets must be even, --namespaces from 1 to 100")
    args.tcpstated = os.path.join(args.build, "tcpstated")
    args.floor = os.path.join(args.build, "tcpstate-floor")
    for exe in (args.tcpstated, args.floor):
        if not os.access(exe, os.X_OK):
            print(f"bench/netns_bench.py: {exe} not found; build first "
                  f"(cmake --build {args.build})", file=sys.stderr)
            return 1
    args.prefix = f"nsb-{os.getpid()}-"
    args.arm_ns = {}
    tmpbase = "/dev/shm" if os.path.isdir("/dev/shm") else None
    args.tmp = tempfile.mkdtemp(prefix="nsbench-", dir=tmpbase)
    cpus = sorted(os.sched_getaffinity(0))
    started = datetime.datetime.now(datetime.timezone.utc)
    load0 = bench.loadavg()
    print(f"load average {load0}; namespaces {args.prefix}*", file=sys.stderr, flush=True)
    rows, problems = [], []
    ns = None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(129))
    try:
        if args.idle:
            r = measure(args, None, "none", 100, 20, cpus[0] if args.pin else None)
            print(f"  {fmt_row(r)}", file=sys.stderr, flush=True)
            problems += check(r, args.sockets)
            rows.append(r)
        for mode in ("private", "shared"):
            runs = [x for x in args.runs if x[0] == mode]
            if not runs:
                continue
            t = time.monotonic()
            ns = Namespaces(f"{args.prefix}{mode[0]}", args.namespaces, args.sockets,
                            args.ehash if mode == "private" else 0)
            print(f"{mode}: {args.namespaces} namespaces of {args.sockets} sockets, "
                  f"tcp_ehash_entries {ns.ehash}, made in {time.monotonic() - t:.1f} s",
                  file=sys.stderr, flush=True)
            for rnd in range(args.rounds):
                cpu = cpus[rnd % len(cpus)] if args.pin else None
                for _, interval, budget in runs[rnd % len(runs):] + runs[:rnd % len(runs)]:
                    r = measure(args, ns, mode, interval, budget, cpu)
                    r["round"] = rnd + 1
                    print(f"  round {rnd + 1} {fmt_row(r)}", file=sys.stderr, flush=True)
                    problems += [f"{mode} {interval} ms budget {budget}: {p}"
                                 for p in check(r, args.sockets)]
                    rows.append(r)
            ns.close()
            ns = None
    finally:
        if ns:
            ns.close()
        shutil.rmtree(args.tmp, ignore_errors=True)
        left = own_namespaces(os.getpid())
        for name in left:
            subprocess.run(["ip", "netns", "delete", name], stderr=subprocess.DEVNULL)
        if left:
            print(f"bench/netns_bench.py: deleted namespaces left over: {left}",
                  file=sys.stderr)
    left = own_namespaces(os.getpid())
    if left:
        problems.append(f"namespaces not removed: {left}")

    load1 = bench.loadavg()
    summary = summarize(rows)
    print(f"\ntcpstated, many namespaces, {started:%Y-%m-%d %H:%M} UTC, {platform.node()}, "
          f"kernel {platform.release()}, {os.cpu_count()} CPUs; {args.namespaces} namespaces "
          f"x {args.sockets} sockets; {args.rounds} rounds x {args.seconds:g} s, tcpstated "
          f"and the floor side by side{', on one CPU' if args.pin else ''}, medians; "
          f"load average {load0} at start, {load1} at end\n")
    print_table(summary)
    full = [s for s in summary if s["namespaces"] and s["ratio"] is not None and
            s["poll_interval_ms"] == s["interval_ms"]]
    if full:
        worst = max(full, key=lambda s: s["ratio"])
        print(f"\nat full cadence, the highest ratio to the floors' sum: {worst['ratio']:.2f} "
              f"({worst['mode']}, {worst['interval_ms']} ms; target {RATIO_TARGET})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"started": started.isoformat(), "load": [load0, load1],
                       "args": {k: v for k, v in vars(args).items() if k != "arm_ns"},
                       "rows": rows}, f, indent=1, default=str)
    for p in problems:
        print(f"bench/netns_bench.py: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
