"""Cancellation against the kernel: async cancel by op, user_data, fd, opcode, first match
and ALL/ANY; the answers 0, -ENOENT and -EALREADY; synchronous cancel
(IORING_REGISTER_SYNC_CANCEL); buffers pinned until the target's own final CQE; and an accept
whose fd arrives after we cancelled it (closed, not leaked)."""

from __future__ import annotations

import errno
import gc
import os
import socket
import weakref

import pytest

from uring import Cancelled, ops
from uring._uapi import CancelFlags, Opcode, SqeFlags
from uring.chain import Outcome
from tests.conftest import require_op

ECANCELED = -errno.ECANCELED
ENOENT = -errno.ENOENT
ALL = int(CancelFlags.ALL)
ANY = int(CancelFlags.ANY)


class Buffer(bytearray):
    """A bytearray that can be weakly referenced, to watch its lifetime."""


def record(log, tag, op):
    op.callback = lambda o, res, flags: log.append((tag, res, flags))
    return op


def pending_read(ring, fd):
    op = ring.queue(ops.read(fd, bytearray(8), 8, -1))
    ring.submit()
    return op


def test_cancel_by_op(ring, pipe):
    log = []
    rd = record(log, "read", pending_read(ring, pipe[0]))
    c = record(log, "cancel", ring.cancel(rd))
    ring.submit_and_wait(2, timeout=5)
    assert log == [("cancel", 0, 0), ("read", ECANCELED, 0)]
    assert rd.cancel_reason is Cancelled
    with pytest.raises(Cancelled):
        rd.result


def test_cancel_by_user_data(ring, pipe):
    rd = pending_read(ring, pipe[0])
    c = ring.cancel64(rd.user_data)
    ring.submit_and_wait(2, timeout=5)
    assert (c.res, rd.res) == (0, ECANCELED) and isinstance(rd.exception(), Cancelled)


def test_cancel_of_a_finished_op_is_enoent(ring):
    op = ring.nop()
    ring.wait_for(op, timeout=5)
    c = ring.cancel(op)
    ring.submit_and_wait(1, timeout=5)
    assert c.res == ENOENT
    with pytest.raises(FileNotFoundError):
        c.result


def test_cancel_by_fd_first_match_then_all(ring, pipe):
    a = pending_read(ring, pipe[0])
    b = pending_read(ring, pipe[0])
    one = ring.cancel_fd(pipe[0])
    ring.submit_and_wait(2, timeout=5)
    assert one.res == 0
    assert sorted(op.res for op in (a, b) if op.done) == [ECANCELED]   # exactly one of them
    rest = ring.cancel_fd(pipe[0], ALL)
    ring.submit_and_wait(2, timeout=5)
    assert rest.res == 1 and a.res == b.res == ECANCELED
    none_left = ring.cancel_fd(pipe[0], ALL)
    ring.submit_and_wait(1, timeout=5)
    assert none_left.res == 0         # ALL counts what it cancelled: none


def test_cancel_all_by_fd(ring, pipe):
    reads = [pending_read(ring, pipe[0]) for _ in range(3)]
    c = ring.cancel_fd(pipe[0], ALL)
    ring.submit_and_wait(4, timeout=5)
    assert c.res == 3 and [op.res for op in reads] == [ECANCELED] * 3


def test_cancel_any(ring, pipe):
    rd = pending_read(ring, pipe[0])
    t = ring.timeout(10)
    ring.submit()
    c = ring.cancel64(0, ANY)
    ring.submit_and_wait(3, timeout=5)
    assert (c.res, rd.res, t.res) == (2, ECANCELED, ECANCELED)
    assert rd.cancel_reason is Cancelled and t.cancel_reason is Cancelled


