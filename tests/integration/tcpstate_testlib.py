"""Harness for tcpstated's integration tests.

Every test gets a private network namespace (Netns), starts the real daemon
inside it (Daemon), drives real TCP connections over loopback and compares the
records the daemon wrote with the records it should have written. Transient
TCP states are held with nftables rules (nft_drop) until the daemon has logged
them, so that the expected records are exact.

The test process itself moves into the namespace (setns) for the duration of a
test: the sockets it opens, the daemon it starts and the ip, nft and ss
commands it runs all live there. Only loopback addresses are ever used.

Python 3 standard library only.
"""

import atexit
import contextlib
import ctypes
import datetime
import errno
import json
import os
import re
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

SKIP = 77         # ctest's SKIP_RETURN_CODE
TIMEOUT = 10.0    # seconds to wait for any one condition
INTERVAL_MS = 20  # the daemon's poll interval in the tests
NETNS_DIR = "/run/netns"
SO_COOKIE = 57    # not in Python's socket module
_STARTED = time.time()

# The keys of a JSON record, in the order docs/record-format.md gives them.
JSON_KEYS = ["ts", "family", "laddr", "lport", "raddr", "rport", "from", "to",
             "how", "cookie", "in_state_us", "role", "peer", "uid", "inode",
             "cgroup", "unit", "pid", "comm", "netns", "netns_ino"]
# What is remembered of the connection: check_exact() and strip_ts() leave
# them out; test_story.py checks them on every record.
CONN_KEYS = ("in_state_us", "role", "peer", "outcome", "closer")
# Who owns the socket: looked up by the daemon, not reported by the kernel.
# check_exact() leaves them out; test_attribution.py checks them.
OWNER_KEYS = ("cgroup", "unit", "pid", "comm")
# The keys of a JSON summary record, in order; the figures may be missing.
SUMMARY_KEYS = ["ts", "kind", "family", "laddr", "lport", "raddr", "rport",
                "cookie", "lifetime_us", "bytes_sent", "bytes_received",
                "retrans", "rtt_us", "outcome", "closer", "role", "peer", "uid",
                "inode", "cgroup", "unit", "pid", "comm", "netns", "netns_ino"]
SUMMARY_INTS = ("lifetime_us", "bytes_sent", "bytes_received", "retrans",
                "rtt_us", "peer", "uid", "inode", "pid", "netns_ino")
STATES = {"NONE", "LISTEN", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT1",
          "FIN_WAIT2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT", "CLOSE"}


# ---------------------------------------------------------------------------
# Assertions

class TestFailure(Exception):
    """An assertion did not hold; the message says what and why."""


def fail(msg):
    raise TestFailure(msg)


def check(cond, msg):
    if not cond:
        fail(msg)


def check_equal(actual, expected, what):
    if actual != expected:
        fail(f"{what}:\n  expected: {expected!r}\n  actual:   {actual!r}")


