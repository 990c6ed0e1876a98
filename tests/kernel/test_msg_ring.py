"""IORING_OP_MSG_RING against the kernel: data messages and fixed-file passing between
rings, with the target's CQE (user_data, res, flags) checked exactly."""

from __future__ import annotations

import errno
import os
from array import array

import pytest

from uring import Ring, ops
from uring._uapi import (
    IORING_RSRC_REGISTER_SPARSE, RSRC_REGISTER, MsgRingFlags, Opcode, RegisterOp, SetupFlags,
    SqeFlags,
)
from tests.conftest import require_op


@pytest.fixture(autouse=True)
def _needs_msg_ring():
    require_op(Opcode.MSG_RING)


def inbox(ring):
    """Route the CQEs no op of `ring` owns (the messages) into a list."""
    got = []
    ring.foreign_cqe_handler = lambda user_data, res, flags: got.append((user_data, res, flags))
    return got


def run_res(sender, receiver, sqe):
    """Run a MSG_RING on `sender`, let `receiver` process what arrived; the op's res."""
    op = sender.queue(sqe)
    sender.submit_and_wait(1)
    assert op.done
    receiver.peek()
    return op.res


def register_files(ring, fds):
    ring._register(RegisterOp.FILES, array("i", fds), len(fds))


def register_sparse(ring, nr):
    arg = bytearray(RSRC_REGISTER.pack(nr, IORING_RSRC_REGISTER_SPARSE, 0, 0, 0))
    ring._register(RegisterOp.FILES2, arg, RSRC_REGISTER.size)


# -- data messages -----------------------------------------------------------------------


def test_message_reaches_the_other_ring(ring, make_ring):
    target = make_ring(8)
    got = inbox(target)
    op = ring.queue(ops.msg_ring(target, 0x1234, 0xCAFE))
    assert ring.wait_for(op) == [0]
    assert (op.res, op.cqe_flags) == (0, 0)
    # Posted synchronously while the sender's op ran: waiting in the target's CQ already.
    assert target.cq_ready() == 1
    assert target.peek() == 1
    assert got == [(0xCAFE, 0x1234, 0)]
    assert target.cq_ready() == 0


def test_messages_arrive_in_order(ring, make_ring):
    target = make_ring(8)
    got = inbox(target)
    sent = [ring.queue(ops.msg_ring(target.fd, n, 100 + n)) for n in range(5)]
    ring.wait_for(*sent)
    target.peek()
    assert got == [(100 + n, n, 0) for n in range(5)]


def test_message_to_ring_without_handler_counts_as_stale(ring, fd_guard):
    target = Ring(8)  # not a checked fixture ring: it is meant to end with a stale CQE
    try:
        op = ring.queue(ops.msg_ring(target, 7, 0x42))
        ring.wait_for(op)
        assert target.cq_ready() == 1
        assert target.stale_cqes == 0
        assert target.peek() == 1
        assert target.stale_cqes == 1
        assert target.cq_ready() == 0
    finally:
        target.close()


def test_message_full_64_bit_user_data_and_u32_len(ring, make_ring):
    target = make_ring(8)
    got = inbox(target)
    ring.wait_for(ring.queue(ops.msg_ring(target, 0x7FFFFFFF, 0x7EDCBA9876543210)))
    target.peek()
    assert got == [(0x7EDCBA9876543210, 0x7FFFFFFF, 0)]


def test_message_with_cqe_flags(ring, make_ring):
    target = make_ring(8)
    got = inbox(target)
    op = ring.queue(ops.msg_ring_cqe_flags(target, 9, 0x81, 0, 0xABCD0000))
    ring.wait_for(op)
    assert op.res == 0
    target.peek()
    assert got == [(0x81, 9, 0xABCD0000)]


def test_message_to_self(make_ring):
    r = make_ring(8)
    got = inbox(r)
    op = r.queue(ops.msg_ring(r, 3, 0x99))
    r.wait_for(op)
    r.peek()
    assert op.res == 0
    assert got == [(0x99, 3, 0)]


def test_message_to_defer_taskrun_ring_waits_for_its_owner(ring, make_ring):
    target = make_ring(8, flags=SetupFlags.SINGLE_ISSUER | SetupFlags.DEFER_TASKRUN)
    got = inbox(target)
    op = ring.queue(ops.msg_ring(target, 5, 0x55))
    assert ring.wait_for(op) == [0]
    # Queued as task work for the target's submitter: nothing is in its CQ until it enters.
    assert target.cq_ready() == 0
    assert target.peek() == 1
    assert got == [(0x55, 5, 0)]


def test_cqe_skip_is_rejected_for_data(ring, make_ring):
    target = make_ring(8)
    got = inbox(target)
    assert run_res(ring, target, ops.msg_ring(target, 1, 2, MsgRingFlags.CQE_SKIP)) == -errno.EINVAL
    assert got == []


