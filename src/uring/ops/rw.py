"""Prep helpers for reading, writing and syncing files: read/write (plain, vectored,
fixed), fsync, sync_file_range, fallocate, fadvise, madvise, ftruncate, splice, tee."""

from __future__ import annotations

from typing import Sequence

from uring._core import Sqe
from uring._uapi import Opcode
from uring.ops._common import Buffer, buffer, check_fd, check_u32, iovecs, offset, prep, sqe

__all__ = ["nop", "read", "write", "readv", "readv2", "writev", "writev2", "read_fixed",
           "write_fixed", "readv_fixed", "writev_fixed", "fsync"]


@prep(Opcode.NOP)
def nop() -> Sqe:
    """IORING_OP_NOP: completes with 0."""
    return sqe(Opcode.NOP, fd=-1)


@prep(Opcode.READ)
def read(fd: int, buf: Buffer, nbytes: int | None = None, off: int = 0) -> Sqe:
    """IORING_OP_READ: pread into a writable buffer (nbytes defaults to len(buf))."""
    s = sqe(Opcode.READ, check_fd(fd))
    s.addr, s.len = buffer(s, buf, nbytes, writable=True)
    s.off = offset(off)
    return s


@prep(Opcode.WRITE)
def write(fd: int, buf: Buffer, nbytes: int | None = None, off: int = 0) -> Sqe:
    """IORING_OP_WRITE: pwrite from a bytes-like buffer."""
    s = sqe(Opcode.WRITE, check_fd(fd))
    s.addr, s.len = buffer(s, buf, nbytes, writable=False)
    s.off = offset(off)
    return s


def _vectored(opcode: int, fd: int, buffers: Sequence[Buffer], off: int, flags: int,
              writable: bool) -> Sqe:
    s = sqe(opcode, check_fd(fd))
    s.addr, s.len = iovecs(s, buffers, writable=writable)
    s.off = offset(off)
    s.op_flags = check_u32(flags, "flags")
    return s


@prep(Opcode.READV)
def readv(fd: int, buffers: Sequence[Buffer], off: int = 0) -> Sqe:
    """IORING_OP_READV: preadv into a list of writable buffers."""
    return _vectored(Opcode.READV, fd, buffers, off, 0, True)


@prep(Opcode.READV)
def readv2(fd: int, buffers: Sequence[Buffer], off: int = 0, flags: int = 0) -> Sqe:
    """IORING_OP_READV with preadv2 RWF_* flags."""
    return _vectored(Opcode.READV, fd, buffers, off, flags, True)


@prep(Opcode.WRITEV)
def writev(fd: int, buffers: Sequence[Buffer], off: int = 0) -> Sqe:
    """IORING_OP_WRITEV: pwritev from a list of buffers."""
    return _vectored(Opcode.WRITEV, fd, buffers, off, 0, False)


@prep(Opcode.WRITEV)
def writev2(fd: int, buffers: Sequence[Buffer], off: int = 0, flags: int = 0) -> Sqe:
    """IORING_OP_WRITEV with pwritev2 RWF_* flags."""
    return _vectored(Opcode.WRITEV, fd, buffers, off, flags, False)


def _fixed(opcode: int, fd: int, buf: Buffer, nbytes: int | None, off: int, buf_index: int,
           writable: bool) -> Sqe:
    s = sqe(opcode, check_fd(fd))
    s.addr, s.len = buffer(s, buf, nbytes, writable=writable)
    s.off = offset(off)
    if not 0 <= buf_index <= 0xFFFF:
        raise ValueError(f"buf_index out of range: {buf_index}")
    s.buf_index = buf_index
    return s


@prep(Opcode.READ_FIXED)
def read_fixed(fd: int, buf: Buffer, nbytes: int | None, off: int, buf_index: int) -> Sqe:
    """IORING_OP_READ_FIXED into (a slice of) registered buffer `buf_index`."""
    return _fixed(Opcode.READ_FIXED, fd, buf, nbytes, off, buf_index, True)


@prep(Opcode.WRITE_FIXED)
def write_fixed(fd: int, buf: Buffer, nbytes: int | None, off: int, buf_index: int) -> Sqe:
    """IORING_OP_WRITE_FIXED from (a slice of) registered buffer `buf_index`."""
    return _fixed(Opcode.WRITE_FIXED, fd, buf, nbytes, off, buf_index, False)


@prep(Opcode.READV_FIXED)
def readv_fixed(fd: int, buffers: Sequence[Buffer], off: int, flags: int, buf_index: int) -> Sqe:
    """IORING_OP_READV_FIXED: vectored read into registered buffer `buf_index`."""
    s = _vectored(Opcode.READV_FIXED, fd, buffers, off, flags, True)
    s.buf_index = buf_index
    return s


@prep(Opcode.WRITEV_FIXED)
def writev_fixed(fd: int, buffers: Sequence[Buffer], off: int, flags: int, buf_index: int) -> Sqe:
    """IORING_OP_WRITEV_FIXED: vectored write from registered buffer `buf_index`."""
    s = _vectored(Opcode.WRITEV_FIXED, fd, buffers, off, flags, False)
    s.buf_index = buf_index
    return s


@prep(Opcode.FSYNC)
def fsync(fd: int, fsync_flags: int = 0) -> Sqe:
    """IORING_OP_FSYNC (IORING_FSYNC_DATASYNC in fsync_flags for fdatasync)."""
    s = sqe(Opcode.FSYNC, check_fd(fd))
    s.op_flags = check_u32(fsync_flags, "fsync_flags")
    return s
