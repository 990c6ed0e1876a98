"""Legacy provided buffers (PROVIDE/REMOVE_BUFFERS, buffer-selecting reads, multishot read),
uring_cmd on sockets and the 128-byte SQE ops, against the kernel: exact res, cqe_flags
and CQE order."""

from __future__ import annotations

import errno
import gc
import os
import socket
import weakref

import pytest

from uring import ops
from uring.errors import UnsupportedFeature
from uring.ops import ProvidedBuffers
from uring.ops._common import sqe as blank_sqe
from uring._uapi import CqeFlags, Opcode, SetupFlags, SocketCmd
from tests.conftest import require_op

BUF, MORE = CqeFlags.BUFFER, CqeFlags.MORE


def bid_flags(bid, more=False):
    """The cqe_flags of a CQE that consumed provided buffer `bid`."""
    return BUF | (MORE if more else 0) | (bid << 16)


def select_read(fd, nbytes, off, bgid):
    """IORING_OP_READ letting the kernel pick the buffer from group `bgid`."""
    return blank_sqe(Opcode.READ, fd, 0, nbytes, off).set(buf_group=bgid)


@pytest.fixture
def pool():
    """8 buffers of 16 bytes, group 1, ids 0..7. Tests leave none of them with the kernel
    (consumed or removed), so closing the pool before the ring is safe."""
    require_op(Opcode.PROVIDE_BUFFERS, Opcode.REMOVE_BUFFERS)
    p = ProvidedBuffers(16, 8, 1)
    yield p
    p.close()


@pytest.fixture
def data_fd(tmp_file, fd_guard):
    path, data = tmp_file
    fd = os.open(path, os.O_RDONLY)
    yield fd, data
    os.close(fd)


@pytest.fixture
def pipe(fd_guard):
    r, w = os.pipe()
    ends = {"r": r, "w": w}
    yield ends
    for fd in ends.values():
        if fd is not None:
            os.close(fd)


def close_writer(pipe):
    os.close(pipe["w"])
    pipe["w"] = None


# -- PROVIDE_BUFFERS / REMOVE_BUFFERS and buffer-selecting reads ----------------------------


def test_provide_then_reads_pick_buffers_in_order(ring, pool, data_fd):
    fd, data = data_fd
    op = ring.queue(pool.provide())
    assert ring.wait_for(op) == [0]
    assert op.out is pool
    assert not op.pinned  # the op is done; the pool itself keeps the memory
    reads = [ring.queue(select_read(fd, 10, 100 * i, pool.bgid)) for i in range(3)]
    ring.wait_for(*reads)
    assert [(r.res, r.cqe_flags, r.buffer_id) for r in reads] == \
        [(10, bid_flags(0), 0), (10, bid_flags(1), 1), (10, bid_flags(2), 2)]
    for i, r in enumerate(reads):
        assert bytes(pool.get(r.buffer_id, r.res)) == data[100 * i:100 * i + 10]
        bid, view = pool.from_cqe(r.res, r.cqe_flags)
        assert (bid, bytes(view)) == (i, data[100 * i:100 * i + 10])
    assert ring.run(pool.remove()) == 5  # 8 provided, 3 consumed


def test_read_is_clamped_to_the_buffer_size(ring, pool, data_fd):
    fd, data = data_fd
    ring.run(pool.provide())
    op = ring.queue(select_read(fd, 4096, 0, pool.bgid))
    ring.wait_for(op)
    assert (op.res, op.cqe_flags) == (16, bid_flags(0))
    assert bytes(pool.get(0)) == data[:16]
    ring.run(pool.remove())


def test_provide_buffers_helper_with_caller_memory(ring, data_fd):
    require_op(Opcode.PROVIDE_BUFFERS)
    fd, data = data_fd
    memory = bytearray(64)
    op = ring.queue(ops.provide_buffers(memory, 32, 2, 9, 40))
    assert ring.wait_for(op) == [0]
    provided = op.out
    try:
        assert isinstance(provided, ProvidedBuffers)
        with pytest.raises(BufferError):
            memory.extend(b"x")  # pinned by the pool, past the op's completion
        r = ring.queue(select_read(fd, 32, 0, 9))
        ring.wait_for(r)
        assert (r.res, r.cqe_flags) == (32, bid_flags(40))
        assert bytes(memory[:32]) == data[:32]
        assert ring.run(ops.remove_buffers(8, 9)) == 1
    finally:
        provided.close()
    memory.extend(b"x")  # closed: the bytearray is free again


