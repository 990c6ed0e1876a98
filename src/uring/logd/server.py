"""The logd server on one io_uring: multishot accept, multishot recv per connection from a
shared provided-buffer ring, linked write -> fsync commits, acks sent through the ring.

One thread, one completion loop. Each turn of the loop reaps CQEs (the callbacks below only
update state), then `_flush` turns that state into SQEs: re-armed receives, at most one commit
chain, ack sends, closes; the next `submit_and_wait` hands them all to the kernel in one enter.

Durability: a commit is a chain written at explicit offsets (write -> fsync, or per record
write -> fsync -> write -> fsync ...), and only one chain is in flight, so the file is always
a prefix of the append stream: a crash can only tear the last, unacknowledged, record, which
`recover_log` cuts off at the next start. Acks are sent only from the fsync's completion.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import threading
from typing import Any, Callable

from uring import ops
from uring._uapi import CQE_BUFFER_SHIFT, CqeFlags, SetupFlags, SqeFlags
from uring.bufring import BufferRing
from uring.errors import UnsupportedFeature
from uring.logd.protocol import (DEFAULT_MAX_RECORD, Framer, PendingRecords, RecordTooLong, recover_log,
                                 too_long_line)
from uring.ring import Ring

__all__ = ["LogServer", "serve", "parse_address", "SYNC_MODES"]

SYNC_MODES = ("fsync", "fdatasync", "none")
_F_MORE = int(CqeFlags.MORE)
_LINK = int(SqeFlags.IO_LINK)
_FSYNC_DATASYNC = 1
_MSG_NOSIGNAL = socket.MSG_NOSIGNAL
# Records per per-record chain: 2 SQEs each, and a chain must fit the SQ in one submit.
_CHAIN_RECORDS = 512
_BGID = 7
_OUT_OF_FDS = (-errno.EMFILE, -errno.ENFILE, -errno.ENOBUFS, -errno.ENOMEM)
_ACCEPT_RETRY = 0.05   # seconds between accept attempts while out of file descriptors


def parse_address(text: str) -> tuple[str, int]:
    """"HOST:PORT" (IPv6 as "[::1]:PORT") into (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    return host or "0.0.0.0", int(port)


def _listen_socket(address: tuple[str, int], backlog: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit TCP_NODELAY: small acks must not wait for Nagle.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(address)
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    return sock


def open_log(path: str) -> tuple[int, int]:
    """(fd, append offset) of the log after cutting a torn tail; the directory entry is made
    durable too, or a fresh log could vanish in a crash with its acked records."""
    size, _ = recover_log(path)
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    dfd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return fd, size


class _RecvBuffers(BufferRing):
    """The shared receive buffers, with the one operation the hot path needs in one call."""

    def take(self, bid: int, nbytes: int) -> bytes:
        """Copy what a recv CQE delivered into buffer `bid` and hand the buffer straight
        back to the kernel (`bid` comes from the kernel's CQE, so it is in range)."""
        start = bid * self.buf_size
        data = self._buffers[start:start + nbytes]
        self._mem.add(self._base + start, self.buf_size, bid, 0)
        self._mem.advance(1)
        return data


class _Conn:
    __slots__ = ("fd", "framer", "received", "durable", "acked", "recv_live", "recv_op", "cancelled",
                 "sending", "error", "gone", "error_sent")

    def __init__(self, fd: int, limit: int) -> None:
        self.fd = fd
        self.framer = Framer(limit)
        self.received = 0      # whole records framed so far
        self.durable = 0       # of those, made durable by a finished commit
        self.acked = 0         # the count in the last ack sent
        self.recv_live = False  # a multishot recv is armed (or about to be re-armed)
        self.recv_op: Any = None
        self.cancelled = False  # we cancelled its recv to stop reading for a while
        self.sending = False
        self.error: bytes | None = None   # an ERR line still to send before closing
        self.gone = False      # the peer vanished: nothing more can be sent
        self.error_sent = False


class LogServer:
    """A durable append-only log server; see the module docstring and `uring.logd.protocol`.

    `listen` is (host, port) (port 0 picks one: see `address`). `sync` is "fsync",
    "fdatasync" or "none"; `group_commit` makes one fsync cover every record that arrived
    while the previous one ran, otherwise each record gets its own write -> fsync.
    """

    def __init__(self, listen: tuple[str, int], log_path: str, *, sync: str = "fsync",
                 group_commit: bool = True, sqpoll: bool = False, max_record: int = DEFAULT_MAX_RECORD,
                 buffers: int = 256, buffer_size: int = 16384, ring_entries: int = 2048,
                 backlog: int = 4096, max_backlog: int = 64 << 20) -> None:
        if sync not in SYNC_MODES:
            raise ValueError(f"sync must be one of {SYNC_MODES}, got {sync!r}")
        self.sync = sync
        self.group_commit = bool(group_commit)
        self.max_record = max_record
        Framer(max_record)   # validates the limit before anything is opened
        self._sock = _listen_socket(listen, backlog)
        self.address: tuple[str, int] = self._sock.getsockname()[:2]
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_w.setblocking(False)
        self._log_fd = -1
        self.ring: Ring | None = None
        self._br: _RecvBuffers | None = None
        self._ring_args = (ring_entries, sqpoll, buffers, buffer_size)
        try:
            self._log_fd, self._offset = open_log(log_path)
        except BaseException:
            self._release()
            raise
        fsync_flags = _FSYNC_DATASYNC if sync == "fdatasync" else 0
        # Queued again and again: the ring copies an SQE, so one prepared value serves all.
        self._fsync_sqe = ops.fsync(self._log_fd, fsync_flags)
        self._fsync_link = ops.fsync(self._log_fd, fsync_flags).set(flags=_LINK)
        self._conns: dict[int, _Conn] = {}
        self._dirty: set[_Conn] = set()
        self._rearm: list[_Conn] = []
        self._pending = PendingRecords(self.group_commit)
        self._commit_left = 0   # CQEs of the commit in flight still to come
        # Bytes of whole records received and not yet in a commit: past max_backlog the
        # receives are cancelled (the bytes wait in the sockets) until commits catch up.
        self.max_backlog = max_backlog
        self._backlog = 0
        self._paused = False
        self._held: list[_Conn] = []
        self._accept_op: Any = None
        self._acks_sent = 0
        self._stop_requested = False
        self._stopping = False
        self._fatal: OSError | None = None
        self.stats = {"accepted": 0, "closed": 0, "records": 0, "bytes": 0, "commits": 0,
                      "fsyncs": 0, "acks_sent": 0, "too_long": 0, "cut_short_bytes": 0,
                      "enobufs": 0, "paused": 0}

    @staticmethod
    def _make_ring(entries: int, sqpoll: bool) -> Ring:
        cq = entries * 8   # multishot recvs post many CQEs per SQE
        if sqpoll:
            return Ring(entries, flags=SetupFlags.SQPOLL | SetupFlags.CQSIZE, cq_entries=cq, sq_thread_idle=1000)
        for flags in (SetupFlags.SINGLE_ISSUER | SetupFlags.DEFER_TASKRUN, SetupFlags.COOP_TASKRUN, 0):
            try:
                return Ring(entries, flags=flags | SetupFlags.CQSIZE, cq_entries=cq)
            except (UnsupportedFeature, OSError):
                continue
        raise UnsupportedFeature("no io_uring setup accepted")

    # -- control --------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the loop to shut down cleanly (from a signal handler or another thread)."""
        self._stop_requested = True
        try:
            self._wake_w.send(b"s")
        except OSError:
            pass   # already woken, or closed after the loop ended

    def serve_forever(self, ready: Callable[["LogServer"], Any] | None = None) -> dict:
        """Run until stop(); returns the stats. Raises the OSError of a failed commit."""
        entries, sqpoll, buffers, buffer_size = self._ring_args
        try:
            # Made here: a SINGLE_ISSUER ring belongs to the thread that creates it.
            self.ring = ring = self._make_ring(entries, sqpoll)
            self._br = _RecvBuffers(ring, _BGID, buffers, buffer_size)
            self._arm_accept()
            ring.recv(self._wake_r.fileno(), bytearray(64), callback=self._on_wake)
            if ready is not None:
                ready(self)
            while True:
                self._flush()
                if self._stopping and not self._conns and not self._commit_left and self._accept_op is None:
                    break
                # While a commit runs, sleep until all its CQEs are in: what arrives meanwhile
                # can only go in the next commit anyway, so it is reaped in the same wake-up
                # (one per commit instead of one per CQE; the chain always posts all its CQEs).
                ring.submit_and_wait(self._commit_left or 1)
            assert self._br is not None
            self.stats["buffers_free"] = self._br.available
            self.stats["buffers"] = self._br.entries
            self.stats["acks_sent"] = self._acks_sent
        finally:
            self._release()
        if self._fatal is not None:
            raise self._fatal
        return self.stats

    def _release(self) -> None:
        for conn in getattr(self, "_conns", {}).values():
            os.close(conn.fd)
        if self.ring is not None and not self.ring.closed:
            self.ring.close()
        if self._br is not None:
            self._br.close()
        if self._log_fd >= 0:
            os.close(self._log_fd)
            self._log_fd = -1
        self._sock.close()
        self._wake_r.close()
        self._wake_w.close()

    # -- completions (state changes only; _flush queues what they call for) ----------------

    def _on_wake(self, op: Any, res: int, flags: int) -> None:
        if self._stop_requested:
            return
        if res > 0 and self.ring is not None:   # a stray byte: keep listening
            self.ring.recv(self._wake_r.fileno(), bytearray(64), callback=self._on_wake)

    def _arm_accept(self) -> None:
        assert self.ring is not None
        self._accept_op = self.ring.queue(ops.multishot_accept(self._sock.fileno(), os.O_CLOEXEC),
                                          callback=self._on_accept)

    def _on_accept(self, op: Any, res: int, flags: int) -> None:
        if res >= 0:
            if self._stopping:
                os.close(res)
            else:
                conn = _Conn(res, self.max_record)
                self._conns[res] = conn
                self.stats["accepted"] += 1
                self._rearm.append(conn)
        if not flags & _F_MORE:
            self._accept_op = None
            if self._stopping:
                return
            if res in _OUT_OF_FDS:
                # Retrying at once would spin while the process is at its fd limit: the
                # pending connections wait in the backlog until a timeout re-arms the accept.
                assert self.ring is not None
                self._accept_op = self.ring.queue(ops.timeout(_ACCEPT_RETRY), callback=self._retry_accept)
            elif res >= 0 or res in (-errno.ECONNABORTED, -errno.EINTR):
                self._arm_accept()
            else:
                raise OSError(-res, f"multishot accept failed: {os.strerror(-res)}")

    def _retry_accept(self, op: Any, res: int, flags: int) -> None:
        self._accept_op = None
        if not self._stopping:
            self._arm_accept()

    def _on_recv(self, op: Any, res: int, flags: int) -> None:
        # One call per received chunk (per record at window 1): framing and queueing for the
        # next commit are inline here, not in helpers, as each Python call costs ~5% of it.
        conn: _Conn = op.context
        if res > 0:
            data = self._br.take(flags >> CQE_BUFFER_SHIFT, res)  # type: ignore[union-attr]
            if conn.error is None and self._fatal is None:
                try:
                    complete, count = conn.framer.feed(data)
                except RecordTooLong:
                    self._refuse_too_long(conn)
                    count = 0
                if count:
                    conn.received += count
                    self._backlog += len(complete)
                    if self._backlog > self.max_backlog and not self._paused:
                        self._pause_reading()
                    self._pending.add(conn, complete, count, conn.received)
            if flags & _F_MORE:
                return
        elif flags & _F_MORE:
            return
        if res > 0 or res == -errno.ENOBUFS or (res == -errno.ECANCELED and conn.cancelled):
            if res == -errno.ENOBUFS:
                self.stats["enobufs"] += 1
            if conn.error is None and not self._stopping:
                self._rearm.append(conn)   # re-armed after this reap, when buffers are back
                return
        elif res < 0 and res != -errno.ECANCELED:
            conn.gone = True
        conn.recv_live = False
        # EOF or error: bytes after the last newline are a record cut short.
        self.stats["cut_short_bytes"] += conn.framer.partial
        self._dirty.add(conn)

    def _refuse_too_long(self, conn: _Conn) -> None:
        self.stats["too_long"] += 1
        conn.error = too_long_line(self.max_record)
        self._dirty.add(conn)
        assert self.ring is not None
        # Stop reading: the multishot recv ends with res 0 and the connection closes
        # once the records before the long one are acked and the error line is sent.
        self.ring.queue(ops.shutdown(conn.fd, socket.SHUT_RD))

    def _on_commit_cqe(self, op: Any, res: int, flags: int) -> None:
        self._commit_left -= 1   # a write followed by its fsync: the fsync's CQE judges both

    def _pause_reading(self) -> None:
        self._paused = True
        self.stats["paused"] += 1
        assert self.ring is not None
        for conn in self._conns.values():
            if conn.recv_op is not None and not conn.recv_op.done and not conn.cancelled:
                conn.cancelled = True
                self.ring.cancel(conn.recv_op)

    def _on_group_sync(self, op: Any, res: int, flags: int) -> None:
        write_op, waiting = op.context
        self._commit_left -= 1
        if res < 0:
            self._fail(write_op, op, res)
            return
        for conn, count in waiting.items():
            conn.durable = count
        self._dirty.update(waiting)

    def _on_record_sync(self, op: Any, res: int, flags: int) -> None:
        write_op, conn, count = op.context
        self._commit_left -= 1
        if res < 0:
            self._fail(write_op, op, res)
            return
        conn.durable = count
        self._dirty.add(conn)

    def _fail(self, write_op: Any, sync_op: Any, res: int) -> None:
        if self._fatal is not None:
            return
        wres = write_op.res if write_op.done else res
        if 0 <= wres:
            err = errno.EIO if sync_op is write_op or sync_op.res == -errno.ECANCELED else -sync_op.res
            what = "short write" if sync_op is write_op or sync_op.res == -errno.ECANCELED else "fsync"
        else:
            err, what = -wres, "write"
        self._fatal = OSError(err, f"log {what} failed: {os.strerror(err)}; nothing after the last ack is durable")
        line = b"ERR log write failed: %s\n" % os.strerror(err).encode()
        self._pending.clear()
        self._backlog = 0
        for conn in self._conns.values():
            conn.received = conn.durable   # refused: never acked
            conn.error = line
            self._dirty.add(conn)
        self._stop_requested = True

    def _on_send(self, op: Any, res: int, flags: int) -> None:
        conn: _Conn = op.context
        conn.sending = False
        if res < 0:
            conn.gone = True
        elif res < len(op.buffer):
            conn.sending = True   # a short send: the rest goes next
            assert self.ring is not None
            self.ring.send(conn.fd, op.buffer[res:], _MSG_NOSIGNAL, callback=self._on_send, context=conn)
            return
        if conn.durable > conn.acked or not conn.recv_live or conn.error is not None:
            self._dirty.add(conn)   # more to send, or the connection is closing

    # -- turning state into SQEs ------------------------------------------------------------

    def _flush(self) -> None:
        ring = self.ring
        assert ring is not None
        if self._stop_requested and not self._stopping:
            self._begin_shutdown()
        if self._paused and self._backlog <= self.max_backlog // 2:
            self._paused = False
            self._rearm.extend(self._held)
            self._held = []
        if self._rearm:
            arm = self._rearm
            self._rearm = []
            for conn in arm:
                if conn.error is None and not self._stopping:
                    if self._paused:
                        self._held.append(conn)
                        continue
                    conn.recv_op = ring.recv_multishot(conn.fd, buf_group=_BGID, callback=self._on_recv,
                                                       context=conn)
                    conn.cancelled = False
                    conn.recv_live = True
                elif conn.recv_live:
                    conn.recv_live = False
                    self._dirty.add(conn)
        if not self._commit_left and self._pending:
            self._commit()
        if self._dirty:
            dirty = self._dirty
            self._dirty = set()
            self._settle(dirty)

    def _settle(self, conns: set[_Conn]) -> None:
        """Send each connection what it is owed; close it once nothing more can happen on it.
        One call for all of them: after a commit that is every connection it covered."""
        ring = self.ring
        assert ring is not None
        live = self._conns
        for conn in conns:
            if conn.sending or conn.fd not in live:
                continue
            if not conn.gone:
                payload = b""
                if conn.durable > conn.acked:
                    payload = b"%d\n" % conn.durable   # ack_line(), inlined on the hot path
                    conn.acked = conn.durable
                    self._acks_sent += 1
                if conn.error is not None and conn.durable == conn.received and not conn.error_sent:
                    payload += conn.error
                    conn.error_sent = True
                if payload:
                    conn.sending = True
                    ring.send(conn.fd, payload, _MSG_NOSIGNAL, callback=self._on_send, context=conn)
                    continue
            if conn.recv_live or conn.durable != conn.received:
                continue
            if conn.error is not None and not conn.error_sent and not conn.gone:
                continue
            del live[conn.fd]
            os.close(conn.fd)
            self.stats["closed"] += 1

    def _commit(self) -> None:
        ring = self.ring
        assert ring is not None
        sync = self.sync != "none"
        if self.group_commit:
            data, waiting = self._pending.take_group()
            ring.reserve(2)
            if sync:
                wop = ring.write(self._log_fd, data, None, self._offset, _LINK, callback=self._on_commit_cqe)
                ring.queue(self._fsync_sqe, callback=self._on_group_sync, context=(wop, waiting))
                self._commit_left = 2
            else:
                ring.write(self._log_fd, data, None, self._offset, 0, callback=self._on_group_write,
                           context=waiting)
                self._commit_left = 1
            self._offset += len(data)
            self._backlog -= len(data)
            self.stats["commits"] += 1
            self.stats["fsyncs"] += sync
            self.stats["records"] += data.count(b"\n")
            self.stats["bytes"] += len(data)
        else:
            batch = self._pending.take_records(_CHAIN_RECORDS)
            ring.reserve(2 * len(batch))
            n = len(batch)
            for i, (rec, conn, count) in enumerate(batch):
                last = i == n - 1
                if sync:
                    wop = ring.write(self._log_fd, rec, None, self._offset, _LINK, callback=self._on_commit_cqe)
                    ring.queue(self._fsync_sqe if last else self._fsync_link,
                               callback=self._on_record_sync, context=(wop, conn, count))
                else:
                    ring.write(self._log_fd, rec, None, self._offset, 0 if last else _LINK,
                               callback=self._on_record_sync, context=(None, conn, count))
                self._offset += len(rec)
                self._backlog -= len(rec)
                self.stats["bytes"] += len(rec)
            self.stats["records"] += n
            self._commit_left = 2 * n if sync else n
            self.stats["commits"] += 1
            self.stats["fsyncs"] += n if sync else 0

    def _on_group_write(self, op: Any, res: int, flags: int) -> None:
        self._commit_left -= 1
        if res != len(op.buffer):
            self._fail(op, op, res)
            return
        for conn, count in op.context.items():
            conn.durable = count
        self._dirty.update(op.context)

    def _begin_shutdown(self) -> None:
        """Stop accepting and reading; what was received is committed and acked, then each
        connection closes (the loop ends when none is left)."""
        self._stopping = True
        ring = self.ring
        assert ring is not None
        if self._accept_op is not None:
            ring.cancel(self._accept_op)
        self._rearm.extend(self._held)   # not re-armed now: the next _flush lets them finish
        self._held = []
        for conn in self._conns.values():
            if conn.recv_live:
                ring.queue(ops.shutdown(conn.fd, socket.SHUT_RD))
            else:
                self._dirty.add(conn)


def serve(listen: str | tuple[str, int], log_path: str, *, sync: str = "fsync", group_commit: bool = True,
          sqpoll: bool = False, max_record: int = DEFAULT_MAX_RECORD,
          ready: Callable[[LogServer], Any] | None = None, handle_signals: bool = True, **tuning: Any) -> dict:
    """Run a logd server on one io_uring until SIGINT/SIGTERM (or LogServer.stop()); returns
    its stats. `ready(server)` is called once it listens (server.address has the port)."""
    address = parse_address(listen) if isinstance(listen, str) else listen
    server = LogServer(address, log_path, sync=sync, group_commit=group_commit, sqpoll=sqpoll,
                       max_record=max_record, **tuning)
    restore = {}
    if handle_signals and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            restore[sig] = signal.signal(sig, lambda *_: server.stop())
    try:
        return server.serve_forever(ready)
    finally:
        for sig, old in restore.items():
            signal.signal(sig, old)
