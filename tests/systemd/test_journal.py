#!/usr/bin/env python3
"""tcpstated's journal entries under a real systemd and journald.

With the installed configuration unchanged (the journal on by default):
  - journalctl -u tcpstated TCPSTATE_TO=ESTABLISHED finds a test connection,
    its summary has the figures as fields, and journalctl -x shows the
    catalog's text (the catalog compiled as the install step does);
  - under 2,000 connections a second for 10 s, the journal holds at most
    the budget (burst + rate x seconds) plus one "not sent" entry per 10 s,
    journald logs no "Suppressed" line, every record of the log file is in
    the journal or counted in a "not sent" entry, the log file has both ends
    of every connection, and systemctl status counts what was not sent;
  - two containers on the host's loopback, one uploading its journal with
    systemd-journal-upload, one receiving with systemd-journal-remote: the
    receiver's journal directory has the sender's transitions, found by
    TCPSTATE_* fields and _HOSTNAME.

Environment: TCPSTATED_BUILD_DIR (the build to install, required),
TCPSTATED_SANITIZE=ON for a sanitizer build. Needs root; exits 77 (skip) only
when systemd-nspawn or systemd-journal-remote cannot be had.
"""
import json
import math
import os
import shutil
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sandboxlib import Checks, Sandbox, preflight, sanitizer_dropin, stage_install  # noqa: E402

UNIT = "tcpstated"
LOG = "/var/log/tcpstated/transitions.log"
RATE, BURST = 200, 2000  # the shipped [journal] rate and burst
REPORT_S = 10  # jbudget.h: JBUDGET_REPORT_NS
LOAD_RATE, LOAD_S = 2000, 10
SENDER = "tcpstate-sender"
ID = {  # include/journal_ids.h
    "appeared": "47c5afb8f94f4b73b2778622ab66d4a0",
    "changed": "0150bd6566304c2c8ffb1b7f84c3487a",
    "vanished": "e523b9aa453443ff97df2a4c334f6e67",
    "summary": "4f27521f84ea4caeba33df955840183b",
    "not_sent": "4ae2bb8dd733419a9506b4b5e3480745",
    "started": "9f5301aaa62141438037761227c50bd3",
}
RECORD_IDS = {ID[k] for k in ("appeared", "changed", "vanished", "summary")}

# Inside the container: one connection to 127.0.0.1:PORT, the client
# closing first; it sends a byte each way so the summary has bytes.
ONE_PY = r"""
import socket, sys, time
port = int(sys.argv[1])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen()
c = socket.create_connection(("127.0.0.1", port)); a, _ = s.accept()
c.sendall(b"x"); a.recv(1); a.sendall(b"y"); c.recv(1)
time.sleep(0.5)
c.close(); time.sleep(0.3); a.close(); time.sleep(0.5); s.close()
"""

# Inside the container: RATE connections a second for SECONDS to a listener
# on 127.0.0.1:PORT, each opened and closed by the client at once; prints
# the clients' ports and the rate reached, as JSON.
LOAD_PY = r"""
import json, socket, sys, threading, time
port, rate, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port)); srv.listen(4096)
def serve():
    while True:
        try:
            a, _ = srv.accept()
        except OSError:
            return
        a.close()
threading.Thread(target=serve, daemon=True).start()
ports, n, t0 = [], int(rate * secs), time.monotonic()
for i in range(n):
    ahead = t0 + i / rate - time.monotonic()
    if ahead > 0:
        time.sleep(ahead)
    c = socket.create_connection(("127.0.0.1", port))
    ports.append(c.getsockname()[1])
    c.close()
took = time.monotonic() - t0
time.sleep(1)
srv.close()
print(json.dumps({"ports": ports, "rate": n / took}))
"""

T = Checks("test_journal")
check, log, wait_for = T.check, T.log, T.wait_for


def entries(sb, args):
    """journalctl ARGS -o json in SB, as a list of dicts."""
    out = sb.inside("journalctl %s -o json" % args).stdout
    return [json.loads(x) for x in out.splitlines() if x.strip()]


def port_of(e):
    return {e.get("TCPSTATE_LPORT"), e.get("TCPSTATE_RPORT")}


def boot(sb, stage, what):
    r = sb.up(stage)
    if r.returncode != 0:
        raise RuntimeError("%s: sandbox up failed:\n%s%s" % (what, r.stdout, r.stderr))
    # What a package's postinst (or cmake --install into the running system,
    # as root) does: the user, its log directory, the message catalog.
    sb.inside("systemd-sysusers tcpstated.conf && systemd-tmpfiles --create tcpstated.conf && "
              "journalctl --update-catalog")


