"""Prep helpers for reading, writing and syncing files: read/write (plain, vectored,
fixed), fsync, sync_file_range, fallocate, fadvise, madvise, ftruncate, splice, tee."""

from __future__ import annotations

import mmap
from typing import Sequence

from uring._core import Pin, Sqe
from uring._uapi import SPLICE_F_FD_IN_FIXED, Opcode
from uring.ops._common import Buffer, buffer, check_fd, check_int, check_u32, iovecs, prep, sqe
# Several helpers take a parameter named `offset` (liburing's name): keep the encoder apart.
from uring.ops._common import offset as _file_offset

__all__ = ["nop", "read", "write", "readv", "readv2", "writev", "writev2", "read_fixed",
           "write_fixed", "readv_fixed", "writev_fixed", "fsync", "sync_file_range",
           "fallocate", "fadvise", "fadvise64", "madvise", "madvise64", "ftruncate", "splice",
           "tee",
           "SYNC_FILE_RANGE_WAIT_BEFORE", "SYNC_FILE_RANGE_WRITE", "SYNC_FILE_RANGE_WAIT_AFTER",
           "FALLOC_FL_KEEP_SIZE", "FALLOC_FL_PUNCH_HOLE", "FALLOC_FL_COLLAPSE_RANGE",
           "FALLOC_FL_ZERO_RANGE", "FALLOC_FL_INSERT_RANGE", "FALLOC_FL_UNSHARE_RANGE",
           "SPLICE_F_MOVE", "SPLICE_F_NONBLOCK", "SPLICE_F_MORE", "SPLICE_F_GIFT",
           "SPLICE_F_FD_IN_FIXED"]

# The os module lacks these (linux/fs.h, linux/falloc.h, linux/splice.h).
SYNC_FILE_RANGE_WAIT_BEFORE = 1
SYNC_FILE_RANGE_WRITE = 2
SYNC_FILE_RANGE_WAIT_AFTER = 4
FALLOC_FL_KEEP_SIZE = 0x01
FALLOC_FL_PUNCH_HOLE = 0x02
FALLOC_FL_COLLAPSE_RANGE = 0x08
FALLOC_FL_ZERO_RANGE = 0x10
FALLOC_FL_INSERT_RANGE = 0x20
FALLOC_FL_UNSHARE_RANGE = 0x40
SPLICE_F_MOVE = 0x01
SPLICE_F_NONBLOCK = 0x02
SPLICE_F_MORE = 0x04
SPLICE_F_GIFT = 0x08

_LOFF_MAX = 0x7FFFFFFFFFFFFFFF
PAGESIZE = mmap.PAGESIZE


def _loff(value: int, name: str) -> int:
    """A byte position or length the kernel reads as a non-negative loff_t."""
    return check_int(value, name, 0, _LOFF_MAX)


def _buf_index(value: int) -> int:
    return check_int(value, "buf_index", 0, 0xFFFF)


def _advice(value: int) -> int:
    # An int in the kernel (sqe->fadvise_advice): negative values are never valid advice.
    return check_int(value, "advice", 0, 0x7FFFFFFF)


@prep(Opcode.NOP)
def nop() -> Sqe:
    """IORING_OP_NOP: completes with 0."""
    return sqe(Opcode.NOP, fd=-1)


@prep(Opcode.READ)
def read(fd: int, buf: Buffer, nbytes: int | None = None, offset: int = 0) -> Sqe:
    """IORING_OP_READ: pread into a writable buffer (nbytes defaults to len(buf));
    offset=-1 reads at the file position and advances it."""
    s = sqe(Opcode.READ, check_fd(fd))
    s.off = _file_offset(offset)
    s.addr, s.len = buffer(s, buf, nbytes, writable=True)
    return s


@prep(Opcode.WRITE)
def write(fd: int, buf: Buffer, nbytes: int | None = None, offset: int = 0) -> Sqe:
    """IORING_OP_WRITE: pwrite from a bytes-like buffer; offset=-1 writes at the file
    position and advances it."""
    s = sqe(Opcode.WRITE, check_fd(fd))
    s.off = _file_offset(offset)
    s.addr, s.len = buffer(s, buf, nbytes, writable=False)
    return s


