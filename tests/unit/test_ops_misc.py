"""Golden SQEs of the misc prep helpers (MSG_RING, provided buffers, multishot read, waitid,
futexes, uring_cmd, 128-byte ops) and their rejection of bad input; no kernel needed."""

from __future__ import annotations

import os
import struct
from array import array

import pytest

from uring import ops
from uring._uapi import (
    FUTEX_WAITV, IORING_FILE_INDEX_ALLOC, SQE, MsgRingFlags, Opcode, SocketCmd, SqeFlags,
)
from uring.ops import misc
from uring.ops.misc import (
    FUTEX2_PRIVATE, FUTEX2_SIZE_U8, FUTEX2_SIZE_U32, FUTEX_BITSET_MATCH_ANY, ProvidedBuffers,
    SigInfo,
)

ANY = FUTEX_BITSET_MATCH_ANY
U32P = FUTEX2_SIZE_U32 | FUTEX2_PRIVATE
U64 = 0xFFFFFFFFFFFFFFFF
BUFFER_SELECT = int(SqeFlags.BUFFER_SELECT)


class FakeRing:
    """Anything with a .fd: what msg_ring accepts besides an int."""

    def __init__(self, fd):
        self.fd = fd


def fields(s):
    return SQE.unpack(bytes(s)[:64])


def golden(opcode, *, flags=0, ioprio=0, fd=0, off=0, addr=0, len=0, op_flags=0, buf_index=0,
           personality=0, file_index=0, addr3=0, pad2=0):
    """An SQE field tuple (user_data is always 0 before queueing)."""
    return (int(opcode), flags, ioprio, fd, off, addr, len, op_flags, 0, buf_index, personality,
            file_index, addr3, pad2)


@pytest.fixture(autouse=True)
def _release_pools():
    yield
    for pool in list(misc._LIVE):
        pool.close()


# -- golden SQEs ----------------------------------------------------------------------------

ring9 = FakeRing(9)

