"""Ring methods generated from the prep helpers by ``python -m uring._gen``: do not edit.
Each queues its helper's SQE with the common SQE fields and returns the Op."""

from __future__ import annotations

from typing import Any, Callable

from uring._core import Op, Sqe
from uring.bufring import BufferRing
from uring.ops._common import accept_renamed
from uring.ops import cancels as _cancels
from uring.ops import fs as _fs
from uring.ops import misc as _misc
from uring.ops import net as _net
from uring.ops import poll as _poll
from uring.ops import rw as _rw
from uring.ops import timeouts as _timeouts
from typing import Iterable, Mapping, Sequence, Tuple, Union
from uring.ops._common import Buffer, BufferGroup, PathLike
from uring.ops.fs import OpenHow, Statx
from uring.ops.misc import SigInfo
from uring.ops.poll import Target
from uring.ops.timeouts import TimeSpec

__all__ = ["RingMethods"]


def _queue(ring: Any, sqe: Sqe, sqe_flags: int, ioprio: int | None, personality: int | None,
           buf_group: int | BufferRing | None, file_index: int | None, context: Any,
           callback: Callable[[Op, int, int], Any] | None) -> Op:
    if sqe_flags or ioprio is not None or personality is not None or buf_group is not None \
            or file_index is not None:
        sqe.set(flags=sqe_flags, ioprio=ioprio, personality=personality, buf_group=buf_group,
                file_index=file_index)
    op: Op = ring.queue(sqe, callback=callback, context=context)
    return op


