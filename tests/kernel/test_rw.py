"""Reading, writing and syncing files through the ring: the compiled fast paths and the
ops.* helpers, file positions, registered buffers, advice, errors and buffer lifetime."""

from __future__ import annotations

import errno
import gc
import mmap
import os
import struct
import weakref

import pytest

from tests.conftest import require_op
from uring import Pin, ops
from uring._uapi import IORING_FSYNC_DATASYNC, SQE, Opcode, SqeFlags

PAGE = mmap.PAGESIZE
_USER_DATA = slice(32, 40)  # the SQE bytes of user_data, the one field a queue() changes


@pytest.fixture(autouse=True)
def _needs_read_write():
    require_op(Opcode.READ, Opcode.WRITE)  # Linux 5.6; the rest of 5.1's set is implied


@pytest.fixture
def opened(fd_guard):
    """Factory: os.open(path, flags) whose fd is closed at teardown (before fd_guard checks)."""
    fds = []

    def open_(path, flags=os.O_RDWR, mode=0o600):
        fd = os.open(path, flags, mode)
        fds.append(fd)
        return fd

    yield open_
    for fd in fds:
        os.close(fd)


@pytest.fixture
def rw_fd(tmp_file, opened):
    """(fd opened O_RDWR on the 64 KiB tmp_file, its data)."""
    path, data = tmp_file
    return opened(path), data


@pytest.fixture
def empty_fd(tmp_path, opened):
    return opened(tmp_path / "empty.bin", os.O_RDWR | os.O_CREAT | os.O_TRUNC)


@pytest.fixture
def registered(ring):
    """Two registered buffers (IORING_REGISTER_BUFFERS through the raw core): index 0 of
    2 pages, index 1 of 1 page; unregistered at teardown."""
    bufs = [bytearray(2 * PAGE), bytearray(PAGE)]
    pins = [Pin(b, True) for b in bufs]  # the iovecs must name stable addresses
    iovecs = bytearray(b"".join(struct.pack("=QQ", p.addr, p.nbytes) for p in pins))
    assert ring._register(0, iovecs, len(bufs)) == 0
    yield bufs
    ring._register(1)
    del pins


def finish(ring, *op_list):
    """Submit and wait until every op given is done, without raising their errors."""
    ring.submit()
    while not all(op.done for op in op_list):
        ring.submit_and_wait(1, timeout=5)
    return op_list


def run(ring, *sqes):
    """Queue the SQEs, submit, wait for them all; returns their Ops in CQE order."""
    ring.completions = []
    try:
        finish(ring, *[ring.queue(s) for s in sqes])
        return ring.completions
    finally:
        ring.completions = None


# -- basic reads and writes ---------------------------------------------------------------

def test_nop_fast_path_and_helper(ring):
    ring.completions = []
    a = ring.nop()
    b = ring.queue(ops.nop())
    finish(ring, a, b)
    assert ring.completions == [a, b]
    ring.completions = None
    assert (a.res, a.cqe_flags, b.res, b.cqe_flags) == (0, 0, 0, 0)


def test_read_write_fast_paths(ring, rw_fd):
    fd, data = rw_fd
    w = ring.write(fd, b"hello world", None, 100)
    finish(ring, w)
    assert (w.res, w.cqe_flags) == (11, 0)
    buf = bytearray(16)
    r = ring.read(fd, buf, None, 96)
    finish(ring, r)
    assert (r.res, r.cqe_flags) == (16, 0)
    assert bytes(buf) == data[96:100] + b"hello world" + data[111:112]
    part = bytearray(8)
    r = ring.read(fd, part, 5, 100)
    finish(ring, r)
    assert r.res == 5 and part == b"hello\0\0\0"


def test_read_write_helpers(ring, rw_fd):
    fd, data = rw_fd
    buf = bytearray(32)
    w, r = run(ring, ops.write(fd, b"0123456789", 6, 1000).set(flags=SqeFlags.IO_LINK),
               ops.read(fd, buf, 20, 995))
    assert [(o.opcode, o.res, o.cqe_flags) for o in (w, r)] == [(Opcode.WRITE, 6, 0), (Opcode.READ, 20, 0)]
    assert bytes(buf[:20]) == data[995:1000] + b"012345" + data[1006:1015]
    assert bytes(buf[20:]) == bytes(12)


