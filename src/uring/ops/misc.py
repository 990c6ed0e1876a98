"""Prep helpers for everything that is neither file, socket, poll, timeout nor cancel I/O:
messages between rings (MSG_RING), legacy provided buffers and the multishot read that
consumes them, waitid, futexes, uring_cmd passthrough and the 128-byte SQE ops."""

from __future__ import annotations

import mmap
import os
import struct
from typing import Any, Sequence, Tuple

from uring._core import Pin, Sqe
from uring._uapi import (
    CQE_BUFFER_SHIFT, FUTEX_WAITV, IORING_FILE_INDEX_ALLOC, CqeFlags, MsgRingCommand, MsgRingFlags,
    Opcode, SqeFlags,
)
from uring.ops._common import Buffer, BufferGroup, buffer_group, check_fd, check_u32, prep, sqe, struct_bytes
from uring.ops._common import offset as _offset

__all__ = [
    "msg_ring", "msg_ring_cqe_flags", "msg_ring_fd", "msg_ring_fd_alloc",
    "provide_buffers", "remove_buffers", "read_multishot", "ProvidedBuffers",
    "waitid", "SigInfo",
    "futex_wait", "futex_wake", "futex_waitv",
    "uring_cmd", "uring_cmd128", "nop128",
    "FUTEX2_SIZE_U8", "FUTEX2_SIZE_U16", "FUTEX2_SIZE_U32", "FUTEX2_SIZE_U64",
    "FUTEX2_NUMA", "FUTEX2_MPOL", "FUTEX2_PRIVATE", "FUTEX_BITSET_MATCH_ANY", "FUTEX_WAITV_MAX",
]

_U16 = 0xFFFF
_U64 = 0xFFFFFFFFFFFFFFFF

# include/uapi/linux/futex.h: the futex2 flags (futex_wait/futex_wake's futex_flags and
# struct futex_waitv.flags). The low two bits give the futex word's size.
FUTEX2_SIZE_U8 = 0x00
FUTEX2_SIZE_U16 = 0x01
FUTEX2_SIZE_U32 = 0x02
FUTEX2_SIZE_U64 = 0x03
FUTEX2_NUMA = 0x04
FUTEX2_MPOL = 0x08
FUTEX2_PRIVATE = 128
FUTEX_BITSET_MATCH_ANY = 0xFFFFFFFF
FUTEX_WAITV_MAX = 128
_FUTEX2_SIZE_MASK = 0x03
_FUTEX2_VALID = _FUTEX2_SIZE_MASK | FUTEX2_NUMA | FUTEX2_MPOL | FUTEX2_PRIVATE

# Largest single transfer the kernel performs (INT_MAX rounded down to a page): a provided
# buffer longer than this is silently truncated by the kernel, so we refuse it instead.
_MAX_RW_COUNT = 0x7FFFF000
# Buffer ids travel in the upper 16 bits of cqe->flags.
_MAX_BIDS = 1 << 16


