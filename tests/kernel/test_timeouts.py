"""Timeouts against the kernel: IORING_OP_TIMEOUT (relative, absolute on each clock,
completion count, multishot, ETIME_SUCCESS), TIMEOUT_REMOVE and update, LINK_TIMEOUT (not
firing, firing, updated) and a chain-wide deadline. Timeouts here are 10-200 ms."""

from __future__ import annotations

import errno
import os
import time
from datetime import datetime, timedelta, timezone

import pytest

from uring import Cancelled, LinkTimedOut, ops
from uring._uapi import CqeFlags, Opcode, SqeFlags, TimeoutFlags
from uring.chain import Outcome
from tests.conftest import require_op

L = int(SqeFlags.IO_LINK)
MORE = int(CqeFlags.MORE)
ECANCELED = -errno.ECANCELED
ETIME = -errno.ETIME


def record(log, tag, op):
    op.callback = lambda o, res, flags: log.append((tag, res, flags))
    return op


def elapsed(fn):
    start = time.monotonic()
    result = fn()
    return result, time.monotonic() - start


def test_relative_timeout_expires(ring):
    op = ring.timeout(0.02)
    _, took = elapsed(lambda: ring.submit_and_wait(1))
    assert (op.res, op.cqe_flags) == (ETIME, 0) and 0.015 <= took < 2
    with pytest.raises(OSError) as info:
        op.result
    assert info.value.errno == errno.ETIME


def test_timedelta_timeout(ring):
    op = ring.timeout(timedelta(milliseconds=10))
    ring.submit_and_wait(1)
    assert op.res == ETIME


def test_completion_count_completes_with_zero(ring):
    log = []
    t = record(log, "t", ring.timeout(5, 2))       # done after 2 other completions
    a = record(log, "a", ring.nop())
    b = record(log, "b", ring.nop())
    ring.submit_and_wait(3, timeout=5)
    assert log == [("a", 0, 0), ("b", 0, 0), ("t", 0, 0)]
    assert (t.res, a.res, b.res) == (0, 0, 0)


@pytest.mark.parametrize("clock,flags", [
    (time.CLOCK_MONOTONIC, TimeoutFlags.ABS),
    (time.CLOCK_BOOTTIME, TimeoutFlags.ABS | TimeoutFlags.BOOTTIME),
    (time.CLOCK_REALTIME, TimeoutFlags.ABS | TimeoutFlags.REALTIME),
], ids=["monotonic", "boottime", "realtime"])
def test_absolute_timeouts_on_each_clock(ring, clock, flags):
    at = time.clock_gettime(clock) + 0.03
    op = ring.timeout(at, 0, flags)
    _, took = elapsed(lambda: ring.submit_and_wait(1))
    assert op.res == ETIME and 0.02 <= took < 2


def test_absolute_realtime_datetime(ring):
    at = datetime.now(timezone.utc) + timedelta(milliseconds=20)
    op = ring.timeout(at, 0, TimeoutFlags.ABS | TimeoutFlags.REALTIME)
    ring.submit_and_wait(1)
    assert op.res == ETIME


def test_absolute_timeout_in_the_past_fires_at_once(ring):
    op = ring.timeout(time.monotonic() - 1, 0, TimeoutFlags.ABS)
    _, took = elapsed(lambda: ring.submit_and_wait(1))
    assert op.res == ETIME and took < 0.5


def test_multishot_with_a_count(ring):
    require_op(Opcode.TIMEOUT)
    op = ring.timeout(0.01, 3, TimeoutFlags.MULTISHOT)
    while not op.done:
        ring.submit_and_wait(1, timeout=5)
    assert op.take_cqes() == [(ETIME, MORE), (ETIME, MORE)]
    assert (op.res, op.cqe_flags) == (ETIME, 0)


def test_multishot_forever_until_removed(ring):
    log = []
    t = record(log, "t", ring.timeout(0.01, 0, TimeoutFlags.MULTISHOT))
    while len(log) < 2:
        ring.submit_and_wait(1, timeout=5)
    rm = record(log, "rm", ring.timeout_remove(t))
    ring.wait_for(rm, timeout=5)
    while not t.done:
        ring.submit_and_wait(1, timeout=5)
    # (A loaded machine may let one more period expire before the removal lands.)
    assert log[-2:] == [("rm", 0, 0), ("t", ECANCELED, 0)]
    assert len(log) >= 4 and set(log[:-2]) == {("t", ETIME, MORE)}
    assert t.cancel_reason is Cancelled
    with pytest.raises(Cancelled):
        t.result


def test_etime_success_does_not_break_a_chain(ring):
    with ring.chain() as ch:
        ch.timeout(0.01, 0, TimeoutFlags.ETIME_SUCCESS)
        ch.nop()
    ch.wait(timeout=5)
    assert [(m.outcome, m.res) for m in ch] == [(Outcome.OK, ETIME), (Outcome.OK, 0)]


