"""Provided-buffer rings against the kernel: registration and unregistration, buffer ids,
recycling, running dry, incremental consumption and the lifetime of the buffers."""

from __future__ import annotations

import errno
import gc
import os

import pytest

from uring import Sqe
from uring._uapi import CqeFlags, IOU_PBUF_RING_INC, IOU_PBUF_RING_MMAP, Opcode
from uring.bufring import BufferRing

BUFFER = int(CqeFlags.BUFFER)
BUF_MORE = int(CqeFlags.BUF_MORE)


def read_select(fd: int, nbytes: int, bgid: int) -> Sqe:
    """IORING_OP_READ into a buffer the kernel picks from group `bgid` (no helper builds
    this: ops.read always takes a buffer)."""
    s = Sqe()
    s.opcode = Opcode.READ
    s.fd = fd
    s.addr = 0
    s.len = nbytes
    s.off = 0xFFFFFFFFFFFFFFFF  # the pipe's current position
    return s.set(buf_group=bgid)


def run(ring, sqe: Sqe):
    op = ring.queue(sqe)
    ring.submit_and_wait(1, timeout=5)
    assert op.done, f"{op} did not complete"
    return op


def test_lifecycle_register_use_close(ring, pipe):
    r, w = pipe
    br = BufferRing(ring, bgid=1, entries=8, buf_size=64)
    assert (br.bgid, br.entries, br.buf_size, br.flags, br.closed) == (1, 8, 64, 0, False)
    assert ring._buffer_rings == {1: br}
    assert (br.tail, br.head, br.available) == (8, 0, 8)
    os.write(w, b"payload")
    op = run(ring, read_select(r, 64, 1))
    assert (op.res, op.cqe_flags) == (7, BUFFER)
    assert br.get(0, op.res) == b"payload"
    assert (br.head, br.available) == (1, 7)
    br.close()
    assert br.closed and ring._buffer_rings == {}
    br.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        br.get(0, 1)
    # Unregistered: the group is gone for the kernel...
    os.write(w, b"x")
    op = run(ring, read_select(r, 64, 1))
    assert (op.res, op.cqe_flags) == (-errno.ENOBUFS, 0)
    # ...and its id free for a new ring.
    with BufferRing(ring, bgid=1, entries=2, buf_size=8) as again:
        op = run(ring, read_select(r, 8, 1))
        assert (op.res, op.cqe_flags) == (1, BUFFER)
        assert again.get(0, 1) == b"x"
    assert ring._buffer_rings == {}


def test_buffer_ids_are_handed_out_in_order(ring, pipe):
    r, w = pipe
    with BufferRing(ring, bgid=2, entries=4, buf_size=16) as br:
        for bid in range(4):
            os.write(w, bytes([0x41 + bid]) * (bid + 1))
            op = run(ring, read_select(r, 16, 2))
            assert (op.res, op.cqe_flags) == (bid + 1, BUFFER | (bid << 16))
            assert op.buffer_id == bid
            assert br.from_cqe(op.res, op.cqe_flags) == (bid, bytes([0x41 + bid]) * (bid + 1))
        assert br.available == 0


def test_dry_group_fails_and_recycle_refills_it(ring, pipe):
    r, w = pipe
    with BufferRing(ring, bgid=3, entries=2, buf_size=8) as br:
        os.write(w, b"aabbcc")
        assert run(ring, read_select(r, 2, 3)).cqe_flags == BUFFER | (0 << 16)
        assert run(ring, read_select(r, 2, 3)).cqe_flags == BUFFER | (1 << 16)
        # A read fails at once when the group is empty, even with data waiting.
        op = run(ring, read_select(r, 2, 3))
        assert (op.res, op.cqe_flags) == (-errno.ENOBUFS, 0)
        with pytest.raises(OSError) as info:
            op.result
        assert info.value.errno == errno.ENOBUFS
        br.recycle(1)
        assert br.available == 1
        op = run(ring, read_select(r, 2, 3))
        assert (op.res, op.cqe_flags) == (2, BUFFER | (1 << 16))
        assert br.get(1, 2) == b"cc"


def test_recycle_several_at_once(ring, pipe):
    r, w = pipe
    with BufferRing(ring, bgid=4, entries=4, buf_size=4) as br:
        os.write(w, b"0123456789abcdef")
        bids = [run(ring, read_select(r, 4, 4)).buffer_id for _ in range(4)]
        assert bids == [0, 1, 2, 3] and br.available == 0
        br.recycle(3, 1, 2)
        assert (br.tail, br.available) == (7, 3)
        os.write(w, b"wxyz" * 3)
        assert [run(ring, read_select(r, 4, 4)).buffer_id for _ in range(3)] == [3, 1, 2]


def test_short_read_leaves_the_rest_of_the_buffer(ring, pipe):
    r, w = pipe
    with BufferRing(ring, bgid=5, entries=1, buf_size=32) as br:
        os.write(w, b"abcdef")
        op = run(ring, read_select(r, 4, 5))  # len caps what the kernel reads
        assert (op.res, op.cqe_flags) == (4, BUFFER)
        assert br.get(0, 4) == b"abcd"
        assert os.read(r, 8) == b"ef"


