"""Socket transports whose reads are multishot receives from the loop's provided-buffer
ring (one CQE per arrival, each buffer handed back at once: never ENOBUFS-dead), or, for
connections moving large messages, a multishot poll and recv(2) when it fires."""

from __future__ import annotations

import errno
import os
from asyncio import selector_events
from typing import Any

from uring.bufring import BufferRing
from uring.loop import _fast

__all__ = ["RecvPool", "RingSocketTransport"]

_F_MORE = 1 << 1           # IORING_CQE_F_MORE
_ENOBUFS = -errno.ENOBUFS
_ECANCELED = -errno.ECANCELED
_RECV_GROUP = 0x7A17       # a buffer group id unlikely to clash with a user's


class RecvPool:
    """The loop's buffer ring for stream receives (see `_fast.RecvBuffers`): `hot` buffers
    published at first, up to `entries` while about `budget` bytes of read-ahead allow; a
    receive that ends with ENOBUFS makes it publish more and is re-armed by its reader."""

    def __init__(self, ring: Any, entries: int = 256, buf_size: int = 65536, hot: int = 16,
                 budget: int = 2 << 20) -> None:
        self.buffers = BufferRing(ring, _RECV_GROUP, entries, buf_size, populate=False,
                                  own_buffers=False)
        self.bgid = _RECV_GROUP
        self.size = buf_size
        self.fast = _fast.RecvBuffers(self.buffers, buf_size, hot, budget)
        self.take = self.fast.take     # the data of a CQE; its buffer goes back at once

    def outstanding(self) -> int:
        """Buffers the kernel has filled that were not handed back yet (0 when idle)."""
        fast = self.fast
        return fast.provided - ((fast.tail - self.buffers.head) & 0xFFFF) - fast.nspare

    def close(self) -> None:
        self.buffers.close()


# asyncio's socket transport is private API (typeshed does not describe it): typed as Any.
_SocketTransport: Any = selector_events._SelectorSocketTransport  # type: ignore[attr-defined]


class RingSocketTransport(_SocketTransport):
    """asyncio's socket transport (writes, flow control, half-close, close and abort stay
    the stdlib's) with the read side on the ring: the loop calls `_add_reader` and
    `_remove_reader` for it as for any transport, and those arm or cancel its reader: a
    multishot recv, or in bounded mode a multishot poll whose firings make the loop
    receive with recv(2) then and there (`_fast._read_now`)."""

    write = _fast.stream_write
    is_closing = _fast.transport_is_closing
    _flush_pending = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The read side's state lives in a compiled object: the receive paths read it on
        # every CQE (see _fast.Receiver).
        self._rx = _fast.Receiver(self)
        super().__init__(*args, **kwargs)

    def _add_reader(self, fd: int, callback: Any, *args: Any) -> None:
        if not self.is_reading() or self._rx.op is not None:
            return
        if self._rx.held:
            # Deliver what arrived during the pause from a callback of its own, as new data
            # would come: resume_reading()'s caller is not ready for data_received yet
            # (StreamReader resumes before it creates the future the data wakes).
            self._schedule_flush()
            return
        self._loop._arm_ring_reader(fd, self)

    def _schedule_flush(self) -> None:
        if not self._flush_pending:
            self._flush_pending = True
            self._loop.call_soon(self._flush_held)

    def _flush_held(self) -> None:
        self._flush_pending = False
        while self._rx.held and self.is_reading() and not self._conn_lost:
            data = self._rx.held.pop(0)
            if not data:
                self._read_ready__on_eof()
                return
            self._deliver(data)
        if not self._rx.held:
            self._add_reader(self._sock_fd, None)

    def _hold(self, data: bytes) -> None:
        if self._rx.held is None:
            self._rx.held = []
        self._rx.held.append(data)
        if self.is_reading():
            self._schedule_flush()

    def _on_recv(self, op: Any, res: int, flags: int) -> None:
        """CQE of a multishot recv (called from inside the loop's wait) for the cases the
        compiled dispatch leaves to Python: pause, held data, EOF, errors, re-arming."""
        current = op is self._rx.op
        if res > 0:
            data = self._rx.buffers.take(res, flags)   # the loop may be gone: not the pool
            if self._conn_lost:
                return
            if current and not self._rx.held and self.is_reading():
                self._deliver(data)
            else:
                # Landed after pause_reading() cancelled the receive, or behind held data.
                self._hold(data)
            if current and not flags & _F_MORE:
                self._rearm(op)
            return
        if not current:
            return
        self._rx.op = None
        self._loop._ring_readers.pop(self._sock_fd, None)
        if res == 0:
            if self._conn_lost:
                return
            if self._rx.held:
                self._hold(b"")
            else:
                self._read_ready__on_eof()
        elif res == _ENOBUFS:
            # Every published buffer was in use for an instant: publish more, ask again.
            self._rx.buffers.grow(len(self._loop._ring_readers))
            self._rearm(op)
        elif res != _ECANCELED:
            self._read_failed(res)

    def _read_ended(self, res: int) -> None:
        """A bounded receive (`_fast._read_now`) met EOF (0) or an error (-errno)."""
        self._loop._remove_reader(self._sock_fd)
        if res == 0:
            self._read_ready__on_eof()
        else:
            self._read_failed(res)

    def _read_failed(self, res: int) -> None:
        """A receive or the reader's poll failed with -errno `res`: asyncio's fatal read
        error, with the errno's OSError subclass (ConnectionResetError...)."""
        self._fatal_error(OSError(-res, os.strerror(-res)), "Fatal read error on socket transport")

    def _poll_ended(self, op: Any, res: int) -> None:
        """The final CQE of a bounded transport's multishot poll (it fired without F_MORE,
        or failed): one more receive for what it saw, and a new poll."""
        self._rx.op = None
        self._loop._ring_readers.pop(self._sock_fd, None)
        if res == _ECANCELED or self._conn_lost:
            return
        if res < 0:
            self._read_failed(res)
            return
        self._add_reader(self._sock_fd, None)
        if self._rx.op is not None:
            self._rx.buffers.queue(self._rx)

    def _switch_receives(self, bounded: bool) -> None:
        """Re-arm the reader in the other mode. Data the old one delivers after its cancel
        is held and flushed ahead of anything the new one receives."""
        self._rx.streak = 0
        self._rx.bounded = bounded
        self._loop._remove_reader(self._sock_fd)
        self._add_reader(self._sock_fd, None)
        if bounded:
            # Bounded receives take no buffer from the ring: it need hold only a couple per
            # multishot reader still (and some slack), so the buffers the kernel fills for
            # them are ones handed back lately, still in cache, not the 100+ that many
            # multishot readers had it grow to. ENOBUFS raises the limit where too few.
            buffers = self._rx.buffers
            multishot = sum(1 for t in self._loop._ring_readers.values() if not t._rx.bounded)
            buffers.set_limit(2 * (buffers.per_enter + multishot))

    def _rearm(self, op: Any) -> None:
        if self._rx.op is op:
            self._rx.op = None
            self._loop._ring_readers.pop(self._sock_fd, None)
        if not self._conn_lost:
            self._add_reader(self._sock_fd, None)

    _deliver = _fast.deliver



_fast.set_stdlib_write(_SocketTransport.write)
