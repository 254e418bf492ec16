#!/usr/bin/env python3
"""The drop-in for container hosts (systemd/netns.conf.in), under a real systemd.

In a throw-away systemd container (systemd-sandbox.sh) with the build
installed, [poll] netns = all in the configuration and the installed drop-in
linked into /etc/systemd/system/tcpstated.service.d/ as docs/systemd.md says:
  - the service starts before any namespace exists; then four namespaces
    appear, each with a listener in it: one of `ip netns add` (a root
    process), one pinned by a file in /run/docker/netns as Docker does, one
    of a unit's PrivateNetwork= and one of a rootless user namespace (both of
    a dynamic, unprivileged user, found only through /proc/PID/ns/net, which
    takes CAP_SYS_PTRACE); each listener's record in the log file carries its
    namespace's name and inode, and journalctl TCPSTATE_NETNS_INO=INO finds it, named;
  - the hardening the drop-in keeps: the capabilities (systemctl show and the
    daemon's /proc status), the system-call filter, the namespaces, and, by a
    probe run as ExecStartPost= in the service's own sandbox: no ptrace(), no
    process_vm_readv(), no pidfd_getfd(), no kcmp(), no mount or user
    namespace, no IP socket, /proc/PID/mem not writable; systemctl reload
    works; the systemd-analyze security exposure;
  - netns = /proc/PID/ns/net of another user's process, with the same drop-in;
  - without CAP_SYS_PTRACE the two namespaces found through /proc are not
    seen, the others are;
  - the unit without the drop-in: it starts, watches its own namespace and
    says once that it cannot enter the others, for want of CAP_SYS_ADMIN.

Environment: TCPSTATED_BUILD_DIR (the build to install, required),
TCPSTATED_SANITIZE=ON for a sanitizer build. Needs root; exits 77 (skip) only
when systemd-nspawn cannot be had.
"""
import json
import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sandboxlib import Checks, Sandbox, preflight, sanitizer_dropin, stage_install  # noqa: E402

UNIT = "tcpstated"
CONF = "/etc/tcpstated/tcpstated.conf"
LOG = "/var/log/tcpstated/transitions.log"
DROPIN_DIR = "/etc/systemd/system/tcpstated.service.d"
PROBE = "/opt/tcpstated-probe.py"
EXPOSURE_BASE = 0.8  # docs/systemd.md: the unit alone, systemd 252
EXPOSURE_NETNS = 1.5  # and with the drop-in
CAP_SYS_PTRACE, CAP_SYS_ADMIN = 1 << 19, 1 << 21

# The namespaces the test makes, after the service has started: name in the
# records, the port of the listener held in it, the file whose inode is the
# namespace's ("PID": /proc/MAINPID/ns/net of the holding unit), and whether
# it can be found only through /proc (so only with CAP_SYS_PTRACE).
DOCKER_ID = "0123456789ab"
HOST_PORT = 7100  # a listener in the container's own namespace: "host"
NAMESPACES = [
    {"name": "tcpst-blue", "port": 7101, "file": "/run/netns/tcpst-blue", "proc_only": False},
    {"name": "hold-docker.service", "port": 7102, "file": "/run/docker/netns/" + DOCKER_ID,
     "proc_only": False},
    {"name": "hold-private.service", "port": 7103, "file": "PID", "proc_only": True},
    {"name": "hold-rootless.service", "port": 7104, "file": "PID", "proc_only": True},
]

# A listener on 0.0.0.0:PORT (a new namespace's loopback may be down), held
# until the process is killed (at most 5 minutes).
HOLD_PY = ("import socket,sys,time; s=socket.socket(); s.bind(('0.0.0.0',int(sys.argv[1]))); "
           "s.listen(); time.sleep(300)")