def _vectored(opcode: int, fd: int, buffers: Sequence[Buffer], offset: int, flags: int,
              writable: bool) -> Sqe:
    s = sqe(opcode, check_fd(fd))
    s.off = _file_offset(offset)
    s.op_flags = check_u32(flags, "flags")
    s.addr, s.len = iovecs(s, buffers, writable=writable)
    return s


@prep(Opcode.READV)
def readv(fd: int, buffers: Sequence[Buffer], offset: int = 0) -> Sqe:
    """IORING_OP_READV: preadv into a list of writable buffers."""
    return _vectored(Opcode.READV, fd, buffers, offset, 0, True)


@prep(Opcode.READV)
def readv2(fd: int, buffers: Sequence[Buffer], offset: int = 0, flags: int = 0) -> Sqe:
    """IORING_OP_READV with preadv2 RWF_* flags."""
    return _vectored(Opcode.READV, fd, buffers, offset, flags, True)


@prep(Opcode.WRITEV)
def writev(fd: int, buffers: Sequence[Buffer], offset: int = 0) -> Sqe:
    """IORING_OP_WRITEV: pwritev from a list of buffers."""
    return _vectored(Opcode.WRITEV, fd, buffers, offset, 0, False)


@prep(Opcode.WRITEV)
def writev2(fd: int, buffers: Sequence[Buffer], offset: int = 0, flags: int = 0) -> Sqe:
    """IORING_OP_WRITEV with pwritev2 RWF_* flags."""
    return _vectored(Opcode.WRITEV, fd, buffers, offset, flags, False)


def _fixed(opcode: int, fd: int, buf: Buffer, nbytes: int | None, offset: int, buf_index: int,
           writable: bool) -> Sqe:
    s = sqe(opcode, check_fd(fd))
    s.off = _file_offset(offset)
    s.buf_index = _buf_index(buf_index)
    s.addr, s.len = buffer(s, buf, nbytes, writable=writable)
    return s


@prep(Opcode.READ_FIXED)
def read_fixed(fd: int, buf: Buffer, nbytes: int | None, offset: int, buf_index: int) -> Sqe:
    """IORING_OP_READ_FIXED into `buf`, which must lie inside registered buffer
    `buf_index` (a memoryview slice of the registered object does)."""
    return _fixed(Opcode.READ_FIXED, fd, buf, nbytes, offset, buf_index, True)


@prep(Opcode.WRITE_FIXED)
def write_fixed(fd: int, buf: Buffer, nbytes: int | None, offset: int, buf_index: int) -> Sqe:
    """IORING_OP_WRITE_FIXED from `buf`, which must lie inside registered buffer
    `buf_index`."""
    return _fixed(Opcode.WRITE_FIXED, fd, buf, nbytes, offset, buf_index, False)


@prep(Opcode.READV_FIXED)
def readv_fixed(fd: int, buffers: Sequence[Buffer], offset: int, flags: int, buf_index: int) -> Sqe:
    """IORING_OP_READV_FIXED: vectored read into buffers that all lie inside registered
    buffer `buf_index`."""
    s = _vectored(Opcode.READV_FIXED, fd, buffers, offset, flags, True)
    s.buf_index = _buf_index(buf_index)
    return s


@prep(Opcode.WRITEV_FIXED)
def writev_fixed(fd: int, buffers: Sequence[Buffer], offset: int, flags: int, buf_index: int) -> Sqe:
    """IORING_OP_WRITEV_FIXED: vectored write from buffers that all lie inside
    registered buffer `buf_index`."""
    s = _vectored(Opcode.WRITEV_FIXED, fd, buffers, offset, flags, False)
    s.buf_index = _buf_index(buf_index)
    return s


@prep(Opcode.FSYNC)
def fsync(fd: int, fsync_flags: int = 0) -> Sqe:
    """IORING_OP_FSYNC (IORING_FSYNC_DATASYNC in fsync_flags for fdatasync)."""
    s = sqe(Opcode.FSYNC, check_fd(fd))
    s.op_flags = check_u32(fsync_flags, "fsync_flags")
    return s