def test_cancel_by_opcode(ring, pipe):
    rd = pending_read(ring, pipe[0])
    timers = [ring.timeout(10) for _ in range(2)]
    ring.submit()
    c = ring.cancel64(0, ALL, opcode=Opcode.TIMEOUT)
    ring.submit_and_wait(3, timeout=5)
    assert c.res == 2 and [t.res for t in timers] == [ECANCELED] * 2
    assert not rd.done and rd.cancel_reason is None
    by_op = ring.cancel(rd, opcode=Opcode.READ)     # user_data AND opcode must match
    ring.submit_and_wait(2, timeout=5)
    assert (by_op.res, rd.res) == (0, ECANCELED)


def test_cancel_answers_ealready_for_a_running_request(ring, tmp_path):
    """An open of a FIFO without writer, forced into a worker (IOSQE_ASYNC), blocks there:
    the cancel can only interrupt it."""
    require_op(Opcode.OPENAT)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    op = ring.queue(ops.openat(ops.AT_FDCWD, fifo, os.O_RDONLY | os.O_CLOEXEC, 0)
                    .set(flags=int(SqeFlags.ASYNC)))
    ring.submit()
    import time
    # The worker blocks in open(2) within a few ms; on a loaded machine the cancel can land
    # while the work is between io-wq's lists and answer ENOENT: ask again until it is seen.
    for _ in range(40):
        time.sleep(0.05)
        c = ring.cancel(op)
        while not c.done:
            ring.submit_and_wait(1, timeout=5)
        if c.res != -errno.ENOENT:
            break
    while not op.done:
        ring.submit_and_wait(1, timeout=5)
    assert c.res == -errno.EALREADY
    # The interrupted open ends with -ERESTARTSYS (512), which Linux 6.18 lets through.
    assert op.res == -512 and op.discarded_fd == -1


def test_sync_cancel(ring, pipe):
    rd = pending_read(ring, pipe[0])
    assert ring.sync_cancel(rd) == 0
    assert rd.done and rd.res == ECANCELED       # its CQE is processed before returning
    assert isinstance(rd.exception(), Cancelled)
    assert ring.sync_cancel(rd) == ENOENT


def test_sync_cancel_by_fd_all_and_any(ring, pipe):
    reads = [pending_read(ring, pipe[0]) for _ in range(2)]
    assert ring.sync_cancel(fd=pipe[0], flags=ALL) == 2
    assert [op.res for op in reads] == [ECANCELED] * 2
    t = ring.timeout(10)
    ring.submit()
    assert ring.sync_cancel(flags=ANY, timeout=1.0) == 1
    assert t.res == ECANCELED
    assert ring.sync_cancel(flags=ANY) == 0


def test_sync_cancel_with_timeout_and_opcode(ring, pipe):
    rd = pending_read(ring, pipe[0])
    assert ring.sync_cancel(opcode=Opcode.READ, flags=ALL, timeout=0.5) == 1
    assert rd.res == ECANCELED


@pytest.mark.parametrize("kwargs", [
    {},                                           # nothing to match
    {"fd": 3, "flags": ANY},                      # ANY excludes other keys
    {"flags": int(CancelFlags.FD)},               # FD without fd=
    {"flags": 1 << 10, "fd": 3},
    {"opcode": 300, "flags": ALL},
    {"timeout": -1, "flags": ANY},
])
def test_sync_cancel_bad_input(ring, kwargs):
    with pytest.raises((ValueError, TypeError)):
        ring.sync_cancel(**kwargs)


def test_buffer_lives_until_the_final_cqe(ring, pipe):
    buf = Buffer(16)
    alive = weakref.ref(buf)
    rd = ring.read(pipe[0], buf, None, -1)
    del buf
    ring.submit()
    gc.collect()
    seen_at_cancel_cqe = []

    def on_cancel(op, res, flags):
        gc.collect()
        seen_at_cancel_cqe.append((res, alive() is not None, rd.pinned, rd.done))

    ring.cancel(rd).callback = on_cancel
    ring.submit_and_wait(2, timeout=5)
    # The cancel's CQE came first: the read still owned its buffer then.
    assert seen_at_cancel_cqe == [(0, True, True, False)]
    assert rd.res == ECANCELED and not rd.pinned
    del rd
    gc.collect()
    assert alive() is None


