#!/usr/bin/env python3
"""[poll] netns = all: every network namespace of the host, found, named, followed.

Twenty namespaces (`ip netns` names, each with a private established hash)
hold connections in known states: a listener and an established pair in each,
and in some a half-closed pair (FIN_WAIT2 and CLOSE_WAIT) or a TIME_WAIT. A
daemon started with netns = all (JSON; a second one in text) must write each
socket's initial record with its namespace's `ip netns` name and inode, and no
socket under another namespace. A listener in the host's namespace carries the
name "host". Then, with the daemon running: a namespace added is watched within
2 s of its `ip netns add`, and a namespace deleted (the process inside it
killed, its file removed) ends every socket it held with S -> NONE how "netns",
and the daemon says it vanished. Namespaces without an `ip netns` name are
named after the unit of their process's cgroup, else ino-INODE, and one that
loses its name while watched is renamed. Last, a reload from all to a list of
two namespaces stops watching the third.

The daemon watches the whole host, so it also logs the host's sockets and other
tests' namespaces, which come and go while this runs: every check looks only at
this test's sockets and namespaces (by cookie and by inode). Their sockets
could fill the log (a benchmark's namespace holds thousands), so the daemons
watch the test's two ports only ([filter] ports): servers listen on PORT in
every namespace, and MARK is for markers. The daemon runs in the test's own
namespace, which is the host's: that is where "host" can be checked, and what
a production daemon does.

Run by hand: see README.md in this directory.
"""

import datetime
import os
import re
import signal
import socket
import subprocess
import sys
import time

from tcpstate_testlib import (NETNS_DIR, Daemon, Endpoint, Netns, accept, cgroup2_root,
                              check, check_equal, check_sequences, connect, exchange,
                              fail, listener, main, show, strip_ts, wait_until)

SPACES = 20      # namespaces made before the start
INTERVAL = 100   # ms, the daemons' poll interval (the default)
ADDED_MAX = 2.0  # seconds from `ip netns add` to the first record (issue 16)
ENDED_MAX = 4.0  # seconds from `ip netns delete` to the end records: two
                 # rescans of 1000 ms in a row must miss it, then a tick
NETNS_ALL = "netns = all\n"


def config(port, mark):
    """The daemon's [poll] keys and its filter: the test's ports only."""
    return f"{NETNS_ALL}\n[filter]\nports = {port} {mark}\n"


def host_port():
    """A listener on the host's loopback, on a port free there: its port
    serves in every namespace of the test. Returns (socket, port, mark)."""
    s = listener(socket.AF_INET)
    port = s.getsockname()[1]
    return s, port, port + 1 if port < 65535 else port - 1  # port - 2 is free for others


def sync(d, sp, mark):
    """Returns once D has finished two more polls of SP (Daemon.sync() in
    SP, on port MARK): a listener there logged, closed, logged gone. Its
    cookie goes to d.markers, which check_space() leaves out."""
    with sp.ns.inside():
        s = listener(socket.AF_INET, port=mark)
    ep = Endpoint(s)
    d.markers.add(ep.cookie)
    d.wait_transition(ep, "NONE", "LISTEN")
    s.close()
    d.wait_transition(ep, "LISTEN", "NONE")


