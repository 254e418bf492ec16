#!/usr/bin/env python3
"""tcpstatectl against jq and grep over the same JSON log, side by side.

A log of RECORDS records in the daemon's exact format (bench/ctl_gen.c,
through record.c) with OPEN connections open at once is written to a
temporary directory and read once into the page cache. Then, ROUNDS times
in turn, each of:

  tcpstatectl list --port P -f LOG -o json      (the tool)
  jq -c 'select(.lport == P or .rport == P)' LOG (the general JSON tool)
  grep -cF -e '"lport":P,' -e '"rport":P,' LOG   (the read floor)

with its wall time and peak RSS (wait4); the best round of each counts.
The issue's targets: tcpstatectl at least 10x faster than jq and within 4x
of grep; its peak RSS, assembling every connection of the log
(tcpstatectl stats, no filter), at most 64 MiB with OPEN = 50,000.

The tool's answer is checked: as many connections as the generator made on
port P. jq is Debian's package (apt-get install jq); without it, its column
is left out. Peak RSS comes from GNU time (apt-get install time).

  bench/ctl_bench.py [--build DIR] [--records N] [--open N] [--rounds N] [--smoke]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PORTS = 100        # service ports: --port 10000 selects 1 connection in 100
PORT = 10000
RSS_LIMIT_MIB = 64


def run(argv, stdout=subprocess.PIPE):
    """Runs ARGV; returns (seconds, peak RSS in MiB, stdout bytes or None).
    The peak RSS is the one GNU time reports (package time): the wait4()
    of a child forked from this Python process would count Python's own
    pages, which the child had until it called exec."""
    rss_file = tempfile.NamedTemporaryFile(prefix="ctl-bench-rss-")
    timer = ["/usr/bin/time", "-q", "-f", "%M", "-o", rss_file.name] \
        if os.access("/usr/bin/time", os.X_OK) else []
    t0 = time.monotonic()
    p = subprocess.run(timer + argv, stdout=stdout, stderr=subprocess.PIPE)
    elapsed = time.monotonic() - t0
    # grep -c exits 1 when it counts 0.
    if p.returncode not in (0, 1):
        sys.exit(f"{argv[0]} exited {p.returncode}: {p.stderr.decode()[-2000:]}")
    rss = float(rss_file.read().decode().split()[-1]) / 1024 if timer else float("nan")
    rss_file.close()
    return elapsed, rss, p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(SOURCE, "build"))
    ap.add_argument("--records", type=int, default=5_000_000)
    ap.add_argument("--open", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--smoke", action="store_true",
                    help="a tiny log, one round: that the script still works")
    args = ap.parse_args()
    if args.smoke:
        args.records, args.open, args.rounds = 20_000, 500, 1
    ctl = os.path.join(args.build, "tcpstatectl")
    gen = os.path.join(args.build, "tcpstate-ctl-gen")
    for exe in (ctl, gen):
        if not os.access(exe, os.X_OK):
            sys.exit(f"{exe} not found: build first (cmake --build {args.build})")
    jq = shutil.which("jq")
    tmp = tempfile.mkdtemp(prefix="ctl-bench-")
    try:
        bench(args, ctl, gen, jq, os.path.join(tmp, "transitions.log"))
    finally:
        shutil.rmtree(tmp)


def bench(args, ctl, gen, jq, log):
    with open(log, "wb") as f:
        p = subprocess.run([gen, str(args.records), str(args.open), str(PORTS), "json"],
                           stdout=f, stderr=subprocess.PIPE, check=True)
    size = os.path.getsize(log)
    with open(log, "rb") as f:  # into the page cache
        while f.read(1 << 24):
            pass
    print(f"log: {p.stderr.decode().strip()}, {size / 2**20:.0f} MiB")
    tools = {
        "tcpstatectl": [ctl, "list", "--port", str(PORT), "-f", log, "-o", "json"],
        "grep -c": ["grep", "-cF", "-e", f'"lport":{PORT},', "-e", f'"rport":{PORT},', log],
    }
    if jq:
        tools["jq"] = [jq, "-c", f"select(.lport == {PORT} or .rport == {PORT})", log]
    else:
        print("jq not found (apt-get install jq): its column is left out")
    best = {}
    for _ in range(args.rounds):
        for name, argv in tools.items():
            # Output to a pipe, never /dev/null: GNU grep stops at the first
            # match when its output is /dev/null.
            t, rss, out = run(argv, subprocess.PIPE)
            if name == "tcpstatectl":
                check_answer(out, args)
            if name not in best or t < best[name][0]:
                best[name] = (t, rss)
    t_rss, rss_all, _ = run([ctl, "stats", "-f", log, "-o", "json"])
    report(args, best, rss_all, t_rss)


def check_answer(out, args):
    """As many connections on PORT as the generator made there."""
    conns = [json.loads(line) for line in out.splitlines()]
    made = sum(1 for i in range(connections_made(args)) if i % PORTS == PORT - 10000)
    if len(conns) != made or any(c["rport"] != PORT for c in conns):
        sys.exit(f"tcpstatectl listed {len(conns)} connections on port {PORT}, "
                 f"the log has {made}")


def connections_made(args):
    """The generator's count: two records for each of the first OPEN
    connections, seven (its own close and the next one's open) after."""
    n = records = 0
    while records + 7 <= args.records:
        records += 2 if n < args.open else 7
        n += 1
    return n


def report(args, best, rss_all, t_all):
    ctl_t, ctl_rss = best["tcpstatectl"]
    grep_t = best["grep -c"][0]
    print(f"{'tool':<12} {'seconds':>8} {'peak RSS':>9}")
    for name, (t, rss) in best.items():
        print(f"{name:<12} {t:8.2f} {rss:7.1f}Mi")
    print(f"tcpstatectl / grep -c: {ctl_t / grep_t:.2f}x (target: at most 4x)")
    if "jq" in best:
        print(f"jq / tcpstatectl: {best['jq'][0] / ctl_t:.1f}x (target: at least 10x)")
    print(f"tcpstatectl stats over all {args.open} open at once: {t_all:.2f} s, "
          f"peak RSS {rss_all:.1f} MiB (target: at most {RSS_LIMIT_MIB} MiB)")
    if rss_all > RSS_LIMIT_MIB:
        sys.exit("peak RSS over the target")


if __name__ == "__main__":
    main()