class RingMethods:
    """Mixed into Ring: a method per prep helper the compiled core has no fast path for."""

    @accept_renamed
    def readv(self, fd: int, buffers: Sequence[Buffer], offset: int = 0, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_READV: preadv into a list of writable buffers.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _rw.readv(fd, buffers, offset),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    @accept_renamed
    def readv2(self, fd: int, buffers: Sequence[Buffer], offset: int = 0, flags: int = 0, *,
            sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_READV with preadv2 RWF_* flags.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _rw.readv2(fd, buffers, offset, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    @accept_renamed
    def writev(self, fd: int, buffers: Sequence[Buffer], offset: int = 0, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_WRITEV: pwritev from a list of buffers.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _rw.writev(fd, buffers, offset),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    @accept_renamed
    def writev2(self, fd: int, buffers: Sequence[Buffer], offset: int = 0, flags: int = 0, *,
            sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_WRITEV with pwritev2 RWF_* flags.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _rw.writev2(fd, buffers, offset, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    @accept_renamed
    def readv_fixed(self, fd: int, buffers: Sequence[Buffer], offset: int, flags: int,
            buf_index: int, *, sqe_flags: int = 0, ioprio: int | None = None,
            personality: int | None = None, buf_group: int | BufferRing | None = None,
            file_index: int | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_READV_FIXED: vectored read into buffers that all lie inside registered
        buffer `buf_index`.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _rw.readv_fixed(fd, buffers, offset, flags, buf_index),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    @accept_renamed
    def writev_fixed(self, fd: int, buffers: Sequence[Buffer], offset: int, flags: int,
            buf_index: int, *, sqe_flags: int = 0, ioprio: int | None = None,
            personality: int | None = None, buf_group: int | BufferRing | None = None,
            file_index: int | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_WRITEV_FIXED: vectored write from buffers that all lie inside
        registered buffer `buf_index`.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _rw.writev_fixed(fd, buffers, offset, flags, buf_index),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def fsync(self, fd: int, fsync_flags: int = 0, *, sqe_flags: int = 0, ioprio: int | None = None,
            personality: int | None = None, buf_group: int | BufferRing | None = None,
            file_index: int | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_FSYNC (IORING_FSYNC_DATASYNC in fsync_flags for fdatasync).

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _rw.fsync(fd, fsync_flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    @accept_renamed
    def sync_file_range(self, fd: int, len: int, offset: int, flags: int = 0, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_SYNC_FILE_RANGE: sync_file_range(2) of `len` bytes (32-bit; 0 means to
        the end of the file) from `offset`, with SYNC_FILE_RANGE_* flags.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _rw.sync_file_range(fd, len, offset, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    @accept_renamed
    def fallocate(self, fd: int, mode: int, offset: int, len: int, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_FALLOCATE: fallocate(2) of `len` bytes at `offset` with FALLOC_FL_* mode
        (0 allocates and extends the file).

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _rw.fallocate(fd, mode, offset, len),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    @accept_renamed
    def fadvise(self, fd: int, offset: int, len: int, advice: int, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_FADVISE: posix_fadvise(2) of `len` bytes (32-bit; 0 means to the end of
        the file) from `offset`; advice is an os.POSIX_FADV_* value.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _rw.fadvise(fd, offset, len, advice),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    @accept_renamed
    def fadvise64(self, fd: int, offset: int, len: int, advice: int, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_FADVISE with a 64-bit length (kernel 6.11+; older kernels answer EINVAL).

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _rw.fadvise64(fd, offset, len, advice),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def madvise(self, buf: Buffer, length: int | None, advice: int, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_MADVISE: madvise(2) over the first `length` bytes (None: all) of `buf`;
        advice is an mmap.MADV_* value. `buf` must start on a page boundary and the range cover
        whole pages (or end where its mmap.mmap ends), since the kernel rounds to pages; advice
        other than NORMAL/RANDOM/SEQUENTIAL/WILLNEED also needs a writable buffer. `buf` is
        pinned until the op completes.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _rw.madvise(buf, length, advice),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def madvise64(self, buf: Buffer, length: int | None, advice: int, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_MADVISE with a 64-bit length (kernel 6.11+; older kernels answer EINVAL);
        `buf` as for madvise().

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _rw.madvise64(buf, length, advice),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def ftruncate(self, fd: int, len: int, *, sqe_flags: int = 0, ioprio: int | None = None,
            personality: int | None = None, buf_group: int | BufferRing | None = None,
            file_index: int | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_FTRUNCATE: ftruncate(2) to `len` bytes (kernel 6.9+).

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _rw.ftruncate(fd, len),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def splice(self, fd_in: int, off_in: int, fd_out: int, off_out: int, nbytes: int,
            splice_flags: int = 0, *, sqe_flags: int = 0, ioprio: int | None = None,
            personality: int | None = None, buf_group: int | BufferRing | None = None,
            file_index: int | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_SPLICE: move up to `nbytes` from fd_in to fd_out, one of which must be a
        pipe. An offset of -1 means "no offset": a pipe needs it, and for a file it reads or
        writes at the file position and advances it. SPLICE_F_FD_IN_FIXED in splice_flags
        makes fd_in a registered-file index (IOSQE_FIXED_FILE does that for fd_out).

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _rw.splice(fd_in, off_in, fd_out, off_out, nbytes, splice_flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def tee(self, fd_in: int, fd_out: int, nbytes: int, splice_flags: int = 0, *,
            sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_TEE: duplicate up to `nbytes` from pipe fd_in into pipe fd_out without
        consuming them (SPLICE_F_FD_IN_FIXED: fd_in is a registered-file index).

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _rw.tee(fd_in, fd_out, nbytes, splice_flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def openat(self, dfd: int, path: PathLike, flags: int = 0, mode: int = 0, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_OPENAT: openat(2) of `path` relative to directory fd `dfd`; res is the fd.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _fs.openat(dfd, path, flags, mode),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def openat_direct(self, dfd: int, path: PathLike, flags: int, mode: int, file_index: int, *,
            sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_OPENAT into fixed-file slot `file_index` (or IORING_FILE_INDEX_ALLOC: res is
        the slot chosen; else res is 0). O_CLOEXEC is meaningless there and the kernel rejects it.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, context, callback set the common SQE fields
        (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called for each
        CQE.
        """
        return _queue(self, _fs.openat_direct(dfd, path, flags, mode, file_index),
                      sqe_flags, ioprio, personality, buf_group, None, context, callback)

    def open(self, path: PathLike, flags: int = 0, mode: int = 0, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_OPENAT relative to the current directory (open(2)); res is the fd.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _fs.open(path, flags, mode),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def open_direct(self, path: PathLike, flags: int, mode: int, file_index: int, *,
            sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_OPENAT relative to the current directory into fixed-file slot `file_index`.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, context, callback set the common SQE fields
        (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called for each
        CQE.
        """
        return _queue(self, _fs.open_direct(path, flags, mode, file_index),
                      sqe_flags, ioprio, personality, buf_group, None, context, callback)

    def openat2(self, dfd: int, path: PathLike, how: Union[OpenHow, Mapping[str, int]], *,
            sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_OPENAT2: openat2(2) with `how` an OpenHow or a dict of its fields
        (flags, mode, resolve); res is the fd.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _fs.openat2(dfd, path, how),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def openat2_direct(self, dfd: int, path: PathLike, how: Union[OpenHow, Mapping[str, int]],
            file_index: int, *, sqe_flags: int = 0, ioprio: int | None = None,
            personality: int | None = None, buf_group: int | BufferRing | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_OPENAT2 into fixed-file slot `file_index` (or IORING_FILE_INDEX_ALLOC).

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, context, callback set the common SQE fields
        (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called for each
        CQE.
        """
        return _queue(self, _fs.openat2_direct(dfd, path, how, file_index),
                      sqe_flags, ioprio, personality, buf_group, None, context, callback)

    def close_direct(self, file_index: int, *, sqe_flags: int = 0, ioprio: int | None = None,
            personality: int | None = None, buf_group: int | BufferRing | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_CLOSE of the direct descriptor in fixed-file slot `file_index`.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, context, callback set the common SQE fields
        (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called for each
        CQE.
        """
        return _queue(self, _fs.close_direct(file_index),
                      sqe_flags, ioprio, personality, buf_group, None, context, callback)

    def statx(self, dfd: int, path: PathLike, flags: int, mask: int,
            statxbuf: Buffer | Statx | None = None, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_STATX: statx(2) of `path` relative to `dfd` (AT_EMPTY_PATH with path "" for
        `dfd` itself). `statxbuf` (a writable buffer of 256+ bytes, or a Statx to reuse) defaults
        to a fresh one; op.out is the Statx to read once the op is done.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _fs.statx(dfd, path, flags, mask, statxbuf),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def renameat(self, olddfd: int, oldpath: PathLike, newdfd: int, newpath: PathLike,
            flags: int = 0, *, sqe_flags: int = 0, ioprio: int | None = None,
            personality: int | None = None, buf_group: int | BufferRing | None = None,
            file_index: int | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_RENAMEAT: renameat2(2), flags RENAME_NOREPLACE/EXCHANGE/WHITEOUT.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _fs.renameat(olddfd, oldpath, newdfd, newpath, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def rename(self, oldpath: PathLike, newpath: PathLike, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_RENAMEAT of paths relative to the current directory (rename(2)).

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _fs.rename(oldpath, newpath),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def unlinkat(self, dfd: int, path: PathLike, flags: int = 0, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_UNLINKAT: unlinkat(2); flags AT_REMOVEDIR removes an empty directory.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _fs.unlinkat(dfd, path, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def unlink(self, path: PathLike, flags: int = 0, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_UNLINKAT relative to the current directory.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _fs.unlink(path, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def mkdirat(self, dfd: int, path: PathLike, mode: int = 511, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_MKDIRAT: mkdirat(2); the process umask applies to `mode`.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _fs.mkdirat(dfd, path, mode),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def mkdir(self, path: PathLike, mode: int = 511, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_MKDIRAT relative to the current directory.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _fs.mkdir(path, mode),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def symlinkat(self, target: PathLike, newdirfd: int, linkpath: PathLike, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_SYMLINKAT: symlinkat(2), a link at `linkpath` (relative to `newdirfd`)
        whose content is `target` (which need not exist).

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _fs.symlinkat(target, newdirfd, linkpath),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def symlink(self, target: PathLike, linkpath: PathLike, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_SYMLINKAT relative to the current directory.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _fs.symlink(target, linkpath),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def linkat(self, olddfd: int, oldpath: PathLike, newdfd: int, newpath: PathLike, flags: int = 0,
            *, sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_LINKAT: linkat(2), flags AT_SYMLINK_FOLLOW / AT_EMPTY_PATH.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _fs.linkat(olddfd, oldpath, newdfd, newpath, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def link(self, oldpath: PathLike, newpath: PathLike, flags: int = 0, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_LINKAT relative to the current directory.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _fs.link(oldpath, newpath, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def fsetxattr(self, fd: int, name: Union[str, bytes], value: Buffer, flags: int = 0, *,
            sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_FSETXATTR: fsetxattr(2) of attribute `name` (e.g. "user.x") on an open
        file; flags XATTR_CREATE / XATTR_REPLACE.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _fs.fsetxattr(fd, name, value, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def setxattr(self, name: Union[str, bytes], value: Buffer, path: PathLike, flags: int = 0, *,
            sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_SETXATTR: setxattr(2) of attribute `name` on `path` (symlinks followed).

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _fs.setxattr(name, value, path, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def fgetxattr(self, fd: int, name: Union[str, bytes], size: int, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_FGETXATTR: fgetxattr(2) into a fresh `size`-byte buffer; res is the value's
        length (ERANGE if it does not fit) and op.out.decode(op) its bytes.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _fs.fgetxattr(fd, name, size),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def getxattr(self, name: Union[str, bytes], path: PathLike, size: int, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_GETXATTR: getxattr(2) of `name` on `path`; as fgetxattr for the result.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _fs.getxattr(name, path, size),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    @accept_renamed
    def files_update(self, fds: Iterable[int], offset: int, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_FILES_UPDATE: put `fds` in the registered file table from slot `offset` on
        (-1 empties a slot, IORING_REGISTER_FILES_SKIP leaves it). With offset
        IORING_FILE_INDEX_ALLOC the kernel picks free slots and op.out.fds lists them. res is the
        number of slots updated.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _fs.files_update(fds, offset),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def fixed_fd_install(self, fd: int, flags: int = 0, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_FIXED_FD_INSTALL: a regular (O_CLOEXEC unless IORING_FIXED_FD_NO_CLOEXEC)
        fd for the direct descriptor in slot `fd`; res is the new fd, which the caller owns.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _fs.fixed_fd_install(fd, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def pipe(self, pipe_flags: int = 0, *, sqe_flags: int = 0, ioprio: int | None = None,
            personality: int | None = None, buf_group: int | BufferRing | None = None,
            file_index: int | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_PIPE: pipe2(2) with O_CLOEXEC/O_NONBLOCK/O_DIRECT; res is 0 and
        op.out.fds the (read, write) fds, which the caller owns.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _fs.pipe(pipe_flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def pipe_direct(self, pipe_flags: int, file_index: int, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_PIPE into the fixed-file table: the read end in slot `file_index` and the
        write end in the next one, or two free slots with IORING_FILE_INDEX_ALLOC (op.out.fds
        then holds the slots chosen).

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, context, callback set the common SQE fields
        (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called for each
        CQE.
        """
        return _queue(self, _fs.pipe_direct(pipe_flags, file_index),
                      sqe_flags, ioprio, personality, buf_group, None, context, callback)

    def socket(self, domain: int, type: int, protocol: int = 0, flags: int = 0, *,
            sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_SOCKET: socket(2); res is the new fd. SOCK_NONBLOCK/SOCK_CLOEXEC go in
        `type` as for socket(2); `flags` is reserved (0).

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _net.socket(domain, type, protocol, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def socket_direct(self, domain: int, type: int, protocol: int, file_index: int, flags: int = 0,
            *, sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_SOCKET into registered-file slot `file_index` (a direct descriptor,
        used with IOSQE_FIXED_FILE); res is 0. IORING_FILE_INDEX_ALLOC picks a free slot.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, context, callback set the common SQE fields
        (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called for each
        CQE.
        """
        return _queue(self, _net.socket_direct(domain, type, protocol, file_index, flags),
                      sqe_flags, ioprio, personality, buf_group, None, context, callback)

    def socket_direct_alloc(self, domain: int, type: int, protocol: int, flags: int = 0, *,
            sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_SOCKET into a registered-file slot the kernel picks; res is the slot.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _net.socket_direct_alloc(domain, type, protocol, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def connect(self, fd: int, address: Any, family: int | None = None, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_CONNECT: connect(2) to a Python socket address; res is 0.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _net.connect(fd, address, family),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def bind(self, fd: int, address: Any, family: int | None = None, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_BIND: bind(2) to a Python socket address (Linux 6.11); res is 0.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _net.bind(fd, address, family),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def listen(self, fd: int, backlog: int, *, sqe_flags: int = 0, ioprio: int | None = None,
            personality: int | None = None, buf_group: int | BufferRing | None = None,
            file_index: int | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_LISTEN: listen(2) (Linux 6.11); res is 0.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _net.listen(fd, backlog),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def accept_direct(self, fd: int, file_index: int, flags: int = 0, *, want_address: bool = False,
            sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_ACCEPT into registered-file slot `file_index` (IORING_FILE_INDEX_ALLOC:
        the kernel picks one and res is its index; otherwise res is 0).

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, context, callback set the common SQE fields
        (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called for each
        CQE.
        """
        return _queue(self, _net.accept_direct(fd, file_index, flags, want_address=want_address),
                      sqe_flags, ioprio, personality, buf_group, None, context, callback)

    def multishot_accept(self, fd: int, flags: int = 0, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_ACCEPT with IORING_ACCEPT_MULTISHOT: one CQE with F_MORE and a new fd per
        incoming connection until cancelled or failed (the final CQE lacks F_MORE).

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _net.multishot_accept(fd, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def multishot_accept_direct(self, fd: int, flags: int = 0, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """Multishot accept into registered-file slots the kernel picks; each CQE's res is a
        slot index.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _net.multishot_accept_direct(fd, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def shutdown(self, fd: int, how: int, *, sqe_flags: int = 0, ioprio: int | None = None,
            personality: int | None = None, buf_group: int | BufferRing | None = None,
            file_index: int | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_SHUTDOWN: shutdown(2) with SHUT_RD, SHUT_WR or SHUT_RDWR; res is 0.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _net.shutdown(fd, how),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def sendto(self, fd: int, buf: Buffer, flags: int, address: Any, family: int | None = None, *,
            sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_SEND to `address` (a Python socket address): sendto(2).

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _net.sendto(fd, buf, flags, address, family),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def send_bundle(self, fd: int, nbytes: int, flags: int = 0, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_SEND with IORING_RECVSEND_BUNDLE: send the data of as many buffers of a
        provided-buffer group as are queued (at most `nbytes`, 0 for no limit) in one go.
        Pick the group with ``.set(buf_group=bgid)``; the CQE names the first buffer id.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _net.send_bundle(fd, nbytes, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def send_zc(self, fd: int, buf: Buffer, flags: int = 0, zc_flags: int = 0, *,
            sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_SEND_ZC: zero-copy send. Two CQEs: the result (with F_MORE), then the
        notification (F_NOTIF) once the kernel no longer reads `buf`; the op keeps `buf`
        pinned until the latter. zc_flags: IORING_RECVSEND_POLL_FIRST, IORING_SEND_ZC_REPORT_USAGE.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _net.send_zc(fd, buf, flags, zc_flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def send_zc_fixed(self, fd: int, buf: Buffer, flags: int, zc_flags: int, buf_index: int, *,
            sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_SEND_ZC from registered buffer `buf_index`; `buf` is (a slice of) that
        registered buffer.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _net.send_zc_fixed(fd, buf, flags, zc_flags, buf_index),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def sendmsg(self, fd: int, buffers: Sequence[Buffer], flags: int = 0, *, address: Any = None,
            ancillary: Iterable[tuple[int, int, Buffer]] | None = None, family: int | None = None,
            sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_SENDMSG: sendmsg(2) of a list of buffers, optionally to `address` and with
        ancillary (level, type, data) items such as (SOL_SOCKET, SCM_RIGHTS, fds).

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _net.sendmsg(fd, buffers, flags, address=address, ancillary=ancillary, family=family),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def sendmsg_zc(self, fd: int, buffers: Sequence[Buffer], flags: int = 0, *, address: Any = None,
            ancillary: Iterable[tuple[int, int, Buffer]] | None = None, family: int | None = None,
            sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_SENDMSG_ZC: zero-copy sendmsg; result CQE with F_MORE, then F_NOTIF.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _net.sendmsg_zc(fd, buffers, flags, address=address, ancillary=ancillary, family=family),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def sendmsg_zc_fixed(self, fd: int, buffers: Sequence[Buffer], flags: int, buf_index: int, *,
            address: Any = None, ancillary: Iterable[tuple[int, int, Buffer]] | None = None,
            family: int | None = None, sqe_flags: int = 0, ioprio: int | None = None,
            personality: int | None = None, buf_group: int | BufferRing | None = None,
            file_index: int | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_SENDMSG_ZC whose buffers lie in registered buffer `buf_index`.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _net.sendmsg_zc_fixed(fd, buffers, flags, buf_index, address=address, ancillary=ancillary, family=family),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def recv_zc(self, fd: int, len: int, ifq_idx: int, msg_flags: int = 0, *,
            poll_first: bool = False, sqe_flags: int = 0, ioprio: int | None = None,
            personality: int | None = None, buf_group: int | BufferRing | None = None,
            file_index: int | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_RECV_ZC: zero-copy receive through the zcrx interface queue `ifq_idx`
        registered with IORING_REGISTER_ZCRX_IFQ (NIC support needed); always multishot, each
        CQE (CQE32) pointing into the queue's area. liburing has no helper for it: the fields
        follow the kernel (ioprio holds RECV_MULTISHOT, the queue index shares file_index's
        slot, len caps the total, 0 for no cap). A ring without that queue answers -EINVAL.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _net.recv_zc(fd, len, ifq_idx, msg_flags, poll_first=poll_first),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def recvmsg(self, fd: int, buffers: Sequence[Buffer], flags: int = 0, *, name_size: int = 0,
            control_size: int = 0, sqe_flags: int = 0, ioprio: int | None = None,
            personality: int | None = None, buf_group: int | BufferRing | None = None,
            file_index: int | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_RECVMSG: recvmsg(2) into a list of writable buffers. name_size bytes
        (up to 128) receive the sender's address and control_size bytes the ancillary data
        (size it with socket.CMSG_SPACE); op.out decodes both and msg_flags after completion.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _net.recvmsg(fd, buffers, flags, name_size=name_size, control_size=control_size),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def recvmsg_multishot(self, fd: int, flags: int, buf_group: int | BufferGroup,
            name_size: int = 0, control_size: int = 0, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            file_index: int | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_RECVMSG with IORING_RECV_MULTISHOT: one CQE per message into buffers of
        group `buf_group`; each buffer starts with a struct io_uring_recvmsg_out header, the
        name and the control data. ``op.out.parse(bufring.get(bid, res))`` decodes one.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, file_index, context, callback set the common SQE fields
        (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called for each
        CQE.
        """
        return _queue(self, _net.recvmsg_multishot(fd, flags, buf_group, name_size, control_size),
                      sqe_flags, ioprio, personality, None, file_index, context, callback)

    def cmd_sock(self, cmd_op: int, fd: int, level: int = 0, optname: int = 0,
            optval: Buffer | int | None = None, optlen: int | None = None, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_URING_CMD on a socket: SOCKET_URING_OP_SIOCINQ/SIOCOUTQ (res is the byte
        count), GETSOCKOPT (into the writable buffer `optval`; res is the option length, only
        SOL_SOCKET) or SETSOCKOPT (`optval` a buffer, or an int sent as a C int).
        `optlen` defaults to the buffer's length.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _net.cmd_sock(cmd_op, fd, level, optname, optval, optlen),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def cmd_getsockname(self, fd: int, peer: bool = False, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """SOCKET_URING_OP_GETSOCKNAME: getsockname(2), or getpeername(2) with peer=True
        (Linux 6.19); op.out.address is the address after completion, res is 0.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _net.cmd_getsockname(fd, peer),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def poll_add(self, fd: int, poll_mask: int, *, sqe_flags: int = 0, ioprio: int | None = None,
            personality: int | None = None, buf_group: int | BufferRing | None = None,
            file_index: int | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_POLL_ADD: complete once `fd` is ready for any of the POLL* events in
        poll_mask (select.POLLIN, ...); res is the mask of events that fired.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _poll.poll_add(fd, poll_mask),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def poll_multishot(self, fd: int, poll_mask: int, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_POLL_ADD with IORING_POLL_ADD_MULTI: post a CQE (with F_MORE) for every
        readiness event until removed or failed; the final CQE comes without F_MORE. The
        F_MORE CQEs go to Op.callback, or pile up in Op.take_cqes().

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _poll.poll_multishot(fd, poll_mask),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def poll_remove(self, user_data: Target, *, sqe_flags: int = 0, ioprio: int | None = None,
            personality: int | None = None, buf_group: int | BufferRing | None = None,
            file_index: int | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_POLL_REMOVE: cancel the poll request `user_data` (its Op, or its raw
        user_data). Completes with 0, or ENOENT if no such poll is armed; the poll itself
        then completes with ECANCELED.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _poll.poll_remove(user_data),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def poll_update(self, old_user_data: Target, new_user_data: Target | None, poll_mask: int,
            flags: int, *, sqe_flags: int = 0, ioprio: int | None = None,
            personality: int | None = None, buf_group: int | BufferRing | None = None,
            file_index: int | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_POLL_REMOVE in update mode: change the armed poll `old_user_data` (its
        Op, or its raw user_data) in place. With IORING_POLL_UPDATE_EVENTS in flags its
        mask becomes poll_mask; a multishot poll stays armed. Completes with 0, or ENOENT
        if no such poll is armed.

        new_user_data only counts with IORING_POLL_UPDATE_USER_DATA, and then must name the
        same request: a poll's CQEs carry its user_data, which is how the ring finds its Op,
        so retargeting them would strand the Op forever.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _poll.poll_update(old_user_data, new_user_data, poll_mask, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def epoll_ctl(self, epfd: int, fd: int, op: int, events: int | None, data: int | None = None, *,
            sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_EPOLL_CTL: epoll_ctl(2) on the epoll instance epfd. op is EPOLL_CTL_ADD,
        EPOLL_CTL_MOD or EPOLL_CTL_DEL; events the EPOLL* mask (select.EPOLLIN, ...; may be
        None for EPOLL_CTL_DEL); data the 64-bit value epoll_wait reports with them
        (defaults to fd, as select.epoll does).

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _poll.epoll_ctl(epfd, fd, op, events, data),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def epoll_wait(self, fd: int, maxevents: int, flags: int = 0, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_EPOLL_WAIT (kernel 6.15+): wait for events on the epoll instance fd and
        complete with how many were reaped (at most maxevents). ``op.out.events`` lists them as
        (events, data) pairs.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _poll.epoll_wait(fd, maxevents, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def timeout(self, ts: TimeSpec, count: int = 0, flags: int = 0, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_TIMEOUT: completes with -ETIME when `ts` expires, or with 0 once `count`
        other completions have been posted (0: time only).

        `flags`: IORING_TIMEOUT_ABS (`ts` is a reading of the clock), _BOOTTIME or _REALTIME
        (the clock; monotonic by default), _ETIME_SUCCESS (expiry is not an error, so it does
        not break a chain), _MULTISHOT (fires every `ts`, `count` times or forever when 0: the
        CQEs carry IORING_CQE_F_MORE until the last), _IMMEDIATE_ARG (no timespec in memory).

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _timeouts.timeout(ts, count, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def timeout_update(self, ts: TimeSpec, user_data: Target, flags: int = 0, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_TIMEOUT_REMOVE with IORING_TIMEOUT_UPDATE: re-arm the pending TIMEOUT
        `user_data` to expire at `ts` instead (relative, or absolute with IORING_TIMEOUT_ABS).
        Add IORING_LINK_TIMEOUT_UPDATE to update a LINK_TIMEOUT instead (the Op of the
        LINK_TIMEOUT itself is the target).

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _timeouts.timeout_update(ts, user_data, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def link_timeout(self, ts: TimeSpec, flags: int = 0, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_LINK_TIMEOUT: bounds the request linked just before it (which must carry
        IOSQE_IO_LINK): if `ts` expires first, that request is cancelled (-ECANCELED, or -EINTR
        if it was running) and this CQE is -ETIME; otherwise this CQE is -ECANCELED.
        Ring.chain()/Ring.with_timeout() place it for you.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _timeouts.link_timeout(ts, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def msg_ring(self, fd: Any, len: int, data: int, flags: int = 0, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_MSG_RING (IORING_MSG_DATA): post a CQE with user_data=`data` and res=`len`
        on the ring `fd` (a ring fd or a Ring). Completes with 0 on the sending ring.

        The message arrives as a CQE that no op of the target owns: a uring Ring hands it to
        its `foreign_cqe_handler(user_data, res, flags)` (without one it only counts it in
        `stale_cqes`). Keep bit 63 of `data` clear: the core reserves it for its own CQEs.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _misc.msg_ring(fd, len, data, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def msg_ring_cqe_flags(self, fd: Any, len: int, data: int, flags: int, cqe_flags: int, *,
            sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_MSG_RING with IORING_MSG_RING_FLAGS_PASS: like msg_ring, and the target's
        CQE carries `cqe_flags` as its flags.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _misc.msg_ring_cqe_flags(fd, len, data, flags, cqe_flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def msg_ring_fd(self, fd: Any, source_fd: int, target_fd: int, data: int, flags: int = 0, *,
            sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_MSG_RING (IORING_MSG_SEND_FD): install this ring's fixed file `source_fd`
        into slot `target_fd` of the target ring's file table (IORING_FILE_INDEX_ALLOC: any free
        slot). Completes with 0, or the allocated slot; the target gets a CQE with user_data=
        `data` and the same res unless IORING_MSG_RING_CQE_SKIP is in `flags`.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _misc.msg_ring_fd(fd, source_fd, target_fd, data, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def msg_ring_fd_alloc(self, fd: Any, source_fd: int, data: int, flags: int = 0, *,
            sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """msg_ring_fd into a free slot the kernel picks: completes with the slot index.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _misc.msg_ring_fd_alloc(fd, source_fd, data, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def provide_buffers(self, buf: Buffer, len: int, nr: int, bgid: int, bid: int, *,
            sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_PROVIDE_BUFFERS: hand `nr` buffers of `len` bytes carved from `buf` to
        group `bgid` with ids `bid`, `bid+1`, ... Completes with 0.

        `buf` is wrapped in a ProvidedBuffers (returned as Op.out, with .get(bid, nbytes)),
        which keeps it pinned past the op: see ProvidedBuffers for when to close() it.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _misc.provide_buffers(buf, len, nr, bgid, bid),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def remove_buffers(self, nr: int, bgid: int | BufferGroup, *, sqe_flags: int = 0,
            ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_REMOVE_BUFFERS: drop up to `nr` buffers of group `bgid`; completes with the
        number removed (-ENOENT if the group does not exist).

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _misc.remove_buffers(nr, bgid),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    @accept_renamed
    def read_multishot(self, fd: int, nbytes: int, offset: int, buf_group: int | BufferGroup, *,
            sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            file_index: int | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_READ_MULTISHOT: read repeatedly from a pollable file (pipe, socket, ...)
        into buffers picked from group `buf_group`, one CQE (F_MORE | F_BUFFER) per read, until
        EOF (res 0), an error or the group running dry (-ENOBUFS); the final CQE has no F_MORE.
        `nbytes` 0 reads up to a whole buffer each time; Linux 6.18 rejects any other value
        with -EINVAL (liburing keeps the argument for kernels that may accept it).

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, file_index, context, callback set the common SQE fields
        (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called for each
        CQE.
        """
        return _queue(self, _misc.read_multishot(fd, nbytes, offset, buf_group),
                      sqe_flags, ioprio, personality, None, file_index, context, callback)

    def waitid(self, idtype: int, id: int, options: int, flags: int = 0,
            infop: SigInfo | Buffer | None = None, *, sqe_flags: int = 0, ioprio: int | None = None,
            personality: int | None = None, buf_group: int | BufferRing | None = None,
            file_index: int | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_WAITID: waitid(idtype, id, infop, options) without blocking a thread.
        Completes with 0; Op.out is the SigInfo the kernel filled (pid, status, code, ...).

        liburing's order is (idtype, id, infop, options, flags); infop moves last here because
        it is optional: a 128-byte siginfo buffer is allocated when none (or a SigInfo, or a
        writable buffer of at least 128 bytes) is given. `flags` must be 0 on current kernels.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _misc.waitid(idtype, id, options, flags, infop),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def futex_wait(self, futex: Buffer, val: int, mask: int, futex_flags: int, flags: int = 0, *,
            sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_FUTEX_WAIT: wait on the futex word at the start of the writable buffer
        `futex` (an array('I'), an mmap slice shared with another process, ...) while it holds
        `val`; completes with 0 when woken (with a wake `mask` overlapping this one), at once
        with -EAGAIN if the word is not `val`. `futex_flags`: FUTEX2_SIZE_U32 [| FUTEX2_PRIVATE].

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _misc.futex_wait(futex, val, mask, futex_flags, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def futex_wake(self, futex: Buffer, val: int, mask: int, futex_flags: int, flags: int = 0, *,
            sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_FUTEX_WAKE: wake up to `val` waiters of the futex whose mask overlaps
        `mask`; completes with the number woken.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _misc.futex_wake(futex, val, mask, futex_flags, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def futex_waitv(self, futexes: Sequence[Tuple[Buffer, int, int]], flags: int = 0, *,
            sqe_flags: int = 0, ioprio: int | None = None, personality: int | None = None,
            buf_group: int | BufferRing | None = None, file_index: int | None = None,
            context: Any = None, callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_FUTEX_WAITV: wait on several futexes at once, given as (buffer, val,
        futex_flags) tuples (liburing's nr_futex is their count); completes with the index of
        the one woken (-EAGAIN at once if a word does not hold its val).

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _misc.futex_waitv(futexes, flags),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def uring_cmd(self, cmd_op: int, fd: int, *, sqe_flags: int = 0, ioprio: int | None = None,
            personality: int | None = None, buf_group: int | BufferRing | None = None,
            file_index: int | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_URING_CMD: a file-specific command (sockets: SOCKET_URING_OP_*; NVMe,
        ublk, ...). Put the command payload (16 bytes) with sqe.set_cmd(payload).

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _misc.uring_cmd(cmd_op, fd),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def uring_cmd128(self, cmd_op: int, fd: int, *, sqe_flags: int = 0, ioprio: int | None = None,
            personality: int | None = None, buf_group: int | BufferRing | None = None,
            file_index: int | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_URING_CMD128: uring_cmd in a 128-byte SQE (80-byte payload via
        sqe.set_cmd); needs a ring with IORING_SETUP_SQE128.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _misc.uring_cmd128(cmd_op, fd),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)

    def nop128(self, *, sqe_flags: int = 0, ioprio: int | None = None,
            personality: int | None = None, buf_group: int | BufferRing | None = None,
            file_index: int | None = None, context: Any = None,
            callback: Callable[[Op, int, int], Any] | None = None) -> Op:
        """IORING_OP_NOP128: a NOP occupying a 128-byte SQE; completes with 0.

        Queues the SQE on this ring and returns its Op (nothing is submitted yet). Keywords
        sqe_flags, ioprio, personality, buf_group, file_index, context, callback set the common
        SQE fields (sqe_flags: IOSQE_* bits), op.context and the callback(op, res, flags) called
        for each CQE.
        """
        return _queue(self, _misc.nop128(),
                      sqe_flags, ioprio, personality, buf_group, file_index, context, callback)
