"""splice and tee through the ring: file -> pipe -> file, offsets and the file position,
registered (fixed) files, tee between pipes, and the kernel's refusals."""

from __future__ import annotations

import array
import errno
import os

import pytest

from tests.conftest import require_op
from uring import ops
from uring._uapi import Opcode, SqeFlags


@pytest.fixture(autouse=True)
def _needs_splice():
    require_op(Opcode.SPLICE, Opcode.TEE)


@pytest.fixture
def pipe(fds):
    """Factory: a new (read end, write end) pipe."""
    def make():
        r, w = os.pipe()
        fds.extend((r, w))
        return r, w
    return make


@pytest.fixture
def src(tmp_file, fds):
    """(fd O_RDONLY on the 64 KiB tmp_file, its data)."""
    path, data = tmp_file
    fd = os.open(path, os.O_RDONLY)
    fds.append(fd)
    return fd, data


@pytest.fixture
def dst(tmp_path, fds):
    fd = os.open(tmp_path / "out.bin", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    fds.append(fd)
    return fd


def run(ring, *sqes):
    """Queue, submit, wait for all; returns the Ops in CQE order (errors not raised)."""
    ring.completions = []
    try:
        queued = [ring.queue(s) for s in sqes]
        ring.submit()
        while not all(op.done for op in queued):
            ring.submit_and_wait(1, timeout=5)
        return ring.completions
    finally:
        ring.completions = None


def results(done):
    return [(op.opcode, op.res, op.cqe_flags) for op in done]


def test_splice_file_to_pipe_to_file(ring, src, dst, pipe):
    fd, data = src
    r, w = pipe()
    done = run(ring, ops.splice(fd, 0, w, -1, 4096, 0).set(flags=SqeFlags.IO_LINK),
               ops.splice(r, -1, dst, 0, 4096, 0))
    assert results(done) == [(Opcode.SPLICE, 4096, 0), (Opcode.SPLICE, 4096, 0)]
    assert os.pread(dst, 8192, 0) == data[:4096]


def test_splice_explicit_offsets_leave_file_positions(ring, src, dst, pipe):
    fd, data = src
    r, w = pipe()
    os.lseek(fd, 123, os.SEEK_SET)
    os.lseek(dst, 7, os.SEEK_SET)
    done = run(ring, ops.splice(fd, 1000, w, -1, 300).set(flags=SqeFlags.IO_LINK),
               ops.splice(r, -1, dst, 50, 300))
    assert [op.res for op in done] == [300, 300]
    assert os.pread(dst, 400, 0) == bytes(50) + data[1000:1300]
    assert os.lseek(fd, 0, os.SEEK_CUR) == 123
    assert os.lseek(dst, 0, os.SEEK_CUR) == 7


def test_splice_offset_minus_one_uses_and_advances_positions(ring, src, dst, pipe):
    fd, data = src
    r, w = pipe()
    os.lseek(fd, 500, os.SEEK_SET)
    os.lseek(dst, 10, os.SEEK_SET)
    for _ in range(2):
        done = run(ring, ops.splice(fd, -1, w, -1, 100).set(flags=SqeFlags.IO_LINK),
                   ops.splice(r, -1, dst, -1, 100))
        assert [op.res for op in done] == [100, 100]
    assert os.lseek(fd, 0, os.SEEK_CUR) == 700
    assert os.lseek(dst, 0, os.SEEK_CUR) == 210
    assert os.pread(dst, 300, 0) == bytes(10) + data[500:700]


def test_splice_short_zero_and_eof(ring, dst, pipe, fds):
    r, w = pipe()
    os.write(w, b"0123456789")
    # A short splice fails an IO_LINK chain; a hard link keeps the order regardless.
    short, zero = run(ring, ops.splice(r, -1, dst, 0, 4096).set(flags=SqeFlags.IO_HARDLINK),
                      ops.splice(r, -1, dst, 0, 0))
    assert (short.res, zero.res) == (10, 0)
    fds.remove(w)
    os.close(w)
    r2, w2 = pipe()
    eof = run(ring, ops.splice(r, -1, w2, -1, 4096))
    assert results(eof) == [(Opcode.SPLICE, 0, 0)]
    assert os.pread(dst, 20, 0) == b"0123456789"


def test_splice_with_registered_files(ring, src, pipe):
    fd, data = src
    r, w = pipe()
    assert ring._register(2, array.array("i", [fd, w]), 2) == 0  # IORING_REGISTER_FILES
    try:
        done = run(ring,
                   ops.splice(0, 64, w, -1, 16, ops.SPLICE_F_FD_IN_FIXED).set(flags=SqeFlags.IO_LINK),
                   ops.splice(fd, 80, 1, -1, 16).set(flags=SqeFlags.FIXED_FILE | SqeFlags.IO_LINK),
                   ops.splice(0, 96, 1, -1, 16, ops.SPLICE_F_FD_IN_FIXED).set(flags=SqeFlags.FIXED_FILE))
        assert [op.res for op in done] == [16, 16, 16]
        assert os.read(r, 100) == data[64:112]
        (bad,) = run(ring, ops.splice(5, 0, w, -1, 16, ops.SPLICE_F_FD_IN_FIXED))
        assert bad.res == -errno.EBADF
    finally:
        ring._register(3)  # IORING_UNREGISTER_FILES


def test_splice_refusals(ring, src, dst, pipe):
    fd, _ = src
    r, w = pipe()
    os.write(w, b"abc")
    pipe_offset, no_pipe = run(ring, ops.splice(r, 0, dst, 0, 3).set(flags=SqeFlags.IO_HARDLINK),
                               ops.splice(fd, 0, dst, 0, 3))
    assert (pipe_offset.res, no_pipe.res) == (-errno.ESPIPE, -errno.EINVAL)
    with pytest.raises(OSError) as info:
        pipe_offset.result
    assert info.value.errno == errno.ESPIPE
    (bad_flags,) = run(ring, ops.splice(r, -1, dst, 0, 3, 0x100))  # not a SPLICE_F_* bit
    assert bad_flags.res == -errno.EINVAL
    assert os.read(r, 10) == b"abc"


def test_tee_duplicates_without_consuming(ring, pipe):
    r1, w1 = pipe()
    r2, w2 = pipe()
    os.write(w1, b"hello tee")
    (op,) = run(ring, ops.tee(r1, w2, 100, 0))
    assert results([op]) == [(Opcode.TEE, 9, 0)]
    assert os.read(r2, 100) == b"hello tee"
    assert os.read(r1, 100) == b"hello tee"


def test_tee_partial_then_splice_rest(ring, pipe, dst):
    r1, w1 = pipe()
    r2, w2 = pipe()
    os.write(w1, b"abcdefgh")
    tee_op, splice_op = run(ring, ops.tee(r1, w2, 3).set(flags=SqeFlags.IO_LINK),
                            ops.splice(r1, -1, dst, 0, 100))
    assert (tee_op.res, splice_op.res) == (3, 8)
    assert os.read(r2, 100) == b"abc"
    assert os.pread(dst, 100, 0) == b"abcdefgh"


def test_tee_refusals_and_eof(ring, src, pipe, fds):
    fd, _ = src
    r1, w1 = pipe()
    r2, w2 = pipe()
    os.write(w1, b"x")
    from_file, same_pipe = run(ring, ops.tee(fd, w2, 10).set(flags=SqeFlags.IO_HARDLINK),
                               ops.tee(r1, w1, 10))
    assert (from_file.res, same_pipe.res) == (-errno.EINVAL, -errno.EINVAL)
    os.read(r1, 1)
    fds.remove(w1)
    os.close(w1)
    eof = run(ring, ops.tee(r1, w2, 10))
    assert results(eof) == [(Opcode.TEE, 0, 0)]
