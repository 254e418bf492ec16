"""What the systemd tests share: a build staged with cmake --install, a
throw-away systemd container (systemd-sandbox.sh) to drive it in, checks
that are counted, and waiting for a condition with a deadline."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SANDBOX = os.path.join(HERE, "systemd-sandbox.sh")


class Checks:
    """Named checks, each logged as ok or FAIL; the failures are kept."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.failures = []

    def log(self, msg):
        print("%s: %s" % (self.prefix, msg), flush=True)

    def check(self, cond, what):
        self.log(("ok   " if cond else "FAIL ") + what)
        if not cond:
            self.failures.append(what)
        return cond

    def summary(self, t_begin):
        """Logs the time since T_BEGIN and each failure; returns the exit status."""
        self.log("done in %.1f s, %d failure(s)" % (time.monotonic() - t_begin,
                                                    len(self.failures)))
        for f in self.failures:
            self.log("failed: " + f)
        return 1 if self.failures else 0

    def wait_for(self, what, fn, timeout=15.0, step=0.1):
        """Polls FN until it returns a true value (returned) or TIMEOUT passes (None)."""
        deadline = time.monotonic() + timeout
        while True:
            v = fn()
            if v:
                return v
            if time.monotonic() > deadline:
                self.log("timed out waiting for " + what)
                return None
            time.sleep(step)


class Sandbox:
    """One systemd container, named NAME, on a private network or the host's (NET)."""

    def __init__(self, name, net="private"):
        self.env = dict(os.environ, SANDBOX_NAME=name, SANDBOX_NET=net,
                        SANDBOX_BOOT_TIMEOUT="60")

    def run(self, *args, check_rc=True, timeout=60, inp=None):
        r = subprocess.run([SANDBOX, *args], env=self.env, capture_output=True, text=True,
                           timeout=timeout, input=inp)
        if check_rc and r.returncode != 0:
            raise RuntimeError("%s: exit %d\n%s%s" % (" ".join(args), r.returncode, r.stdout,
                                                      r.stderr))
        return r

    def inside(self, cmd, check_rc=True, timeout=60, inp=None):
        """Runs the shell command CMD in the container; returns the CompletedProcess."""
        return self.run("exec", "--", "sh", "-c", cmd, check_rc=check_rc, timeout=timeout,
                        inp=inp)

    def popen(self, *argv):
        """Starts ARGV in the container without waiting; returns the Popen."""
        return subprocess.Popen([SANDBOX, "exec", "--", *argv], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def up(self, stage=None):
        return subprocess.run([SANDBOX, "up", *([stage] if stage else [])], env=self.env,
                              capture_output=True, text=True, timeout=120)

    def down(self):
        self.run("down", check_rc=False, timeout=90)

    def exposure(self, unit, log):
        """systemd-analyze security's overall exposure of UNIT (99 when it
        gives none), logged with the settings it marks unsafe."""
        r = self.inside("systemd-analyze security %s --no-pager" % unit, check_rc=False)
        m = re.search(r"Overall exposure level for %s\.service: ([0-9.]+)" % re.escape(unit),
                      r.stdout)
        log("systemd-analyze security %s: %s" % (unit, m.group(0) if m else r.stdout[-500:]))
        for line in r.stdout.splitlines():
            if line.startswith("\u2717"):
                log("  " + " ".join(line.split()))
        return float(m.group(1)) if m else 99.0

    def show(self, unit, *props):
        out = self.inside("systemctl show %s -p %s" % (unit, ",".join(props))).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def have(path, package):
    """Whether PATH is there, installing PACKAGE with apt-get if not."""
    for cmd in ("apt-get install -y -q --no-install-recommends " + package,
                "apt-get update -q && apt-get install -y -q --no-install-recommends " + package):
        if shutil.which(path) or os.path.exists(path):
            return True
        subprocess.run(["sh", "-c", cmd], capture_output=True)
    return shutil.which(path) is not None or os.path.exists(path)


def preflight(needs=()):
    """What a test under systemd-nspawn needs: root, TCPSTATED_BUILD_DIR,
    systemd-nspawn, and each (path, package) of NEEDS. Returns the build
    directory, or the exit status to leave with (77: skip) after saying why."""
    if os.geteuid() != 0:
        print("SKIP: needs root (systemd-nspawn)")
        return 77
    build = os.environ.get("TCPSTATED_BUILD_DIR")
    if not build:
        print("TCPSTATED_BUILD_DIR is not set", file=sys.stderr)
        return 1
    for path, package in (("systemd-nspawn", "systemd-container"), *needs):
        if not have(path, package):
            print("SKIP: %s is not available and %s cannot be installed" % (path, package))
            return 77
    return build


def stage_install(build):
    """cmake --install of BUILD into a new staging tree; returns the tree and
    the daemon's path there, read from the staged unit's ExecStart=."""
    stage = tempfile.mkdtemp(prefix="tcpstated-stage-")
    subprocess.run(["cmake", "--install", build], check=True, capture_output=True,
                   env=dict(os.environ, DESTDIR=stage))
    units = [os.path.join(d, f) for d, _, fs in os.walk(stage) for f in fs
             if f == "tcpstated.service"]
    with open(units[0]) as f:
        sbin = re.search(r"^ExecStart=(\S+)$", f.read(), re.M).group(1)
    return stage, units, sbin


def sanitizer_dropin(stage):
    """Under TCPSTATED_SANITIZE: LeakSanitizer stops the process with ptrace
    at exit, which the unit's system-call filter forbids; ASan and UBSan stay
    on. The integration tests check leaks outside systemd."""
    if os.environ.get("TCPSTATED_SANITIZE", "OFF").upper() not in ("ON", "1", "YES", "TRUE"):
        return
    dropin = os.path.join(stage, "etc/systemd/system/tcpstated.service.d")
    os.makedirs(dropin, exist_ok=True)
    with open(os.path.join(dropin, "sanitizer.conf"), "w") as f:
        f.write("[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0\n")
