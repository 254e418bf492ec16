#!/usr/bin/env python3
"""Configuration errors, end to end: the real daemon, bad files and options.

Every case runs the binary named by $TCPSTATED (set by ctest) and checks the
exit status and that standard error names what is wrong: the file, the line
and the key for the configuration file (78, EX_CONFIG), the option as it was
written for the command line (64, EX_USAGE: an unknown option, a missing or
unexpected argument, or a value the option's key refuses). None of these runs reaches the point
where the daemon would start watching sockets: that needs a network namespace
and is tested elsewhere. A case that would start it anyway is killed by the
timeout and fails.
"""

import os
import subprocess
import sys
import tempfile

EX_USAGE = 64
EX_CONFIG = 78
EX_CANTCREAT = 73
TIMEOUT = 10  # seconds; every case here should take milliseconds

BINARY = os.environ.get("TCPSTATED") or (sys.argv[1] if len(sys.argv) > 1 else None)
SOURCE_DIR = os.environ.get(
    "TCPSTATED_SOURCE_DIR",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

CASES = []


def case(func):
    """Registers FUNC as a test case; it raises AssertionError to fail."""
    CASES.append(func)
    return func


class Result:
    def __init__(self, args, proc):
        self.args = args
        self.status = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    def describe(self):
        return (f"  command: {' '.join(self.args)}\n"
                f"  exit status: {self.status}\n"
                f"  stderr: {self.stderr.strip()!r}")


def run(*args):
    """Runs the daemon with ARGS and returns its Result."""
    argv = [BINARY, *args]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"still running after {TIMEOUT} s (did it start the daemon?)\n"
                             f"  command: {' '.join(argv)}")
    return Result(argv, proc)


def expect(res, status, *needles):
    """Checks RES's exit status and that its stderr holds every one of NEEDLES."""
    if res.status != status:
        raise AssertionError(f"expected exit status {status}\n{res.describe()}")
    for needle in needles:
        if needle not in res.stderr:
            raise AssertionError(f"stderr does not contain {needle!r}\n{res.describe()}")
    if status != 0 and not res.stderr.startswith("tcpstated: "):
        raise AssertionError(f"stderr does not start with 'tcpstated: '\n{res.describe()}")


def write_conf(tmp, text, name="tcpstated.conf"):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


GOOD = """\
[poll]
interval_ms = 250

[log]
path = /tmp/tcpstated-test-never-opened.log
format = json
max_size = 1G
keep = 3

[journal]
enabled = no
"""


