"""Registered resources against the running kernel: fixed files and buffers, tags,
eventfd, personalities, restrictions, io-wq tuning, ring fds, clock, NAPI, clone."""

from __future__ import annotations

import array
import errno
import os
import time

import pytest

import uring
from uring import Ring, RingClosed, Sqe, UnsupportedFeature, ops
from uring._uapi import (
    IORING_FILE_INDEX_ALLOC,
    IORING_REGISTER_DST_REPLACE,
    IORING_REGISTER_FILES_SKIP,
    Opcode,
    RegisterOp,
    RestrictionOp,
    SetupFlags,
    SqeFlags,
)
from uring.register import register_op_supported
from tests.conftest import require_op

EBADF, EFAULT, EINVAL, EACCES, ENFILE = errno.EBADF, errno.EFAULT, errno.EINVAL, errno.EACCES, errno.ENFILE


@pytest.fixture
def data_fd(tmp_file):
    """An O_RDONLY fd on the 64 KiB test file, closed at teardown; returns (fd, data)."""
    path, data = tmp_file
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    yield fd, data
    os.close(fd)


def fixed_read(ring: Ring, slot: int, nbytes: int, off: int = 0) -> tuple[int, bytes]:
    """READ through fixed-file slot `slot`; returns (res, bytes read)."""
    buf = bytearray(nbytes)
    op = ring.queue(ops.read(slot, buf, nbytes, off).set(flags=SqeFlags.FIXED_FILE))
    ring.submit_and_wait(1)
    assert op.done
    return op.res, bytes(buf[:max(op.res, 0)])


def collect_foreign(ring: Ring) -> list:
    """Route CQEs that belong to no op (resource tags) into a list."""
    seen: list = []
    ring.foreign_cqe_handler = lambda user_data, res, flags: seen.append((user_data, res, flags))
    return seen


# -- fixed files -------------------------------------------------------------------------

def test_files_read_through_fixed_slot(ring, data_fd):
    fd, data = data_fd
    dup = os.dup(fd)
    ring.register_files([-1, dup])
    os.close(dup)  # the table holds its own reference
    assert ring.registered_file_slots == 2
    assert fixed_read(ring, 1, 4096, 100) == (4096, data[100:4196])
    assert fixed_read(ring, 0, 16) == (-EBADF, b"")
    ring.unregister_files()
    assert ring.registered_file_slots == 0


def test_files_accept_fileno_objects(ring, tmp_file):
    path, data = tmp_file
    with open(path, "rb") as f:
        ring.register_files([f])
    assert fixed_read(ring, 0, 10) == (10, data[:10])


def test_files_sparse_update_clear(ring, data_fd):
    fd, data = data_fd
    ring.register_files_sparse(4)
    assert fixed_read(ring, 2, 8) == (-EBADF, b"")
    assert ring.register_files_update(2, [fd]) == 1
    assert fixed_read(ring, 2, 8, 8) == (8, data[8:16])
    assert ring.register_files_update(2, [-1]) == 1
    assert fixed_read(ring, 2, 8) == (-EBADF, b"")


def test_files_update_skip_keeps_slot(ring, data_fd, tmp_path):
    fd, data = data_fd
    other = tmp_path / "other"
    other.write_bytes(b"other file")
    ofd = os.open(other, os.O_RDONLY | os.O_CLOEXEC)
    try:
        ring.register_files([fd, ofd])
        assert ring.register_files_update(0, [IORING_REGISTER_FILES_SKIP, -1]) == 2
        assert fixed_read(ring, 0, 4) == (4, data[:4])
        assert fixed_read(ring, 1, 4) == (-EBADF, b"")
        assert ring.register_files_update(1, [ofd]) == 1
        assert fixed_read(ring, 1, 64) == (10, b"other file")
    finally:
        os.close(ofd)


def test_files_update_bounds_and_missing_table(ring, data_fd):
    fd, _ = data_fd
    with pytest.raises(OSError) as exc:
        ring.register_files_update(0, [fd])
    assert exc.value.errno == errno.ENXIO
    ring.register_files_sparse(2)
    with pytest.raises(ValueError, match="outside the registered table of 2"):
        ring.register_files_update(1, [fd, fd])
    with pytest.raises(OSError) as exc:
        ring.register_files_sparse(2)
    assert exc.value.errno == errno.EBUSY


