"""A pipelined file copy on io_uring: up to `qd` linked in -> out chains in flight, each
moving one chunk (the pattern of io_uring_linked_requests(7)), by one of three engines.

    >>> from uring.copy import copyfile
    >>> copyfile("big.iso", "copy.iso", fsync=True)  # doctest: +SKIP
    734003200

- ``splice``: SPLICE file -> pipe (IOSQE_IO_LINK) then SPLICE pipe -> file, a pipe per
  chain: the data stays in the kernel, as with cp's copy_file_range.
- ``direct``: O_DIRECT on both files, READ_FIXED -> WRITE_FIXED through page-aligned
  registered buffers: for cold or larger-than-memory files, which then neither pass
  through nor evict the page cache (the tail past the last whole block is cut by ftruncate).
- ``buffered``: READ -> WRITE through a bytearray per chain (works for any file pair).

``auto`` (the default) takes direct for a large file mostly absent from the page cache or
larger than half the available memory, else splice; either falls back to buffered when
the files refuse it. When an in-step comes back short (the file ended early, or shrank
while copying) the kernel cancels the linked out-step (-ECANCELED), as a soft link must;
the engine then writes what was moved and fetches the rest again, so a short step never
loses or duplicates data. The copy runs until the source's end of file, so a file that
grows while being copied is copied whole.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import mmap
import os
import stat
from typing import Any, Callable, Union, cast

from uring._uapi import SqeFlags
from uring.ops.rw import fsync as _fsync_sqe
from uring.ops.rw import splice as _splice_sqe

__all__ = ["copyfile", "choose_mode", "cached_fraction", "MODES", "DEFAULT_QD", "DEFAULT_CHUNK",
           "DEFAULTS"]

MODES = ("auto", "splice", "direct", "buffered")
DEFAULT_QD = 32
DEFAULT_CHUNK = 128 * 1024
# (qd, chunk) per engine when the caller gives none: splice moves up to a pipe's size
# (1 MiB is /proc/sys/fs/pipe-max-size's default) per step; direct wants big aligned I/O.
DEFAULTS = {"buffered": (DEFAULT_QD, DEFAULT_CHUNK), "splice": (8, 1 << 20), "direct": (16, 2 << 20)}
# auto picks direct only from this size on: below it the page cache is cheap either way.
DIRECT_MIN_SIZE = 64 << 20
_ALIGN = 4096
_LINK = int(SqeFlags.IO_LINK)
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
Progress = Callable[[int], None]

PathOrFd = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]", int]


class _Slot:
    """One buffer (or pipe) and the request(s) using it: an in->out chain, or a lone
    out-step finishing what an earlier one left."""

    __slots__ = ("buf", "index", "off", "length", "read", "write", "wrote_from")

    def __init__(self, buf: Any, index: int = 0) -> None:
        self.buf = buf        # bytearray, aligned mmap (direct) or (read end, write end) of a pipe
        self.index = index    # registered-buffer index (direct)
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
    """The buffered engine, and the bookkeeping every engine shares: subclasses change how
    a slot is made (_make_slot), how a chain starts (_start) and how a slot's bytes
    [start, end) go out alone (_rewrite)."""

    def __init__(self, ring, src: int, dst: int, qd: int, chunk: int,
                 progress: Progress | None = None) -> None:
        self.ring = ring
        self.src = src
        self.dst = dst
        self.chunk = chunk
        self.progress = progress
        self.slots: list[_Slot] = []
        self.free: list[_Slot] = []
        self.busy: list[_Slot] = []
        try:
            for i in range(qd):
                self.slots.append(self._make_slot(i))
        except BaseException:
            self.close()   # the slots made so far (pipes, mappings)
            raise
        self.free = list(self.slots)
        self.retry: list[tuple[int, int]] = []   # (offset, length) still to read
        self.next_off = 0                         # first offset never handed out
        self.limit = 0                            # hand out chunks below this
        self.eof: int | None = None               # where a read found the end
        self.probing = False                      # a read at `limit` is testing for growth
        self.copied = 0

    def _make_slot(self, index: int) -> _Slot:
        return _Slot(bytearray(self.chunk))

    def _short_is_eof(self, end: int, got: int) -> bool:
        """A short in-step ending at `end` found the end of the file (rather than a
        transient short read to retry from `end`)."""
        return got == 0 or self.probing

    def close(self) -> None:
        """Release what the slots hold (pipes, registrations)."""

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
                if self._short_is_eof(end, got):
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
        # The direct engine writes whole blocks past the end (cut later): count only data.
        self.copied += min(put, slot.length - slot.wrote_from)
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
            if self.progress is not None:
                self.progress(self.copied)
        return self.copied


class _SpliceCopier(_Copier):
    """File -> pipe -> file with SPLICE, one pipe per slot: the bytes never reach user space."""

    def _make_slot(self, index: int) -> _Slot:
        r, w = os.pipe2(os.O_CLOEXEC)
        try:
            got = fcntl.fcntl(w, _F_SETPIPE_SZ, self.chunk)
        except OSError:   # over pipe-max-size or the user's pipe quota: keep the default
            got = fcntl.fcntl(w, 1032)   # F_GETPIPE_SZ
        # A step longer than the pipe holds would come back short every time.
        self.chunk = min(self.chunk, got)
        return _Slot((r, w))

    def close(self) -> None:
        for slot in self.slots:
            for fd in slot.buf:
                os.close(fd)
        self.slots = self.free = self.busy = []

    def _start(self, slot: _Slot, off: int, length: int) -> None:
        ring = self.ring
        ring.reserve(2)
        r, w = slot.buf
        slot.off, slot.length, slot.wrote_from = off, length, 0
        slot.read = ring.queue(_splice_sqe(self.src, off, w, -1, length).set(flags=_LINK))
        slot.write = ring.queue(_splice_sqe(r, -1, self.dst, off, length))
        self.busy.append(slot)

    def _rewrite(self, slot: _Slot, start: int, end: int) -> None:
        # What the pipe still holds goes out: the bytes [start, end) of this slot's range.
        slot.read = None
        slot.wrote_from = start
        slot.write = self.ring.queue(_splice_sqe(slot.buf[0], -1, self.dst, slot.off + start, end - start))
        self.busy.append(slot)


class _DirectCopier(_Copier):
    """O_DIRECT on both files through page-aligned buffers, registered when the ring takes
    them (READ_FIXED/WRITE_FIXED), else plain READ/WRITE. Lengths are rounded up to whole
    blocks: the tail written past the source's end is cut by ftruncate afterwards."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fixed = False
        try:
            self.ring.register_buffers([slot.buf for slot in self.slots])
            self.fixed = True
        except OSError:   # a caller's ring with buffers of its own, or RLIMIT_MEMLOCK
            pass

    def _make_slot(self, index: int) -> _Slot:
        return _Slot(mmap.mmap(-1, self.chunk), index)

    def close(self) -> None:
        if self.fixed:
            self.ring.unregister_buffers()
        for slot in self.slots:
            slot.buf.close()
        self.slots = self.free = self.busy = []

    def _start(self, slot: _Slot, off: int, length: int) -> None:
        ring = self.ring
        ring.reserve(2)
        n = _round_up(length)
        # The kernel judges the read short against what was asked: the rounded length.
        slot.off, slot.length, slot.wrote_from = off, n, 0
        if self.fixed:
            slot.read = ring.read_fixed(self.src, slot.buf, n, off, slot.index, _LINK)
            slot.write = ring.write_fixed(self.dst, slot.buf, n, off, slot.index)
        else:
            slot.read = ring.read(self.src, slot.buf, n, off, _LINK)
            slot.write = ring.write(self.dst, slot.buf, n, off)
        self.busy.append(slot)

    def _short_is_eof(self, end: int, got: int) -> bool:
        # O_DIRECT cannot resume at an unaligned offset, and only the end of the file
        # cuts a read there.
        return bool(end % _ALIGN) or super()._short_is_eof(end, got)

    def _rewrite(self, slot: _Slot, start: int, end: int) -> None:
        if start % _ALIGN:
            raise OSError(errno.EIO, f"O_DIRECT write at offset {slot.off + start} came back "
                                     "short of a block boundary")
        slot.read = None
        slot.wrote_from = start
        n = _round_up(end - start)
        view = memoryview(slot.buf)[start:start + n]
        if self.fixed:
            slot.write = self.ring.write_fixed(self.dst, view, n, slot.off + start, slot.index)
        else:
            slot.write = self.ring.write(self.dst, view, n, slot.off + start)
        self.busy.append(slot)


