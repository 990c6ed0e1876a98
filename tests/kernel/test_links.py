"""Linked chains against the kernel: soft and hard links, submission-time rejection, short
reads, the chain API's per-member outcomes and the seed's patterns (copy with sync, durable
write, connect with timeout, send after connect, connect -> send -> recv). CQE order is
recorded through member callbacks, which the core calls in CQE order."""

from __future__ import annotations

import errno
import os
import socket

import pytest

from uring import ChainBroken, SubmissionQueueFull, ops
from uring.chain import Outcome
from uring._uapi import Opcode, SqeFlags
from tests.conftest import require_op

L = int(SqeFlags.IO_LINK)
H = int(SqeFlags.IO_HARDLINK)
ECANCELED = -errno.ECANCELED
ETIME = -errno.ETIME
OK, SHORT, FAILED, BROKEN = Outcome.OK, Outcome.SHORT, Outcome.FAILED, Outcome.CHAIN_BROKEN


class Recorder:
    """Member callbacks that log (tag, res, flags) of each posted CQE, in CQE order."""

    def __init__(self):
        self.cqes = []

    def __call__(self, tag):
        def callback(member, res, flags):
            if member.posted or flags & 2:
                self.cqes.append((tag, res, flags))
        return callback


def bad_nop():
    """A NOP the kernel rejects at submission (unknown nop_flags): -EINVAL."""
    s = ops.nop()
    s.unsafe_set(op_flags=0x80000000)
    return s


def outcomes(ch):
    return [(m.outcome, m.res) for m in ch]


@pytest.fixture
def data_fd(tmp_file):
    path, data = tmp_file
    fd = os.open(path, os.O_RDONLY)
    yield fd, data
    os.close(fd)


def test_soft_chain_of_three_succeeds_in_order(ring):
    rec = Recorder()
    with ring.chain() as ch:
        for tag in "abc":
            ch.nop(callback=rec(tag))
    ch.wait(timeout=5)
    assert rec.cqes == [("a", 0, 0), ("b", 0, 0), ("c", 0, 0)]
    assert outcomes(ch) == [(OK, 0)] * 3 and ch.ok and ch.broken_by is None
    assert ch.results() == [0, 0, 0]


def test_two_independent_chains_in_one_submit(ring):
    rec = Recorder()
    chains = []
    for tags in ("ab", "cd"):
        ch = ring.chain()
        for tag in tags:
            ch.nop(callback=rec(tag))
        chains.append(ch.queue())
    assert ring.submit() == 4
    for ch in chains:
        ch.wait(timeout=5)
    # Each chain in its own order; the kernel runs the two heads, then the two seconds.
    assert rec.cqes == [("a", 0, 0), ("c", 0, 0), ("b", 0, 0), ("d", 0, 0)]


def test_failing_head_cancels_every_later_member(ring):
    rec = Recorder()
    with ring.chain() as ch:
        ch.read(-1, bytearray(8), callback=rec("a"))
        ch.nop(callback=rec("b"))
        ch.nop(callback=rec("c"))
    ch.wait(timeout=5)
    assert rec.cqes == [("a", -errno.EBADF, 0), ("b", ECANCELED, 0), ("c", ECANCELED, 0)]
    assert outcomes(ch) == [(FAILED, -errno.EBADF), (BROKEN, ECANCELED), (BROKEN, ECANCELED)]
    assert ch.broken_by is ch[0] and ch[0].broke_chain
    with pytest.raises(OSError) as info:
        ch.results()
    assert info.value.errno == errno.EBADF
    with pytest.raises(ChainBroken):
        ch[1].op.result            # the Op tells the same story as the Member


def test_hard_link_keeps_going_after_a_failure(ring):
    rec = Recorder()
    with ring.chain() as ch:
        ch.timeout(0.01, hard=True, callback=rec("t"))
        ch.nop(callback=rec("n"))
    ch.wait(timeout=5)
    assert rec.cqes == [("t", ETIME, 0), ("n", 0, 0)]
    assert outcomes(ch) == [(FAILED, ETIME), (OK, 0)] and ch.broken_by is None


def test_soft_link_breaks_on_an_expired_timeout(ring):
    rec = Recorder()
    with ring.chain() as ch:
        ch.timeout(0.01, callback=rec("t"))
        ch.nop(callback=rec("n"))
    ch.wait(timeout=5)
    assert rec.cqes == [("t", ETIME, 0), ("n", ECANCELED, 0)]
    assert ch.broken_by is ch[0]


