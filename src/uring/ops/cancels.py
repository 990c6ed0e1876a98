"""Prep helpers for IORING_OP_ASYNC_CANCEL: cancel by op (user_data), by fd, by opcode,
first match or every match (liburing's io_uring_prep_cancel64/cancel/cancel_fd)."""

from __future__ import annotations

from typing import Union

from uring._core import Op, Sqe
from uring._uapi import CancelFlags, Opcode
from uring.ops._common import check_fd, prep, sqe

__all__ = ["cancel64", "cancel", "cancel_fd", "user_data_of"]

Target = Union[Op, int]
"""What a cancel or timeout-remove aims at: an Op, or a raw 64-bit user_data."""

_U64 = 0xFFFFFFFFFFFFFFFF
_KNOWN_CANCEL_FLAGS = int(CancelFlags.ALL | CancelFlags.FD | CancelFlags.ANY | CancelFlags.FD_FIXED
                          | CancelFlags.USERDATA | CancelFlags.OP)


def user_data_of(target: Target, name: str = "target") -> int:
    """The user_data the kernel matches for `target` (an Op or a raw u64)."""
    if isinstance(target, Op):
        return target.user_data
    if not isinstance(target, int) or isinstance(target, bool):
        raise TypeError(f"{name} must be an Op or an int user_data, got {type(target).__name__}")
    if target < 0 or target > _U64:
        raise ValueError(f"{name} user_data must fit in 64 bits unsigned, got {target}")
    return target


def check_cancel_flags(flags: int) -> int:
    """IORING_ASYNC_CANCEL_* bits, rejecting bits the ABI does not define."""
    if not isinstance(flags, int) or isinstance(flags, bool):
        raise TypeError(f"flags must be an int of IORING_ASYNC_CANCEL_* bits, got {type(flags).__name__}")
    if flags < 0 or flags & ~_KNOWN_CANCEL_FLAGS:
        raise ValueError(f"unknown IORING_ASYNC_CANCEL bits in {flags:#x}")
    return flags


def _opcode_key(s: Sqe, opcode: int | None) -> None:
    # IORING_ASYNC_CANCEL_OP matches on the opcode the kernel reads from sqe->len.
    if opcode is None:
        return
    if not isinstance(opcode, int) or isinstance(opcode, bool):
        raise TypeError(f"opcode must be an int (uring.uapi.Opcode), got {type(opcode).__name__}")
    if not 0 <= opcode <= 0xFF:
        raise ValueError(f"opcode out of range: {opcode}")
    s.len = opcode
    s.op_flags |= CancelFlags.OP


def _cancel(fd: int, user_data: int, flags: int, opcode: int | None) -> Sqe:
    s = sqe(Opcode.ASYNC_CANCEL, fd)
    s.addr = user_data
    s.op_flags = flags
    _opcode_key(s, opcode)
    if s.op_flags & CancelFlags.ANY and s.op_flags & (CancelFlags.FD | CancelFlags.FD_FIXED | CancelFlags.OP):
        # The kernel answers -EINVAL: ANY matches everything, other keys would contradict it.
        raise ValueError("IORING_ASYNC_CANCEL_ANY cannot be combined with an fd or opcode key")
    return s


@prep(Opcode.ASYNC_CANCEL)
def cancel64(user_data: int, flags: int = 0, *, opcode: int | None = None) -> Sqe:
    """IORING_OP_ASYNC_CANCEL of the request(s) whose user_data is `user_data`.

    `flags`: IORING_ASYNC_CANCEL_ALL (every match, the CQE res counts them), _ANY (match
    any request, ignoring user_data), _USERDATA. `opcode` adds IORING_ASYNC_CANCEL_OP:
    only requests of that opcode match. The cancel's own CQE is 0 (found and cancelled),
    -ENOENT (no match) or -EALREADY (running, cancellation attempted); the target still
    posts its own final CQE."""
    if check_cancel_flags(flags) & (CancelFlags.FD | CancelFlags.FD_FIXED):
        raise ValueError("IORING_ASYNC_CANCEL_FD/FD_FIXED match on an fd: use cancel_fd()")
    return _cancel(-1, user_data_of(user_data, "user_data"), flags, opcode)


@prep(Opcode.ASYNC_CANCEL)
def cancel(user_data: Target, flags: int = 0, *, opcode: int | None = None) -> Sqe:
    """IORING_OP_ASYNC_CANCEL of an Op (or a raw user_data): liburing's
    io_uring_prep_cancel, which takes the pointer that was the target's user_data;
    here the Op itself stands for it. Flags and results as for cancel64()."""
    return cancel64(user_data_of(user_data, "user_data"), flags, opcode=opcode)


@prep(Opcode.ASYNC_CANCEL)
def cancel_fd(fd: int, flags: int = 0, *, opcode: int | None = None) -> Sqe:
    """IORING_OP_ASYNC_CANCEL of the request(s) using file `fd` (IORING_ASYNC_CANCEL_FD
    is implied; add IORING_ASYNC_CANCEL_FD_FIXED when `fd` is a registered-file index,
    IORING_ASYNC_CANCEL_ALL to cancel every request on it)."""
    check_fd(fd)
    if fd < 0:
        raise ValueError(f"fd must be >= 0, got {fd}")
    return _cancel(fd, 0, check_cancel_flags(flags) | CancelFlags.FD, opcode)
