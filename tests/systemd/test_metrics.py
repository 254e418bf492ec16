#!/usr/bin/env python3
"""The metrics, end to end: tcpstated's textfile through node_exporter into
Prometheus, under a real systemd.

Boots a throw-away systemd container (systemd-sandbox.sh) with this build
installed and Debian's prometheus-node-exporter and prometheus running
(SANDBOX_UNMASK), Prometheus scraping node_exporter every second. tcpstated
starts with the installed configuration; a script holds connections in
known states over IPv6 loopback (Prometheus and node_exporter talk over
IPv4, so the IPv6 counts are the script's alone): one handshake held in
SYN_SENT by nftables, two connections ESTABLISHED, three in CLOSE_WAIT. The
test then finds them in node_exporter's /metrics and through Prometheus's
query API, checks the file's place, mode and link, and that Prometheus
loaded the shipped alert rules.

Environment: TCPSTATED_BUILD_DIR (the build to install, required). Needs
root; exits 77 (skip) when systemd-nspawn, node_exporter or Prometheus
cannot be had.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sandboxlib import SANDBOX, Checks, Sandbox, preflight, stage_install  # noqa: E402

PROM = "/var/lib/prometheus/node-exporter/tcpstated.prom"
TARGET = "/var/lib/tcpstated/tcpstated.prom"
PORT = 8090

T = Checks("test_metrics")
log, check, wait_for = T.log, T.check, T.wait_for
SB = Sandbox("tcpstated-metrics-%d" % os.getpid())
inside = SB.inside

PROMETHEUS_YML = """global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - %s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:9100']
"""

# Runs inside the container, as root. Prints "ready" once every connection
# is in its state, and holds them until the file named by argv[1] appears.
HOLD_PY = r"""
import os, select, socket, subprocess, sys, time
stop, port = sys.argv[1], int(sys.argv[2])
def nft(text):
    subprocess.run(["nft", "-f", "-"], input=text, text=True, check=True)
srv = socket.socket(socket.AF_INET6); srv.bind(("::1", port)); srv.listen(16)
# A handshake held in SYN_SENT: the server's SYN-ACKs are dropped until
# several polls have seen it, then the retransmitted one completes it.
nft("table inet hold {\n chain input {\n type filter hook input priority 0;\n"
    " tcp sport %d tcp flags & (syn|ack) == syn|ack drop\n }\n}\n" % port)
c1 = socket.socket(socket.AF_INET6); c1.setblocking(False)
c1.connect_ex(("::1", port))
time.sleep(0.6)
nft("delete table inet hold")
select.select([], [c1], [], 10)
a1, _ = srv.accept()
c2 = socket.create_connection(("::1", port)); a2, _ = srv.accept()
# Three CLOSE_WAITs: each client closes once a poll has seen it
# established; the server never closes.
held = []
for _ in range(3):
    c = socket.create_connection(("::1", port)); a, _ = srv.accept()
    held.append((c, a))
time.sleep(0.5)
for c, _ in held:
    c.close()
print("ready", flush=True)
deadline = time.time() + 240
while not os.path.exists(stop) and time.time() < deadline:
    time.sleep(0.1)