def wait_until(cond, what, timeout=TIMEOUT, on_timeout=None):
    """Calls COND every few milliseconds until it returns a true value, and
    returns that. Fails after TIMEOUT seconds, saying WHAT was awaited, with
    ON_TIMEOUT() appended when given."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = "\n" + on_timeout() if on_timeout else ""
            fail(f"timed out after {timeout:g} s waiting for {what}{extra}")
        time.sleep(0.01)


def run(cmd, input=None, timeout=30):
    """Runs CMD (a list) in the current namespace; returns its stdout."""
    p = subprocess.run(cmd, input=input, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=timeout)
    if p.returncode != 0:
        fail(f"command failed with status {p.returncode}: {' '.join(cmd)}\n"
             f"{p.stderr}")
    return p.stdout


# ---------------------------------------------------------------------------
# Network namespaces

def _setns(fd):
    if hasattr(os, "setns"):  # Python 3.12 and later
        os.setns(fd, os.CLONE_NEWNET)
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


_host_ns = None    # an fd of the namespace the process started in
_live_netns = []   # namespaces to delete, whatever happens


def _cleanup_all():
    for d in list(Daemon.instances):
        d.kill()
        shutil.rmtree(d.dir, ignore_errors=True)
    Daemon.instances.clear()
    for ns in list(_live_netns):
        ns.close()


atexit.register(_cleanup_all)


def _remove_stale_netns():
    """Deletes namespaces that earlier runs, killed outright, left behind:
    tcpst-PID-... whose PID is gone."""
    with contextlib.suppress(FileNotFoundError):
        for name in os.listdir(NETNS_DIR):
            m = re.fullmatch(r"tcpst-(\d+)-.*", name)
            if m and not os.path.exists(f"/proc/{m.group(1)}"):
                subprocess.run(["ip", "netns", "delete", name],
                               stderr=subprocess.DEVNULL)


class Netns:
    """A private network namespace with a TCP established hash of its own, lo
    up, and an nftables chain for nft_drop(). As a context manager the test
    process lives inside it for the with block; the namespace is deleted on
    the way out, and at exit whatever happens."""

    _count = 0

    def __init__(self):
        global _host_ns
        if _host_ns is None:
            _host_ns = os.open("/proc/self/ns/net", os.O_RDONLY)
        Netns._count += 1
        self.name = f"tcpst-{os.getpid()}-{Netns._count}"
        self.fd = None
        _live_netns.append(self)
        # All namespaces share the kernel's established hash unless they are
        # created from a namespace whose tcp_child_ehash_entries is set, and a
        # shared hash would let other namespaces' sockets slow our dumps. So:
        # a parent namespace with that sysctl, the test namespace created from
        # inside it, then the parent goes (the child keeps its table). nsenter
        # rather than "ip netns exec", whose private mount namespace would
        # keep the child's /run/netns entry from us. The host namespace's
        # sysctls are never touched.
        parent = self.name + "-parent"
        try:
            run(["ip", "netns", "add", parent])
            run(["ip", "netns", "exec", parent, "sysctl", "-q", "-w",
                 "net.ipv4.tcp_child_ehash_entries=1024"])
            run(["nsenter", f"--net={NETNS_DIR}/{parent}",
                 "ip", "netns", "add", self.name])
        finally:
            subprocess.run(["ip", "netns", "delete", parent],
                           stderr=subprocess.DEVNULL)
        self.fd = os.open(f"{NETNS_DIR}/{self.name}", os.O_RDONLY)
        # A namespace that owns its table reports the table's size; one that
        # shares the host's reports minus the host's size.
        ehash = self.sysctl("net.ipv4.tcp_ehash_entries")
        check(ehash == "1024",
              f"namespace {self.name} has no private established hash: "
              f"net.ipv4.tcp_ehash_entries is {ehash}, expected 1024")
        # A new namespace starts from the kernel's defaults, not the host's
        # settings; pin the ones the tests rely on all the same: orphaned
        # FIN_WAIT2 and TIME_WAIT last 60 s, and no SYN cookies.
        self.sysctl("net.ipv4.tcp_fin_timeout", "60")
        self.sysctl("net.ipv4.tcp_syncookies", "0")
        with self.inside():
            run(["ip", "link", "set", "lo", "up"])
            run(["nft", "-f", "-"], input=(
                "add table inet tcpst\n"
                "add chain inet tcpst input { type filter hook input "
                "priority 0; policy accept; }\n"))

    @contextlib.contextmanager
    def inside(self):
        """Runs a with block inside the namespace, then returns."""
        old = os.open("/proc/self/ns/net", os.O_RDONLY)
        try:
            _setns(self.fd)
            yield self
        finally:
            _setns(old)
            os.close(old)

    def __enter__(self):
        _setns(self.fd)
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        for d in Daemon.instances:
            if d.ns is self:
                d.kill()
        if self in _live_netns:
            _live_netns.remove(self)
        _setns(_host_ns)
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        subprocess.run(["ip", "netns", "delete", self.name],
                       stderr=subprocess.DEVNULL)

    def unname(self):
        """Removes the namespace's `ip netns` name (its file in /run/netns),
        as a container runtime leaves a namespace: it lives on while a
        process is inside it, and while self.fd is open, so inside() still
        works. close() ends it as ever."""
        run(["ip", "netns", "delete", self.name])

    def sysctl(self, key, value=None):
        # /proc/sys/net shows the namespace of the task that opens it.
        path = "/proc/sys/" + key.replace(".", "/")
        with self.inside():
            if value is None:
                with open(path) as f:
                    return f.read().strip()
            with open(path, "w") as f:
                f.write(value)
        return value

    def ss(self):
        """`ss -tanoe` in the namespace, for failure messages."""
        with self.inside():
            p = subprocess.run(["ss", "-tanoe"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
            return p.stdout

    def sockets(self):
        """The namespace's TCP sockets as `ss -tan` shows them: a list of
        (state, local, peer), e.g. ("TIME-WAIT", "127.0.0.1:41000", ...)."""
        with self.inside():
            out = run(["ss", "-tanH"])
        return [tuple(line.split()[i] for i in (0, 3, 4))
                for line in out.splitlines() if line.strip()]

    def wait_ss(self, ep, state):
        """Waits until ss shows the socket of endpoint EP in STATE (ss's
        spelling, e.g. "TIME-WAIT"), or shows no such socket if STATE is
        None."""
        local = _ss_addr(ep.laddr, ep.lport)
        peer = _ss_addr(ep.raddr, ep.rport)
        want = [state] if state else []
        wait_until(lambda: [s for s, l, p in self.sockets()
                            if l == local and p == peer] == want,
                   f"ss to show {local} -> {peer} "
                   + (f"in {state}" if state else "gone"), on_timeout=self.ss)

    def nft(self, *args):
        with self.inside():
            return run(["nft", *args])


def cgroup2_root():
    """Where the cgroup2 hierarchy is mounted (a unified or a hybrid host),
    or None."""
    with open("/proc/mounts") as f:
        for line in f:
            dev, mnt, fstype = line.split()[:3]
            if fstype == "cgroup2" and mnt in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
                return mnt
    return None


def _ss_addr(addr, port):
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


@contextlib.contextmanager
def nft_drop(ns, match):
    """Drops, for a with block, every TCP segment in NS that matches the nft
    expression MATCH (e.g. "tcp sport 8080") when it arrives at its receiver.
    Dropped in the input hook, a segment is as good as lost on the wire: its
    sender believes it went out and retransmits it on its own timer."""
    out = ns.nft("--echo", "--handle", "add", "rule", "inet", "tcpst", "input",
                 *match.split(), "counter", "drop")
    m = re.search(r"# handle (\d+)", out)
    check(m, f"nft printed no rule handle for {match!r}: {out!r}")
    try:
        yield
    finally:
        ns.nft("delete", "rule", "inet", "tcpst", "input", "handle", m.group(1))


# ---------------------------------------------------------------------------
# Sockets

def cookie(s):
    """The kernel's cookie for socket S (SO_COOKIE)."""
    return struct.unpack("Q", s.getsockopt(socket.SOL_SOCKET, SO_COOKIE, 8))[0]


def inode(s):
    return os.fstat(s.fileno()).st_ino


def loopback(family):
    return "127.0.0.1" if family == socket.AF_INET else "::1"


