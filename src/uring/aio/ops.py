"""Every prep helper of `uring.ops` as an awaitable on the running loop's ring, plus fast
paths for the hot ones, link timeouts (`timeout=`), awaitable chains and safe cancellation."""

from __future__ import annotations

import asyncio
import errno
import os
from asyncio import CancelledError
from typing import Any, Awaitable, Callable

from uring import errors
from uring import ops as _ops
from uring._core import Op, Sqe
from uring._uapi import Opcode
from uring.aio._fast import OpFuture, nop, queue, read, recv, send, write
from uring.aio._driver import Driver, get_driver
from uring.chain import Chain, Member, Outcome

__all__ = ["TimedOut", "OpFuture", "submit", "chain", "read", "write", "send", "recv", "nop"]

# Ops whose result is a new fd in our table: one that arrives for a task that was cancelled
# meanwhile must be closed, not dropped.
_FD_MAKERS = {int(Opcode.OPENAT), int(Opcode.OPENAT2), int(Opcode.ACCEPT), int(Opcode.SOCKET)}


class TimedOut(errors.LinkTimedOut, TimeoutError):
    """An awaited op was cut short by its `timeout=` (an IORING_OP_LINK_TIMEOUT)."""


def _with_out(out: Any) -> Callable[[Op, int], Any]:
    return lambda op, res: (res, out)


def submit(sqe: Sqe, *, timeout: float | None = None) -> Awaitable[Any]:
    """Queue a prepared Sqe on the running loop's ring; await it for res (or (res, out)
    when the helper fills an out object, e.g. statx's Statx) or the OSError subclass the
    synchronous API raises. `timeout` (seconds) adds an IORING_OP_LINK_TIMEOUT in the
    kernel; TimedOut is raised when it fires. Cancelling the awaiting task cancels the op."""
    if timeout is not None:
        return _with_timeout(sqe, timeout)
    convert = None if sqe.out is None else _with_out(sqe.out)
    if sqe.opcode in _FD_MAKERS and sqe.file_index == 0:
        return _fd_guard(queue(sqe, convert))
    return queue(sqe, convert)


async def _fd_guard(fut: OpFuture) -> Any:
    try:
        return await fut
    except CancelledError:
        # Cancelled after the op completed but before the task resumed: the fd is ours.
        if fut.done() and not fut.cancelled() and fut.exception() is None:
            res = fut.result()
            os.close(res[0] if isinstance(res, tuple) else res)
        raise


async def _with_timeout(sqe: Sqe, timeout: float) -> Any:
    driver = get_driver()
    fut = driver.loop.create_future()
    out = sqe.out

    def done(ch: Chain) -> None:
        if fut.done():
            return
        member = ch[0]
        if member.outcome is Outcome.TIMED_OUT:
            fut.set_exception(TimedOut(errno.ETIME, f"{errors.opcode_name(member.opcode)} "
                                                    f"timed out after {timeout} s"))
        elif member.res >= 0:
            fut.set_result(member.res if out is None else (member.res, out))
        else:
            exc = member.exception()
            fut.set_exception(exc if exc is not None else OSError(-member.res, os.strerror(-member.res)))

    ch = driver.ring.chain(on_done=done)
    ch.add(sqe, timeout=timeout)
    ch.queue()
    if not driver.pending:
        driver.schedule()
    try:
        return await fut
    except CancelledError:
        _cancel_all(driver, ch.ops)
        raise


def _cancel_all(driver: Driver, ops: list[Op]) -> None:
    for op in ops:
        if op.done:
            if op.opcode in _FD_MAKERS and op.res >= 0 and op.cancel_reason is None:
                os.close(op.res)
        else:
            driver.cancel_op(op)


class AwaitableChain:
    """A linked chain on the running loop's ring that is awaited as a whole:

        ch = aio.chain()
        ch.read(src, buf, n, 0); ch.write(dst, buf, n, 0)
        members = await ch          # each with .outcome, .res, .result, like ring.chain()

    Every prep helper is a method (as on `Ring.chain()`); options as for Ring.chain().
    Cancelling the awaiting task cancels every member still in flight."""

    def __init__(self, **options: Any) -> None:
        self._driver = get_driver()
        self._fut = self._driver.loop.create_future()
        self.chain: Chain = self._driver.ring.chain(on_done=self._done, **options)

    def _done(self, ch: Chain) -> None:
        if not self._fut.done():
            self._fut.set_result(list(ch))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.chain, name)

    def __await__(self) -> Any:
        return self._run().__await__()

    async def _run(self) -> list[Member]:
        driver = self._driver
        if not self.chain.queued:
            self.chain.queue()
        if not driver.pending:
            driver.schedule()
        try:
            return await self._fut
        except CancelledError:
            _cancel_all(driver, self.chain.ops)
            raise


def chain(**options: Any) -> AwaitableChain:
    """A new awaitable linked chain (see AwaitableChain)."""
    return AwaitableChain(**options)


def _awaitable(name: str, prep: Callable[..., Sqe]) -> Callable[..., Awaitable[Any]]:
    def call(*args: Any, timeout: float | None = None, **kwargs: Any) -> Awaitable[Any]:
        return submit(prep(*args, **kwargs), timeout=timeout)
    call.__name__ = call.__qualname__ = name
    call.__doc__ = (f"Awaitable uring.ops.{name} on the running loop's ring (see submit()); "
                    f"`timeout=` seconds adds a link timeout.\n\n{prep.__doc__ or ''}")
    return call


def _iterator(name: str, prep: Callable[..., Sqe]) -> Callable[..., Any]:
    from uring.aio.multishot import Multishot

    def call(*args: Any, rearm: bool = True, **kwargs: Any) -> Any:
        # A BufferRing may stand for its group id, as in Ring.recv_multishot.
        args = tuple(getattr(a, "bgid", a) for a in args)
        kwargs = {k: getattr(v, "bgid", v) for k, v in kwargs.items()}
        return Multishot(lambda: prep(*args, **kwargs), rearm=rearm)
    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"uring.ops.{name} as an async iterator of Events (see uring.aio.Multishot).\n\n{prep.__doc__ or ''}"
    return call


# Every helper the fast paths above do not cover, generated from the ops table: multishot
# ones become async iterators, the others awaitables.
for _name, _prep in _ops.helpers().items():
    if _name not in globals():
        globals()[_name] = (_iterator if "multishot" in _name else _awaitable)(_name, _prep)
        __all__.append(_name)