# Run as ExecStartPost= of the service, in its sandbox (its user, capabilities,
# system-call filter, namespaces, /proc): tries what the drop-in means to keep
# out, against the process PID (a listener of another user), and prints one
# "probe: NAME RESULT" line each, RESULT "ok" or the errno's name.
PROBE_PY = r"""
import ctypes, errno, os, platform, socket, sys
pid = int(sys.argv[1])
NR = {"x86_64": {"ptrace": 101, "unshare": 272, "process_vm_readv": 310, "kcmp": 312,
                 "pidfd_getfd": 438},
      "aarch64": {"ptrace": 117, "unshare": 97, "process_vm_readv": 270, "kcmp": 272,
                  "pidfd_getfd": 438}}.get(platform.machine(), {})
libc = ctypes.CDLL(None, use_errno=True)

def syscall(name, *args):
    if name not in NR:
        raise OSError(errno.ENOSYS, name)
    if libc.syscall(NR[name], *[ctypes.c_long(a) for a in args]) == -1:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))

def probe(name, fn):
    try:
        fn()
        print("probe: %s ok" % name, flush=True)
    except OSError as e:
        print("probe: %s %s" % (name, errno.errorcode.get(e.errno, e.errno)), flush=True)

probe("nslink", lambda: os.readlink("/proc/%d/ns/net" % pid))
probe("mem_write", lambda: open("/proc/%d/mem" % pid, "r+b").close())
probe("mem_read", lambda: open("/proc/%d/mem" % pid, "rb").close())
probe("environ", lambda: open("/proc/%d/environ" % pid, "rb").close())
probe("fd", lambda: os.listdir("/proc/%d/fd" % pid))
probe("proc_write", lambda: open("/proc/self/comm", "w").close())
probe("maps", lambda: open("/proc/%d/maps" % pid, "rb").close())
probe("root", lambda: os.listdir("/proc/%d/root/" % pid))
probe("ptrace", lambda: syscall("ptrace", 0x4206, pid, 0, 0))  # PTRACE_SEIZE
probe("process_vm_readv", lambda: syscall("process_vm_readv", pid, 0, 0, 0, 0, 0))
probe("kcmp", lambda: syscall("kcmp", pid, os.getpid(), 1, 0, 0))  # KCMP_VM
probe("pidfd_getfd", lambda: syscall("pidfd_getfd", os.pidfd_open(pid), 0, 0))
probe("unshare_mnt", lambda: syscall("unshare", 0x00020000))  # CLONE_NEWNS
probe("unshare_user", lambda: syscall("unshare", 0x10000000))  # CLONE_NEWUSER
probe("inet", lambda: socket.socket(socket.AF_INET).close())
"""

T = Checks("test_netns_all")
check, log, wait_for = T.check, T.log, T.wait_for
SB = Sandbox("tcpstated-netns-%d" % os.getpid())
inside = SB.inside


def show(*props):
    return SB.show(UNIT, *props)


def restart():
    """daemon-reload and restart; returns the new invocation's id."""
    r = inside("systemctl daemon-reload && systemctl restart %s" % UNIT, check_rc=False)
    check(r.returncode == 0, "systemctl restart: %s" % r.stderr.strip())
    return show("InvocationID")["InvocationID"]


def journal(invocation, *matches):
    """The tcpstated entries of INVOCATION matching MATCHES, as dicts."""
    out = inside("journalctl -o json _SYSTEMD_INVOCATION_ID=%s %s"
                 % (invocation, " ".join(matches))).stdout
    return [json.loads(x) for x in out.splitlines() if x.strip()]


def messages(invocation):
    return inside("journalctl -o cat _SYSTEMD_INVOCATION_ID=%s" % invocation).stdout


def listen_records():
    """The log file's NONE -> LISTEN records, by local port."""
    recs = {}
    for line in inside("cat %s" % LOG).stdout.splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if r.get("to") == "LISTEN":
            recs.setdefault(r.get("lport"), []).append(r)
    return recs


def proc_status(pid):
    text = inside("cat /proc/%s/status" % pid).stdout
    return dict(re.findall(r"^(\w+):\s*(.*)$", text, re.M))


def caps_of_daemon():
    st = proc_status(show("MainPID")["MainPID"])
    return int(st.get("CapEff", "0"), 16), st


