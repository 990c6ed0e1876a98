"""RegisterMixin without a kernel: the bytes each method hands to io_uring_register
(through a fake ring that records its `_register` calls and reads what the pointers in
those structs point at while they are pinned), its bookkeeping, and bad-input errors."""

from __future__ import annotations

import ctypes
import errno
import struct
import time

import pytest

from uring import register as reg
from uring._uapi import (
    FILE_INDEX_RANGE,
    IORING_REGISTER_DST_REPLACE,
    IORING_REGISTER_FILES_SKIP,
    QUERY_HDR,
    RESTRICTION,
    RSRC_REGISTER,
    RSRC_UPDATE,
    RSRC_UPDATE2,
    Opcode,
    RegisterOp,
    RestrictionOp,
    SqeFlags,
)
from uring.errors import RingClosed, UnsupportedFeature
from uring.register import NapiOp, NapiTracking, RegisterMixin

RO = RegisterOp


def mem(addr: int, size: int) -> bytes:
    return ctypes.string_at(addr, size) if addr else b""


def _pointees(op: int, arg: bytes, nr: int) -> dict:
    """What the pointer fields of the struct passed with `op` point at, read during the call."""
    if op in (RO.FILES2, RO.BUFFERS2):
        count, _flags, _resv, data, tags = RSRC_REGISTER.unpack(arg)
        elem = 4 if op == RO.FILES2 else 16
        return {"data": mem(data, count * elem), "tags": mem(tags, count * 8)}
    if op == RO.FILES_UPDATE:
        _off, _resv, data = RSRC_UPDATE.unpack(arg)
        return {"data": mem(data, nr * 4)}
    if op in (RO.FILES_UPDATE2, RO.BUFFERS_UPDATE):
        _off, _resv, data, tags, count, _resv2 = RSRC_UPDATE2.unpack(arg)
        elem = 4 if op == RO.FILES_UPDATE2 else 16
        return {"data": mem(data, count * elem), "tags": mem(tags, count * 8)}
    return {}


class FakeRing(RegisterMixin):
    """Records (opcode, arg bytes, nr, pointees); `results[op]` is returned or raised,
    `writeback[op]` is copied into the argument as the kernel would."""

    def __init__(self, fd: int = 5) -> None:
        self.fd = fd
        self.closed = False
        self.calls: list = []
        self.results: dict = {}
        self.writeback: dict = {}

    def _use_registered_ring(self, index):
        self.enter_index = index

    def _set_fixed_buffers(self, spans):
        self.fixed_spans = spans  # the core's mirror of the buffer table

    def _register(self, opcode, arg=None, nr=0):
        if self.closed:
            raise RingClosed("the ring is closed")
        raw = None if arg is None else bytes(memoryview(arg).cast("B"))
        self.calls.append((opcode, raw, nr, _pointees(opcode, raw, nr) if raw else {}))
        if opcode in self.writeback:
            data = self.writeback[opcode]
            memoryview(arg).cast("B")[:len(data)] = data
        result = self.results.get(opcode, 0)
        if isinstance(result, BaseException):
            raise result
        return result

    @property
    def last(self):
        return self.calls[-1]


@pytest.fixture
def fake():
    return FakeRing()


@pytest.fixture(autouse=True)
def fresh_query_cache(monkeypatch):
    monkeypatch.setattr(reg, "_query_register_last", reg._UNKNOWN)


def iov(buf) -> bytes:
    return struct.pack("=QQ", ctypes.addressof(ctypes.c_char.from_buffer(buf)), len(buf))


# -- golden argument bytes -------------------------------------------------------------

SRC = FakeRing(fd=9)

