"""Multishot ops as async iterators: one SQE, a CQE per event, ending on the final CQE;
re-armed after -ENOBUFS once the consumer asks for more (its buffers recycled by then)."""

from __future__ import annotations

import collections
import errno
from typing import Any, Callable, NamedTuple

from uring import ops as _ops
from uring._core import Op, Sqe
from uring.aio._fast import current_driver

__all__ = ["Event", "Multishot", "multishot", "accept_multishot"]

_F_MORE = 2
_F_BUFFER = 1


class Event(NamedTuple):
    """One CQE of a multishot op: res (fd, byte count, poll mask...), CQE flags, and the
    provided-buffer id when the CQE consumed one (else None)."""
    res: int
    flags: int
    buffer_id: int | None


class Multishot:
    """``async for ev in Multishot(make_sqe)``: yields an Event per CQE with res >= 0; ends
    (StopAsyncIteration) when the op's final CQE says it is over (res 0 at EOF counts as an
    event), raises the OSError of a final error. -ENOBUFS with `rearm=True` queues the op
    again the next time the consumer waits, instead of ending. aclose() (or leaving an
    `async for` early) cancels the op; fds an accept made after that are closed by the core."""

    def __init__(self, make_sqe: Callable[[], Sqe], *, rearm: bool = True) -> None:
        self._make = make_sqe
        self._rearm = rearm
        self._events: collections.deque[Event] = collections.deque()
        self._driver = current_driver()
        self._op: Op | None = None
        self._error: OSError | None = None
        self._finished = False
        self._needs_arm = True
        self._waiter: Any = None
        self.rearms = 0

    def _arm(self) -> None:
        self._needs_arm = False
        self._op = self._driver.ring.queue(self._make(), callback=self._on_cqe)
        if not self._driver.pending:
            self._driver.schedule()

    def _on_cqe(self, op: Op, res: int, flags: int) -> None:
        final = not flags & _F_MORE
        if res >= 0:
            self._events.append(Event(res, flags, flags >> 16 if flags & _F_BUFFER else None))
            if final:
                # Ended with a result (not EOF, not cancelled): the op can simply go on.
                self._needs_arm = self._rearm and res > 0 and op.cancel_reason is None
                self._finished = not self._needs_arm
        elif final:
            if res == -errno.ENOBUFS and self._rearm and op.cancel_reason is None:
                self._needs_arm = True
                self.rearms += 1
            else:
                self._finished = True
                if op.cancel_reason is None:
                    self._error = op.exception()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def __aiter__(self) -> "Multishot":
        return self

    async def __anext__(self) -> Event:
        while not self._events:
            if self._error is not None:
                err, self._error = self._error, None
                raise err
            if self._finished:
                raise StopAsyncIteration
            if self._needs_arm:
                self._arm()
            self._waiter = self._driver.loop.create_future()
            try:
                await self._waiter
            except BaseException:
                await self.aclose()
                raise
            finally:
                self._waiter = None
        return self._events.popleft()

    async def aclose(self) -> None:
        """Cancel the op (if still armed) and end the iteration."""
        op = self._op
        self._finished = True
        self._needs_arm = False
        if op is not None and not op.done:
            self._driver.cancel_op(op)


def multishot(prep: Callable[..., Sqe], *args: Any, rearm: bool = True, **kwargs: Any) -> Multishot:
    """An async iterator over the CQEs of any multishot prep helper."""
    return Multishot(lambda: prep(*args, **kwargs), rearm=rearm)


def accept_multishot(fd: int, flags: int = 0) -> Multishot:
    """One multishot IORING_OP_ACCEPT: an Event per connection, res its new fd (the same as
    uring.aio.multishot_accept)."""
    return multishot(_ops.multishot_accept, fd, flags)
