"""Readiness on the loop's ring: a `selectors.BaseSelector` whose waits are io_uring enters.
Each registered fd holds one POLL_ADD; `select` submits, waits and dispatches every CQE."""

from __future__ import annotations

import errno
import selectors
import select as _select
from typing import Any

from uring import ops
from uring._uapi import SetupFlags
from uring.ring import Ring

__all__ = ["RingSelector", "new_ring"]

_POLLIN = _select.POLLIN | _select.POLLPRI
_POLLOUT = _select.POLLOUT
# Errors and hang-ups make both sides ready, as epoll reports them to a selector loop.
_POLLERR = _select.POLLERR | _select.POLLHUP | _select.POLLNVAL
_READ, _WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE


def new_ring(entries: int = 256) -> Ring:
    """The loop's ring: SINGLE_ISSUER | DEFER_TASKRUN, so completions (a multishot
    receive's data, a poll) are posted as task work that runs only inside this loop's own
    enter, in one batch per iteration, instead of interrupting the thread on every syscall
    exit (COOP_TASKRUN's TIF_NOTIFY_SIGNAL). TASKRUN_FLAG tells a non-waiting iteration
    whether such work is pending, so it enters only then. The ring starts disabled and
    the first thread to enter it (the one that runs the loop, as a rule) becomes its
    issuer: asyncio code builds a loop in one thread and runs it in another.
    Kernels before 6.1 get COOP_TASKRUN | TASKRUN_FLAG (any thread may wait)."""
    for flags in _RING_FLAGS:
        try:
            ring = Ring(entries, flags=flags, cq_entries=entries * 16)
        except OSError:
            continue
        if flags & SetupFlags.R_DISABLED:
            ring._enable_on_first_enter()
        return ring
    return Ring(entries, cq_entries=entries * 16)


_RING_FLAGS = (
    SetupFlags.SINGLE_ISSUER | SetupFlags.DEFER_TASKRUN | SetupFlags.TASKRUN_FLAG
    | SetupFlags.SUBMIT_ALL | SetupFlags.R_DISABLED,
    SetupFlags.COOP_TASKRUN | SetupFlags.TASKRUN_FLAG | SetupFlags.SUBMIT_ALL,
)


def _mask(events: int) -> int:
    mask = 0
    if events & _READ:
        mask |= _POLLIN
    if events & _WRITE:
        mask |= _POLLOUT
    return mask


class RingSelector(selectors.BaseSelector):
    """Level-triggered readiness through one-shot POLL_ADD requests, re-armed after each
    firing while the fd stays registered (a multishot poll is edge-like: a reader that
    leaves data behind would never hear of it again)."""

    def __init__(self, ring: Ring | None = None) -> None:
        self.ring = ring if ring is not None else new_ring()
        self._keys: dict[int, selectors.SelectorKey] = {}
        self._armed: dict[int, Any] = {}      # fd -> its POLL_ADD op in flight
        self._fired: dict[int, int] = {}      # fd -> selector events seen since the last select
        self._on_poll = self._poll_done       # bound once: one callback object per arm
        self.aio: Any = None                   # uring.aio's driver (EventLoop._uring_attach_aio)
        self.recv_buffers: Any = None          # the loop's _fast.RecvBuffers, once it has one

    # -- registration ---------------------------------------------------------------
    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        if not events or events & ~(_READ | _WRITE):
            raise ValueError(f"Invalid events: {events!r}")
        fd = selectors._fileobj_to_fd(fileobj)  # type: ignore[attr-defined]
        if fd in self._keys:
            raise KeyError(f"{fileobj!r} (FD {fd}) is already registered")
        key = selectors.SelectorKey(fileobj, fd, events, data)
        self._keys[fd] = key
        self._arm(fd, events)
        return key

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        fd = self._fd_of(fileobj)
        key = self._keys.pop(fd)
        self._disarm(fd)
        self._fired.pop(fd, None)
        return key

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        fd = self._fd_of(fileobj)
        old = self._keys[fd]
        if not events or events & ~(_READ | _WRITE):
            raise ValueError(f"Invalid events: {events!r}")
        key = old._replace(events=events, data=data)
        self._keys[fd] = key
        if events != old.events:
            self._disarm(fd)
            self._fired.pop(fd, None)
            self._arm(fd, events)
        return key

    def get_map(self) -> Any:
        return _KeyMap(self)

    def _fd_of(self, fileobj: Any) -> int:
        try:
            return selectors._fileobj_to_fd(fileobj)  # type: ignore[attr-defined]
        except ValueError:
            # A closed socket object: find it by identity, as the stdlib selectors do.
            for key in self._keys.values():
                if key.fileobj is fileobj:
                    return key.fd
            raise KeyError(f"{fileobj!r} is not registered") from None

    def _arm(self, fd: int, events: int) -> None:
        self._armed[fd] = self.ring.queue(ops.poll_add(fd, _mask(events)), callback=self._on_poll,
                                        context=fd)

    def _disarm(self, fd: int) -> None:
        op = self._armed.pop(fd, None)
        if op is not None and not op.done:
            self.ring.poll_remove(op)

    def _poll_done(self, op: Any, res: int, flags: int) -> None:
        fd = op.context
        if self._armed.get(fd) is not op:
            return  # removed or replaced since it was armed
        del self._armed[fd]
        key = self._keys.get(fd)
        if key is None:
            return
        if res < 0:
            if res == -errno.ECANCELED:
                return
            # EBADF and friends: report the fd ready so the callback meets the error itself.
            ready = key.events
        else:
            ready = 0
            if res & (_POLLIN | _POLLERR):
                ready |= _READ
            if res & (_POLLOUT | _POLLERR):
                ready |= _WRITE
            ready &= key.events
        self._fired[fd] = self._fired.get(fd, 0) | ready

    # -- waiting --------------------------------------------------------------------
    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ring = self.ring
        if self.recv_buffers is not None and self.recv_buffers.drain():
            timeout = 0     # data delivered or still in line: see RecvBuffers.drain
        if timeout is not None and timeout <= 0:
            ring.submit_and_wait(0)
        elif timeout is None:
            ring.submit_and_wait(1)
        else:
            ring.submit_and_wait(1, timeout=timeout)
        return self._collect()

    def _collect(self) -> list[tuple[selectors.SelectorKey, int]]:
        if not self._fired:
            return []
        fired, self._fired = self._fired, {}
        ready = []
        keys = self._keys
        for fd, events in fired.items():
            key = keys.get(fd)
            if key is None:
                continue
            if fd not in self._armed:
                self._arm(fd, key.events)   # level-triggered: ask again after the callback
            if events:
                ready.append((key, events))
        return ready

    def close(self) -> None:
        self._keys.clear()
        self._armed.clear()
        self._fired.clear()
        self.ring.close()


class _KeyMap:
    """The read-only fd -> SelectorKey mapping `get_map()` returns."""

    def __init__(self, selector: RingSelector) -> None:
        self._selector = selector

    def __len__(self) -> int:
        return len(self._selector._keys)

    def __getitem__(self, fileobj: Any) -> selectors.SelectorKey:
        try:
            fd = self._selector._fd_of(fileobj)
        except KeyError:
            raise KeyError(f"{fileobj!r} is not registered") from None
        return self._selector._keys[fd]

    def get(self, fileobj: Any, default: Any = None) -> Any:
        try:
            return self[fileobj]
        except (KeyError, ValueError):
            return default

    def __iter__(self):
        return iter(self._selector._keys)

    def __contains__(self, fileobj: Any) -> bool:
        return self.get(fileobj) is not None