def make_namespaces():
    """The four namespaces, each with a listener; fills in their inodes and uids."""
    hold = "python3 -c \"%s\"" % HOLD_PY
    blue, docker, private, rootless = NAMESPACES
    inside("systemd-run -q --unit=hold-host %s %d" % (hold, HOST_PORT))
    inside("ip netns add tcpst-blue && ip netns exec tcpst-blue ip link set lo up && "
           "systemd-run -q --unit=hold-blue ip netns exec tcpst-blue %s %d"
           % (hold, blue["port"]))
    # What Docker does: a new namespace bind-mounted on a file named by the
    # sandbox's id, and the container's processes inside it.
    inside("mkdir -p /run/docker/netns && touch %s && unshare --net=%s true && "
           "systemd-run -q --unit=hold-docker nsenter --net=%s %s %d"
           % ((docker["file"],) * 3 + (hold, docker["port"])))
    # A unit of a dynamic (unprivileged) user with a network of its own, and a
    # rootless container's way: an unprivileged user namespace owning a
    # network namespace. Neither has a file: only /proc/PID/ns/net.
    inside("systemd-run -q --unit=hold-private -p DynamicUser=yes -p PrivateNetwork=yes %s %d"
           % (hold, private["port"]))
    inside("systemd-run -q --unit=hold-rootless -p DynamicUser=yes unshare -rn %s %d"
           % (hold, rootless["port"]))
    for ns in NAMESPACES:
        unit = ns["name"] if ns["name"].endswith(".service") else "hold-blue.service"
        pid = wait_for(unit + " running", lambda: SB.show(unit, "MainPID")["MainPID"] != "0"
                       and SB.show(unit, "MainPID")["MainPID"], 10)
        path = "/proc/%s/ns/net" % pid if ns["file"] == "PID" else ns["file"]
        ns["pid"] = pid
        ns["ino"] = int(inside("stat -L -c %%i %s" % path).stdout)
        ns["uid"] = int(inside("stat -c %%u /proc/%s" % pid).stdout)
        log("%s: inode %d, listener pid %s uid %d on port %d" % (ns["name"], ns["ino"], pid,
                                                                 ns["uid"], ns["port"]))
    check(len({ns["ino"] for ns in NAMESPACES}) == len(NAMESPACES),
          "four distinct namespaces")
    check(all(ns["uid"] != 0 for ns in (private, rootless)),
          "the /proc-only namespaces' listeners are not root's")


def watched(invocation):
    """The watched namespaces ("watching network namespace NAME (inode N,
    PATH)") of INVOCATION, by name: (inode, path)."""
    return {m[0]: (int(m[1]), m[2]) for m in re.findall(
        r"watching network namespace (\S+) \(inode (\d+), ([^)]*)\)", messages(invocation))}


def with_dropin(invocation):
    """All four namespaces found, named, in the log and the journal."""
    make_namespaces()
    ports = [ns["port"] for ns in NAMESPACES] + [HOST_PORT]
    recs = wait_for("LISTEN records of ports %s" % ports,
                    lambda: all(p in listen_records() for p in ports) and listen_records(), 10)
    recs = recs or listen_records()
    seen = watched(invocation)
    by_ino = {ino: path for ino, path in seen.values()}
    for ns in NAMESPACES:
        got = recs.get(ns["port"], [{}])[-1]
        # Docker's file comes before the process inside: a scan between the
        # two finds the file alone and names the namespace by it, until the
        # next scan finds the process and renames it (said).
        early = ns["file"].endswith("/" + DOCKER_ID) and got.get("netns") == DOCKER_ID
        check((got.get("netns") == ns["name"] or early) and got.get("netns_ino") == ns["ino"]
              and got.get("uid") == ns["uid"],
              "log: %s's listener on %d in netns %s, inode %d, uid %d: %s"
              % (ns["name"], ns["port"], ns["name"], ns["ino"], ns["uid"],
                 {k: got.get(k) for k in ("netns", "netns_ino", "uid", "how")}))
        if early:
            renamed = "network namespace %s (inode %d) is now named %s" % (
                DOCKER_ID, ns["ino"], ns["name"])
            check(wait_for("the rename", lambda: renamed in messages(invocation), 5),
                  "found by its file before its process: " + renamed)
        ents = [e for e in journal(invocation, "TCPSTATE_NETNS_INO=%d" % ns["ino"])
                if e.get("TCPSTATE_LPORT") == str(ns["port"])]
        check(ents and all(e.get("TCPSTATE_NETNS") == got.get("netns") and
                           e.get("TCPSTATE_TO") == "LISTEN" for e in ents),
              "journalctl -u tcpstated TCPSTATE_NETNS_INO=%d: %s's listener (%d entries)"
              % (ns["ino"], ns["name"], len(ents)))
        path = by_ino.get(ns["ino"], "")
        want = "/proc/" if ns["proc_only"] else ns["file"]
        check(path.startswith(want), "watched %s through %s" % (ns["name"], path))
    got = recs.get(HOST_PORT, [{}])[-1]
    check("host" in seen and got.get("netns") == "host" and
          got.get("netns_ino") == seen["host"][0],
          "and its own namespace, as host: %s, its listener's record %s"
          % (seen.get("host"), {k: got.get(k) for k in ("netns", "netns_ino")}))