def _round_up(n: int) -> int:
    return -(-n // _ALIGN) * _ALIGN


_ENGINES = {"buffered": _Copier, "splice": _SpliceCopier, "direct": _DirectCopier}


def cached_fraction(fd: int, size: int | None = None) -> float | None:
    """The share of the file's pages in the page cache (mincore(2) over a mapping of it),
    or None when it cannot be told (an empty file, a failed mmap)."""
    size = os.fstat(fd).st_size if size is None else size
    if size <= 0:
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    addr = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
    if addr in (None, ctypes.c_void_p(-1).value):
        return None
    try:
        pages = -(-size // mmap.PAGESIZE)
        vec = ctypes.create_string_buffer(pages)
        if libc.mincore(addr, size, vec) != 0:
            return None
        return sum(b & 1 for b in vec.raw[:pages]) / pages   # bit 0: page resident
    finally:
        libc.munmap(addr, size)


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def choose_mode(src_fd: int, size: int | None = None) -> str:
    """The engine `auto` uses for this source: splice, unless the copy would push a large
    share of the page cache out: direct for a file of DIRECT_MIN_SIZE or more that is
    larger than half the available memory, or larger than an eighth of it and mostly not
    cached (nobody is reading it, so caching it only evicts what others use).

    Speed alone never picks direct: its writes wait for the device, while cp's and the
    splice engine's end in the page cache (measured in README, "uring cp")."""
    size = os.fstat(src_fd).st_size if size is None else size
    avail = _available_memory()
    if size < DIRECT_MIN_SIZE or avail is None:
        return "splice"
    if size > avail // 2:
        return "direct"
    if size > avail // 8:
        cached = cached_fraction(src_fd, size)
        if cached is not None and cached < 0.5:
            return "direct"
    return "splice"


def copyfile(src: PathOrFd, dst: PathOrFd, *, qd: int | None = None, chunk: int | None = None,
             fsync: bool = False, ring=None, mode: str = "auto",
             progress: Progress | None = None, info: dict[str, Any] | None = None) -> int:
    """Copy regular file `src` to `dst` (paths or open fds) through io_uring with `qd`
    linked chains of `chunk` bytes in flight (defaults per engine: DEFAULTS). A `dst` path
    is created or truncated (mode 0o666 & ~umask, as shutil.copyfile). `mode` is one of
    MODES (see the module docstring). With fsync=True the data is flushed to stable
    storage before returning. `progress(bytes_copied)` is called as chains complete; an
    `info` dict gets the engine that did the copy under "mode" (after auto's choice and
    any fallback). Returns the number of bytes copied.

    Raises shutil.SameFileError if both name the same file, OSError for I/O errors and
    ValueError if `src` is not a regular file or an argument is out of range. `ring` may be
    a Ring to use (it must have at least 2 SQ entries); by default a private one of
    2 * qd entries is made and closed."""
    import shutil

    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if qd is not None:
        _check_positive("qd", qd, 4096)
    if chunk is not None:
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
        if mode == "auto":
            mode = choose_mode(src_fd, st.st_size)
        engine_qd = qd or DEFAULTS[mode][0]
        if ring is None:
            from uring.ring import Ring
            ring = own_ring = Ring(max(2 * (qd or max(q for q, _ in DEFAULTS.values())), 2))
        elif ring.sq_entries < 2:
            raise ValueError("the ring needs at least 2 SQ entries for a read->write chain")
        if fsync and st.st_size:
            # A durable copy pays for writeback now: reserving the extents first lets
            # chains that finish out of order still land in one contiguous run
            # (measured: fsync after 8 splice chains 1.19 s -> 0.75 s for 256 MiB).
            try:
                os.posix_fallocate(dst_fd, 0, st.st_size)
            except OSError:
                pass   # a filesystem without fallocate: copy unreserved
        copied = None
        if mode == "direct":
            copied = _copy_direct(ring, src_fd, dst_fd, st.st_size, engine_qd, chunk, progress, opened)
            if copied is None:
                mode = "splice"    # a filesystem without O_DIRECT
        if mode == "splice" and copied is None:
            copied = _run(_SpliceCopier, ring, src_fd, dst_fd, st.st_size, qd, chunk, progress)
            if copied is None:
                mode = "buffered"  # a file type that cannot splice
        if copied is None:
            copied = _run(_Copier, ring, src_fd, dst_fd, st.st_size, qd, chunk, progress, "buffered")
            assert copied is not None
        if info is not None:
            info["mode"] = mode
        if isinstance(dst, int) and not isinstance(dst, bool) or fsync:
            # A caller's fd may hold older, longer content; a reservation may outrun a
            # source that shrank meanwhile.
            os.ftruncate(dst_fd, copied)
        if fsync:
            op = ring.queue(_fsync_sqe(dst_fd))
            ring.wait_for(op)
        return copied
    finally:
        if own_ring is not None:
            own_ring.close()
        for fd in opened:
            os.close(fd)


def _run(engine: type[_Copier], ring, src: int, dst: int, size: int, qd: int | None,
         chunk: int | None, progress: Progress | None, name: str = "") -> int | None:
    """Run one engine; None when its first step was refused (EINVAL) before any byte was
    written, so the caller can try the next engine."""
    name = name or {_SpliceCopier: "splice", _DirectCopier: "direct"}[engine]
    dqd, dchunk = DEFAULTS[name]
    copier = engine(ring, src, dst, qd or dqd, chunk or dchunk, progress)
    try:
        return copier.run(size)
    except OSError as exc:
        if exc.errno == errno.EINVAL and copier.copied == 0 and engine is not _Copier:
            _drain(ring)
            return None
        raise
    finally:
        _drain(ring)
        copier.close()


def _drain(ring) -> None:
    """Wait out whatever an engine left in flight (after an error) before its buffers go."""
    while ring.in_flight:
        ring.submit_and_wait(1)


def _copy_direct(ring, src_fd: int, dst_fd: int, size: int, qd: int, chunk: int | None,
                 progress: Progress | None, opened: list[int]) -> int | None:
    """The direct engine on O_DIRECT reopenings of both files (through /proc/self/fd, so
    caller fds keep their flags); None if the filesystem refuses O_DIRECT."""
    for fd, mode in ((src_fd, os.O_RDONLY), (dst_fd, os.O_WRONLY)):
        try:
            opened.append(os.open(f"/proc/self/fd/{fd}", mode | os.O_DIRECT | os.O_CLOEXEC))
        except OSError as exc:
            if exc.errno == errno.EINVAL:
                return None
            raise
    s, d = opened[-2:]
    copied = _run(_DirectCopier, ring, s, d, size, qd, chunk and _round_up(chunk), progress)
    if copied is not None:
        os.ftruncate(dst_fd, copied)   # whole blocks were written past the end
    return copied