GOLDEN = [
    ("msg_ring", lambda: ops.msg_ring(5, 0x1234, 0xCAFE),
     lambda s: golden(Opcode.MSG_RING, fd=5, off=0xCAFE, len=0x1234)),
    ("msg_ring ring object", lambda: ops.msg_ring(ring9, 1, U64, MsgRingFlags.FLAGS_PASS),
     lambda s: golden(Opcode.MSG_RING, fd=9, off=U64, len=1, op_flags=2)),
    ("msg_ring_cqe_flags", lambda: ops.msg_ring_cqe_flags(5, 9, 0x81, 0, 0xABCD0000),
     lambda s: golden(Opcode.MSG_RING, fd=5, off=0x81, len=9, op_flags=2,
                      file_index=0xABCD0000 - (1 << 32))),
    ("msg_ring_cqe_flags small", lambda: ops.msg_ring_cqe_flags(5, 0, 1, MsgRingFlags.FLAGS_PASS, 0x10000),
     lambda s: golden(Opcode.MSG_RING, fd=5, off=1, op_flags=2, file_index=0x10000)),
    ("msg_ring_fd", lambda: ops.msg_ring_fd(5, 3, 7, 0x77),
     lambda s: golden(Opcode.MSG_RING, fd=5, addr=1, off=0x77, addr3=3, file_index=8)),
    ("msg_ring_fd slot 0 skip", lambda: ops.msg_ring_fd(5, 0, 0, 1, MsgRingFlags.CQE_SKIP),
     lambda s: golden(Opcode.MSG_RING, fd=5, addr=1, off=1, op_flags=1, file_index=1)),
    ("msg_ring_fd alloc", lambda: ops.msg_ring_fd(5, 3, IORING_FILE_INDEX_ALLOC, 0x77),
     lambda s: golden(Opcode.MSG_RING, fd=5, addr=1, off=0x77, addr3=3, file_index=-1)),
    ("msg_ring_fd_alloc", lambda: ops.msg_ring_fd_alloc(5, 0xFFFFFFFF, 0x78, MsgRingFlags.CQE_SKIP),
     lambda s: golden(Opcode.MSG_RING, fd=5, addr=1, off=0x78, op_flags=1, addr3=0xFFFFFFFF, file_index=-1)),
    ("provide_buffers", lambda: ops.provide_buffers(bytearray(64), 16, 4, 7, 2),
     lambda s: golden(Opcode.PROVIDE_BUFFERS, fd=4, addr=s.out.addr, len=16, off=2, buf_index=7)),
    ("provide_buffers max ids", lambda: ops.provide_buffers(bytearray(2), 1, 2, 0xFFFF, 0xFFFE),
     lambda s: golden(Opcode.PROVIDE_BUFFERS, fd=2, addr=s.out.addr, len=1, off=0xFFFE, buf_index=0xFFFF)),
    ("remove_buffers", lambda: ops.remove_buffers(3, 7),
     lambda s: golden(Opcode.REMOVE_BUFFERS, fd=3, buf_index=7)),
    ("read_multishot", lambda: ops.read_multishot(5, 0, 0, 3),
     lambda s: golden(Opcode.READ_MULTISHOT, flags=BUFFER_SELECT, fd=5, buf_index=3)),
    ("read_multishot current position", lambda: ops.read_multishot(5, 64, -1, 0xFFFF),
     lambda s: golden(Opcode.READ_MULTISHOT, flags=BUFFER_SELECT, fd=5, len=64, off=U64, buf_index=0xFFFF)),
    ("waitid", lambda: ops.waitid(os.P_PID, 1234, os.WEXITED),
     lambda s: golden(Opcode.WAITID, fd=1234, len=os.P_PID, file_index=os.WEXITED, off=s.pins[0].addr)),
    ("waitid all options", lambda: ops.waitid(os.P_ALL, 0, 0xC0000004, 0),
     lambda s: golden(Opcode.WAITID, fd=0, len=os.P_ALL, file_index=0xC0000004 - (1 << 32), off=s.pins[0].addr)),
    ("futex_wait", lambda: ops.futex_wait(array("I", [0]), 0, ANY, U32P),
     lambda s: golden(Opcode.FUTEX_WAIT, fd=U32P, addr=s.pins[0].addr, off=0, addr3=ANY)),
    ("futex_wake", lambda: ops.futex_wake(array("I", [0]), 3, 0b10, FUTEX2_SIZE_U32, 0),
     lambda s: golden(Opcode.FUTEX_WAKE, fd=FUTEX2_SIZE_U32, addr=s.pins[0].addr, off=3, addr3=0b10)),
    ("futex_waitv", lambda: ops.futex_waitv([(array("I", [0]), 5, U32P), (array("I", [1]), 1, U32P)]),
     lambda s: golden(Opcode.FUTEX_WAITV, fd=0, addr=s.pins[-1].addr, len=2)),
    ("uring_cmd", lambda: ops.uring_cmd(SocketCmd.SIOCOUTQ, 5),
     lambda s: golden(Opcode.URING_CMD, fd=5, off=1)),
    ("uring_cmd ioctl number", lambda: ops.uring_cmd(0xC0484E80, 5),
     lambda s: golden(Opcode.URING_CMD, fd=5, off=0xC0484E80)),
    ("uring_cmd negative int", lambda: ops.uring_cmd(-1, 5),
     lambda s: golden(Opcode.URING_CMD, fd=5, off=0xFFFFFFFF)),
    ("uring_cmd128", lambda: ops.uring_cmd128(SocketCmd.SIOCINQ, 6),
     lambda s: golden(Opcode.URING_CMD128, fd=6)),
    ("nop128", lambda: ops.nop128(),
     lambda s: golden(Opcode.NOP128, fd=-1)),
]


@pytest.mark.parametrize("build, expected", [(b, e) for _, b, e in GOLDEN], ids=[n for n, _, _ in GOLDEN])
def test_golden_sqe(build, expected):
    s = build()
    assert fields(s) == expected(s)