def out_of_the_box(sb):
    """The shipped configuration: a connection in the journal, its summary
    with figures, the catalog's text with journalctl -x."""
    r = sb.inside("systemctl start %s" % UNIT, check_rc=False)
    check(r.returncode == 0, "systemctl start with the installed configuration: %s"
          % r.stderr.strip())
    r = sb.popen("python3", "-c", ONE_PY, "8080")
    r.wait(timeout=30)

    def est():
        return [e for e in entries(sb, "-u %s TCPSTATE_TO=ESTABLISHED" % UNIT)
                if "8080" in port_of(e)]
    ents = wait_for("ESTABLISHED entries", lambda: len(est()) >= 2 and est(), 10)
    check(ents and all(e.get("MESSAGE_ID") == ID["appeared"] for e in ents),
          "journalctl -u tcpstated TCPSTATE_TO=ESTABLISHED: both ends of the test connection "
          "(%d entries)" % len(ents or []))

    def summary():
        return [e for e in entries(sb, "-u %s MESSAGE_ID=%s" % (UNIT, ID["summary"]))
                if "8080" in port_of(e)]
    s = wait_for("summary entries", lambda: len(summary()) >= 2 and summary(), 10)
    figures = [{k[9:]: v for k, v in e.items() if k.startswith("TCPSTATE_") and k[9:] in (
        "LIFETIME_US", "BYTES_SENT", "BYTES_RECEIVED", "RETRANS", "RTT_US")} for e in s or []]
    check(s and all(len(f) == 5 and int(f["LIFETIME_US"]) > 0 and int(f["BYTES_RECEIVED"]) > 0
                    for f in figures),
          "both ends' summaries carry their figures: %s" % figures)
    out = sb.inside("journalctl -u %s TCPSTATE_TO=ESTABLISHED TCPSTATE_LPORT=8080 -x -n 1 "
                    "--no-pager" % UNIT).stdout
    check("tcpstated saw a TCP socket it had not seen before" in out and
          "Subject: TCP socket appeared: 127.0.0.1:8080" in out and "@TCPSTATE" not in out,
          "journalctl -x shows the catalog's text for a transition: %r" % out[-400:])
    out = sb.inside("journalctl -u %s MESSAGE_ID=%s -x --no-pager" % (UNIT, ID["started"])).stdout
    out = " ".join(out.replace("░░", " ").split())
    check("started with the configuration /etc/tcpstated/tcpstated.conf" in out,
          "the started entry, with its catalog text: %r" % out[-300:])


def under_load(sb):
    """2,000 connections a second for 10 s: the budget, the "not sent"
    entries, no journald suppression, nothing missing."""
    invocation = sb.show(UNIT, "InvocationID")["InvocationID"]
    t0 = time.monotonic()
    p = sb.popen("python3", "-c", LOAD_PY, "9000", str(LOAD_RATE), str(LOAD_S))
    out, _ = p.communicate(timeout=120)
    try:
        load = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        check(False, "load generator: %r" % out[-500:])
        return
    log("%d connections at %.0f a second in %.1f s" % (len(load["ports"]), load["rate"],
                                                       time.monotonic() - t0))
    check(load["rate"] > LOAD_RATE * 0.75, "load reached %.0f connections a second"
          % load["rate"])
    status = wait_for("status with not sent", lambda: "not sent to the journal" in sb.show(
        UNIT, "StatusText")["StatusText"] and sb.show(UNIT, "StatusText")["StatusText"], 5)
    check(status, "systemctl status counts what was not sent: %s" % status)
    # The stop sends the last "not sent" entry, whatever the time since the last.
    sb.inside("systemctl stop %s" % UNIT)
    text = sb.inside("cat %s" % LOG).stdout
    lines = text.splitlines()
    fields = "MESSAGE_ID,TCPSTATE_NOT_SENT,TCPSTATE_COOKIE,TCPSTATE_TO,__REALTIME_TIMESTAMP"
    ents = entries(sb, "_SYSTEMD_INVOCATION_ID=%s --output-fields=%s" % (invocation, fields))
    recs = [e for e in ents if e.get("MESSAGE_ID") in RECORD_IDS]
    reports = [e for e in ents if e.get("MESSAGE_ID") == ID["not_sent"]]
    not_sent = sum(int(e["TCPSTATE_NOT_SENT"]) for e in reports)
    ts = [int(e["__REALTIME_TIMESTAMP"]) for e in recs]
    span = (max(ts) - min(ts)) / 1e6 if ts else 0
    log("log: %d records; journal: %d records over %.1f s, %d \"not sent\" entries counting %d"
        % (len(lines), len(recs), span, len(reports), not_sent))
    check(len(lines) > BURST + RATE * span, "the load went over the budget")
    check(len(recs) <= BURST + RATE * span + 1,
          "journal records within the budget: %d <= %d + %d x %.1f s"
          % (len(recs), BURST, RATE, span))
    check(1 <= len(reports) <= math.ceil(span / REPORT_S) + 1,
          "one \"not sent\" entry per %d s at most: %d in %.1f s" % (REPORT_S, len(reports), span))
    check(len(recs) + not_sent == len(lines),
          "every record of the log file is in the journal or counted as not sent: "
          "%d + %d == %d" % (len(recs), not_sent, len(lines)))
    check(all("has them all" in sb.inside("journalctl -o cat MESSAGE_ID=%s" % ID["not_sent"])
                                .stdout.splitlines()[i] for i in range(len(reports))),
          "each \"not sent\" entry says the log file has them all")
    supp = [x for x in sb.inside("journalctl -o cat --no-pager").stdout.splitlines()
            if "Suppressed" in x]
    check(not supp, "journald suppressed nothing: %s" % supp[:3])
    # Both ends of every connection: the client's port as local port, and as
    # the remote port of the server's end.
    local, remote = set(), set()
    for line in lines:
        f = line.split()
        if len(f) > 5 and f[4].endswith(":9000"):
            local.add(f[2].rsplit(":", 1)[1])
        elif len(f) > 5 and f[2].endswith(":9000"):
            remote.add(f[4].rsplit(":", 1)[1])
    want = {str(x) for x in load["ports"]}
    check(not want - local and not want - remote,
          "the log file has both ends of the connections from all %d client ports (%d "
          "client, %d server ends missing)" % (len(want), len(want - local), len(want - remote)))