def test_mixed_links_decide_per_link(ring):
    rec = Recorder()
    with ring.chain() as ch:
        ch.read(-1, bytearray(8), hard=True, callback=rec("a"))   # fails, hard: b still runs
        ch.read(-1, bytearray(8), callback=rec("b"))              # fails, soft: c is cancelled
        ch.nop(callback=rec("c"))
    ch.wait(timeout=5)
    assert rec.cqes == [("a", -errno.EBADF, 0), ("b", -errno.EBADF, 0), ("c", ECANCELED, 0)]
    assert outcomes(ch) == [(FAILED, -errno.EBADF), (FAILED, -errno.EBADF), (BROKEN, ECANCELED)]
    assert ch.broken_by is ch[1]


@pytest.mark.parametrize("hard", [False, True], ids=["soft", "hard"])
def test_member_rejected_at_submission_cancels_the_whole_chain(ring, hard):
    rec = Recorder()
    with ring.chain(hard=hard) as ch:
        ch.nop(callback=rec("a"))
        ch.nop(callback=rec("b"))
        ch.add(bad_nop(), callback=rec("bad"))
        ch.nop(callback=rec("d"))
    ch.wait(timeout=5)
    # Members before the rejected one never ran either, hard links or not.
    assert rec.cqes == [("a", ECANCELED, 0), ("b", ECANCELED, 0), ("bad", -errno.EINVAL, 0),
                        ("d", ECANCELED, 0)]
    assert outcomes(ch) == [(BROKEN, ECANCELED), (BROKEN, ECANCELED), (FAILED, -errno.EINVAL),
                            (BROKEN, ECANCELED)]
    assert ch.broken_by is ch[2]


def test_short_read_breaks_the_chain(ring, data_fd):
    fd, data = data_fd
    rec = Recorder()
    buf = bytearray(4096)
    with ring.chain() as ch:
        ch.read(fd, buf, 4096, len(data) - 1000, callback=rec("read"))   # only 1000 bytes left
        ch.nop(callback=rec("nop"))
    ch.wait(timeout=5)
    assert rec.cqes == [("read", 1000, 0), ("nop", ECANCELED, 0)]
    assert outcomes(ch) == [(SHORT, 1000), (BROKEN, ECANCELED)]
    assert ch.broken_by is ch[0] and ch[0].result == 1000
    assert bytes(buf[:1000]) == data[-1000:]


def test_zero_at_eof_breaks_the_chain_too(ring, data_fd):
    fd, data = data_fd
    rec = Recorder()
    with ring.chain() as ch:
        ch.read(fd, bytearray(512), 512, len(data), callback=rec("read"))
        ch.nop(callback=rec("nop"))
    ch.wait(timeout=5)
    assert rec.cqes == [("read", 0, 0), ("nop", ECANCELED, 0)]
    assert outcomes(ch) == [(SHORT, 0), (BROKEN, ECANCELED)]


def test_short_read_over_a_hard_link_does_not_break(ring, data_fd):
    fd, data = data_fd
    with ring.chain() as ch:
        ch.read(fd, bytearray(4096), 4096, len(data) - 10, hard=True)
        ch.nop()
    ch.wait(timeout=5)
    assert outcomes(ch) == [(SHORT, 10), (OK, 0)] and ch.broken_by is None


def test_queue_chain_of_prepared_sqes(ring):
    ch = ring.queue_chain([ops.nop(), ops.timeout(0.01), ops.nop()], hard=True)
    ch.wait(timeout=5)
    assert outcomes(ch) == [(OK, 0), (FAILED, ETIME), (OK, 0)]


def test_chain_is_never_split_across_submits(make_ring):
    ring = make_ring(4)
    early = [ring.nop() for _ in range(3)]       # 3 of the 4 SQ slots are taken
    with ring.chain() as ch:
        for _ in range(4):
            ch.nop()
    # The chain did not fit behind them: what was queued went to the kernel first, and the
    # whole chain sits in the SQ, waiting for one submit.
    assert ring.sq_ready() == 4
    ch.wait(timeout=5)
    ring.wait_for(*early, timeout=5)
    assert ch.ok
    too_long = ring.chain()
    for _ in range(5):
        too_long.nop()
    with pytest.raises(SubmissionQueueFull):
        too_long.queue()


def test_raw_link_flags_without_the_chain_api(ring):
    a = ring.nop(L)
    b = ring.nop(H)
    c = ring.nop()
    assert ring.wait_for(a, b, c, timeout=5) == [0, 0, 0]


# -- the seed's patterns --------------------------------------------------------------