@pytest.mark.parametrize("build, big", [
    (lambda: ops.nop128(), True),
    (lambda: ops.uring_cmd128(0, 5), True),
    (lambda: ops.uring_cmd(0, 5), False),
    (lambda: ops.msg_ring(5, 0, 0), False),
])
def test_sqe_size(build, big):
    s = build()
    assert s.big is big
    assert len(bytes(s)) == (128 if big else 64)


def test_uring_cmd128_payload_fills_the_big_sqe():
    s = ops.uring_cmd128(0, 5)
    payload = bytes(range(80))
    s.set_cmd(payload)
    raw = bytes(s)
    assert raw[48:128] == payload
    assert fields(s)[:12] == golden(Opcode.URING_CMD128, fd=5)[:12]


def test_msg_ring_keeps_the_target_object():
    s = ops.msg_ring(ring9, 0, 0)
    assert ring9 in s.pins
    assert ops.msg_ring(9, 0, 0).pins == []


def test_futex_waitv_array():
    words = array("I", [0, 0, 0])
    view = memoryview(words)
    s = ops.futex_waitv([(view[0:1], 5, U32P), (view[2:3], 0xFFFFFFFF, FUTEX2_SIZE_U32)])
    table = s.pins[-1].obj
    base = words.buffer_info()[0]
    assert [FUTEX_WAITV.unpack_from(table, i * FUTEX_WAITV.size) for i in range(2)] == \
        [(5, base, U32P, 0), (0xFFFFFFFF, base + 8, FUTEX2_SIZE_U32, 0)]


def test_futex_word_is_the_start_of_the_buffer():
    words = array("I", [0, 0])
    s = ops.futex_wait(memoryview(words)[1:], 0, ANY, U32P)
    assert fields(s)[5] == words.buffer_info()[0] + 4


def test_waitid_out_is_a_siginfo_on_the_pinned_buffer():
    s = ops.waitid(os.P_PID, 1, os.WEXITED)
    assert isinstance(s.out, SigInfo)
    assert s.pins[0].obj is s.out.buffer
    assert s.pins[0].nbytes == 128
    own = SigInfo(bytearray(200))
    s = ops.waitid(os.P_PID, 1, os.WEXITED, 0, own)
    assert s.out is own and s.pins[0].obj is own.buffer
    raw = bytearray(128)
    s = ops.waitid(os.P_PID, 1, os.WEXITED, infop=raw)
    assert s.out.buffer is raw


def test_provide_out_is_the_pool():
    memory = bytearray(64)
    s = ops.provide_buffers(memory, 16, 4, 7, 2)
    pool = s.out
    assert isinstance(pool, ProvidedBuffers)
    assert pool in s.pins  # kept with the op ...
    assert pool in misc._LIVE  # ... and beyond it
    assert (pool.size, pool.count, pool.bgid, pool.bid) == (16, 4, 7, 2)


def test_helpers_are_registered_and_are_ring_methods():
    from uring import Ring
    expected = {
        Opcode.MSG_RING: {"msg_ring", "msg_ring_cqe_flags", "msg_ring_fd", "msg_ring_fd_alloc"},
        Opcode.PROVIDE_BUFFERS: {"provide_buffers"}, Opcode.REMOVE_BUFFERS: {"remove_buffers"},
        Opcode.READ_MULTISHOT: {"read_multishot"}, Opcode.WAITID: {"waitid"},
        Opcode.FUTEX_WAIT: {"futex_wait"}, Opcode.FUTEX_WAKE: {"futex_wake"},
        Opcode.FUTEX_WAITV: {"futex_waitv"}, Opcode.URING_CMD: {"uring_cmd"},
        Opcode.URING_CMD128: {"uring_cmd128"}, Opcode.NOP128: {"nop128"},
    }
    for opcode, names in expected.items():
        assert names <= set(ops.HELPERS[int(opcode)])
        for name in names:
            assert callable(getattr(Ring, name))
            assert getattr(ops, name).__doc__


# -- ProvidedBuffers ---------------------------------------------------------------------------