@prep(Opcode.SYNC_FILE_RANGE)
def sync_file_range(fd: int, len: int, offset: int, flags: int = 0) -> Sqe:
    """IORING_OP_SYNC_FILE_RANGE: sync_file_range(2) of `len` bytes (32-bit; 0 means to
    the end of the file) from `offset`, with SYNC_FILE_RANGE_* flags."""
    s = sqe(Opcode.SYNC_FILE_RANGE, check_fd(fd))
    s.len = check_u32(len, "len")
    s.off = _loff(offset, "offset")
    s.op_flags = check_u32(flags, "flags")
    return s


@prep(Opcode.FALLOCATE)
def fallocate(fd: int, mode: int, offset: int, len: int) -> Sqe:
    """IORING_OP_FALLOCATE: fallocate(2) of `len` bytes at `offset` with FALLOC_FL_* mode
    (0 allocates and extends the file)."""
    s = sqe(Opcode.FALLOCATE, check_fd(fd))
    # The kernel reads the mode from sqe->len and the (64-bit) length from sqe->addr.
    s.len = check_u32(mode, "mode")
    s.off = _loff(offset, "offset")
    s.addr = _loff(len, "len")
    return s


def _fadvise(fd: int, offset: int, advice: int) -> Sqe:
    s = sqe(Opcode.FADVISE, check_fd(fd))
    s.off = _loff(offset, "offset")
    s.op_flags = _advice(advice)
    return s


@prep(Opcode.FADVISE)
def fadvise(fd: int, offset: int, len: int, advice: int) -> Sqe:
    """IORING_OP_FADVISE: posix_fadvise(2) of `len` bytes (32-bit; 0 means to the end of
    the file) from `offset`; advice is an os.POSIX_FADV_* value."""
    s = _fadvise(fd, offset, advice)
    s.len = check_u32(len, "len")
    return s


@prep(Opcode.FADVISE)
def fadvise64(fd: int, offset: int, len: int, advice: int) -> Sqe:
    """IORING_OP_FADVISE with a 64-bit length (kernel 6.11+; older kernels answer EINVAL)."""
    s = _fadvise(fd, offset, advice)
    # Newer kernels take a 64-bit length from sqe->addr and fall back to sqe->len if 0.
    s.addr = _loff(len, "len")
    return s


# MADV_NORMAL, _RANDOM, _SEQUENTIAL, _WILLNEED only hint at access patterns; every other
# advice may discard or change the contents (DONTNEED zeroes anonymous memory, FREE, REMOVE...).
_HINT_ONLY_ADVICE = frozenset((0, 1, 2, 3))


def _madvise(buf: Buffer, length: int | None, advice: int) -> tuple[Sqe, int, int]:
    """The SQE, address and length of a madvise over whole pages of `buf` only: the kernel
    rounds the range out to page boundaries, so a range that starts or ends inside a page
    would hand advice such as MADV_DONTNEED to bytes outside `buf` (another object's, or
    those a read-only view promised not to change)."""
    s = sqe(Opcode.MADVISE, -1)
    s.op_flags = _advice(advice)
    # The pin also stops an mmap from being closed or resized under the kernel.
    hint_only = advice in _HINT_ONLY_ADVICE
    try:
        pin = s.pin(buf, not hint_only)
    except TypeError as exc:
        if hint_only:
            raise
        raise TypeError(f"madvise advice {advice} may discard or change the memory: it needs a "
                        f"writable buffer, got {type(buf).__name__} ({exc})") from None
    nbytes = _region_length(length, pin.nbytes)
    if pin.addr % PAGESIZE:
        raise ValueError(f"madvise needs page-aligned memory (the kernel rounds to {PAGESIZE}-byte "
                         f"pages): this buffer starts {pin.addr % PAGESIZE} bytes into a page; "
                         "use an mmap.mmap or a slice of one at a page boundary")
    if nbytes % PAGESIZE and not _ends_its_mapping(pin, nbytes):
        raise ValueError(f"madvise of {nbytes} bytes would be rounded up to whole {PAGESIZE}-byte "
                         "pages, past the end of the buffer: give a multiple of the page size, "
                         "or an mmap.mmap's whole tail")
    return s, pin.addr, nbytes