"""

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def samples(text):
    """Exposition text as {(name, frozenset of (label, value)): float}."""
    out = {}
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if m and not line.startswith("#"):
            labels = frozenset(LABEL.findall(m.group(2) or ""))
            out[(m.group(1), labels)] = float(m.group(3))
    return out


def sample(s, name, **labels):
    return s.get((name, frozenset(labels.items())))


def http_get(url):
    """The body at URL, fetched inside the container, or None."""
    r = inside("python3 -c 'import sys, urllib.request; "
               "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "
               "'%s'" % url, check_rc=False, timeout=30)
    return r.stdout if r.returncode == 0 else None


def query(expr):
    """The value of the PromQL instant query EXPR (one series), or None."""
    body = http_get("http://127.0.0.1:9090/api/v1/query?query=" + urllib.parse.quote(expr))
    if not body:
        return None
    res = json.loads(body).get("data", {}).get("result", [])
    return float(res[0]["value"][1]) if len(res) == 1 else None


def stage_tree(stage):
    """Prometheus's configuration beside the staged install: the shipped
    rules loaded, node_exporter scraped every second."""
    rules = [os.path.join(d, f)[len(stage):] for d, _, fs in os.walk(stage) for f in fs
             if f == "tcpstated.rules.yml"]
    check(len(rules) == 1, "cmake --install staged the alert rules: %s" % rules)
    os.makedirs(os.path.join(stage, "etc/prometheus"), exist_ok=True)
    with open(os.path.join(stage, "etc/prometheus/prometheus.yml"), "w") as f:
        f.write(PROMETHEUS_YML % rules[0])
    # Both listen on IPv4 only: on their default [::] a connection from
    # 127.0.0.1 is accepted as an IPv6 socket (::ffff:127.0.0.1), which
    # would count among the script's.
    os.makedirs(os.path.join(stage, "etc/default"), exist_ok=True)
    for name, port in (("prometheus", 9090), ("prometheus-node-exporter", 9100)):
        with open(os.path.join(stage, "etc/default", name), "w") as f:
            f.write('ARGS="--web.listen-address=127.0.0.1:%d"\n' % port)


def run_steps():
    # What a package's postinst does, then the service as installed.
    # What a run in the foreground as root (README's quick start) leaves in
    # node_exporter's directory, a regular file of tcpstated's metrics: the
    # unit replaces it with its link (in the container only).
    r = inside("printf '# HELP tcpstated_sockets left by a foreground run\\n' > %s && "
               "systemd-sysusers tcpstated.conf && "
               "systemd-tmpfiles --create tcpstated.conf && "
               "systemctl restart prometheus prometheus-node-exporter && "
               "systemctl start tcpstated" % PROM, check_rc=False, timeout=90)
    check(r.returncode == 0, "installed, prometheus restarted, tcpstated started: %s"
          % r.stderr.strip())
    link = inside("readlink %s; stat -c '%%U %%a' /var/lib/prometheus/node-exporter; "
                  "ls /var/lib/prometheus/node-exporter" % PROM, check_rc=False).stdout.split("\n")
    check(link[:3] == [TARGET, "root 755", "tcpstated.prom"] and link[3:] in ([], [""]),
          "node_exporter's directory is root's, with one link to %s: %s" % (TARGET, link))

    stop = "/run/tcpstated-metrics-test-stop"
    holder = subprocess.Popen([SANDBOX, "exec", "--", "python3", "-c", HOLD_PY, stop,
                               str(PORT)], env=SB.env, stdout=subprocess.PIPE, text=True)
    try:
        if not check(holder.stdout.readline().strip() == "ready", "connections held"):
            return
        check_node_exporter()
        check_prometheus()
        st = inside("stat -c '%%U %%a' %s" % TARGET, check_rc=False).stdout.strip()
        check(st == "tcpstated 644", "%s is the daemon's, 0644: %s" % (TARGET, st))
        check(inside("ls %s.tmp" % TARGET, check_rc=False).returncode != 0,
              "no temporary file left")
    finally:
        inside("touch %s" % stop, check_rc=False)
        holder.wait(timeout=30)


def check_node_exporter():
    """The held states through node_exporter's /metrics; the file is
    rewritten every 15 s ([metrics] interval), so this waits for one."""
    def ready():
        body = http_get("http://127.0.0.1:9100/metrics")
        s = samples(body or "")
        if sample(s, "tcpstated_sockets", state="close_wait", family="ipv6") == 3:
            return s
        return None
    s = wait_for("the held connections in node_exporter's /metrics", ready, timeout=60,
                 step=1) or {}
    got = {
        "established ipv6": sample(s, "tcpstated_sockets", state="established", family="ipv6"),
        "close_wait ipv6": sample(s, "tcpstated_sockets", state="close_wait", family="ipv6"),
        "established -> close_wait": sample(s, "tcpstated_transitions_total",
                                            **{"from": "established", "to": "close_wait"}),
        "textfile errors": sample(s, "node_textfile_scrape_error"),
    }
    check(got == {"established ipv6": 4, "close_wait ipv6": 3, "established -> close_wait": 3,
                  "textfile errors": 0}, "node_exporter /metrics: %s" % got)
    hs = sample(s, "tcpstated_handshake_duration_seconds_count")
    hs_sum = sample(s, "tcpstated_handshake_duration_seconds_sum")
    check(hs is not None and hs >= 1 and hs_sum is not None and hs_sum >= 0.2,
          "the held handshake in the histogram: count %s, sum %s s" % (hs, hs_sum))
    check(sample(s, "tcpstated_build_info", version=ts_version()) == 1, "build_info")


def check_prometheus():
    """The same through Prometheus's query API."""
    def value(expr, want):
        return wait_for("%s == %s in Prometheus" % (expr, want),
                        lambda: query(expr) == want, timeout=30, step=1)
    check(value('tcpstated_sockets{state="established",family="ipv6"}', 4),
          "Prometheus: 4 established IPv6 sockets")
    check(value('tcpstated_transitions_total{from="established",to="close_wait"}', 3),
          "Prometheus: 3 ESTABLISHED -> CLOSE_WAIT transitions")
    check(value('tcpstated_handshake_duration_seconds_count >= bool 1', 1),
          "Prometheus: the handshake counted")
    check(value('sum(tcpstated_sockets) > bool 0', 1), "Prometheus: sockets summed")
    body = http_get("http://127.0.0.1:9090/api/v1/rules") or "{}"
    names = {r["name"] for g in json.loads(body).get("data", {}).get("groups", [])
             for r in g["rules"]}
    check("TcpstatedCloseWaitHeld" in names and len(names) == 7,
          "Prometheus loaded the shipped rules: %s" % sorted(names))


def ts_version():
    build = os.environ["TCPSTATED_BUILD_DIR"]
    out = subprocess.run([os.path.join(build, "tcpstated"), "--version"],
                         capture_output=True, text=True).stdout
    return out.split()[-1] if out else "?"


def main():
    build = preflight()
    if isinstance(build, int):
        return build
    missing = [t for t in ("prometheus", "prometheus-node-exporter", "nft")
               if not shutil.which(t)]
    if missing:
        print("SKIP: not installed: %s (.ci/deps test installs them)" % " ".join(missing))
        return 77
    SB.env["SANDBOX_UNMASK"] = "prometheus*"
    t_begin = time.monotonic()
    stage, _, _ = stage_install(build)
    try:
        stage_tree(stage)
        r = SB.up(stage)
        if r.returncode != 0:
            print(r.stdout + r.stderr, file=sys.stderr)
            return 1
        run_steps()
    finally:
        SB.down()
        shutil.rmtree(stage, ignore_errors=True)
    return T.summary(t_begin)


if __name__ == "__main__":
    sys.exit(main())
