"""Golden SQEs of the file/directory prep helpers and their rejection of bad input (no kernel)."""

from __future__ import annotations

import os
import pathlib
import struct

import pytest

from uring import ops
from uring._uapi import (IORING_FILE_INDEX_ALLOC, IORING_FIXED_FD_NO_CLOEXEC,
                         IORING_REGISTER_FILES_SKIP, OPEN_HOW, Opcode, SqeFlags)
from uring.ops import fs
from tests.support import expect, pinned, sqe_dict as fields
from uring.ops._common import AT_FDCWD, HELPERS

CWD_U32 = AT_FDCWD & 0xFFFFFFFF
ALL_ONES = 0xFFFFFFFFFFFFFFFF








# Each case: helper call, then the expected fields given the Sqe (addresses come from its
# pins, in the order the helper pins them), then what those pins must hold.
GOLDEN = [
    ("openat", lambda: fs.openat(5, "a/b", os.O_RDWR | os.O_CREAT, 0o640),
     lambda s: expect(Opcode.OPENAT, fd=5, addr=s.pins[0].addr, len=0o640,
                      op_flags=os.O_RDWR | os.O_CREAT),
     [b"a/b\0"]),
    ("openat defaults", lambda: fs.openat(AT_FDCWD, b"x"),
     lambda s: expect(Opcode.OPENAT, fd=AT_FDCWD, addr=s.pins[0].addr),
     [b"x\0"]),
    ("openat_direct", lambda: fs.openat_direct(3, "f", os.O_RDONLY, 0, 7),
     lambda s: expect(Opcode.OPENAT, fd=3, addr=s.pins[0].addr, file_index=8),
     [b"f\0"]),
    ("openat_direct alloc", lambda: fs.openat_direct(3, "f", os.O_RDONLY, 0, IORING_FILE_INDEX_ALLOC),
     lambda s: expect(Opcode.OPENAT, fd=3, addr=s.pins[0].addr, file_index=-1),
     [b"f\0"]),
    ("open", lambda: fs.open(pathlib.Path("/tmp/p"), os.O_WRONLY, 0o600),
     lambda s: expect(Opcode.OPENAT, fd=AT_FDCWD, addr=s.pins[0].addr, len=0o600, op_flags=os.O_WRONLY),
     [b"/tmp/p\0"]),
    ("open_direct", lambda: fs.open_direct("p", os.O_RDONLY, 0, 0),
     lambda s: expect(Opcode.OPENAT, fd=AT_FDCWD, addr=s.pins[0].addr, file_index=1),
     [b"p\0"]),
    ("openat2", lambda: fs.openat2(4, "q", fs.OpenHow(os.O_CREAT, 0o600, fs.RESOLVE_BENEATH)),
     lambda s: expect(Opcode.OPENAT2, fd=4, addr=s.pins[0].addr, len=24, off=s.pins[1].addr),
     [b"q\0", OPEN_HOW.pack(os.O_CREAT, 0o600, fs.RESOLVE_BENEATH)]),
    ("openat2 dict", lambda: fs.openat2(4, "q", {"resolve": fs.RESOLVE_NO_SYMLINKS}),
     lambda s: expect(Opcode.OPENAT2, fd=4, addr=s.pins[0].addr, len=24, off=s.pins[1].addr),
     [b"q\0", OPEN_HOW.pack(0, 0, fs.RESOLVE_NO_SYMLINKS)]),
    ("openat2_direct", lambda: fs.openat2_direct(4, "q", {"flags": os.O_RDONLY}, 2),
     lambda s: expect(Opcode.OPENAT2, fd=4, addr=s.pins[0].addr, len=24, off=s.pins[1].addr,
                      file_index=3),
     [b"q\0", OPEN_HOW.pack(os.O_RDONLY, 0, 0)]),
    ("close", lambda: fs.close(9),
     lambda s: expect(Opcode.CLOSE, fd=9), []),
    ("close_direct", lambda: fs.close_direct(0),
     lambda s: expect(Opcode.CLOSE, fd=0, file_index=1), []),
    ("statx", lambda: fs.statx(6, "s", fs.AT_SYMLINK_NOFOLLOW, fs.STATX_BASIC_STATS),
     lambda s: expect(Opcode.STATX, fd=6, addr=s.pins[0].addr, len=fs.STATX_BASIC_STATS,
                      off=s.pins[1].addr, op_flags=fs.AT_SYMLINK_NOFOLLOW),
     [b"s\0", bytes(256)]),
    ("renameat", lambda: fs.renameat(3, "old", AT_FDCWD, "new", fs.RENAME_NOREPLACE),
     lambda s: expect(Opcode.RENAMEAT, fd=3, addr=s.pins[0].addr, len=CWD_U32, off=s.pins[1].addr,
                      op_flags=fs.RENAME_NOREPLACE),
     [b"old\0", b"new\0"]),
    ("rename", lambda: fs.rename("o", "n"),
     lambda s: expect(Opcode.RENAMEAT, fd=AT_FDCWD, addr=s.pins[0].addr, len=CWD_U32,
                      off=s.pins[1].addr),
     [b"o\0", b"n\0"]),
    ("unlinkat", lambda: fs.unlinkat(8, "d", fs.AT_REMOVEDIR),
     lambda s: expect(Opcode.UNLINKAT, fd=8, addr=s.pins[0].addr, op_flags=fs.AT_REMOVEDIR),
     [b"d\0"]),
    ("unlink", lambda: fs.unlink("u"),
     lambda s: expect(Opcode.UNLINKAT, fd=AT_FDCWD, addr=s.pins[0].addr), [b"u\0"]),
    ("mkdirat", lambda: fs.mkdirat(8, "d", 0o700),
     lambda s: expect(Opcode.MKDIRAT, fd=8, addr=s.pins[0].addr, len=0o700), [b"d\0"]),
    ("mkdir", lambda: fs.mkdir("d"),
     lambda s: expect(Opcode.MKDIRAT, fd=AT_FDCWD, addr=s.pins[0].addr, len=0o777), [b"d\0"]),
    ("symlinkat", lambda: fs.symlinkat("target", 5, "lnk"),
     lambda s: expect(Opcode.SYMLINKAT, fd=5, addr=s.pins[0].addr, off=s.pins[1].addr),
     [b"target\0", b"lnk\0"]),
    ("symlink", lambda: fs.symlink("t", "l"),
     lambda s: expect(Opcode.SYMLINKAT, fd=AT_FDCWD, addr=s.pins[0].addr, off=s.pins[1].addr),
     [b"t\0", b"l\0"]),
    ("linkat", lambda: fs.linkat(3, "a", 4, "b", fs.AT_SYMLINK_FOLLOW),
     lambda s: expect(Opcode.LINKAT, fd=3, addr=s.pins[0].addr, len=4, off=s.pins[1].addr,
                      op_flags=fs.AT_SYMLINK_FOLLOW),
     [b"a\0", b"b\0"]),
    ("link", lambda: fs.link("a", "b"),
     lambda s: expect(Opcode.LINKAT, fd=AT_FDCWD, addr=s.pins[0].addr, len=CWD_U32,
                      off=s.pins[1].addr),
     [b"a\0", b"b\0"]),
    ("fsetxattr", lambda: fs.fsetxattr(7, "user.k", b"value", fs.XATTR_CREATE),
     lambda s: expect(Opcode.FSETXATTR, fd=7, addr=s.pins[0].addr, off=s.pins[1].addr, len=5,
                      op_flags=fs.XATTR_CREATE),
     [b"user.k\0", b"value"]),
    ("setxattr", lambda: fs.setxattr(b"user.k", bytearray(b"vv"), "/p", fs.XATTR_REPLACE),
     lambda s: expect(Opcode.SETXATTR, fd=0, addr=s.pins[0].addr, addr3=s.pins[1].addr,
                      off=s.pins[2].addr, len=2, op_flags=fs.XATTR_REPLACE),
     [b"user.k\0", b"/p\0", b"vv"]),
    ("fgetxattr", lambda: fs.fgetxattr(7, "user.k", 16),
     lambda s: expect(Opcode.FGETXATTR, fd=7, addr=s.pins[0].addr, off=s.pins[1].addr, len=16),
     [b"user.k\0", bytes(16)]),
    ("fgetxattr size query", lambda: fs.fgetxattr(7, "user.k", 0),
     lambda s: expect(Opcode.FGETXATTR, fd=7, addr=s.pins[0].addr), [b"user.k\0"]),
    ("getxattr", lambda: fs.getxattr("user.k", "/p", 4),
     lambda s: expect(Opcode.GETXATTR, fd=0, addr=s.pins[0].addr, addr3=s.pins[1].addr,
                      off=s.pins[2].addr, len=4),
     [b"user.k\0", b"/p\0", bytes(4)]),
    ("files_update", lambda: fs.files_update([3, -1, IORING_REGISTER_FILES_SKIP], 5),
     lambda s: expect(Opcode.FILES_UPDATE, fd=-1, addr=s.pins[0].addr, len=3, off=5),
     [struct.pack("=3i", 3, -1, -2)]),
    ("files_update alloc", lambda: fs.files_update((4,), IORING_FILE_INDEX_ALLOC),
     lambda s: expect(Opcode.FILES_UPDATE, fd=-1, addr=s.pins[0].addr, len=1, off=ALL_ONES),
     [struct.pack("=i", 4)]),
    ("fixed_fd_install", lambda: fs.fixed_fd_install(2),
     lambda s: expect(Opcode.FIXED_FD_INSTALL, fd=2, flags=int(SqeFlags.FIXED_FILE)), []),
    ("fixed_fd_install no cloexec", lambda: fs.fixed_fd_install(2, IORING_FIXED_FD_NO_CLOEXEC),
     lambda s: expect(Opcode.FIXED_FD_INSTALL, fd=2, flags=int(SqeFlags.FIXED_FILE),
                      op_flags=IORING_FIXED_FD_NO_CLOEXEC), []),
    ("pipe", lambda: fs.pipe(),
     lambda s: expect(Opcode.PIPE, fd=0, addr=s.pins[0].addr), [struct.pack("=2i", -1, -1)]),
    ("pipe flags", lambda: fs.pipe(os.O_NONBLOCK | os.O_CLOEXEC),
     lambda s: expect(Opcode.PIPE, fd=0, addr=s.pins[0].addr, op_flags=os.O_NONBLOCK | os.O_CLOEXEC),
     [struct.pack("=2i", -1, -1)]),
    ("pipe_direct", lambda: fs.pipe_direct(0, 4),
     lambda s: expect(Opcode.PIPE, fd=0, addr=s.pins[0].addr, file_index=5), [struct.pack("=2i", -1, -1)]),
    ("pipe_direct alloc", lambda: fs.pipe_direct(os.O_NONBLOCK, IORING_FILE_INDEX_ALLOC),
     lambda s: expect(Opcode.PIPE, fd=0, addr=s.pins[0].addr, op_flags=os.O_NONBLOCK, file_index=-1),
     [struct.pack("=2i", -1, -1)]),
]