def test_provide_as_a_ring_method(ring, data_fd):
    require_op(Opcode.PROVIDE_BUFFERS)
    memory = bytearray(16)
    op = ring.provide_buffers(memory, 8, 2, 3, 0)
    ring.wait_for(op)
    assert op.res == 0
    assert ring.run(ops.remove_buffers(2, 3)) == 2
    op.out.close()


def test_reprovided_buffer_goes_to_the_back(ring, data_fd):
    require_op(Opcode.PROVIDE_BUFFERS)
    fd, _ = data_fd
    with ProvidedBuffers(8, 3, 2) as p:
        ring.run(p.provide())
        first = ring.queue(select_read(fd, 8, 0, 2))
        ring.wait_for(first)
        assert first.buffer_id == 0
        assert ring.run(p.provide(0)) == 0  # hand bid 0 back
        reads = [ring.queue(select_read(fd, 8, 0, 2)) for _ in range(3)]
        ring.wait_for(*reads)
        assert [r.buffer_id for r in reads] == [1, 2, 0]
        assert ring.run(p.remove()) == 0  # all consumed: the kernel holds none of them


def test_read_from_an_empty_group_fails(ring, pool, data_fd):
    fd, _ = data_fd
    op = ring.queue(select_read(fd, 8, 0, 77))
    with pytest.raises(OSError) as info:
        ring.wait_for(op)
    assert info.value.errno == errno.ENOBUFS
    assert (op.res, op.cqe_flags) == (-errno.ENOBUFS, 0)


def test_remove_buffers_counts(ring, pool):
    ring.run(pool.provide())
    assert ring.run(ops.remove_buffers(3, pool.bgid)) == 3
    assert ring.run(ops.remove_buffers(100, pool.bgid)) == 5
    assert ring.run(ops.remove_buffers(1, pool.bgid)) == 0  # the group exists, empty
    op = ring.queue(ops.remove_buffers(1, 4321))
    ring.submit_and_wait(1)
    assert op.res == -errno.ENOENT


def test_provided_memory_outlives_dropped_references(ring, data_fd):
    require_op(Opcode.PROVIDE_BUFFERS)
    fd, data = data_fd
    p = ProvidedBuffers(16, 1, 5)
    ring.run(p.provide())
    ref = weakref.ref(p)
    del p
    gc.collect()
    assert ref() is not None  # the kernel still holds the buffer: the module keeps it
    op = ring.queue(select_read(fd, 16, 0, 5))
    ring.wait_for(op)
    assert bytes(ref().get(op.buffer_id, op.res)) == data[:16]
    ref().close()
    gc.collect()
    assert ref() is None


# -- READ_MULTISHOT -------------------------------------------------------------------------


@pytest.fixture
def mshot_ring(ring):
    require_op(Opcode.READ_MULTISHOT)
    return ring


def test_read_multishot_until_eof(mshot_ring, pipe):
    ring = mshot_ring
    with ProvidedBuffers(8, 4, 3) as p:
        ring.run(p.provide())
        os.write(pipe["w"], b"0123456789abcdefghij")
        op = ring.queue(ops.read_multishot(pipe["r"], 0, 0, 3))
        ring.submit_and_wait(3, timeout=5)
        assert not op.done
        cqes = op.take_cqes()
        assert cqes == [(8, bid_flags(0, True)), (8, bid_flags(1, True)), (4, bid_flags(2, True))]
        assert b"".join(bytes(p.from_cqe(*c)[1]) for c in cqes) == b"0123456789abcdefghij"
        close_writer(pipe)
        ring.wait_for(op, timeout=5)
        assert (op.res, op.cqe_flags) == (0, 0)  # EOF ends it, consuming no buffer
        assert ring.run(p.remove()) == 1


def test_read_multishot_waits_for_data(mshot_ring, pipe):
    ring = mshot_ring
    with ProvidedBuffers(8, 2, 4) as p:
        ring.run(p.provide())
        op = ring.queue(ops.read_multishot(pipe["r"], 0, 0, 4))
        ring.submit()
        ring.peek()
        assert not op.done and op.take_cqes() == []
        os.write(pipe["w"], b"hello")
        ring.submit_and_wait(1, timeout=5)
        assert op.take_cqes() == [(5, bid_flags(0, True))]
        assert bytes(p.get(0, 5)) == b"hello"
        close_writer(pipe)
        ring.wait_for(op, timeout=5)
        assert (op.res, op.cqe_flags) == (0, 0)
        assert ring.run(p.remove()) == 1


