"""Provided-buffer rings (IORING_REGISTER_PBUF_RING): a group of equal-sized buffers the
kernel picks from for ops sent with a buffer group (recv_select, recv_multishot,
recvmsg_multishot, a READ with IOSQE_BUFFER_SELECT, send bundles).

The ring memory itself is written only by the compiled core (`uring._core.BufRingMemory`,
which does the release store of the tail); this module owns the data buffers, the
registration and the bookkeeping of which buffer holds what."""

from __future__ import annotations

import errno
import mmap
import struct
from typing import Any, Iterable

from uring._core import BufRingMemory, Pin
from uring._uapi import BUF_REG, CQE_BUFFER_SHIFT, CqeFlags, PbufRingFlags, RegisterOp
from uring.errors import UnsupportedFeature
from uring.ops._common import check_int

__all__ = ["BufferRing"]

# struct io_uring_buf_status (IORING_REGISTER_PBUF_STATUS): buf_group, head, resv[8].
_BUF_STATUS = struct.Struct("=II8I")
assert _BUF_STATUS.size == 40

# Plain ints for the per-CQE path: an IntFlag `&` costs ~20x an int's.
_F_BUFFER = int(CqeFlags.BUFFER)
_F_BUF_MORE = int(CqeFlags.BUF_MORE)
_INC = int(PbufRingFlags.INC)

# Rings that cannot carry an attribute (a bare RingCore) keep their buffer rings here;
# an entry leaves when its BufferRing is closed.
_kept_elsewhere: list["BufferRing"] = []