def test_files_tags_posted_when_released(ring, data_fd):
    fd, _ = data_fd
    seen = collect_foreign(ring)
    ring.register_files_tags([fd, -1], [7, 0])
    assert ring.register_files_update(0, [-1]) == 1
    ring.peek()
    assert seen == [(7, 0, 0)]
    assert ring.register_files_update_tag(1, [fd], [9]) == 1
    ring.peek()
    assert seen == [(7, 0, 0)]
    ring.unregister_files()
    ring.peek()
    assert seen == [(7, 0, 0), (9, 0, 0)]
    assert ring.stale_cqes == 0


def _alloc_slots_sqe(fds: list) -> tuple[Sqe, array.array]:
    """IORING_OP_FILES_UPDATE with IORING_FILE_INDEX_ALLOC, built by hand: the kernel picks
    slots inside the allocation range and writes them over the fds."""
    arr = array.array("i", fds)
    s = Sqe()
    s.opcode = Opcode.FILES_UPDATE
    s.fd = -1
    s.off = IORING_FILE_INDEX_ALLOC
    s.addr = s.pin(arr, True).addr
    s.len = len(arr)
    return s, arr


def test_file_alloc_range_files_update_op(ring, data_fd):
    require_op(Opcode.FILES_UPDATE)
    fd, data = data_fd
    ring.register_files_sparse(8)
    ring.register_file_alloc_range(2, 3)
    sqe, slots = _alloc_slots_sqe([fd, fd])
    assert ring.run(sqe) == 2
    assert list(slots) == [2, 3]
    sqe, slots = _alloc_slots_sqe([fd, fd])
    assert ring.run(sqe) == 1  # only slot 4 was left in the range
    assert list(slots) == [4, fd]
    sqe, slots = _alloc_slots_sqe([fd])
    op = ring.queue(sqe)
    ring.submit_and_wait(1)
    assert op.res == -ENFILE
    assert fixed_read(ring, 3, 5) == (5, data[:5])
    assert fixed_read(ring, 1, 5) == (-EBADF, b"")


@pytest.mark.skipif(not hasattr(uring.ops, "openat_direct"), reason="ops.openat_direct not available")
def test_file_alloc_range_openat_direct(ring, tmp_file):
    require_op(Opcode.OPENAT)
    path, data = tmp_file
    ring.register_files_sparse(4)
    ring.register_file_alloc_range(1, 2)
    results = []
    for _ in range(3):
        op = ring.queue(ops.openat_direct(ops.AT_FDCWD, path, os.O_RDONLY, 0, IORING_FILE_INDEX_ALLOC))
        ring.submit_and_wait(1)
        results.append(op.res)
    assert results == [1, 2, -ENFILE]
    assert fixed_read(ring, 2, 3) == (3, data[:3])


def test_file_alloc_range_outside_table(ring):
    ring.register_files_sparse(4)
    with pytest.raises(ValueError, match="outside"):
        ring.register_file_alloc_range(3, 2)


# -- fixed buffers -----------------------------------------------------------------------