@pytest.mark.parametrize("make, want, pins", [c[1:] for c in GOLDEN], ids=[c[0] for c in GOLDEN])
def test_golden_sqe(make, want, pins):
    s = make()
    assert fields(s) == want(s)
    assert [pinned(s, i) for i in range(len(s.pins))] == pins
    assert len(bytes(s)) == 64


def test_every_helper_is_registered_under_its_opcode():
    names = {name for opcode in HELPERS for name in HELPERS[opcode]}
    helpers = [n for n in fs.__all__ if callable(getattr(fs, n)) and n[0].islower()]
    assert len(helpers) == 27
    for name in helpers:
        assert name in names, name
        assert getattr(ops, name) is getattr(fs, name)
        assert getattr(fs, name).__doc__


def test_statx_reuses_a_given_buffer_or_statx():
    buf = bytearray(300)
    s = fs.statx(AT_FDCWD, "x", 0, fs.STATX_SIZE, buf)
    assert s.out.buffer is buf and s.pins[1].addr == fields(s)["off"]
    again = fs.statx(AT_FDCWD, "x", 0, fs.STATX_SIZE, s.out)
    assert again.out is s.out


def test_statx_decoder_reads_the_kernel_layout():
    raw = bytearray(256)
    struct.pack_into("=IIQIIIHxxQQQQ", raw, 0, 0x7FF, 4096, 0x20, 3, 1000, 100, 0o100644,
                     77, 12345, 24, 0x30)
    for offset, sec, nsec in ((64, 10, 1), (80, 20, 2), (96, 30, 3), (112, 40, 999_999_999)):
        struct.pack_into("=qI", raw, offset, sec, nsec)
    struct.pack_into("=IIIIQII", raw, 128, 1, 2, 8, 3, 42, 512, 4096)
    st = fs.Statx(raw)
    assert (st.st_mask, st.st_blksize, st.st_attributes, st.st_nlink, st.st_uid, st.st_gid,
            st.st_mode, st.st_ino, st.st_size, st.st_blocks, st.st_attributes_mask) == \
        (0x7FF, 4096, 0x20, 3, 1000, 100, 0o100644, 77, 12345, 24, 0x30)
    assert (st.st_atime_ns, st.st_birthtime_ns, st.st_ctime_ns, st.st_mtime_ns) == \
        (10_000_000_001, 20_000_000_002, 30_000_000_003, 40_999_999_999)
    assert st.st_mtime == pytest.approx(40.999999999)
    assert (st.st_rdev, st.st_dev) == (os.makedev(1, 2), os.makedev(8, 3))
    assert (st.st_mnt_id, st.st_dio_mem_align, st.st_dio_offset_align) == (42, 512, 4096)
    assert "size=12345" in repr(st)