SIMPLE = [
    ("register_files", lambda r: r.register_files([3, -1, 5]),
     RO.FILES, struct.pack("=3i", 3, -1, 5), 3),
    ("register_files_sparse", lambda r: r.register_files_sparse(10),
     RO.FILES2, RSRC_REGISTER.pack(10, 1, 0, 0, 0), 32),
    ("unregister_files", lambda r: r.unregister_files(), RO.UNREGISTER_FILES, None, 0),
    ("register_file_alloc_range", lambda r: r.register_file_alloc_range(2, 3),
     RO.FILE_ALLOC_RANGE, FILE_INDEX_RANGE.pack(2, 3, 0), 0),
    ("register_buffers_sparse", lambda r: r.register_buffers_sparse(4),
     RO.BUFFERS2, RSRC_REGISTER.pack(4, 1, 0, 0, 0), 32),
    ("unregister_buffers", lambda r: r.unregister_buffers(), RO.UNREGISTER_BUFFERS, None, 0),
    ("register_eventfd", lambda r: r.register_eventfd(9), RO.EVENTFD, struct.pack("=i", 9), 1),
    ("register_eventfd_async", lambda r: r.register_eventfd_async(9),
     RO.EVENTFD_ASYNC, struct.pack("=i", 9), 1),
    ("unregister_eventfd", lambda r: r.unregister_eventfd(), RO.UNREGISTER_EVENTFD, None, 0),
    ("register_personality", lambda r: r.register_personality(), RO.PERSONALITY, None, 0),
    ("unregister_personality", lambda r: r.unregister_personality(3),
     RO.UNREGISTER_PERSONALITY, None, 3),
    ("register_restrictions", lambda r: r.register_restrictions(
        [(RestrictionOp.SQE_OP, Opcode.READ), (RestrictionOp.REGISTER_OP, RO.FILES),
         (RestrictionOp.SQE_FLAGS_ALLOWED, SqeFlags.IO_LINK | SqeFlags.ASYNC),
         (RestrictionOp.SQE_FLAGS_REQUIRED, SqeFlags.FIXED_FILE)]),
     RO.RESTRICTIONS,
     RESTRICTION.pack(1, 22, 0, 0, 0, 0) + RESTRICTION.pack(0, 2, 0, 0, 0, 0)
     + RESTRICTION.pack(2, 0x14, 0, 0, 0, 0) + RESTRICTION.pack(3, 1, 0, 0, 0, 0), 4),
    ("enable_rings", lambda r: r.enable_rings(), RO.ENABLE_RINGS, None, 0),
    ("register_iowq_aff", lambda r: r.register_iowq_aff([0, 2, 65]),
     RO.IOWQ_AFF, struct.pack("=2Q", 0b101, 0b10), 16),
    ("register_iowq_aff_one_word", lambda r: r.register_iowq_aff({1}),
     RO.IOWQ_AFF, struct.pack("=Q", 2), 8),
    ("unregister_iowq_aff", lambda r: r.unregister_iowq_aff(), RO.UNREGISTER_IOWQ_AFF, None, 0),
    ("register_iowq_max_workers", lambda r: r.register_iowq_max_workers(4, 8),
     RO.IOWQ_MAX_WORKERS, struct.pack("=2I", 4, 8), 2),
    ("register_clock", lambda r: r.register_clock(time.CLOCK_BOOTTIME),
     RO.CLOCK, struct.pack("=4I", time.CLOCK_BOOTTIME, 0, 0, 0), 0),
    ("register_napi", lambda r: r.register_napi(50, True),
     RO.NAPI, struct.pack("=IBBBBII", 50, 1, 0, 0, 0, 0, 0), 1),
    ("register_napi_static", lambda r: r.register_napi(
        0, opcode=NapiOp.STATIC_ADD_ID, op_param=1234),
     RO.NAPI, struct.pack("=IBBBBII", 0, 0, 1, 0, 0, 1234, 0), 1),
    ("register_napi_tracking", lambda r: r.register_napi(
        10, op_param=NapiTracking.STATIC), RO.NAPI, struct.pack("=IBBBBII", 10, 0, 0, 0, 0, 1, 0), 1),
    ("unregister_napi", lambda r: r.unregister_napi(), RO.UNREGISTER_NAPI, bytes(16), 1),
    ("register_ring_fd", lambda r: r.register_ring_fd(),
     RO.RING_FDS, RSRC_UPDATE.pack(0xFFFFFFFF, 0, 5), 1),
    ("clone_buffers", lambda r: r.clone_buffers(SRC),
     RO.CLONE_BUFFERS, struct.pack("=8I", 9, 0, 0, 0, 0, 0, 0, 0), 1),
    ("clone_buffers_offset", lambda r: r.clone_buffers_offset(SRC, 1, 2, 3, IORING_REGISTER_DST_REPLACE),
     RO.CLONE_BUFFERS, struct.pack("=8I", 9, 2, 2, 1, 3, 0, 0, 0), 1),
]


