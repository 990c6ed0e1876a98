"""Every hazard of issue #6 reproduced against the real kernel: close from callbacks, signal
handlers and threads, pins and raw SQE fields, rejected SQEs, signals during timed waits,
CQE_SKIP_SUCCESS, HARDLINK/DRAIN at close, callbacks given at queue time."""

from __future__ import annotations

import errno
import gc
import os
import signal
import socket
import threading
import time

import pytest

from uring import Ring, RingClosed, ops
from uring._uapi import SqeFlags


def _alarm_every(seconds: float, handler):
    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds, seconds)
    return old


def _alarm_off(old):
    signal.setitimer(signal.ITIMER_REAL, 0, 0)
    signal.signal(signal.SIGALRM, old)


# -- 1. closing while the core is inside ------------------------------------------------

def test_close_from_a_callback_during_submit_and_wait(fd_guard):
    ring = Ring(8)
    seen = []

    def closer(op, res, flags):
        seen.append(res)
        ring.close()

    ring.nop(callback=closer)
    ring.nop()
    assert ring.submit_and_wait(2) >= 1
    assert seen == [0] and ring.closed and ring.fd == -1
    with pytest.raises(RingClosed):
        ring.nop()


def test_close_from_a_callback_with_more_ops_in_flight(fd_guard, pipe):
    r, _w = pipe
    ring = Ring(8)
    buf = bytearray(8)
    blocked = ring.read(r, buf)                  # never completes by itself
    ring.nop(callback=lambda *a: ring.close())
    ring.submit_and_wait(1)
    assert ring.fd == -1 and blocked.done and blocked.res == -errno.ECANCELED
    assert not blocked.pinned


def test_close_from_a_signal_handler_during_a_blocking_wait(fd_guard, pipe):
    r, _w = pipe
    ring = Ring(8)
    blocked = ring.read(r, bytearray(8))
    old = _alarm_every(0.05, lambda *a: ring.close())
    try:
        ring.submit_and_wait(1)                   # the handler runs inside; closes the ring
    finally:
        _alarm_off(old)
    assert ring.fd == -1 and blocked.res == -errno.ECANCELED and not blocked.pinned


def test_close_from_the_main_thread_while_workers_wait(fd_guard):
    for _round in range(3):
        ring = Ring(64)
        stop = threading.Event()
        errors = []

        def worker():
            try:
                while not stop.is_set():
                    ring.nop()
                    ring.submit_and_wait(1, timeout=0.0005)
            except RingClosed:
                pass
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.05)
        ring.close()
        stop.set()
        for t in threads:
            t.join(5)
        assert not any(t.is_alive() for t in threads)
        assert ring.fd == -1 and not errors


def test_close_wakes_a_thread_blocked_in_the_kernel(fd_guard, pipe):
    r, _w = pipe
    ring = Ring(8)
    ring.read(r, bytearray(8))
    outcome = []

    def waiter():
        try:
            ring.submit_and_wait(1)
            outcome.append("returned")
        except RingClosed:
            outcome.append("closed")

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.05)
    t0 = time.monotonic()
    ring.close()
    t.join(5)
    assert not t.is_alive() and outcome and time.monotonic() - t0 < 2
    assert ring.fd == -1


def test_private_and_public_calls_after_close_raise_ring_closed():
    ring = Ring(8)
    ring.close()
    for call in (ring._peek_sqe, ring.submit, ring.peek, ring.sq_ready, ring.cq_ready,
                 lambda: ring.queue(ops.nop()), lambda: ring.read(0, bytearray(1)),
                 lambda: ring._register(0), lambda: ring.cq_eventfd_enabled):
        with pytest.raises(RingClosed):
            call()
    assert ring.sq_flags == 0 and ring.dropped == 0 and ring.cq_overflow == 0


# -- 2. and 3. pins and raw fields -------------------------------------------------------

def test_pins_cannot_be_dropped_by_the_caller(ring, pipe):
    r, w = pipe
    buf = bytearray(4096)
    s = ops.read(r, buf, None, -1)
    s.pins.clear()                               # a copy: nothing happens
    op = ring.queue(s)
    s.pins.clear()
    del s
    gc.collect()
    with pytest.raises(BufferError):
        buf.extend(b"x" * 100_000)               # exported: cannot move while the kernel owns it
    os.write(w, b"hello")
    assert ring.wait_for(op, timeout=5) == [5]
    assert bytes(buf[:5]) == b"hello"
    buf.extend(b"x")                             # released at the final CQE


