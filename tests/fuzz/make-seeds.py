#!/usr/bin/env python3
"""Writes the seed inputs of tests/fuzz/corpus/diag_parse/.

Seeds are one recvmsg() worth of netlink messages each:
  fixture-*     every chunk of the dumps in tests/fixtures/, as received
  msg-*         single messages cut from tests/fixtures/basic.dump, one per
                (family, state, kind), small enough for the fuzzer to mutate
  bad-*         hand-made malformed messages, one per error diag_parse_msg()
                must detect

Usage: tests/fuzz/make-seeds.py   (rewrites the seed files, keeps the rest)
"""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")
CORPUS = os.path.join(HERE, "corpus", "diag_parse")

TCPDIAG_GETSOCK = 18
NLM_F_MULTI = 2
INET_DIAG_SHUTDOWN = 8
INET_DIAG_MARK = 15
INET_DIAG_CGROUP_ID = 21
INET_DIAG_INFO = 2
SOCK_DIAG_BY_FAMILY = 20
AF_INET, AF_INET6 = 2, 10


def chunks(name):
    data = open(os.path.join(FIXTURES, name), "rb").read()
    off = 0
    while off < len(data):
        (n,) = struct.unpack_from("<I", data, off)
        yield data[off + 4:off + 4 + n]
        off += 4 + n


def messages(chunk):
    off = 0
    while off + 16 <= len(chunk):
        (n,) = struct.unpack_from("=I", chunk, off)
        yield chunk[off:off + n]
        off += (n + 3) & ~3


def align(b):
    return b + b"\0" * (-len(b) % 4)


def attr(atype, payload, nla_len=None):
    return align(struct.pack("=HH", 4 + len(payload) if nla_len is None else nla_len,
                             atype) + payload)


def diag_msg(family=AF_INET, state=1, sport=40000, dport=9000, cookie=0x100000001,
             uid=0, inode=1234):
    if family == AF_INET6:
        src = b"\0" * 15 + b"\1"
        dst = b"\0" * 10 + b"\xff\xff" + bytes([127, 0, 0, 1])
    else:
        src, dst = bytes([127, 0, 0, 1]) + b"\0" * 12, bytes([127, 0, 0, 2]) + b"\0" * 12
    return (struct.pack("=BBBB", family, state, 0, 0) + struct.pack(">HH", sport, dport)
            + src + dst + struct.pack("=III", 0, cookie & 0xffffffff, cookie >> 32)
            + struct.pack("=IIIII", 0, 1, 2, uid, inode))


def nlmsg(payload, nlmsg_len=None):
    n = 16 + len(payload) if nlmsg_len is None else nlmsg_len
    return struct.pack("=IHHII", n, TCPDIAG_GETSOCK, NLM_F_MULTI, 1, 0) + payload


def full(**kw):
    return nlmsg(diag_msg(**kw) + attr(INET_DIAG_SHUTDOWN, b"\0") + attr(INET_DIAG_MARK, b"\0" * 4)
                 + attr(INET_DIAG_CGROUP_ID, struct.pack("=Q", 0x1234)))


def write(name, data):
    with open(os.path.join(CORPUS, name), "wb") as f:
        f.write(data)


def main():
    os.makedirs(CORPUS, exist_ok=True)
    for fixture in ("basic", "many"):
        for i, c in enumerate(chunks(fixture + ".dump")):
            write(f"fixture-{fixture}-{i}", c)
    seen = set()
    for c in chunks("basic.dump"):
        for m in messages(c):
            if len(m) < 16 + 72:
                continue
            family, state = m[16], m[17]
            has_shutdown = len(m) > 88 and struct.unpack_from("=H", m, 90)[0] == INET_DIAG_SHUTDOWN
            key = (family, state, has_shutdown)
            if key not in seen:
                seen.add(key)
                kind = "full" if has_shutdown else "mini"
                write(f"msg-{'ipv6' if family == AF_INET6 else 'ipv4'}-{state}-{kind}", m)

    good = full()
    bad = {
        "empty": b"",
        "header-cut": good[:15],
        "nlmsg_len-past-buffer": good[:-1],
        "nlmsg_len-below-header": nlmsg(diag_msg(), nlmsg_len=8),
        "nlmsg_len-huge": nlmsg(diag_msg(), nlmsg_len=0x80000010),
        "payload-short": nlmsg(diag_msg()[:71]),
        "family-unix": full(family=1),
        "state-0": full(state=0),
        "state-13": full(state=13),
        "state-12-bare": nlmsg(diag_msg(state=12)),
        "shutdown-empty": nlmsg(diag_msg() + attr(INET_DIAG_SHUTDOWN, b"")),
        "attr-past-end": nlmsg(diag_msg() + attr(INET_DIAG_SHUTDOWN, b"\0", nla_len=64)),
        "attr-len-2": nlmsg(diag_msg() + attr(INET_DIAG_SHUTDOWN, b"\0", nla_len=2)),
        "cgroup-short": nlmsg(diag_msg() + attr(INET_DIAG_SHUTDOWN, b"\0")
                              + attr(INET_DIAG_CGROUP_ID, b"\0" * 4)),
        "attr-cut": nlmsg(diag_msg() + struct.pack("=H", 4)),
        "unaligned-end": nlmsg(diag_msg() + struct.pack("=HHB", 5, INET_DIAG_SHUTDOWN, 0)),
        "second-cut": full(family=AF_INET6) + full()[:60],
        "two-good-one-bad": full() + full(state=13) + full(family=AF_INET6, state=10),
    }
    for name, data in bad.items():
        write(f"bad-{name}", data)

    # Destroy notifications: state CLOSE, uid and inode 0, tcp_info whole,
    # cut short as an older kernel sends it, longer as a newer one, empty.
    def event(info, family=AF_INET):
        m = diag_msg(family=family, state=7, inode=0)
        m += attr(INET_DIAG_SHUTDOWN, b"\0") + attr(INET_DIAG_INFO, info)
        return struct.pack("=IHHII", 16 + len(m), SOCK_DIAG_BY_FAMILY, 0, 0, 0) + m
    tcp_info = bytes(range(232))
    for name, info in {"full": tcp_info, "short-104": tcp_info[:104],
                       "short-72": tcp_info[:72], "long": tcp_info + b"\7" * 40,
                       "empty": b""}.items():
        write(f"event-{name}", event(info))
    write("event-ipv6", event(tcp_info, family=AF_INET6))


if __name__ == "__main__":
    main()