@pytest.mark.parametrize("name, call, op, arg, nr", SIMPLE, ids=[c[0] for c in SIMPLE])
def test_simple_argument_bytes(fake, name, call, op, arg, nr):
    call(fake)
    assert len(fake.calls) == 1
    got_op, got_arg, got_nr, _ = fake.last
    assert (got_op, got_arg, got_nr) == (op, arg, nr)


def test_register_files_tags_bytes(fake):
    fake.register_files_tags([3, -1], [7, 0])
    op, arg, nr, ptr = fake.last
    count, flags, resv, data, tags = RSRC_REGISTER.unpack(arg)
    assert (op, nr, count, flags, resv) == (RO.FILES2, 32, 2, 0, 0)
    assert data and tags
    assert ptr == {"data": struct.pack("=2i", 3, -1), "tags": struct.pack("=2Q", 7, 0)}
    assert fake.registered_file_slots == 2


def test_register_files_update_bytes(fake):
    fake.results[RO.FILES_UPDATE] = 2
    assert fake.register_files_update(4, [6, IORING_REGISTER_FILES_SKIP, -1]) == 2
    op, arg, nr, ptr = fake.last
    off, resv, data = RSRC_UPDATE.unpack(arg)
    assert (op, nr, off, resv) == (RO.FILES_UPDATE, 3, 4, 0)
    assert ptr == {"data": struct.pack("=3i", 6, -2, -1)}


def test_register_files_update_tag_bytes(fake):
    fake.results[RO.FILES_UPDATE2] = 2
    assert fake.register_files_update_tag(1, [8, -1], [0xFFFFFFFF, 0]) == 2
    op, arg, nr, ptr = fake.last
    off, resv, _data, _tags, count, resv2 = RSRC_UPDATE2.unpack(arg)
    assert (op, nr, off, resv, count, resv2) == (RO.FILES_UPDATE2, 32, 1, 0, 2, 0)
    assert ptr == {"data": struct.pack("=2i", 8, -1), "tags": struct.pack("=2Q", 0xFFFFFFFF, 0)}


def test_files_accept_fileno_objects(fake):
    class F:
        def fileno(self):
            return 12
    fake.register_files([F(), 4])
    assert fake.last[1] == struct.pack("=2i", 12, 4)


def test_register_buffers_bytes_and_pins(fake):
    a, b = bytearray(100), bytearray(4096)
    fake.register_buffers([a, None, b])
    op, arg, nr, _ = fake.last
    assert (op, nr) == (RO.BUFFERS, 3)
    assert arg == iov(a) + bytes(16) + iov(b)
    assert fake.registered_buffers == (a, None, b)
    with pytest.raises(BufferError):
        a.append(0)
    fake.unregister_buffers()
    assert fake.registered_buffers == ()
    a.append(0)


def test_register_buffers_tags_bytes(fake):
    a = bytearray(64)
    fake.register_buffers_tags([a, None], [5, 0])
    op, arg, nr, ptr = fake.last
    count, flags, resv, _data, _tags = RSRC_REGISTER.unpack(arg)
    assert (op, nr, count, flags, resv) == (RO.BUFFERS2, 32, 2, 0, 0)
    assert ptr == {"data": iov(a) + bytes(16), "tags": struct.pack("=2Q", 5, 0)}
    assert fake.registered_buffers == (a, None)


def test_register_buffers_update_tag_bytes_and_partial_update(fake):
    fake.register_buffers_sparse(4)
    a, b = bytearray(32), bytearray(48)
    fake.results[RO.BUFFERS_UPDATE] = 1  # the kernel stopped after the first slot
    assert fake.register_buffers_update_tag(2, [a, b], [3, 4]) == 1
    op, arg, nr, ptr = fake.last
    off, resv, _data, _tags, count, resv2 = RSRC_UPDATE2.unpack(arg)
    assert (op, nr, off, resv, count, resv2) == (RO.BUFFERS_UPDATE, 32, 2, 0, 2, 0)
    assert ptr == {"data": iov(a) + iov(b), "tags": struct.pack("=2Q", 3, 4)}
    assert fake.registered_buffers == (None, None, a, None)
    b.append(0)  # not registered, so not kept pinned


def test_register_buffers_update_without_tags(fake):
    fake.register_buffers_sparse(1)
    a = bytearray(8)
    fake.results[RO.BUFFERS_UPDATE] = 1
    fake.register_buffers_update_tag(0, [a])
    assert RSRC_UPDATE2.unpack(fake.last[1])[3] == 0  # tags pointer
    assert fake.last[3]["tags"] == b""