def test_timeout_remove(ring):
    log = []
    t = record(log, "t", ring.timeout(10))
    ring.submit()
    rm = record(log, "rm", ring.timeout_remove(t))
    ring.submit_and_wait(2, timeout=5)
    assert log == [("rm", 0, 0), ("t", ECANCELED, 0)]
    assert isinstance(t.exception(), Cancelled)
    again = ring.timeout_remove(t)
    ring.submit_and_wait(1, timeout=5)
    assert again.res == -errno.ENOENT


def test_timeout_update_rearms(ring):
    log = []
    t = record(log, "t", ring.timeout(10))
    ring.submit()
    up = record(log, "up", ring.timeout_update(0.02, t))
    _, took = elapsed(lambda: ring.submit_and_wait(2, timeout=5))
    assert log == [("up", 0, 0), ("t", ETIME, 0)] and took < 2
    gone = ring.timeout_update(0.02, t)
    ring.submit_and_wait(1, timeout=5)
    assert gone.res == -errno.ENOENT


def test_timeout_update_absolute(ring):
    t = ring.timeout(10)
    ring.submit()
    up = ring.timeout_update(time.monotonic() + 0.01, t, TimeoutFlags.ABS)
    ring.submit_and_wait(2, timeout=5)
    assert (up.res, t.res) == (0, ETIME)


# -- link timeouts --------------------------------------------------------------------

def test_link_timeout_not_firing(ring):
    log = []
    op = record(log, "nop", ring.nop(L))
    lt = record(log, "lt", ring.link_timeout(1))
    ring.submit_and_wait(2, timeout=5)
    assert log == [("nop", 0, 0), ("lt", ECANCELED, 0)]


def test_link_timeout_firing_on_an_empty_pipe(ring, pipe):
    log = []
    buf = bytearray(8)
    rd = record(log, "read", ring.queue(ops.read(pipe[0], buf, 8, -1).set(flags=L)))
    lt = record(log, "lt", ring.link_timeout(0.02))
    ring.submit_and_wait(2, timeout=5)
    assert log == [("lt", ETIME, 0), ("read", ECANCELED, 0)]


def test_link_timeout_applies_only_to_the_request_before_it(ring, pipe):
    log = []
    first = record(log, "first", ring.nop(L))
    rd = record(log, "read", ring.queue(ops.read(pipe[0], bytearray(8), 8, -1).set(flags=L)))
    lt = record(log, "lt", ring.link_timeout(0.02))
    ring.submit_and_wait(3, timeout=5)
    assert log == [("first", 0, 0), ("lt", ETIME, 0), ("read", ECANCELED, 0)]


def test_link_timeout_alone_is_rejected(ring):
    lt = ring.link_timeout(0.01)
    ring.submit_and_wait(1, timeout=5)
    assert lt.res == -errno.EINVAL


def test_with_timeout_member(ring, pipe):
    m = ring.with_timeout(ops.read(pipe[0], bytearray(8), 8, -1), 0.02)
    m.chain.wait(timeout=5)
    assert (m.outcome, m.res, m.timeout_op.res) == (Outcome.TIMED_OUT, ECANCELED, ETIME)
    assert m.timed_out
    with pytest.raises(LinkTimedOut):
        m.result
    with pytest.raises(LinkTimedOut):
        m.op.result
    fast = ring.with_timeout(ops.nop(), 1)
    fast.chain.wait(timeout=5)
    assert (fast.outcome, fast.res, fast.timeout_op.res) == (Outcome.OK, 0, ECANCELED)


def test_reported_link_timeout_member(ring, pipe):
    with ring.chain() as ch:
        ch.read(pipe[0], bytearray(8), 8, -1)
        ch.link_timeout(0.02)
        ch.nop()
    ch.wait(timeout=5)
    assert [(m.kind, m.outcome, m.res) for m in ch] == [
        ("op", Outcome.TIMED_OUT, ECANCELED), ("timeout", Outcome.TIMED_OUT, ETIME),
        ("op", Outcome.CHAIN_BROKEN, ECANCELED)]
    assert ch.broken_by is ch[0]


def test_link_timeout_update(ring, pipe):
    with ring.chain() as ch:
        rd = ch.read(pipe[0], bytearray(8), 8, -1, timeout=10)
        plain = ch.nop()
    ring.submit()
    up = rd.update_timeout(0.02)
    _, took = elapsed(lambda: ch.wait(timeout=5))
    ring.wait_for(up, timeout=5)
    assert up.res == 0 and took < 5
    assert [(m.outcome, m.res) for m in ch] == [(Outcome.TIMED_OUT, ECANCELED), (Outcome.CHAIN_BROKEN, ECANCELED)]
    assert rd.timeout_op.res == ETIME
    with pytest.raises(ValueError):
        plain.update_timeout(1)          # it has no link timeout
    gone = rd.update_timeout(1)
    ring.submit_and_wait(1, timeout=5)
    assert gone.res == -errno.ENOENT