def many_hosts(build, stage_base):
    """systemd-journal-upload in one container to systemd-journal-remote in
    another, over the host's loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    recv = Sandbox("tcpstated-recv-%d" % os.getpid(), net="host")
    send = Sandbox("tcpstated-send-%d" % os.getpid(), net="host")
    with open(os.path.join(stage_base, "etc/hostname"), "w") as f:
        f.write(SENDER + "\n")
    try:
        r = recv.up()
        if r.returncode != 0:
            raise RuntimeError("receiver: sandbox up failed:\n%s%s" % (r.stdout, r.stderr))
        recv.inside("mkdir -p /var/log/journal/remote && systemd-run --unit=jr "
                    "/lib/systemd/systemd-journal-remote --listen-http=127.0.0.1:%d "
                    "--output=/var/log/journal/remote/" % port)
        boot(send, stage_base, "sender")
        check(send.inside("hostname").stdout.strip() == SENDER, "the sender is " + SENDER)
        r = send.inside("systemctl start %s && systemd-run --unit=ju "
                        "/lib/systemd/systemd-journal-upload --url=http://127.0.0.1:%d"
                        % (UNIT, port), check_rc=False)
        check(r.returncode == 0, "sender: tcpstated and systemd-journal-upload started: %s"
              % r.stderr.strip())
        # A port of its own: the host's loopback is shared.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            cport = s.getsockname()[1]
        send.popen("python3", "-c", ONE_PY, str(cport)).wait(timeout=30)
        t0 = time.monotonic()
        q = "-D /var/log/journal/remote _HOSTNAME=%s TCPSTATE_TO=ESTABLISHED TCPSTATE_LPORT=%d" \
            % (SENDER, cport)
        got = wait_for("the sender's entries on the receiver", lambda: entries(recv, q), 20,
                       0.2)
        log("on the receiver %.1f s after the connection ended" % (time.monotonic() - t0))
        check(got and all(e.get("_SYSTEMD_UNIT") == "tcpstated.service" and
                          e.get("TCPSTATE_LADDR") == "127.0.0.1" for e in got),
              "journalctl %s on the receiver: %d entries of tcpstated.service"
              % (q, len(got or [])))
        q2 = "-D /var/log/journal/remote _HOSTNAME=%s TCPSTATE_RPORT=%d TCPSTATE_TO=TIME_WAIT" \
             % (SENDER, cport)
        check(wait_for("TIME_WAIT on the receiver", lambda: entries(recv, q2), 10, 0.5),
              "and its client's TIME_WAIT: journalctl %s" % q2)
        log("receiver: %s entries from the sender, %s bytes of journal files" % (
            recv.inside("journalctl -D /var/log/journal/remote _HOSTNAME=%s -o cat | wc -l"
                        % SENDER).stdout.strip(),
            recv.inside("du -sb /var/log/journal/remote | cut -f1").stdout.strip()))
        local = entries(recv, "_HOSTNAME=%s" % SENDER)
        check(not local, "the receiver's own journal has none of them: they came by upload")
    finally:
        send.down()
        recv.down()


def main():
    build = preflight([("/lib/systemd/systemd-journal-remote", "systemd-journal-remote")])
    if isinstance(build, int):
        return build
    t_begin = time.monotonic()
    stage, _, _ = stage_install(build)
    sanitizer_dropin(stage)
    sb = Sandbox("tcpstated-journal-%d" % os.getpid())
    try:
        with open(os.path.join(stage, "etc/tcpstated/tcpstated.conf")) as f:
            shipped = f.read()
        check("\nenabled = yes\n" in shipped and "\nrate = %d\n" % RATE in shipped
              and "\nburst = %d\n" % BURST in shipped,
              "the installed configuration has the journal on, at %d a second, %d at once"
              % (RATE, BURST))
        boot(sb, stage, "one host")
        log("sandbox up after %.1f s" % (time.monotonic() - t_begin))
        out_of_the_box(sb)
        under_load(sb)
        sb.down()
        many_hosts(build, stage)
    finally:
        sb.down()
        shutil.rmtree(stage, ignore_errors=True)
    return T.summary(t_begin)


if __name__ == "__main__":
    sys.exit(main())