def test_readv_writev(ring, rw_fd):
    fd, data = rw_fd
    (w,) = run(ring, ops.writev(fd, [b"abc", memoryview(b"-defg-")[1:5]], 10))
    assert (w.res, w.cqe_flags) == (7, 0)
    parts = [bytearray(3), bytearray(4), bytearray(2)]
    (r,) = run(ring, ops.readv(fd, parts, 9))
    assert (r.res, r.cqe_flags) == (9, 0)
    assert b"".join(parts) == data[9:10] + b"abcdefg" + data[17:18]


def test_readv2_writev2_flags(ring, rw_fd):
    fd, data = rw_fd
    (w,) = run(ring, ops.writev2(fd, [b"tail"], 0, os.RWF_APPEND))
    assert w.res == 4
    assert os.fstat(fd).st_size == len(data) + 4
    buf = bytearray(4)
    (r,) = run(ring, ops.readv2(fd, [buf], len(data), os.RWF_NOWAIT))
    assert (r.res, bytes(buf)) == (4, b"tail")
    (bad,) = finish(ring, ring.queue(ops.readv2(fd, [buf], 0, 0x40000000)))
    assert bad.res == -errno.EOPNOTSUPP


@pytest.mark.parametrize("kind", ["nop", "read", "write", "read_fixed", "write_fixed"])
def test_fast_path_sqe_equals_helper_sqe(ring, rw_fd, registered, kind):
    fd, _ = rw_fd
    region = memoryview(registered[0])[PAGE:PAGE + 100]
    fast, helper, res = {
        "nop": (lambda: ring.nop(), lambda: ops.nop(), 0),
        "read": (lambda: ring.read(fd, region, 40, 12), lambda: ops.read(fd, region, 40, 12), 40),
        "write": (lambda: ring.write(fd, region, None, 7), lambda: ops.write(fd, region, None, 7), 100),
        "read_fixed": (lambda: ring.read_fixed(fd, region, 50, 3, 0),
                       lambda: ops.read_fixed(fd, region, 50, 3, 0), 50),
        "write_fixed": (lambda: ring.write_fixed(fd, region, None, 5, 0),
                        lambda: ops.write_fixed(fd, region, None, 5, 0), 100),
    }[kind]
    op = fast()
    written = bytearray(ring._peek_sqe())
    expected = bytearray(bytes(helper()))
    assert struct.unpack_from("=Q", written, 32)[0] == op.user_data
    written[_USER_DATA] = expected[_USER_DATA] = bytes(8)
    assert SQE.unpack(written) == SQE.unpack(expected)
    finish(ring, op)
    assert (op.res, op.cqe_flags) == (res, 0)


# -- file positions and end of file -----------------------------------------------------

@pytest.mark.parametrize("path", ["fast", "helper"])
def test_short_read_at_eof_then_zero(ring, rw_fd, path):
    fd, data = rw_fd
    size = len(data)
    bufs = [bytearray(4096), bytearray(4096)]
    if path == "fast":
        first, second = ring.read(fd, bufs[0], None, size - 100), ring.read(fd, bufs[1], None, size)
    else:
        first, second = ring.queue(ops.read(fd, bufs[0], None, size - 100)), \
            ring.queue(ops.read(fd, bufs[1], None, size))
    finish(ring, first, second)
    assert (first.res, first.cqe_flags, second.res, second.cqe_flags) == (100, 0, 0, 0)
    assert bytes(bufs[0][:100]) == data[-100:]


def test_offset_minus_one_uses_and_advances_file_position(ring, rw_fd):
    fd, data = rw_fd
    os.lseek(fd, 1000, os.SEEK_SET)
    a, b = bytearray(16), bytearray(16)
    first = ring.read(fd, a, None, -1)
    finish(ring, first)
    second = ring.queue(ops.read(fd, b, None, -1))
    finish(ring, second)
    assert (first.res, second.res) == (16, 16)
    assert bytes(a + b) == data[1000:1032]
    assert os.lseek(fd, 0, os.SEEK_CUR) == 1032
    w = ring.write(fd, b"XYZ", None, -1)
    finish(ring, w)
    assert w.res == 3 and os.lseek(fd, 0, os.SEEK_CUR) == 1035
    assert os.pread(fd, 3, 1032) == b"XYZ"