def _check_u64(value: int, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0 or value > _U64:
        raise ValueError(f"{name} must fit in 64 bits unsigned, got {value}")
    return value


def _check_range(value: int, name: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < low or value > high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value}")
    return value


def _s32(value: int) -> int:
    """A u32 as the signed 32-bit value the SQE's s32 fields (file_index) store."""
    return value - (1 << 32) if value & 0x80000000 else value


# -- MSG_RING ------------------------------------------------------------------------------


def _ring_fd(s: Sqe, target: Any) -> int:
    """The target ring's fd from an int or a Ring-like object (kept alive with the op, so
    its fd cannot be closed and reused by another file before the kernel resolves it)."""
    if isinstance(target, int) and not isinstance(target, bool):
        return check_fd(target)
    fd = getattr(target, "fd", None)
    if fd is None:
        raise TypeError(f"fd must be a ring fd (int) or an object with a .fd, got {type(target).__name__}")
    check_fd(fd, "fd")
    if fd < 0:
        raise ValueError(f"the target ring {target!r} is closed")
    s.keep(target)
    return fd


def _msg_ring_flags(flags: int) -> int:
    check_u32(flags, "flags")
    unknown = flags & ~int(MsgRingFlags.CQE_SKIP | MsgRingFlags.FLAGS_PASS)
    if unknown:
        raise ValueError(f"unknown IORING_MSG_RING flag bits {unknown:#x}")
    return flags


def _msg_ring(command: int, fd: Any, length: int, data: int, flags: int) -> Sqe:
    s = sqe(Opcode.MSG_RING)
    s.fd = _ring_fd(s, fd)
    s.addr = command
    s.len = check_u32(length, "len")
    s.off = _check_u64(data, "data")
    s.op_flags = _msg_ring_flags(flags)
    return s


@prep(Opcode.MSG_RING)
def msg_ring(fd: Any, len: int, data: int, flags: int = 0) -> Sqe:
    """IORING_OP_MSG_RING (IORING_MSG_DATA): post a CQE with user_data=`data` and res=`len`
    on the ring `fd` (a ring fd or a Ring). Completes with 0 on the sending ring.

    The message arrives as a CQE that no op of the target owns: a uring Ring hands it to
    its `foreign_cqe_handler(user_data, res, flags)` (without one it only counts it in
    `stale_cqes`). Keep bit 63 of `data` clear: the core reserves it for its own CQEs."""
    return _msg_ring(MsgRingCommand.DATA, fd, len, data, flags)


@prep(Opcode.MSG_RING)
def msg_ring_cqe_flags(fd: Any, len: int, data: int, flags: int, cqe_flags: int) -> Sqe:
    """IORING_OP_MSG_RING with IORING_MSG_RING_FLAGS_PASS: like msg_ring, and the target's
    CQE carries `cqe_flags` as its flags."""
    s = _msg_ring(MsgRingCommand.DATA, fd, len, data, _msg_ring_flags(flags) | MsgRingFlags.FLAGS_PASS)
    s.file_index = _s32(check_u32(cqe_flags, "cqe_flags"))
    return s


def _target_slot(target_fd: int) -> int:
    """The file_index encoding of a fixed-file slot: index + 1, or the ALLOC sentinel."""
    if type(target_fd) is int and target_fd == IORING_FILE_INDEX_ALLOC:
        return _s32(IORING_FILE_INDEX_ALLOC)
    return _check_range(target_fd, "target_fd", 0, 0x7FFFFFFE) + 1


@prep(Opcode.MSG_RING)
def msg_ring_fd(fd: Any, source_fd: int, target_fd: int, data: int, flags: int = 0) -> Sqe:
    """IORING_OP_MSG_RING (IORING_MSG_SEND_FD): install this ring's fixed file `source_fd`
    into slot `target_fd` of the target ring's file table (IORING_FILE_INDEX_ALLOC: any free
    slot). Completes with 0, or the allocated slot; the target gets a CQE with user_data=
    `data` and the same res unless IORING_MSG_RING_CQE_SKIP is in `flags`."""
    s = _msg_ring(MsgRingCommand.SEND_FD, fd, 0, data, flags)
    s.addr3 = check_u32(source_fd, "source_fd")
    s.file_index = _target_slot(target_fd)
    return s


@prep(Opcode.MSG_RING)
def msg_ring_fd_alloc(fd: Any, source_fd: int, data: int, flags: int = 0) -> Sqe:
    """msg_ring_fd into a free slot the kernel picks: completes with the slot index."""
    return msg_ring_fd(fd, source_fd, IORING_FILE_INDEX_ALLOC, data, flags)


# -- legacy provided buffers -----------------------------------------------------------------

# Groups whose memory the kernel may still write into: a pool stays here from its first
# provide() until close(), so dropping the last user reference can never free memory
# under the kernel's feet (at worst it is kept until the process exits).
_LIVE: set = set()


class ProvidedBuffers:
    """The memory behind one group of legacy provided buffers (IORING_OP_PROVIDE_BUFFERS):
    `count` buffers of `size` bytes, buffer ids `bid` .. `bid + count - 1`, group `bgid`.

    `buf` is a writable buffer of at least size * count bytes; by default an anonymous
    mmap is allocated (page aligned, outside the Python heap).

    Lifetime: the kernel keeps the buffers' addresses after PROVIDE_BUFFERS completes and
    writes into them whenever an op with IOSQE_BUFFER_SELECT picks one, so the memory must
    outlive the op that provided it. From its first provide() the pool is pinned (and its
    memory kept) by this module until close(), which is only safe once the kernel holds
    none of its buffers: every one consumed, removed (REMOVE_BUFFERS), or the ring closed.
    A pool never closed is kept until the process exits rather than freed too early.
    As a context manager it closes on exit, so open it *before* the ring::

        with ProvidedBuffers(4096, 16, bgid=1) as pool, Ring() as ring:
            ring.run(pool.provide())
            ...
            bid, data = pool.from_cqe(op.res, op.cqe_flags)   # or pool.get(bid, nbytes)
    """

    def __init__(self, size: int, count: int, bgid: int, bid: int = 0, *, buf: Buffer | None = None) -> None:
        self.size = _check_range(size, "size", 1, _MAX_RW_COUNT)
        self.count = _check_range(count, "count", 1, _U16)
        self.bgid = _check_range(bgid, "bgid", 0, _U16)
        self.bid = _check_range(bid, "bid", 0, _U16)
        if bid + count > _MAX_BIDS:
            raise ValueError(f"buffer ids {bid}..{bid + count - 1} exceed the 16-bit bid space")
        total = size * count
        self._owned = buf is None
        memory = mmap.mmap(-1, total) if buf is None else buf
        # The pin keeps the memory from moving or shrinking (a pinned bytearray cannot be
        # resized, a pinned mmap cannot be closed) for as long as the pool lives.
        pin = Pin(memory, True)
        if pin.nbytes < total:
            raise ValueError(f"buf holds {pin.nbytes} bytes; {count} buffers of {size} need {total}")
        self._pin: Pin | None = pin
        self._memory = memory
        self._view: memoryview | None = memoryview(memory).cast("B")[:total]

    @property
    def addr(self) -> int:
        """Address of buffer `bid` (the first one)."""
        return self._live_pin().addr

    @property
    def closed(self) -> bool:
        return self._pin is None

    def _live_pin(self) -> Pin:
        if self._pin is None:
            raise ValueError(f"provided buffers bgid={self.bgid} are closed")
        return self._pin

    def _index(self, bid: int) -> int:
        _check_range(bid, "bid", self.bid, self.bid + self.count - 1)
        return bid - self.bid

    def provide(self, bid: int | None = None, nr: int | None = None) -> Sqe:
        """IORING_OP_PROVIDE_BUFFERS for all the buffers, or (to hand consumed buffers back)
        for `nr` (default 1) of them starting at `bid`. Completes with 0."""
        pin = self._live_pin()
        if bid is None:
            bid = self.bid
            if nr is None:
                nr = self.count
        elif nr is None:
            nr = 1
        first = self._index(bid)
        _check_range(nr, "nr", 1, self.count - first)
        s = sqe(Opcode.PROVIDE_BUFFERS, nr, pin.addr + first * self.size, self.size, bid)
        s.buf_group = self.bgid  # not Sqe.set(buf_group=): that would add IOSQE_BUFFER_SELECT
        s.keep(self)
        s.out = self
        _LIVE.add(self)
        return s

    def remove(self, nr: int | None = None) -> Sqe:
        """IORING_OP_REMOVE_BUFFERS for up to `nr` (default: count) buffers of this group;
        completes with how many were removed. close() the pool once none are left."""
        return remove_buffers(self.count if nr is None else nr, self.bgid)

    def get(self, bid: int, nbytes: int | None = None) -> memoryview:
        """The first `nbytes` (default: size) bytes of buffer `bid`: what the kernel wrote
        there, for the op whose CQE carried this bid with res = nbytes."""
        if self._view is None:
            raise ValueError(f"provided buffers bgid={self.bgid} are closed")
        start = self._index(bid) * self.size
        if nbytes is None:
            nbytes = self.size
        _check_range(nbytes, "nbytes", 0, self.size)
        return self._view[start:start + nbytes]

    def from_cqe(self, res: int, cqe_flags: int) -> tuple[int, memoryview]:
        """(buffer id, data view) for a CQE that consumed one of these buffers: a (res,
        flags) pair from Op.take_cqes(), or op.res and op.cqe_flags."""
        if res < 0:
            raise ValueError(f"the CQE carries an error (res={res}), not data")
        if not cqe_flags & CqeFlags.BUFFER:
            raise ValueError(f"the CQE (res={res}, flags={cqe_flags:#x}) has no IORING_CQE_F_BUFFER")
        bid = cqe_flags >> CQE_BUFFER_SHIFT
        return bid, self.get(bid, res)

    def close(self) -> None:
        """Let the memory go, only once the kernel holds none of these buffers (see the
        class docstring). Views from get()/from_cqe() must not be used afterwards."""
        _LIVE.discard(self)
        if self._pin is None:
            return
        self._pin = None
        view, self._view = self._view, None
        if view is not None:
            view.release()
        if self._owned:
            try:
                self._memory.close()
            except BufferError:
                pass  # a caller still holds a view from get(): the mmap goes with it
        self._memory = None

    def __enter__(self) -> "ProvidedBuffers":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._pin is None else f"addr={self._pin.addr:#x}"
        return (f"<ProvidedBuffers bgid={self.bgid} bids={self.bid}..{self.bid + self.count - 1} "
                f"size={self.size} {state}>")


@prep(Opcode.PROVIDE_BUFFERS)
def provide_buffers(buf: Buffer, len: int, nr: int, bgid: int, bid: int) -> Sqe:
    """IORING_OP_PROVIDE_BUFFERS: hand `nr` buffers of `len` bytes carved from `buf` to
    group `bgid` with ids `bid`, `bid+1`, ... Completes with 0.

    `buf` is wrapped in a ProvidedBuffers (returned as Op.out, with .get(bid, nbytes)),
    which keeps it pinned past the op: see ProvidedBuffers for when to close() it."""
    return ProvidedBuffers(len, nr, bgid, bid, buf=buf).provide()


@prep(Opcode.REMOVE_BUFFERS)
def remove_buffers(nr: int, bgid: int | BufferGroup) -> Sqe:
    """IORING_OP_REMOVE_BUFFERS: drop up to `nr` buffers of group `bgid`; completes with the
    number removed (-ENOENT if the group does not exist)."""
    s = sqe(Opcode.REMOVE_BUFFERS, _check_range(nr, "nr", 1, _U16))
    s.buf_group = buffer_group(bgid, "bgid")
    return s


@prep(Opcode.READ_MULTISHOT)
def read_multishot(fd: int, nbytes: int, offset: int, buf_group: int | BufferGroup) -> Sqe:
    """IORING_OP_READ_MULTISHOT: read repeatedly from a pollable file (pipe, socket, ...)
    into buffers picked from group `buf_group`, one CQE (F_MORE | F_BUFFER) per read, until
    EOF (res 0), an error or the group running dry (-ENOBUFS); the final CQE has no F_MORE.
    `nbytes` 0 reads up to a whole buffer each time; Linux 6.18 rejects any other value
    with -EINVAL (liburing keeps the argument for kernels that may accept it)."""
    s = sqe(Opcode.READ_MULTISHOT, check_fd(fd), 0, check_u32(nbytes, "nbytes"), _offset(offset))
    s.buf_group = buffer_group(buf_group)
    s.flags = SqeFlags.BUFFER_SELECT
    return s


# -- waitid ------------------------------------------------------------------------------------

# siginfo_t as the kernel fills it for waitid (x86_64 / any 64-bit): si_signo, si_errno,
# si_code, padding, then the _sigchld member: si_pid, si_uid, si_status.
_SIGINFO_CHLD = struct.Struct("=iii4xiIi")
_SIGINFO_SIZE = 128


class SigInfo:
    """The siginfo_t IORING_OP_WAITID fills (Op.out of waitid): read it after completion.
    Fields follow os.waitid_result; all are 0 if WNOHANG found no child to report."""

    __slots__ = ("buffer",)

    def __init__(self, buffer: Buffer | None = None) -> None:
        if buffer is None:
            buffer = bytearray(_SIGINFO_SIZE)
        nbytes = Pin(buffer, True).nbytes
        if nbytes < _SIGINFO_SIZE:
            raise ValueError(f"a siginfo_t needs {_SIGINFO_SIZE} bytes, the buffer has {nbytes}")
        self.buffer = buffer

    def _fields(self) -> tuple:
        return _SIGINFO_CHLD.unpack_from(self.buffer)

    @property
    def si_signo(self) -> int:
        return self._fields()[0]

    @property
    def si_errno(self) -> int:
        return self._fields()[1]

    @property
    def si_code(self) -> int:
        """CLD_EXITED, CLD_KILLED, CLD_DUMPED, CLD_STOPPED, CLD_TRAPPED or CLD_CONTINUED."""
        return self._fields()[2]

    @property
    def si_pid(self) -> int:
        return self._fields()[3]

    @property
    def si_uid(self) -> int:
        return self._fields()[4]

    @property
    def si_status(self) -> int:
        """The exit status (CLD_EXITED) or the signal number."""
        return self._fields()[5]

    def result(self) -> "os.waitid_result | None":
        """What os.waitid() would have returned: None when no child was reported."""
        signo, _errno, code, pid, uid, status = self._fields()
        if pid == 0:
            return None
        return os.waitid_result((pid, uid, signo, status, code))

    def __repr__(self) -> str:
        signo, _errno, code, pid, uid, status = self._fields()
        return f"<SigInfo si_pid={pid} si_uid={uid} si_signo={signo} si_status={status} si_code={code}>"


@prep(Opcode.WAITID)
def waitid(idtype: int, id: int, options: int, flags: int = 0, infop: SigInfo | Buffer | None = None) -> Sqe:
    """IORING_OP_WAITID: waitid(idtype, id, infop, options) without blocking a thread.
    Completes with 0; Op.out is the SigInfo the kernel filled (pid, status, code, ...).

    liburing's order is (idtype, id, infop, options, flags); infop moves last here because
    it is optional: a 128-byte siginfo buffer is allocated when none (or a SigInfo, or a
    writable buffer of at least 128 bytes) is given. `flags` must be 0 on current kernels."""
    info = infop if isinstance(infop, SigInfo) else SigInfo(infop)
    s = sqe(Opcode.WAITID, _check_range(id, "id", 0, 0x7FFFFFFF), 0, check_u32(idtype, "idtype"))
    s.file_index = _s32(check_u32(options, "options"))
    s.op_flags = check_u32(flags, "flags")
    s.off = s.pin(info.buffer, True).addr  # sqe->addr2: the siginfo_t pointer
    s.out = info
    return s


# -- futexes -----------------------------------------------------------------------------------


def _futex_flags(futex_flags: int) -> int:
    check_u32(futex_flags, "futex_flags")
    unknown = futex_flags & ~_FUTEX2_VALID
    if unknown:
        raise ValueError(f"unknown FUTEX2 flag bits {unknown:#x}")
    return futex_flags


def _futex_addr(s: Sqe, futex: Buffer, futex_flags: int) -> int:
    """Pin the futex word and return its address, checked for size and alignment."""
    size = 1 << (futex_flags & _FUTEX2_SIZE_MASK)
    pin = s.pin(futex, True)
    need = size * 2 if futex_flags & FUTEX2_NUMA else size  # NUMA: the node id follows the value
    if pin.nbytes < need:
        raise ValueError(f"the futex buffer has {pin.nbytes} bytes, a {size * 8}-bit futex needs {need}")
    if pin.addr % size:
        raise ValueError(f"the futex word at {pin.addr:#x} is not {size}-byte aligned")
    return pin.addr


def _futex_value(value: int, name: str, futex_flags: int) -> int:
    bits = 8 << (futex_flags & _FUTEX2_SIZE_MASK)
    _check_u64(value, name)
    if value >> bits:
        raise ValueError(f"{name}={value:#x} does not fit a {bits}-bit futex")
    return value


def _futex(opcode: int, futex: Buffer, val: int, mask: int, futex_flags: int, flags: int) -> Sqe:
    futex_flags = _futex_flags(futex_flags)
    s = sqe(opcode, futex_flags)
    s.off = _futex_value(val, "val", futex_flags)
    s.addr3 = _futex_value(mask, "mask", futex_flags)
    if mask == 0:
        raise ValueError("mask must not be 0: it would match no waiter (FUTEX_BITSET_MATCH_ANY matches all)")
    s.op_flags = check_u32(flags, "flags")
    s.addr = _futex_addr(s, futex, futex_flags)
    return s


@prep(Opcode.FUTEX_WAIT)
def futex_wait(futex: Buffer, val: int, mask: int, futex_flags: int, flags: int = 0) -> Sqe:
    """IORING_OP_FUTEX_WAIT: wait on the futex word at the start of the writable buffer
    `futex` (an array('I'), an mmap slice shared with another process, ...) while it holds
    `val`; completes with 0 when woken (with a wake `mask` overlapping this one), at once
    with -EAGAIN if the word is not `val`. `futex_flags`: FUTEX2_SIZE_U32 [| FUTEX2_PRIVATE]."""
    return _futex(Opcode.FUTEX_WAIT, futex, val, mask, futex_flags, flags)


@prep(Opcode.FUTEX_WAKE)
def futex_wake(futex: Buffer, val: int, mask: int, futex_flags: int, flags: int = 0) -> Sqe:
    """IORING_OP_FUTEX_WAKE: wake up to `val` waiters of the futex whose mask overlaps
    `mask`; completes with the number woken."""
    return _futex(Opcode.FUTEX_WAKE, futex, val, mask, futex_flags, flags)


@prep(Opcode.FUTEX_WAITV)
def futex_waitv(futexes: Sequence[Tuple[Buffer, int, int]], flags: int = 0) -> Sqe:
    """IORING_OP_FUTEX_WAITV: wait on several futexes at once, given as (buffer, val,
    futex_flags) tuples (liburing's nr_futex is their count); completes with the index of
    the one woken (-EAGAIN at once if a word does not hold its val)."""
    if isinstance(futexes, (bytes, bytearray, memoryview)):
        raise TypeError("futex_waitv takes a list of (buffer, val, futex_flags) tuples")
    entries = list(futexes)
    if not 1 <= len(entries) <= FUTEX_WAITV_MAX:
        raise ValueError(f"futex_waitv takes 1 to {FUTEX_WAITV_MAX} futexes, got {len(entries)}")
    s = sqe(Opcode.FUTEX_WAITV, 0)  # the kernel insists on fd 0
    array = bytearray(FUTEX_WAITV.size * len(entries))
    for i, entry in enumerate(entries):
        if not isinstance(entry, tuple) or len(entry) != 3:
            raise TypeError(f"futexes[{i}] must be a (buffer, val, futex_flags) tuple, got {entry!r}")
        futex, val, futex_flags = entry
        futex_flags = _futex_flags(futex_flags)
        val = _futex_value(val, f"futexes[{i}] val", futex_flags)
        FUTEX_WAITV.pack_into(array, i * FUTEX_WAITV.size, val, _futex_addr(s, futex, futex_flags),
                              futex_flags, 0)
    s.addr = struct_bytes(s, array)
    s.len = len(entries)
    s.op_flags = check_u32(flags, "flags")
    return s


# -- uring_cmd and 128-byte SQEs --------------------------------------------------------------


def _uring_cmd(opcode: int, cmd_op: int, fd: int) -> Sqe:
    # cmd_op is an int in liburing and a u32 in the kernel: ioctl-style numbers with the top
    # bit set may come either way.
    _check_range(cmd_op, "cmd_op", -0x80000000, 0xFFFFFFFF)
    s = sqe(opcode, check_fd(fd))
    s.off = cmd_op & 0xFFFFFFFF  # cmd_op is the low half of the off/addr2 union, __pad1 0
    return s


@prep(Opcode.URING_CMD)
def uring_cmd(cmd_op: int, fd: int) -> Sqe:
    """IORING_OP_URING_CMD: a file-specific command (sockets: SOCKET_URING_OP_*; NVMe,
    ublk, ...). Put the command payload (16 bytes) with sqe.set_cmd(payload)."""
    return _uring_cmd(Opcode.URING_CMD, cmd_op, fd)


@prep(Opcode.URING_CMD128)
def uring_cmd128(cmd_op: int, fd: int) -> Sqe:
    """IORING_OP_URING_CMD128: uring_cmd in a 128-byte SQE (80-byte payload via
    sqe.set_cmd); needs a ring with IORING_SETUP_SQE128."""
    s = _uring_cmd(Opcode.URING_CMD128, cmd_op, fd)
    s.big = True
    return s


@prep(Opcode.NOP128)
def nop128() -> Sqe:
    """IORING_OP_NOP128: a NOP occupying a 128-byte SQE; completes with 0."""
    s = sqe(Opcode.NOP128, -1)
    s.big = True
    return s
