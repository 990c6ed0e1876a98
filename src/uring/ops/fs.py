"""Prep helpers for files and directories: open (openat/openat2, regular or direct), close,
statx, rename, unlink, mkdir, symlink, link, extended attributes, registered-file updates,
installing a direct descriptor as a regular fd, and pipes.

Direct variants (`*_direct`) put the new file in the ring's registered file table instead of
the process's: `file_index` is the table slot (0-based), or IORING_FILE_INDEX_ALLOC to let the
kernel pick a free one (the CQE res is then the slot it chose). Like liburing, the SQE carries
slot + 1 because 0 there means "a regular fd".

What the kernel writes back is decoded by the object each helper leaves in `sqe.out` (and so
`op.out`): `Statx` for statx, `XattrValue` for getxattr/fgetxattr, `FdArray` for pipe and
files_update.
"""

from __future__ import annotations

import os
import struct
from array import array
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Union

from uring._core import Op, Sqe
from uring._uapi import OPEN_HOW, IORING_FILE_INDEX_ALLOC, Opcode, SqeFlags
from uring.ops._common import AT_FDCWD, Buffer, PathLike, buffer, check_fd, check_u32, prep, sqe
from uring.ops._common import path as _encode_path  # the helpers' own `path` parameters shadow it

__all__ = [
    # helpers
    "openat", "openat_direct", "open", "open_direct", "openat2", "openat2_direct",
    "close", "close_direct", "statx", "renameat", "rename", "unlinkat", "unlink",
    "mkdirat", "mkdir", "symlinkat", "symlink", "linkat", "link",
    "fsetxattr", "setxattr", "fgetxattr", "getxattr",
    "files_update", "fixed_fd_install", "pipe", "pipe_direct",
    # argument and result types
    "OpenHow", "Statx", "XattrValue", "FdArray",
    # constants Python's os module lacks
    "RESOLVE_NO_XDEV", "RESOLVE_NO_MAGICLINKS", "RESOLVE_NO_SYMLINKS", "RESOLVE_BENEATH",
    "RESOLVE_IN_ROOT", "RESOLVE_CACHED",
    "AT_SYMLINK_NOFOLLOW", "AT_REMOVEDIR", "AT_SYMLINK_FOLLOW", "AT_NO_AUTOMOUNT",
    "AT_EMPTY_PATH", "AT_STATX_SYNC_AS_STAT", "AT_STATX_FORCE_SYNC", "AT_STATX_DONT_SYNC",
    "STATX_TYPE", "STATX_MODE", "STATX_NLINK", "STATX_UID", "STATX_GID", "STATX_ATIME",
    "STATX_MTIME", "STATX_CTIME", "STATX_INO", "STATX_SIZE", "STATX_BLOCKS",
    "STATX_BASIC_STATS", "STATX_BTIME", "STATX_MNT_ID", "STATX_DIOALIGN",
    "RENAME_NOREPLACE", "RENAME_EXCHANGE", "RENAME_WHITEOUT",
    "XATTR_CREATE", "XATTR_REPLACE",
]

# openat2(2) resolve flags (linux/openat2.h).
RESOLVE_NO_XDEV = 0x01
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
RESOLVE_IN_ROOT = 0x10
RESOLVE_CACHED = 0x20

# *at(2) flags (linux/fcntl.h).
AT_SYMLINK_NOFOLLOW = 0x100
AT_REMOVEDIR = 0x200
AT_SYMLINK_FOLLOW = 0x400
AT_NO_AUTOMOUNT = 0x800
AT_EMPTY_PATH = 0x1000
AT_STATX_SYNC_AS_STAT = 0x0000
AT_STATX_FORCE_SYNC = 0x2000
AT_STATX_DONT_SYNC = 0x4000

# statx(2) mask bits (linux/stat.h).
STATX_TYPE = 0x0001
STATX_MODE = 0x0002
STATX_NLINK = 0x0004
STATX_UID = 0x0008
STATX_GID = 0x0010
STATX_ATIME = 0x0020
STATX_MTIME = 0x0040
STATX_CTIME = 0x0080
STATX_INO = 0x0100
STATX_SIZE = 0x0200
STATX_BLOCKS = 0x0400
STATX_BASIC_STATS = 0x07FF
STATX_BTIME = 0x0800
STATX_MNT_ID = 0x1000
STATX_DIOALIGN = 0x2000