def test_explicit_offset_leaves_file_position(ring, rw_fd):
    fd, data = rw_fd
    os.lseek(fd, 7, os.SEEK_SET)
    buf = bytearray(10)
    (r,) = run(ring, ops.read(fd, buf, None, 500))
    assert r.res == 10 and bytes(buf) == data[500:510]
    assert os.lseek(fd, 0, os.SEEK_CUR) == 7


# -- syncing, allocation, advice, truncation --------------------------------------------------

def test_fsync_and_fdatasync(ring, rw_fd):
    fd, _ = rw_fd
    finish(ring, ring.write(fd, b"x" * 512, None, 0))
    ops_done = run(ring, ops.fsync(fd), ops.fsync(fd, IORING_FSYNC_DATASYNC))
    assert [(o.res, o.cqe_flags) for o in ops_done] == [(0, 0), (0, 0)]
    (bad,) = finish(ring, ring.queue(ops.fsync(fd, 2)))
    with pytest.raises(OSError) as info:
        bad.result
    assert info.value.errno == errno.EINVAL


def test_sync_file_range(ring, rw_fd):
    require_op(Opcode.SYNC_FILE_RANGE)
    fd, _ = rw_fd
    flags = ops.SYNC_FILE_RANGE_WAIT_BEFORE | ops.SYNC_FILE_RANGE_WRITE | ops.SYNC_FILE_RANGE_WAIT_AFTER
    os.pwrite(fd, b"y" * 8192, 0)
    done = run(ring, ops.sync_file_range(fd, 8192, 0, flags), ops.sync_file_range(fd, 0, 4096))
    assert [(o.res, o.cqe_flags) for o in done] == [(0, 0), (0, 0)]
    (bad,) = finish(ring, ring.queue(ops.sync_file_range(fd, 4096, 0, 8)))
    assert bad.res == -errno.EINVAL


def test_fallocate_grows_file_and_keep_size(ring, empty_fd):
    require_op(Opcode.FALLOCATE)
    fd = empty_fd
    (grow,) = run(ring, ops.fallocate(fd, 0, 0, 8192))
    assert (grow.res, grow.cqe_flags) == (0, 0)
    assert os.fstat(fd).st_size == 8192
    (keep,) = run(ring, ops.fallocate(fd, ops.FALLOC_FL_KEEP_SIZE, 8192, 1 << 20))
    st = os.fstat(fd)
    assert keep.res == 0 and st.st_size == 8192
    assert st.st_blocks * 512 >= 8192 + (1 << 20)
    os.pwrite(fd, b"\xff" * 8192, 0)
    (punch,) = run(ring, ops.fallocate(fd, ops.FALLOC_FL_PUNCH_HOLE | ops.FALLOC_FL_KEEP_SIZE, 0, 4096))
    assert punch.res == 0
    assert os.pread(fd, 8192, 0) == bytes(4096) + b"\xff" * 4096
    (bad,) = finish(ring, ring.queue(ops.fallocate(fd, 0x7F0, 0, 4096)))
    assert bad.res == -errno.EOPNOTSUPP


def test_fadvise_and_fadvise64(ring, rw_fd):
    require_op(Opcode.FADVISE)
    fd, _ = rw_fd
    done = run(ring, ops.fadvise(fd, 0, 4096, os.POSIX_FADV_WILLNEED),
               ops.fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL),
               ops.fadvise64(fd, 4096, 1 << 40, os.POSIX_FADV_DONTNEED))
    assert [(o.res, o.cqe_flags) for o in done] == [(0, 0)] * 3
    (bad,) = finish(ring, ring.queue(ops.fadvise(fd, 0, 4096, 99)))
    assert bad.res == -errno.EINVAL
    pr, pw = os.pipe()
    try:
        (pipe_op,) = finish(ring, ring.queue(ops.fadvise(pr, 0, 0, os.POSIX_FADV_NORMAL)))
    finally:
        os.close(pr)
        os.close(pw)
    assert pipe_op.res == -errno.ESPIPE