def listener(family, addr=None, port=0, v6only=None, backlog=128):
    """A TCP socket listening on ADDR:PORT (loopback, any port by default)."""
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(v6only))
    s.bind((addr or loopback(family), port))
    s.listen(backlog)
    return s


def connect_start(family, addr, port, bind_port=0):
    """A socket whose connect() to ADDR:PORT has been started, not awaited.
    BIND_PORT fixes the client's port (with SO_REUSEADDR)."""
    s = socket.socket(family, socket.SOCK_STREAM)
    if bind_port:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, bind_port))  # the destination is loopback: bind there
    s.setblocking(False)
    err = s.connect_ex((addr, port))
    check(err == errno.EINPROGRESS,
          f"connect to {addr} port {port}: {os.strerror(err)}, "
          "expected EINPROGRESS")
    return s


def connect_finish(s, timeout=TIMEOUT):
    """Waits for S's connect() to complete, then makes S blocking."""
    _, writable, _ = select.select([], [s], [], timeout)
    check(writable, f"connect did not complete within {timeout:g} s")
    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    check(err == 0, f"connect failed: {os.strerror(err)}")
    s.setblocking(True)
    s.settimeout(timeout)
    return s


def connect(family, addr, port, bind_port=0):
    return connect_finish(connect_start(family, addr, port, bind_port))


def accept(srv):
    srv.settimeout(TIMEOUT)
    a, _ = srv.accept()
    a.settimeout(TIMEOUT)
    return a


def exchange(client, server):
    """Sends a few bytes each way and reads them, so that neither side has
    unread data (close() with unread data sends RST instead of FIN)."""
    client.sendall(b"ping")
    check_equal(server.recv(16), b"ping", "bytes received by the server")
    server.sendall(b"pong")
    check_equal(client.recv(16), b"pong", "bytes received by the client")


def rst_close(s):
    """Closes S with SO_LINGER {1, 0}: the kernel sends RST, not FIN."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


class Endpoint:
    """What the daemon should report about one socket: family, 4-tuple,
    cookie, uid and inode, taken from the socket itself."""

    def __init__(self, s, peer=None):
        self.family = "ipv4" if s.family == socket.AF_INET else "ipv6"
        self.laddr, self.lport = s.getsockname()[:2]
        if peer is None:
            try:
                peer = s.getpeername()[:2]
            except OSError:  # a listener
                peer = ("0.0.0.0" if s.family == socket.AF_INET else "::", 0)
        self.raddr, self.rport = peer[:2]
        self.cookie = cookie(s)
        self.uid = os.geteuid()
        self.inode = inode(s)

    def record(self, frm, to, how="poll", uid=True, inode=True):
        """The record the daemon should write for this socket going from FRM
        to TO. UID and INODE say whether the kernel reports them for the
        socket as that dump shows it."""
        r = {"family": self.family, "laddr": self.laddr, "lport": self.lport,
             "raddr": self.raddr, "rport": self.rport, "from": frm, "to": to,
             "how": how, "cookie": self.cookie}
        if uid:
            r["uid"] = self.uid
        if inode:
            r["inode"] = self.inode
        return r

    def __repr__(self):
        return (f"{self.family} {self.laddr}:{self.lport} -> "
                f"{self.raddr}:{self.rport} cookie={self.cookie}")


# ---------------------------------------------------------------------------
# Records

_TS_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
_SUMMARY_TEXT_RE = re.compile(
    r"(?P<ts>\S+) (?P<family>\S+) (?P<laddr>\S+) +→ (?P<raddr>\S+) +"
    r"summary cookie=(?P<cookie>\d+)(?P<figures>( \w+=\S*)*)")
_TEXT_RE = re.compile(
    r"(?P<ts>\S+) (?P<family>\S+) (?P<laddr>\S+) +→ (?P<raddr>\S+) +"
    r"(?P<from>\S+) +→ (?P<to>\S+) +(?P<how>\S+) +cookie=(?P<cookie>\d+)"
    r"(?: in_state=(?P<in_state>\d+(?:us|\.\d{3}ms|\.\d{6}s)))?"
    r"(?: role=(?P<role>client|server))?(?: peer=(?P<peer>\d+))?"
    r"(?: uid=(?P<uid>\d+))?(?: ino=(?P<inode>\d+))?"
    r"(?: netns=(?P<netns>\S+) netns_ino=(?P<netns_ino>\d+))?"
    r"(?: unit=(?P<unit>\S+))?(?: pid=(?P<pid>\d+) comm=(?P<comm>\S*))?")


def duration_text(us):
    """The text format's compact duration of US microseconds."""
    if us < 1000:
        return f"{us}us"
    if us < 1000000:
        return f"{us // 1000}.{us % 1000:03d}ms"
    return f"{us // 1000000}.{us % 1000000:06d}s"


def _duration_us(text):
    if text.endswith("ms"):
        a, b = text[:-2].split(".")
        return int(a) * 1000 + int(b)
    if text.endswith("us"):
        return int(text[:-2])
    a, b = text[:-1].split(".")
    return int(a) * 1000000 + int(b)


def _text_escape(s):
    return "".join(f"\\x{ord(c):02x}" if ord(c) <= 32 or c in "\x7f\\" else c
                   for c in s)


