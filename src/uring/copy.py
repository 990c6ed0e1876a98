"""A pipelined file copy on io_uring: up to `qd` linked read -> write chains in flight, each
moving one chunk through its own buffer (the pattern of io_uring_linked_requests(7)).

    >>> from uring.copy import copyfile
    >>> copyfile("big.iso", "copy.iso", qd=32, chunk=128 * 1024, fsync=True)  # doctest: +SKIP
    734003200

A chain is IORING_OP_READ (IOSQE_IO_LINK) then IORING_OP_WRITE of the bytes read. When the
read comes back short (the file ended early, or shrank while copying) the kernel cancels the
write (-ECANCELED), exactly as a soft link must; the engine then writes what was read and
reads the rest again, so a short read never loses or duplicates data. The copy runs until
the source's end of file, so a file that grows while being copied is copied whole.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import Any, Union, cast

from uring._uapi import SqeFlags
from uring.ops.rw import fsync as _fsync_sqe

__all__ = ["copyfile", "DEFAULT_QD", "DEFAULT_CHUNK"]

DEFAULT_QD = 32
DEFAULT_CHUNK = 128 * 1024
_LINK = int(SqeFlags.IO_LINK)

PathOrFd = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]", int]


class _Slot:
    """One buffer and the request(s) using it: a read->write chain, or a lone retry."""

    __slots__ = ("buf", "off", "length", "read", "write", "wrote_from")

    def __init__(self, chunk: int) -> None:
        self.buf = bytearray(chunk)
        self.off = 0          # file offset of buf[0]
        self.length = 0       # bytes this slot is responsible for
        self.read: Any = None     # Op of the read, or None when only writing
        self.write: Any = None    # Op of the write
        self.wrote_from = 0   # offset in buf where the pending write starts


def _check_positive(name: str, value: int, upper: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not 1 <= value <= upper:
        raise ValueError(f"{name} must be in 1..{upper}, got {value}")
    return value


class _Copier:
    def __init__(self, ring, src: int, dst: int, qd: int, chunk: int) -> None:
        self.ring = ring
        self.src = src
        self.dst = dst
        self.chunk = chunk
        self.free = [_Slot(chunk) for _ in range(qd)]
        self.busy: list[_Slot] = []
        self.retry: list[tuple[int, int]] = []   # (offset, length) still to read
        self.next_off = 0                         # first offset never handed out
        self.limit = 0                            # hand out chunks below this
        self.eof: int | None = None               # where a read found the end
        self.probing = False                      # a read at `limit` is testing for growth
        self.copied = 0

    def _start(self, slot: _Slot, off: int, length: int) -> None:
        ring = self.ring
        ring.reserve(2)   # the two halves of a chain must reach the kernel in one submit
        slot.off, slot.length, slot.wrote_from = off, length, 0
        slot.read = ring.read(self.src, slot.buf, length, off, _LINK)
        slot.write = ring.write(self.dst, slot.buf, length, off)
        self.busy.append(slot)

    def _rewrite(self, slot: _Slot, start: int, end: int) -> None:
        slot.read = None
        slot.wrote_from = start
        slot.write = self.ring.write(self.dst, memoryview(slot.buf)[start:end], end - start, slot.off + start)
        self.busy.append(slot)

    def _next_range(self) -> tuple[int, int] | None:
        if self.retry:
            return self.retry.pop()
        if self.eof is not None:
            return None
        if self.next_off < self.limit:
            off = self.next_off
            length = min(self.chunk, self.limit - off)
            self.next_off += length
            return off, length
        if not self.probing and not self.busy:
            # Everything up to the size we knew is copied: read on until EOF says so.
            self.probing = True
            off = self.next_off
            self.next_off += self.chunk
            self.limit = self.next_off
            return off, self.chunk
        return None

    def _fill(self) -> None:
        while self.free:
            rng = self._next_range()
            if rng is None:
                return
            off, length = rng
            if self.eof is not None and off >= self.eof:
                continue
            self._start(self.free.pop(), off, length)

    def _reap(self, slot: _Slot) -> bool:
        """Account for a finished slot; False if it has more to write."""
        read, write = slot.read, slot.write
        if read is not None:
            got = read.res
            if got < 0:
                raise OSError(-got, f"read at offset {slot.off}: {os.strerror(-got)}")
            if slot.off + got >= self.limit and got == slot.length and self.probing:
                self.probing = False             # the file grew: keep going
            if got < slot.length:
                end = slot.off + got
                if got == 0 or self.probing:
                    self.eof = end if self.eof is None else min(self.eof, end)
                    self.probing = False
                else:
                    self.retry.append((end, slot.length - got))
                slot.read = None
                slot.length = got
                if got:
                    # The kernel cancelled the linked write (short read breaks the link).
                    if write.res != -errno.ECANCELED:
                        raise OSError(errno.EIO, f"write after a short read ended {write.res}, not -ECANCELED")
                    self._rewrite(slot, 0, got)
                    return False
                return True
        put = write.res
        if put < 0:
            raise OSError(-put, f"write at offset {slot.off + slot.wrote_from}: {os.strerror(-put)}")
        self.copied += put
        done_to = slot.wrote_from + put
        if done_to < slot.length:
            self._rewrite(slot, done_to, slot.length)
            return False
        return True

    def run(self, size: int) -> int:
        ring = self.ring
        self.limit = size
        self._fill()
        while self.busy:
            # Each busy slot owes at least one CQE; counting them (rather than trusting
            # len(busy)) keeps the wait exact when a flush inside reserve() reaped some.
            owing = sum(1 for slot in self.busy
                        if not slot.write.done or (slot.read is not None and not slot.read.done))
            if owing:
                ring.submit_and_wait(2 if owing > 1 else 1)
            still: list[_Slot] = []
            finished: list[_Slot] = []
            for slot in self.busy:
                if slot.write.done and (slot.read is None or slot.read.done):
                    finished.append(slot)
                else:
                    still.append(slot)
            self.busy = still
            for slot in finished:
                if self._reap(slot):
                    slot.read = slot.write = None
                    self.free.append(slot)
            self._fill()
        return self.copied


def copyfile(src: PathOrFd, dst: PathOrFd, *, qd: int = DEFAULT_QD, chunk: int = DEFAULT_CHUNK,
             fsync: bool = False, ring=None) -> int:
    """Copy regular file `src` to `dst` (paths or open fds) through io_uring with `qd`
    linked read->write chains of `chunk` bytes in flight. A `dst` path is created or
    truncated (mode 0o666 & ~umask, as shutil.copyfile). With fsync=True the data is
    flushed to stable storage before returning. Returns the number of bytes copied.

    Raises shutil.SameFileError if both name the same file, OSError for I/O errors and
    ValueError if `src` is not a regular file. `ring` may be a Ring to use (it must have at
    least 2 SQ entries); by default a private one of 2 * qd entries is made and closed."""
    import shutil

    _check_positive("qd", qd, 4096)
    _check_positive("chunk", chunk, 1 << 30)
    opened: list[int] = []
    own_ring = None
    try:
        src_fd = src if isinstance(src, int) and not isinstance(src, bool) else None
        if src_fd is None:
            src_fd = os.open(cast(Any, src), os.O_RDONLY | os.O_CLOEXEC)
            opened.append(src_fd)
        st = os.fstat(src_fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"source is not a regular file: {src!r}")
        dst_fd = dst if isinstance(dst, int) and not isinstance(dst, bool) else None
        if dst_fd is None:
            try:
                dst_st = os.stat(dst)
            except FileNotFoundError:
                dst_st = None
            if dst_st is not None and (dst_st.st_dev, dst_st.st_ino) == (st.st_dev, st.st_ino):
                raise shutil.SameFileError(f"{src!r} and {dst!r} are the same file")
            dst_fd = os.open(cast(Any, dst), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
            opened.append(dst_fd)
        else:
            dst_st = os.fstat(dst_fd)
            if (dst_st.st_dev, dst_st.st_ino) == (st.st_dev, st.st_ino):
                raise shutil.SameFileError(f"{src!r} and {dst!r} are the same file")
        if ring is None:
            from uring.ring import Ring
            ring = own_ring = Ring(max(2 * qd, 2))
        elif ring.sq_entries < 2:
            raise ValueError("the ring needs at least 2 SQ entries for a read->write chain")
        copied = _Copier(ring, src_fd, dst_fd, qd, chunk).run(st.st_size)
        if isinstance(dst, int) and not isinstance(dst, bool):
            os.ftruncate(dst_fd, copied)   # a caller's fd may hold older, longer content
        if fsync:
            op = ring.queue(_fsync_sqe(dst_fd))
            ring.wait_for(op)
        return copied
    finally:
        if own_ring is not None:
            own_ring.close()
        for fd in opened:
            os.close(fd)
