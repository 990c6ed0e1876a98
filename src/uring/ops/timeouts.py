"""Prep helpers for the timeout family: IORING_OP_TIMEOUT (relative or absolute, on the
monotonic, boot or real-time clock, completion count, multishot), IORING_OP_TIMEOUT_REMOVE
(remove, update a timeout or a linked timeout) and IORING_OP_LINK_TIMEOUT."""

from __future__ import annotations

from datetime import datetime
from typing import Union

from uring._core import Sqe
from uring._uapi import Opcode, TimeoutFlags
from uring.errors import seconds
from uring.ops._common import Timeout, check_u32, prep, sqe, timespec
from uring.ops.cancels import Target, user_data_of

__all__ = ["timeout", "timeout_remove", "timeout_update", "link_timeout"]

TimeSpec = Union[Timeout, datetime]
"""Relative: seconds (float/int) or a timedelta. With IORING_TIMEOUT_ABS: the clock's own
reading in seconds (time.monotonic() + 0.5, time.clock_gettime(CLOCK_BOOTTIME) + 1, ...) or,
for IORING_TIMEOUT_REALTIME, an aware or naive datetime."""

_KNOWN = 0
for _f in TimeoutFlags:
    _KNOWN |= int(_f)
del _f
_UPDATE_BITS = int(TimeoutFlags.UPDATE | TimeoutFlags.LINK_TIMEOUT_UPDATE)
_CLOCKS = int(TimeoutFlags.BOOTTIME | TimeoutFlags.REALTIME)


def _flags(flags: int, forbidden: int, what: str) -> int:
    check_u32(flags, "flags")
    if flags & ~_KNOWN:
        raise ValueError(f"unknown IORING_TIMEOUT bits in {flags:#x}")
    if flags & forbidden:
        raise ValueError(f"{TimeoutFlags(flags & forbidden)!r} is not valid for {what}")
    if flags & _CLOCKS == _CLOCKS:
        raise ValueError("IORING_TIMEOUT_BOOTTIME and IORING_TIMEOUT_REALTIME are exclusive")
    if flags & TimeoutFlags.IMMEDIATE_ARG and flags & TimeoutFlags.ABS:
        raise ValueError("IORING_TIMEOUT_IMMEDIATE_ARG carries a relative time only (not with ABS)")
    return flags


def _time_arg(s: Sqe, ts: TimeSpec, flags: int) -> int:
    """The SQE word for `ts`: a pinned timespec's address, or the nanoseconds themselves
    with IORING_TIMEOUT_IMMEDIATE_ARG."""
    if isinstance(ts, datetime):
        if not (flags & TimeoutFlags.ABS and flags & TimeoutFlags.REALTIME):
            raise ValueError("a datetime is a wall-clock instant: it needs "
                             "IORING_TIMEOUT_ABS | IORING_TIMEOUT_REALTIME")
        ts = ts.timestamp()
        if ts < 0:
            raise ValueError("a datetime before the epoch cannot be a timeout")
    if flags & TimeoutFlags.IMMEDIATE_ARG:
        ns = round(seconds(ts) * 1e9)
        if ns > 0xFFFFFFFFFFFFFFFF:
            raise ValueError(f"timeout {ts!r} does not fit 64-bit nanoseconds")
        return ns
    return timespec(s, ts)


@prep(Opcode.TIMEOUT)
def timeout(ts: TimeSpec, count: int = 0, flags: int = 0) -> Sqe:
    """IORING_OP_TIMEOUT: completes with -ETIME when `ts` expires, or with 0 once `count`
    other completions have been posted (0: time only).

    `flags`: IORING_TIMEOUT_ABS (`ts` is a reading of the clock), _BOOTTIME or _REALTIME
    (the clock; monotonic by default), _ETIME_SUCCESS (expiry is not an error, so it does
    not break a chain), _MULTISHOT (fires every `ts`, `count` times or forever when 0: the
    CQEs carry IORING_CQE_F_MORE until the last), _IMMEDIATE_ARG (no timespec in memory)."""
    flags = _flags(flags, _UPDATE_BITS, "timeout()")
    s = sqe(Opcode.TIMEOUT, -1, 0, 1, check_u32(count, "count"))
    s.addr = _time_arg(s, ts, flags)
    s.op_flags = flags
    return s


@prep(Opcode.TIMEOUT_REMOVE)
def timeout_remove(user_data: Target, flags: int = 0) -> Sqe:
    """IORING_OP_TIMEOUT_REMOVE: cancel the TIMEOUT `user_data` (an Op or a raw u64). Its CQE
    is 0 (the timeout then completes with -ECANCELED), -ENOENT or -EALREADY (it fired)."""
    flags = _flags(flags, _UPDATE_BITS, "timeout_remove(); use timeout_update()")
    s = sqe(Opcode.TIMEOUT_REMOVE, -1)
    s.addr = user_data_of(user_data, "user_data")
    s.op_flags = flags
    return s


@prep(Opcode.TIMEOUT_REMOVE)
def timeout_update(ts: TimeSpec, user_data: Target, flags: int = 0) -> Sqe:
    """IORING_OP_TIMEOUT_REMOVE with IORING_TIMEOUT_UPDATE: re-arm the pending TIMEOUT
    `user_data` to expire at `ts` instead (relative, or absolute with IORING_TIMEOUT_ABS).
    Add IORING_LINK_TIMEOUT_UPDATE to update a LINK_TIMEOUT instead (the Op of the
    LINK_TIMEOUT itself is the target)."""
    flags = _flags(flags, _CLOCKS | TimeoutFlags.MULTISHOT | TimeoutFlags.ETIME_SUCCESS,
                   "timeout_update()") | TimeoutFlags.UPDATE
    s = sqe(Opcode.TIMEOUT_REMOVE, -1)
    s.addr = user_data_of(user_data, "user_data")
    s.off = _time_arg(s, ts, flags)
    s.op_flags = flags
    return s


@prep(Opcode.LINK_TIMEOUT)
def link_timeout(ts: TimeSpec, flags: int = 0) -> Sqe:
    """IORING_OP_LINK_TIMEOUT: bounds the request linked just before it (which must carry
    IOSQE_IO_LINK): if `ts` expires first, that request is cancelled (-ECANCELED, or -EINTR
    if it was running) and this CQE is -ETIME; otherwise this CQE is -ECANCELED.
    Ring.chain()/Ring.with_timeout() place it for you."""
    flags = _flags(flags, _UPDATE_BITS | TimeoutFlags.MULTISHOT, "link_timeout()")
    s = sqe(Opcode.LINK_TIMEOUT, -1, 0, 1, 0)
    s.addr = _time_arg(s, ts, flags)
    s.op_flags = flags
    return s