def test_failed_registration_keeps_nothing_pinned(fake):
    fake.results[RO.BUFFERS] = OSError(errno.ENOMEM, "no")
    buf = bytearray(64)
    with pytest.raises(OSError, match="RLIMIT_MEMLOCK"):
        fake.register_buffers([buf])
    assert fake.registered_buffers == ()


def test_returned_values(fake):
    fake.writeback[RO.IOWQ_MAX_WORKERS] = struct.pack("=2I", 16, 1024)
    assert fake.register_iowq_max_workers(2, 0) == (16, 1024)
    fake.results[RO.PERSONALITY] = 7
    assert fake.register_personality() == 7
    fake.writeback[RO.NAPI] = struct.pack("=IB11x", 20, 1)
    assert fake.register_napi(50) == (20, True)
    fake.writeback[RO.UNREGISTER_NAPI] = struct.pack("=IB11x", 50, 0)
    assert fake.unregister_napi() == (50, False)
    fake.writeback[RO.RING_FDS] = RSRC_UPDATE.pack(3, 0, 5)
    fake.results[RO.RING_FDS] = 1
    assert fake.register_ring_fd() == 3
    assert fake.ring_fd_index == 3


def test_ring_fd_bookkeeping(fake):
    fake.writeback[RO.RING_FDS] = RSRC_UPDATE.pack(2, 0, 5)
    fake.register_ring_fd()
    with pytest.raises(FileExistsError):
        fake.register_ring_fd()
    fake.unregister_ring_fd()
    assert fake.last[:3] == (RO.UNREGISTER_RING_FDS, RSRC_UPDATE.pack(2, 0, 0), 1)
    assert fake.ring_fd_index is None
    with pytest.raises(OSError) as exc:
        fake.unregister_ring_fd()
    assert exc.value.errno == errno.EINVAL


def test_ring_fd_unregister_from_other_thread(fake):
    import threading
    fake.writeback[RO.RING_FDS] = RSRC_UPDATE.pack(0, 0, 5)
    fake.register_ring_fd()
    errors: list = []

    def other_thread():
        try:
            fake.unregister_ring_fd()
        except RuntimeError as exc:
            errors.append(str(exc))
    t = threading.Thread(target=other_thread)
    t.start()
    t.join()
    assert errors == ["registered ring fds are per thread: unregister from the thread that "
                      "registered it"]
    assert fake.ring_fd_index == 0
    assert fake.last[0] == RO.RING_FDS  # nothing reached the kernel


def test_clone_mirrors_pins(fake):
    src = FakeRing(fd=9)
    a, b, c = bytearray(8), bytearray(8), bytearray(8)
    src.register_buffers([a, b])
    fake.clone_buffers(src)
    assert fake.registered_buffers == (a, b)
    fake.clone_buffers_offset(src, 3, 1, 1, IORING_REGISTER_DST_REPLACE)
    assert fake.registered_buffers == (a, b, None, b)
    other = FakeRing()
    other.register_buffers([c])
    other.clone_buffers_offset(src, 0, 1, 1, IORING_REGISTER_DST_REPLACE)
    assert other.registered_buffers == (b,)


def test_file_slot_bookkeeping(fake):
    fake.register_files_sparse(4)
    assert fake.registered_file_slots == 4
    fake.unregister_files()
    assert fake.registered_file_slots == 0
    fake.results[RO.FILES] = OSError(errno.EBUSY, "busy")
    with pytest.raises(OSError, match="already registered"):
        fake.register_files([1])
    assert fake.registered_file_slots == 0


# -- bad input: nothing reaches the kernel ----------------------------------------------

