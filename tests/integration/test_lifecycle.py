#!/usr/bin/env python3
"""One TCP connection through every state of its life, logged exactly.

Each transient state is held with an nftables rule until the daemon has logged
it, then the rule goes and the kernel's own retransmission moves the
connection on. Both ends are checked record by record: addresses, ports,
cookies (SO_COOKIE), uid and inode where the kernel reports them, how, and ts
order. Run for IPv4, IPv6 and v4-mapped IPv6, in both log formats, and twice
more with destroy notifications, which must tell the same story.

Run by hand: see README.md in this directory.
"""

import socket

from tcpstate_testlib import (Daemon, Endpoint, Netns, accept, check_equal,
                              check_exact, connect, connect_finish,
                              connect_start, exchange, listener, loopback,
                              main, nft_drop, rst_close)


def fold_close_windows(records, cookie):
    """The server's close as the kernel may show it to a poll on a loaded
    machine, told the usual way. close() sets LAST_ACK before it orphans the
    socket, so a dump in between still reports its inode; and a dump takes a
    hash bucket's sockets before it fills in their messages, so a socket
    unhashed in between is reported in CLOSE, just before its end. Both are
    what the kernel said, in windows of microseconds that a preempted process
    can stretch; the records of COOKIE are folded back to LAST_ACK -> NONE.
    (The inode is on both either way: what was learnt once is carried.)"""
    out, last = [], None  # last: the latest record of COOKIE in OUT
    for r in records:
        if r["cookie"] == cookie:
            if ((r["from"], r["to"]) == ("CLOSE", "NONE") and last is not None
                    and (last["from"], last["to"]) == ("LAST_ACK", "CLOSE")):
                r["from"] = "LAST_ACK"
                out.remove(last)
            last = r
        out.append(r)
    return out