def test_read_multishot_stops_when_buffers_run_out(mshot_ring, pipe):
    ring = mshot_ring
    with ProvidedBuffers(8, 2, 6, bid=10) as p:
        ring.run(p.provide())
        os.write(pipe["w"], b"x" * 24)
        op = ring.queue(ops.read_multishot(pipe["r"], 0, 0, 6))
        with pytest.raises(OSError) as info:
            ring.wait_for(op, timeout=5)
        assert info.value.errno == errno.ENOBUFS
        assert op.take_cqes() == [(8, bid_flags(10, True)), (8, bid_flags(11, True))]
        assert (op.res, op.cqe_flags) == (-errno.ENOBUFS, 0)  # final: must be re-armed


def test_read_multishot_rejects_a_length(mshot_ring, pipe, pool):
    ring = mshot_ring
    ring.run(pool.provide())
    op = ring.queue(ops.read_multishot(pipe["r"], 4, 0, pool.bgid))
    ring.submit_and_wait(1)
    assert op.res == -errno.EINVAL  # this kernel reads whole buffers only
    ring.run(pool.remove())


def test_read_multishot_needs_a_pollable_file(mshot_ring, data_fd, pool):
    ring = mshot_ring
    ring.run(pool.provide())
    op = ring.queue(ops.read_multishot(data_fd[0], 0, 0, pool.bgid))
    ring.submit_and_wait(1)
    assert (op.res, op.take_cqes()) == (-errno.EBADFD, [])
    assert ring.run(pool.remove()) == 8


# -- uring_cmd, NOP128, URING_CMD128 ------------------------------------------------------------


@pytest.fixture
def udp_pair():
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    yield rx, tx
    rx.close()
    tx.close()


def test_uring_cmd_socket_ioctls(ring, udp_pair, fd_guard):
    require_op(Opcode.URING_CMD)
    rx, tx = udp_pair
    tx.sendto(b"hello", rx.getsockname())
    tx.sendto(b"abc", rx.getsockname())
    inq = ring.queue(ops.uring_cmd(SocketCmd.SIOCINQ, rx.fileno()))
    outq = ring.queue(ops.uring_cmd(SocketCmd.SIOCOUTQ, tx.fileno()))
    # UDP's SIOCINQ is the size of the first queued datagram; nothing is left to send.
    assert ring.wait_for(inq, outq) == [5, 0]


@pytest.mark.parametrize("target", ["unknown_cmd", "regular_file", "unix_socket"])
def test_uring_cmd_unsupported(ring, udp_pair, data_fd, target):
    require_op(Opcode.URING_CMD)
    a = b = None
    if target == "unknown_cmd":
        sqe = ops.uring_cmd(77, udp_pair[0].fileno())
    elif target == "regular_file":
        sqe = ops.uring_cmd(SocketCmd.SIOCINQ, data_fd[0])
    else:
        a, b = socket.socketpair()
        sqe = ops.uring_cmd(SocketCmd.SIOCINQ, a.fileno())
    op = ring.queue(sqe)
    ring.submit_and_wait(1)
    assert op.res == -errno.EOPNOTSUPP
    for s in (a, b):
        if s is not None:
            s.close()


def test_nop128(make_ring):
    require_op(Opcode.NOP128)
    ring = make_ring(8, flags=SetupFlags.SQE128)
    assert ring.run(ops.nop128()) == 0


def test_nop128_needs_an_sqe128_ring(ring):
    require_op(Opcode.NOP128)
    with pytest.raises(UnsupportedFeature, match="SQE128"):
        ring.queue(ops.nop128())


def test_uring_cmd128_socket_ioctl(make_ring, udp_pair):
    require_op(Opcode.URING_CMD128)
    ring = make_ring(8, flags=SetupFlags.SQE128)
    rx, tx = udp_pair
    tx.sendto(b"hello", rx.getsockname())
    assert ring.run(ops.uring_cmd128(SocketCmd.SIOCINQ, rx.fileno())) == 5
