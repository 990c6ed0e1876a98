"""Golden SQEs of the read/write/sync/splice prep helpers, and their refusals of bad
input (no kernel needed). Expected opcode numbers and field placements are written out
from the kernel ABI reference, not taken from the module under test."""

from __future__ import annotations

import mmap
import struct

import pytest

from tests.support import golden, sqe_tuple as fields

from uring import Ring, ops
from uring.ops import rw

U64_MAX = 0xFFFFFFFFFFFFFFFF
IOVEC = struct.Struct("=QQ")






def pin(s, i=0) -> int:
    return s.pins[i].addr


def iovec_array(s) -> list[tuple[int, int]]:
    """The (base, len) pairs of a vectored SQE's iovec array (its last pin)."""
    raw = bytes(s.pins[-1].obj)
    return [IOVEC.unpack_from(raw, i) for i in range(0, len(raw), IOVEC.size)]


_MAP = mmap.mmap(-1, 2 * mmap.PAGESIZE)
_BUF = bytearray(100)
_B4, _B8 = bytearray(4), bytearray(8)

# (id, prep, expected(sqe))
CASES = [
    ("nop", lambda: ops.nop(), lambda s: golden(0, fd=-1)),
    ("read", lambda: ops.read(5, _BUF, 50, 7),
     lambda s: golden(22, fd=5, off=7, addr=pin(s), len=50)),
    ("read-defaults", lambda: ops.read(5, _BUF),
     lambda s: golden(22, fd=5, addr=pin(s), len=100)),
    ("read-file-position", lambda: ops.read(5, _BUF, 0, -1),
     lambda s: golden(22, fd=5, off=U64_MAX, addr=pin(s))),
    ("write", lambda: ops.write(6, b"hello", None, 1 << 40),
     lambda s: golden(23, fd=6, off=1 << 40, addr=pin(s), len=5)),
    ("write-memoryview", lambda: ops.write(6, memoryview(b"hello")[1:3]),
     lambda s: golden(23, fd=6, addr=pin(s), len=2)),
    ("readv", lambda: ops.readv(3, [_B4, _B8], 10),
     lambda s: golden(1, fd=3, off=10, addr=pin(s, -1), len=2)),
    ("readv2", lambda: ops.readv2(3, [_B4], -1, 0x10),
     lambda s: golden(1, fd=3, off=U64_MAX, addr=pin(s, -1), len=1, op_flags=0x10)),
    ("writev", lambda: ops.writev(3, [b"ab", b"cde", b"f"]),
     lambda s: golden(2, fd=3, addr=pin(s, -1), len=3)),
    ("writev2", lambda: ops.writev2(3, [b"ab"], 4, 0x4),
     lambda s: golden(2, fd=3, off=4, addr=pin(s, -1), len=1, op_flags=0x4)),
    ("read_fixed", lambda: ops.read_fixed(3, _BUF, 16, 4096, 2),
     lambda s: golden(4, fd=3, off=4096, addr=pin(s), len=16, buf_index=2)),
    ("write_fixed", lambda: ops.write_fixed(3, _BUF, None, 0, 0xFFFF),
     lambda s: golden(5, fd=3, addr=pin(s), len=100, buf_index=0xFFFF)),
    ("readv_fixed", lambda: ops.readv_fixed(3, [_B4, _B8], 8, 0x2, 1),
     lambda s: golden(60, fd=3, off=8, addr=pin(s, -1), len=2, op_flags=0x2, buf_index=1)),
    ("writev_fixed", lambda: ops.writev_fixed(3, [_B8], 0, 0, 7),
     lambda s: golden(61, fd=3, addr=pin(s, -1), len=1, buf_index=7)),
    ("fsync", lambda: ops.fsync(9), lambda s: golden(3, fd=9)),
    ("fdatasync", lambda: ops.fsync(9, 1), lambda s: golden(3, fd=9, op_flags=1)),
    # sync_file_range: len in sqe->len, offset in sqe->off, flags in sync_range_flags.
    ("sync_file_range", lambda: ops.sync_file_range(3, 4096, 8192, 7),
     lambda s: golden(8, fd=3, off=8192, len=4096, op_flags=7)),
    ("sync_file_range-default-flags", lambda: ops.sync_file_range(3, 0, 1),
     lambda s: golden(8, fd=3, off=1)),
    # fallocate: mode in sqe->len, offset in sqe->off, the 64-bit length in sqe->addr.
    ("fallocate", lambda: ops.fallocate(3, 1, 4096, 1 << 33),
     lambda s: golden(17, fd=3, off=4096, addr=1 << 33, len=1)),
    # fadvise: 32-bit len in sqe->len; fadvise64 puts the length in sqe->addr instead.
    ("fadvise", lambda: ops.fadvise(3, 100, 200, 3),
     lambda s: golden(24, fd=3, off=100, len=200, op_flags=3)),
    ("fadvise64", lambda: ops.fadvise64(3, 100, 1 << 40, 4),
     lambda s: golden(24, fd=3, off=100, addr=1 << 40, op_flags=4)),
    # madvise: fd -1, address in sqe->addr, length in sqe->len (madvise64: in sqe->off).
    ("madvise", lambda: ops.madvise(_MAP, mmap.PAGESIZE, 4),
     lambda s: golden(25, fd=-1, addr=pin(s), len=mmap.PAGESIZE, op_flags=4)),
    ("madvise-whole-buffer", lambda: ops.madvise(_MAP, None, 0),
     lambda s: golden(25, fd=-1, addr=pin(s), len=2 * mmap.PAGESIZE)),
    ("madvise64", lambda: ops.madvise64(_MAP, None, 4),
     lambda s: golden(25, fd=-1, off=2 * mmap.PAGESIZE, addr=pin(s), op_flags=4)),
    ("madvise-read-only-buffer", lambda: ops.madvise(memoryview(_MAP).toreadonly(), mmap.PAGESIZE, 1),
     lambda s: golden(25, fd=-1, addr=pin(s), len=mmap.PAGESIZE, op_flags=1)),
    ("ftruncate", lambda: ops.ftruncate(3, 12345), lambda s: golden(55, fd=3, off=12345)),
    # splice: fd_out in sqe->fd, off_out in sqe->off, off_in in splice_off_in (addr),
    # fd_in in splice_fd_in, flags in splice_flags.
    ("splice", lambda: ops.splice(3, 100, 4, -1, 65536, 1),
     lambda s: golden(30, fd=4, off=U64_MAX, addr=100, len=65536, op_flags=1, file_index=3)),
    ("splice-out-offset", lambda: ops.splice(3, -1, 4, 1 << 35, 1),
     lambda s: golden(30, fd=4, off=1 << 35, addr=U64_MAX, len=1, file_index=3)),
    ("splice-fixed-in", lambda: ops.splice(0, -1, 4, 0, 10, 0x80000000),
     lambda s: golden(30, fd=4, addr=U64_MAX, len=10, op_flags=0x80000000)),
    ("tee", lambda: ops.tee(3, 4, 100, 2),
     lambda s: golden(33, fd=4, len=100, op_flags=2, file_index=3)),
    ("tee-default-flags", lambda: ops.tee(7, 8, 0), lambda s: golden(33, fd=8, file_index=7)),
]