class BufferRing:
    """`entries` buffers of `buf_size` bytes registered as provided-buffer group `bgid`.

    >>> with BufferRing(ring, bgid=1, entries=8, buf_size=4096) as br:
    ...     op = ring.queue(ops.recv_multishot(fd, buf_group=1))
    ...     ...                                  # for each CQE (res, flags):
    ...     bid, data = br.from_cqe(res, flags)  # a view into buffer `bid`
    ...     handle(bytes(data)); br.recycle(bid)  # copy first: recycling hands it back

    Buffer ids are 0..entries-1; all are handed to the kernel at construction unless
    ``populate=False`` (then publish them with `recycle` or, for send bundles, `put`).
    The buffers stay mapped while the ring object lives (the ring keeps a reference), so
    the kernel never writes into freed memory even if this object is dropped unclosed.
    With ``own_buffers=False`` only the ring is registered (no mapping, nothing published):
    the caller publishes memory it owns and keeps it alive while the group is registered.
    With ``flags=IOU_PBUF_RING_INC`` the kernel consumes a buffer in pieces: a CQE with
    IORING_CQE_F_BUF_MORE means the same buffer will carry the next data too, which
    `from_cqe` accounts for. With ``flags=IOU_PBUF_RING_MMAP`` (Linux 6.4) the kernel
    allocates the ring's memory and we map it from the ring fd (no user memory to register).
    """

    def __init__(self, ring: Any, bgid: int, entries: int, buf_size: int, flags: int = 0, *,
                 populate: bool = True, own_buffers: bool = True) -> None:
        self.bgid = check_int(bgid, "bgid", 0, 0xFFFF)
        self.entries = check_int(entries, "entries", 1, 32768)
        if entries & (entries - 1):
            raise ValueError(f"entries must be a power of two, got {entries}")
        self.buf_size = check_int(buf_size, "buf_size", 1, 0xFFFFFFFF)
        self.flags = check_int(flags, "flags", 0, 0xFFFF)
        known = int(PbufRingFlags.INC | PbufRingFlags.MMAP)
        if flags & ~known:
            raise ValueError(f"unknown buffer ring flags {flags & ~known:#x}")
        kernel_memory = bool(flags & PbufRingFlags.MMAP)
        self._ring = ring
        # None until the kernel's memory is mapped (IOU_PBUF_RING_MMAP), and after close.
        self._mem: Any = None if kernel_memory else BufRingMemory(entries)
        if populate and not own_buffers:
            raise ValueError("populate needs own_buffers: there is nothing to publish")
        # own_buffers=False: only the ring is registered here; the caller publishes memory
        # of its own through `tail`-compatible stores (uring.loop's receive buffers) and
        # keeps it alive while the group is registered.
        self._buffers: Any = mmap.mmap(-1, entries * buf_size) if own_buffers else None
        # Holding a buffer export keeps the mapping from being closed or resized under the
        # kernel, and gives us its address.
        self._pin: Pin | None = Pin(self._buffers, True) if own_buffers else None
        self._base = self._pin.addr if self._pin is not None else 0
        self._consumed = [0] * entries  # INC rings: bytes of each buffer already handed out
        self.closed = False
        ring_addr = 0 if self._mem is None else self._mem.addr
        reg = bytearray(BUF_REG.pack(ring_addr, entries, self.bgid, self.flags, 0, 0, 0))
        try:
            ring._register(RegisterOp.PBUF_RING, reg, 1)
            if kernel_memory:
                # The kernel's pages stay mapped (and referenced) until this object goes.
                self._mem = BufRingMemory(entries, ring.fd, self.bgid)
        except OSError as exc:
            if kernel_memory and self._mem is None:
                try:
                    ring._register(RegisterOp.UNREGISTER_PBUF_RING,
                                   bytearray(BUF_REG.pack(0, 0, self.bgid, 0, 0, 0, 0)), 1)
                except OSError:
                    pass
            self._release_memory()
            self.closed = True
            raise OSError(exc.errno, f"registering buffer ring bgid={bgid}: {exc.strerror}") from None
        self._keep_alive()
        if populate:
            for bid in range(entries):
                self._mem.add(self.addr(bid), buf_size, bid, bid)
            self._mem.advance(entries)

    # -- lifetime -------------------------------------------------------------------------

    def _keep_alive(self) -> None:
        try:
            table = self._ring.__dict__.setdefault("_buffer_rings", {})
        except AttributeError:
            _kept_elsewhere.append(self)
        else:
            table[self.bgid] = self

    def _forget(self) -> None:
        table = getattr(self._ring, "__dict__", {}).get("_buffer_rings")
        if table is not None and table.get(self.bgid) is self:
            del table[self.bgid]
        if self in _kept_elsewhere:
            _kept_elsewhere.remove(self)

    def _release_memory(self) -> None:
        self._pin = None
        if self._buffers is None:
            return
        try:
            self._buffers.close()
        except BufferError:
            pass  # views from get() are still alive; the mapping goes with the last of them

    def close(self) -> None:
        """Unregister the group (IORING_UNREGISTER_PBUF_RING) and free the buffers.
        Views returned by get()/from_cqe() must not be used afterwards."""
        if self.closed:
            return
        self.closed = True
        if self._ring.closed and self._ring.fd >= 0:
            # The ring's close is still draining (requested from a callback or another
            # thread): its ops may still write into our buffers, so they stay with the ring.
            return
        try:
            if not self._ring.closed:
                reg = bytearray(BUF_REG.pack(0, 0, self.bgid, 0, 0, 0, 0))
                self._ring._register(RegisterOp.UNREGISTER_PBUF_RING, reg, 1)
        finally:
            self._forget()
            self._release_memory()

    def __enter__(self) -> "BufferRing":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"tail={self._mem.tail}"
        return (f"<BufferRing bgid={self.bgid} entries={self.entries} buf_size={self.buf_size} "
                f"{state}>")

    # -- buffers ------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError(f"buffer ring bgid={self.bgid} is closed")

    def _check_buffers(self) -> None:
        self._check_open()
        if self._buffers is None:
            raise ValueError(f"buffer ring bgid={self.bgid} has no buffers of its own")

    def _check_bid(self, bid: int) -> int:
        return check_int(bid, "bid", 0, self.entries - 1)

    def addr(self, bid: int) -> int:
        """The address of buffer `bid`."""
        self._check_buffers()
        return self._base + self._check_bid(bid) * self.buf_size

    def get(self, bid: int, nbytes: int, offset: int = 0) -> memoryview:
        """A view of `nbytes` of buffer `bid` from `offset`: the data a CQE with this buffer
        id and res=nbytes delivered. Copy it before recycling the buffer."""
        self._check_buffers()
        start = self._check_bid(bid) * self.buf_size
        offset = check_int(offset, "offset", 0, self.buf_size)
        nbytes = check_int(nbytes, "nbytes", 0, self.buf_size - offset)
        return memoryview(self._buffers)[start + offset:start + offset + nbytes]

    def from_cqe(self, res: int, cqe_flags: int) -> tuple[int, memoryview]:
        """(buffer id, data view) for a CQE that consumed a provided buffer. On an
        incremental ring the view starts where the previous CQE of that buffer ended."""
        self._check_buffers()
        if res < 0:
            raise ValueError(f"the CQE carries an error (res={res}), not data")
        if not cqe_flags & _F_BUFFER:
            raise ValueError("the CQE has no IORING_CQE_F_BUFFER: it consumed no provided buffer")
        bid = cqe_flags >> CQE_BUFFER_SHIFT
        if not self.flags & _INC:
            return bid, self.get(bid, res)
        offset = self._consumed[self._check_bid(bid)]
        view = self.get(bid, res, offset)
        # Without BUF_MORE the kernel is done with this buffer: the next use starts afresh.
        self._consumed[bid] = offset + res if cqe_flags & _F_BUF_MORE else 0
        return bid, view

    def recycle(self, bid: int, *more: int) -> None:
        """Hand buffer(s) back to the kernel, whole (one tail update for all of them)."""
        self._publish([(b, self.buf_size) for b in (bid,) + more])

    def put(self, bid: int, data: Any) -> None:
        """Copy `data` into buffer `bid` and publish it with that length (the source side
        of a send bundle)."""
        self._check_buffers()
        start = self._check_bid(bid) * self.buf_size
        view = memoryview(data).cast("B")
        if len(view) > self.buf_size:
            raise ValueError(f"{len(view)} bytes do not fit a {self.buf_size}-byte buffer")
        self._buffers[start:start + len(view)] = view
        self._publish([(bid, len(view))])

    def _publish(self, items: Iterable[tuple[int, int]]) -> None:
        self._check_buffers()
        items = [(self._check_bid(bid), length) for bid, length in items]
        for i, (bid, length) in enumerate(items):
            self._consumed[bid] = 0
            self._mem.add(self._base + bid * self.buf_size, length, bid, i)
        self._mem.advance(len(items))

    # -- state ------------------------------------------------------------------------------

    @property
    def tail(self) -> int:
        """Our 16-bit tail: how many buffers were ever published, mod 2**16."""
        return self._mem.tail

    @property
    def head(self) -> int:
        """The kernel's 16-bit head (IORING_REGISTER_PBUF_STATUS, Linux 6.8)."""
        self._check_open()
        status = bytearray(_BUF_STATUS.pack(self.bgid, 0, *([0] * 8)))
        try:
            self._ring._register(RegisterOp.PBUF_STATUS, status, 1)
        except OSError as exc:
            # The group is registered as a ring, so EINVAL can only mean an unknown opcode.
            if exc.errno == errno.EINVAL:
                raise UnsupportedFeature("IORING_REGISTER_PBUF_STATUS needs Linux 6.8") from exc
            raise
        return _BUF_STATUS.unpack(status)[1] & 0xFFFF

    @property
    def available(self) -> int:
        """Buffers published and not yet taken by the kernel."""
        return (self._mem.tail - self.head) & 0xFFFF
