#!/usr/bin/env python3
"""tcpstated as a system service, under a real systemd.

PID 1 on the build machines is not systemd, so this boots a throw-away
systemd container (systemd-sandbox.sh, beside this file) on an overlay of the
host's root, with the output of `cmake --install` copied in, and drives the
service the way its users do: systemctl start, tail the log (as root and as a
member of adm), journalctl queries, systemctl reload (also with a drop-in
that starts the daemon with another --config), a bad configuration, a stalled
daemon killed by the watchdog, systemctl stop; and systemd-analyze security.

Environment: TCPSTATED_BUILD_DIR (the build to install, required),
TCPSTATED_SANITIZE=ON for a sanitizer build. Needs root; exits 77 (skip) only
when systemd-nspawn cannot be had at all.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sandboxlib import (SANDBOX, Checks, Sandbox, preflight, sanitizer_dropin,  # noqa: E402
                        stage_install)

UNIT = "tcpstated"
CONF = "/etc/tcpstated/tcpstated.conf"
LOG = "/var/log/tcpstated/transitions.log"
WATCHDOG_SEC = 5  # the unit's WatchdogSec=
EXPOSURE_MAX = 0.8  # docs/systemd.md: measured under systemd 252
ID_APPEARED = "47c5afb8f94f4b73b2778622ab66d4a0"
LISTEN_UID = 4242  # an unprivileged user owns the test's sockets
SBIN = None  # where the unit's ExecStart= finds tcpstated, read from the unit

# The configuration the test starts with when the tree ships none; else the
# shipped one with the journal on.
BASE_CONF = """[poll]
interval_ms = 100
[log]
path = /var/log/tcpstated/transitions.log
format = text
[journal]
enabled = yes
"""

# Runs inside the container: a listener and a client on 127.0.0.1:PORT owned
# by LISTEN_UID; the client closes first (-> TIME_WAIT). With HOLD, the
# connection stays open until the file HOLD appears.
CONNECT_PY = r"""
import os, socket, sys, time
port, hold = int(sys.argv[1]), sys.argv[2]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen()
c = socket.create_connection(("127.0.0.1", port)); a, _ = s.accept()
c.sendall(b"x"); a.recv(1)
time.sleep(0.5)
if hold != "-":
    open(hold + ".up", "w").close()
    deadline = time.time() + 60
    while not os.path.exists(hold) and time.time() < deadline:
        time.sleep(0.05)
c.close(); time.sleep(0.5); a.close(); time.sleep(0.5); s.close()
"""

T = Checks("test_service")
log, check, wait_for = T.log, T.check, T.wait_for
SB = Sandbox("tcpstated-test-%d" % os.getpid())
env, sandbox, inside = SB.env, SB.run, SB.inside


def show(*props):
    return SB.show(UNIT, *props)


def write_conf(text):
    inside("cat > %s" % CONF, inp=text)


def read_log(path=LOG):
    return inside("cat %s 2>/dev/null || true" % path).stdout


TEXT_RE = re.compile(r"^(\S+) (ipv[46]) (\S+)\s+→ (\S+)\s+(\S+)\s+→ (\S+)\s+(\S+)\s+cookie=(\d+)(.*)$")


def parse_records(text, summaries=None):
    """Every transition record of the log, text or JSON, as a dict with the
    JSON keys. Connection summaries go to SUMMARIES (a list) if given."""
    recs = []
    for line in text.splitlines():
        if line.startswith("{"):
            r = dict(json.loads(line), fmt="json")
            if r.get("kind") == "summary":
                if summaries is not None:
                    summaries.append(r)
            else:
                recs.append(r)
            continue
        if " summary cookie=" in line:
            if summaries is not None:
                summaries.append({"fmt": "text", "line": line})
            continue
        m = TEXT_RE.match(line)
        if not m:
            recs.append({"fmt": "garbage", "line": line})
            continue
        ts, fam, local, remote, frm, to, how, cookie, extra = m.groups()
        rec = {"fmt": "text", "ts": ts, "family": fam, "from": frm, "to": to, "how": how,
               "cookie": int(cookie), "lport": int(local.rsplit(":", 1)[1]),
               "rport": 0 if remote.endswith(":*") else int(remote.rsplit(":", 1)[1])}
        for kv in extra.split():
            k, v = kv.split("=", 1)
            if k in ("uid", "ino", "pid"):
                rec["inode" if k == "ino" else k] = int(v)
            else:  # unit, comm: escaped text
                rec[k] = v
        recs.append(rec)
    return recs


def chains_ok(recs):
    """Each socket's records form one unbroken chain NONE -> ... : nothing lost or repeated."""
    last = {}
    bad = []
    for r in recs:
        c = r.get("cookie")
        prev = last.get(c, "NONE")
        if r["from"] != prev:
            bad.append("cookie %s: %s -> %s after %s" % (c, r["from"], r["to"], prev))
        last[c] = r["to"]
    for b in bad:
        log("  chain broken: " + b)
    return not bad


