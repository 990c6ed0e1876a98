"""Prep helpers for readiness: poll (one-shot, multishot, remove, update) and epoll
(epoll_ctl, epoll_wait) through the ring."""

from __future__ import annotations

from typing import Union

from uring._core import Op, Sqe
from uring._uapi import EPOLL_EVENT, Opcode, PollFlags
from uring.ops._common import check_fd, check_int, check_u32, prep, sqe, struct_bytes

__all__ = ["poll_add", "poll_multishot", "poll_remove", "poll_update", "epoll_ctl",
           "epoll_wait", "EPOLL_CTL_ADD", "EPOLL_CTL_DEL", "EPOLL_CTL_MOD"]

# linux/eventpoll.h; the select module has the EPOLL* event bits but not these.
EPOLL_CTL_ADD = 1
EPOLL_CTL_DEL = 2
EPOLL_CTL_MOD = 3

_U64 = 0xFFFFFFFFFFFFFFFF
# epoll_wait(2) refuses more than INT_MAX / sizeof(struct epoll_event) events.
_EP_MAX_EVENTS = 0x7FFFFFFF // EPOLL_EVENT.size

Target = Union[Op, int]


def _user_data(target: Target, name: str) -> int:
    """The user_data naming a request: an Op's own, or a raw 64-bit value."""
    if isinstance(target, Op):
        return target.user_data
    if not isinstance(target, int) or isinstance(target, bool):
        raise TypeError(f"{name} must be an Op or an int user_data, got {type(target).__name__}")
    return check_int(target, name, 0, _U64)


def _poll_mask(poll_mask: int) -> int:
    # The kernel reads a 32-bit mask from sqe->poll32_events (the op_flags word). liburing
    # swaps its 16-bit halves on big-endian hosts only, so on little-endian the value is
    # stored as is.
    return check_u32(poll_mask, "poll_mask")


@prep(Opcode.POLL_ADD)
def poll_add(fd: int, poll_mask: int) -> Sqe:
    """IORING_OP_POLL_ADD: complete once `fd` is ready for any of the POLL* events in
    poll_mask (select.POLLIN, ...); res is the mask of events that fired."""
    s = sqe(Opcode.POLL_ADD, check_fd(fd))
    s.op_flags = _poll_mask(poll_mask)
    return s


@prep(Opcode.POLL_ADD)
def poll_multishot(fd: int, poll_mask: int) -> Sqe:
    """IORING_OP_POLL_ADD with IORING_POLL_ADD_MULTI: post a CQE (with F_MORE) for every
    readiness event until removed or failed; the final CQE comes without F_MORE. The
    F_MORE CQEs go to Op.callback, or pile up in Op.take_cqes()."""
    s = poll_add.unsealed(fd, poll_mask)  # type: ignore[attr-defined]
    s.len = PollFlags.ADD_MULTI
    return s


@prep(Opcode.POLL_REMOVE)
def poll_remove(user_data: Target) -> Sqe:
    """IORING_OP_POLL_REMOVE: cancel the poll request `user_data` (its Op, or its raw
    user_data). Completes with 0, or ENOENT if no such poll is armed; the poll itself
    then completes with ECANCELED."""
    s = sqe(Opcode.POLL_REMOVE, -1)
    s.addr = _user_data(user_data, "user_data")
    return s


@prep(Opcode.POLL_REMOVE)
def poll_update(old_user_data: Target, new_user_data: Target | None, poll_mask: int,
                flags: int) -> Sqe:
    """IORING_OP_POLL_REMOVE in update mode: change the armed poll `old_user_data` (its
    Op, or its raw user_data) in place. With IORING_POLL_UPDATE_EVENTS in flags its
    mask becomes poll_mask; a multishot poll stays armed. Completes with 0, or ENOENT
    if no such poll is armed.

    new_user_data only counts with IORING_POLL_UPDATE_USER_DATA, and then must name the
    same request: a poll's CQEs carry its user_data, which is how the ring finds its Op,
    so retargeting them would strand the Op forever."""
    flags = check_u32(flags, "flags")
    old = _user_data(old_user_data, "old_user_data")
    new = 0 if new_user_data is None else _user_data(new_user_data, "new_user_data")
    s = sqe(Opcode.POLL_REMOVE, -1)
    s.addr = old
    s.len = flags
    s.op_flags = _poll_mask(poll_mask)
    if flags & PollFlags.UPDATE_USER_DATA:
        if new != old:
            raise ValueError("IORING_POLL_UPDATE_USER_DATA would move the poll's CQEs away from "
                             "its Op; new_user_data must name the same request as old_user_data")
        s.off = new
    # Without UPDATE_USER_DATA the kernel rejects a non-zero sqe->off: leave it 0.
    return s


