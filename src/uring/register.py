"""Registered resources: fixed files and buffers, eventfd, personalities, restrictions,
io-wq tuning, registered ring fds, the CQ wait clock and NAPI busy polling, as methods of
Ring (io_uring_register(2) through the core's ``_register``).

Buffer rings (IORING_REGISTER_PBUF_RING) live in ``bufring``; synchronous cancel
(IORING_REGISTER_SYNC_CANCEL) in ``cancellation``.

Lifetimes. The kernel pins the pages of a registered buffer, but Python could still free
the object and hand its memory to another one, which a READ_FIXED would then overwrite.
So every registered buffer stays pinned on the ring (``Ring.registered_buffers``) until it
is replaced, unregistered, or the ring is closed: a registered bytearray cannot be
resized meanwhile (BufferError). Registered files need nothing of the kind: the kernel
holds its own reference, so closing the original fd is fine.

Tags. Resource tags (``*_tags`` methods) make the kernel post a CQE with
``user_data = tag`` once a tagged file or buffer is really released. Our own user_data
packs a slot and a non-zero generation in the upper half, so tags are limited to
1..2**32-1: their CQEs can never be mistaken for an op's. They reach
``ring.foreign_cqe_handler(user_data, res, flags)`` (or count in ``ring.stale_cqes``
when no handler is set).
"""

from __future__ import annotations

import array
import errno
import os
import re
import struct
import threading
import time
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from uring._core import Pin
from uring._uapi import (
    FILE_INDEX_RANGE,
    IO_URING_QUERY_OPCODES,
    IORING_REGISTER_DST_REPLACE,
    IORING_REGISTER_FILES_SKIP,
    IORING_RSRC_REGISTER_SPARSE,
    QUERY_HDR,
    RESTRICTION,
    RSRC_REGISTER,
    RSRC_UPDATE,
    RSRC_UPDATE2,
    RegisterOp,
    RestrictionOp,
)
from uring.errors import RingClosed, UnsupportedFeature, kernel_release

__all__ = ["RegisterMixin", "NapiOp", "NapiTracking", "register_op_supported",
           "register_op_name", "MAX_TAG"]


class NapiOp(IntEnum):
    """io_uring_napi.opcode (Linux 6.13 added the static-tracking ops)."""

    REGISTER_OP = 0
    STATIC_ADD_ID = 1
    STATIC_DEL_ID = 2


class NapiTracking(IntEnum):
    """io_uring_napi.op_param for NapiOp.REGISTER_OP: how NAPI ids are tracked."""

    DYNAMIC = 0
    STATIC = 1
    INACTIVE = 255


# Kernel structs not (yet) in _uapi; "=" with every pad spelled out, as there.
_NAPI = struct.Struct("=IBB2xII")            # struct io_uring_napi
_CLOCK_REGISTER = struct.Struct("=I12x")     # struct io_uring_clock_register
_CLONE_BUFFERS = struct.Struct("=5I12x")     # struct io_uring_clone_buffers
_IOVEC = struct.Struct("=QQ")
_QUERY_OPCODES_HEAD = struct.Struct("=II")   # nr_request_opcodes, nr_register_opcodes
assert _NAPI.size == 16 and _CLOCK_REGISTER.size == 16 and _CLONE_BUFFERS.size == 32

MAX_TAG = 0xFFFFFFFF
_S32_MAX = 0x7FFFFFFF
_U32_MAX = 0xFFFFFFFF
_MAX_BUFFER_LEN = 1 << 30        # the kernel refuses registered buffers over 1 GiB
_RING_FD_SLOTS = 16              # IO_RINGFD_REG_MAX
_MAX_CPUS = 1 << 16