def hardening_kept():
    """What systemd applies with the drop-in, and what the daemon holds."""
    p = show("CapabilityBoundingSet", "AmbientCapabilities", "RestrictNamespaces", "ProtectProc",
             "ProcSubset", "ReadOnlyPaths", "NoNewPrivileges", "ProtectSystem", "PrivateDevices",
             "ProtectKernelTunables", "ProtectKernelModules", "ProtectControlGroups",
             "RestrictAddressFamilies", "IPAddressDeny", "MemoryDenyWriteExecute", "User",
             "SystemCallFilter")
    allowed = set(p.pop("SystemCallFilter").split())
    log("systemctl show: %s" % p)
    caps = {"cap_sys_admin", "cap_sys_ptrace"}
    check(set(p["CapabilityBoundingSet"].split()) == caps and
          set(p["AmbientCapabilities"].split()) == caps,
          "CapabilityBoundingSet= and AmbientCapabilities= are CAP_SYS_ADMIN CAP_SYS_PTRACE")
    check(p["RestrictNamespaces"] == "net" and p["ProtectProc"] == "ptraceable" and
          p["ProcSubset"] == "pid" and p["ReadOnlyPaths"] == "/proc",
          "RestrictNamespaces=net, ProtectProc=ptraceable, ProcSubset=pid, ReadOnlyPaths=/proc")
    check(p["NoNewPrivileges"] == "yes" and p["ProtectSystem"] == "strict" and
          p["PrivateDevices"] == "yes" and p["ProtectKernelTunables"] == "yes" and
          p["ProtectKernelModules"] == "yes" and p["ProtectControlGroups"] == "yes" and
          p["MemoryDenyWriteExecute"] == "yes" and p["User"] == "tcpstated" and
          set(p["RestrictAddressFamilies"].split()) == {"AF_UNIX", "AF_NETLINK"},
          "the rest of the unit's hardening is kept")
    denied = {"ptrace", "process_vm_readv", "process_vm_writev", "process_madvise",
              "pidfd_getfd", "kcmp", "mount", "bpf", "perf_event_open", "open_by_handle_at"}
    check("setns" in allowed and not denied & allowed,
          "system calls: setns allowed; none of %s (allowed: %s)"
          % (sorted(denied), sorted(denied & allowed)))
    eff, st = caps_of_daemon()
    uid = inside("id -u tcpstated").stdout.strip()
    check(eff == CAP_SYS_ADMIN | CAP_SYS_PTRACE and st.get("Uid", "").split()[0] == uid and
          st.get("NoNewPrivs") == "1" and st.get("Seccomp") == "2",
          "the daemon: uid %s, CapEff %s, NoNewPrivs %s, Seccomp %s"
          % (st.get("Uid"), st.get("CapEff"), st.get("NoNewPrivs"), st.get("Seccomp")))
    r = inside("systemctl reload %s" % UNIT, check_rc=False)
    check(r.returncode == 0, "systemctl reload (--check-config in the same sandbox): %s"
          % r.stderr.strip())
    score = SB.exposure(UNIT, log)
    check(score <= EXPOSURE_NETNS, "exposure %.1f <= %.1f" % (score, EXPOSURE_NETNS))


