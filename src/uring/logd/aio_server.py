"""The same logd server on asyncio (stdlib loop or uvloop), for side-by-side measurement:
same protocol, same group commit and per-record modes, write + fsync in one worker thread.

Like the io_uring server, one commit runs at a time and writes at explicit offsets, so the
file is always a prefix of the append stream and acks go out only after the fsync returned.
"""

from __future__ import annotations

import asyncio
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable

from uring.logd.protocol import DEFAULT_MAX_RECORD, Framer, PendingRecords, RecordTooLong, ack_line, too_long_line
from uring.logd.server import SYNC_MODES, open_log, parse_address

__all__ = ["AioLogServer", "serve_asyncio", "LOOPS"]

LOOPS = ("asyncio", "uvloop", "uring-loop")


def _write_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, offset)
        view = view[n:]
        offset += n


def _commit_group(fd: int, data: bytes, offset: int, sync: Callable[[int], None] | None) -> None:
    _write_all(fd, data, offset)
    if sync is not None:
        sync(fd)


def _commit_records(fd: int, records: list[bytes], offset: int, sync: Callable[[int], None] | None) -> None:
    # One fsync per record, as the io_uring server's per-record chain; one thread hop per batch.
    for rec in records:
        _write_all(fd, rec, offset)
        offset += len(rec)
        if sync is not None:
            sync(fd)


class _Conn(asyncio.Protocol):
    def __init__(self, server: "AioLogServer") -> None:
        self.server = server
        self.framer = Framer(server.max_record)
        self.transport: Any = None
        self.received = 0
        self.durable = 0
        self.acked = 0
        self.eof = False
        self.gone = False
        self.error: bytes | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.server.conns.add(self)
        self.server.stats["accepted"] += 1
        if self.server.stopping:
            self.eof = True
            transport.pause_reading()
            self.server.settle(self)

    def data_received(self, data: bytes) -> None:
        if self.error is not None or self.eof:
            return
        try:
            complete, count = self.framer.feed(data)
        except RecordTooLong:
            self.server.stats["too_long"] += 1
            self.error = too_long_line(self.server.max_record)
            self.eof = True
            self.transport.pause_reading()
            self.server.settle(self)
            return
        if count:
            self.received += count
            self.server.take(self, complete, count)

    def eof_received(self) -> bool:
        self.eof = True
        self.server.stats["cut_short_bytes"] += self.framer.partial
        self.server.settle(self)
        return True   # keep the write side open: the client may wait for its last acks

    def connection_lost(self, exc: BaseException | None) -> None:
        self.gone = True
        self.eof = True
        self.server.conns.discard(self)
        self.server.closing.discard(self)
        self.server.stats["closed"] += 1
        self.server.wake_done()


class _BufferedConn(_Conn, asyncio.BufferedProtocol):
    """_Conn receiving into one buffer shared by every connection (copied out at once, like
    the ring server's provided buffers). For the stdlib loop, where a plain Protocol costs
    for no reason of ours: its selector transport allocates a fresh 256 KiB bytes per recv,
    which glibc maps and unmaps each time (perf: a third of that server's CPU in
    mmap/mremap/munmap; 2.3x the acks per CPU-second without it). uvloop and uring.loop
    hand a plain Protocol exact-size bytes, and there the two calls per read of a
    BufferedProtocol cost more than they save, so they keep _Conn."""

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.server.recv_buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(bytes(self.server.recv_buffer[:nbytes]))


_RECV_BUFFER = 65536