def test_buffers_read_write_fixed(ring, data_fd, tmp_path):
    fd, data = data_fd
    small, big = bytearray(4096), bytearray(8192)
    ring.register_buffers([small, big])
    op = ring.read_fixed(fd, big, None, 0, 1)
    ring.submit_and_wait(1)
    assert (op.res, bytes(big)) == (8192, data[:8192])
    # Part of a registered buffer: the address only has to lie inside it.
    op = ring.read_fixed(fd, memoryview(small)[1000:1100], None, 500, 0)
    ring.submit_and_wait(1)
    assert (op.res, bytes(small[1000:1100])) == (100, data[500:600])

    out = os.open(tmp_path / "out", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        op = ring.write_fixed(out, memoryview(big)[4096:], None, 10, 1)
        ring.submit_and_wait(1)
        assert op.res == 4096
        assert os.pread(out, 5000, 0) == bytes(10) + data[4096:8192]
    finally:
        os.close(out)

    # Memory outside the registered buffer: refused at queue time, not a bare EFAULT.
    outside = bytearray(64)
    with pytest.raises(ValueError, match="outside registered buffer 0"):
        ring.read_fixed(fd, outside, None, 0, 0)
    assert ring.in_flight == 0


def test_registered_buffers_stay_pinned(ring):
    buf = bytearray(4096)
    ring.register_buffers([buf])
    assert ring.registered_buffers == (buf,)
    assert ring.registered_buffers[0] is buf
    with pytest.raises(BufferError):
        buf.extend(b"x")
    ring.unregister_buffers()
    assert ring.registered_buffers == ()
    buf.extend(b"x")


def test_registered_buffers_released_by_close(make_ring):
    r = make_ring(8)
    buf = bytearray(4096)
    r.register_buffers([buf])
    with pytest.raises(BufferError):
        buf.append(0)
    r.close()
    assert r.registered_buffers == ()
    buf.append(0)


def test_buffers_sparse_update(ring, data_fd):
    fd, data = data_fd
    ring.register_buffers_sparse(2)
    assert ring.registered_buffers == (None, None)
    buf = bytearray(1024)
    with pytest.raises(ValueError, match="registered buffer slot 1 is empty"):
        ring.read_fixed(fd, buf, None, 0, 1)
    assert ring.register_buffers_update_tag(1, [buf]) == 1
    assert ring.registered_buffers == (None, buf)
    op = ring.read_fixed(fd, buf, None, 1024, 1)
    ring.submit_and_wait(1)
    assert (op.res, bytes(buf)) == (1024, data[1024:2048])
    assert ring.register_buffers_update_tag(1, [None]) == 1
    assert ring.registered_buffers == (None, None)
    buf.append(0)  # unpinned by the update


def test_buffers_tags_posted_when_released(ring):
    seen = collect_foreign(ring)
    a, b = bytearray(4096), bytearray(4096)
    ring.register_buffers_tags([a, b], [0, 11])
    assert ring.register_buffers_update_tag(0, [bytearray(512)], [12]) == 1
    ring.peek()
    assert seen == []  # slot 0 was untagged
    ring.unregister_buffers()
    ring.peek()
    assert sorted(seen) == [(11, 0, 0), (12, 0, 0)]


def test_clone_buffers(make_ring, data_fd):
    fd, data = data_fd
    src, dst = make_ring(8), make_ring(8)
    buf = bytearray(4096)
    src.register_buffers([buf])
    try:
        dst.clone_buffers(src)
    except UnsupportedFeature:
        pytest.skip("IORING_REGISTER_CLONE_BUFFERS unsupported")
    assert dst.registered_buffers == (buf,)
    src.unregister_buffers()
    src.close()
    with pytest.raises(BufferError):
        buf.append(0)  # dst still holds it
    op = dst.read_fixed(fd, buf, None, 4096, 0)
    dst.submit_and_wait(1)
    assert (op.res, bytes(buf)) == (4096, data[4096:8192])
    with pytest.raises(OSError) as exc:
        dst.clone_buffers(dst)
    assert exc.value.errno == errno.EBUSY
    dst.unregister_buffers()
    buf.append(0)


def test_clone_buffers_offset_replace(make_ring):
    src, dst = make_ring(8), make_ring(8)
    a, b, c = bytearray(512), bytearray(512), bytearray(512)
    src.register_buffers([a, b])
    dst.register_buffers([c])
    try:
        dst.clone_buffers_offset(src, 1, 1, 1, IORING_REGISTER_DST_REPLACE)
    except UnsupportedFeature:
        pytest.skip("IORING_REGISTER_CLONE_BUFFERS unsupported")
    assert dst.registered_buffers == (c, b)


# -- eventfd -----------------------------------------------------------------------------

def _eventfd_count(efd: int) -> int:
    try:
        return os.eventfd_read(efd)
    except BlockingIOError:
        return 0


@pytest.fixture
def efd():
    fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
    yield fd
    os.close(fd)


def test_eventfd_signalled_on_completion(ring, efd):
    ring.register_eventfd(efd)
    op = ring.nop()
    ring.submit_and_wait(1)
    assert op.res == 0
    assert _eventfd_count(efd) == 1
    with pytest.raises(OSError) as exc:
        ring.register_eventfd(efd)
    assert exc.value.errno == errno.EBUSY
    ring.unregister_eventfd()
    ring.nop()
    ring.submit_and_wait(1)
    assert _eventfd_count(efd) == 0


def test_eventfd_async_only_for_async_completions(ring, efd):
    ring.register_eventfd_async(efd)
    ring.nop()
    ring.submit_and_wait(1)
    assert _eventfd_count(efd) == 0
    op = ring.nop(SqeFlags.ASYNC)
    ring.submit_and_wait(1)
    assert op.res == 0
    assert _eventfd_count(efd) == 1


@pytest.mark.parametrize("register, unregister", [
    (lambda r, fd, efd: r.register_files([fd]), "unregister_files"),
    (lambda r, fd, efd: r.register_buffers([bytearray(64)]), "unregister_buffers"),
    (lambda r, fd, efd: r.register_eventfd(efd), "unregister_eventfd"),
], ids=["files", "buffers", "eventfd"])
def test_unregister_twice_enxio(ring, data_fd, efd, register, unregister):
    register(ring, data_fd[0], efd)
    getattr(ring, unregister)()
    with pytest.raises(OSError) as exc:
        getattr(ring, unregister)()
    assert exc.value.errno == errno.ENXIO
    assert "IORING_UNREGISTER_" in str(exc.value)


# -- personalities -----------------------------------------------------------------------

def test_personality_id_in_sqe(ring, data_fd):
    fd, data = data_fd
    pid = ring.register_personality()
    assert 0 <= pid <= 0xFFFF
    buf = bytearray(16)
    op = ring.queue(ops.read(fd, buf, 16, 0).set(personality=pid))
    ring.submit_and_wait(1)
    assert (op.res, bytes(buf)) == (16, data[:16])
    ring.unregister_personality(pid)
    op = ring.queue(ops.read(fd, buf, 16, 0).set(personality=pid))
    ring.submit_and_wait(1)
    assert op.res == -EINVAL  # no such personality any more
    with pytest.raises(OSError) as exc:
        ring.unregister_personality(pid)
    assert exc.value.errno == EINVAL


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch the effective uid")
@pytest.mark.skipif(not hasattr(uring.ops, "openat"), reason="ops.openat not available")
def test_personality_carries_credentials(ring, tmp_path):
    require_op(Opcode.OPENAT)
    secret = tmp_path / "secret"
    secret.write_bytes(b"root only")
    os.chmod(secret, 0o600)
    pid = ring.register_personality()  # root's credentials
    os.seteuid(65534)
    try:
        plain = ring.queue(ops.openat(ops.AT_FDCWD, secret, os.O_RDONLY | os.O_CLOEXEC, 0))
        ring.submit_and_wait(1)
        as_root = ring.queue(ops.openat(ops.AT_FDCWD, secret, os.O_RDONLY | os.O_CLOEXEC, 0)
                             .set(personality=pid))
        ring.submit_and_wait(1)
    finally:
        os.seteuid(0)
    assert plain.res == -EACCES
    assert as_root.res >= 0
    os.close(as_root.res)


# -- restrictions ------------------------------------------------------------------------

def test_restrictions_only_nop(make_ring, data_fd):
    fd, _ = data_fd
    r = make_ring(8, flags=SetupFlags.R_DISABLED)
    r.register_restrictions([(RestrictionOp.SQE_OP, Opcode.NOP),
                             (RestrictionOp.REGISTER_OP, RegisterOp.PERSONALITY)])
    r.enable_rings()
    nop = r.nop()
    r.submit_and_wait(1)
    assert nop.res == 0
    read = r.read(fd, bytearray(8))
    r.submit_and_wait(1)
    assert read.res == -EACCES
    pid = r.register_personality()
    assert pid >= 0
    with pytest.raises(PermissionError):
        r.register_files([fd])
    with pytest.raises(OSError) as exc:
        r.enable_rings()
    assert exc.value.errno == errno.EACCES  # ENABLE_RINGS itself is not allowed


def test_restrictions_need_disabled_ring(ring):
    with pytest.raises(OSError) as exc:
        ring.register_restrictions([(RestrictionOp.SQE_OP, Opcode.NOP)])
    assert exc.value.errno == errno.EBADFD
    assert "R_DISABLED" in str(exc.value)


def test_restrictions_flags(make_ring):
    r = make_ring(8, flags=SetupFlags.R_DISABLED)
    r.register_restrictions([(RestrictionOp.SQE_OP, Opcode.NOP),
                             (RestrictionOp.SQE_FLAGS_ALLOWED, SqeFlags.IO_LINK)])
    r.enable_rings()
    linked, last = r.nop(SqeFlags.IO_LINK), r.nop()
    drained = r.nop(SqeFlags.IO_DRAIN)
    r.submit_and_wait(3)
    assert (linked.res, last.res, drained.res) == (0, 0, -EACCES)


# -- io-wq -------------------------------------------------------------------------------

def test_iowq_max_workers_roundtrip(ring):
    ring.nop()
    ring.submit_and_wait(1)  # this thread gets its io-wq
    original = ring.register_iowq_max_workers(0, 0)
    assert original[0] > 0 and original[1] > 0
    try:
        assert ring.register_iowq_max_workers(2, 3) == original
        assert ring.register_iowq_max_workers(0, 0) == (2, 3)
        assert ring.register_iowq_max_workers(5, 0) == (2, 3)
        assert ring.register_iowq_max_workers(0, 0) == (5, 3)
    finally:
        ring.register_iowq_max_workers(*original)


def test_iowq_aff(ring):
    ring.nop()
    ring.submit_and_wait(1)
    assert ring.register_iowq_aff([0]) is None
    op = ring.nop(SqeFlags.ASYNC)
    ring.submit_and_wait(1)
    assert op.res == 0
    ring.unregister_iowq_aff()


# -- ring fd, clock, NAPI ----------------------------------------------------------------

def test_register_ring_fd(ring):
    index = ring.register_ring_fd()
    assert 0 <= index < 16
    assert ring.ring_fd_index == index
    with pytest.raises(FileExistsError):
        ring.register_ring_fd()
    ring.unregister_ring_fd()
    assert ring.ring_fd_index is None
    with pytest.raises(OSError) as exc:
        ring.unregister_ring_fd()
    assert exc.value.errno == EINVAL


def test_ring_fd_released_by_close(make_ring):
    # Every slot taken then given back by close(): the table has 16 entries, so a leak
    # would show up as EBUSY before the loop ends.
    for _ in range(20):
        r = make_ring(2)
        r.register_ring_fd()
        r.close()
        assert r.ring_fd_index is None


def test_register_clock(ring):
    try:
        ring.register_clock(time.CLOCK_BOOTTIME)
    except UnsupportedFeature:
        pytest.skip("IORING_REGISTER_CLOCK unsupported")
    ring.register_clock(time.CLOCK_MONOTONIC)
    op = ring.nop()
    assert ring.submit_and_wait(1, timeout=1.0) == 1
    assert op.res == 0


def test_napi_returns_or_raises_cleanly(ring):
    try:
        previous = ring.register_napi(100, True)
    except UnsupportedFeature:
        pytest.skip("IORING_REGISTER_NAPI unsupported")
    except OSError as exc:  # e.g. a kernel without CONFIG_NET_RX_BUSY_POLL
        assert exc.errno in (errno.EOPNOTSUPP, errno.EINVAL)
        return
    assert isinstance(previous[0], int) and previous[1] is False
    assert ring.unregister_napi() == (100, True)


# -- errors ------------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda r: r.register_files([0]),
    lambda r: r.register_buffers([bytearray(8)]),
    lambda r: r.register_personality(),
    lambda r: r.unregister_files(),
    lambda r: r.register_eventfd(0),
    lambda r: r.register_iowq_max_workers(0, 0),
], ids=["files", "buffers", "personality", "unregister_files", "eventfd", "max_workers"])
def test_closed_ring_raises(make_ring, call):
    r = make_ring(2)
    r.close()
    with pytest.raises(RingClosed):
        call(r)


def test_unknown_register_opcode_is_unsupported_feature(ring):
    from uring.register import _call
    assert register_op_supported(ring, RegisterOp.FILES)
    assert not register_op_supported(ring, 200)
    with pytest.raises(UnsupportedFeature, match="register opcode 200 unsupported on Linux"):
        _call(ring, 200)
    for op in RegisterOp:
        if not register_op_supported(ring, op):
            with pytest.raises(UnsupportedFeature, match=f"IORING_REGISTER_{op.name} unsupported"):
                _call(ring, op)
            break


def test_bad_arguments_queue_nothing(ring):
    with pytest.raises(TypeError):
        ring.register_files("0")
    with pytest.raises(TypeError):
        ring.register_buffers([b"read-only"])
    with pytest.raises(ValueError):
        ring.register_buffers([bytearray(0)])
    with pytest.raises(ValueError):
        ring.register_files([])
    assert ring.registered_file_slots == 0
    assert ring.registered_buffers == ()