def test_madvise_on_an_mmap(ring):
    require_op(Opcode.MADVISE)
    m = mmap.mmap(-1, 2 * PAGE, flags=mmap.MAP_PRIVATE)
    try:
        m[:4] = b"abcd"
        m[PAGE:PAGE + 4] = b"efgh"
        op = ring.queue(ops.madvise(m, PAGE, mmap.MADV_DONTNEED))
        with pytest.raises(BufferError):
            m.close()  # pinned while the kernel may use the range
        finish(ring, op)
        assert (op.res, op.cqe_flags) == (0, 0)
        # DONTNEED drops private anonymous pages: they read back as zeros.
        assert m[:4] == bytes(4) and m[PAGE:PAGE + 4] == b"efgh"
        m[:4] = b"abcd"
        done = run(ring, ops.madvise64(m, None, mmap.MADV_DONTNEED), ops.madvise(m, None, mmap.MADV_NORMAL))
        assert [(o.res, o.cqe_flags) for o in done] == [(0, 0), (0, 0)]
        assert m[:4] == bytes(4) and m[PAGE:PAGE + 4] == bytes(4)
        (bad,) = finish(ring, ring.queue(ops.madvise(m, None, 12345)))
        assert bad.res == -errno.EINVAL
        assert not op.pinned and not bad.pinned
    finally:
        m.close()  # the pins are gone once the ops completed


def test_ftruncate(ring, rw_fd, tmp_file, opened):
    require_op(Opcode.FTRUNCATE)
    fd, data = rw_fd
    (shrink,) = run(ring, ops.ftruncate(fd, 100))
    assert (shrink.res, shrink.cqe_flags) == (0, 0)
    assert os.fstat(fd).st_size == 100
    (grow,) = run(ring, ops.ftruncate(fd, 200_000))
    assert grow.res == 0 and os.fstat(fd).st_size == 200_000
    assert os.pread(fd, 200, 0) == data[:100] + bytes(100)
    readonly = opened(tmp_file[0], os.O_RDONLY)
    (bad,) = finish(ring, ring.queue(ops.ftruncate(readonly, 0)))
    assert bad.res == -errno.EINVAL


# -- registered buffers ---------------------------------------------------------------------

def test_read_write_fixed(ring, rw_fd, registered):
    fd, data = rw_fd
    big, small = registered
    window = memoryview(big)[100:300]
    r = ring.read_fixed(fd, window, None, 5000, 0)
    finish(ring, r)
    assert (r.res, r.cqe_flags) == (200, 0)
    assert bytes(big[100:300]) == data[5000:5200]
    small[:6] = b"fixed!"
    w = ring.write_fixed(fd, small, 6, 0, 1)
    finish(ring, w)
    assert w.res == 6 and os.pread(fd, 6, 0) == b"fixed!"
    into = memoryview(big)[PAGE:PAGE + 16]
    (r2, w2) = run(ring, ops.read_fixed(fd, into, None, 64, 0).set(flags=SqeFlags.IO_LINK),
                   ops.write_fixed(fd, into, 8, 32, 0))
    assert (r2.res, w2.res) == (16, 8)
    assert os.pread(fd, 8, 32) == data[64:72]


def test_readv_writev_fixed(ring, rw_fd, registered):
    require_op(Opcode.READV_FIXED, Opcode.WRITEV_FIXED)
    fd, data = rw_fd
    big = memoryview(registered[0])
    (r,) = run(ring, ops.readv_fixed(fd, [big[0:10], big[PAGE:PAGE + 6]], 20, 0, 0))
    assert (r.res, r.cqe_flags) == (16, 0)
    assert bytes(big[0:10]) + bytes(big[PAGE:PAGE + 6]) == data[20:36]
    small = memoryview(registered[1])
    small[:3] = b"ABC"
    small[100:102] = b"DE"
    (w,) = run(ring, ops.writev_fixed(fd, [small[:3], small[100:102]], 0, 0, 1))
    assert w.res == 5 and os.pread(fd, 5, 0) == b"ABCDE"