def test_pool_provide_subsets():
    pool = ProvidedBuffers(8, 4, 3, bid=10)

    def provided(nr, first, bid):
        return golden(Opcode.PROVIDE_BUFFERS, fd=nr, addr=pool.addr + first * 8, len=8, off=bid, buf_index=3)
    assert fields(pool.provide()) == provided(4, 0, 10)
    assert fields(pool.provide(12)) == provided(1, 2, 12)
    assert fields(pool.provide(11, 3)) == provided(3, 1, 11)
    assert fields(pool.remove()) == golden(Opcode.REMOVE_BUFFERS, fd=4, buf_index=3)
    assert fields(pool.remove(2)) == golden(Opcode.REMOVE_BUFFERS, fd=2, buf_index=3)


def test_pool_owns_page_aligned_memory():
    pool = ProvidedBuffers(100, 3, 0)
    assert pool.addr % 4096 == 0
    memory = pool._memory
    pool.close()
    assert memory.closed


def test_pool_views():
    memory = bytearray(b"".join(bytes([i]) * 8 for i in range(4)))
    pool = ProvidedBuffers(8, 4, 1, bid=5, buf=memory)
    assert bytes(pool.get(5)) == b"\0" * 8
    assert bytes(pool.get(7, 3)) == b"\2" * 3
    bid, view = pool.from_cqe(2, 1 | (8 << 16))
    assert (bid, bytes(view)) == (8, b"\3" * 2)
    bid, view = pool.from_cqe(0, 1 | 2 | (6 << 16))  # F_MORE alongside is fine
    assert (bid, bytes(view)) == (6, b"")
    pool.get(6)[0] = 0xFF  # writable: the caller may reuse the buffer before re-providing
    assert memory[8] == 0xFF


def test_pool_on_a_typed_buffer_uses_bytes():
    words = array("I", range(8))
    pool = ProvidedBuffers(8, 4, 0, buf=words)
    assert bytes(pool.get(1)) == struct.pack("=II", 2, 3)


def test_pool_lifetime():
    memory = bytearray(16)
    pool = ProvidedBuffers(8, 2, 1, buf=memory)
    assert pool not in misc._LIVE  # nothing handed to the kernel yet
    pool.provide()
    assert pool in misc._LIVE
    with pytest.raises(BufferError):
        memory.extend(b"x")
    pool.close()
    assert pool.closed and pool not in misc._LIVE
    pool.close()  # idempotent
    memory.extend(b"x")
    for call in (pool.provide, lambda: pool.get(0), lambda: pool.addr):
        with pytest.raises(ValueError, match="closed"):
            call()
    assert "closed" in repr(pool)


def test_pool_context_manager_closes():
    with ProvidedBuffers(8, 2, 1) as pool:
        pool.provide()
        assert "bgid=1 bids=0..1 size=8" in repr(pool)
    assert pool.closed and pool not in misc._LIVE


# -- SigInfo -----------------------------------------------------------------------------------


def test_siginfo_decoding():
    raw = bytearray(128)
    struct.pack_into("=iii4xiIi", raw, 0, 17, 0, 2, 4321, 1000, 9)
    info = SigInfo(raw)
    assert (info.si_signo, info.si_errno, info.si_code, info.si_pid, info.si_uid, info.si_status) == \
        (17, 0, 2, 4321, 1000, 9)
    assert info.result() == os.waitid_result((4321, 1000, 17, 9, 2))
    assert "si_pid=4321" in repr(info)
    assert SigInfo().result() is None


# -- bad input ---------------------------------------------------------------------------------


class Closed:
    fd = -1