def test_chain_deadline(ring, pipe):
    with ring.chain(deadline=0.05) as ch:
        ch.nop()
        ch.read(pipe[0], bytearray(8), 8, -1)      # never completes on its own
        ch.nop()
    _, took = elapsed(lambda: ch.wait(timeout=5))
    assert [(m.outcome, m.res) for m in ch] == [
        (Outcome.OK, 0), (Outcome.TIMED_OUT, ECANCELED), (Outcome.CHAIN_BROKEN, ECANCELED)]
    assert ch.broken_by is ch[1]
    assert 0.03 <= took < 2


def test_chain_deadline_met(ring):
    with ring.chain(deadline=timedelta(seconds=2)) as ch:
        ch.nop()
        ch.timeout(0.01, 0, TimeoutFlags.ETIME_SUCCESS)
        ch.nop()
    ch.wait(timeout=5)
    assert [m.outcome for m in ch] == [Outcome.OK] * 3
    assert all(m.timeout_op.res == ECANCELED for m in ch)


def test_chain_deadline_covers_the_whole_chain_not_each_member(ring, pipe):
    # Three 40 ms timeouts in a row against a 60 ms deadline: the second is cut short.
    with ring.chain(deadline=0.06, hard=True) as ch:
        for _ in range(3):
            ch.timeout(0.04, 0, TimeoutFlags.ETIME_SUCCESS)
    _, took = elapsed(lambda: ch.wait(timeout=5))
    assert [m.outcome for m in ch] == [Outcome.OK, Outcome.TIMED_OUT, Outcome.TIMED_OUT]
    assert took < 0.5


def test_link_timeout_after_a_member_that_ran_in_io_wq(ring, pipe):
    """Measured on Linux 6.18: when the member before runs in an io-wq worker (here a NOP
    with IOSQE_ASYNC; a buffered write to a regular file or an fsync do the same), the
    linked timeout of the member issued after it is not armed: the read below is not cut
    short after 20 ms, and completes only when data arrives. Chains needing a bound should
    not rely on a link timeout after such a member."""
    with ring.chain() as ch:
        ch.nop(sqe_flags=int(SqeFlags.ASYNC))
        rd = ch.read(pipe[0], bytearray(8), 8, -1, timeout=0.02)
    with pytest.raises(TimeoutError):
        ch.wait(timeout=0.2)
    assert not rd.done and not rd.timeout_op.done
    os.write(pipe[1], b"too late")
    ch.wait(timeout=5)
    assert [(m.outcome, m.res) for m in ch] == [(Outcome.OK, 0), (Outcome.OK, 8)]
    assert rd.timeout_op.res == ECANCELED


def test_chain_deadline_cuts_a_member_issued_by_io_wq(ring, pipe):
    """Where the link timeout is not armed (the member before ran in io-wq), the chain's
    deadline still holds: its watchdog TIMEOUT cancels whatever is running at that instant."""
    with ring.chain(deadline=0.05) as ch:
        ch.nop(sqe_flags=int(SqeFlags.ASYNC))
        ch.read(pipe[0], bytearray(8), 8, -1)
        ch.nop()
    _, took = elapsed(lambda: ch.wait(timeout=5))
    # The read blocks in the worker, so the watchdog's cancel interrupts it: -EINTR. Its own
    # link timeout could not find it there (-ENOENT).
    assert [(m.outcome, m.res, m.timeout_op.res) for m in ch] == [
        (Outcome.OK, 0, ECANCELED), (Outcome.TIMED_OUT, -errno.EINTR, -errno.ENOENT),
        (Outcome.CHAIN_BROKEN, ECANCELED, ECANCELED)]
    assert ch.broken_by is ch[1] and 0.03 <= took < 2


def test_chain_deadline_with_hard_links_cuts_each_member_in_turn(ring, pipe):
    with ring.chain(deadline=0.05, hard=True) as ch:
        ch.nop(sqe_flags=int(SqeFlags.ASYNC))
        ch.read(pipe[0], bytearray(8), 8, -1)
        ch.read(pipe[0], bytearray(8), 8, -1)
    ch.wait(timeout=5)
    # The second read starts after the deadline: its absolute link timeout fires at once.
    assert [(m.outcome, m.res, m.timeout_op.res) for m in ch] == [
        (Outcome.OK, 0, ECANCELED), (Outcome.TIMED_OUT, -errno.EINTR, -errno.ENOENT),
        (Outcome.TIMED_OUT, ECANCELED, ETIME)]
