"""One io_uring per event loop and the bridge carrying its completions into the loop: a
flush scheduled once per loop iteration submits every queued SQE and reaps what finished."""

from __future__ import annotations

import asyncio
import os
import weakref
from typing import Any

from uring._uapi import SetupFlags
from uring.aio import _fast
from uring.errors import UnsupportedFeature
from uring.ring import Ring

__all__ = ["Driver", "get_driver", "get_ring", "configure"]

# Page-cached reads complete inline inside io_uring_enter only without DEFER_TASKRUN, so the
# flush that submits them can reap them at once; COOP+TASKRUN_FLAG avoid IPIs and tell the
# peek when the kernel holds completions back.
_PREFERRED = int(SetupFlags.SUBMIT_ALL | SetupFlags.COOP_TASKRUN | SetupFlags.TASKRUN_FLAG
                 | SetupFlags.SINGLE_ISSUER)
_config: dict[str, Any] = {"eager": 0, "entries": 1024, "flags": None, "sqpoll": False, "sq_thread_idle": None}
_drivers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Driver]" = weakref.WeakKeyDictionary()


class Driver(_fast.DriverBase):
    """The ring of one running loop. `pending` is True while a flush is scheduled (and
    always on a loop that owns the ring and submits before it waits), so queuing an op costs
    one C field test: ``if not d.pending: d.schedule()``."""

    __slots__ = ("owned", "efd", "pid", "_finalizer", "__weakref__")
    # The hot fields (loop, ring, pending, dispatching, credit...) are DriverBase's C fields.

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.flush_callback = self._flush
        self.pid = os.getpid()
        self.efd = -1
        # True while our own flush/reader dispatches CQEs: a callback then runs outside any
        # task, so a completed op may wake its task at once instead of via call_soon.
        self.dispatching = False
        self.credit = _config["eager"]
        hook = getattr(loop, "_uring_ring", None)
        if hook is not None:
            # The io_uring event loop submits before each wait and dispatches CQEs itself.
            self._bind(hook())
            self.owned = False
            self.pending = True
            self.credit = 0
            self._finalizer = None
            attach = getattr(loop, "_uring_attach_aio", None)
            if attach is not None:
                # The loop sets `dispatching` around each of its waits: ops completed there
                # wake their tasks at once instead of through call_soon.
                attach(self)
            return
        add_reader = getattr(loop, "add_reader", None)
        if add_reader is None:
            raise RuntimeError(f"uring.aio needs a loop that can watch file descriptors "
                               f"(add_reader); {type(loop).__name__} cannot")
        self._bind(_new_ring())
        self.owned = True
        self.pending = False
        efd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        try:
            self.ring.register_eventfd(efd)
            add_reader(efd, self._on_ready)
        except NotImplementedError:
            os.close(efd)
            self.ring.close()
            raise RuntimeError(f"uring.aio needs a loop that can watch file descriptors "
                               f"(add_reader); {type(loop).__name__} cannot") from None
        except BaseException:
            os.close(efd)
            self.ring.close()
            raise
        self.efd = efd
        self._finalizer = weakref.finalize(loop, _close_ring, self.ring, efd)
        _hook_close(loop)

    def _flush(self) -> None:
        ring = self.ring
        self.pending = False
        self.credit = _config["eager"]
        if ring.closed:
            return
        # Muted while we submit and reap ourselves: reads that finish inside the enter would
        # otherwise wake the reader for CQEs this very callback consumes.
        ring.cq_eventfd_enabled = False
        self.dispatching = True
        try:
            ring.submit()
            _drain(ring)
        finally:
            self.dispatching = False
            if not ring.closed:
                ring.cq_eventfd_enabled = True
        if not ring.closed and ring.cq_ready():
            self._on_ready()   # posted between the peek and the unmute: no signal came for it

    def _on_ready(self) -> None:
        try:
            os.eventfd_read(self.efd)
        except BlockingIOError:
            pass
        if not self.ring.closed:
            self.dispatching = True
            try:
                _drain(self.ring)
            finally:
                self.dispatching = False

    def cancel_op(self, op: Any) -> None:
        """ASYNC_CANCEL for `op` (it still posts its own final CQE; its buffers stay pinned)."""
        if not self.ring.closed and not op.done:
            self.ring.cancel(op)
            if not self.pending:
                self.schedule()

    def close(self) -> None:
        """Stop watching, cancel and drain whatever is in flight, close the ring."""
        _drivers.pop(self.loop, None)
        _fast._forget()
        if not self.owned:
            return
        if self.efd >= 0 and not self.loop.is_closed():
            try:
                self.loop.remove_reader(self.efd)
            except Exception:
                pass
        if self._finalizer is not None:
            self._finalizer()   # closes the ring (drained) and the eventfd, once