BAD = [
    (lambda: ops.msg_ring("5", 0, 0), TypeError, "fd"),
    (lambda: ops.msg_ring(True, 0, 0), TypeError, "fd"),
    (lambda: ops.msg_ring(object(), 0, 0), TypeError, "fd"),
    (lambda: ops.msg_ring(Closed(), 0, 0), ValueError, "closed"),
    (lambda: ops.msg_ring(2 ** 31, 0, 0), ValueError, "fd"),
    (lambda: ops.msg_ring(5, -1, 0), ValueError, "len"),
    (lambda: ops.msg_ring(5, 2 ** 32, 0), ValueError, "len"),
    (lambda: ops.msg_ring(5, 0, -1), ValueError, "data"),
    (lambda: ops.msg_ring(5, 0, 2 ** 64), ValueError, "data"),
    (lambda: ops.msg_ring(5, 0, 1.0), TypeError, "data"),
    (lambda: ops.msg_ring(5, 0, 0, 4), ValueError, "MSG_RING flag"),
    (lambda: ops.msg_ring(5, 0, 0, -1), ValueError, "flags"),
    (lambda: ops.msg_ring_cqe_flags(5, 0, 0, 0, -1), ValueError, "cqe_flags"),
    (lambda: ops.msg_ring_cqe_flags(5, 0, 0, 0, 2 ** 32), ValueError, "cqe_flags"),
    (lambda: ops.msg_ring_fd(5, 0, -1, 0), ValueError, "target_fd"),
    (lambda: ops.msg_ring_fd(5, 0, 0x7FFFFFFF, 0), ValueError, "target_fd"),
    (lambda: ops.msg_ring_fd(5, 0, "1", 0), TypeError, "target_fd"),
    (lambda: ops.msg_ring_fd(5, -1, 0, 0), ValueError, "source_fd"),
    (lambda: ops.msg_ring_fd_alloc(5, 0, 0, 8), ValueError, "MSG_RING flag"),
    (lambda: ops.provide_buffers(b"x" * 64, 16, 4, 1, 0), TypeError, "writable"),
    (lambda: ops.provide_buffers("text", 1, 1, 1, 0), TypeError, "bytes-like"),
    (lambda: ops.provide_buffers(bytearray(63), 16, 4, 1, 0), ValueError, "63 bytes"),
    (lambda: ops.provide_buffers(bytearray(64), 0, 4, 1, 0), ValueError, "size"),
    (lambda: ops.provide_buffers(bytearray(64), 16, 0, 1, 0), ValueError, "count"),
    (lambda: ops.provide_buffers(bytearray(64), 16, 65536, 1, 0), ValueError, "count"),
    (lambda: ops.provide_buffers(bytearray(64), 16, 4, 65536, 0), ValueError, "bgid"),
    (lambda: ops.provide_buffers(bytearray(64), 16, 4, 1, -1), ValueError, "bid"),
    (lambda: ops.provide_buffers(bytearray(64), 16, 4, 1, 65533), ValueError, "16-bit bid"),
    (lambda: ProvidedBuffers(0x7FFFF001, 1, 0), ValueError, "size"),
    (lambda: ProvidedBuffers(8, 4, 0).provide(4), ValueError, "bid"),
    (lambda: ProvidedBuffers(8, 4, 0).provide(2, 3), ValueError, "nr"),
    (lambda: ProvidedBuffers(8, 4, 0).provide(0, 0), ValueError, "nr"),
    (lambda: ProvidedBuffers(8, 4, 0).get(4), ValueError, "bid"),
    (lambda: ProvidedBuffers(8, 4, 0).get(0, 9), ValueError, "nbytes"),
    (lambda: ProvidedBuffers(8, 4, 0).from_cqe(8, 2 << 16), ValueError, "IORING_CQE_F_BUFFER"),
    (lambda: ProvidedBuffers(8, 4, 0).from_cqe(-105, 1), ValueError, "error"),
    (lambda: ProvidedBuffers(8, 4, 0).from_cqe(1, 1 | (4 << 16)), ValueError, "bid"),
    (lambda: ops.remove_buffers(0, 1), ValueError, "nr"),
    (lambda: ops.remove_buffers(65536, 1), ValueError, "nr"),
    (lambda: ops.remove_buffers(1, 65536), ValueError, "bgid"),
    (lambda: ops.read_multishot("5", 0, 0, 1), TypeError, "fd"),
    (lambda: ops.read_multishot(5, -1, 0, 1), ValueError, "nbytes"),
    (lambda: ops.read_multishot(5, 0, -2, 1), ValueError, "offset"),
    (lambda: ops.read_multishot(5, 0, 0, 65536), ValueError, "buf_group"),
    (lambda: ops.read_multishot(5, 0, 0, -1), ValueError, "buf_group"),
    (lambda: ops.waitid(os.P_PID, -1, os.WEXITED), ValueError, "id"),
    (lambda: ops.waitid(-1, 1, os.WEXITED), ValueError, "idtype"),
    (lambda: ops.waitid(os.P_PID, 1, -1), ValueError, "options"),
    (lambda: ops.waitid(os.P_PID, 1, os.WEXITED, -1), ValueError, "flags"),
    (lambda: ops.waitid(os.P_PID, 1, os.WEXITED, 0, bytes(128)), TypeError, "writable"),
    (lambda: ops.waitid(os.P_PID, 1, os.WEXITED, 0, bytearray(127)), ValueError, "128 bytes"),
    (lambda: ops.futex_wait(bytes(4), 0, ANY, U32P), TypeError, "writable"),
    (lambda: ops.futex_wait(bytearray(2), 0, ANY, U32P), ValueError, "2 bytes"),
    (lambda: ops.futex_wait(memoryview(bytearray(16))[1:5], 0, ANY, U32P), ValueError, "aligned"),
    (lambda: ops.futex_wait(array("I", [0]), 2 ** 32, ANY, U32P), ValueError, "val"),
    (lambda: ops.futex_wait(array("I", [0]), -1, ANY, U32P), ValueError, "val"),
    (lambda: ops.futex_wait(array("I", [0]), 0, 2 ** 32, U32P), ValueError, "mask"),
    (lambda: ops.futex_wait(array("I", [0]), 0, 0, U32P), ValueError, "mask"),
    (lambda: ops.futex_wait(array("I", [0]), 0x100, 0xFF, FUTEX2_SIZE_U8), ValueError, "8-bit"),
    (lambda: ops.futex_wait(array("I", [0]), 0, ANY, 0x10 | FUTEX2_SIZE_U32), ValueError, "FUTEX2"),
    (lambda: ops.futex_wait(array("I", [0]), 0, ANY, U32P, -1), ValueError, "flags"),
    (lambda: ops.futex_wake(array("I", [0]), 1, 0, U32P), ValueError, "mask"),
    (lambda: ops.futex_wake(array("I", [0]), 1, ANY, "2"), TypeError, "futex_flags"),
    (lambda: ops.futex_waitv([]), ValueError, "1 to 128"),
    (lambda: ops.futex_waitv([(array("I", [0]), 0, U32P)] * 129), ValueError, "1 to 128"),
    (lambda: ops.futex_waitv(bytearray(4)), TypeError, "tuples"),
    (lambda: ops.futex_waitv([array("I", [0])]), TypeError, r"futexes\[0\]"),
    (lambda: ops.futex_waitv([(array("I", [0]), 0)]), TypeError, r"futexes\[0\]"),
    (lambda: ops.futex_waitv([(array("I", [0]), 2 ** 32, U32P)]), ValueError, "val"),
    (lambda: ops.futex_waitv([(array("I", [0]), 0, 0x40)]), ValueError, "FUTEX2"),
    (lambda: ops.futex_waitv([(array("I", [0]), 0, U32P)], -1), ValueError, "flags"),
    (lambda: ops.uring_cmd(2 ** 32, 5), ValueError, "cmd_op"),
    (lambda: ops.uring_cmd(-2 ** 31 - 1, 5), ValueError, "cmd_op"),
    (lambda: ops.uring_cmd(0, "5"), TypeError, "fd"),
    (lambda: ops.uring_cmd128(None, 5), TypeError, "cmd_op"),
]


@pytest.mark.parametrize("call, exc, match", BAD)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_msg_ring_cqe_flags_rejects_bad_flags_by_type():
    with pytest.raises(TypeError, match="flags"):
        ops.msg_ring_cqe_flags(5, 0, 0, "2", 0)