def probed():
    """The probe as ExecStartPost= of the service: what its sandbox refuses."""
    target = NAMESPACES[2]["pid"]  # the dynamic user's listener
    inside("cat > %s" % PROBE, inp=PROBE_PY)
    inside("chmod 644 %s && printf '[Service]\\nExecStartPost=-/usr/bin/python3 %s %s\\n' "
           "> %s/zz-probe.conf" % (PROBE, PROBE, target, DROPIN_DIR))
    invocation = restart()
    got = wait_for("the probe's lines", lambda: len(re.findall(
        r"^probe: ", messages(invocation), re.M)) >= 10 and messages(invocation), 10) or ""
    res = dict(re.findall(r"^probe: (\S+) (\S+)$", got, re.M))
    log("probe in the service's sandbox, against pid %s: %s" % (target, res))
    want = {"nslink": "ok", "mem_write": "EACCES", "mem_read": "EACCES", "environ": "EACCES",
            "fd": "EACCES", "proc_write": "EROFS", "ptrace": "EPERM",
            "process_vm_readv": "EPERM", "kcmp": "EPERM", "pidfd_getfd": "EPERM",
            "unshare_mnt": "EPERM", "unshare_user": "EPERM", "inet": "EAFNOSUPPORT"}
    for name, result in want.items():
        check(res.get(name) == result, "in the service's sandbox, %s: %s (want %s)"
              % (name, res.get(name), result))
    # What CAP_SYS_PTRACE opens besides the namespace links, which no unit
    # setting can close (docs/systemd.md says so): another user's
    # /proc/PID/maps and the way into its root directory.
    log("in the service's sandbox, another user's /proc/PID/maps: %s, /proc/PID/root/: %s"
        % (res.get("maps"), res.get("root")))
    inside("rm %s/zz-probe.conf" % DROPIN_DIR)


def set_netns(value):
    inside("sed -i 's|^netns = .*|netns = %s|' %s" % (value, CONF))


def one_namespace():
    """netns = one path, /proc/PID/ns/net of another user's process: the
    same drop-in serves it (entered at start, CAP_SYS_PTRACE to open it)."""
    private = NAMESPACES[2]
    set_netns("/proc/%s/ns/net" % private["pid"])
    invocation = restart()
    ents = wait_for("the listener's entry", lambda: journal(invocation, "TCPSTATE_TO=LISTEN"), 5)
    got = {(e.get("TCPSTATE_LPORT"), e.get("TCPSTATE_NETNS_INO")) for e in ents or []}
    check(got == {(str(private["port"]), str(private["ino"]))},
          "netns = /proc/%s/ns/net: its listener alone, (port, inode) %s"
          % (private["pid"], sorted(got)))
    set_netns("all")


def without_ptrace():
    """CAP_SYS_PTRACE taken out again: the namespaces found only through /proc are not seen."""
    inside("printf '[Service]\\nCapabilityBoundingSet=~CAP_SYS_PTRACE\\n"
           "AmbientCapabilities=~CAP_SYS_PTRACE\\n' > %s/zz-noptrace.conf" % DROPIN_DIR)
    invocation = restart()
    eff, _ = caps_of_daemon()
    check(eff == CAP_SYS_ADMIN, "without CAP_SYS_PTRACE: CapEff %#x" % eff)
    files = [ns for ns in NAMESPACES if not ns["proc_only"]]
    procs = [ns for ns in NAMESPACES if ns["proc_only"]]

    def inodes():
        return {ino: name for name, (ino, _) in watched(invocation).items()}
    wait_for("the namespaces with files", lambda: all(ns["ino"] in inodes() for ns in files), 5)
    time.sleep(2.5)  # two more searches
    seen = inodes()
    check(all(ns["ino"] in seen for ns in files) and not any(ns["ino"] in seen for ns in procs),
          "without CAP_SYS_PTRACE: watched %s, not the /proc-only ones" % sorted(seen.values()))
    # The Docker-style namespace's process is root's, hidden now: no unit to
    # name it by, so it has its runtime file's name.
    check(seen.get(NAMESPACES[1]["ino"]) == DOCKER_ID,
          "and the Docker-style namespace is named by its file: %s"
          % seen.get(NAMESPACES[1]["ino"]))
    inside("rm %s/zz-noptrace.conf" % DROPIN_DIR)