def test_message_to_a_non_ring_fd_fails(ring, fd_guard):
    r, w = os.pipe()
    try:
        op = ring.queue(ops.msg_ring(r, 1, 2))
        with pytest.raises(OSError) as info:
            ring.wait_for(op)
        assert info.value.errno == errno.EBADFD
        assert op.res == -errno.EBADFD
    finally:
        os.close(r)
        os.close(w)


def test_message_as_a_ring_method(ring, make_ring):
    target = make_ring(8)
    got = inbox(target)
    op = ring.msg_ring(target, 11, 0x1111)
    ring.wait_for(op)
    target.peek()
    assert got == [(0x1111, 11, 0)]


def test_target_ring_is_kept_alive_by_the_sqe(ring, fd_guard):
    target = Ring(8)
    got = inbox(target)
    try:
        sqe = ops.msg_ring(target, 1, 0x10)
        assert target in sqe.pins
        op = ring.queue(sqe)
        ring.wait_for(op)
        assert not op.pinned
        target.peek()
        assert got == [(0x10, 1, 0)]
    finally:
        target.close()


def test_message_to_a_closed_ring_is_refused_before_queueing(ring):
    target = Ring(8)
    target.close()
    with pytest.raises(ValueError, match="closed"):
        ops.msg_ring(target, 1, 2)
    assert ring.sq_ready() == 0


# -- passing fixed files -------------------------------------------------------------------


@pytest.fixture
def pipe_pair(fd_guard):
    r, w = os.pipe()
    yield r, w
    os.close(r)
    os.close(w)


@pytest.fixture
def rings_with_tables(ring, make_ring, pipe_pair):
    """Sender `ring` has the pipe's read end at fixed slot 0 (slot 1 empty); the target
    has an empty (sparse) 4-slot table and an inbox."""
    r, _ = pipe_pair
    register_files(ring, [r, -1])
    target = make_ring(8)
    register_sparse(target, 4)
    return ring, target, inbox(target)


def read_slot(target, slot, n=16):
    buf = bytearray(n)
    op = target.queue(ops.read(slot, buf, None, 0).set(flags=SqeFlags.FIXED_FILE))
    target.wait_for(op)
    return bytes(buf[:op.res])


def test_fd_into_a_chosen_slot(rings_with_tables, pipe_pair):
    sender, target, got = rings_with_tables
    assert run_res(sender, target, ops.msg_ring_fd(target, 0, 2, 0x77)) == 0
    assert got == [(0x77, 0, 0)]
    os.write(pipe_pair[1], b"hello")
    assert read_slot(target, 2) == b"hello"


def test_fd_into_an_allocated_slot(rings_with_tables, pipe_pair):
    sender, target, got = rings_with_tables
    assert run_res(sender, target, ops.msg_ring_fd_alloc(target, 0, 0x78)) == 0
    assert run_res(sender, target, ops.msg_ring_fd_alloc(target, 0, 0x79)) == 1
    assert got == [(0x78, 0, 0), (0x79, 1, 0)]
    os.write(pipe_pair[1], b"abc")
    assert read_slot(target, 1) == b"abc"


def test_fd_with_cqe_skip_posts_nothing_on_the_target(rings_with_tables, pipe_pair):
    sender, target, got = rings_with_tables
    assert run_res(sender, target, ops.msg_ring_fd(target, 0, 3, 0x7A, MsgRingFlags.CQE_SKIP)) == 0
    assert got == []
    assert target.cq_ready() == 0
    os.write(pipe_pair[1], b"skip")
    assert read_slot(target, 3) == b"skip"  # installed all the same


def test_fd_replaces_an_occupied_slot(rings_with_tables):
    sender, target, got = rings_with_tables
    assert run_res(sender, target, ops.msg_ring_fd(target, 0, 1, 1)) == 0
    assert run_res(sender, target, ops.msg_ring_fd(target, 0, 1, 2)) == 0
    assert got == [(1, 0, 0), (2, 0, 0)]


@pytest.mark.parametrize("source, slot, err", [
    (1, 0, errno.EBADF),     # the sender's slot 1 is empty
    (7, 0, errno.EBADF),     # beyond the sender's table
    (0, 10, errno.EINVAL),   # beyond the target's table
])
def test_fd_errors(rings_with_tables, source, slot, err):
    sender, target, got = rings_with_tables
    assert run_res(sender, target, ops.msg_ring_fd(target, source, slot, 0x7D)) == -err
    assert got == []


def test_fd_to_self_is_invalid(rings_with_tables):
    sender, target, got = rings_with_tables
    assert run_res(sender, target, ops.msg_ring_fd(sender, 0, 1, 0x7E)) == -errno.EINVAL


def test_fd_to_a_ring_without_a_file_table(ring, make_ring, pipe_pair):
    register_files(ring, [pipe_pair[0]])
    target = make_ring(8)
    got = inbox(target)
    assert run_res(ring, target, ops.msg_ring_fd(target, 0, 0, 0x7F)) == -errno.ENXIO
    assert got == []