def _text_unescape(s):
    return re.sub(r"\\x([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), s)


def _endpoint_text(addr, port, family, any_port=False):
    """A listener's peer (ANY_PORT) has port "*"; any other port 0 is "0"."""
    return (f"[{addr}]" if family == "ipv6" else addr) + \
        f":{'*' if any_port and not port else port}"


def _is_listener(r):
    return "LISTEN" in (r.get("from"), r.get("to"))


def format_text(r):
    """Record R as the text format should render it, columns and all."""
    line = (f"{r['ts']} {r['family']} "
            f"{_endpoint_text(r['laddr'], r['lport'], r['family']):<21} → "
            f"{_endpoint_text(r['raddr'], r['rport'], r['family'], _is_listener(r)):<21} "
            f"{r['from']:<11} → {r['to']:<11} {r['how']:<7} "
            f"cookie={r['cookie']}")
    return line + _about_text(r)


def _about_text(r):
    """The text of R's keys after its cookie (or its summary's figures)."""
    line = ""
    if "in_state_us" in r:
        line += f" in_state={duration_text(r['in_state_us'])}"
    for k in ("role", "peer", "uid"):
        if k in r:
            line += f" {k}={r[k]}"
    if "inode" in r:
        line += f" ino={r['inode']}"
    if "netns" in r:
        line += f" netns={_text_escape(r['netns'])} netns_ino={r['netns_ino']}"
    if "unit" in r:
        line += f" unit={_text_escape(r['unit'])}"
    if "pid" in r:
        line += f" pid={r['pid']} comm={_text_escape(r['comm'])}"
    return line


def _split_endpoint(text, family, line, any_port=False):
    """Address and port of TEXT; "*" is a port only where ANY_PORT (a
    listener's peer): every other port 0 must read "0", so grep finds it."""
    addr, _, port = text.rpartition(":")
    if family == "ipv6":
        check(addr.startswith("[") and addr.endswith("]"),
              f"IPv6 address without brackets in {line!r}")
        addr = addr[1:-1]
    check((any_port and port == "*") or port.isdigit(), f"bad port in {line!r}")
    return addr, 0 if port == "*" else int(port)


def _parse_summary_text(line):
    m = _SUMMARY_TEXT_RE.fullmatch(line)
    check(m, f"text summary does not parse: {line!r}")
    g = m.groupdict()
    r = {"ts": g["ts"], "kind": "summary", "family": g["family"]}
    r["laddr"], r["lport"] = _split_endpoint(g["laddr"], g["family"], line)
    r["raddr"], r["rport"] = _split_endpoint(g["raddr"], g["family"], line)
    r["cookie"] = int(g["cookie"])
    for kv in g["figures"].split():
        k, _, v = kv.partition("=")
        k = "inode" if k == "ino" else k
        r[k] = int(v) if k in SUMMARY_INTS else \
            _text_unescape(v) if k in ("unit", "comm", "netns") else v
    # The text puts netns= and netns_ino= before unit=, JSON last.
    for k in ("netns", "netns_ino"):
        if k in r:
            r[k] = r.pop(k)
    check_equal(list(r), [k for k in SUMMARY_KEYS if k in r],
                f"figures of {line!r} (unknown or out of order)")
    return r


def parse_text(line):
    """A text-format line as the dict its JSON record would be. Fails unless
    the line is laid out exactly as it should be."""
    if " summary cookie=" in line:
        return _parse_summary_text(line)
    m = _TEXT_RE.fullmatch(line)
    check(m, f"text record does not parse: {line!r}")
    g = m.groupdict()
    r = {"ts": g["ts"], "family": g["family"]}
    r["laddr"], r["lport"] = _split_endpoint(g["laddr"], g["family"], line)
    r["raddr"], r["rport"] = _split_endpoint(
        g["raddr"], g["family"], line, "LISTEN" in (g["from"], g["to"]))
    r.update({"from": g["from"], "to": g["to"], "how": g["how"],
              "cookie": int(g["cookie"])})
    if g["in_state"] is not None:
        r["in_state_us"] = _duration_us(g["in_state"])
    if g["role"] is not None:
        r["role"] = g["role"]
    if g["peer"] is not None:
        r["peer"] = int(g["peer"])
    if g["uid"] is not None:
        r["uid"] = int(g["uid"])
    if g["inode"] is not None:
        r["inode"] = int(g["inode"])
    if g["unit"] is not None:
        r["unit"] = _text_unescape(g["unit"])
    if g["pid"] is not None:
        r["pid"] = int(g["pid"])
        r["comm"] = _text_unescape(g["comm"])
    if g["netns"] is not None:
        r["netns"] = _text_unescape(g["netns"])
        r["netns_ino"] = int(g["netns_ino"])
    check_equal(line, format_text(r), "layout of a text record")
    return r


_LOSS_TEXT_RE = re.compile(
    r"(?P<ts>\S+) lost (?P<lost>\d+) records since=(?P<since>\S+) "
    r"until=(?P<until>\S+)")
LOSS_KEYS = ["ts", "kind", "lost", "since", "until"]


def parse_loss(line, fmt):
    """The loss record on LINE as a dict (JSON's keys), or None when LINE is
    not one. A line that claims to be one must be exactly right."""
    if fmt == "json":
        if '"kind":"lost"' not in line:
            return None
        r = json.loads(line)
        check_equal(list(r), LOSS_KEYS, f"keys of the loss record {line!r}")
        check_equal(r["kind"], "lost", f"kind of {line!r}")
    else:
        if " lost " not in line[:40]:
            return None
        m = _LOSS_TEXT_RE.fullmatch(line)
        check(m, f"text loss record does not parse: {line!r}")
        r = {"ts": m["ts"], "kind": "lost", "lost": int(m["lost"]),
             "since": m["since"], "until": m["until"]}
    for k in ("ts", "since", "until"):
        check(_TS_RE.fullmatch(r[k]), f"{k} is not RFC 3339 in {line!r}")
    check(type(r["lost"]) is int and r["lost"] > 0, f"bad count in {line!r}")
    check(r["since"] <= r["until"] <= r["ts"], f"times out of order in {line!r}")
    return r


def parse_json(line):
    """A JSON Lines record, with its keys checked and in order."""
    try:
        r = json.loads(line)
    except ValueError as e:
        fail(f"JSON record does not parse ({e}): {line!r}")
    check(isinstance(r, dict), f"JSON record is not an object: {line!r}")
    if "kind" in r:
        check_equal(r["kind"], "summary", f"kind of {line!r}")
        check_equal(list(r), [k for k in SUMMARY_KEYS if k in r],
                    f"keys of {line!r} (unknown or out of order)")
        missing = [k for k in SUMMARY_KEYS[:9] if k not in r]
        check(not missing, f"JSON summary lacks {missing}: {line!r}")
        return r
    check_equal(list(r), [k for k in JSON_KEYS if k in r],
                f"keys of {line!r} (unknown or out of order)")
    missing = [k for k in JSON_KEYS[:10] if k not in r]
    check(not missing, f"JSON record lacks {missing}: {line!r}")
    return r


def _check_fields(r, line):
    """The checks every record must pass, whatever socket it is about."""
    check(isinstance(r["ts"], str) and _TS_RE.fullmatch(r["ts"]),
          f"ts is not RFC 3339 UTC with microseconds in {line!r}")
    ts = datetime.datetime.strptime(r["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
    ts = ts.replace(tzinfo=datetime.timezone.utc).timestamp()
    check(_STARTED - 1 <= ts <= time.time() + 1,
          f"ts is not the wall-clock time of this test run in {line!r}")
    check(r["family"] in ("ipv4", "ipv6"), f"bad family in {line!r}")
    if r.get("kind") == "summary":
        for k in ("lport", "rport", "cookie") + SUMMARY_INTS:
            check(k not in r or (type(r[k]) is int and r[k] >= 0),
                  f"{k} is not a non-negative integer in {line!r}")
        check(r.get("outcome") in ("fin", "reset", "refused", "timeout", "unknown"),
              f"bad outcome in {line!r}")
        check(r.get("closer") in (None, "local", "remote"), f"bad closer in {line!r}")
        check(r.get("role") in (None, "client", "server"), f"bad role in {line!r}")
        return
    check(r["from"] in STATES and r["to"] in STATES and r["from"] != r["to"],
          f"bad transition in {line!r}")
    check(r["how"] in ("initial", "poll", "destroy", "netns"), f"bad how in {line!r}")
    check(r["how"] != "initial" or r["from"] == "NONE",
          f"an initial record must come from NONE: {line!r}")
    for k in ("lport", "rport", "cookie", "in_state_us", "peer", "uid", "inode", "pid"):
        check(k not in r or (type(r[k]) is int and r[k] >= 0),
              f"{k} is not a non-negative integer in {line!r}")
    check(("in_state_us" in r) <= (r["from"] != "NONE"),
          f"in_state_us on a record from NONE: {line!r}")
    check(r.get("role") in (None, "client", "server"), f"bad role in {line!r}")


class LogReader:
    """Reads a log file incrementally: only new complete lines are parsed.
    It keeps the file open between reads: a file replaced at PATH (rotated,
    or deleted and made again) is then told by its inode number, which the
    new file cannot share with one still open."""

    def __init__(self, path, fmt):
        self.path = path
        self.fmt = fmt
        self.parse = parse_json if fmt == "json" else parse_text
        self.f = None
        self.offset = 0
        self.partial = b""
        self.records = []
        self.losses = []  # loss records, which are not transitions
        self.summaries = []

    def _reset(self):
        if self.f:
            self.f.close()
        self.__init__(self.path, self.fmt)

    def read(self):
        """All complete records so far (a partial last line is left for the
        next call)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self._reset()
            return self.records
        if (self.f is None or os.fstat(self.f.fileno()).st_ino != st.st_ino
                or st.st_size < self.offset):
            self._reset()
            try:
                self.f = open(self.path, "rb")
            except FileNotFoundError:
                return self.records
        self.f.seek(self.offset)
        data = self.f.read()
        self.offset += len(data)
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        for raw in lines:
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                fail(f"record is not UTF-8: {raw!r}")
            loss = parse_loss(line, self.fmt)
            if loss:
                self.losses.append(loss)
                continue
            r = self.parse(line)
            _check_fields(r, line)
            if r.get("kind") == "summary":
                self.summaries.append(r)
            else:
                self.records.append(r)
        return self.records


def read_lines(data, fmt, what):
    """The transition records and loss records in DATA (bytes of a log
    file), which must hold only whole lines."""
    check(not data or data.endswith(b"\n"),
          f"{what} ends in a partial line: {data[-200:]!r}")
    records, losses = [], []
    for raw in data.split(b"\n")[:-1]:
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            fail(f"{what}: record is not UTF-8: {raw!r}")
        loss = parse_loss(line, fmt)
        if loss:
            losses.append(loss)
            continue
        r = (parse_json if fmt == "json" else parse_text)(line)
        _check_fields(r, line)
        records.append(r)
    return records, losses


def read_generations(path, fmt, keep):
    """Reads PATH.keep ... PATH.1 (each plain or .gz, never both) and then
    PATH, oldest first, after the daemon stopped. Returns (records, losses,
    files), files being (name, size on disk, contents) for each file read."""
    import gzip
    records, losses, files = [], [], []
    for k in range(keep, -1, -1):
        name = f"{path}.{k}" if k else path
        found = [n for n in (name, name + ".gz") if os.path.lexists(n)]
        check(len(found) <= 1 and (k or not found or found == [path]),
              f"unexpected files: {found}")
        for n in found:
            check(os.path.isfile(n) and not os.path.islink(n),
                  f"{n} is not a regular file")
            with open(n, "rb") as f:
                raw = f.read()
            data = gzip.decompress(raw) if n.endswith(".gz") else raw
            recs, ls = read_lines(data, fmt, n)
            records += recs
            losses += ls
            files.append((n, len(raw), data))
    return records, losses, files


def per_socket(records):
    """{cookie: [(from, to), ...]} in log order. Without how: a socket made
    while two daemons start can be "initial" to one, "poll" to the other."""
    out = {}
    for r in records:
        out.setdefault(r["cookie"], []).append((r["from"], r["to"]))
    return out


def _tail(lines, n=60):
    """The last N of LINES, indented, for a failure message."""
    cut = [f"... {len(lines) - n} lines before ..."] if len(lines) > n else []
    return "\n".join("    " + l for l in cut + lines[-n:])


def strip_ts(r):
    """R without its ts, its owner's keys (OWNER_KEYS) and what is remembered
    of its connection (CONN_KEYS)."""
    return {k: v for k, v in r.items()
            if k != "ts" and k not in OWNER_KEYS and k not in CONN_KEYS}


def show(records, limit=80):
    lines = [json.dumps(r) for r in records]
    if len(lines) > limit:
        lines = lines[:limit // 2] + [f"... {len(lines) - limit} more ..."] \
            + lines[-limit // 2:]
    return "\n".join("    " + l for l in lines) or "    (none)"


def check_ts_order(records):
    """Records must be in non-decreasing ts order."""
    for a, b in zip(records, records[1:]):
        check(a["ts"] <= b["ts"], f"records out of ts order:\n{show([a, b])}")


def check_sequences(records):
    """For every cookie, the first record comes from NONE, every later one
    from the state the previous one went to, and none follows a vanishing
    (the kernel never reuses a cookie)."""
    last = {}
    for r in records:
        c = r["cookie"]
        prev = last.get(c, "NONE")
        if c in last and prev == "NONE" or r["from"] != prev:
            mine = [x for x in records if x["cookie"] == c]
            check(not (c in last and prev == "NONE"),
                  f"cookie {c}: a record after the socket vanished:\n"
                  f"{show([r])}\n  all its records:\n{show(mine)}")
            fail(f"cookie {c}: a record from {r['from']}, but its previous "
                 f"record went to {prev}:\n{show([r])}\n  all its records:\n"
                 f"{show(mine)}")
        last[c] = r["to"]


# The moves of the TCP state machine (RFC 9293, Linux's additions: CLOSE
# stands for a socket the kernel closed), as from-state: to-states.
_TCP_MOVES = {
    "LISTEN": {"SYN_RECV", "SYN_SENT", "CLOSE"},
    "SYN_SENT": {"SYN_RECV", "ESTABLISHED", "CLOSE"},
    "SYN_RECV": {"ESTABLISHED", "FIN_WAIT1", "CLOSE"},
    "ESTABLISHED": {"FIN_WAIT1", "CLOSE_WAIT", "CLOSE"},
    "FIN_WAIT1": {"FIN_WAIT2", "CLOSING", "TIME_WAIT", "CLOSE"},
    "FIN_WAIT2": {"TIME_WAIT", "CLOSE"},
    "CLOSING": {"TIME_WAIT", "CLOSE"},
    "CLOSE_WAIT": {"LAST_ACK", "CLOSE"},
    "LAST_ACK": {"CLOSE"},
    "TIME_WAIT": {"CLOSE"},
    "CLOSE": set(),
}


def _reachable(frm):
    seen, todo = set(), [frm]
    while todo:
        for nxt in _TCP_MOVES[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


_TCP_REACH = {s: _reachable(s) for s in _TCP_MOVES}


def valid_transition(frm, to):
    """Whether the TCP state machine can go from FRM to TO, through states a
    poll may have missed: only forward along its real paths. NONE -> X and
    X -> NONE always can (a socket appears or goes in any state)."""
    if frm == "NONE" or to == "NONE":
        return frm != to
    return to in _TCP_REACH.get(frm, set())


def check_valid_paths(records):
    """Every record of the log is a move the TCP state machine can make, and
    for each cookie the records chain (check_sequences)."""
    for r in records:
        check(valid_transition(r["from"], r["to"]),
              f"cookie {r['cookie']}: {r['from']} -> {r['to']} is no move of "
              f"the TCP state machine:\n{show([r])}")
    check_sequences(records)


def check_exact(records, expected, ignore=()):
    """RECORDS (the log) must hold exactly the records in EXPECTED, a list with
    one list of records per socket, ts left out. Order is checked per socket,
    and ts order over the whole log. Cookies in IGNORE are left out."""
    check_ts_order(records)
    records = [r for r in records if r["cookie"] not in ignore]
    want = {}
    for recs in expected:
        for r in recs:
            want.setdefault(r["cookie"], []).append(r)
    problems = []
    for c, recs in want.items():
        got = [strip_ts(r) for r in records if r["cookie"] == c]
        if got != recs:
            problems.append(f"  cookie {c}: expected\n{show(recs)}\n"
                            f"  actual\n{show(got)}")
    extra = [r for r in records if r["cookie"] not in want]
    if extra:
        problems.append(f"  records of sockets not expected at all:\n"
                        f"{show(extra)}")
    if problems:
        fail("the log is not as expected:\n" + "\n".join(problems))


def index_of(records, pred, what):
    for i, r in enumerate(records):
        if pred(r):
            return i
    fail(f"no record for {what} in\n{show(records)}")


_PAIR_RE = {
    "json": re.compile(rb'"to":"(\w+)","how":"\w+","cookie":(\d+)'),
    "text": re.compile(rb"\xe2\x86\x92 (\S+) +\S+ +cookie=(\d+)"),
}


def generations_logged(path, fmt, keep):
    """A function that returns {(cookie, to)} of every record in PATH and
    PATH.1 ... PATH.keep (plain or .gz), for waiting on a daemon whose log
    rotates."""
    import gzip
    pattern = _PAIR_RE[fmt]

    def pairs():
        out = set()
        for k in range(keep + 1):
            name = f"{path}.{k}" if k else path
            for n in (name, name + ".gz"):
                try:
                    with open(n, "rb") as f:
                        data = f.read()
                    if n.endswith(".gz"):
                        data = gzip.decompress(data)
                except (FileNotFoundError, EOFError):
                    continue
                out.update((int(c), t.decode()) for t, c in pattern.findall(data))
        return out
    return pairs


def wait_listeners(witness, eps, to, others=(), timeout=TIMEOUT):
    """Waits until WITNESS (a Daemon whose log is not rotated) has logged
    every endpoint in EPS going to TO ("LISTEN", or "NONE"), and so has every
    function in OTHERS, which return {(cookie, to)} (generations_logged)."""
    want = {e.cookie for e in eps}
    witness.wait_log(
        lambda recs: want <= {r["cookie"] for r in recs if r["to"] == to},
        f"{len(want)} listeners to be logged going to {to}", timeout)
    pairs = {(c, to) for c in want}
    for other in others:
        wait_until(lambda: pairs <= other(),
                   f"{len(want)} listeners to be logged going to {to} by the other daemon",
                   timeout)


def churn_listeners(witness, n, batches=1, others=()):
    """Opens N listeners (IPv4 and IPv6 alternately), waits until WITNESS and
    OTHERS (see wait_listeners) have logged them, closes them, and waits until
    they have logged them gone; BATCHES times. Every one of them gives exactly
    two records in every daemon: NONE -> LISTEN and LISTEN -> NONE. Returns
    their Endpoints."""
    eps = []
    for _ in range(batches):
        socks = [listener(socket.AF_INET if i % 2 else socket.AF_INET6)
                 for i in range(n)]
        batch = [Endpoint(s) for s in socks]
        wait_listeners(witness, batch, "LISTEN", others)
        for s in socks:
            s.close()
        wait_listeners(witness, batch, "NONE", others)
        eps += batch
    return eps


# ---------------------------------------------------------------------------
# The daemon

def _die_with_parent():
    """In the daemon's child process before exec: a test killed outright
    (SIGKILL, no cleanup) must not leave the daemon running."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def tcpstated_path():
    path = os.environ.get("TCPSTATED", "")
    check(os.access(path, os.X_OK),
          f"TCPSTATED={path!r} is not an executable: run under ctest, or set "
          "it to the daemon (see tests/integration/README.md)")
    return path


def write_config(directory, text=""):
    """A config file in DIRECTORY, so that the host's /etc never matters.
    Unless TEXT has a [metrics] section, the metrics textfile goes to
    DIRECTORY/tcpstated.prom, not to the host's node_exporter directory."""
    path = os.path.join(directory, "tcpstated.conf")
    if "[metrics]" not in text:
        text += "\n[metrics]\npath = %s\n" % os.path.join(directory, "tcpstated.prom")
    with open(path, "w") as f:
        f.write(text)
    return path


class Daemon:
    """tcpstated running in the current namespace with a config and a log of
    its own in a temporary directory. records() reads the log, wait_for()
    waits on it, paused() stops the daemon for a with block."""

    instances = []  # of the running test, removed when it ends

    def __init__(self, ns, fmt="json", interval_ms=INTERVAL_MS,
                 log="transitions.log", args=(), umask=0o022,
                 destroy_events=False, config=""):
        """Starts tcpstated in NS. LOG is relative to the daemon's temporary
        directory (self.dir), or absolute. UMASK is the daemon's umask.
        DESTROY_EVENTS turns the destroy notifications on (the tests written
        for polling alone leave them off). CONFIG is more of the
        configuration file (self.config), after a [poll] section that holds
        destroy_events: keys of [poll], or further sections."""
        self.ns = ns
        self.fmt = fmt
        self.dir = tempfile.mkdtemp(prefix="tcpstated-it-")
        Daemon.instances.append(self)
        self.log = os.path.join(self.dir, log)
        conf = ("[poll]\ndestroy_events = "
                + ("yes" if destroy_events else "no") + "\n" + config)
        self.config = write_config(self.dir, conf)
        self.argv = [tcpstated_path(), "--config", self.config,
                     "--interval-ms", str(interval_ms), "--log-file", self.log,
                     "--format", fmt, *args]
        self.readers = {}
        self.stderr_path = os.path.join(self.dir, "stderr")
        self.stderr_file = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=self.stderr_file, umask=umask,
                                     preexec_fn=_die_with_parent)
        self.markers = set()

    def records(self, path=None):
        path = path or self.log
        if path not in self.readers:
            self.readers[path] = LogReader(path, self.fmt)
        return self.readers[path].read()

    def losses(self, path=None):
        """The loss records read so far by records()."""
        self.records(path)
        return self.readers[path or self.log].losses

    def summaries(self, path=None):
        """The summary records so far (records() holds the transitions)."""
        self.records(path)
        return self.readers[path or self.log].summaries

    def raw(self, path=None):
        with open(path or self.log, "rb") as f:
            return f.read()

    def stderr(self):
        with open(self.stderr_path) as f:
            return f.read()

    def describe(self):
        """The log, stderr and sockets, for failure messages."""
        try:
            log = self.raw().decode("utf-8", "replace").splitlines()
        except FileNotFoundError:
            log = ["(no log file)"]
        return (f"  daemon: {' '.join(self.argv)}\n  log:\n{_tail(log)}\n"
                f"  stderr:\n{_tail(self.stderr().splitlines())}\n"
                f"  ss -tanoe:\n{_tail(self.ns.ss().splitlines())}")

    def check_alive(self):
        rc = self.proc.poll()
        if rc is not None:
            fail(f"tcpstated exited with status {rc}\n{self.describe()}")

    def wait_log(self, cond, what, timeout=TIMEOUT, path=None):
        """Waits until COND(all records so far) is true, and returns that.
        WHAT describes the condition for the failure message."""
        def ready():
            self.check_alive()
            return cond(self.records(path))
        return wait_until(ready, what, timeout, self.describe)

    def wait_for(self, pred, what="a matching record", timeout=TIMEOUT,
                 path=None):
        """Waits until the log holds a record for which PRED is true, and
        returns the first such record."""
        return self.wait_log(lambda recs: next(filter(pred, recs), None),
                             what, timeout, path)

    def wait_transition(self, ep, frm, to, timeout=TIMEOUT, path=None):
        """Waits for the record of endpoint EP going from FRM to TO."""
        return self.wait_for(
            lambda r: r["cookie"] == ep.cookie and r["from"] == frm
            and r["to"] == to, f"{frm} -> {to} of {ep}", timeout, path)

    def sync(self):
        """Returns once the daemon has finished at least two dumps after the
        call: a throw-away listener is opened and closed, and its vanishing
        is reported only after two dumps miss it. Its records are then left
        out of check_exact() through self.markers."""
        s = listener(socket.AF_INET)
        ep = Endpoint(s)
        self.markers.add(ep.cookie)
        self.wait_transition(ep, "NONE", "LISTEN")
        s.close()
        self.wait_transition(ep, "LISTEN", "NONE")

    def check_exact(self, expected):
        check_exact(self.records(), expected, ignore=self.markers)

    @contextlib.contextmanager
    def paused(self):
        """Stops the daemon (SIGSTOP) for a with block, so that whatever the
        block does to sockets looks to it like a single step."""
        self.check_alive()
        self.proc.send_signal(signal.SIGSTOP)
        try:
            wait_until(self._stopped, "tcpstated to stop on SIGSTOP")
            yield
        finally:
            self.proc.send_signal(signal.SIGCONT)

    def _stopped(self):
        for tid in os.listdir(f"/proc/{self.proc.pid}/task"):
            with open(f"/proc/{self.proc.pid}/task/{tid}/stat") as f:
                # The state follows the ")" that closes the command name.
                if f.read().rpartition(")")[2].split()[0] != "T":
                    return False
        return True

    def stop(self, sig=signal.SIGTERM, within=1.0):
        """Sends SIG; checks that the daemon exits 0 within WITHIN seconds."""
        self.check_alive()
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=within + 5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail(f"tcpstated still ran {within + 5:g} s after {sig.name}\n"
                 f"{self.describe()}")
        elapsed = time.monotonic() - t0
        check(rc == 0, f"tcpstated exited with status {rc} on {sig.name}, "
                       f"expected 0\n{self.describe()}")
        check(elapsed <= within, f"tcpstated took {elapsed:.2f} s to exit on "
                                 f"{sig.name}, expected at most {within:g} s")
        return elapsed

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.stderr_file.close()


# ---------------------------------------------------------------------------
# Running tests

def _skip_reason():
    if os.geteuid() != 0:
        return "not root: network namespaces and nftables need root"
    for tool in ("ip", "nsenter"):
        if not shutil.which(tool):
            return f"{tool} not found: cannot create network namespaces"
    name = f"tcpst-{os.getpid()}-probe"
    p = subprocess.run(["ip", "netns", "add", name], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    subprocess.run(["ip", "netns", "delete", name], stderr=subprocess.DEVNULL)
    if p.returncode != 0:
        return f"cannot create a network namespace: {p.stdout.strip()}"
    return None


def main(tests):
    """Runs the test functions TESTS (or those named on the command line),
    prints "N passed, M failed" and exits 0 or 1, or 77 when this machine
    cannot run them at all."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    reason = _skip_reason()
    if reason:
        print(f"SKIP: {reason}")
        sys.exit(SKIP)
    # Tools that CI has are failures when missing, not skips.
    problems = [f"{tool} not found (install nftables, iproute2, procps)"
                for tool in ("nft", "ss", "sysctl") if not shutil.which(tool)]
    try:
        tcpstated_path()
    except TestFailure as e:
        problems.append(str(e))
    if problems:
        print("FAIL: " + "\nFAIL: ".join(problems))
        print("0 passed, 1 failed")
        sys.exit(1)
    _remove_stale_netns()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    names = sys.argv[1:]
    unknown = set(names) - {t.__name__ for t in tests}
    if unknown:
        print(f"no such test: {', '.join(sorted(unknown))}")
        sys.exit(2)
    passed = failed = 0
    for t in tests:
        if names and t.__name__ not in names:
            continue
        t0 = time.monotonic()
        try:
            t()
        except TestFailure as e:
            failed += 1
            print(f"FAIL {t.__name__} ({time.monotonic() - t0:.1f} s): {e}")
        except Exception:
            failed += 1
            print(f"FAIL {t.__name__} ({time.monotonic() - t0:.1f} s): "
                  f"unexpected error\n{traceback.format_exc()}")
        else:
            passed += 1
            print(f"ok   {t.__name__} ({time.monotonic() - t0:.1f} s)")
        finally:
            _cleanup_all()
        sys.stdout.flush()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
