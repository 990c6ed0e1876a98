"""Errors that help: path ops' OSErrors carry filename/filename2 as os.open/os.rename do (sync
API, wait_for, chains, error_for); fixed-buffer ops name the index and the registered table;
ring sizes beyond the kernel's limits are refused before io_uring_setup, naming the limit."""

from __future__ import annotations

import errno
import os
import struct

import pytest

from uring import InvalidSetup, Pin, Ring, ops
from uring._uapi import RegisterOp
from uring.errors import error_for
from uring.ops import AT_FDCWD
from uring.ring import MAX_CQ_ENTRIES, MAX_SQ_ENTRIES


def _fails(ring, op):
    ring.submit_and_wait(1)
    with pytest.raises(OSError) as info:
        op.result
    return info.value


def test_open_error_carries_the_filename_like_os_open(ring, tmp_path):
    missing = tmp_path / "missing"
    exc = _fails(ring, ring.openat(AT_FDCWD, missing, os.O_RDONLY))
    with pytest.raises(FileNotFoundError) as expected:
        os.open(missing, os.O_RDONLY)
    assert type(exc) is FileNotFoundError
    assert (exc.errno, exc.filename, exc.filename2) == (errno.ENOENT, str(missing), None)
    assert str(exc) == str(expected.value)  # the same "[Errno 2] ...: '/tmp/.../missing'"


@pytest.mark.parametrize("make", [
    lambda p: ops.openat2(AT_FDCWD, p, {"flags": os.O_RDONLY}),
    lambda p: ops.statx(AT_FDCWD, p, 0, 0x7FF),
    lambda p: ops.unlinkat(AT_FDCWD, p),
    lambda p: ops.unlink(p),
    lambda p: ops.mkdirat(AT_FDCWD, p / "sub"),
    lambda p: ops.getxattr("user.x", p, 16),
    lambda p: ops.setxattr("user.x", b"v", p),
], ids=["openat2", "statx", "unlinkat", "unlink", "mkdirat", "getxattr", "setxattr"])
def test_single_path_ops_name_their_path(ring, tmp_path, make):
    missing = tmp_path / "nope"
    expected = str(missing / "sub") if "sub" in repr(make(missing).filenames) else str(missing)
    op = ring.queue(make(missing))
    exc = _fails(ring, op)
    assert isinstance(exc, FileNotFoundError)
    assert exc.filename == expected and exc.filename2 is None


def test_two_path_ops_name_both_like_os_rename(ring, tmp_path):
    src, dst = tmp_path / "absent", tmp_path / "there"
    exc = _fails(ring, ring.renameat(AT_FDCWD, src, AT_FDCWD, dst))
    with pytest.raises(FileNotFoundError) as expected:
        os.rename(src, dst)
    assert (exc.filename, exc.filename2) == (str(src), str(dst))
    assert str(exc) == str(expected.value)
    exc = _fails(ring, ring.linkat(AT_FDCWD, str(src), AT_FDCWD, str(dst)))
    assert (exc.filename, exc.filename2) == (str(src), str(dst))
    exc = _fails(ring, ring.queue(ops.link(src, dst)))
    assert (exc.filename, exc.filename2) == (str(src), str(dst))


def test_symlink_names_target_then_link(ring, tmp_path):
    (tmp_path / "exists").touch()
    exc = _fails(ring, ring.symlinkat("anything", AT_FDCWD, tmp_path / "exists"))
    assert isinstance(exc, FileExistsError)
    assert (exc.filename, exc.filename2) == ("anything", str(tmp_path / "exists"))


def test_bytes_paths_stay_bytes(ring, tmp_path):
    missing = os.fsencode(tmp_path / "b")
    exc = _fails(ring, ring.open(missing, os.O_RDONLY))
    assert exc.filename == missing


def test_wait_for_run_and_chains_raise_with_the_filename(ring, tmp_path):
    missing = tmp_path / "gone"
    with pytest.raises(FileNotFoundError) as info:
        ring.wait_for(ring.unlink(missing), timeout=5)
    assert info.value.filename == str(missing)
    with pytest.raises(FileNotFoundError) as info:
        ring.run(ops.statx(AT_FDCWD, missing, 0, 0x7FF), timeout=5)
    assert info.value.filename == str(missing)
    with ring.chain() as ch:
        ch.nop()
        ch.openat(AT_FDCWD, missing, os.O_RDONLY)
    with pytest.raises(FileNotFoundError) as info:
        ch.results(timeout=5)
    assert info.value.filename == str(missing)
    # A chain member cancelled because of it is not the path's error.
    assert ch.members[1].exception().filename == str(missing)


def test_error_for_without_paths_is_plain(ring):
    exc = error_for(errno.EBADF, ring.nop())
    ring.submit_and_wait(1)
    assert (type(exc), exc.filename) == (OSError, None)
    assert error_for(errno.ENOENT).filename is None


