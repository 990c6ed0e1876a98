"""IOSQE_IO_DRAIN and IOSQE_CQE_SKIP_SUCCESS against the kernel, alone and in chains, with
exact CQE order: a drained request waits for everything submitted before it and everything
after waits for it; a skipped success posts nothing, a failing skipped member still posts
(and with a soft link the members it cancels post nothing either); once a ring has seen
CQE_SKIP_SUCCESS, IOSQE_IO_DRAIN fails with -EOPNOTSUPP on it."""

from __future__ import annotations

import errno
import os

import pytest


from uring import ops
from uring._uapi import SqeFlags
from uring.chain import Outcome

L = int(SqeFlags.IO_LINK)
D = int(SqeFlags.IO_DRAIN)
S = int(SqeFlags.CQE_SKIP_SUCCESS)
ECANCELED = -errno.ECANCELED
ETIME = -errno.ETIME
EBADF = -errno.EBADF
OK, SHORT, FAILED, BROKEN = Outcome.OK, Outcome.SHORT, Outcome.FAILED, Outcome.CHAIN_BROKEN


def record(log, tag, op):
    op.callback = lambda o, res, flags: log.append((tag, res, flags))
    return op


def member_log(log, tag):
    """A member callback logging the CQEs the kernel really posted."""
    return lambda m, res, flags: log.append((tag, res, flags)) if m.posted else None


def state(ch):
    return [(m.outcome, m.res, m.posted) for m in ch]


def test_drain_waits_for_everything_before_and_holds_back_what_follows(ring):
    log = []
    record(log, "t", ring.timeout(0.03))
    record(log, "a", ring.nop())
    record(log, "drain", ring.nop(D))
    record(log, "b", ring.nop())
    ring.submit_and_wait(4, timeout=5)
    # Without the drain, "drain" and "b" would complete at once, before the timeout.
    assert log == [("a", 0, 0), ("t", ETIME, 0), ("drain", 0, 0), ("b", 0, 0)]


def test_drain_flag_inside_a_chain_drains_the_whole_chain(ring):
    log = []
    record(log, "t", ring.timeout(0.03))
    record(log, "a", ring.nop())
    with ring.chain() as ch:
        ch.nop(callback=member_log(log, "c1"))
        ch.nop(drain=True, callback=member_log(log, "c2"))
        ch.nop(callback=member_log(log, "c3"))
    record(log, "b", ring.nop())
    ring.submit_and_wait(6, timeout=5)
    assert log == [("a", 0, 0), ("t", ETIME, 0), ("c1", 0, 0), ("c2", 0, 0), ("c3", 0, 0), ("b", 0, 0)]
    assert ch.ok


def test_drained_chain(ring):
    log = []
    record(log, "t", ring.timeout(0.03))
    with ring.chain(drain=True) as ch:
        ch.nop(callback=member_log(log, "c1"))
        ch.nop(callback=member_log(log, "c2"))
    record(log, "b", ring.nop())
    ring.submit_and_wait(4, timeout=5)
    assert log == [("t", ETIME, 0), ("c1", 0, 0), ("c2", 0, 0), ("b", 0, 0)]


def test_drain_with_several_timeouts_before_it(ring):
    log = []
    record(log, "t40", ring.timeout(0.04))
    record(log, "t20", ring.timeout(0.02))
    record(log, "d", ring.timeout(0.01, sqe_flags=D))
    record(log, "b", ring.nop())
    ring.submit_and_wait(4, timeout=5)
    assert log == [("t20", ETIME, 0), ("t40", ETIME, 0), ("d", ETIME, 0), ("b", 0, 0)]


# -- CQE_SKIP_SUCCESS -------------------------------------------------------------------

def test_skip_success_on_a_lone_op_is_refused(ring):
    with pytest.raises(ValueError, match="CQE_SKIP_SUCCESS"):
        ring.nop(S)
    with pytest.raises(ValueError, match="CQE_SKIP_SUCCESS"):
        ring.queue(ops.nop().set(flags=S))
    with pytest.raises(ValueError, match="CQE_SKIP_SUCCESS"):
        ring.read(0, bytearray(8), sqe_flags=S)
    assert ring.in_flight == 0


def test_raw_skip_success_posts_nothing(ring):
    log = []
    quiet = record(log, "quiet", ring.queue(ops.nop().set(flags=S | L), allow_skip_success=True))
    loud = record(log, "loud", ring.nop())
    ring.submit_and_wait(1, timeout=5)
    assert log == [("loud", 0, 0)] and not quiet.done
    ring._complete_skipped(quiet)          # it succeeded: the member after it ran
    assert quiet.res == 0


def test_skip_chain_all_succeed(ring):
    log = []
    with ring.chain(skip_success=True) as ch:
        for tag in "abc":
            ch.nop(callback=member_log(log, tag))
    ch.wait(timeout=5)
    assert log == [] and state(ch) == [(OK, 0, False)] * 3