def test_fixed_buffer_outside_registration_is_efault(ring, rw_fd, registered):
    fd, _ = rw_fd
    stray = bytearray(64)
    a = ring.read_fixed(fd, stray, None, 0, 0)
    b = ring.queue(ops.read_fixed(fd, memoryview(registered[1])[:8], None, 0, 0))  # wrong index
    finish(ring, a, b)
    assert (a.res, b.res) == (-errno.EFAULT, -errno.EFAULT)


# -- errors ------------------------------------------------------------------------------------

def test_errors_surface_as_oserror_subclasses(ring, rw_fd, tmp_path, tmp_file, opened):
    fd, _ = rw_fd
    directory = opened(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    readonly = opened(tmp_file[0], os.O_RDONLY)
    closed = os.open(tmp_file[0], os.O_RDONLY)
    os.close(closed)
    isdir = ring.read(directory, bytearray(8))
    ebadf_fast = ring.write(readonly, b"abc")
    ebadf_helper = ring.queue(ops.read(closed, bytearray(8)))
    einval = ring.queue(ops.sync_file_range(fd, 0, 0, 0xFF))
    finish(ring, isdir, ebadf_fast, ebadf_helper, einval)
    with pytest.raises(IsADirectoryError):
        isdir.result
    for op, err in ((ebadf_fast, errno.EBADF), (ebadf_helper, errno.EBADF), (einval, errno.EINVAL)):
        exc = op.exception()
        assert type(exc) is OSError and exc.errno == err
        with pytest.raises(OSError) as info:
            op.result
        assert info.value.errno == err


def _assert_nothing_queued(ring):
    assert ring.sq_ready() == 0 and ring.in_flight == 0 and not ring.ops_in_flight()


def test_read_into_read_only_buffer_raises_before_queueing(ring, rw_fd):
    fd, _ = rw_fd
    for attempt in (lambda: ring.read(fd, b"immutable"),
                    lambda: ring.read_fixed(fd, b"immutable", None, 0, 0),
                    lambda: ring.queue(ops.read(fd, b"immutable")),
                    lambda: ring.readv(fd, [bytearray(4), b"immutable"]),
                    lambda: ring.read(fd, memoryview(bytearray(8)).toreadonly()),
                    lambda: ring.read(fd, "text")):
        with pytest.raises(TypeError):
            attempt()
        _assert_nothing_queued(ring)


def test_nbytes_beyond_buffer_raises_before_queueing(ring, rw_fd):
    fd, _ = rw_fd
    for attempt in (lambda: ring.read(fd, bytearray(4), 5, 0),
                    lambda: ring.write(fd, b"1234", 5, 0),
                    lambda: ring.queue(ops.read(fd, bytearray(4), 5)),
                    lambda: ring.write_fixed(fd, b"1234", 5, 0, 0),
                    lambda: ops.write(fd, b"1234", -2)):
        with pytest.raises(ValueError):
            attempt()
        _assert_nothing_queued(ring)


class _Buf(bytearray):
    """A bytearray that can be weakly referenced."""


@pytest.mark.parametrize("path", ["fast", "helper"])
def test_buffer_only_referenced_by_the_op_stays_alive(ring, path):
    pr, pw = os.pipe()
    try:
        buf = _Buf(5)
        alive = weakref.ref(buf)
        op = ring.read(pr, buf) if path == "fast" else ring.queue(ops.read(pr, buf))
        del buf
        ring.submit()
        gc.collect()
        assert alive() is not None and op.pinned and not op.done
        os.write(pw, b"hello")
        finish(ring, op)
        assert (op.res, op.cqe_flags) == (5, 0)
        if path == "fast":
            assert op.buffer is alive() and bytes(alive()) == b"hello"
        else:
            gc.collect()
            assert alive() is None  # the helper's pins go with the final CQE
        assert not op.pinned
    finally:
        os.close(pr)
        os.close(pw)