# The kernel release that introduced each register opcode, to tell "this kernel does not
# know the opcode" from "bad arguments" (both are EINVAL) when IORING_REGISTER_QUERY,
# which answers it exactly, is itself missing.
_ADDED_IN: dict[int, tuple[int, int]] = {
    RegisterOp.BUFFERS: (5, 1), RegisterOp.UNREGISTER_BUFFERS: (5, 1),
    RegisterOp.FILES: (5, 1), RegisterOp.UNREGISTER_FILES: (5, 1),
    RegisterOp.EVENTFD: (5, 2), RegisterOp.UNREGISTER_EVENTFD: (5, 2),
    RegisterOp.FILES_UPDATE: (5, 5),
    RegisterOp.EVENTFD_ASYNC: (5, 6), RegisterOp.PROBE: (5, 6),
    RegisterOp.PERSONALITY: (5, 6), RegisterOp.UNREGISTER_PERSONALITY: (5, 6),
    RegisterOp.RESTRICTIONS: (5, 10), RegisterOp.ENABLE_RINGS: (5, 10),
    RegisterOp.FILES2: (5, 13), RegisterOp.FILES_UPDATE2: (5, 13),
    RegisterOp.BUFFERS2: (5, 13), RegisterOp.BUFFERS_UPDATE: (5, 13),
    RegisterOp.IOWQ_AFF: (5, 14), RegisterOp.UNREGISTER_IOWQ_AFF: (5, 14),
    RegisterOp.IOWQ_MAX_WORKERS: (5, 15),
    RegisterOp.RING_FDS: (5, 18), RegisterOp.UNREGISTER_RING_FDS: (5, 18),
    RegisterOp.PBUF_RING: (5, 19), RegisterOp.UNREGISTER_PBUF_RING: (5, 19),
    RegisterOp.SYNC_CANCEL: (6, 0), RegisterOp.FILE_ALLOC_RANGE: (6, 0),
    RegisterOp.PBUF_STATUS: (6, 8),
    RegisterOp.NAPI: (6, 9), RegisterOp.UNREGISTER_NAPI: (6, 9),
    RegisterOp.CLOCK: (6, 12), RegisterOp.CLONE_BUFFERS: (6, 12),
    RegisterOp.SEND_MSG_RING: (6, 13), RegisterOp.RESIZE_RINGS: (6, 13),
    RegisterOp.MEM_REGION: (6, 13), RegisterOp.ZCRX_IFQ: (6, 15),
    RegisterOp.QUERY: (6, 18),
}

# What an errno means for a given register op, in words a user can act on.
_HINTS: dict[tuple[int, int], str] = {
    (RegisterOp.UNREGISTER_FILES, errno.ENXIO): "no files are registered",
    (RegisterOp.UNREGISTER_BUFFERS, errno.ENXIO): "no buffers are registered",
    (RegisterOp.UNREGISTER_EVENTFD, errno.ENXIO): "no eventfd is registered",
    (RegisterOp.FILES_UPDATE, errno.ENXIO): "no file table is registered",
    (RegisterOp.FILES_UPDATE2, errno.ENXIO): "no file table is registered",
    (RegisterOp.BUFFERS_UPDATE, errno.ENXIO): "no buffer table is registered",
    (RegisterOp.FILES, errno.EBUSY): "files are already registered (unregister or update them)",
    (RegisterOp.FILES2, errno.EBUSY): "files are already registered (unregister or update them)",
    (RegisterOp.BUFFERS, errno.EBUSY): "buffers are already registered (unregister or update them)",
    (RegisterOp.BUFFERS2, errno.EBUSY): "buffers are already registered (unregister or update them)",
    (RegisterOp.CLONE_BUFFERS, errno.EBUSY): "this ring already has buffers "
                                             "(pass IORING_REGISTER_DST_REPLACE)",
    (RegisterOp.CLONE_BUFFERS, errno.ENXIO): "the source ring has no registered buffers",
    (RegisterOp.EVENTFD, errno.EBUSY): "an eventfd is already registered",
    (RegisterOp.EVENTFD_ASYNC, errno.EBUSY): "an eventfd is already registered",
    (RegisterOp.RESTRICTIONS, errno.EBADFD): "the ring must still be disabled: created with "
                                             "IORING_SETUP_R_DISABLED, before enable_rings()",
    (RegisterOp.RESTRICTIONS, errno.EBUSY): "restrictions can be registered only once",
    (RegisterOp.ENABLE_RINGS, errno.EBADFD): "the ring is not disabled (IORING_SETUP_R_DISABLED)",
    (RegisterOp.BUFFERS, errno.ENOMEM): "over RLIMIT_MEMLOCK?",
    (RegisterOp.BUFFERS2, errno.ENOMEM): "over RLIMIT_MEMLOCK?",
    (RegisterOp.BUFFERS_UPDATE, errno.ENOMEM): "over RLIMIT_MEMLOCK?",
}


def register_op_name(op: int) -> str:
    """The kernel's name of a register opcode: IORING_REGISTER_FILES, IORING_UNREGISTER_..."""
    try:
        name = RegisterOp(op).name
    except ValueError:
        return f"register opcode {op}"
    return "IORING_" + name if name.startswith("UNREGISTER_") else "IORING_REGISTER_" + name


# nr_register_opcodes from IORING_REGISTER_QUERY; None: the kernel has no QUERY. The
# answer is the kernel's, so one lookup serves every ring of the process.
_UNKNOWN = object()
_query_register_last: Any = _UNKNOWN