def test_negative_statx_timestamp():
    raw = bytearray(256)
    struct.pack_into("=qI", raw, 112, -2, 500_000_000)
    assert fs.Statx(raw).st_mtime_ns == -1_500_000_000


def test_xattr_value_decode():
    s = fs.fgetxattr(3, "user.a", 8)
    out = s.out
    out.buffer[:3] = b"abc"
    assert out.decode(3) == b"abc" and out.size == 8
    with pytest.raises(FileNotFoundError):
        out.decode(-2)
    with pytest.raises(ValueError):
        out.decode(9)
    assert fs.fgetxattr(3, "user.a", 0).out.decode(100) == b""  # a size query


def test_fd_array():
    s = fs.pipe()
    assert s.out.fds == (-1, -1)
    s.out.array[0], s.out.array[1] = 5, 6
    assert s.out.fds == (5, 6) and "(5, 6)" in repr(s.out)


def test_open_how_dataclass():
    how = fs.OpenHow(flags=os.O_RDONLY, resolve=fs.RESOLVE_CACHED)
    assert how.pack() == OPEN_HOW.pack(os.O_RDONLY, 0, fs.RESOLVE_CACHED)
    with pytest.raises(AttributeError):
        how.flags = 1  # frozen: an SQE built from it cannot change behind its back