def test_incremental_ring_consumes_a_buffer_in_pieces(ring, pipe):
    r, w = pipe
    try:
        br = BufferRing(ring, bgid=6, entries=2, buf_size=16, flags=IOU_PBUF_RING_INC)
    except OSError as exc:
        if exc.errno == errno.EINVAL:
            pytest.skip(f"IOU_PBUF_RING_INC unsupported on {os.uname().release}")
        raise
    with br:
        views = []
        for chunk, flags in [(b"0123", BUFFER | BUF_MORE), (b"456789", BUFFER | BUF_MORE),
                             (b"abcdef", BUFFER), (b"XY", BUFFER | BUF_MORE | (1 << 16))]:
            os.write(w, chunk)
            op = run(ring, read_select(r, 0, 6))
            assert (op.res, op.cqe_flags) == (len(chunk), flags)
            bid, view = br.from_cqe(op.res, op.cqe_flags)
            views.append((bid, bytes(view)))
        # Buffer 0 filled up in three pieces (the last one exactly), then buffer 1 started.
        assert views == [(0, b"0123"), (0, b"456789"), (0, b"abcdef"), (1, b"XY")]
        assert br.get(0, 16) == b"0123456789abcdef"


def test_put_publishes_data_with_its_length(ring):
    with BufferRing(ring, bgid=7, entries=2, buf_size=8, populate=False) as br:
        assert (br.tail, br.available) == (0, 0)
        br.put(1, b"hey")
        assert (br.tail, br.available) == (1, 1)
        assert br.get(1, 3) == b"hey"
        with pytest.raises(ValueError, match="do not fit"):
            br.put(0, b"123456789")


def test_buffers_outlive_a_dropped_buffer_ring(ring, pipe):
    r, w = pipe
    BufferRing(ring, bgid=8, entries=2, buf_size=8)
    gc.collect()
    br = ring._buffer_rings[8]  # the ring kept it, so the kernel's buffers are still mapped
    os.write(w, b"alive")
    op = run(ring, read_select(r, 8, 8))
    assert (op.res, op.cqe_flags) == (5, BUFFER)
    assert br.get(0, 5) == b"alive"
    br.close()


def test_closing_the_ring_first(make_ring):
    ring = make_ring(8)
    br = BufferRing(ring, bgid=9, entries=2, buf_size=8)
    ring.close()
    br.close()  # nothing left to unregister from
    assert br.closed


def test_same_group_twice_is_refused(ring):
    with BufferRing(ring, bgid=10, entries=2, buf_size=8) as first:
        with pytest.raises(FileExistsError):
            BufferRing(ring, bgid=10, entries=2, buf_size=8)
        assert ring._buffer_rings == {10: first}


@pytest.mark.parametrize("kwargs, exc", [
    (dict(bgid=1, entries=3, buf_size=8), ValueError),
    (dict(bgid=1, entries=0, buf_size=8), ValueError),
    (dict(bgid=1, entries=65536, buf_size=8), ValueError),
    (dict(bgid=70000, entries=2, buf_size=8), ValueError),
    (dict(bgid=-1, entries=2, buf_size=8), ValueError),
    (dict(bgid=1, entries=2, buf_size=0), ValueError),
    (dict(bgid=1, entries=2, buf_size=8, flags=0x80), ValueError),
    (dict(bgid="1", entries=2, buf_size=8), TypeError),
    (dict(bgid=1, entries=2.0, buf_size=8), TypeError),
])
def test_bad_arguments(ring, kwargs, exc):
    with pytest.raises(exc):
        BufferRing(ring, **kwargs)
    assert getattr(ring, "_buffer_rings", {}) == {}


def test_bad_buffer_access(ring):
    with BufferRing(ring, bgid=11, entries=2, buf_size=8) as br:
        with pytest.raises(ValueError):
            br.get(2, 1)
        with pytest.raises(ValueError):
            br.get(0, 9)
        with pytest.raises(ValueError):
            br.get(0, 4, offset=5)
        with pytest.raises(ValueError):
            br.recycle(-1)
        with pytest.raises(ValueError, match="error"):
            br.from_cqe(-errno.ENOBUFS, 0)
        with pytest.raises(ValueError, match="F_BUFFER"):
            br.from_cqe(3, 0)
        assert br.addr(1) - br.addr(0) == 8


def test_kernel_allocated_ring_memory(ring, pipe):
    """IOU_PBUF_RING_MMAP: the kernel allocates the ring, we map it from the ring fd."""
    r, w = pipe
    with BufferRing(ring, bgid=3, entries=4, buf_size=32, flags=IOU_PBUF_RING_MMAP) as br:
        assert br.flags == IOU_PBUF_RING_MMAP and (br.tail, br.head, br.available) == (4, 0, 4)
        for i in range(6):                      # more reads than buffers: recycling works
            os.write(w, b"msg%d" % i)
            op = run(ring, read_select(r, 32, 3))
            bid, data = br.from_cqe(op.res, op.cqe_flags)
            assert bytes(data) == b"msg%d" % i
            br.recycle(bid)