BAD = [
    ("files_str", lambda r: r.register_files("123"), TypeError, "list"),
    ("files_float", lambda r: r.register_files([1.0]), TypeError, "int"),
    ("files_bool", lambda r: r.register_files([True]), TypeError, "int"),
    ("files_empty", lambda r: r.register_files([]), ValueError, "empty"),
    ("files_skip_not_in_register", lambda r: r.register_files([-2]), ValueError, "-1"),
    ("files_too_big", lambda r: r.register_files([1 << 31]), ValueError, "fd"),
    ("files_sparse_zero", lambda r: r.register_files_sparse(0), ValueError, "nr"),
    ("files_tags_len", lambda r: r.register_files_tags([1, 2], [1]), ValueError, "tags"),
    ("files_tag_on_empty", lambda r: r.register_files_tags([-1], [4]), ValueError, "empty"),
    ("files_tag_too_big", lambda r: r.register_files_tags([1], [1 << 32]), ValueError, "tags"),
    ("files_tag_negative", lambda r: r.register_files_tags([1], [-1]), ValueError, "tags"),
    ("update_negative_off", lambda r: r.register_files_update(-1, [1]), ValueError, "off"),
    ("update_bad_fd", lambda r: r.register_files_update(0, [-3]), ValueError, "SKIP"),
    ("update_tag_on_skip", lambda r: r.register_files_update_tag(0, [-2], [1]), ValueError, "skipped"),
    ("alloc_range_type", lambda r: r.register_file_alloc_range("0", 1), TypeError, "off"),
    ("buffers_readonly", lambda r: r.register_buffers([b"abc"]), TypeError, "buffers\\[0\\]"),
    ("buffers_not_buffer", lambda r: r.register_buffers([123]), TypeError, "buffers\\[0\\]"),
    ("buffers_single", lambda r: r.register_buffers(bytearray(8)), TypeError, "list"),
    ("buffers_empty_buffer", lambda r: r.register_buffers([bytearray()]), ValueError, "1 byte"),
    ("buffers_empty_list", lambda r: r.register_buffers([]), ValueError, "empty"),
    ("buffers_tag_on_empty", lambda r: r.register_buffers_tags([None], [1]), ValueError, "empty"),
    ("buffers_sparse_type", lambda r: r.register_buffers_sparse(2.0), TypeError, "nr"),
    ("eventfd_negative", lambda r: r.register_eventfd(-1), ValueError, "fd must be in 0"),
    ("eventfd_type", lambda r: r.register_eventfd("3"), TypeError, "fd"),
    ("personality_range", lambda r: r.unregister_personality(0x10000), ValueError, "id"),
    ("restriction_not_pair", lambda r: r.register_restrictions([1]), TypeError, "pair"),
    ("restriction_kind", lambda r: r.register_restrictions([(9, 0)]), ValueError, "kind"),
    ("restriction_value", lambda r: r.register_restrictions([(RestrictionOp.SQE_OP, 256)]),
     ValueError, "value"),
    ("aff_empty", lambda r: r.register_iowq_aff([]), ValueError, "empty"),
    ("aff_negative", lambda r: r.register_iowq_aff([-1]), ValueError, "cpu"),
    ("aff_type", lambda r: r.register_iowq_aff(["0"]), TypeError, "cpu"),
    ("max_workers_range", lambda r: r.register_iowq_max_workers(1 << 31, 0), ValueError, "bounded"),
    ("max_workers_type", lambda r: r.register_iowq_max_workers(1, None), TypeError, "unbounded"),
    ("clock_unknown", lambda r: r.register_clock(time.CLOCK_REALTIME), ValueError, "CLOCK_MONOTONIC"),
    ("napi_prefer_type", lambda r: r.register_napi(1, 1), TypeError, "bool"),
    ("napi_opcode_range", lambda r: r.register_napi(1, opcode=256), ValueError, "opcode"),
    ("clone_not_ring", lambda r: r.clone_buffers(object()), TypeError, "Ring"),
    ("clone_flags", lambda r: r.clone_buffers_offset(SRC, 0, 0, 1, 1), ValueError, "DST_REPLACE"),
    ("clone_offsets_without_nr", lambda r: r.clone_buffers_offset(SRC, 1, 0, 0), ValueError, "nr"),
]


@pytest.mark.parametrize("name, call, exc, match", BAD, ids=[b[0] for b in BAD])
def test_bad_input(fake, name, call, exc, match):
    with pytest.raises(exc, match=match):
        call(fake)
    assert fake.calls == []


def test_out_of_range_slots(fake):
    fake.register_files_sparse(4)
    fake.register_buffers_sparse(2)
    fake.calls.clear()
    with pytest.raises(ValueError, match="slots 3..4 are outside the registered table of 4"):
        fake.register_files_update(3, [1, 2])
    with pytest.raises(ValueError, match="outside"):
        fake.register_files_update_tag(4, [1], [0])
    with pytest.raises(ValueError, match="outside"):
        fake.register_file_alloc_range(2, 3)
    with pytest.raises(ValueError, match="outside"):
        fake.register_buffers_update_tag(2, [bytearray(1)])
    src = FakeRing(fd=9)
    src.register_buffers([bytearray(1)])
    with pytest.raises(ValueError, match="source buffer"):
        fake.clone_buffers_offset(src, 0, 0, 2)
    assert fake.calls == []


