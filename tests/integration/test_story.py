#!/usr/bin/env python3
"""One connection, told whole (issue 11): what every record of a connection
carries beyond its move, checked on every record of each case, IPv4 and IPv6.

- in_state_us on every record from a state, equal to the time between the
  record that entered that state and this one;
- role (client, server) and peer (the other end's cookie) on every record of
  both ends of a loopback connection;
- the owner learnt once (uid, inode) on every later record and the summary;
- the summary's outcome and closer: an orderly close from each side, a RST
  from each side (SO_LINGER {1, 0}), a refused connect, a SYN timeout;
- a reset end its application still holds: logged going to CLOSE by the
  first poll after the RST, ended by its notification when it is closed;
- no figures the kernel zeroed (the aborting end's summary has none);
- [filter] states applies to summaries as to the connection's records.

Run by hand: see README.md in this directory.
"""

import datetime
import socket
import time

from tcpstate_testlib import (Daemon, Endpoint, Netns, accept, check,
                              check_equal, check_valid_paths, connect, cookie,
                              exchange, listener, loopback, main, nft_drop, rst_close,
                              show)


def _ts(r):
    t = datetime.datetime.strptime(r["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
    return t.replace(tzinfo=datetime.timezone.utc)


def check_story(d, ep, role, peer, outcome, closer):
    """Every record and the summary of EP: in_state_us, role, peer, owner."""
    recs = [r for r in d.records() if r["cookie"] == ep.cookie]
    sums = [s for s in d.summaries() if s["cookie"] == ep.cookie]
    check(recs, f"no records of {ep}")
    check_equal(len(sums), 1, f"summaries of {ep}: {show(sums)}")
    for prev, r in zip([None] + recs, recs):
        check_equal(r.get("role"), role, f"role of {r}")
        check_equal(r.get("peer"), peer, f"peer of {r}")
        check_equal((r.get("uid"), r.get("inode")), (ep.uid, ep.inode),
                    f"owner of {r}")
        if r["from"] == "NONE":
            check("in_state_us" not in r, f"in_state_us from NONE in {r}")
            continue
        us = (_ts(r) - _ts(prev)).days * 86400e6 + \
            (_ts(r) - _ts(prev)).seconds * 1e6 + (_ts(r) - _ts(prev)).microseconds
        check_equal(r.get("in_state_us"), int(us),
                    f"in_state_us of {r} after {prev}")
    s = sums[0]
    check_equal((s.get("outcome"), s.get("closer")), (outcome, closer),
                f"outcome of {ep}: {s}")
    check_equal((s.get("role"), s.get("peer"), s.get("uid"), s.get("inode")),
                (role, peer, ep.uid, ep.inode), f"the summary of {ep}: {s}")
    return recs, s


def wait_summaries(d, cookies):
    """Waits until the daemon wrote a summary for each of COOKIES."""
    d.wait_log(lambda recs: all(any(s["cookie"] == c for s in d.summaries())
                                for c in cookies) or None,
               f"the summaries of {cookies}")


def pair(ns, family, d, srv):
    """A loopback connection both of whose ends a poll saw established."""
    port = srv.getsockname()[1]
    with d.paused():
        c = connect(family, loopback(family), port)
        a = accept(srv)
    cli, acc = Endpoint(c), Endpoint(a)
    d.wait_transition(cli, "NONE", "ESTABLISHED")
    d.wait_transition(acc, "NONE", "ESTABLISHED")
    exchange(c, a)
    return c, a, cli, acc


def orderly(family, client_first):
    with Netns() as ns:
        srv = listener(family)
        d = Daemon(ns, destroy_events=True)
        d.sync()
        c, a, cli, acc = pair(ns, family, d, srv)
        first, second = (c, a) if client_first else (a, c)
        fe, se = (cli, acc) if client_first else (acc, cli)
        first.close()
        # The side that read the FIN sits in CLOSE_WAIT until it closes.
        d.wait_transition(se, "ESTABLISHED", "CLOSE_WAIT")
        time.sleep(0.1)
        second.close()
        wait_summaries(d, (fe.cookie, se.cookie))
        check_story(d, fe, "client" if client_first else "server", se.cookie, "fin", "local")
        check_story(d, se, "server" if client_first else "client", fe.cookie, "fin", "remote")
        check_valid_paths(d.records())
        d.stop()


def reset(family, client_aborts):
    with Netns() as ns:
        srv = listener(family)
        d = Daemon(ns, destroy_events=True)
        d.sync()
        c, a, cli, acc = pair(ns, family, d, srv)
        ab, other = (c, a) if client_aborts else (a, c)
        abe, oe = (cli, acc) if client_aborts else (acc, cli)
        rst_close(ab)
        reset_at = time.time()
        # The other end holds its reset socket a while: the first poll that
        # misses it says it went to CLOSE, its notification later ends it.
        closed = d.wait_transition(oe, "ESTABLISHED", "CLOSE")
        late = _ts(closed).timestamp() - reset_at
        print(f"  the reset end's move to CLOSE logged {late * 1e3:.1f} ms after the RST")
        # One poll is 20 ms here; the margin is for a loaded machine, far
        # below the 1 s hold that timed it before.
        check(late < 0.25, f"the reset logged {late:.3f} s after the RST")
        time.sleep(0.2)
        other.close()
        wait_summaries(d, (abe.cookie, oe.cookie))
        _, s = check_story(d, abe, "client" if client_aborts else "server", oe.cookie,
                           "reset", "local")
        # tcp_disconnect() zeroed the aborting end's figures: none written.
        check("bytes_sent" not in s and "rtt_us" not in s, f"zeroed figures in {s}")
        recs, s = check_story(d, oe, "server" if client_aborts else "client", abe.cookie,
                              "reset", "remote")
        check_equal([(r["from"], r["to"], r["how"]) for r in recs],
                    [("NONE", "ESTABLISHED", "poll"), ("ESTABLISHED", "CLOSE", "poll"),
                     ("CLOSE", "NONE", "destroy")], f"the reset end's records: {show(recs)}")
        # exchange(): 4 bytes each way; a client's bytes_acked counts its SYN.
        check_equal((s.get("bytes_sent"), s.get("bytes_received")),
                    (4, 4) if client_aborts else (5, 4),
                    f"figures of the end that received the RST: {s}")
        check_valid_paths(d.records())
        d.stop()


def refused(family):
    with Netns() as ns:
        d = Daemon(ns, destroy_events=True)
        d.sync()
        c = socket.socket(family, socket.SOCK_STREAM)
        try:
            c.connect((loopback(family), 9))
            check(False, "a connect to a closed port succeeded")
        except ConnectionRefusedError:
            pass
        ck = cookie(c)
        c.close()
        wait_summaries(d, (ck,))
        sums = [x for x in d.summaries() if x["cookie"] == ck]
        check_equal(len(sums), 1, f"summaries of the refused socket {ck}")
        s = sums[0]
        check_equal((s.get("outcome"), s.get("closer"), s.get("role")),
                    ("refused", "remote", "client"), f"the refused connect's summary {s}")
        check("bytes_sent" not in s, f"zeroed figures in {s}")
        recs = [r for r in d.records() if r["cookie"] == ck]
        for r in recs:
            check_equal(r.get("role"), "client", f"role of {r}")
        d.stop()


def syn_timeout(family):
    with Netns() as ns:
        ns.sysctl("net.ipv4.tcp_syn_retries", "1")  # gives up after 1 + 2 s
        srv = listener(family)
        port = srv.getsockname()[1]
        d = Daemon(ns, destroy_events=True)
        d.sync()
        c = socket.socket(family, socket.SOCK_STREAM)
        with nft_drop(ns, f"tcp dport {port}"):
            try:
                c.connect((loopback(family), port))
                check(False, "a connect through a drop succeeded")
            except (TimeoutError, OSError):
                pass
        ck = cookie(c)
        # The kernel gave up (tcp_write_err()): the socket is closed, and
        # held by this process until it lets go.
        d.wait_for(lambda r: r["cookie"] == ck and r["to"] == "CLOSE", "SYN_SENT -> CLOSE")
        time.sleep(0.1)
        c.close()
        wait_summaries(d, (ck,))
        recs = [r for r in d.records() if r["cookie"] == ck]
        check_equal([(r["from"], r["to"], r["how"]) for r in recs],
                    [("NONE", "SYN_SENT", "poll"), ("SYN_SENT", "CLOSE", "poll"),
                     ("CLOSE", "NONE", "destroy")], f"records: {show(recs)}")
        # tcp_syn_retries 1: the SYN at 0, again at 1 s, given up at 3 s.
        check(2_900_000 <= recs[1]["in_state_us"] <= 3_500_000,
              f"time in SYN_SENT of {recs[1]}")
        check(recs[2]["in_state_us"] >= 100_000, f"time in CLOSE of {recs[2]}")
        for r in recs:
            check_equal(r.get("role"), "client", f"role of {r}")
        sums = [x for x in d.summaries() if x["cookie"] == ck]
        check_equal((sums[0].get("outcome"), sums[0].get("role")), ("timeout", "client"),
                    f"the timed out connect's summary {sums}")
        d.stop()


def test_states_filter_summaries():
    # [filter] states lets a summary through when it lets some record of its
    # connection through: a connection seen ESTABLISHED has its summaries
    # under states = ESTABLISHED, and none under states = SYN_SENT. (The
    # filter hides the harness's markers: plain waits of several polls.)
    with Netns() as ns:
        srv = listener(socket.AF_INET)
        port = srv.getsockname()[1]
        for states, want in (("ESTABLISHED", True), ("SYN_SENT", False)):
            d = Daemon(ns, destroy_events=True, config=f"[filter]\nstates = {states}\n")
            time.sleep(0.3)
            c = connect(socket.AF_INET, "127.0.0.1", port)
            a = accept(srv)
            cli, acc = Endpoint(c), Endpoint(a)
            time.sleep(0.2)  # polls see both ends ESTABLISHED
            c.close()
            a.close()
            c2 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                c2.connect(("127.0.0.1", 9))
            except ConnectionRefusedError:
                pass
            ck = cookie(c2)
            c2.close()
            time.sleep(0.3)
            d.stop()
            got = {s["cookie"] for s in d.summaries()}
            # A poll may catch the client in SYN_SENT when the loaded host
            # defers loopback's softirq: that record lets its summary by too.
            syn = {r["cookie"] for r in d.records() if "SYN_SENT" in (r["from"], r["to"])}
            check_equal({cli.cookie, acc.cookie} & got,
                        {cli.cookie, acc.cookie} if want else {cli.cookie} & syn,
                        f"summaries under states = {states}: {got}")
            # The refused connect was only ever CLOSE: neither lets it by.
            check(ck not in got, f"the refused connect's summary under {states}")


def test_syn_timeout_v4():
    syn_timeout(socket.AF_INET)


def test_syn_timeout_v6():
    syn_timeout(socket.AF_INET6)


def test_fin_client_first_v4():
    orderly(socket.AF_INET, True)


def test_fin_server_first_v6():
    orderly(socket.AF_INET6, False)


def test_fin_server_first_v4():
    orderly(socket.AF_INET, False)


def test_fin_client_first_v6():
    orderly(socket.AF_INET6, True)


def test_rst_client_v4():
    reset(socket.AF_INET, True)


def test_rst_server_v6():
    reset(socket.AF_INET6, False)


def test_refused_v4():
    refused(socket.AF_INET)


def test_refused_v6():
    refused(socket.AF_INET6)


if __name__ == "__main__":
    main([test_fin_client_first_v4, test_fin_server_first_v4, test_fin_client_first_v6,
          test_fin_server_first_v6, test_rst_client_v4, test_rst_server_v6,
          test_refused_v4, test_refused_v6, test_syn_timeout_v4, test_syn_timeout_v6,
          test_states_filter_summaries])