class AioLogServer:
    """The asyncio logd server; `await start()`, then `await run()` until stop().
    `buffered`: receive through asyncio.BufferedProtocol (best on the stdlib loop)."""

    def __init__(self, listen: tuple[str, int], log_path: str, *, sync: str = "fsync",
                 group_commit: bool = True, max_record: int = DEFAULT_MAX_RECORD,
                 buffered: bool = False) -> None:
        if sync not in SYNC_MODES:
            raise ValueError(f"sync must be one of {SYNC_MODES}, got {sync!r}")
        Framer(max_record)
        self.listen = listen
        self.max_record = max_record
        self.group_commit = bool(group_commit)
        self._sync = {"fsync": os.fsync, "fdatasync": os.fdatasync, "none": None}[sync]
        self._fd, self._offset = open_log(log_path)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="logd-fsync")
        self.conns: set[_Conn] = set()
        self._conn_class: type[_Conn] = _BufferedConn if buffered else _Conn
        self.recv_buffer = memoryview(bytearray(_RECV_BUFFER)) if buffered else memoryview(b"")
        self.closing: set[_Conn] = set()
        self._pending = PendingRecords(self.group_commit)
        self._committing = False
        self.stopping = False
        self._done: asyncio.Event | None = None
        self._server: Any = None
        self.address: tuple[str, int] = ("", 0)
        self.fatal: OSError | None = None
        self.stats = {"accepted": 0, "closed": 0, "records": 0, "bytes": 0, "commits": 0,
                      "fsyncs": 0, "acks_sent": 0, "too_long": 0, "cut_short_bytes": 0}

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._done = asyncio.Event()
        make = self._conn_class
        self._server = await loop.create_server(lambda: make(self), self.listen[0], self.listen[1],
                                                backlog=4096, reuse_address=True)
        self.address = self._server.sockets[0].getsockname()[:2]

    def take(self, conn: _Conn, complete: bytes, count: int) -> None:
        self.stats["records"] += count
        self.stats["bytes"] += len(complete)
        self._pending.add(conn, complete, count, conn.received)
        if not self._committing:
            self._committing = True
            asyncio.get_running_loop().create_task(self._commit_loop())

    async def _commit_loop(self) -> None:
        loop = asyncio.get_running_loop()
        reached: Iterable[tuple[_Conn, int]]
        try:
            while self._pending:
                if self.group_commit:
                    data, waiting = self._pending.take_group()
                    await loop.run_in_executor(self._pool, _commit_group, self._fd, data, self._offset, self._sync)
                    self._offset += len(data)
                    self.stats["fsyncs"] += self._sync is not None
                    reached = waiting.items()
                else:
                    batch = self._pending.take_records()
                    recs = [r for r, _, _ in batch]
                    await loop.run_in_executor(self._pool, _commit_records, self._fd, recs, self._offset,
                                               self._sync)
                    self._offset += sum(map(len, recs))
                    self.stats["fsyncs"] += len(recs) if self._sync is not None else 0
                    reached = ((c, n) for _, c, n in batch)
                self.stats["commits"] += 1
                touched = set()
                for conn, count in reached:
                    conn.durable = count
                    touched.add(conn)
                for conn in touched:
                    self.settle(conn)
        except OSError as exc:
            self.fatal = exc
            line = b"ERR log write failed: %s\n" % os.strerror(exc.errno or 5).encode()
            self._pending.clear()
            for conn in list(self.conns):
                conn.received = conn.durable
                conn.error = line
                self.settle(conn)
            self.stop()
        finally:
            self._committing = False
            self.wake_done()

    def settle(self, conn: _Conn) -> None:
        if conn.gone:
            return
        if conn.durable > conn.acked:
            conn.acked = conn.durable
            conn.transport.write(ack_line(conn.durable))
            self.stats["acks_sent"] += 1
        if conn.eof and conn.durable == conn.received and conn not in self.closing:
            if conn.error is not None:
                conn.transport.write(conn.error)
            self.closing.add(conn)
            conn.transport.close()

    def wake_done(self) -> None:
        if self.stopping and not self.conns and not self._committing and self._done is not None:
            self._done.set()

    def stop(self) -> None:
        """Stop accepting and reading; commit and ack what was received, then close."""
        if self.stopping:
            return
        self.stopping = True
        if self._server is not None:
            self._server.close()
        for conn in list(self.conns):
            if not conn.eof:
                self.stats["cut_short_bytes"] += conn.framer.partial
            conn.eof = True
            if not conn.gone:
                conn.transport.pause_reading()
            self.settle(conn)
        self.wake_done()

    async def run(self) -> dict:
        assert self._done is not None
        try:
            await self._done.wait()
        finally:
            self._pool.shutdown()
            os.close(self._fd)
        if self.fatal is not None:
            raise self.fatal
        return self.stats


def serve_asyncio(listen: str | tuple[str, int], log_path: str, *, loop: str = "asyncio", sync: str = "fsync",
                  group_commit: bool = True, max_record: int = DEFAULT_MAX_RECORD,
                  ready: Callable[[AioLogServer], Any] | None = None) -> dict:
    """Run the asyncio logd server (`loop`: "asyncio", "uvloop" or "uring-loop", this project's
    asyncio loop) until SIGINT/SIGTERM."""
    if loop not in LOOPS:
        raise ValueError(f"loop must be one of {LOOPS}, got {loop!r}")
    address = parse_address(listen) if isinstance(listen, str) else listen
    server = AioLogServer(address, log_path, sync=sync, group_commit=group_commit, max_record=max_record,
                          buffered=loop == "asyncio")

    async def main() -> dict:
        await server.start()
        running = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            running.add_signal_handler(sig, server.stop)
        if ready is not None:
            ready(server)
        return await server.run()

    if loop == "uvloop":
        import uvloop
        return uvloop.run(main())
    if loop == "uring-loop":
        from uring.loop import run   # this project's asyncio event loop on io_uring
        return run(main())
    return asyncio.run(main())