def file_error(text, line, *needles):
    """A config file with TEXT fails with FILE:LINE and NEEDLES on stderr."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_conf(tmp, text)
        expect(run("--config", path, "--check-config"), EX_CONFIG, f"{path}:{line}:", *needles)
        # The same error stops the daemon itself, not only --check-config.
        expect(run("--config", path, "--interval-ms", "100"), EX_CONFIG, f"{path}:{line}:")


@case
def unknown_key():
    file_error("[poll]\ninterval_ms = 100\npoll_ms = 100\n", 3,
               "[poll] poll_ms", "unknown key")


@case
def unknown_section():
    file_error("[poll]\ninterval_ms = 100\n\n[output]\n", 4, "[output]", "unknown section")


@case
def bad_number():
    file_error("[poll]\ninterval_ms = fast\n", 2, "[poll] interval_ms", "expected a whole number")


@case
def number_out_of_range():
    file_error("[poll]\ninterval_ms = 5\n", 2, "[poll] interval_ms", "out of range")


@case
def trailing_junk():
    file_error("[poll]\ninterval_ms = 100ms\n", 2, "[poll] interval_ms", '"100ms"')
    file_error("[log]\nmax_size = 100 MB\n", 2, "[log] max_size", '"100 MB"')


@case
def duplicate_key():
    file_error("[log]\nkeep = 3\nformat = text\nkeep = 4\n", 4,
               "[log] keep", "given twice (first at line 2)")


@case
def missing_equals():
    file_error("[poll]\ninterval_ms 100\n", 2, 'expected "key = value"')


@case
def keep_zero():
    file_error("[log]\nkeep = 0\n", 2, "[log] keep", "out of range")


@case
def continuation_line():
    file_error("[log]\npath = /var/log/a\n    b.log\n", 3, "[log] path", "indented line")


@case
def bad_boolean():
    file_error("[journal]\nenabled = maybe\n", 2, "[journal] enabled", "expected yes or no")


@case
def nonexistent_config():
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "nonexistent.conf")
        expect(run("--config", path), EX_CONFIG, f"{path}: No such file or directory")


@case
def config_is_directory():
    with tempfile.TemporaryDirectory() as tmp:
        expect(run("--config", tmp), EX_CONFIG, f"{tmp}: is a directory")


@case
def bad_interval_option():
    # A bad value on the command line is a bad command line (64), named by
    # its option, whatever the file says; only the file's errors are 78.
    with tempfile.TemporaryDirectory() as tmp:
        path = write_conf(tmp, GOOD)
        expect(run("--config", path, "--interval-ms", "5"), EX_USAGE,
               "--interval-ms", "interval_ms", "out of range")
        expect(run("--config", path, "--interval-ms", "10x"), EX_USAGE,
               "--interval-ms", '"10x"')
        expect(run("--interval-ms=", "--check-config"), EX_USAGE,
               "--interval-ms: [poll] interval_ms: empty value")


@case
def bad_format_option():
    with tempfile.TemporaryDirectory() as tmp:
        path = write_conf(tmp, GOOD)
        expect(run("--config", path, "--format", "xml"), EX_USAGE,
               "--format", '"xml"', "expected text or json")
        # The option is checked before the file is read.
        bad = write_conf(tmp, "[poll]\ninterval_ms = 5\n", "bad.conf")
        expect(run("--config", bad, "--format", "xml", "--check-config"), EX_USAGE,
               "--format")


@case
def bad_path_and_netns_options():
    expect(run("--log-file", "", "--check-config"), EX_USAGE,
           "--log-file: [log] path: empty value")
    expect(run("--netns", "..", "--check-config"), EX_USAGE,
           '--netns: [poll] netns: ".." is not a namespace name')
    # In a list, each item is checked and the bad one named.
    expect(run("--netns", "blue web-[ab", "--check-config"), EX_USAGE,
           '--netns: [poll] netns: "web-[ab" has a "[" that no "]" closes')


@case
def check_config_dynamic_netns():
    # A dynamic spec is searched for, not opened as one namespace: "all"
    # matches at least ours, a glob that matches nothing is no error.
    res = run("--netns", "all", "--check-config")
    expect(res, 0)
    counts = [line for line in res.stdout.splitlines()
              if line.startswith("# [poll] netns matches ")]
    if len(counts) != 1 or counts[0].split()[4] in ("0", "network"):
        raise AssertionError(f"--check-config --netns all: no count:\n{res.stdout}")
    res = run("--netns", "tcpstated-test-none-* /run/netns/tcpstated-none", "--check-config")
    expect(res, 0)
    if "# [poll] netns matches 0 network namespaces now" not in res.stdout.splitlines():
        raise AssertionError(f"--check-config with a glob:\n{res.stdout}")


@case
def check_config_good():
    with tempfile.TemporaryDirectory() as tmp:
        path = write_conf(tmp, GOOD)
        res = run("--config", path, "--check-config", "--format", "text")
        expect(res, 0)
        for line in ("interval_ms = 250", "format = text", "max_size = 1G", "keep = 3",
                     "path = /tmp/tcpstated-test-never-opened.log", "enabled = no"):
            if line not in res.stdout.splitlines():
                raise AssertionError(f"--check-config output lacks {line!r}:\n{res.stdout}")
        # What it prints is a configuration file that reads back the same.
        again = write_conf(tmp, res.stdout, "printed.conf")
        res2 = run("--config", again, "--check-config")
        expect(res2, 0)
        body = [l for l in res.stdout.splitlines() if not l.startswith("#")]
        body2 = [l for l in res2.stdout.splitlines() if not l.startswith("#")]
        if body != body2:
            raise AssertionError(f"printed configuration does not read back the same:\n"
                                 f"{res.stdout}\n---\n{res2.stdout}")


@case
def habits_from_other_files():
    # Quotes, '#' comments after a value, a mode without its 0, state names
    # as ss spells them: each means what its writer meant.
    with tempfile.TemporaryDirectory() as tmp:
        path = write_conf(tmp, "[poll]\ninterval_ms = 250 # four a second\n"
                               "[log]\npath = \"/tmp/q.log\"\nmode = 644\n"
                               "[filter]\nstates = established time-wait Fin-Wait-1\n")
        res = run("--config", path, "--check-config")
        expect(res, 0)
        for line in ("interval_ms = 250", "path = /tmp/q.log", "mode = 0644",
                     "states = ESTABLISHED FIN_WAIT1 TIME_WAIT"):
            if line not in res.stdout.splitlines():
                raise AssertionError(f"--check-config output lacks {line!r}:\n{res.stdout}")
    # What cannot be meant one way fails, saying what to write.
    file_error("[log]\npath = \"/tmp/q.log\n", 2, "[log] path: unmatched quote",
               "write it without them")
    file_error("[filter]\nstates = timewait\n", 2, '"timewait" is not a TCP state',
               "TIME_WAIT", "or as ss spells them")


@case
def check_config_shipped():
    path = os.path.join(SOURCE_DIR, "conf", "tcpstated.conf")
    res = run("--config", path, "--check-config")
    expect(res, 0)
    for line in ("interval_ms = 100", "path = /var/log/tcpstated/transitions.log",
                 "format = text", "max_size = 100M", "keep = 10", "enabled = yes",
                 "rate = 200", "burst = 2000"):
        if line not in res.stdout.splitlines():
            raise AssertionError(f"shipped config: output lacks {line!r}:\n{res.stdout}")


@case
def check_config_bad():
    with tempfile.TemporaryDirectory() as tmp:
        path = write_conf(tmp, GOOD + "[journal]\nenabled = yes\n")
        res = run("--config", path, "--check-config")
        expect(res, EX_CONFIG, f"{path}:13:", "[journal] enabled", "given twice")
        if res.stdout:
            raise AssertionError(f"printed a configuration despite the error:\n{res.stdout}")


@case
def log_path_cannot_be_created():
    with tempfile.TemporaryDirectory() as tmp:
        conf = write_conf(tmp, GOOD)
        plain = write_conf(tmp, "", "plain-file")
        for log in ("/proc/nonexistent/x.log", os.path.join(plain, "x.log")):
            expect(run("--config", conf, "--log-file", log, "--interval-ms", "100"),
                   EX_CANTCREAT, log)


@case
def bad_command_line():
    for args, needle in ((["--bogus"], "tcpstated: --bogus: unknown option\n"),
                         (["--bogus=1"], "tcpstated: --bogus: unknown option\n"),
                         (["-x"], "tcpstated: -x: unknown option\n"),
                         (["-nx"], "tcpstated: -x: unknown option\n"),
                         (["--once", "-xn"], "tcpstated: -x: unknown option\n"),
                         (["--config"], "tcpstated: --config: missing argument\n"),
                         (["-n", "-c"], "tcpstated: -c: missing argument\n"),
                         (["--c"], "tcpstated: --c: ambiguous option "
                                   "(--config or --check-config)\n"),
                         (["stray"], "unexpected argument 'stray'")):
        res = run(*args)
        expect(res, EX_USAGE, needle, "Usage: tcpstated")


@case
def option_named_as_written():
    # An argument to an option that takes none: the option by its own name
    # (it was "-\0", "-h", "-n", "-V"), and never a NUL byte.
    for opt in ("--once", "--help", "--check-config", "--version"):
        for arg in (f"{opt}=yes", f"{opt}="):
            res = run(arg)
            expect(res, EX_USAGE, f"tcpstated: {opt}: takes no argument\n")
            if "\0" in res.stderr:
                raise AssertionError(f"NUL byte on stderr\n{res.describe()}")
    # A long option in the middle, after a non-option argument that getopt
    # moves to the end.
    expect(run("stray", "--once=1"), EX_USAGE, "tcpstated: --once: takes no argument\n")


@case
def version_and_help():
    for args, needle in ((["--version"], "tcpstated "), (["-V"], "tcpstated "),
                         (["--help"], "Usage: tcpstated"), (["-h"], "--check-config")):
        res = run(*args)
        if res.status != 0 or needle not in res.stdout:
            raise AssertionError(f"expected exit 0 and {needle!r} on stdout\n{res.describe()}"
                                 f"\n  stdout: {res.stdout!r}")


def main():
    if not BINARY:
        print("usage: TCPSTATED=path/to/tcpstated test_config_errors.py", file=sys.stderr)
        return 2
    passed = failed = 0
    for func in CASES:
        try:
            func()
        except AssertionError as e:
            failed += 1
            print(f"FAIL {func.__name__}: {e}")
        else:
            passed += 1
            print(f"ok   {func.__name__}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