@prep(Opcode.EPOLL_CTL)
def epoll_ctl(epfd: int, fd: int, op: int, events: int | None, data: int | None = None) -> Sqe:
    """IORING_OP_EPOLL_CTL: epoll_ctl(2) on the epoll instance epfd. op is EPOLL_CTL_ADD,
    EPOLL_CTL_MOD or EPOLL_CTL_DEL; events the EPOLL* mask (select.EPOLLIN, ...; may be
    None for EPOLL_CTL_DEL); data the 64-bit value epoll_wait reports with them
    (defaults to fd, as select.epoll does)."""
    s = sqe(Opcode.EPOLL_CTL, check_fd(epfd, "epfd"))
    fd = check_fd(fd)
    check_int(op, "op (EPOLL_CTL_ADD, EPOLL_CTL_DEL or EPOLL_CTL_MOD)", EPOLL_CTL_ADD, EPOLL_CTL_MOD)
    s.len = op
    # The target fd travels in sqe->off; the kernel reads it back as an int.
    s.off = fd & 0xFFFFFFFF
    if events is None:
        if op != EPOLL_CTL_DEL:
            raise ValueError("events is required for EPOLL_CTL_ADD and EPOLL_CTL_MOD")
        if data is not None:
            raise ValueError("data needs an events mask")
        return s
    mask = check_u32(events, "events")
    # Signed or unsigned, as the C u64 takes either.
    value = check_int(fd if data is None else data, "data", -(1 << 63), _U64) & _U64
    s.addr = struct_bytes(s, EPOLL_EVENT.pack(mask, value))
    return s


class EpollEvents:
    """Op.out of epoll_wait: `.events` (or calling it with the op's res) gives the ready
    events as (events, data) pairs. Holds the array the kernel wrote them into."""

    __slots__ = ("array", "maxevents", "_res")

    def __init__(self, maxevents: int) -> None:
        self.maxevents = maxevents
        self.array = bytearray(EPOLL_EVENT.size * maxevents)
        self._res = 0

    def _finish(self, op) -> None:
        self._res = op.res

    @property
    def events(self) -> list[tuple[int, int]]:
        """The ready (events, data) pairs once the op completed (empty on error)."""
        return self(self._res)

    def __call__(self, res: int) -> list[tuple[int, int]]:
        """The first `res` events (none if res is an error)."""
        if res <= 0:
            return []
        count = min(res, self.maxevents)
        return [EPOLL_EVENT.unpack_from(self.array, i * EPOLL_EVENT.size) for i in range(count)]

    def __repr__(self) -> str:
        return f"<EpollEvents maxevents={self.maxevents}>"


@prep(Opcode.EPOLL_WAIT)
def epoll_wait(fd: int, maxevents: int, flags: int = 0) -> Sqe:
    """IORING_OP_EPOLL_WAIT (kernel 6.15+): wait for events on the epoll instance fd and
    complete with how many were reaped (at most maxevents). ``op.out.events`` lists them as
    (events, data) pairs."""
    s = sqe(Opcode.EPOLL_WAIT, check_fd(fd))
    check_int(maxevents, "maxevents", 1, _EP_MAX_EVENTS)
    s.op_flags = check_u32(flags, "flags")
    out = EpollEvents(maxevents)
    s.addr = s.pin(out.array, True).addr
    s.len = maxevents
    s.out = out
    return s

