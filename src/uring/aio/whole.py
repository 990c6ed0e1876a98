"""Whole-file helpers: read_bytes/read_text and write_bytes/write_text as one linked
openat -> read|write -> close through a fixed-file slot (one round trip per small file)."""

from __future__ import annotations

import os
from typing import Any, Callable

from uring import ops as _ops
from uring._uapi import SqeFlags
from uring.aio._fast import current_driver, queue, read, write
from uring.aio.ops import submit
from uring.ops import AT_FDCWD

__all__ = ["read_bytes", "read_text", "write_bytes", "write_text"]

_FIRST_READ = 64 * 1024
_SLOTS = 256
_LINK = int(SqeFlags.IO_LINK)
_HARDLINK = int(SqeFlags.IO_HARDLINK)
_FIXED = int(SqeFlags.FIXED_FILE)
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC


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


async def _through_slot(driver: Any, slots: _Slots, path: Any, flags: int, mode: int,
                        middle: Callable[[int], Any],
                        copy_out: Callable[[int, int], Any] | None = None) -> tuple[int, Any]:
    """One linked chain through a free slot: openat into it (direct: no O_CLOEXEC), the
    `middle(slot)` SQE, close. Returns the middle op's res and `copy_out(slot, res)`, taken
    before the slot is given back. The slot goes back once both the close's final CQE (the
    kernel is done with it) and this task (the slot's buffer was copied out) let go."""
    slot = slots.free.pop()
    try:   # both SQEs made before any is queued: a bad path or buffer queues nothing
        open_sqe = _ops.openat_direct(AT_FDCWD, path, flags, mode, slot)
        open_sqe.flags = _LINK
        middle_sqe = middle(slot)
    except BaseException:
        slots.free.append(slot)
        raise
    holds = [2]

    def release(*_: Any) -> None:
        holds[0] -= 1
        if holds[0] == 0:
            slots.free.append(slot)

    opened = queue(open_sqe)
    done = queue(middle_sqe)
    driver.ring.queue(slots.closes[slot], callback=release)
    try:
        try:
            await opened
        except OSError as exc:
            exc.filename = os.fsdecode(path)
            raise
        n = await done
        return n, None if copy_out is None else copy_out(slot, n)
    finally:
        release()


async def read_bytes(path: Any) -> bytes:
    """The whole file at `path`. Files up to 64 KiB take one linked chain (openat into a
    fixed-file slot, read, close), more go on with the file's size."""
    driver = current_driver()
    slots = _slots(driver)
    if slots is None or not slots.free:
        return await _read_rest(path, 0)
    n, data = await _through_slot(driver, slots, path, os.O_RDONLY, 0, slots.reads.__getitem__,
                                  lambda slot, n: bytes(memoryview(slots.bufs[slot])[:n]))
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
            n = await read(fd, buf, len(buf), off)
            if n == 0:
                break
            del buf[n:]
            parts.append(bytes(buf))
            off += n
        return b"".join(parts)
    finally:
        await submit(_ops.close(fd))


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
    n, _ = await _through_slot(driver, slots, path, _CREATE, 0o666, lambda slot: _fixed_write(slot, view))
    if n < len(view):   # a short write (a full disk answers ENOSPC on the next one)
        return await _write_from(path, view, n, os.O_WRONLY)
    return n


def _fixed_write(slot: int, view: memoryview) -> Any:
    sqe = _ops.write(slot, view, len(view), 0)
    sqe.flags = _HARDLINK | _FIXED   # a hard link: a failed or short write must not cancel the close
    return sqe


async def _write_from(path: Any, view: memoryview, off: int, flags: int) -> int:
    fd = await submit(_ops.openat(AT_FDCWD, path, flags | os.O_CLOEXEC, 0o666))
    try:
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
