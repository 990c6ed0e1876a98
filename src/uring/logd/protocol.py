"""The logd wire protocol and log file rules shared by every server and client: records are
lines, acks are cumulative counts, a torn tail left by a crash is cut off at startup.

Protocol: a client sends records, each a line ending in b"\\n" and at most `max_record` bytes
long (newline included). On the same connection the server answers lines b"<n>\\n", n being
how many of that connection's records are durable so far (cumulative: one ack line may cover
many records). A record longer than the limit gets b"ERR ...\\n" and the connection closes;
bytes after the last newline when a client disconnects are a cut-short record: dropped.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["DEFAULT_MAX_RECORD", "RecordTooLong", "Framer", "AckReader", "PendingRecords",
           "ack_line", "too_long_line", "recover_log", "make_record"]

# 1 MiB per record bounds what one connection can make the server hold in memory.
DEFAULT_MAX_RECORD = 1 << 20


class RecordTooLong(ValueError):
    """A client sent a line longer than the server's record limit."""


def ack_line(count: int) -> bytes:
    """The ack a server sends once `count` records of a connection are durable."""
    return b"%d\n" % count


def too_long_line(limit: int) -> bytes:
    """The error line a client gets for a record longer than `limit` bytes."""
    return b"ERR record longer than %d bytes (newline included)\n" % limit


class Framer:
    """Splits one connection's byte stream into whole records.

    feed() returns the bytes of the records completed by `data` (everything up to the last
    newline, joined with earlier partial bytes) and how many records that is; the bytes after
    the last newline wait for the next feed. Raises RecordTooLong once a line exceeds `limit`.
    `partial` (read-only) is how many bytes of a started record wait (dropped if the client
    goes away).
    """

    __slots__ = ("limit", "_parts", "partial")

    def __init__(self, limit: int = DEFAULT_MAX_RECORD) -> None:
        if not isinstance(limit, int) or limit < 2:
            raise ValueError(f"the record limit must be an int >= 2, got {limit!r}")
        self.limit = limit
        self._parts: list[bytes] = []
        self.partial = 0

    def feed(self, data: bytes) -> tuple[bytes, int]:
        if not self.partial and data[-1:] == b"\n" and len(data) <= self.limit:
            # The common receive: whole records as it stands, none over the limit.
            return data, data.count(b"\n")
        nl = data.rfind(b"\n")
        if nl < 0:
            self.partial += len(data)
            if self.partial >= self.limit:
                raise RecordTooLong(self.limit)
            self._parts.append(data)
            return b"", 0
        end = nl + 1
        if self._parts:
            self._parts.append(data[:end])
            complete = b"".join(self._parts)
            self._parts = []
        else:
            complete = data if end == len(data) else data[:end]
        rest = len(data) - end
        self.partial = rest
        if rest:
            if rest >= self.limit:
                raise RecordTooLong(self.limit)
            self._parts.append(data[end:])
        if len(complete) > self.limit:
            self._check_lines(complete)
        return complete, complete.count(b"\n")

    def _check_lines(self, complete: bytes) -> None:
        # Only chunks longer than the limit can hold a line that is: the common case skips this.
        start = 0
        while start < len(complete):
            end = complete.index(b"\n", start) + 1
            if end - start > self.limit:
                raise RecordTooLong(self.limit)
            start = end


class AckReader:
    """The client side: turns the server's byte stream into the latest cumulative count;
    an b"ERR" line becomes `error`."""

    __slots__ = ("acked", "error", "_rest")

    def __init__(self) -> None:
        self.acked = 0
        self.error: str | None = None
        self._rest = b""

    def feed(self, data: bytes) -> int:
        """Returns the latest count after `data` (unchanged when no full line arrived)."""
        if self._rest:
            data = self._rest + data
        nl = data.rfind(b"\n")
        if nl < 0:
            self._rest = data
            return self.acked
        self._rest = data[nl + 1:]
        lines = data[:nl].split(b"\n")
        for line in reversed(lines):
            if line.startswith(b"ERR"):
                self.error = line.decode(errors="replace")
                continue
            count = int(line)
            if count < self.acked:
                raise ValueError(f"ack went backwards: {count} after {self.acked}")
            self.acked = count
            break
        return self.acked


class PendingRecords:
    """Whole records received and not yet in a commit, kept the way the next commit takes them:
    for group commit, the bytes to write as one and the count each connection reaches; per
    record, (record, connection, count it reaches) for one write -> fsync each."""

    __slots__ = ("group_commit", "chunks", "waiting", "records")

    def __init__(self, group_commit: bool) -> None:
        self.group_commit = group_commit
        self.chunks: list[bytes] = []
        self.waiting: dict[Any, int] = {}
        self.records: list[tuple[bytes, Any, int]] = []

    def __bool__(self) -> bool:
        return bool(self.chunks or self.records)

    def add(self, conn: Any, complete: bytes, count: int, reached: int) -> None:
        """`complete` holds `count` whole records of `conn`, after which it has sent `reached`."""
        if self.group_commit:
            self.chunks.append(complete)
            self.waiting[conn] = reached
        elif count == 1:
            self.records.append((complete, conn, reached))
        else:
            for i, rec in enumerate(complete.split(b"\n")[:-1], reached - count + 1):
                self.records.append((rec + b"\n", conn, i))

    def take_group(self) -> tuple[bytes, dict[Any, int]]:
        """Everything waiting as one write, and the count each connection reaches with it."""
        data = self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)
        waiting = self.waiting
        self.chunks, self.waiting = [], {}
        return data, waiting

    def take_records(self, limit: int | None = None) -> list[tuple[bytes, Any, int]]:
        """The oldest `limit` records (all by default), in arrival order."""
        batch = self.records[:limit]
        del self.records[:limit]
        return batch

    def clear(self) -> None:
        self.chunks, self.waiting, self.records = [], {}, []


def recover_log(path: str, *, block: int = 65536) -> tuple[int, int]:
    """Cut a torn tail (bytes after the last newline, from a write a crash cut short: never
    acknowledged) off the log at `path`, creating it if absent. Returns (size, bytes dropped)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        size = os.fstat(fd).st_size
        end = size
        while end > 0:
            start = max(0, end - block)
            nl = os.pread(fd, end - start, start).rfind(b"\n")
            if nl >= 0:
                end = start + nl + 1
                break
            end = start
        if end != size:
            os.ftruncate(fd, end)
            os.fsync(fd)
        return end, size - end
    finally:
        os.close(fd)


def make_record(client: int, seq: int, size: int) -> bytes:
    """A record of exactly `size` bytes naming its client and sequence number (bench and
    tests check order and integrity from it)."""
    head = b"%d %d " % (client, seq)
    if size < len(head) + 1:
        raise ValueError(f"a record of {size} bytes cannot hold {head!r} and a newline")
    return head + b"x" * (size - len(head) - 1) + b"\n"