@pytest.mark.parametrize("prep, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_golden_sqe(prep, expected):
    s = prep()
    assert fields(s) == expected(s)
    assert s.out is None and s.context is None and not s.big


def test_vectored_iovec_arrays_describe_each_buffer():
    s = ops.readv(3, [_B4, _B8], 0)
    assert iovec_array(s) == [(pin(s, 0), 4), (pin(s, 1), 8)]
    w = ops.writev(3, [b"ab", memoryview(b"xcdex")[1:4]])
    assert iovec_array(w) == [(pin(w, 0), 2), (pin(w, 1), 3)]
    assert s.pins[-1].nbytes == 2 * 16


def test_buffers_are_pinned_writable_only_when_the_kernel_writes():
    read = ops.read(1, _BUF)
    assert read.pins[0].obj is _BUF
    write = ops.write(1, b"const")
    assert write.pins[0].obj == b"const"
    advice = ops.madvise(_MAP, None, 0)
    assert advice.pins[0].obj is _MAP


def test_constants():
    assert (rw.SYNC_FILE_RANGE_WAIT_BEFORE, rw.SYNC_FILE_RANGE_WRITE, rw.SYNC_FILE_RANGE_WAIT_AFTER) == (1, 2, 4)
    assert (rw.FALLOC_FL_KEEP_SIZE, rw.FALLOC_FL_PUNCH_HOLE, rw.FALLOC_FL_ZERO_RANGE) == (1, 2, 0x10)
    assert (rw.SPLICE_F_MOVE, rw.SPLICE_F_NONBLOCK, rw.SPLICE_F_MORE, rw.SPLICE_F_GIFT) == (1, 2, 4, 8)
    assert rw.SPLICE_F_FD_IN_FIXED == 0x80000000


def test_registered_exported_and_ring_methods():
    names = ["nop", "read", "write", "readv", "readv2", "writev", "writev2", "read_fixed",
             "write_fixed", "readv_fixed", "writev_fixed", "fsync", "sync_file_range",
             "fallocate", "fadvise", "fadvise64", "madvise", "madvise64", "ftruncate", "splice", "tee"]
    assert [n for n in rw.__all__ if callable(getattr(rw, n))] == names
    by_opcode = {0: "nop", 22: "read", 23: "write", 1: "readv", 2: "writev", 4: "read_fixed",
                 5: "write_fixed", 60: "readv_fixed", 61: "writev_fixed", 3: "fsync",
                 8: "sync_file_range", 17: "fallocate", 24: "fadvise", 25: "madvise",
                 55: "ftruncate", 30: "splice", 33: "tee"}
    for opcode, name in by_opcode.items():
        assert name in ops.HELPERS[opcode]
    assert {"fadvise", "fadvise64"} <= set(ops.HELPERS[24])
    assert {"madvise", "madvise64"} <= set(ops.HELPERS[25])
    for name in names:
        assert getattr(ops, name) is getattr(rw, name)
        assert callable(getattr(Ring, name))
        assert getattr(rw, name).__doc__


_RO = b"read-only"
BAD = [
    # (id, call, exception)
    ("read-into-bytes", lambda: ops.read(5, _RO), TypeError),
    ("read-into-str", lambda: ops.read(5, "text"), TypeError),
    ("read-fd-str", lambda: ops.read("5", bytearray(1)), TypeError),
    ("read-fd-bool", lambda: ops.read(True, bytearray(1)), TypeError),
    ("read-fd-range", lambda: ops.read(1 << 31, bytearray(1)), ValueError),
    ("read-nbytes-too-big", lambda: ops.read(5, bytearray(4), 5), ValueError),
    ("read-nbytes-negative", lambda: ops.read(5, bytearray(4), -2), ValueError),
    ("read-nbytes-float", lambda: ops.read(5, bytearray(4), 1.5), TypeError),
    ("read-offset-negative", lambda: ops.read(5, bytearray(4), None, -2), ValueError),
    ("read-offset-huge", lambda: ops.read(5, bytearray(4), None, 1 << 63), ValueError),
    ("read-offset-str", lambda: ops.read(5, bytearray(4), None, "0"), TypeError),
    ("write-str", lambda: ops.write(5, "text"), TypeError),
    ("readv-single-buffer", lambda: ops.readv(5, bytearray(4)), TypeError),
    ("readv-empty", lambda: ops.readv(5, []), ValueError),
    ("readv-read-only", lambda: ops.readv(5, [bytearray(1), _RO]), TypeError),
    ("readv-too-many", lambda: ops.readv(5, [bytearray(1)] * 1025), ValueError),
    ("readv2-flags-negative", lambda: ops.readv2(5, [bytearray(1)], 0, -1), ValueError),
    ("writev2-flags-huge", lambda: ops.writev2(5, [b"x"], 0, 1 << 32), ValueError),
    ("read_fixed-index-range", lambda: ops.read_fixed(5, bytearray(4), None, 0, 1 << 16), ValueError),
    ("read_fixed-index-negative", lambda: ops.read_fixed(5, bytearray(4), None, 0, -1), ValueError),
    ("read_fixed-index-str", lambda: ops.read_fixed(5, bytearray(4), None, 0, "0"), TypeError),
    ("write_fixed-nbytes", lambda: ops.write_fixed(5, b"abc", 4, 0, 0), ValueError),
    ("readv_fixed-index-range", lambda: ops.readv_fixed(5, [bytearray(4)], 0, 0, 70000), ValueError),
    ("writev_fixed-index-bool", lambda: ops.writev_fixed(5, [b"x"], 0, 0, True), TypeError),
    ("fsync-flags-negative", lambda: ops.fsync(5, -1), ValueError),
    ("fsync-fd-none", lambda: ops.fsync(None), TypeError),
    ("sync_file_range-len-64bit", lambda: ops.sync_file_range(5, 1 << 32, 0), ValueError),
    ("sync_file_range-offset-negative", lambda: ops.sync_file_range(5, 10, -1), ValueError),
    ("sync_file_range-flags-huge", lambda: ops.sync_file_range(5, 10, 0, 1 << 32), ValueError),
    ("fallocate-mode-negative", lambda: ops.fallocate(5, -1, 0, 10), ValueError),
    ("fallocate-offset-negative", lambda: ops.fallocate(5, 0, -1, 10), ValueError),
    ("fallocate-len-negative", lambda: ops.fallocate(5, 0, 0, -10), ValueError),
    ("fallocate-len-huge", lambda: ops.fallocate(5, 0, 0, 1 << 63), ValueError),
    ("fallocate-len-float", lambda: ops.fallocate(5, 0, 0, 1.0), TypeError),
    ("fadvise-len-64bit", lambda: ops.fadvise(5, 0, 1 << 32, 0), ValueError),
    ("fadvise-advice-negative", lambda: ops.fadvise(5, 0, 10, -1), ValueError),
    ("fadvise-advice-str", lambda: ops.fadvise(5, 0, 10, "x"), TypeError),
    ("fadvise64-len-negative", lambda: ops.fadvise64(5, 0, -1, 0), ValueError),
    ("fadvise64-offset-float", lambda: ops.fadvise64(5, 0.0, 1, 0), TypeError),
    ("madvise-str", lambda: ops.madvise("text", None, 0), TypeError),
    ("madvise-length-too-big", lambda: ops.madvise(bytearray(10), 11, 0), ValueError),
    ("madvise-length-negative", lambda: ops.madvise(bytearray(10), -1, 0), ValueError),
    ("madvise-advice-bool", lambda: ops.madvise(bytearray(10), None, False), TypeError),
    ("madvise64-length-float", lambda: ops.madvise64(bytearray(10), 1.0, 0), TypeError),
    ("ftruncate-negative", lambda: ops.ftruncate(5, -1), ValueError),
    ("ftruncate-str", lambda: ops.ftruncate(5, "1"), TypeError),
    ("splice-off_in", lambda: ops.splice(5, -2, 6, 0, 10), ValueError),
    ("splice-off_out", lambda: ops.splice(5, 0, 6, -2, 10), ValueError),
    ("splice-nbytes-negative", lambda: ops.splice(5, 0, 6, 0, -1), ValueError),
    ("splice-nbytes-64bit", lambda: ops.splice(5, 0, 6, 0, 1 << 32), ValueError),
    ("splice-flags-negative", lambda: ops.splice(5, 0, 6, 0, 10, -1), ValueError),
    ("splice-fixed-negative-index", lambda: ops.splice(-1, 0, 6, 0, 10, 0x80000000), ValueError),
    ("splice-fd_in-str", lambda: ops.splice("5", 0, 6, 0, 10), TypeError),
    ("splice-fd_out-float", lambda: ops.splice(5, 0, 6.0, 0, 10), TypeError),
    ("tee-fd_out-str", lambda: ops.tee(5, "6", 10), TypeError),
    ("tee-nbytes-64bit", lambda: ops.tee(5, 6, 1 << 32), ValueError),
]


@pytest.mark.parametrize("call, exc", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input(call, exc):
    with pytest.raises(exc):
        call()