BAD = [
    # paths
    (lambda: fs.openat(AT_FDCWD, "a\0b"), ValueError, "NUL"),
    (lambda: fs.open(b"\0"), ValueError, "NUL"),
    (lambda: fs.open(3), TypeError, "path"),
    (lambda: fs.open(None), TypeError, "path"),
    (lambda: fs.rename("a", "b\0"), ValueError, "newpath"),
    (lambda: fs.renameat(AT_FDCWD, 1.5, AT_FDCWD, "b"), TypeError, "oldpath"),
    (lambda: fs.symlink("t\0", "l"), ValueError, "target"),
    (lambda: fs.symlinkat("t", AT_FDCWD, ["l"]), TypeError, "linkpath"),
    (lambda: fs.statx(AT_FDCWD, "a\0", 0, 0), ValueError, "NUL"),
    (lambda: fs.getxattr("user.a", "p\0", 1), ValueError, "NUL"),
    # descriptors
    (lambda: fs.openat("3", "a"), TypeError, "dfd"),
    (lambda: fs.openat(True, "a"), TypeError, "dfd"),
    (lambda: fs.openat(1 << 31, "a"), ValueError, "dfd"),
    (lambda: fs.close(None), TypeError, "fd"),
    (lambda: fs.renameat(AT_FDCWD, "a", "x", "b"), TypeError, "newdfd"),
    (lambda: fs.linkat(AT_FDCWD, "a", -(1 << 31) - 1, "b"), ValueError, "newdfd"),
    (lambda: fs.symlinkat("t", 2.0, "l"), TypeError, "newdirfd"),
    (lambda: fs.fsetxattr("3", "user.a", b""), TypeError, "fd"),
    # modes and flags
    (lambda: fs.openat(AT_FDCWD, "a", os.O_CREAT, -1), ValueError, "mode"),
    (lambda: fs.openat(AT_FDCWD, "a", os.O_CREAT, 0o10000), ValueError, "mode"),
    (lambda: fs.open("a", 0, "644"), TypeError, "mode"),
    (lambda: fs.mkdir("a", -0o1), ValueError, "mode"),
    (lambda: fs.mkdirat(AT_FDCWD, "a", 511.0), TypeError, "mode"),
    (lambda: fs.openat(AT_FDCWD, "a", -1), ValueError, "flags"),
    (lambda: fs.openat(AT_FDCWD, "a", 1 << 32), ValueError, "flags"),
    (lambda: fs.unlinkat(AT_FDCWD, "a", None), TypeError, "flags"),
    (lambda: fs.renameat(AT_FDCWD, "a", AT_FDCWD, "b", -1), ValueError, "flags"),
    (lambda: fs.statx(AT_FDCWD, "a", 0, -1), ValueError, "mask"),
    (lambda: fs.statx(AT_FDCWD, "a", -1, 0), ValueError, "flags"),
    (lambda: fs.pipe(-1), ValueError, "pipe_flags"),
    (lambda: fs.fixed_fd_install(0, -1), ValueError, "flags"),
    # open_how
    (lambda: fs.openat2(AT_FDCWD, "a", {"flag": 0}), ValueError, "flag"),
    (lambda: fs.openat2(AT_FDCWD, "a", (0, 0, 0)), TypeError, "OpenHow"),
    (lambda: fs.openat2(AT_FDCWD, "a", None), TypeError, "OpenHow"),
    (lambda: fs.OpenHow(flags=-1), ValueError, "flags"),
    (lambda: fs.OpenHow(resolve=1 << 64), ValueError, "resolve"),
    (lambda: fs.OpenHow(mode="0"), TypeError, "mode"),
    # fixed-file slots
    (lambda: fs.openat_direct(AT_FDCWD, "a", 0, 0, -1), ValueError, "file_index"),
    (lambda: fs.open_direct("a", 0, 0, 1 << 31), ValueError, "file_index"),
    (lambda: fs.openat2_direct(AT_FDCWD, "a", {}, "1"), TypeError, "file_index"),
    (lambda: fs.close_direct(IORING_FILE_INDEX_ALLOC), ValueError, "file_index"),
    (lambda: fs.close_direct(-1), ValueError, "file_index"),
    (lambda: fs.pipe_direct(0, -2), ValueError, "file_index"),
    (lambda: fs.fixed_fd_install(-1), ValueError, "fd"),
    (lambda: fs.fixed_fd_install(IORING_FILE_INDEX_ALLOC), ValueError, "fd"),
    # files_update
    (lambda: fs.files_update([], 0), ValueError, "at least one"),
    (lambda: fs.files_update(3, 0), TypeError, "fds"),
    (lambda: fs.files_update(b"\x03", 0), TypeError, "fds"),
    (lambda: fs.files_update(["3"], 0), TypeError, "fds"),
    (lambda: fs.files_update([1 << 31], 0), ValueError, "fds"),
    (lambda: fs.files_update([3], -1), ValueError, "offset"),
    (lambda: fs.files_update([3], None), TypeError, "offset"),
    # statx buffers
    (lambda: fs.statx(AT_FDCWD, "a", 0, 0, bytearray(255)), ValueError, "256"),
    (lambda: fs.statx(AT_FDCWD, "a", 0, 0, bytes(256)), TypeError, "writable"),
    (lambda: fs.statx(AT_FDCWD, "a", 0, 0, 256), TypeError, "statxbuf"),
    # xattrs
    (lambda: fs.fsetxattr(3, "", b"v"), ValueError, "name"),
    (lambda: fs.fsetxattr(3, "u" * 256, b"v"), ValueError, "name"),
    (lambda: fs.fsetxattr(3, "user.\0", b"v"), ValueError, "NUL"),
    (lambda: fs.fsetxattr(3, 7, b"v"), TypeError, "name"),
    (lambda: fs.fsetxattr(3, "user.a", "text"), TypeError, "str"),
    (lambda: fs.setxattr("user.a", 5, "p"), TypeError, "bytes-like"),
    (lambda: fs.setxattr("user.a", b"v", "p", -1), ValueError, "flags"),
    (lambda: fs.fgetxattr(3, "user.a", -1), ValueError, "size"),
    (lambda: fs.fgetxattr(3, "user.a", 65537), ValueError, "size"),
    (lambda: fs.getxattr("user.a", "p", 1.0), TypeError, "size"),
]


@pytest.mark.parametrize("call, exc, words", BAD, ids=range(len(BAD)))
def test_bad_input_is_rejected(call, exc, words):
    with pytest.raises(exc, match=words):
        call()


def test_longest_xattr_name_and_value_size_are_accepted():
    assert fields(fs.fgetxattr(3, "u" * 255, 65536))["len"] == 65536
    assert fields(fs.close_direct(0x7FFFFFFD))["file_index"] == 0x7FFFFFFE