_HELD_BACK = 2 | 4   # IORING_SQ_CQ_OVERFLOW | IORING_SQ_TASKRUN


def _drain(ring: Ring) -> None:
    """Reap everything, including CQEs the kernel held back (an overflowed CQ, task work):
    no eventfd signal will come again for those."""
    while ring.peek() and not ring.closed and ring.sq_flags & _HELD_BACK:
        pass
    if not ring.closed and ring.sq_flags & _HELD_BACK:
        ring.peek()


def _close_ring(ring: Ring, efd: int) -> None:
    try:
        if not ring.closed:
            ring.close()
    finally:
        os.close(efd)


def _hook_close(loop: asyncio.AbstractEventLoop) -> None:
    """asyncio has no loop-close hook: wrap the instance's close so the ring is drained
    and closed while the loop can still run callbacks (weakref.finalize is the backstop).
    The wrapper holds the loop weakly: a cycle through a compiled loop may never be freed."""
    ref = weakref.ref(loop)
    original = type(loop).close

    def close() -> None:
        target = ref()
        if target is None:
            return
        driver = _drivers.get(target)
        if driver is not None:
            driver.close()
        target.__dict__.pop("close", None)
        original(target)

    try:
        loop.close = close  # type: ignore[method-assign]
    except (AttributeError, TypeError):
        pass


def _new_ring() -> Ring:
    flags = _config["flags"]
    entries = _config["entries"]
    if _config["sqpoll"]:
        return Ring(entries, flags=int(SetupFlags.SQPOLL) | (flags or 0), sq_thread_idle=_config["sq_thread_idle"])
    if flags is not None:
        return Ring(entries, flags=flags)
    try:
        return Ring(entries, flags=_PREFERRED)
    except (UnsupportedFeature, OSError):
        return Ring(entries)


def configure(*, eager: int | None = None, entries: int | None = None, flags: int | None = None, sqpoll: bool | None = None,
              sq_thread_idle: int | None = None) -> None:
    """Settings for rings created from now on (each loop's ring is made on first use):
    SQ size, IORING_SETUP_* flags (None: COOP_TASKRUN|TASKRUN_FLAG|SINGLE_ISSUER where
    supported), SQPOLL and its idle time in ms."""
    if eager is not None:
        _config["eager"] = int(eager)
        for driver in _drivers.values():
            driver.credit = int(eager)
    if entries is not None:
        if not isinstance(entries, int) or entries < 1:
            raise ValueError(f"entries must be a positive int, got {entries!r}")
        _config["entries"] = entries
    if flags is not None:
        _config["flags"] = int(flags)
    if sqpoll is not None:
        _config["sqpoll"] = bool(sqpoll)
    if sq_thread_idle is not None:
        _config["sq_thread_idle"] = int(sq_thread_idle)


def _driver_for(loop: asyncio.AbstractEventLoop) -> Driver:
    driver = _drivers.get(loop)
    if driver is None:
        if loop.is_closed():
            raise RuntimeError("the event loop is closed")
        driver = Driver(loop)
        _drivers[loop] = driver
    return driver


def get_driver() -> Driver:
    """The running loop's driver, created on first use."""
    return _fast.current_driver()


def get_ring() -> Ring:
    """The running loop's ring (created on first use; see configure())."""
    return get_driver().ring


def _after_fork() -> None:
    # The parent's rings belong to the parent (the core refuses them here): forget them
    # without closing, so the child builds its own on first use.
    for driver in list(_drivers.values()):
        if driver._finalizer is not None:
            driver._finalizer.detach()
    _drivers.clear()
    _fast._forget()


_fast._set_driver_factory(_driver_for)
os.register_at_fork(after_in_child=_after_fork)