def without_dropin():
    """The unit alone, with netns = all: it runs, in its own namespace, and says why not more."""
    inside("rm %s/netns.conf" % DROPIN_DIR)
    invocation = restart()
    p = show("ActiveState", "StatusText")
    check(p["ActiveState"] == "active", "without the drop-in the service runs: %s" % p)
    eff, _ = caps_of_daemon()
    check(eff == 0, "without the drop-in: CapEff %#x" % eff)
    wait_for("a search", lambda: "started with" in messages(invocation), 5)
    time.sleep(2.5)  # two more searches: said once, not at each
    msgs = messages(invocation)
    refused = [x for x in msgs.splitlines() if x.startswith("cannot watch network namespace")]
    for x in refused:
        log("it says: " + x)
    check(len(refused) == 1 and "Operation not permitted" in refused[0] and
          "CAP_SYS_ADMIN" in refused[0] and
          any("%s (inode %d" % (ns["name"], ns["ino"]) in refused[0] for ns in NAMESPACES),
          "it says once that it cannot enter a namespace, and that it takes CAP_SYS_ADMIN")
    seen = watched(invocation)
    check(list(seen) == ["host"], "it watches its own namespace only: %s" % sorted(seen))
    ents = journal(invocation, "TCPSTATE_TO=LISTEN")
    names = {e.get("TCPSTATE_NETNS") for e in ents}
    ports = {e.get("TCPSTATE_LPORT") for e in ents}
    check(names == {"host"} and str(HOST_PORT) in ports,
          "its records are all of host (its listener on %d among them): %s, ports %s"
          % (HOST_PORT, sorted(names, key=str), sorted(ports, key=str)))
    status = show("StatusText")["StatusText"]
    m = re.search(r", (\d+) not entered \(see the log\)", status)
    check(m and int(m.group(1)) >= 1,
          "systemctl status counts the namespaces it cannot enter: %s" % status)


def main():
    build = preflight([("unshare", "util-linux"), ("nsenter", "util-linux"),
                       ("ip", "iproute2")])
    if isinstance(build, int):
        return build
    t_begin = time.monotonic()
    stage, _, _ = stage_install(build)
    try:
        dropins = [os.path.join(d, f) for d, _, fs in os.walk(stage) for f in fs
                   if f == "netns.conf" and d.endswith("/share/tcpstated")]
        check(len(dropins) == 1, "cmake --install staged the drop-in in share/tcpstated: %s"
              % [os.path.relpath(x, stage) for x in dropins])
        if not dropins:
            return T.summary(t_begin)
        dropin = "/" + os.path.relpath(dropins[0], stage)
        conf = os.path.join(stage, CONF.lstrip("/"))
        with open(conf) as f:
            text = f.read()
        check("\nnetns =\n" in text, "the shipped configuration watches its own namespace")
        text = text.replace("\nnetns =\n", "\nnetns = all\n", 1)
        text = re.sub(r"\nformat = \w+\n", "\nformat = json\n", text, count=1)
        with open(conf, "w") as f:
            f.write(text)
        sanitizer_dropin(stage)
        r = SB.up(stage)
        if r.returncode != 0:
            print(r.stdout + r.stderr, file=sys.stderr)
            return 1
        log("sandbox up after %.1f s" % (time.monotonic() - t_begin))
        inside("systemd-sysusers tcpstated.conf && systemd-tmpfiles --create tcpstated.conf")
        # As docs/systemd.md says: a link, so that an upgrade updates it.
        inside("mkdir -p %s && ln -s %s %s/" % (DROPIN_DIR, dropin, DROPIN_DIR))
        check(not inside("ls /run/netns /run/docker/netns", check_rc=False).stdout,
              "no namespace file before the start: the mounts made later must reach the "
              "service's mount namespace")
        invocation = restart()
        check(dropin in show("DropInPaths")["DropInPaths"] or
              DROPIN_DIR + "/netns.conf" in show("DropInPaths")["DropInPaths"],
              "the linked drop-in is read: %s" % show("DropInPaths")["DropInPaths"])
        with_dropin(invocation)
        hardening_kept()
        probed()
        one_namespace()
        without_ptrace()
        without_dropin()
        inside("systemctl stop %s" % UNIT, check_rc=False)
    finally:
        SB.down()
        shutil.rmtree(stage, ignore_errors=True)
    return T.summary(t_begin)


if __name__ == "__main__":
    sys.exit(main())