def test_pointer_fields_of_a_prepared_sqe_are_read_only():
    buf = bytearray(4096)
    other = bytearray(4096)
    s = ops.read(0, memoryview(buf)[:100], None, 0)
    for field, value in (("len", 300), ("addr", 1234), ("off", 5), ("addr2", 5), ("addr3", 1),
                         ("op_flags", 1), ("opcode", 23)):
        with pytest.raises(AttributeError, match="read-only"):
            setattr(s, field, value)
    with pytest.raises(AttributeError):
        s.pin(other, True)
    assert s.len == 100
    s.set(flags=SqeFlags.ASYNC, ioprio=0, personality=0)   # the common fields stay settable
    s.unsafe_set(len=50)                                   # the documented escape hatch
    assert s.len == 50
    with pytest.raises(AttributeError, match="no raw SQE field"):
        s.unsafe_set(bogus=1)


# -- 4. hangs -------------------------------------------------------------------------

def test_two_threads_each_wait_for_their_own_op(fd_guard):
    ring = Ring(64)
    try:
        for _round in range(200):
            a_r, a_w = os.pipe()
            b_r, b_w = os.pipe()
            results = {}
            op_a = ring.read(a_r, bytearray(4))
            op_b = ring.read(b_r, bytearray(4))
            ring.submit()

            def wait(name, op):
                results[name] = ring.wait_for(op, timeout=10)

            ta = threading.Thread(target=wait, args=("a", op_a))
            tb = threading.Thread(target=wait, args=("b", op_b))
            ta.start()
            tb.start()
            os.write(a_w, b"aaaa")
            os.write(b_w, b"bbbb")
            ta.join(10)
            tb.join(10)
            assert results == {"a": [4], "b": [4]}
            for fd in (a_r, a_w, b_r, b_w):
                os.close(fd)
        assert ring.in_flight == 0
    finally:
        ring.close()


def test_what_follows_a_rejected_sqe_is_still_submitted(ring):
    bad = ring.queue(ops.nop().set(personality=999))
    good = [ring.nop() for _ in range(3)]
    done = ring.submit_and_wait(4)
    assert done == 4
    assert bad.res == -errno.EINVAL
    assert [op.res for op in good] == [0, 0, 0]


def test_timed_waits_expire_under_a_stream_of_signals(ring, pipe):
    r, _w = pipe
    ticks = []
    op = ring.read(r, bytearray(8))
    old = _alarm_every(0.01, lambda *a: ticks.append(1))
    try:
        t0 = time.monotonic()
        assert ring.submit_and_wait(1, timeout=0.3) == 0
        assert 0.29 <= time.monotonic() - t0 < 1.5
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            ring.wait_for(op, timeout=0.3)
        assert 0.29 <= time.monotonic() - t0 < 1.5
    finally:
        _alarm_off(old)
    assert len(ticks) > 10
    ring.close()                                  # cancels the read, checked by the fixture


@pytest.mark.parametrize("flag", ["hardlink", "drain"])
def test_close_cancels_ops_behind_a_hardlink_or_a_drain(fd_guard, flag):
    ring = Ring(8)
    a, b = socket.socketpair()
    try:
        buf1, buf2 = bytearray(8), bytearray(8)
        if flag == "hardlink":
            first = ring.recv(a.fileno(), buf1, sqe_flags=SqeFlags.IO_HARDLINK)
            second = ring.recv(a.fileno(), buf2)
        else:
            first = ring.recv(a.fileno(), buf1)
            second = ring.recv(a.fileno(), buf2, sqe_flags=SqeFlags.IO_DRAIN)
        ring.submit()
        t0 = time.monotonic()
        ring.close()
        assert time.monotonic() - t0 < 2
        assert first.done and second.done
        assert not first.pinned and not second.pinned
        buf1.extend(b"x")
        buf2.extend(b"x")
    finally:
        a.close()
        b.close()


# -- 5. callbacks at queue time -----------------------------------------------------

def test_callbacks_and_context_are_given_at_queue_time(ring, fds):
    seen = []
    cb = lambda op, res, flags: seen.append((op.context, res))
    zero = os.open("/dev/zero", os.O_RDONLY | os.O_CLOEXEC)
    fds.append(zero)
    queued = [ring.queue(ops.nop(), callback=cb, context="q"),
              ring.nop(callback=cb, context="n"),
              ring.read(zero, bytearray(4), callback=cb, context="r"),
              *ring.queue_many([ops.nop(), ops.nop()], callback=cb, context="m")]
    ring.wait_for(*queued)
    assert sorted(seen) == [("m", 0), ("m", 0), ("n", 0), ("q", 0), ("r", 4)]


def test_a_callback_is_never_missed_on_a_shared_ring(fd_guard):
    ring = Ring(256)
    counts = [0]
    lock = threading.Lock()

    def cb(op, res, flags):
        with lock:
            counts[0] += 1

    def worker():
        for _ in range(2000):
            ring.nop(callback=cb)
            ring.submit_and_wait(1, timeout=1)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    while ring.in_flight:
        ring.submit_and_wait(1, timeout=1)
    assert counts[0] == 8000
    ring.close()