def wall(r):
    """The record's ts as seconds since the epoch."""
    ts = datetime.datetime.strptime(r["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
    return ts.replace(tzinfo=datetime.timezone.utc).timestamp()


class Space:
    """A namespace of the test and the sockets it holds: Endpoints with the
    state each must be logged in (and whether the kernel reports its uid and
    inode there), and the Python sockets that keep them."""

    def __init__(self, ns, name=None, ino=None):
        self.ns = ns  # a Netns, or None for the host's
        self.name = name or ns.name
        self.ino = ino or os.stat(f"{NETNS_DIR}/{ns.name}").st_ino
        self.held = []  # (Endpoint, state, full socket)
        self.socks = []

    def hold(self, ep, state, full=True):
        self.held.append((ep, state, full))

    def cookies(self):
        return {ep.cookie for ep, _, _ in self.held}

    def record(self, ep, frm, to, how, full):
        r = ep.record(frm, to, how=how, uid=full, inode=full)
        r.update(netns=self.name, netns_ino=self.ino)
        return r

    def initial(self, how="initial"):
        """{cookie: the record of that socket found in its state}."""
        return {ep.cookie: self.record(ep, "NONE", state, how, full)
                for ep, state, full in self.held}

    def close(self):
        for s in self.socks:
            s.close()
        self.socks = []


def populate(sp, i, port, kinds=None):
    """Opens SP's sockets from inside it: a listener on PORT and an established pair,
    plus what KINDS names ("half": FIN_WAIT2 and CLOSE_WAIT, "tw": a
    TIME_WAIT), by default one of them for two namespaces in three. IPv6 in
    every other namespace."""
    fam = socket.AF_INET6 if i % 2 else socket.AF_INET
    addr = "::1" if i % 2 else "127.0.0.1"
    if kinds is None:
        kinds = {1: ("half",), 2: ("tw",)}.get(i % 3, ())
    with sp.ns.inside():
        srv = listener(fam, port=port)
        sp.socks.append(srv)
        sp.hold(Endpoint(srv), "LISTEN")
        c = connect(fam, addr, port)
        a = accept(srv)
        sp.socks += [c, a]
        exchange(c, a)
        sp.hold(Endpoint(c), "ESTABLISHED")
        sp.hold(Endpoint(a), "ESTABLISHED")
        for kind in kinds:
            c = connect(fam, addr, port)
            a = accept(srv)
            exchange(c, a)
            cli, srv_ep = Endpoint(c), Endpoint(a)
            # The client closes: orphaned, its FIN_WAIT2 is a timewait
            # minisocket (60 s in the namespace), with no uid and no inode.
            c.close()
            sp.ns.wait_ss(cli, "FIN-WAIT-2")
            sp.ns.wait_ss(srv_ep, "CLOSE-WAIT")
            if kind == "half":
                sp.socks.append(a)
                sp.hold(cli, "FIN_WAIT2", full=False)
                sp.hold(srv_ep, "CLOSE_WAIT")
            else:
                a.close()
                sp.ns.wait_ss(cli, "TIME-WAIT")
                sp.ns.wait_ss(srv_ep, None)
                sp.hold(cli, "TIME_WAIT", full=False)


def host_ino():
    """The namespace the daemon calls the host's: process 1's, or, where that
    cannot be read (a sandbox that keeps process 1 from us), the daemon's own,
    which is ours (see scan_proc() in src/nsscan.c)."""
    try:
        return os.stat("/proc/1/ns/net").st_ino
    except PermissionError:
        return os.stat("/proc/self/ns/net").st_ino


def host_name(ino):
    """The name the daemon gives the host's namespace: an `ip netns` name if
    one pins it (the first in byte order), else "host"."""
    names = []
    for n in os.listdir(NETNS_DIR):
        try:
            if os.stat(f"{NETNS_DIR}/{n}").st_ino == ino:
                names.append(n)
        except OSError:
            pass  # another test's, gone meanwhile
    return min(names) if names else "host"


def of(records, cookies):
    return [r for r in records if r["cookie"] in cookies]


def check_space(d, sp, expected, how=None, by_ino=True):
    """The log of D holds exactly EXPECTED ({cookie: [records]}, ts and the
    connection's keys left out) for SP's sockets, and no other socket under
    SP's inode (unless SP is the host's, which holds others' sockets too).
    HOW, when given, is a set of values the first record's how may take
    instead of the one expected. D's markers are left out. BY_INO false
    looks at SP's sockets only: once SP is gone, its inode may be another
    test's namespace's."""
    recs = d.records()
    mine = [r for r in recs if r["cookie"] in expected
            or (by_ino and sp.ns and r.get("netns_ino") == sp.ino
                and r["cookie"] not in d.markers)]
    problems = []
    for c, want in expected.items():
        got = [strip_ts(r) for r in mine if r["cookie"] == c]
        if how and got and got[0]["how"] in how:
            want = [dict(want[0], how=got[0]["how"])] + want[1:]
        if got != want:
            problems.append(f"  cookie {c}: expected\n{show(want)}\n  actual\n{show(got)}")
    extra = [r for r in mine if r["cookie"] not in expected]
    if extra:
        problems.append(f"  records of sockets the test did not make in {sp.name}:\n"
                        f"{show(extra)}")
    if problems:
        fail_log(d, f"namespace {sp.name} (inode {sp.ino}):\n" + "\n".join(problems))
    check_sequences(of(recs, set(expected)))


def fail_log(d, msg):
    fail(f"{msg}\n  stderr:\n{d.stderr()}")


def wait_cookies(d, cookies, to=None, what="records", timeout=10):
    """Waits until D has logged every cookie of COOKIES (going to TO, when given)."""
    d.wait_log(lambda recs: cookies <= {r["cookie"] for r in recs
                                        if to is None or r["to"] == to},
               f"{what} of {len(cookies)} sockets", timeout)


def check_no_spurious(d, prefix):
    """The daemon said nothing against a namespace of this test: no refusal
    of one caught while `ip netns add` was still making it."""
    bad = [l for l in d.stderr().splitlines() if prefix in l and "cannot" in l]
    check(not bad, "warnings about this test's namespaces:\n" + "\n".join(bad))


def make_spaces(n, port, last=None):
    """N namespaces populated (populate()), the last one with the kinds LAST."""
    spaces = []
    for i in range(n):
        sp = Space(Netns())
        populate(sp, i, port, last if i == n - 1 else None)
        spaces.append(sp)
    return spaces


def test_every_namespace():
    prefix = f"tcpst-{os.getpid()}-"
    # A listener in the host's namespace, where the test and the daemon run.
    srv, port, mark = host_port()
    hino = host_ino()
    host = Space(None, host_name(hino), hino)
    host.socks.append(srv)
    if os.stat("/proc/self/ns/net").st_ino == hino:
        host.hold(Endpoint(srv), "LISTEN")
    else:
        print("  (the test does not run in the host's namespace: no host listener)")
    t0 = time.monotonic()
    # The last, to be deleted, holds every kind, and a process: it is pinned
    # by its file and found through /proc as well.
    spaces = make_spaces(SPACES, port, last=("half", "tw"))
    doomed = spaces[-1]
    with doomed.ns.inside():
        sleeper = subprocess.Popen(["sleep", "120"])
    print(f"  {SPACES} namespaces with {sum(len(sp.held) for sp in spaces)} "
          f"sockets made in {time.monotonic() - t0:.1f} s")
    try:
        d = Daemon(spaces[0].ns, interval_ms=INTERVAL, destroy_events=True,
                   config=config(port, mark))
        dt = Daemon(spaces[0].ns, fmt="text", interval_ms=INTERVAL, config=config(port, mark))
        everyone = spaces + [host]
        for daemon in (d, dt):
            wait_cookies(daemon, set().union(*(sp.cookies() for sp in everyone)),
                         what=f"initial {daemon.fmt} records")
        for daemon in (d, dt):
            for sp in everyone:
                check_space(daemon, sp, {c: [r] for c, r in sp.initial().items()})
        check_text_layout(dt, spaces[1])
        dt.stop(within=2.0)
        added = check_added(d, port, mark)
        check_deleted(d, doomed, sleeper, spaces[0], mark)
        # Nothing else happened to the sockets of the others, which hold
        # their states: one record each, still.
        sync(d, spaces[0], mark)
        for sp in spaces[:-1] + [host]:
            check_space(d, sp, {c: [r] for c, r in sp.initial().items()})
        check_space(d, added, {c: [r] for c, r in added.initial().items()},
                    how={"initial", "poll"})
        check_no_spurious(d, prefix)
        for line in d.stderr().splitlines():
            if "netns_budget" in line:
                print(f"  daemon: {line}")
        d.stop(within=2.0)
    finally:
        sleeper.kill()
        sleeper.wait()
        for sp in spaces + [host]:
            sp.close()


def check_text_layout(dt, sp):
    """In text, netns= and netns_ino= come after ino= and before unit= (the
    layout parse_text() checked on every line; here, that they are there)."""
    want = f" netns={sp.name} netns_ino={sp.ino}"
    ep = sp.held[0][0]
    lines = [l for l in dt.raw().decode().splitlines() if f" cookie={ep.cookie} " in l]
    check(len(lines) == 1 and f" ino={ep.inode}{want}" in lines[0]
          and (" unit=" not in lines[0] or lines[0].index(want) < lines[0].index(" unit=")),
          f"text record of {ep} in {sp.name}: expected one line with "
          f"'ino={ep.inode}{want}' before any unit=, got {lines}")


def check_added(d, port, mark):
    """A namespace made while the daemon runs, and a listener in it at once:
    its record within ADDED_MAX seconds of the start of `ip netns add`. A
    listener on a port the filter leaves out is not logged: the filter
    applies to a namespace found later too."""
    t0 = time.time()
    sp = Space(Netns())
    made = time.time()
    populate(sp, 1, port, kinds=())
    lst = sp.held[0][0]
    with sp.ns.inside():
        other = listener(socket.AF_INET6, port=port - 2)  # neither PORT nor MARK
    sp.socks.append(other)
    unwatched = Endpoint(other)
    first = d.wait_for(lambda r: r["cookie"] == lst.cookie,
                       f"the listener of namespace {sp.name}, added", timeout=10)
    took = wall(first) - t0
    # Other tests' namespaces may cost the daemon more than its CPU budget:
    # it then polls each namespace every K ticks, and says so. A namespace
    # found waits for its turn, up to K - 1 ticks more.
    spread = max([int(m) for m in re.findall(r"each is (?:now )?polled every (\d+) ms",
                                              d.stderr())] + [INTERVAL])
    bound = ADDED_MAX + (spread - INTERVAL) / 1000
    print(f"  namespace added: first record {took:.3f} s after `ip netns add` began "
          f"({made - t0:.3f} s to make the namespace, rescan 1000 ms, "
          f"each namespace polled every {spread} ms at most)")
    check(took <= bound, f"namespace {sp.name} was first logged {took:.3f} s after "
          f"it was added, expected at most {bound:g} s")
    wait_cookies(d, sp.cookies(), what=f"records in {sp.name}")
    sync(d, sp, mark)
    check_space(d, sp, {c: [r] for c, r in sp.initial().items()}, how={"initial", "poll"})
    check(unwatched.cookie not in {r["cookie"] for r in d.records()},
          f"{unwatched}, on a port [filter] leaves out, was logged")
    said = f"watching network namespace {sp.name} (inode {sp.ino}, {NETNS_DIR}/{sp.name})"
    check(said in d.stderr(), f"no {said!r} in the daemon's stderr:\n{d.stderr()}")
    return sp


def check_deleted(d, sp, sleeper, witness, mark):
    """SP's process killed, its file removed: every socket it still holds
    ends with S -> NONE, how netns, within ENDED_MAX seconds."""
    sleeper.kill()
    sleeper.wait()
    # The test's sockets keep the namespace itself alive (as the daemon's
    # own do), but nothing the daemon can find pins it any more.
    wait_until(lambda: not os.path.exists(f"/proc/{sleeper.pid}"), "the sleeper to go")
    sp.ns.close()
    gone = time.time()
    check(not os.path.exists(f"{NETNS_DIR}/{sp.name}"), f"{sp.name} is still there")
    wait_cookies(d, sp.cookies(), to="NONE", what=f"the ends in {sp.name}, deleted")
    recs = d.records()
    ends = [r for r in of(recs, sp.cookies()) if r["to"] == "NONE"]
    took = max(wall(r) for r in ends) - gone
    print(f"  namespace deleted: its {len(ends)} sockets ended {took:.3f} s after "
          "`ip netns delete`")
    expected = {}
    for ep, state, full in sp.held:
        expected[ep.cookie] = [sp.record(ep, "NONE", state, "initial", full),
                               sp.record(ep, state, "NONE", "netns", full)]
    check_space(d, sp, expected)
    check(took <= ENDED_MAX, f"namespace {sp.name} ended its sockets {took:.3f} s after "
          f"it was deleted, expected at most {ENDED_MAX:g} s")
    said = (f"network namespace {sp.name} (inode {sp.ino}) vanished: ended its "
            f"{len(sp.held)} sockets")
    check(said in d.stderr(), f"no {said!r} in the daemon's stderr:\n{d.stderr()}")
    # Closed now, the sockets are nobody's: no record follows their end.
    sp.close()
    sync(d, witness, mark)
    check_space(d, sp, expected, by_ino=False)


# A child that opens a listener on loopback port argv[1], prints it and waits.
CHILD = r"""
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
print(s.getsockname()[1], flush=True)
sys.stdin.read()
"""


def start_child(ns, port, cgroup=None):
    """A child process inside NS (in CGROUP, an absolute path, if given)
    holding a listener on PORT; returns (process, port)."""
    def enter():
        if cgroup:
            with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
    with ns.inside():
        p = subprocess.Popen([sys.executable, "-c", CHILD, str(port)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, preexec_fn=enter)
    return p, int(p.stdout.readline())


def listener_record(d, ino, port):
    """The record of the listener on PORT in the namespace of inode INO."""
    return d.wait_for(lambda r: r.get("netns_ino") == ino and r["lport"] == port
                      and r["to"] == "LISTEN", f"the listener on port {port} "
                      f"in the namespace of inode {ino}")


def test_unnamed_namespaces():
    """Namespaces without an `ip netns` name: one whose first process is in
    a cgroup of a systemd unit takes the unit's name (a container's scope or
    service), one whose process has none takes ino-INODE; and a namespace
    whose name is removed while watched is renamed, its new sockets logged
    under the new name. In text, netns= comes before unit=."""
    unit = f"tcpst-{os.getpid()}-netns.service"
    srv, port, mark = host_port()
    srv.close()  # only the port is wanted, in the test's namespaces
    root = cgroup2_root()
    if root is None:  # as test_attribution.py, which skips then
        print("  not run: no cgroup2 file system at /sys/fs/cgroup or /sys/fs/cgroup/unified")
        return
    # The test's own cgroup may be a unit's (a CI job's service): the others
    # go to a cgroup of no unit.
    cgroups = [os.path.join(root, unit), os.path.join(root, f"tcpst-{os.getpid()}-plain")]
    children = []
    try:
        for cg in cgroups:
            os.mkdir(cg)
        named, plain, renamed = Netns(), Netns(), Netns()
        for ns, cg in ((named, cgroups[0]), (plain, cgroups[1]), (renamed, cgroups[1])):
            children.append(start_child(ns, port, cg))
        named.unname()
        plain.unname()
        inos = [os.stat(f"/proc/{p.pid}/ns/net").st_ino for p, _ in children]
        d = Daemon(named, fmt="text", interval_ms=INTERVAL, config=config(port, mark))
        want = ((unit, unit), (f"ino-{inos[1]}", None), (renamed.name, None))
        for (p, lport), ino, (name, u) in zip(children, inos, want):
            r = listener_record(d, ino, lport)
            check(r["netns"] == name and r.get("unit") == u and r["how"] == "initial",
                  f"the listener in the namespace of inode {ino}: expected netns "
                  f"{name!r}, unit {u!r}, how initial:\n{show([r])}\n{d.describe()}")
            line = next(l for l in d.raw().decode().splitlines()
                        if f" cookie={r['cookie']} " in l)
            tail = f" netns={name} netns_ino={ino}" + (f" unit={u}" if u else "")
            check(line.endswith(tail), f"text record {line!r} does not end in {tail!r}")
        renamed.unname()
        ino = inos[2]
        said = f"network namespace {renamed.name} (inode {ino}) is now named ino-{ino}"
        wait_until(lambda: said in d.stderr(), repr(said), on_timeout=d.stderr)
        with renamed.inside():
            s = listener(socket.AF_INET, port=mark)
        late = Endpoint(s)
        r = d.wait_transition(late, "NONE", "LISTEN")
        check_equal((r["netns"], r["netns_ino"]), (f"ino-{ino}", ino),
                    f"the namespace of a listener made after {renamed.name} lost its name")
        s.close()
        d.stop()
    finally:
        for p, _ in children:
            p.kill()
            p.wait()
        for cg in cgroups:
            for _ in range(100):
                try:
                    os.rmdir(cg)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)  # its last process is still exiting


def test_reload_to_list():
    """A reload from all to a list of two names: the other namespace is no
    longer watched. What it held is ended (the log must not leave those
    connections open forever), its new sockets are not logged, and the two
    kept go on as before: no record ends their sockets."""
    srv, port, mark = host_port()
    srv.close()  # only the port is wanted, in the test's namespaces
    spaces = make_spaces(3, port)
    kept, dropped = spaces[:2], spaces[2]
    try:
        d = Daemon(spaces[0].ns, interval_ms=INTERVAL, config=config(port, mark))
        wait_cookies(d, set().union(*(sp.cookies() for sp in spaces)),
                     what="initial records")
        with open(d.config) as f:
            text = f.read()
        with open(d.config, "w") as f:
            f.write(text.replace(NETNS_ALL, f"netns = {kept[0].name} {kept[1].name}\n"))
        d.proc.send_signal(signal.SIGHUP)
        said = f"network namespaces {kept[0].name} {kept[1].name} ("
        wait_until(lambda: said in d.stderr(), f"the reload to say {said!r}",
                   on_timeout=d.stderr)
        wait_cookies(d, dropped.cookies(), to="NONE", what=f"the ends in {dropped.name}")
        t_end = time.monotonic()
        ends = [r for r in of(d.records(), dropped.cookies()) if r["to"] == "NONE"]
        print(f"  reloaded: {dropped.name} no longer watched, its sockets ended with "
              f"how {sorted({r['how'] for r in ends})}")
        tag = f"network namespace {dropped.name} (inode {dropped.ino})"
        check(tag in d.stderr(), f"no message about {tag}:\n{d.stderr()}")
        # A new socket in each: only the kept one's is logged, also after
        # two more searches (which would find the dropped one again).
        late = {}
        for sp in (kept[0], dropped):
            with sp.ns.inside():
                s = listener(socket.AF_INET, port=mark)
            sp.socks.append(s)
            late[sp.name] = Endpoint(s)
        d.wait_transition(late[kept[0].name], "NONE", "LISTEN")
        while time.monotonic() < t_end + 2.5:
            sync(d, kept[1], mark)
        recs = d.records()
        check(not of(recs, {late[dropped.name].cookie}),
              f"a listener made in {dropped.name} after it was dropped was logged:\n"
              f"{show(of(recs, {late[dropped.name].cookie}))}")
        check(f"watching {tag}" not in d.stderr().partition(said)[2],
              f"{dropped.name} was watched again after the reload:\n{d.stderr()}")
        for sp in kept:
            want = {c: [r] for c, r in sp.initial().items()}
            if sp.name in late:
                want[late[sp.name].cookie] = [sp.record(late[sp.name], "NONE", "LISTEN",
                                                        "poll", True)]
            check_space(d, sp, want)
        d.stop()
    finally:
        for sp in spaces:
            sp.close()


if __name__ == "__main__":
    main([test_every_namespace, test_unnamed_namespaces, test_reload_to_list])
