"""The io_uring event loop: asyncio's Unix loop with every wait an io_uring enter on the
loop's own ring, so readiness, socket transports and `uring.aio` ops share one wait."""

from __future__ import annotations

import asyncio
import errno
import os
import select
import socket
import sys
import threading
from asyncio import constants, events, trsock, unix_events
from asyncio.log import logger
from typing import Any, Coroutine, TypeVar

from uring.loop import _fast
from uring.loop._selector import RingSelector
from uring.loop._transport import RecvPool, RingSocketTransport
from uring import ops
from uring.ring import Ring

__all__ = ["EventLoop", "EventLoopPolicy", "new_event_loop", "run"]

_T = TypeVar("_T")
_F_MORE = 2   # IORING_CQE_F_MORE
# A bounded transport's poll: data, EOF (RDHUP) and errors all mean "try a receive".
_POLL_READABLE = select.POLLIN | select.POLLRDHUP | select.POLLERR | select.POLLHUP
_ACCEPT_RESOURCE_ERRORS = (-errno.EMFILE, -errno.ENFILE, -errno.ENOBUFS, -errno.ENOMEM)


# asyncio's Unix loop is private API (typeshed does not describe it): typed as Any here.
_UnixLoop: Any = unix_events._UnixSelectorEventLoop


class EventLoop(_UnixLoop):
    """An `asyncio.AbstractEventLoop` on io_uring (see docs/loop.md).

    Waits are one `io_uring_enter` that submits what the iteration queued and reaps every
    completion; op callbacks (from `uring.aio` or the loop's transports) run inside that
    wait, so their futures resolve without a readiness hop."""

    def __init__(self, ring: Ring | None = None) -> None:
        self._ring_readers: dict[int, RingSocketTransport] = {}
        self._recv_pool: Any = None   # a RecvPool; False: the kernel has no buffer rings
        self._acceptors: dict[int, Any] = {}              # listening fd -> multishot accept
        super().__init__(RingSelector(ring))

    # -- stream transports read through multishot receives --------------------------
    def _make_socket_transport(self, sock: Any, protocol: Any, waiter: Any = None, *,
                               extra: Any = None, server: Any = None) -> Any:
        if self._recv_pool is None:
            try:
                most, size = self._recv_pool_shape
                self._recv_pool = RecvPool(self._selector.ring, most, size, self._recv_pool_hot)
                self._recv_buffers = self._recv_pool.fast
                self._recv_buffers.per_enter = self._recv_per_enter
                self._recv_buffers.bounded_after = self._recv_bounded_after
                if self._recv_direct_size:
                    self._recv_buffers.direct_size = self._recv_direct_size
                self._selector.recv_buffers = self._recv_buffers
            except OSError:
                self._recv_pool = False    # no provided-buffer rings: readiness reads
        if self._recv_pool is False or sock.type != socket.SOCK_STREAM:
            return super()._make_socket_transport(sock, protocol, waiter, extra=extra, server=server)
        return RingSocketTransport(self, sock, protocol, waiter, extra, server)

    def _arm_ring_reader(self, fd: int, transport: RingSocketTransport) -> None:
        ring = self._selector.ring
        rx = transport._rx
        buffers = rx.buffers = self._recv_buffers
        rx.fd = fd
        if not buffers.bounded_after:
            rx.bounded = True
        if rx.bounded:
            rx.op = ring.queue(ops.poll_multishot(fd, _POLL_READABLE), callback=_fast.on_poll,
                               context=rx)
        else:
            rx.op = ring.recv_multishot(fd, buf_group=self._recv_pool.bgid, callback=_fast.on_recv,
                                        context=rx)
        self._ring_readers[fd] = transport

    def _remove_reader(self, fd: Any) -> bool:
        transport = self._ring_readers.pop(fd, None) if isinstance(fd, int) else None
        if transport is None:
            return super()._remove_reader(fd)
        rx = transport._rx
        op, rx.op = rx.op, None
        if op is not None and not op.done and not self.is_closed():
            self._cancel_now(op)
        return True

    def _cancel_now(self, op: Any) -> None:
        """Cancel a multishot op before this callback returns, as removing a reader stops
        reads at once on asyncio's loop: a receive left armed until the next wait would go
        on draining the socket (a paused peer must let the kernel buffers fill), and an
        accept would hold the listening port."""
        ring = self._selector.ring
        ring.cancel(op)
        ring.submit()

    # -- servers accept through one multishot ACCEPT per listening socket -------------
    def _start_serving(self, protocol_factory: Any, sock: Any, sslcontext: Any = None,
                       server: Any = None, backlog: int = 100,
                       ssl_handshake_timeout: float = constants.SSL_HANDSHAKE_TIMEOUT,
                       ssl_shutdown_timeout: float = constants.SSL_SHUTDOWN_TIMEOUT) -> None:
        args = (protocol_factory, sock, sslcontext, server, backlog, ssl_handshake_timeout,
                ssl_shutdown_timeout)
        fd = sock.fileno()
        op = self._selector.ring.queue(
            ops.multishot_accept(fd, socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC),
            callback=self._accepted, context=(fd, args))
        self._acceptors[fd] = op

    def _accepted(self, op: Any, res: int, flags: int) -> None:
        fd, args = op.context
        protocol_factory, sock, sslcontext, server, backlog, hs_timeout, sd_timeout = args
        current = self._acceptors.get(fd) is op
        if res >= 0:
            if not current:
                os.close(res)   # accepted while the server was being stopped
                return
            conn = socket.socket(sock.family, sock.type, sock.proto, fileno=res)
            try:
                extra = {"peername": conn.getpeername()}
            except OSError:
                extra = {"peername": None}
            if self._debug:
                logger.debug("%r got a new connection from %r: %r", server, extra["peername"], conn)
            self.create_task(self._accept_connection2(protocol_factory, conn, extra, sslcontext,
                                                      server, hs_timeout, sd_timeout))
            if flags & _F_MORE:
                return
        if not current:
            return
        del self._acceptors[fd]
        if res >= 0 or res == -errno.ECONNABORTED:
            self._start_serving(*args)    # the multishot ended: arm it again
        elif res in _ACCEPT_RESOURCE_ERRORS:
            self.call_exception_handler({
                "message": "socket.accept() out of system resource",
                "exception": OSError(-res, os.strerror(-res)),
                "socket": trsock.TransportSocket(sock),
            })
            self.call_later(constants.ACCEPT_RETRY_DELAY, self._start_serving, *args)
        elif res != -errno.ECANCELED:
            self.call_exception_handler({
                "message": "accept failed on a listening socket",
                "exception": OSError(-res, os.strerror(-res)),
                "socket": trsock.TransportSocket(sock),
            })

    def _stop_serving(self, sock: Any) -> None:
        op = self._acceptors.pop(sock.fileno(), None)
        if op is None:
            return super()._stop_serving(sock)
        if not op.done:
            self._cancel_now(op)
        return super()._stop_serving(sock)   # closes it (3.13: and unlinks a Unix path)

    def close(self) -> None:
        if not self.is_running() and not self.is_closed():
            # Closing the ring drains every op still armed: a transport's receive or a
            # server's accept then completes (EOF, data, a connection) on a closed loop,
            # where a transport's close() would call_soon and raise "Event loop is closed"
            # out of close(). Their CQEs only hand back the buffer or the new fd, and the
            # transports let go of their ops (Op is not tracked by the garbage collector:
            # a transport -> op -> transport cycle would never be freed, nor its socket).
            for transport in self._ring_readers.values():
                rx = transport._rx
                op, rx.op = rx.op, None
                if op is not None:
                    op.callback = _drop_poll if rx.bounded else _drop_recv
            self._ring_readers.clear()
            for op in self._acceptors.values():
                op.callback = _drop_accept
        if self._selector is not None:
            self._selector.aio = None
        super().close()
        pool, self._recv_pool = self._recv_pool, False
        if pool:
            pool.close()

    # Receive buffers shared by every stream transport: (most, bytes each), and how many
    # are published at first (more on each ENOBUFS; see _fast.RecvBuffers).
    _recv_pool_shape = (256, 65536)
    _recv_pool_hot = 16
    # Bounded receives (_fast._read_now): at most this many recv(2) per poll firing (and
    # transports served per iteration when more is left), for transports that made this
    # many large receives in a row (0: every transport), each asking for this many bytes
    # (0: a receive buffer's size, 64 KiB).
    _recv_per_enter = 4
    _recv_bounded_after = 16
    _recv_direct_size = 0

    # Compiled hot paths (uring/loop/_fast.pyx); debug mode runs asyncio's own code.
    call_soon = _fast.call_soon
    create_future = _fast.create_future
    get_debug = _fast.get_debug
    _call_soon = _fast._call_soon
    _run_once = _fast.run_once

    def run_forever(self) -> None:
        """Run until stop() is called (asyncio's set-up and clean-up, iterations in C)."""
        self._check_closed()
        self._check_issuer()
        if hasattr(self, "_run_forever_setup"):      # 3.12+
            try:
                self._run_forever_setup()
                _fast.iterate(self)
            finally:
                self._run_forever_cleanup()
            return
        self._check_running()
        self._set_coroutine_origin_tracking(self._debug)
        old_agen_hooks = sys.get_asyncgen_hooks()
        try:
            self._thread_id: int | None = threading.get_ident()
            sys.set_asyncgen_hooks(firstiter=self._asyncgen_firstiter_hook,
                                   finalizer=self._asyncgen_finalizer_hook)
            events._set_running_loop(self)
            _fast.iterate(self)
        finally:
            self._stopping = False
            self._thread_id = None
            events._set_running_loop(None)
            self._set_coroutine_origin_tracking(False)
            sys.set_asyncgen_hooks(*old_agen_hooks)

    def _check_issuer(self) -> None:
        """The ring is SINGLE_ISSUER (see new_ring): once a thread has run the loop, the
        kernel refuses every other thread's enter, so say so before trying."""
        issuer = self._selector.ring.issuer_thread
        if issuer is not None and issuer != threading.get_ident():
            raise RuntimeError(
                "this uring.EventLoop was first run in another thread, and its io_uring "
                "(SINGLE_ISSUER | DEFER_TASKRUN) accepts work from that thread only")

    def _uring_attach_aio(self, driver: Any) -> None:
        """uring.aio's driver for this loop's ring: each wait marks it as dispatching, so ops
        completed in the wait step their tasks right there (see _fast.run_once). Kept on the
        selector: an attribute added to the loop instance after its __init__ moved all of its
        attributes from inline values to a dict on 3.13 (+3% CPU per callback, callgrind)."""
        self._selector.aio = driver

    def _uring_ring(self) -> Ring:
        """The loop's own ring: queue ops on it with a callback; the loop submits before
        each wait and dispatches their CQEs."""
        if self.is_closed():
            raise RuntimeError("Event loop is closed")
        return self._selector.ring


def _drop_recv(op: Any, res: int, flags: int) -> None:
    if res > 0:
        op.context.buffers.drop(flags)


def _drop_poll(op: Any, res: int, flags: int) -> None:
    pass


def _drop_accept(op: Any, res: int, flags: int) -> None:
    if res >= 0:
        os.close(res)


class EventLoopPolicy(asyncio.DefaultEventLoopPolicy):
    """A policy whose new loops are `uring.EventLoop`s, for code that still sets policies."""

    def _loop_factory(self) -> EventLoop:
        return EventLoop()


def new_event_loop() -> EventLoop:
    """A new `uring.EventLoop`; usable as `asyncio.Runner(loop_factory=new_event_loop)`."""
    return EventLoop()


def run(main: Coroutine[Any, Any, _T], *, debug: bool | None = None) -> _T:
    """Run a coroutine on a new `uring.EventLoop`, as `asyncio.run` / `uvloop.run` do."""
    with asyncio.Runner(debug=debug, loop_factory=new_event_loop) as runner:
        return runner.run(main)