# renameat2(2) flags (linux/fs.h).
RENAME_NOREPLACE = 1 << 0
RENAME_EXCHANGE = 1 << 1
RENAME_WHITEOUT = 1 << 2

# setxattr(2) flags (linux/xattr.h).
XATTR_CREATE = 0x1
XATTR_REPLACE = 0x2

_XATTR_NAME_MAX = 255     # the kernel answers ERANGE beyond it
_XATTR_SIZE_MAX = 65536   # the kernel never returns more than this from a get
_STATX_SIZE = 256
_MODE_MAX = 0o7777        # S_IALLUGO: permission, setuid/setgid and sticky bits
_SLOT_MAX = 0x7FFFFFFD    # slot + 1 (and pipe's slot + 2) must stay a positive s32
_U64 = 0xFFFFFFFFFFFFFFFF


# -- argument checks shared by the family ----------------------------------------------


def _int(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    return value


def _mode(mode: int) -> int:
    if _int(mode, "mode") < 0 or mode > _MODE_MAX:
        raise ValueError(f"mode must be within 0..0o7777, got {mode:#o}")
    return mode


def _slot(file_index: int, name: str = "file_index") -> int:
    """A fixed-file table slot (0-based) an op refers to."""
    if _int(file_index, name) < 0 or file_index > _SLOT_MAX:
        raise ValueError(f"{name} must be a fixed-file slot within 0..{_SLOT_MAX}, got {file_index}")
    return file_index


def _target_slot(file_index: int) -> int:
    """sqe->file_index for an op that creates a direct descriptor: slot + 1, since 0 there
    means "install a regular fd"; IORING_FILE_INDEX_ALLOC (all ones, -1 as the s32 the field
    is) is passed through so the kernel picks a free slot."""
    if _int(file_index, "file_index") == IORING_FILE_INDEX_ALLOC:
        return -1
    if file_index < 0:
        raise ValueError(f"file_index must be a fixed-file slot (>= 0) or IORING_FILE_INDEX_ALLOC, "
                         f"got {file_index}")
    return _slot(file_index) + 1


def _at(opcode: int, dfd: int, pathname: PathLike, dfd_name: str = "dfd",
        path_name: str = "path") -> Sqe:
    """The shape of every *at op: a directory fd in sqe->fd, the pinned path in sqe->addr."""
    s = sqe(opcode, check_fd(dfd, dfd_name))
    s.addr = _encode_path(s, pathname, path_name)
    return s


# -- open / close ------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenHow:
    """struct open_how for openat2(2): open `flags` (os.O_*), creation `mode` (only with
    O_CREAT/O_TMPFILE, else the kernel answers EINVAL) and `resolve` (RESOLVE_*)."""

    flags: int = 0
    mode: int = 0
    resolve: int = 0

    def __post_init__(self) -> None:
        for name in ("flags", "mode", "resolve"):
            value = _int(getattr(self, name), name)
            if value < 0 or value > _U64:
                raise ValueError(f"open_how.{name} must fit in 64 bits unsigned, got {value}")

    def pack(self) -> bytes:
        """The 24-byte struct open_how the kernel reads."""
        return OPEN_HOW.pack(self.flags, self.mode, self.resolve)


def _open_how(how: Union[OpenHow, Mapping[str, int]]) -> OpenHow:
    if isinstance(how, OpenHow):
        return how
    if isinstance(how, Mapping):
        unknown = set(how) - {"flags", "mode", "resolve"}
        if unknown:
            raise ValueError(f"open_how has no field(s) {sorted(unknown)}; "
                             "expected flags, mode, resolve")
        return OpenHow(**how)
    raise TypeError(f"how must be an OpenHow or a dict, got {type(how).__name__}")


def _openat(dfd: int, pathname: PathLike, flags: int, mode: int) -> Sqe:
    s = _at(Opcode.OPENAT, dfd, pathname)
    s.len = _mode(mode)
    s.op_flags = check_u32(flags, "flags")
    return s


@prep(Opcode.OPENAT)
def openat(dfd: int, path: PathLike, flags: int = 0, mode: int = 0) -> Sqe:
    """IORING_OP_OPENAT: openat(2) of `path` relative to directory fd `dfd`; res is the fd."""
    return _openat(dfd, path, flags, mode)


@prep(Opcode.OPENAT)
def openat_direct(dfd: int, path: PathLike, flags: int, mode: int, file_index: int) -> Sqe:
    """IORING_OP_OPENAT into fixed-file slot `file_index` (or IORING_FILE_INDEX_ALLOC: res is
    the slot chosen; else res is 0). O_CLOEXEC is meaningless there and the kernel rejects it."""
    s = _openat(dfd, path, flags, mode)
    s.file_index = _target_slot(file_index)
    return s


@prep(Opcode.OPENAT)
def open(path: PathLike, flags: int = 0, mode: int = 0) -> Sqe:
    """IORING_OP_OPENAT relative to the current directory (open(2)); res is the fd."""
    return _openat(AT_FDCWD, path, flags, mode)


@prep(Opcode.OPENAT)
def open_direct(path: PathLike, flags: int, mode: int, file_index: int) -> Sqe:
    """IORING_OP_OPENAT relative to the current directory into fixed-file slot `file_index`."""
    return openat_direct(AT_FDCWD, path, flags, mode, file_index)


def _openat2(dfd: int, pathname: PathLike, how: Union[OpenHow, Mapping[str, int]]) -> Sqe:
    packed = _open_how(how).pack()
    s = _at(Opcode.OPENAT2, dfd, pathname)
    s.len = len(packed)  # the kernel sizes its copy of open_how by this (extensible struct)
    s.addr2 = s.pin(bytearray(packed), False).addr
    return s


@prep(Opcode.OPENAT2)
def openat2(dfd: int, path: PathLike, how: Union[OpenHow, Mapping[str, int]]) -> Sqe:
    """IORING_OP_OPENAT2: openat2(2) with `how` an OpenHow or a dict of its fields
    (flags, mode, resolve); res is the fd."""
    return _openat2(dfd, path, how)


@prep(Opcode.OPENAT2)
def openat2_direct(dfd: int, path: PathLike, how: Union[OpenHow, Mapping[str, int]],
                   file_index: int) -> Sqe:
    """IORING_OP_OPENAT2 into fixed-file slot `file_index` (or IORING_FILE_INDEX_ALLOC)."""
    s = _openat2(dfd, path, how)
    s.file_index = _target_slot(file_index)
    return s


@prep(Opcode.CLOSE)
def close(fd: int) -> Sqe:
    """IORING_OP_CLOSE: close(2) a regular file descriptor; res is 0."""
    return sqe(Opcode.CLOSE, check_fd(fd))


@prep(Opcode.CLOSE)
def close_direct(file_index: int) -> Sqe:
    """IORING_OP_CLOSE of the direct descriptor in fixed-file slot `file_index`."""
    s = sqe(Opcode.CLOSE, 0)  # the kernel wants fd 0 when a slot is named
    s.file_index = _slot(file_index) + 1
    return s


# -- statx ---------------------------------------------------------------------------------


class _Field:
    """A struct statx member read straight from the buffer the kernel filled."""

    def __init__(self, fmt: str, offset: int, doc: str) -> None:
        self.unpacker = struct.Struct("=" + fmt)
        self.offset = offset
        self.__doc__ = doc

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        return self.unpacker.unpack_from(obj.buffer, self.offset)[0]


class _Time:
    """A struct statx_timestamp {s64 tv_sec; u32 tv_nsec; s32 pad} as integer nanoseconds."""

    _LAYOUT = struct.Struct("=qI")

    def __init__(self, offset: int, doc: str) -> None:
        self.offset = offset
        self.__doc__ = doc

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        sec, nsec = self._LAYOUT.unpack_from(obj.buffer, self.offset)
        return sec * 1_000_000_000 + nsec


class Statx:
    """Decoder of the struct statx an IORING_OP_STATX fills (256 bytes). Read its fields
    once the op has completed; which of them are valid is said by `st_mask` (STATX_*).
    Names follow os.stat_result where one exists."""

    __slots__ = ("buffer",)

    def __init__(self, buffer: Buffer | None = None) -> None:
        if buffer is None:
            buffer = bytearray(_STATX_SIZE)
        try:
            view = memoryview(buffer)
        except TypeError:
            raise TypeError(f"statxbuf must be a writable buffer, got {type(buffer).__name__}") from None
        with view:
            if view.readonly:
                raise TypeError("statxbuf must be writable")
            if view.nbytes < _STATX_SIZE:
                raise ValueError(f"statxbuf needs {_STATX_SIZE} bytes, got {view.nbytes}")
        self.buffer = buffer

    st_mask = _Field("I", 0, "STATX_* bits saying which fields the kernel filled")
    st_blksize = _Field("I", 4, "preferred I/O block size")
    st_attributes = _Field("Q", 8, "STATX_ATTR_* file attributes")
    st_nlink = _Field("I", 16, "number of hard links")
    st_uid = _Field("I", 20, "owner's user id")
    st_gid = _Field("I", 24, "owner's group id")
    st_mode = _Field("H", 28, "file type and mode bits")
    st_ino = _Field("Q", 32, "inode number")
    st_size = _Field("Q", 40, "size in bytes")
    st_blocks = _Field("Q", 48, "number of 512-byte blocks allocated")
    st_attributes_mask = _Field("Q", 56, "which STATX_ATTR_* bits the filesystem supports")
    st_atime_ns = _Time(64, "last access, ns since the epoch")
    st_birthtime_ns = _Time(80, "creation (STATX_BTIME), ns since the epoch")
    st_ctime_ns = _Time(96, "last status change, ns since the epoch")
    st_mtime_ns = _Time(112, "last modification, ns since the epoch")
    st_rdev_major = _Field("I", 128, "device major number (device files)")
    st_rdev_minor = _Field("I", 132, "device minor number (device files)")
    st_dev_major = _Field("I", 136, "major number of the filesystem's device")
    st_dev_minor = _Field("I", 140, "minor number of the filesystem's device")
    st_mnt_id = _Field("Q", 144, "mount id (STATX_MNT_ID)")
    st_dio_mem_align = _Field("I", 152, "O_DIRECT memory alignment (STATX_DIOALIGN)")
    st_dio_offset_align = _Field("I", 156, "O_DIRECT file offset alignment (STATX_DIOALIGN)")

    @property
    def st_atime(self) -> float:
        return self.st_atime_ns / 1e9

    @property
    def st_mtime(self) -> float:
        return self.st_mtime_ns / 1e9

    @property
    def st_ctime(self) -> float:
        return self.st_ctime_ns / 1e9

    @property
    def st_birthtime(self) -> float:
        return self.st_birthtime_ns / 1e9

    @property
    def st_dev(self) -> int:
        """The filesystem's device as os.stat_result.st_dev encodes it."""
        return os.makedev(self.st_dev_major, self.st_dev_minor)

    @property
    def st_rdev(self) -> int:
        return os.makedev(self.st_rdev_major, self.st_rdev_minor)

    def __repr__(self) -> str:
        return (f"<Statx mask={self.st_mask:#x} mode={self.st_mode:#o} ino={self.st_ino} "
                f"size={self.st_size} nlink={self.st_nlink} uid={self.st_uid} gid={self.st_gid}>")


@prep(Opcode.STATX)
def statx(dfd: int, path: PathLike, flags: int, mask: int, statxbuf: Buffer | Statx | None = None) -> Sqe:
    """IORING_OP_STATX: statx(2) of `path` relative to `dfd` (AT_EMPTY_PATH with path "" for
    `dfd` itself). `statxbuf` (a writable buffer of 256+ bytes, or a Statx to reuse) defaults
    to a fresh one; op.out is the Statx to read once the op is done."""
    out = statxbuf if isinstance(statxbuf, Statx) else Statx(statxbuf)
    s = _at(Opcode.STATX, dfd, path)
    s.len = check_u32(mask, "mask")
    s.op_flags = check_u32(flags, "flags")
    s.addr2 = s.pin(out.buffer, True).addr
    s.out = out
    return s


# -- rename / unlink / mkdir / symlink / link -----------------------------------------------


def _two_paths(opcode: int, olddfd: int, oldpath: PathLike, newdfd: int, newpath: PathLike,
               flags: int) -> Sqe:
    """renameat/linkat: old dir fd and path in fd/addr, new path in addr2, and the new dir fd
    in len (as the u32 the field is: AT_FDCWD travels as its two's complement)."""
    s = _at(opcode, olddfd, oldpath, "olddfd", "oldpath")
    s.len = check_fd(newdfd, "newdfd") & 0xFFFFFFFF
    s.addr2 = _encode_path(s, newpath, "newpath")
    s.op_flags = check_u32(flags, "flags")
    return s


@prep(Opcode.RENAMEAT)
def renameat(olddfd: int, oldpath: PathLike, newdfd: int, newpath: PathLike, flags: int = 0) -> Sqe:
    """IORING_OP_RENAMEAT: renameat2(2), flags RENAME_NOREPLACE/EXCHANGE/WHITEOUT."""
    return _two_paths(Opcode.RENAMEAT, olddfd, oldpath, newdfd, newpath, flags)


@prep(Opcode.RENAMEAT)
def rename(oldpath: PathLike, newpath: PathLike) -> Sqe:
    """IORING_OP_RENAMEAT of paths relative to the current directory (rename(2))."""
    return _two_paths(Opcode.RENAMEAT, AT_FDCWD, oldpath, AT_FDCWD, newpath, 0)


@prep(Opcode.UNLINKAT)
def unlinkat(dfd: int, path: PathLike, flags: int = 0) -> Sqe:
    """IORING_OP_UNLINKAT: unlinkat(2); flags AT_REMOVEDIR removes an empty directory."""
    s = _at(Opcode.UNLINKAT, dfd, path)
    s.op_flags = check_u32(flags, "flags")
    return s


@prep(Opcode.UNLINKAT)
def unlink(path: PathLike, flags: int = 0) -> Sqe:
    """IORING_OP_UNLINKAT relative to the current directory."""
    return unlinkat(AT_FDCWD, path, flags)


@prep(Opcode.MKDIRAT)
def mkdirat(dfd: int, path: PathLike, mode: int = 0o777) -> Sqe:
    """IORING_OP_MKDIRAT: mkdirat(2); the process umask applies to `mode`."""
    s = _at(Opcode.MKDIRAT, dfd, path)
    s.len = _mode(mode)
    return s


@prep(Opcode.MKDIRAT)
def mkdir(path: PathLike, mode: int = 0o777) -> Sqe:
    """IORING_OP_MKDIRAT relative to the current directory."""
    return mkdirat(AT_FDCWD, path, mode)


@prep(Opcode.SYMLINKAT)
def symlinkat(target: PathLike, newdirfd: int, linkpath: PathLike) -> Sqe:
    """IORING_OP_SYMLINKAT: symlinkat(2), a link at `linkpath` (relative to `newdirfd`)
    whose content is `target` (which need not exist)."""
    s = sqe(Opcode.SYMLINKAT, check_fd(newdirfd, "newdirfd"))
    s.addr = _encode_path(s, target, "target")
    s.addr2 = _encode_path(s, linkpath, "linkpath")
    return s


@prep(Opcode.SYMLINKAT)
def symlink(target: PathLike, linkpath: PathLike) -> Sqe:
    """IORING_OP_SYMLINKAT relative to the current directory."""
    return symlinkat(target, AT_FDCWD, linkpath)


@prep(Opcode.LINKAT)
def linkat(olddfd: int, oldpath: PathLike, newdfd: int, newpath: PathLike, flags: int = 0) -> Sqe:
    """IORING_OP_LINKAT: linkat(2), flags AT_SYMLINK_FOLLOW / AT_EMPTY_PATH."""
    return _two_paths(Opcode.LINKAT, olddfd, oldpath, newdfd, newpath, flags)


@prep(Opcode.LINKAT)
def link(oldpath: PathLike, newpath: PathLike, flags: int = 0) -> Sqe:
    """IORING_OP_LINKAT relative to the current directory."""
    return _two_paths(Opcode.LINKAT, AT_FDCWD, oldpath, AT_FDCWD, newpath, flags)


# -- extended attributes -----------------------------------------------------------------


class XattrValue:
    """Decoder of the value a getxattr/fgetxattr reads: `.value` (or `decode(op)`) is the
    attribute's bytes once the op is done. With a size of 0 nothing is read and
    the res is the attribute's size."""

    __slots__ = ("buffer", "_res")

    def __init__(self, size: int) -> None:
        self.buffer = bytearray(size)
        self._res: int | None = None

    def _finish(self, op: Op) -> None:
        self._res = op.res

    @property
    def size(self) -> int:
        return len(self.buffer)

    @property
    def value(self) -> bytes:
        """The attribute's bytes once the op completed (its error raised if it failed)."""
        if self._res is None:
            raise ValueError("the getxattr op has not completed")
        return self.decode(self._res)

    def decode(self, res: Union[int, Op]) -> bytes:
        """The value, given the op (its error is raised if it failed) or its CQE res."""
        if isinstance(res, Op):
            n: int = res.result
        else:
            n = _int(res, "res")
            if n < 0:
                raise OSError(-n, os.strerror(-n))
        if n > len(self.buffer):
            if self.buffer:
                raise ValueError(f"res {n} exceeds the {len(self.buffer)}-byte value buffer")
            return b""  # a size query: res is the length, nothing was read
        return bytes(self.buffer[:n])

    def __repr__(self) -> str:
        return f"<XattrValue size={len(self.buffer)}>"


def _xattr_name(s: Sqe, name: Union[str, bytes]) -> int:
    if not isinstance(name, (str, bytes)):
        raise TypeError(f"name must be str or bytes, got {type(name).__name__}")
    raw = os.fsencode(name)
    if not raw or len(raw) > _XATTR_NAME_MAX:
        raise ValueError(f"an xattr name needs 1..{_XATTR_NAME_MAX} bytes, got {len(raw)}")
    if b"\0" in raw:
        raise ValueError("name contains a NUL byte")
    return s.pin(bytearray(raw + b"\0"), False).addr


def _xattr(opcode: int, fd: int, name: Union[str, bytes], flags: int,
           pathname: PathLike | None) -> Sqe:
    """Every xattr op: fd (0 for the path variants, as liburing sends), name in addr,
    value in addr2/len (filled by the caller), xattr flags, and the path in addr3."""
    s = sqe(opcode, check_fd(fd))
    s.addr = _xattr_name(s, name)
    s.op_flags = check_u32(flags, "flags")
    if pathname is not None:
        s.addr3 = _encode_path(s, pathname)
    return s


def _set_value(s: Sqe, value: Buffer) -> Sqe:
    if isinstance(value, str):
        raise TypeError("an xattr value must be bytes-like, not str (encode it)")
    s.addr2, s.len = buffer(s, value, None, writable=False)
    return s


def _get_value(s: Sqe, size: int) -> Sqe:
    if _int(size, "size") < 0 or size > _XATTR_SIZE_MAX:
        raise ValueError(f"size must be within 0..{_XATTR_SIZE_MAX}, got {size}")
    out = XattrValue(size)
    if size:
        s.addr2 = s.pin(out.buffer, True).addr
    s.len = size
    s.out = out
    return s


@prep(Opcode.FSETXATTR)
def fsetxattr(fd: int, name: Union[str, bytes], value: Buffer, flags: int = 0) -> Sqe:
    """IORING_OP_FSETXATTR: fsetxattr(2) of attribute `name` (e.g. "user.x") on an open
    file; flags XATTR_CREATE / XATTR_REPLACE."""
    return _set_value(_xattr(Opcode.FSETXATTR, fd, name, flags, None), value)


@prep(Opcode.SETXATTR)
def setxattr(name: Union[str, bytes], value: Buffer, path: PathLike, flags: int = 0) -> Sqe:
    """IORING_OP_SETXATTR: setxattr(2) of attribute `name` on `path` (symlinks followed)."""
    return _set_value(_xattr(Opcode.SETXATTR, 0, name, flags, path), value)


@prep(Opcode.FGETXATTR)
def fgetxattr(fd: int, name: Union[str, bytes], size: int) -> Sqe:
    """IORING_OP_FGETXATTR: fgetxattr(2) into a fresh `size`-byte buffer; res is the value's
    length (ERANGE if it does not fit) and op.out.decode(op) its bytes."""
    return _get_value(_xattr(Opcode.FGETXATTR, fd, name, 0, None), size)


@prep(Opcode.GETXATTR)
def getxattr(name: Union[str, bytes], path: PathLike, size: int) -> Sqe:
    """IORING_OP_GETXATTR: getxattr(2) of `name` on `path`; as fgetxattr for the result."""
    return _get_value(_xattr(Opcode.GETXATTR, 0, name, 0, path), size)


# -- registered files, fd install, pipes -------------------------------------------------------


class FdArray:
    """An int array the kernel writes descriptors into: the two ends of a pipe (fds[0] reads,
    fds[1] writes; fixed-file slots for pipe_direct), or the slots files_update allocated."""

    __slots__ = ("array",)

    def __init__(self, fds: Iterable[int]) -> None:
        self.array = array("i", fds)

    @property
    def fds(self) -> tuple[int, ...]:
        return tuple(self.array)

    def __repr__(self) -> str:
        return f"<FdArray {self.fds}>"


class PipeFds(FdArray):
    """The two fds of pipe(): if the caller cancelled the op but the kernel still made the
    pipe, nobody will ever see them, so they are closed at the final CQE (fds become -1)."""

    __slots__ = ("discarded",)

    def __init__(self) -> None:
        super().__init__((-1, -1))
        self.discarded: tuple[int, ...] = ()

    def _finish(self, op) -> None:
        if op.cancel_reason is not None and op.res == 0:
            self.discarded = tuple(self.array)
            for fd in self.discarded:
                os.close(fd)
            self.array[0] = self.array[1] = -1


def _fd_list(fds: Iterable[int]) -> list[int]:
    if isinstance(fds, (str, bytes, bytearray, memoryview)) or not isinstance(fds, Iterable):
        raise TypeError(f"fds must be a sequence of ints, got {type(fds).__name__}")
    values = [check_fd(fd, "fds[]") for fd in fds]
    if not values:
        raise ValueError("fds must name at least one descriptor")
    return values


@prep(Opcode.FILES_UPDATE)
def files_update(fds: Iterable[int], offset: int) -> Sqe:
    """IORING_OP_FILES_UPDATE: put `fds` in the registered file table from slot `offset` on
    (-1 empties a slot, IORING_REGISTER_FILES_SKIP leaves it). With offset
    IORING_FILE_INDEX_ALLOC the kernel picks free slots and op.out.fds lists them. res is the
    number of slots updated."""
    if _int(offset, "offset") == IORING_FILE_INDEX_ALLOC:
        off = _U64  # liburing passes the offset as an int, sign-extended; the kernel keeps 32 bits
    else:
        off = _slot(offset, "offset")
    out = FdArray(_fd_list(fds))
    s = sqe(Opcode.FILES_UPDATE, -1, length=len(out.array), off=off)
    s.addr = s.pin(out.array, True).addr
    s.out = out
    return s


@prep(Opcode.FIXED_FD_INSTALL)
def fixed_fd_install(fd: int, flags: int = 0) -> Sqe:
    """IORING_OP_FIXED_FD_INSTALL: a regular (O_CLOEXEC unless IORING_FIXED_FD_NO_CLOEXEC)
    fd for the direct descriptor in slot `fd`; res is the new fd, which the caller owns."""
    s = sqe(Opcode.FIXED_FD_INSTALL, _slot(fd, "fd"))
    s.flags = SqeFlags.FIXED_FILE  # the kernel only accepts a fixed file here
    s.op_flags = check_u32(flags, "flags")
    return s


def _pipe(pipe_flags: int, out: FdArray | None = None) -> Sqe:
    out = PipeFds() if out is None else out
    s = sqe(Opcode.PIPE, 0)  # the kernel rejects any fd but 0
    s.addr = s.pin(out.array, True).addr
    s.op_flags = check_u32(pipe_flags, "pipe_flags")
    s.out = out
    return s


@prep(Opcode.PIPE)
def pipe(pipe_flags: int = 0) -> Sqe:
    """IORING_OP_PIPE: pipe2(2) with O_CLOEXEC/O_NONBLOCK/O_DIRECT; res is 0 and
    op.out.fds the (read, write) fds, which the caller owns."""
    return _pipe(pipe_flags)


@prep(Opcode.PIPE)
def pipe_direct(pipe_flags: int, file_index: int) -> Sqe:
    """IORING_OP_PIPE into the fixed-file table: the read end in slot `file_index` and the
    write end in the next one, or two free slots with IORING_FILE_INDEX_ALLOC (op.out.fds
    then holds the slots chosen)."""
    s = _pipe(pipe_flags, FdArray((-1, -1)))  # slots, not fds: nothing to close on cancel
    s.file_index = _target_slot(file_index)
    return s