def test_cancelled_accept_that_still_returned_an_fd_is_closed(ring, listener):
    require_op(Opcode.ACCEPT)
    srv = listener
    acc = ring.accept(srv.fileno())
    ring.submit()
    with socket.create_connection(srv.getsockname()):
        # The connection was accepted inside the kernel as connect() returned; our cancel
        # finds nothing to cancel, but we asked, so the new fd must not reach anyone.
        c = ring.cancel(acc)
        ring.submit_and_wait(2, timeout=5)
    assert c.res == ENOENT
    assert acc.res == ECANCELED and acc.discarded_fd >= 0
    with pytest.raises(OSError) as info:
        os.fstat(acc.discarded_fd)
    assert info.value.errno == errno.EBADF


def test_accept_cancelled_by_fd_all_does_not_leak(ring, listener):
    require_op(Opcode.ACCEPT)
    srv = listener
    acc = ring.accept(srv.fileno())
    ring.submit()
    with socket.create_connection(srv.getsockname()):
        c = ring.cancel_fd(srv.fileno(), ALL)
        ring.submit_and_wait(2, timeout=5)
    assert c.res == 0                  # ALL: nothing was left to cancel
    assert acc.res == ECANCELED and acc.discarded_fd >= 0


def test_accept_cancelled_while_waiting(ring, listener):
    require_op(Opcode.ACCEPT)
    srv = listener
    acc = ring.accept(srv.fileno())
    ring.submit()
    c = ring.cancel(acc)
    ring.submit_and_wait(2, timeout=5)
    assert (c.res, acc.res, acc.discarded_fd) == (0, ECANCELED, -1)


def test_cancel_a_chain(ring, pipe):
    with ring.chain() as ch:
        ch.nop()
        ch.read(pipe[0], bytearray(8), 8, -1)
        ch.nop()
    ring.submit_and_wait(1, timeout=5)            # the first member is done, the read waits
    cancels = ring.cancel(ch)
    ch.wait(timeout=5)
    while not all(c.done for c in cancels):
        ring.submit_and_wait(1, timeout=5)
    # The running read is found; the member behind it has not started: -ENOENT, and the
    # chain's soft link cancels it.
    assert [c.res for c in cancels] == [0, ENOENT]
    assert [(m.outcome, m.res) for m in ch] == [
        (Outcome.OK, 0), (Outcome.CANCELLED, ECANCELED), (Outcome.CHAIN_BROKEN, ECANCELED)]
    assert ch.broken_by is ch[1]


def test_a_chain_member_waiting_for_its_turn_cannot_be_found(ring, pipe):
    with ring.chain() as ch:
        rd = ch.read(pipe[0], bytearray(8), 8, -1)
        later = ch.nop()
    ring.submit()
    c = ring.cancel(later)
    ring.submit_and_wait(1, timeout=5)
    assert c.res == ENOENT and not later.done and later.op.cancel_reason is None
    c2 = ring.cancel(rd)
    ch.wait(timeout=5)
    ring.wait_for(c2, timeout=5)
    assert [m.outcome for m in ch] == [Outcome.CANCELLED, Outcome.CHAIN_BROKEN]


def test_cancel_by_registered_file_index(ring, pipe):
    """IORING_ASYNC_CANCEL_FD_FIXED: the fd is a slot of the registered file table."""
    ring.register_files([pipe[0]])
    try:
        rd = ring.queue(ops.read(0, bytearray(8), 8, -1).set(flags=SqeFlags.FIXED_FILE))
        ring.submit()
        c = ring.cancel_fd(0, CancelFlags.FD_FIXED)
        ring.submit_and_wait(2, timeout=5)
        assert (c.res, rd.res) == (0, ECANCELED)
        miss = ring.cancel_fd(0, CancelFlags.FD_FIXED)  # nothing left on slot 0
        ring.submit_and_wait(1, timeout=5)
        assert miss.res == ENOENT
    finally:
        ring.unregister_files()