def _kernel_register_last(ring: Any) -> int | None:
    global _query_register_last
    if _query_register_last is not _UNKNOWN:
        return _query_register_last
    keep: list = []
    data = bytearray(_QUERY_OPCODES_HEAD.size)
    hdr = bytearray(QUERY_HDR.pack(0, _address(keep, data), IO_URING_QUERY_OPCODES,
                                   len(data), 0, 0, 0, 0))
    try:
        ring._register(RegisterOp.QUERY, hdr, 0)
    except OSError as exc:
        if exc.errno == errno.EINVAL:
            _query_register_last = None
        return None  # EACCES on a restricted ring, ...: ask again another time
    if QUERY_HDR.unpack(hdr)[4] != 0:
        return None
    _query_register_last = _QUERY_OPCODES_HEAD.unpack(data)[1]
    return _query_register_last


def _release_version() -> tuple[int, int] | None:
    m = re.match(r"(\d+)\.(\d+)", kernel_release())
    return (int(m.group(1)), int(m.group(2))) if m else None


def register_op_supported(ring: Any, op: int) -> bool:
    """Whether the running kernel knows register opcode `op` (asked through `ring`).

    Exact where IORING_REGISTER_QUERY exists (Linux 6.18); older kernels are judged by
    the release that introduced the opcode, so a distribution backport can be missed."""
    last = _kernel_register_last(ring)
    if last is not None:
        return op < last
    if op >= RegisterOp.QUERY:
        return False
    need = _ADDED_IN.get(op)
    have = _release_version()
    if need is None:
        return False
    return have is None or have >= need


def _register_error(ring: Any, op: int, exc: OSError) -> Exception:
    name = register_op_name(op)
    if exc.errno == errno.EINVAL and not register_op_supported(ring, op):
        need = _ADDED_IN.get(op)
        since = f" (added in Linux {need[0]}.{need[1]})" if need else ""
        return UnsupportedFeature(f"{name} unsupported on Linux {kernel_release()}{since}")
    err = exc.errno or 0
    hint = _HINTS.get((op, err))
    message = f"{name}: {exc.strerror or os.strerror(err)}"
    return OSError(err, f"{message} ({hint})" if hint else message)


def _call(ring: Any, op: int, arg: Any = None, nr: int = 0) -> int:
    """io_uring_register with errors that name the op, and UnsupportedFeature for an
    opcode the kernel does not know."""
    try:
        return ring._register(int(op), arg, nr)
    except OSError as exc:
        err = _register_error(ring, op, exc)
        if isinstance(err, UnsupportedFeature):
            raise err from exc
        raise err from None


# -- argument checking and encoding ---------------------------------------------------

