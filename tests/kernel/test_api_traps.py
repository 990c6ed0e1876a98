"""API traps closed: close() takes no positional timeout, the timeout/cancel families are
importable under their module names, offset= everywhere (off= deprecated), buf_group= takes a
BufferRing, callbacks get plain-int CQE flags, flag enums at top level, and madvise refuses
ranges the kernel would round past the caller's memory."""

from __future__ import annotations

import importlib
import mmap
import os
import socket
import warnings

import pytest

import uring
from uring import Ring, ops
from uring.bufring import BufferRing

PAGE = mmap.PAGESIZE


def test_close_takes_its_timeout_by_keyword_only(ring, pipe):
    r, _ = pipe
    with pytest.raises(TypeError):
        ring.close(r)  # once closed the ring, taking the fd for a timeout
    assert not ring.closed
    ring.close(timeout=1.0)
    assert ring.closed


def test_timeout_and_cancel_families_are_importable_modules():
    timeouts = importlib.import_module("uring.ops.timeouts")
    cancels = importlib.import_module("uring.ops.cancels")
    assert timeouts.TimeSpec is not None and cancels.Target is not None
    assert ops.timeout is timeouts.timeout and callable(ops.timeout)
    assert ops.cancel is cancels.cancel and callable(ops.cancel)
    # The old module paths still import (they name the same modules).
    from uring.ops.timeout import TimeSpec
    from uring.ops.cancel import user_data_of
    assert TimeSpec is timeouts.TimeSpec and user_data_of is cancels.user_data_of
    assert importlib.import_module("uring.ops.timeout") is timeouts


def test_offset_is_the_name_and_off_is_deprecated(ring, tmp_file):
    path, data = tmp_file
    fd = os.open(path, os.O_RDONLY)
    try:
        buf = bytearray(8)
        ring.queue(ops.read(fd, buf, offset=100))
        ring.submit_and_wait(1)
        assert bytes(buf) == data[100:108]
        with pytest.warns(DeprecationWarning, match=r"read\(off=...\) is deprecated: use offset="):
            s = ops.read(fd, buf, off=200)
        ring.queue(s)
        ring.submit_and_wait(1)
        assert bytes(buf) == data[200:208]
        with pytest.warns(DeprecationWarning, match="readv"):
            op = ring.readv(fd, [buf], off=300)
        ring.submit_and_wait(1)
        assert (op.result, bytes(buf)) == (8, data[300:308])
        with pytest.raises(TypeError, match="both off= and offset="):
            ops.write(fd, b"x", off=1, offset=2)
        op = ring.read(fd, buf, offset=8)  # the compiled fast path: offset= too
        ring.submit_and_wait(1)
        assert bytes(buf) == data[8:16]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ring.readv(fd, [buf], offset=0)  # no warning for the new name
            ring.submit_and_wait(1)
    finally:
        os.close(fd)


def test_buf_group_takes_a_buffer_ring(ring):
    a, b = socket.socketpair()
    try:
        with BufferRing(ring, bgid=7, entries=4, buf_size=64) as br:
            sqe = ops.recv_multishot(a.fileno(), buf_group=br)
            assert sqe.buf_group == 7
            assert ops.read_multishot(a.fileno(), 0, 0, br).buf_group == 7
            assert ops.remove_buffers(1, br).buf_group == 7
            assert ops.nop().set(buf_group=br).buf_group == 7
            op = ring.recv_select(a.fileno(), 64, buf_group=br)
            b.send(b"hello")
            ring.submit_and_wait(1)
            bid, view = br.from_cqe(op.res, op.cqe_flags)
            assert bytes(view) == b"hello"
            br.recycle(bid)
            with pytest.raises(ValueError):
                ops.recv_multishot(a.fileno(), buf_group=70000)
            with pytest.raises(TypeError):
                ops.recv_multishot(a.fileno(), buf_group="7")
    finally:
        a.close()
        b.close()


def test_callbacks_get_plain_int_flags_and_the_enums_are_exported(ring):
    seen = []
    ring.nop(callback=lambda op, res, flags: seen.append((type(res), type(flags))))
    op = ring.queue(ops.nop(), callback=lambda op, res, flags: seen.append((type(res), type(flags))))
    ring.submit_and_wait(2)
    assert seen == [(int, int), (int, int)]
    assert type(op.cqe_flags) is int
    for name in ("SqeFlags", "CqeFlags", "SetupFlags", "EnterFlags", "Features", "Opcode",
                 "TimeoutFlags", "PollFlags", "CancelFlags", "RecvSendFlags"):
        assert getattr(uring, name) is getattr(uring.uapi, name)
        assert name in uring.__all__
    assert uring.SqeFlags.IO_LINK == 4 and uring.CqeFlags.MORE == 2


def test_madvise_refuses_ranges_the_kernel_would_round_out(ring):
    with mmap.mmap(-1, 2 * PAGE, flags=mmap.MAP_PRIVATE) as m:  # private: DONTNEED zeroes
        m[:] = b"\xAA" * (2 * PAGE)
        with pytest.raises(ValueError, match="rounded up to whole"):
            ops.madvise(memoryview(m)[:1], None, mmap.MADV_DONTNEED)
        with pytest.raises(ValueError, match="page-aligned"):
            ops.madvise(memoryview(m)[1:PAGE + 1], None, mmap.MADV_DONTNEED)
        with pytest.raises(ValueError, match="rounded up"):
            ops.madvise64(m, PAGE + 1, mmap.MADV_DONTNEED)
        with pytest.raises(TypeError, match="needs a writable buffer"):
            ops.madvise(memoryview(m).toreadonly(), None, mmap.MADV_DONTNEED)
        with pytest.raises(ValueError, match="page-aligned|rounded up"):
            ops.madvise(bytearray(100), None, mmap.MADV_DONTNEED)
        assert m[:] == b"\xAA" * (2 * PAGE)  # nothing was wiped
        # Hints never change the contents: read-only memory is fine for them.
        op = ring.queue(ops.madvise(memoryview(m).toreadonly()[:PAGE], None, mmap.MADV_WILLNEED))
        # Whole pages of writable memory: allowed, and DONTNEED zeroes exactly them.
        op2 = ring.queue(ops.madvise(memoryview(m)[PAGE:], None, mmap.MADV_DONTNEED))
        ring.submit_and_wait(2)
        assert (op.result, op2.result) == (0, 0)
        assert m[:PAGE] == b"\xAA" * PAGE and m[PAGE:] == bytes(PAGE)


def test_madvise_may_end_where_its_mmap_ends(ring):
    with mmap.mmap(-1, 100, flags=mmap.MAP_PRIVATE) as small:  # a whole page, all its own
        small[:] = b"x" * 100
        op = ring.queue(ops.madvise(small, None, mmap.MADV_DONTNEED))
        ring.submit_and_wait(1)
        assert op.result == 0 and small[:] == bytes(100)