def test_closed_source_ring(fake):
    closed = FakeRing(fd=-1)
    with pytest.raises(RingClosed):
        fake.clone_buffers(closed)


def test_closed_ring(fake):
    fake.closed = True
    with pytest.raises(RingClosed):
        fake.register_personality()


# -- error translation -------------------------------------------------------------------

def _query_answers(nr_register_opcodes: int):
    """A fake QUERY: fill io_uring_query_opcode at hdr.query_data and report success."""
    def answer(ring):
        original = ring._register

        def _register(opcode, arg=None, nr=0):
            if opcode == RO.QUERY:
                fields = QUERY_HDR.unpack(bytes(arg))
                assert fields[2] == 0 and fields[3] >= 8 and nr == 0  # IO_URING_QUERY_OPCODES
                ctypes.memmove(fields[1], struct.pack("=II", 63, nr_register_opcodes), 8)
                ring.calls.append((opcode, None, nr, {}))
                return 0
            return original(opcode, arg, nr)
        ring._register = _register
    return answer


def test_unknown_opcode_by_query(fake, monkeypatch):
    monkeypatch.setattr(reg, "kernel_release", lambda: "6.99.0-test")
    _query_answers(30)(fake)
    fake.results[RO.CLONE_BUFFERS] = OSError(errno.EINVAL, "Invalid argument")
    fake.results[RO.FILES] = OSError(errno.EINVAL, "Invalid argument")
    with pytest.raises(UnsupportedFeature,
                       match=r"IORING_REGISTER_CLONE_BUFFERS unsupported on Linux 6.99.0-test "
                             r"\(added in Linux 6.12\)"):
        fake.clone_buffers(SRC)
    with pytest.raises(OSError, match="IORING_REGISTER_FILES: Invalid argument") as exc:
        fake.register_files([1])
    assert exc.value.errno == errno.EINVAL and not isinstance(exc.value, UnsupportedFeature)
    assert [c[0] for c in fake.calls].count(RO.QUERY) == 1  # cached for the process


def test_unknown_opcode_by_release_without_query(fake, monkeypatch):
    monkeypatch.setattr(reg, "kernel_release", lambda: "5.15.0-91-generic")
    fake.results[RO.QUERY] = OSError(errno.EINVAL, "Invalid argument")
    fake.results[RO.NAPI] = OSError(errno.EINVAL, "Invalid argument")
    fake.results[RO.FILES2] = OSError(errno.EINVAL, "Invalid argument")
    with pytest.raises(UnsupportedFeature,
                       match="IORING_REGISTER_NAPI unsupported on Linux 5.15.0-91-generic"):
        fake.register_napi(10)
    with pytest.raises(OSError, match="IORING_REGISTER_FILES2") as exc:
        fake.register_files_sparse(2)
    assert not isinstance(exc.value, UnsupportedFeature)
    assert not reg.register_op_supported(fake, RO.QUERY)
    assert reg.register_op_supported(fake, RO.IOWQ_MAX_WORKERS)
    assert not reg.register_op_supported(fake, RO.RING_FDS)


def test_errors_name_the_op_and_keep_errno(fake):
    fake.results[RO.UNREGISTER_FILES] = OSError(errno.ENXIO, "No such device or address")
    with pytest.raises(OSError) as exc:
        fake.unregister_files()
    assert exc.value.errno == errno.ENXIO
    assert str(exc.value) == ("[Errno 6] IORING_UNREGISTER_FILES: No such device or address "
                              "(no files are registered)")
    fake.results[RO.PERSONALITY] = OSError(errno.EACCES, "Permission denied")
    with pytest.raises(PermissionError, match="IORING_REGISTER_PERSONALITY"):
        fake.register_personality()


def test_register_op_name():
    assert reg.register_op_name(RO.FILES) == "IORING_REGISTER_FILES"
    assert reg.register_op_name(RO.UNREGISTER_NAPI) == "IORING_UNREGISTER_NAPI"
    assert reg.register_op_name(250) == "register opcode 250"