def lifecycle(family, fmt="json", listen_addr=None, connect_addr=None,
              destroy=False):
    """DESTROY: with destroy notifications, which time the changes that free
    a full socket (how "destroy") and leave everything else as it was."""
    addr = connect_addr or loopback(family)
    by_event = "destroy" if destroy else "poll"
    with Netns() as ns:
        # A listener from before the daemon: its record, and no other, is
        # "initial".
        srv = listener(family, listen_addr,
                       v6only=False if listen_addr == "::" else None)
        port = srv.getsockname()[1]
        lst = Endpoint(srv)
        d = Daemon(ns, fmt=fmt, destroy_events=destroy)
        d.wait_transition(lst, "NONE", "LISTEN")

        # a. Handshake. Dropping the server's SYN-ACKs holds the client in
        # SYN_SENT and the listener's request socket in SYN_RECV: each side
        # waits for a segment that never arrives. Once the rule is gone, the
        # next SYN-ACK (retransmitted after ~1 s, or sent in answer to the
        # client's retransmitted SYN) completes the handshake.
        with nft_drop(ns, f"tcp sport {port} tcp flags & (syn|ack) == syn|ack"):
            c = connect_start(family, addr, port)
            cli = Endpoint(c, peer=(addr, port))
            d.wait_transition(cli, "NONE", "SYN_SENT")
            req = d.wait_for(lambda r: r["to"] == "SYN_RECV"
                             and r["lport"] == port and r["rport"] == cli.lport,
                             "NONE -> SYN_RECV of the request socket")
        connect_finish(c)
        d.wait_transition(cli, "SYN_SENT", "ESTABLISHED")
        # Logged before accept(): the socket has no inode yet.
        d.wait_for(lambda r: r["to"] == "ESTABLISHED" and r["lport"] == port
                   and r["rport"] == cli.lport,
                   "the server side's record into ESTABLISHED")
        a = accept(srv)
        acc = Endpoint(a)
        # The kernel gives the new socket the request socket's cookie when
        # one was generated (inet_csk_clone_lock), and the daemon generated
        # one by dumping the request socket: to the kernel and to the log,
        # request socket and accepted socket are one socket.
        check_equal(acc.cookie, req["cookie"],
                    "cookie of the accepted socket vs its request socket's")
        exchange(c, a)

        # b. The client closes. Dropping everything from the server holds the
        # client in FIN_WAIT1 (its FIN is never acknowledged) while the
        # server, which did get the FIN, goes to CLOSE_WAIT. Once the rule is
        # gone, the client's retransmitted FIN is acknowledged: FIN_WAIT2.
        # The client's socket is closed, so the kernel turns it into a
        # FIN_WAIT2 minisocket: no uid and no inode from then on.
        with nft_drop(ns, f"tcp sport {port}"):
            c.close()
            d.wait_transition(cli, "ESTABLISHED", "FIN_WAIT1")
            d.wait_transition(acc, "ESTABLISHED", "CLOSE_WAIT")
        d.wait_transition(cli, "FIN_WAIT1", "FIN_WAIT2")

        # c. The server closes. Dropping everything from the client holds the
        # server in LAST_ACK (its FIN is never acknowledged) while the client,
        # which did get the FIN, goes to TIME_WAIT. Once the rule is gone, the
        # server's retransmitted FIN is acknowledged from TIME_WAIT and the
        # server's socket is gone.
        with nft_drop(ns, f"tcp dport {port}"):
            a.close()
            d.wait_transition(acc, "CLOSE_WAIT", "LAST_ACK")
            d.wait_transition(cli, "FIN_WAIT2", "TIME_WAIT")
        d.wait_for(lambda r: r["cookie"] == acc.cookie and r["to"] == "NONE",
                   f"the end of {acc}")

        # A second connection, reset. Opened with the daemon stopped so that
        # it first sees both ends established; a connection over loopback
        # passes SYN_SENT and SYN_RECV in microseconds, and a poll that
        # happened to land there would make the records vary.
        with d.paused():
            c2 = connect(family, addr, port)
            a2 = accept(srv)
        cli2, acc2 = Endpoint(c2), Endpoint(a2)
        d.wait_transition(cli2, "NONE", "ESTABLISHED")
        d.wait_transition(acc2, "NONE", "ESTABLISHED")
        # RST: the client's socket is gone at once, and so is the server's
        # (a reset socket leaves the kernel's tables even while the
        # application still holds it).
        rst_close(c2)
        d.wait_transition(cli2, "ESTABLISHED", "NONE")
        if destroy:
            # With notifications the first poll that misses it asks the
            # kernel, which no longer has it: closed under its application.
            # Its notification, when the application lets go, ends it.
            d.wait_transition(acc2, "ESTABLISHED", "CLOSE")
            a2.close()
            d.wait_transition(acc2, "CLOSE", "NONE")
        else:
            d.wait_transition(acc2, "ESTABLISHED", "NONE")
            a2.close()

        d.sync()  # anything more the daemon had to say is now in the log
        records = fold_close_windows([dict(r) for r in d.records()], acc.cookie)
        if destroy:
            # The orphan's full socket is freed when it becomes a FIN_WAIT2
            # minisocket, at once or from a timer: its notification times
            # the change into FIN_WAIT2 or, when a poll saw the full socket
            # in FIN_WAIT2 first, the next one. One of the two, then.
            steps = [r for r in records if r["cookie"] == cli.cookie
                     and r["from"] in ("FIN_WAIT1", "FIN_WAIT2")]
            check_equal(sorted(r["how"] for r in steps), ["destroy", "poll"],
                        f"how of the client's last two records {steps}")
            for r in steps:
                r["how"] = "poll"
        check_exact(records, [
            [lst.record("NONE", "LISTEN", how="initial")],
            [cli.record("NONE", "SYN_SENT"),
             cli.record("SYN_SENT", "ESTABLISHED"),
             # The owner learnt once is on every later record, the
             # orphan's and the minisocket's too.
             cli.record("ESTABLISHED", "FIN_WAIT1"),
             cli.record("FIN_WAIT1", "FIN_WAIT2"),
             cli.record("FIN_WAIT2", "TIME_WAIT")],
            [acc.record("NONE", "SYN_RECV", uid=False, inode=False),
             acc.record("SYN_RECV", "ESTABLISHED", inode=False),
             acc.record("ESTABLISHED", "CLOSE_WAIT"),
             acc.record("CLOSE_WAIT", "LAST_ACK"),
             acc.record("LAST_ACK", "NONE", how=by_event)],
            [cli2.record("NONE", "ESTABLISHED"),
             cli2.record("ESTABLISHED", "NONE", how=by_event)],
            # The server's end, reset, leaves the tables while its
            # application still holds it: no notification until it is
            # closed, so absence from the dumps tells (after a hold of 1 s
            # with notifications on).
            [acc2.record("NONE", "ESTABLISHED"),
             acc2.record("ESTABLISHED", "CLOSE"),
             acc2.record("CLOSE", "NONE", how="destroy")] if destroy else
            [acc2.record("NONE", "ESTABLISHED"),
             acc2.record("ESTABLISHED", "NONE")],
        ], ignore=d.markers)
        d.stop()
        srv.close()


def test_ipv4_json():
    lifecycle(socket.AF_INET)


def test_ipv6_json():
    lifecycle(socket.AF_INET6)


def test_v4mapped_json():
    # An IPv6 socket talking IPv4: a dual-stack listener on :: and an
    # AF_INET6 client connecting to ::ffff:127.0.0.1. Every record says
    # "ipv6" with v4-mapped addresses.
    lifecycle(socket.AF_INET6, listen_addr="::", connect_addr="::ffff:127.0.0.1")


def test_ipv4_text():
    lifecycle(socket.AF_INET, fmt="text")


def test_ipv4_json_destroy():
    lifecycle(socket.AF_INET, destroy=True)


def test_ipv6_text_destroy():
    lifecycle(socket.AF_INET6, fmt="text", destroy=True)


def test_ipv6_text():
    lifecycle(socket.AF_INET6, fmt="text")


if __name__ == "__main__":
    main([test_ipv4_json, test_ipv6_json, test_v4mapped_json, test_ipv4_text,
          test_ipv6_text, test_ipv4_json_destroy, test_ipv6_text_destroy])