def test_skip_chain_with_a_failing_member_in_the_middle(ring):
    log = []
    with ring.chain(skip_success=True) as ch:
        ch.nop(callback=member_log(log, "a"))
        ch.read(-1, bytearray(8), callback=member_log(log, "bad"))
        ch.nop(callback=member_log(log, "c"))
        ch.nop(callback=member_log(log, "d"))
    ch.wait(timeout=5)
    # Only the failure posts; the members it cancelled are cancelled silently.
    assert log == [("bad", EBADF, 0)]
    assert state(ch) == [(OK, 0, False), (FAILED, EBADF, True), (BROKEN, ECANCELED, False),
                         (BROKEN, ECANCELED, False)]
    assert ch.broken_by is ch[1]


def test_failing_member_without_skip_makes_the_cancelled_ones_post(ring):
    log = []
    with ring.chain() as ch:
        ch.nop(skip_success=True, callback=member_log(log, "a"))
        ch.read(-1, bytearray(8), callback=member_log(log, "bad"))
        ch.nop(skip_success=True, callback=member_log(log, "c"))
        ch.nop(callback=member_log(log, "d"))
    ch.wait(timeout=5)
    assert log == [("bad", EBADF, 0), ("c", ECANCELED, 0), ("d", ECANCELED, 0)]
    assert state(ch) == [(OK, 0, False), (FAILED, EBADF, True), (BROKEN, ECANCELED, True),
                         (BROKEN, ECANCELED, True)]


def test_failing_skipped_member_with_hard_links(ring):
    log = []
    with ring.chain(skip_success=True, hard=True) as ch:
        ch.nop(callback=member_log(log, "a"))
        ch.read(-1, bytearray(8), callback=member_log(log, "bad"))
        ch.nop(callback=member_log(log, "c"))
        ch.nop(skip_success=False, callback=member_log(log, "d"))
    ch.wait(timeout=5)
    assert log == [("bad", EBADF, 0), ("d", 0, 0)]
    assert state(ch) == [(OK, 0, False), (FAILED, EBADF, True), (OK, 0, False), (OK, 0, True)]


def test_short_skipped_read_posts_and_silences_the_rest(ring, tmp_file):
    path, data = tmp_file
    fd = os.open(path, os.O_RDONLY)
    try:
        log = []
        with ring.chain() as ch:
            ch.read(fd, bytearray(4096), 4096, len(data) - 100, skip_success=True,
                    callback=member_log(log, "read"))
            ch.nop(callback=member_log(log, "nop"))
        ch.wait(timeout=5)
    finally:
        os.close(fd)
    assert log == [("read", 100, 0)]
    assert state(ch) == [(SHORT, 100, True), (BROKEN, ECANCELED, False)]


def test_skipped_full_read_reports_its_size(ring, tmp_file):
    path, data = tmp_file
    fd = os.open(path, os.O_RDONLY)
    try:
        buf = bytearray(512)
        with ring.chain() as ch:
            ch.read(fd, buf, 512, 0, skip_success=True)
            ch.nop()
        ch.wait(timeout=5)
    finally:
        os.close(fd)
    assert state(ch) == [(OK, 512, False), (OK, 0, True)] and bytes(buf) == data[:512]


def test_rejected_chain_with_skip_reports_every_member(ring):
    bad = ops.nop()
    bad.unsafe_set(op_flags=0x80000000)
    log = []
    with ring.chain(skip_success=True) as ch:
        ch.nop(callback=member_log(log, "a"))
        ch.add(bad, callback=member_log(log, "bad"))
        ch.nop(callback=member_log(log, "c"))
    ch.wait(timeout=5)
    assert log == [("a", ECANCELED, 0), ("bad", -errno.EINVAL, 0), ("c", ECANCELED, 0)]
    assert state(ch) == [(BROKEN, ECANCELED, True), (FAILED, -errno.EINVAL, True), (BROKEN, ECANCELED, True)]
    assert ch.broken_by is ch[1]


def test_skip_then_drain_is_refused_on_that_ring(make_ring):
    ring = make_ring(8)
    first = ring.nop(D)
    ring.wait_for(first, timeout=5)          # drain works on a fresh ring
    with ring.chain() as ch:
        ch.nop(skip_success=True)
        ch.nop()
    ch.wait(timeout=5)
    late = ring.nop(D)
    ring.submit_and_wait(1, timeout=5)
    assert late.res == -errno.EOPNOTSUPP
    with ring.chain(drain=True) as ch:          # a drained chain is rejected whole
        ch.nop()
        ch.nop()
    ch.wait(timeout=5)
    assert state(ch) == [(FAILED, -errno.EOPNOTSUPP, True), (BROKEN, ECANCELED, True)]


def test_skip_and_drain_on_one_request(make_ring):
    ring = make_ring(8)
    both = ring.queue(ops.nop().set(flags=S | D), allow_skip_success=True)
    ring.submit_and_wait(1, timeout=5)
    assert both.res == -errno.EOPNOTSUPP