def _int(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    return int(value)


def _bounded(value: Any, name: str, low: int, high: int) -> int:
    value = _int(value, name)
    if value < low or value > high:
        raise ValueError(f"{name} must be in {low}..{high}, got {value}")
    return value


def _sequence(values: Any, name: str) -> list:
    if isinstance(values, (str, bytes, bytearray, memoryview)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a list, got {type(values).__name__}")
    return list(values)


def _fd(value: Any, name: str, allow_skip: bool) -> int:
    """A descriptor for a file-table slot: an int or anything with fileno(); -1 empties
    the slot, IORING_REGISTER_FILES_SKIP (-2) leaves it alone in updates."""
    if not isinstance(value, int) and hasattr(value, "fileno"):
        value = value.fileno()
    value = _int(value, name)
    lowest = IORING_REGISTER_FILES_SKIP if allow_skip else -1
    if value < lowest or value > _S32_MAX:
        what = "an fd, -1 (empty) or IORING_REGISTER_FILES_SKIP" if allow_skip else "an fd or -1 (empty)"
        raise ValueError(f"{name} must be {what}, got {value}")
    return value


def _fd_array(fds: Any, allow_skip: bool) -> array.array:
    values = [_fd(v, f"fds[{i}]", allow_skip) for i, v in enumerate(_sequence(fds, "fds"))]
    if not values:
        raise ValueError("fds must not be empty")
    return array.array("i", values)


def _tag_array(tags: Any, count: int, slots: Sequence[Any], empty: Any) -> array.array:
    """u64 tags, one per slot: 0 (untagged) or 1..MAX_TAG, never on an empty slot."""
    values = _sequence(tags, "tags")
    if len(values) != count:
        raise ValueError(f"{count} resources but {len(values)} tags")
    for i, tag in enumerate(values):
        _bounded(tag, f"tags[{i}]", 0, MAX_TAG)
        if tag and slots[i] in empty:
            raise ValueError(f"tags[{i}]: an empty or skipped slot cannot carry a tag")
    return array.array("Q", values)


def _address(keep: list, data: Any) -> int:
    """Address of a nested array the kernel reads through a pointer; `keep` holds the pin
    until the register call returns."""
    pin = Pin(data, True)
    keep.append(pin)
    return pin.addr


def _pin_buffers(buffers: Any) -> list:
    """One writable Pin per buffer (None for an empty slot), checked against the kernel's
    1 byte..1 GiB rule."""
    pins: list[Pin | None] = []
    for i, buf in enumerate(_sequence(buffers, "buffers")):
        if buf is None:
            pins.append(None)
            continue
        try:
            pin = Pin(buf, True)
        except TypeError as exc:
            raise TypeError(f"buffers[{i}]: {exc}") from None
        if not 0 < pin.nbytes <= _MAX_BUFFER_LEN:
            raise ValueError(f"buffers[{i}]: a registered buffer must hold 1 byte..1 GiB, "
                             f"got {pin.nbytes} bytes")
        pins.append(pin)
    if not pins:
        raise ValueError("buffers must not be empty")
    return pins


def _iovec_array(pins: Sequence[Pin | None]) -> bytearray:
    out = bytearray(_IOVEC.size * len(pins))
    for i, pin in enumerate(pins):
        if pin is not None:
            _IOVEC.pack_into(out, i * _IOVEC.size, pin.addr, pin.nbytes)
    return out


def _check_slots(off: int, count: int, table: int, what: str) -> None:
    """Reject a slot range outside a table we know the size of (0: none registered, where
    the kernel's ENXIO says it best)."""
    if table and off + count > table:
        raise ValueError(f"{what} slots {off}..{off + count - 1} are outside the registered "
                         f"table of {table}")


if TYPE_CHECKING:  # the mixin's methods run on a Ring, whose core provides these
    from uring._core import RingCore as _Core
else:
    _Core = object


class RegisterMixin(_Core):
    """io_uring_register(2) operations; mixed into Ring. Names are liburing's without the
    ``io_uring_`` prefix, arguments in liburing's order minus the ring."""

    # Per-instance state, assigned (never mutated in place) by the methods below.
    _buffer_table: tuple = ()            # one Pin or None per registered-buffer slot
    _file_slots: int = 0                 # size of the fixed-file table (0: none)
    _ring_fd_index: int | None = None
    _ring_fd_owner: tuple | None = None  # (pid, thread id) that registered it

    @property
    def _buffer_pins(self) -> tuple:
        return self._buffer_table

    @_buffer_pins.setter
    def _buffer_pins(self, pins: tuple) -> None:
        # The core mirrors the table as address spans, so a READ_FIXED/WRITE_FIXED outside
        # it is refused at queue time with the index and table size instead of a bare EFAULT.
        self._buffer_table = pins
        spans = [(0, 0) if p is None else (p.addr, p.nbytes) for p in pins]
        self._set_fixed_buffers(spans)

    # -- fixed files ------------------------------------------------------------------

    def register_files(self, fds: Iterable[Any]) -> None:
        """IORING_REGISTER_FILES: make `fds` the fixed-file table, slot i = fds[i].

        Entries are ints or objects with fileno(); -1 leaves a slot empty. Use the slot
        index as the fd of an op with IOSQE_FIXED_FILE."""
        arg = _fd_array(fds, allow_skip=False)
        _call(self, RegisterOp.FILES, arg, len(arg))
        self._file_slots = len(arg)

    def register_files_tags(self, fds: Iterable[Any], tags: Iterable[int]) -> None:
        """IORING_REGISTER_FILES2: like register_files, each slot with a tag (0: none)
        that the kernel posts as a CQE's user_data once that file is released (see the
        module docstring for where it goes)."""
        arr = _fd_array(fds, allow_skip=False)
        tag_arr = _tag_array(tags, len(arr), arr, (-1,))
        keep: list = []
        arg = bytearray(RSRC_REGISTER.pack(len(arr), 0, 0, _address(keep, arr), _address(keep, tag_arr)))
        _call(self, RegisterOp.FILES2, arg, RSRC_REGISTER.size)
        self._file_slots = len(arr)

    def register_files_sparse(self, nr: int) -> None:
        """IORING_REGISTER_FILES2 with IORING_RSRC_REGISTER_SPARSE: a table of `nr` empty
        slots, filled later by register_files_update or direct-descriptor ops."""
        nr = _bounded(nr, "nr", 1, _U32_MAX)
        arg = bytearray(RSRC_REGISTER.pack(nr, IORING_RSRC_REGISTER_SPARSE, 0, 0, 0))
        _call(self, RegisterOp.FILES2, arg, RSRC_REGISTER.size)
        self._file_slots = nr

    def register_files_update(self, off: int, fds: Iterable[Any]) -> int:
        """IORING_REGISTER_FILES_UPDATE: replace slots off.. with `fds` (-1 empties a
        slot, IORING_REGISTER_FILES_SKIP keeps it). Returns how many slots were updated:
        fewer than len(fds) when the kernel failed part-way (an error only if none was)."""
        off = _bounded(off, "off", 0, _U32_MAX)
        arr = _fd_array(fds, allow_skip=True)
        _check_slots(off, len(arr), self._file_slots, "file")
        keep: list = []
        arg = bytearray(RSRC_UPDATE.pack(off, 0, _address(keep, arr)))
        return _call(self, RegisterOp.FILES_UPDATE, arg, len(arr))

    def register_files_update_tag(self, off: int, fds: Iterable[Any], tags: Iterable[int]) -> int:
        """IORING_REGISTER_FILES_UPDATE2: register_files_update with a tag per new file.
        Returns how many slots were updated."""
        off = _bounded(off, "off", 0, _U32_MAX)
        arr = _fd_array(fds, allow_skip=True)
        tag_arr = _tag_array(tags, len(arr), arr, (-1, IORING_REGISTER_FILES_SKIP))
        _check_slots(off, len(arr), self._file_slots, "file")
        keep: list = []
        arg = bytearray(RSRC_UPDATE2.pack(off, 0, _address(keep, arr), _address(keep, tag_arr),
                                          len(arr), 0))
        return _call(self, RegisterOp.FILES_UPDATE2, arg, RSRC_UPDATE2.size)

    def unregister_files(self) -> None:
        """IORING_UNREGISTER_FILES: drop the fixed-file table (ENXIO if there is none)."""
        _call(self, RegisterOp.UNREGISTER_FILES)
        self._file_slots = 0

    def register_file_alloc_range(self, off: int, len: int) -> None:
        """IORING_REGISTER_FILE_ALLOC_RANGE: where ops with IORING_FILE_INDEX_ALLOC pick
        their slot: slots off..off+len-1 of the registered table."""
        off = _bounded(off, "off", 0, _U32_MAX)
        length = _bounded(len, "len", 0, _U32_MAX)
        _check_slots(off, length, self._file_slots, "file")
        _call(self, RegisterOp.FILE_ALLOC_RANGE, bytearray(FILE_INDEX_RANGE.pack(off, length, 0)), 0)

    @property
    def registered_file_slots(self) -> int:
        """Size of the fixed-file table registered through these methods (0: none)."""
        return self._file_slots

    # -- fixed buffers ----------------------------------------------------------------

    def register_buffers(self, buffers: Iterable[Any]) -> None:
        """IORING_REGISTER_BUFFERS: register writable buffers for READ_FIXED/WRITE_FIXED
        (buf_index = position in the list; None leaves a slot empty).

        Each buffer stays pinned on the ring until unregister_buffers(), an update of its
        slot, or close(): a registered bytearray cannot be resized meanwhile."""
        pins = _pin_buffers(buffers)
        _call(self, RegisterOp.BUFFERS, _iovec_array(pins), len(pins))
        self._buffer_pins = tuple(pins)

    def register_buffers_tags(self, buffers: Iterable[Any], tags: Iterable[int]) -> None:
        """IORING_REGISTER_BUFFERS2: register_buffers with a tag per buffer (0: none),
        posted as a CQE's user_data once the kernel releases that buffer."""
        pins = _pin_buffers(buffers)
        tag_arr = _tag_array(tags, len(pins), pins, (None,))
        keep: list = []
        arg = bytearray(RSRC_REGISTER.pack(len(pins), 0, 0, _address(keep, _iovec_array(pins)),
                                           _address(keep, tag_arr)))
        _call(self, RegisterOp.BUFFERS2, arg, RSRC_REGISTER.size)
        self._buffer_pins = tuple(pins)

    def register_buffers_sparse(self, nr: int) -> None:
        """IORING_REGISTER_BUFFERS2 with IORING_RSRC_REGISTER_SPARSE: `nr` empty buffer
        slots, filled later by register_buffers_update_tag."""
        nr = _bounded(nr, "nr", 1, _U32_MAX)
        arg = bytearray(RSRC_REGISTER.pack(nr, IORING_RSRC_REGISTER_SPARSE, 0, 0, 0))
        _call(self, RegisterOp.BUFFERS2, arg, RSRC_REGISTER.size)
        self._buffer_pins = (None,) * nr

    def register_buffers_update_tag(self, off: int, buffers: Iterable[Any],
                                    tags: Iterable[int] | None = None) -> int:
        """IORING_REGISTER_BUFFERS_UPDATE: replace buffer slots off.. (None empties a
        slot), optionally tagging the new buffers. Returns how many slots were updated."""
        off = _bounded(off, "off", 0, _U32_MAX)
        pins = _pin_buffers(buffers)
        keep: list = []
        tags_addr = 0
        if tags is not None:
            tags_addr = _address(keep, _tag_array(tags, len(pins), pins, (None,)))
        _check_slots(off, len(pins), len(self._buffer_pins), "buffer")
        arg = bytearray(RSRC_UPDATE2.pack(off, 0, _address(keep, _iovec_array(pins)), tags_addr,
                                          len(pins), 0))
        done = _call(self, RegisterOp.BUFFERS_UPDATE, arg, RSRC_UPDATE2.size)
        table = list(self._buffer_pins)
        if len(table) < off + done:  # a table registered behind our back
            table.extend([None] * (off + done - len(table)))
        table[off:off + done] = pins[:done]
        self._buffer_pins = tuple(table)
        return done

    def unregister_buffers(self) -> None:
        """IORING_UNREGISTER_BUFFERS: drop the registered buffers and unpin them (ENXIO if
        there are none). Ops still in flight keep their own pins."""
        _call(self, RegisterOp.UNREGISTER_BUFFERS)
        self._buffer_pins = ()

    def clone_buffers(self, src: Any) -> None:
        """IORING_REGISTER_CLONE_BUFFERS: share every registered buffer of ring `src` with
        this ring, which must have none (Linux 6.12)."""
        self.clone_buffers_offset(src, 0, 0, 0, 0)

    def clone_buffers_offset(self, src: Any, dst_off: int, src_off: int, nr: int,
                             flags: int = 0) -> None:
        """IORING_REGISTER_CLONE_BUFFERS: share `nr` (0: all) buffers of ring `src` from
        slot src_off into this ring's slots from dst_off. With IORING_REGISTER_DST_REPLACE
        this ring's existing table is kept around the cloned range instead of EBUSY.
        Offsets, nr and DST_REPLACE need Linux 6.13 (6.12 answers EINVAL)."""
        src_fd = getattr(src, "fd", None)
        if not isinstance(src_fd, int) or not hasattr(src, "_register"):
            raise TypeError(f"src must be a Ring, got {type(src).__name__}")
        if src_fd < 0:
            raise RingClosed("the source ring is closed")
        dst_off = _bounded(dst_off, "dst_off", 0, _U32_MAX)
        src_off = _bounded(src_off, "src_off", 0, _U32_MAX)
        nr = _bounded(nr, "nr", 0, _U32_MAX)
        flags = _int(flags, "flags")
        if flags & ~IORING_REGISTER_DST_REPLACE:
            raise ValueError(f"flags may only hold IORING_REGISTER_DST_REPLACE, got {flags:#x}")
        if not nr and (dst_off or src_off):
            raise ValueError("offsets need an explicit nr")
        # Only sizes before the call: a failure's traceback must not hold the pins.
        source_slots = len(getattr(src, "_buffer_pins", ()))
        count = nr or source_slots
        _check_slots(src_off, count, source_slots, "source buffer")
        arg = bytearray(_CLONE_BUFFERS.pack(src_fd, flags, src_off, dst_off, nr))
        _call(self, RegisterOp.CLONE_BUFFERS, arg, 1)
        # Mirror the kernel's new table: the cloned range over (with REPLACE) the old one.
        old = list(self._buffer_pins) if flags & IORING_REGISTER_DST_REPLACE else []
        table = old + [None] * max(0, dst_off + count - len(old))
        cloned = list(getattr(src, "_buffer_pins", ())[src_off:src_off + count])
        table[dst_off:dst_off + count] = cloned + [None] * (count - len(cloned))
        self._buffer_pins = tuple(table)

    @property
    def registered_buffers(self) -> tuple:
        """The objects registered as fixed buffers, by buf_index (None: empty slot); they
        stay pinned until unregistered, replaced, or the ring is closed."""
        return tuple(None if pin is None else pin.obj for pin in self._buffer_pins)

    # -- eventfd ----------------------------------------------------------------------

    def register_eventfd(self, fd: int) -> None:
        """IORING_REGISTER_EVENTFD: signal eventfd `fd` whenever a CQE is posted."""
        self._register_eventfd(RegisterOp.EVENTFD, fd)

    def register_eventfd_async(self, fd: int) -> None:
        """IORING_REGISTER_EVENTFD_ASYNC: signal eventfd `fd` only for completions of
        requests that went async (punted to io-wq), not for inline ones."""
        self._register_eventfd(RegisterOp.EVENTFD_ASYNC, fd)

    def _register_eventfd(self, op: int, fd: Any) -> None:
        if not isinstance(fd, int) and hasattr(fd, "fileno"):
            fd = fd.fileno()
        _call(self, op, array.array("i", [_bounded(fd, "fd", 0, _S32_MAX)]), 1)

    def unregister_eventfd(self) -> None:
        """IORING_UNREGISTER_EVENTFD (ENXIO if none is registered)."""
        _call(self, RegisterOp.UNREGISTER_EVENTFD)

    # -- personalities ----------------------------------------------------------------

    def register_personality(self) -> int:
        """IORING_REGISTER_PERSONALITY: snapshot the caller's credentials; returns the id
        to put in an SQE's personality field (``sqe.set(personality=id)``) so the op runs
        with them."""
        return _call(self, RegisterOp.PERSONALITY)

    def unregister_personality(self, id: int) -> None:
        """IORING_UNREGISTER_PERSONALITY: forget personality `id` (EINVAL if unknown)."""
        _call(self, RegisterOp.UNREGISTER_PERSONALITY, None, _bounded(id, "id", 0, 0xFFFF))

    # -- restrictions -----------------------------------------------------------------

    def register_restrictions(self, restrictions: Iterable[tuple[int, int]]) -> None:
        """IORING_REGISTER_RESTRICTIONS: what the ring will allow once enabled, as
        (RestrictionOp, value) pairs: (REGISTER_OP, RegisterOp.X), (SQE_OP, Opcode.X),
        (SQE_FLAGS_ALLOWED, IOSQE bits), (SQE_FLAGS_REQUIRED, IOSQE bits).

        Only for a ring created with SetupFlags.R_DISABLED, once; then enable_rings().
        Disallowed ops complete with -EACCES, disallowed register calls raise it."""
        items = _sequence(restrictions, "restrictions")
        out = bytearray(RESTRICTION.size * len(items))
        for i, item in enumerate(items):
            if not isinstance(item, (tuple, list)) or len(item) != 2:
                raise TypeError(f"restrictions[{i}] must be a (RestrictionOp, value) pair, got {item!r}")
            kind = _int(item[0], f"restrictions[{i}] kind")
            try:
                kind = RestrictionOp(kind)
            except ValueError:
                raise ValueError(f"restrictions[{i}]: unknown restriction kind {kind}") from None
            value = _bounded(item[1], f"restrictions[{i}] value", 0, 0xFF)
            RESTRICTION.pack_into(out, i * RESTRICTION.size, kind, value, 0, 0, 0, 0)
        _call(self, RegisterOp.RESTRICTIONS, out, len(items))

    def enable_rings(self) -> None:
        """IORING_REGISTER_ENABLE_RINGS: start a ring created with SetupFlags.R_DISABLED
        (its restrictions take effect from here)."""
        _call(self, RegisterOp.ENABLE_RINGS)

    # -- io-wq ------------------------------------------------------------------------

    def register_iowq_aff(self, cpus: Iterable[int]) -> None:
        """IORING_REGISTER_IOWQ_AFF: run this thread's io-wq workers (or the SQPOLL
        thread's, for an SQPOLL ring) only on `cpus`. Needs a submission from this thread
        first (the kernel answers EINVAL while the thread has no io-wq)."""
        ids = [_bounded(c, "cpu", 0, _MAX_CPUS - 1) for c in _sequence(cpus, "cpus")]
        if not ids:
            raise ValueError("cpus must not be empty")
        words = max(ids) // 64 + 1
        mask = [0] * words
        for cpu in ids:
            mask[cpu // 64] |= 1 << (cpu % 64)
        arg = bytearray(struct.pack(f"={words}Q", *mask))
        _call(self, RegisterOp.IOWQ_AFF, arg, len(arg))

    def unregister_iowq_aff(self) -> None:
        """IORING_UNREGISTER_IOWQ_AFF: let io-wq workers run on any CPU again."""
        _call(self, RegisterOp.UNREGISTER_IOWQ_AFF)

    def register_iowq_max_workers(self, bounded: int, unbounded: int) -> tuple[int, int]:
        """IORING_REGISTER_IOWQ_MAX_WORKERS: cap this thread's io-wq bounded (regular file
        and block I/O) and unbounded (sockets, pipes) workers; 0 keeps a limit. Returns
        the previous (bounded, unbounded), (0, 0) while the thread has no io-wq yet."""
        values = array.array("I", [_bounded(bounded, "bounded", 0, _S32_MAX),
                                   _bounded(unbounded, "unbounded", 0, _S32_MAX)])
        _call(self, RegisterOp.IOWQ_MAX_WORKERS, values, 2)
        return values[0], values[1]

    # -- registered ring fd -----------------------------------------------------------

    def register_ring_fd(self) -> int:
        """IORING_REGISTER_RING_FDS: register this ring's fd in the calling thread's
        ring-fd table; returns the index.

        Only the index is recorded: the core does not yet pass registered indexes to
        io_uring_enter, so this saves nothing today. The table is per thread: unregister
        from the same thread; close() does it when called from there."""
        if self._ring_fd_index is not None:
            raise FileExistsError(errno.EEXIST, f"the ring fd is already registered at index "
                                                f"{self._ring_fd_index}")
        arg = bytearray(RSRC_UPDATE.pack(_U32_MAX, 0, self.fd))  # offset -1: any free index
        _call(self, RegisterOp.RING_FDS, arg, 1)
        index = RSRC_UPDATE.unpack(arg)[0]
        self._ring_fd_index = index
        self._ring_fd_owner = (os.getpid(), threading.get_ident())
        self._use_registered_ring(index)  # enters from this thread go through the index
        return index

    def unregister_ring_fd(self) -> None:
        """IORING_UNREGISTER_RING_FDS: undo register_ring_fd (from the same thread)."""
        if self._ring_fd_index is None:
            raise OSError(errno.EINVAL, "the ring fd is not registered")
        if self._ring_fd_owner != (os.getpid(), threading.get_ident()):
            raise RuntimeError("registered ring fds are per thread: unregister from the thread "
                               "that registered it")
        arg = bytearray(RSRC_UPDATE.pack(self._ring_fd_index, 0, 0))
        _call(self, RegisterOp.UNREGISTER_RING_FDS, arg, 1)
        self._ring_fd_index = None
        self._ring_fd_owner = None
        self._use_registered_ring(-1)

    @property
    def ring_fd_index(self) -> int | None:
        """The index register_ring_fd() obtained, or None."""
        return self._ring_fd_index

    # -- clock and NAPI ---------------------------------------------------------------

    def register_clock(self, clockid: int) -> None:
        """IORING_REGISTER_CLOCK: the clock of CQ wait timeouts, time.CLOCK_MONOTONIC (the
        default) or time.CLOCK_BOOTTIME (Linux 6.12)."""
        clockid = _int(clockid, "clockid")
        if clockid not in (time.CLOCK_MONOTONIC, time.CLOCK_BOOTTIME):
            raise ValueError(f"clockid must be time.CLOCK_MONOTONIC or time.CLOCK_BOOTTIME, got {clockid}")
        _call(self, RegisterOp.CLOCK, bytearray(_CLOCK_REGISTER.pack(clockid)), 0)

    def register_napi(self, busy_poll_to: int, prefer_busy_poll: bool = False, *,
                      opcode: int = NapiOp.REGISTER_OP,
                      op_param: int = NapiTracking.DYNAMIC) -> tuple[int, bool]:
        """IORING_REGISTER_NAPI: busy-poll the network device queues of this ring's sockets
        for up to `busy_poll_to` microseconds while waiting (Linux 6.9). `opcode` and
        `op_param` select the tracking strategy or add/remove a static NAPI id (6.13).
        Returns the previous (busy_poll_to, prefer_busy_poll). EOPNOTSUPP without
        CONFIG_NET_RX_BUSY_POLL, EINVAL on an IOPOLL ring."""
        if not isinstance(prefer_busy_poll, bool):
            raise TypeError(f"prefer_busy_poll must be a bool, got {type(prefer_busy_poll).__name__}")
        arg = bytearray(_NAPI.pack(_bounded(busy_poll_to, "busy_poll_to", 0, _U32_MAX),
                                   prefer_busy_poll, _bounded(opcode, "opcode", 0, 0xFF),
                                   _bounded(op_param, "op_param", 0, _U32_MAX), 0))
        _call(self, RegisterOp.NAPI, arg, 1)
        previous = _NAPI.unpack(arg)
        return previous[0], bool(previous[1])

    def unregister_napi(self) -> tuple[int, bool]:
        """IORING_UNREGISTER_NAPI: stop busy polling; returns the (busy_poll_to,
        prefer_busy_poll) that were in effect."""
        arg = bytearray(_NAPI.size)
        _call(self, RegisterOp.UNREGISTER_NAPI, arg, 1)
        previous = _NAPI.unpack(arg)
        return previous[0], bool(previous[1])

    # -- teardown ---------------------------------------------------------------------

    def close(self, *, timeout: float = 5.0) -> None:
        """Close the ring (see RingCore.close), first unregistering its ring fd when this
        thread registered it, then unpinning the registered buffers."""
        if self._ring_fd_index is not None and not self.closed \
                and self._ring_fd_owner == (os.getpid(), threading.get_ident()):
            try:
                self.unregister_ring_fd()
            except (OSError, RuntimeError):
                pass  # closing must not fail over a best-effort cleanup
        try:
            super().close(timeout=timeout)
        finally:
            if self.fd < 0:  # really closed (a close requested from a callback finishes later)
                # The kernel dropped its tables with the ring; nothing can touch the buffers.
                self._buffer_pins = ()
                self._file_slots = 0
                self._ring_fd_index = None
                self._ring_fd_owner = None