def connect(port, hold="-"):
    """Starts the connection script inside; returns the Popen (it runs ~2 s)."""
    cmd = ["exec", "--", "setpriv", "--reuid=%d" % LISTEN_UID, "--regid=%d" % LISTEN_UID,
           "--clear-groups", "python3", "-c", CONNECT_PY, str(port), hold]
    return subprocess.Popen([SANDBOX, *cmd], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def records_for(port, to=None):
    recs = [r for r in parse_records(read_log()) if port in (r.get("lport"), r.get("rport"))]
    return [r for r in recs if to is None or r["to"] == to]


def main():
    build = preflight()
    if isinstance(build, int):
        return build
    t_begin = time.monotonic()
    global SBIN
    stage, units, SBIN = stage_install(build)
    try:
        check(len(units) == 1, "cmake --install staged one unit: %s" % units)
        staged = {f for _, _, fs in os.walk(stage) for f in fs}
        check(any(d.endswith("/sysusers.d") for d, _, fs in os.walk(stage)
                  if "tcpstated.conf" in fs)
              and any(d.endswith("/tmpfiles.d") for d, _, fs in os.walk(stage)
                      if "tcpstated.conf" in fs) and "tcpstated.service" in staged,
              "cmake --install staged the sysusers.d and tmpfiles.d files")
        # Start from the shipped configuration (the journal is on by default).
        global BASE_CONF
        staged_conf = os.path.join(stage, CONF.lstrip("/"))
        if os.path.exists(staged_conf):
            with open(staged_conf) as f:
                shipped = f.read()
            check("\nenabled = yes\n" in shipped and "\nformat = text\n" in shipped
                  and "\ninterval_ms = 100\n" in shipped and "\npath = %s\n" % LOG in shipped,
                  "shipped configuration installed, logging to %s" % LOG)
            BASE_CONF = shipped
        os.makedirs(os.path.dirname(staged_conf), exist_ok=True)
        with open(staged_conf, "w") as f:
            f.write(BASE_CONF)
        sanitizer_dropin(stage)
        r = SB.up(stage)
        if r.returncode != 0:
            print(r.stdout + r.stderr, file=sys.stderr)
            if "systemd-nspawn" in r.stderr and "not found" in r.stderr:
                return 77
            return 1
        log("sandbox %s up after %.1f s" % (env["SANDBOX_NAME"], time.monotonic() - t_begin))
        # What a package's postinst (or cmake --install into the running
        # system, as root) does: the user, then its log directory.
        r = inside("systemd-sysusers tcpstated.conf && systemd-tmpfiles --create tcpstated.conf",
                   check_rc=False)
        check(r.returncode == 0, "systemd-sysusers and systemd-tmpfiles --create: %s"
              % r.stderr.strip())
        run_steps()
    finally:
        sandbox("down", check_rc=False, timeout=90)
        shutil.rmtree(stage, ignore_errors=True)
    return T.summary(t_begin)


def run_steps():
    # --- start: active (running) only through READY=1
    t0 = time.monotonic()
    r = inside("systemctl start %s" % UNIT, check_rc=False)
    check(r.returncode == 0, "systemctl start: %s" % r.stderr.strip())
    p = show("ActiveState", "SubState", "MainPID", "StatusText", "NRestarts",
             "ExecMainStartTimestampMonotonic", "ActiveEnterTimestampMonotonic")
    log("start returned after %.2f s; %s" % (time.monotonic() - t0, p))
    check(p["ActiveState"] == "active" and p["SubState"] == "running", "active (running)")
    # STATUS= comes with READY=1, so a status proves READY arrived before
    # systemd called the unit started.
    check(p["StatusText"].startswith("tracking "), "status text set by READY=1")
    ready_ms = (int(p["ActiveEnterTimestampMonotonic"]) -
                int(p["ExecMainStartTimestampMonotonic"])) / 1000
    log("exec to READY=1: %.1f ms" % ready_ms)
    check(0 < ready_ms < 5000, "READY=1 within 5 s of exec (%.1f ms)" % ready_ms)
    check(inside("test -f %s" % LOG, check_rc=False).returncode == 0, "log file exists at READY")
    st = inside("stat -c '%U %G %a %F' /var/log/tcpstated /var/log/tcpstated/transitions.log"
                ).stdout.splitlines()
    check(st == ["tcpstated adm 2750 directory", "tcpstated adm 640 regular file"]
          or st == ["tcpstated adm 2750 directory", "tcpstated adm 640 regular empty file"],
          "log directory tcpstated:adm 2750, log written by tcpstated, group adm, 640: %s" % st)
    # Debian's admins read logs as members of adm; others cannot.
    inside("useradd --system --no-create-home --groups adm admreader")
    r = inside("runuser -u admreader -- cat %s" % LOG, check_rc=False)
    check(r.returncode == 0 and r.stdout == read_log(),
          "a member of adm can cat the log: %s" % r.stderr.strip())
    r = inside("setpriv --reuid=%d --regid=%d --clear-groups cat %s" % (LISTEN_UID, LISTEN_UID, LOG),
               check_rc=False)
    check(r.returncode != 0 and "Permission denied" in r.stderr,
          "a user outside adm cannot: %s" % r.stderr.strip())
    ids = inside("id tcpstated").stdout
    check(" groups=" in ids and "(adm)" not in ids, "the daemon's user is not in adm: %s" % ids)
    caps = inside("grep CapEff /proc/%s/status" % p["MainPID"]).stdout.split()
    check(caps[-1] == "0000000000000000", "no capabilities: %s" % caps)

    # --- connections: the log file and the journal
    c = connect(8080)
    c.wait(timeout=30)
    tw = wait_for("TIME_WAIT record", lambda: records_for(8080, "TIME_WAIT"))
    check(tw, "log has the client's TIME_WAIT")
    recs = records_for(8080)
    est = [x for x in recs if x["to"] == "ESTABLISHED"]
    check(len(est) == 2, "log has both ends ESTABLISHED: %d" % len(est))
    check(all(x.get("uid") == LISTEN_UID and x.get("inode") for x in est),
          "uid and inode seen without capabilities: %s" % est)
    check(any(x["to"] == "LISTEN" for x in recs), "log has the LISTEN")
    # Destroy notifications reach the daemon's user without capabilities:
    # the server's end closes and gets its summary.
    def summaries_8080():
        sums = []
        parse_records(read_log(), sums)
        return [x for x in sums if ":8080 " in x.get("line", "")]
    check(wait_for("summary", summaries_8080), "destroy notifications delivered: a summary")

    def journal_est():
        out = inside("journalctl -u %s TCPSTATE_TO=ESTABLISHED -o json" % UNIT).stdout
        es = [json.loads(x) for x in out.splitlines() if x.strip()]
        return [e for e in es if "8080" in (e.get("TCPSTATE_LPORT"), e.get("TCPSTATE_RPORT"))]
    ents = wait_for("journal entries", lambda: len(journal_est()) >= 2 and journal_est(), 5)
    check(ents and len(ents) == 2, "journalctl TCPSTATE_TO=ESTABLISHED -o json: 2 entries")
    if ents:
        e = ents[0]
        want = {"TCPSTATE_FROM": "NONE", "TCPSTATE_TO": "ESTABLISHED", "TCPSTATE_FAMILY": "ipv4",
                "TCPSTATE_LADDR": "127.0.0.1", "TCPSTATE_RADDR": "127.0.0.1",
                "TCPSTATE_HOW": "poll", "TCPSTATE_UID": str(LISTEN_UID),
                "MESSAGE_ID": ID_APPEARED, "PRIORITY": "6", "SYSLOG_IDENTIFIER": "tcpstated"}
        check(all(e.get(k) == v for k, v in want.items()),
              "journal fields: %s" % {k: e.get(k) for k in want})
        check(all(k in e for k in ("TCPSTATE_LPORT", "TCPSTATE_RPORT", "TCPSTATE_COOKIE",
                                   "TCPSTATE_INODE", "TCPSTATE_TS")), "journal has ports, cookie, inode, ts")
        check("NONE → ESTABLISHED" in e.get("MESSAGE", ""), "MESSAGE: %s" % e.get("MESSAGE"))
        check("CODE_FILE" not in e, "no source location on records")
        cookies = {str(x["cookie"]) for x in est}
        check({x["TCPSTATE_COOKIE"] for x in ents} == cookies, "journal and log agree on cookies")
    out = inside("journalctl -u %s TCPSTATE_RPORT=8080 TCPSTATE_TO=TIME_WAIT -o cat" % UNIT).stdout
    check("→ TIME_WAIT" in out, "journalctl TCPSTATE_RPORT=8080 TCPSTATE_TO=TIME_WAIT")

    # --- attribution: a transient service's connections, found by its unit.
    # The daemon reads the container's read-only /sys/fs/cgroup
    # (ProtectControlGroups=yes) as its own user.
    r = sandbox("exec", "--", "systemd-run", "--unit=conn-test.service", "--wait", "--quiet",
                "-p", "DynamicUser=yes", "python3", "-c", CONNECT_PY, "8090", "-",
                check_rc=False)
    check(r.returncode == 0, "systemd-run --unit=conn-test.service: %s" % r.stderr.strip())

    def unit_entries():
        out = inside("journalctl -u %s TCPSTATE_UNIT=conn-test.service -o json" % UNIT).stdout
        return [json.loads(x) for x in out.splitlines() if x.strip()]
    ents = wait_for("conn-test.service entries", lambda: len(unit_entries()) >= 3 and unit_entries(), 5)
    log("journalctl TCPSTATE_UNIT=conn-test.service: %d entries" % len(ents or []))
    check(ents and any(e.get("TCPSTATE_TO") == "LISTEN" for e in ents)
          and all("8090" in (e.get("TCPSTATE_LPORT"), e.get("TCPSTATE_RPORT")) for e in ents)
          and all(e.get("TCPSTATE_CGROUP", "").endswith("/conn-test.service") for e in ents),
          "journalctl -u tcpstated TCPSTATE_UNIT=conn-test.service: its listener and connection, "
          "with the cgroup: %s" % [(e.get("TCPSTATE_TO"), e.get("TCPSTATE_CGROUP")) for e in ents or []])
    check(any(" unit=conn-test.service" in line for line in read_log().splitlines()),
          "unit=conn-test.service in the text log")

    # --- reload: text -> json (a new file) and 100 -> 200 ms, a connection
    # open across it
    pid = show("MainPID")["MainPID"]
    c = connect(8081, hold="/tmp/release-8081")
    check(wait_for("held connection", lambda: inside(
        "test -e /tmp/release-8081.up", check_rc=False).returncode == 0), "connection held open")
    wait_for("ESTABLISHED on 8081", lambda: len(records_for(8081, "ESTABLISHED")) == 2)
    write_conf(BASE_CONF.replace("format = text", "format = json")
               .replace("interval_ms = 100", "interval_ms = 200"))
    r = inside("systemctl reload %s" % UNIT, check_rc=False)
    check(r.returncode == 0, "systemctl reload: %s" % r.stderr.strip())
    reloaded = wait_for("reload message", lambda: "polling every 200 ms, json" in inside(
        "journalctl -u %s -o cat" % UNIT).stdout)
    check(reloaded, "daemon logged the new settings")
    inside("touch /tmp/release-8081")
    c.wait(timeout=30)
    check(wait_for("JSON TIME_WAIT", lambda: [x for x in records_for(8081, "TIME_WAIT")
                                               if x["fmt"] == "json"]), "later records are JSON")
    p = show("MainPID", "ActiveState", "SubState", "NRestarts")
    check(p["MainPID"] == pid and p["SubState"] == "running", "same process after reload: %s" % p)
    # The text file was rotated away before the first JSON record: one
    # format per file, and the records of both files chain up.
    before, after = parse_records(read_log(LOG + ".1")), parse_records(read_log())
    check(before and {x["fmt"] for x in before} == {"text"}
          and {x["fmt"] for x in after} == {"json"},
          "text records in %s.1, JSON in %s: %s, %s" % (
              LOG, LOG, {x["fmt"] for x in before}, {x["fmt"] for x in after}))
    recs = before + after
    check(not [x for x in recs if x["fmt"] == "garbage"], "every line is a record")
    check(chains_ok(recs), "no record lost or repeated across the reload (per-socket chains)")
    initial_after = [x for x in recs if x["fmt"] == "json" and x["how"] == "initial"]
    check(not initial_after, "socket table kept: no 'initial' records after reload")

    # --- reload with a bad file: refused by ExecReload, and by the daemon on SIGHUP
    write_conf(BASE_CONF.replace("[journal]", "[journal]\nbogus = 1"))
    r = inside("systemctl reload %s" % UNIT, check_rc=False)
    check(r.returncode != 0, "systemctl reload fails on a bad file")
    inside("systemctl kill -s HUP %s" % UNIT)
    kept = wait_for("keeping message", lambda: "keeping the running configuration" in inside(
        "journalctl -u %s -p err -o cat" % UNIT).stdout)
    check(kept, "SIGHUP with a bad file: error at priority err, old configuration kept")
    p = show("MainPID", "SubState")
    check(p["MainPID"] == pid and p["SubState"] == "running", "still running: %s" % p)

    # --- a bad file at start: fails, clear message, no restart loop
    inside("systemctl stop %s" % UNIT)
    r = inside("systemctl start %s" % UNIT, check_rc=False)
    check(r.returncode != 0, "systemctl start fails on a bad file")
    time.sleep(2.5)  # > RestartSec=: a restart would have happened by now
    p = show("ActiveState", "Result", "ExecMainStatus", "NRestarts")
    check(p["ActiveState"] == "failed" and p["ExecMainStatus"] == "78" and p["NRestarts"] == "0",
          "exit 78, failed, no restart: %s" % p)
    status = inside("systemctl status %s --no-pager -n 20" % UNIT, check_rc=False).stdout
    check(re.search(r"tcpstated\.conf:\d+: \[journal\] bogus", status) is not None,
          "systemctl status shows FILE:LINE: %s" % status.splitlines()[-1:])
    check("tcpstated.conf:" in inside("journalctl -u %s -p err -o cat" % UNIT).stdout,
          "journalctl -p err has the message")

    # --- watchdog: a stopped daemon is killed and restarted
    write_conf(BASE_CONF)
    inside("systemctl reset-failed %s; systemctl start %s" % (UNIT, UNIT))
    p = show("MainPID", "NRestarts")
    inside("kill -STOP %s" % p["MainPID"])
    t0 = time.monotonic()

    def restarted():
        q = show("MainPID", "NRestarts", "SubState")
        return q["MainPID"] not in ("0", p["MainPID"]) and q["SubState"] == "running" and q
    q = wait_for("watchdog restart", restarted, timeout=WATCHDOG_SEC + 15, step=0.2)
    took = time.monotonic() - t0
    log("watchdog restart after %.1f s: %s" % (took, q))
    check(q and int(q["NRestarts"]) == int(p["NRestarts"]) + 1, "restarted once by the watchdog")
    check(took >= WATCHDOG_SEC - 1, "not before the watchdog interval (%.1f s)" % took)
    check("Watchdog timeout" in inside("journalctl -u %s -o cat" % UNIT).stdout,
          "systemd logged the watchdog timeout")

    drop_in_reload()

    # --- security
    score = SB.exposure(UNIT, log)
    check(score <= EXPOSURE_MAX, "exposure %.1f <= %.1f" % (score, EXPOSURE_MAX))

    # --- stop: clean exit, records complete
    c = connect(8082)
    c.wait(timeout=30)
    wait_for("TIME_WAIT on 8082", lambda: records_for(8082, "TIME_WAIT"))
    invocation = show("InvocationID")["InvocationID"]
    r = inside("systemctl stop %s" % UNIT, check_rc=False)
    p = show("ActiveState", "Result", "ExecMainStatus", "ExecMainCode")
    check(r.returncode == 0 and p["ActiveState"] == "inactive" and p["Result"] == "success"
          and p["ExecMainStatus"] == "0", "systemctl stop: clean exit: %s" % p)
    text = read_log()
    check(text.endswith("\n"), "log ends with a whole record")
    check("stopped after" in inside("journalctl -o cat _SYSTEMD_INVOCATION_ID=%s" %
                                    invocation).stdout, "daemon logged its stop summary")


def drop_in_reload():
    """A drop-in that starts the daemon with another --config: systemctl
    reload checks that file, the one the daemon runs with, not the default."""
    other = "/etc/tcpstated/other.conf"
    inside("cat > %s" % other, inp=BASE_CONF.replace("interval_ms = 100", "interval_ms = 150"))
    inside("mkdir -p /etc/systemd/system/%s.service.d && cat > "
           "/etc/systemd/system/%s.service.d/config.conf" % (UNIT, UNIT),
           inp="[Service]\nExecStart=\nExecStart=%s --config %s\n" % (SBIN, other))
    inside("systemctl daemon-reload && systemctl restart %s" % UNIT)
    pid = show("MainPID")["MainPID"]
    check(wait_for("start with other.conf", lambda: "polling every 150 ms" in inside(
        "journalctl -u %s -o cat _PID=%s" % (UNIT, pid)).stdout), "drop-in: started with %s" % other)
    # The default file is broken, the one in use is not: reload succeeds.
    write_conf(BASE_CONF.replace("[journal]", "[journal]\nbogus = 1"))
    r = inside("systemctl reload %s" % UNIT, check_rc=False)
    check(r.returncode == 0, "drop-in: reload checks %s, not %s: %s" % (other, CONF, r.stderr.strip()))
    # And the one in use broken: reload fails, the daemon runs on.
    write_conf(BASE_CONF)
    inside("cat >> %s" % other, inp="bogus = 1\n")
    r = inside("systemctl reload %s" % UNIT, check_rc=False)
    check(r.returncode != 0, "drop-in: reload fails on a bad %s" % other)
    p = show("MainPID", "SubState")
    check(p["MainPID"] == pid and p["SubState"] == "running", "drop-in: still running: %s" % p)
    # Only this drop-in goes: a sanitizer build has one of its own there.
    inside("rm /etc/systemd/system/%s.service.d/config.conf %s && systemctl daemon-reload && "
           "systemctl restart %s" % (UNIT, other, UNIT))


if __name__ == "__main__":
    sys.exit(main())