def test_copy_with_sync(ring, tmp_file, tmp_path):
    """read -> write -> fsync: the write and the fsync run only if the read was complete."""
    path, data = tmp_file
    src = os.open(path, os.O_RDONLY)
    dst = os.open(tmp_path / "copy.bin", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        buf = bytearray(len(data))
        rec = Recorder()
        with ring.chain() as ch:
            ch.read(src, buf, len(buf), 0, callback=rec("read"))
            ch.write(dst, buf, len(buf), 0, callback=rec("write"))
            ch.fsync(dst, callback=rec("fsync"))
        assert ch.results(timeout=5) == [len(data), len(data), 0]
        assert rec.cqes == [("read", len(data), 0), ("write", len(data), 0), ("fsync", 0, 0)]
        assert (tmp_path / "copy.bin").read_bytes() == data
    finally:
        os.close(src)
        os.close(dst)


def test_durable_write(ring, tmp_path):
    """write -> fdatasync, soft-linked: no sync of a write that failed."""
    fd = os.open(tmp_path / "log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        record = b"record 1\n"
        with ring.chain() as ch:
            ch.write(fd, record, len(record), -1)
            ch.fsync(fd, 1)                          # IORING_FSYNC_DATASYNC
        assert ch.results(timeout=5) == [len(record), 0]
        ro = os.open(tmp_path / "log", os.O_RDONLY)
        with ring.chain() as ch:
            ch.write(ro, record, len(record), -1)    # fails: not open for writing
            ch.fsync(ro)
        ch.wait(timeout=5)
        os.close(ro)
        assert outcomes(ch) == [(FAILED, -errno.EBADF), (BROKEN, ECANCELED)]
        assert (tmp_path / "log").read_bytes() == record
    finally:
        os.close(fd)


def test_connect_with_timeout(ring, listener):
    require_op(Opcode.CONNECT, Opcode.LINK_TIMEOUT)
    with socket.socket() as cli:
        m = ring.with_timeout(ops.connect(cli.fileno(), listener.getsockname()), 2.0)
        m.chain.wait(timeout=5)
        assert (m.outcome, m.res, m.timeout_op.res) == (OK, 0, ECANCELED)
        listener.accept()[0].close()


def test_link_timeout_on_a_silent_peer(ring):
    """The timeout pattern on a socket: a recv from a peer that never sends is cut short."""
    require_op(Opcode.RECV, Opcode.LINK_TIMEOUT)
    a, b = socket.socketpair()
    with a, b:
        m = ring.with_timeout(ops.recv(a.fileno(), bytearray(16)), 0.02)
        m.chain.wait(timeout=5)
        assert (m.outcome, m.res, m.timeout_op.res) == (Outcome.TIMED_OUT, ECANCELED, ETIME)


def test_send_after_connect(ring, listener):
    require_op(Opcode.CONNECT, Opcode.SEND)
    with socket.socket() as cli:
        payload = b"GET / HTTP/1.0\r\n\r\n"
        with ring.chain() as ch:
            ch.connect(cli.fileno(), listener.getsockname())
            ch.send(cli.fileno(), payload)
        assert ch.results(timeout=5) == [0, len(payload)]
        conn, _ = listener.accept()
        with conn:
            assert conn.recv(100) == payload


def test_connect_send_recv(ring, listener):
    require_op(Opcode.CONNECT, Opcode.SEND, Opcode.RECV)
    with socket.socket() as cli:
        reply = bytearray(16)
        with ring.chain() as ch:
            ch.connect(cli.fileno(), listener.getsockname())
            ch.send(cli.fileno(), b"ping")
            ch.recv(cli.fileno(), reply, timeout=5)
        ring.submit()
        conn, _ = listener.accept()
        with conn:
            assert conn.recv(4) == b"ping"
            conn.sendall(b"pong")
            assert ch.results(timeout=5) == [0, 4, 4]
        assert bytes(reply[:4]) == b"pong" and ch[2].timeout_op.res == ECANCELED


def test_connect_refused_cancels_send_and_recv(ring):
    require_op(Opcode.CONNECT, Opcode.SEND, Opcode.RECV)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()            # bound, never listening: refused
        with socket.socket() as cli:
            with ring.chain() as ch:
                ch.connect(cli.fileno(), closed_port)
                ch.send(cli.fileno(), b"ping")
                ch.recv(cli.fileno(), bytearray(4))
            ch.wait(timeout=5)
    assert outcomes(ch) == [(FAILED, -errno.ECONNREFUSED), (BROKEN, ECANCELED), (BROKEN, ECANCELED)]
    with pytest.raises(ConnectionRefusedError):
        ch.results()
