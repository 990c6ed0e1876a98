"""Extended attributes through the ring: fsetxattr/setxattr and fgetxattr/getxattr on a file
in tmp_path, checked against os.getxattr/os.setxattr, and their errors (ERANGE, ENODATA,
EEXIST, ENOENT, EBADF). Skipped where tmp_path's filesystem has no user xattrs."""

from __future__ import annotations

import errno
import os

import pytest

from uring import ops
from uring._uapi import Opcode
from uring.ops import fs
from tests.conftest import require_op
from tests.support import failed, run_one as run

VALUE = b"\x00binary\xffvalue\x00"






@pytest.fixture
def xfile(ring, tmp_path):
    """(path, open fd) of a file whose filesystem takes user.* attributes, else skip."""
    require_op(Opcode.FSETXATTR, Opcode.SETXATTR, Opcode.FGETXATTR, Opcode.GETXATTR)
    path = tmp_path / "attrs"
    path.write_bytes(b"content")
    fd = os.open(path, os.O_RDWR)
    try:
        probe = run(ring, ops.fsetxattr(fd, "user.probe", b"1"))
        if probe.res == -errno.EOPNOTSUPP:
            pytest.skip(f"the filesystem of {tmp_path} does not support user xattrs (EOPNOTSUPP)")
        assert probe.res == 0
        os.removexattr(path, "user.probe")
        yield path, fd
    finally:
        os.close(fd)


def test_fsetxattr_then_fgetxattr(ring, xfile):
    path, fd = xfile
    assert run(ring, ops.fsetxattr(fd, "user.k", VALUE)).res == 0
    assert os.getxattr(path, "user.k") == VALUE
    op = run(ring, ops.fgetxattr(fd, "user.k", 64))
    assert op.res == len(VALUE)
    assert op.out.value == op.out.decode(op) == op.out.decode(op.res) == VALUE


def test_setxattr_then_getxattr_by_path(ring, xfile):
    path, _ = xfile
    assert run(ring, ops.setxattr(b"user.path", bytearray(b"by path"), path)).res == 0
    assert os.getxattr(path, "user.path") == b"by path"
    op = run(ring, ops.getxattr("user.path", str(path), len(b"by path")))
    assert op.res == 7 and op.out.decode(op) == b"by path"


def test_getxattr_follows_symlinks(ring, xfile):
    path, _ = xfile
    os.setxattr(path, "user.target", b"t")
    link = path.parent / "link"
    os.symlink(path.name, link)
    op = run(ring, ops.getxattr("user.target", link, 8))
    assert op.out.decode(op) == b"t"


def test_size_zero_asks_for_the_length(ring, xfile):
    path, fd = xfile
    os.setxattr(path, "user.len", b"x" * 300)
    assert run(ring, ops.fgetxattr(fd, "user.len", 0)).res == 300
    op = run(ring, ops.getxattr("user.len", path, 0))
    assert op.res == 300 and op.out.decode(op) == b""


def test_empty_value(ring, xfile):
    path, fd = xfile
    assert run(ring, ops.fsetxattr(fd, "user.empty", b"")).res == 0
    op = run(ring, ops.fgetxattr(fd, "user.empty", 16))
    assert op.res == 0 and op.out.decode(op) == b""
    assert os.getxattr(path, "user.empty") == b""


def test_value_too_big_for_the_buffer_is_erange(ring, xfile):
    path, fd = xfile
    os.setxattr(path, "user.big", b"0123456789")
    op = run(ring, ops.fgetxattr(fd, "user.big", 9))
    failed(op, errno.ERANGE)
    with pytest.raises(OSError) as info:
        op.out.decode(op)
    assert info.value.errno == errno.ERANGE
    failed(run(ring, ops.getxattr("user.big", path, 4)), errno.ERANGE)


def test_missing_attribute_is_enodata(ring, xfile):
    path, fd = xfile
    failed(run(ring, ops.fgetxattr(fd, "user.absent", 16)), errno.ENODATA)
    failed(run(ring, ops.getxattr("user.absent", path, 16)), errno.ENODATA)


def test_create_and_replace_flags(ring, xfile):
    path, fd = xfile
    assert run(ring, ops.fsetxattr(fd, "user.f", b"one", fs.XATTR_CREATE)).res == 0
    failed(run(ring, ops.fsetxattr(fd, "user.f", b"two", fs.XATTR_CREATE)), errno.EEXIST)
    assert run(ring, ops.setxattr("user.f", b"three", path, fs.XATTR_REPLACE)).res == 0
    failed(run(ring, ops.setxattr("user.new", b"x", path, fs.XATTR_REPLACE)), errno.ENODATA)
    assert os.getxattr(path, "user.f") == b"three"
    assert "user.new" not in os.listxattr(path)


def test_bad_targets(ring, xfile):
    path, fd = xfile
    failed(run(ring, ops.getxattr("user.k", path.parent / "missing", 8)), errno.ENOENT)
    failed(run(ring, ops.setxattr("user.k", b"v", path.parent / "missing")), errno.ENOENT)
    closed = os.dup(fd)
    os.close(closed)
    failed(run(ring, ops.fgetxattr(closed, "user.k", 8)), errno.EBADF)
    failed(run(ring, ops.fsetxattr(closed, "user.k", b"v")), errno.EBADF)
    # A namespace the kernel does not know.
    failed(run(ring, ops.fsetxattr(fd, "nonamespace", b"v")), errno.EOPNOTSUPP)