def _ends_its_mapping(pin: Pin, nbytes: int) -> bool:
    """Whether the range ends where an mmap.mmap ends: the rest of that page is the mapping's
    own (mmap maps whole pages), so the kernel's rounding stays inside it."""
    base = pin.obj
    while isinstance(base, memoryview):
        base = base.obj
    if not isinstance(base, mmap.mmap):
        return False
    whole = Pin(base, False)
    return pin.addr + nbytes == whole.addr + whole.nbytes


def _region_length(length: int | None, available: int) -> int:
    return available if length is None else check_int(length, "length", 0, available)


@prep(Opcode.MADVISE)
def madvise(buf: Buffer, length: int | None, advice: int) -> Sqe:
    """IORING_OP_MADVISE: madvise(2) over the first `length` bytes (None: all) of `buf`;
    advice is an mmap.MADV_* value. `buf` must start on a page boundary and the range cover
    whole pages (or end where its mmap.mmap ends), since the kernel rounds to pages; advice
    other than NORMAL/RANDOM/SEQUENTIAL/WILLNEED also needs a writable buffer. `buf` is
    pinned until the op completes."""
    s, addr, nbytes = _madvise(buf, length, advice)
    s.addr = addr
    s.len = check_u32(nbytes, "length")
    return s


@prep(Opcode.MADVISE)
def madvise64(buf: Buffer, length: int | None, advice: int) -> Sqe:
    """IORING_OP_MADVISE with a 64-bit length (kernel 6.11+; older kernels answer EINVAL);
    `buf` as for madvise()."""
    s, addr, nbytes = _madvise(buf, length, advice)
    s.addr = addr
    # Newer kernels take a 64-bit length from sqe->off and fall back to sqe->len if 0.
    s.off = nbytes
    return s


@prep(Opcode.FTRUNCATE)
def ftruncate(fd: int, len: int) -> Sqe:
    """IORING_OP_FTRUNCATE: ftruncate(2) to `len` bytes (kernel 6.9+)."""
    s = sqe(Opcode.FTRUNCATE, check_fd(fd))
    s.off = _loff(len, "len")
    return s


def _splice_sqe(opcode: int, fd_in: int, fd_out: int, nbytes: int, splice_flags: int) -> Sqe:
    s = sqe(opcode, check_fd(fd_out, "fd_out"))
    s.len = check_u32(nbytes, "nbytes")
    s.op_flags = check_u32(splice_flags, "splice_flags")
    fd_in = check_fd(fd_in, "fd_in")
    if splice_flags & SPLICE_F_FD_IN_FIXED and fd_in < 0:
        raise ValueError(f"with SPLICE_F_FD_IN_FIXED fd_in is a registered-file index, got {fd_in}")
    s.splice_fd_in = fd_in
    return s


@prep(Opcode.SPLICE)
def splice(fd_in: int, off_in: int, fd_out: int, off_out: int, nbytes: int,
           splice_flags: int = 0) -> Sqe:
    """IORING_OP_SPLICE: move up to `nbytes` from fd_in to fd_out, one of which must be a
    pipe. An offset of -1 means "no offset": a pipe needs it, and for a file it reads or
    writes at the file position and advances it. SPLICE_F_FD_IN_FIXED in splice_flags
    makes fd_in a registered-file index (IOSQE_FIXED_FILE does that for fd_out)."""
    s = _splice_sqe(Opcode.SPLICE, fd_in, fd_out, nbytes, splice_flags)
    s.addr = _file_offset(off_in)      # sqe->splice_off_in
    s.off = _file_offset(off_out)
    return s


@prep(Opcode.TEE)
def tee(fd_in: int, fd_out: int, nbytes: int, splice_flags: int = 0) -> Sqe:
    """IORING_OP_TEE: duplicate up to `nbytes` from pipe fd_in into pipe fd_out without
    consuming them (SPLICE_F_FD_IN_FIXED: fd_in is a registered-file index)."""
    return _splice_sqe(Opcode.TEE, fd_in, fd_out, nbytes, splice_flags)