def test_a_good_path_op_keeps_no_error(ring, tmp_path):
    target = tmp_path / "made"
    op = ring.mkdirat(AT_FDCWD, target)
    assert op.filenames == (str(target),)
    ring.submit_and_wait(1)
    assert op.result == 0 and target.is_dir()
    assert ring.nop().filenames is None
    ring.submit_and_wait(1)


def test_unregistered_buffer_index_is_refused_at_queue(ring, tmp_file):
    buf = bytearray(4096)
    fd = os.open(tmp_file[0], os.O_RDONLY)
    try:
        with pytest.raises(ValueError, match=r"buf_index 0 is not a registered buffer: this ring has 0"):
            ring.read_fixed(fd, buf, None, 0, 0)
        with pytest.raises(ValueError, match=r"buf_index 3 is not a registered buffer: this ring has 0"):
            ring.queue(ops.read_fixed(fd, buf, None, 0, 3))
        ring.register_buffers([buf])
        with pytest.raises(ValueError, match=r"buf_index 1 is not a registered buffer: this ring has 1 "):
            ring.write_fixed(fd, buf, None, 0, 1)
        with pytest.raises(ValueError, match=r"outside registered buffer 0"):
            ring.queue(ops.read_fixed(fd, bytearray(16), None, 0, 0))
        op = ring.read_fixed(fd, memoryview(buf)[:100], None, 0, 0)
        assert (op.buf_index, op.buf_table_size) == (0, 1)
        ring.submit_and_wait(1)
        assert op.result == 100
        ring.unregister_buffers()
        with pytest.raises(ValueError, match="this ring has 0"):
            ring.read_fixed(fd, buf, None, 0, 0)
        assert ring.in_flight == 0
    finally:
        os.close(fd)


def test_efault_at_completion_names_the_index(ring, tmp_file):
    """A table registered behind register.py's back is unknown: the kernel's EFAULT then
    arrives with a message naming the index and saying the table was not known."""
    fd = os.open(tmp_file[0], os.O_RDONLY)
    buf = bytearray(4096)
    pin = Pin(buf, True)
    try:
        ring._register(RegisterOp.BUFFERS, bytearray(struct.pack("=QQ", pin.addr, 4096)), 1)
        try:
            op = ring.read_fixed(fd, bytearray(64), None, 0, 5)  # not checked: table unknown
            assert op.buf_table_size == -1
            ring.submit_and_wait(1)
            exc = op.exception()
            assert exc.errno == errno.EFAULT
            assert "registered buffer 5 (the registered table was not known" in str(exc)
        finally:
            ring._register(RegisterOp.UNREGISTER_BUFFERS)
    finally:
        os.close(fd)


def test_efault_message_when_the_table_shrank_after_queueing(ring, tmp_file):
    fd = os.open(tmp_file[0], os.O_RDONLY)
    buf = bytearray(4096)
    try:
        ring.register_buffers([buf])
        op = ring.read_fixed(fd, buf, None, 0, 0)
        ring.unregister_buffers()  # before submission: the kernel finds no buffer 0
        ring.submit_and_wait(1)
        exc = op.exception()
        assert exc is not None and exc.errno == errno.EFAULT
        assert "registered buffer 0 (1 buffer(s) were registered when the op was queued" in str(exc)
    finally:
        os.close(fd)


@pytest.mark.parametrize("kwargs, match", [
    ({"entries": 8, "cq_entries": 1 << 20}, rf"cq_entries must be <= {MAX_CQ_ENTRIES} \(IORING_MAX_CQ_ENTRIES"),
    ({"entries": 8, "cq_entries": 0}, r"cq_entries must be >= 1"),
    ({"entries": 64, "cq_entries": 32}, r"cq_entries \(32\) must be >= entries \(64\)"),
    ({"entries": MAX_SQ_ENTRIES + 1}, rf"entries must be in 1..{MAX_SQ_ENTRIES} \(IORING_MAX_ENTRIES\)"),
    ({"entries": 0}, r"entries must be in 1..32768"),
])
def test_setup_sizes_beyond_the_limits_name_them(fd_guard, kwargs, match):
    entries = kwargs.pop("entries")
    with pytest.raises(InvalidSetup, match=match) as info:
        Ring(entries, **kwargs)
    assert isinstance(info.value, ValueError)
    assert MAX_CQ_ENTRIES == 2 * MAX_SQ_ENTRIES == 65536


def test_clamp_lets_the_kernel_clamp_the_cq(make_ring):
    from uring import SetupFlags
    ring = make_ring(8, cq_entries=1 << 20, flags=SetupFlags.CLAMP)
    assert ring.cq_entries == MAX_CQ_ENTRIES
    ring = make_ring(8, cq_entries=MAX_CQ_ENTRIES)
    assert ring.cq_entries == MAX_CQ_ENTRIES
