"""Whole-file helpers: read_bytes/read_text and write_bytes/write_text as one linked
openat -> read|write -> close through a fixed-file slot (one round trip per small file)."""

from __future__ import annotations

import os
from typing import Any

from uring import ops as _ops
from uring._uapi import SqeFlags
from uring.aio._fast import current_driver, queue
from uring.aio.ops import submit
from uring.ops import AT_FDCWD

__all__ = ["read_bytes", "read_text", "write_bytes", "write_text"]

_FIRST_READ = 64 * 1024
_SLOTS = 256
_LINK = int(SqeFlags.IO_LINK)
_HARDLINK = int(SqeFlags.IO_HARDLINK)
_FIXED = int(SqeFlags.FIXED_FILE)


class _Slots:
    """Fixed-file slots of one ring for the linked open/read/close chains (a direct
    descriptor is the only way a linked read can use the fd an open makes). Each slot keeps
    its 64 KiB read buffer and its read and close SQEs, prepared once: only the open
    differs from one file to the next."""

    def __init__(self, ring: Any) -> None:
        ring.register_files_sparse(_SLOTS)
        self.free = list(range(_SLOTS))
        self.bufs = [bytearray(_FIRST_READ) for _ in range(_SLOTS)]
        self.reads = []
        self.closes = []
        for slot in range(_SLOTS):
            read_sqe = _ops.read(slot, self.bufs[slot], _FIRST_READ, 0)
            # A hard link: a short read (any file under 64 KiB) must not cancel the close.
            read_sqe.flags = _HARDLINK | _FIXED
            self.reads.append(read_sqe)
            self.closes.append(_ops.close_direct(slot))


def _slots(driver: Any) -> _Slots | None:
    """The ring's slots (made on first use), or None where the ring cannot have them."""
    ring = driver.ring
    slots = getattr(ring, "_aio_slots", None)
    if slots is None:
        try:
            slots = _Slots(ring)
        except (OSError, NotImplementedError):
            slots = False   # remembered: no fixed-file table on this ring
        try:
            ring._aio_slots = slots
        except AttributeError:
            return None
    return slots if isinstance(slots, _Slots) else None


def _lease(slots: _Slots) -> tuple[int, Any]:
    """Take a free slot; it goes back once `release` was called twice: by the close's final
    CQE (the kernel is done with it) and by the task (its buffer was copied out)."""
    slot = slots.free.pop()
    holds = [2]

    def release(*_: Any) -> None:
        holds[0] -= 1
        if holds[0] == 0:
            slots.free.append(slot)
    return slot, release


async def _opened(fut: Any, path: Any) -> None:
    try:
        await fut
    except OSError as exc:
        exc.filename = os.fsdecode(path)
        raise


async def read_bytes(path: Any) -> bytes:
    """The whole file at `path`. Files up to 64 KiB take one linked chain (openat into a
    fixed-file slot, read, close), more go on with the file's size."""
    driver = current_driver()
    slots = _slots(driver)
    if slots is None or not slots.free:
        return await _read_plain(path)
    slot, release = _lease(slots)
    open_sqe = _ops.openat_direct(AT_FDCWD, path, os.O_RDONLY, 0, slot)  # direct: no O_CLOEXEC
    open_sqe.flags = _LINK
    opened = queue(open_sqe)
    got = queue(slots.reads[slot])
    driver.ring.queue(slots.closes[slot], callback=release)
    try:
        await _opened(opened, path)
        n = await got
        data = bytes(memoryview(slots.bufs[slot])[:n])
    finally:
        release()
    if n < _FIRST_READ:
        return data
    return data + await _read_rest(path, n)


async def _read_rest(path: Any, start: int) -> bytes:
    fd = await submit(_ops.openat(AT_FDCWD, path, os.O_RDONLY | os.O_CLOEXEC, 0))
    try:
        parts = []
        size = max(os.fstat(fd).st_size - start, 0) + 1
        off = start
        while True:
            buf = bytearray(max(size, _FIRST_READ))
            from uring.aio._fast import read
            n = await read(fd, buf, len(buf), off)
            if n == 0:
                break
            del buf[n:]
            parts.append(bytes(buf))
            off += n
        return b"".join(parts)
    finally:
        await submit(_ops.close(fd))


async def _read_plain(path: Any) -> bytes:
    return await _read_rest(path, 0)


async def read_text(path: Any, encoding: str | None = None, errors: str | None = None) -> str:
    """The whole file decoded, with universal newlines (as pathlib.Path.read_text)."""
    import io
    data = await read_bytes(path)
    return io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors=errors).read()


async def write_bytes(path: Any, data: Any) -> int:
    """Create or truncate `path` and write `data`: one linked chain (openat into a
    fixed-file slot, write, close) when the ring has slots, else open, write, close.
    Returns the bytes written."""
    view = memoryview(data).cast("B")
    driver = current_driver()
    slots = _slots(driver)
    if slots is None or not slots.free:
        return await _write_from(path, view, 0, _CREATE)
    slot, release = _lease(slots)
    open_sqe = _ops.openat_direct(AT_FDCWD, path, _CREATE, 0o666, slot)
    open_sqe.flags = _LINK
    write_sqe = _ops.write(slot, view, len(view), 0)
    # A hard link: a failed or short write must not cancel the close.
    write_sqe.flags = _HARDLINK | _FIXED
    opened = queue(open_sqe)
    wrote = queue(write_sqe)
    driver.ring.queue(_ops.close_direct(slot), callback=release)
    try:
        await _opened(opened, path)
        n = await wrote
    finally:
        release()
    if n < len(view):   # a short write (a full disk answers ENOSPC on the next one)
        return await _write_from(path, view, n, os.O_WRONLY)
    return n


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC


async def _write_from(path: Any, view: memoryview, off: int, flags: int) -> int:
    fd = await submit(_ops.openat(AT_FDCWD, path, flags | os.O_CLOEXEC, 0o666))
    try:
        from uring.aio._fast import write
        while off < len(view):
            off += await write(fd, view[off:], len(view) - off, off)
        return off
    finally:
        await submit(_ops.close(fd))


async def write_text(path: Any, data: str, encoding: str | None = None, errors: str | None = None,
                     newline: str | None = None) -> int:
    """Write `data` encoded (newline translation as pathlib.Path.write_text); returns the
    characters written."""
    import io
    if not isinstance(data, str):
        raise TypeError(f"data must be str, not {type(data).__name__}")
    buf = io.BytesIO()
    wrapper = io.TextIOWrapper(buf, encoding=encoding, errors=errors, newline=newline)
    wrapper.write(data)
    wrapper.flush()
    await write_bytes(path, buf.getvalue())
    return len(data)
