"""Golden SQEs of the poll and epoll prep helpers, the epoll_wait decoder, and their
refusals of bad input (no kernel needed). Opcode numbers and field placements are
written out from the kernel ABI reference, not taken from the module under test."""

from __future__ import annotations

import select
import struct

import pytest

from tests.support import golden, sqe_tuple as fields

from uring import Op, Ring, ops
from uring.ops import poll

U64_MAX = 0xFFFFFFFFFFFFFFFF
EVENT = struct.Struct("=IQ")  # struct epoll_event is packed on x86_64: 12 bytes
POLL_ADD, POLL_REMOVE, EPOLL_CTL, EPOLL_WAIT = 6, 7, 29, 59
ADD_MULTI, UPDATE_EVENTS, UPDATE_USER_DATA = 1, 2, 4






def pin(s, i=0) -> int:
    return s.pins[i].addr


_OP = Op.__new__(Op)  # an Op not from any ring: its user_data is 0

CASES = [
    # The 32-bit poll mask lives in sqe->poll32_events (op_flags), unswapped on little-endian.
    ("poll_add", lambda: ops.poll_add(5, select.POLLIN | select.POLLPRI),
     lambda s: golden(POLL_ADD, fd=5, op_flags=0x3)),
    ("poll_add-32bit-mask", lambda: ops.poll_add(5, select.EPOLLEXCLUSIVE | select.POLLIN),
     lambda s: golden(POLL_ADD, fd=5, op_flags=0x10000001)),
    ("poll_multishot", lambda: ops.poll_multishot(5, select.POLLIN),
     lambda s: golden(POLL_ADD, fd=5, len=ADD_MULTI, op_flags=0x1)),
    ("poll_remove-int", lambda: ops.poll_remove(0x1122334455667788),
     lambda s: golden(POLL_REMOVE, fd=-1, addr=0x1122334455667788)),
    ("poll_remove-op", lambda: ops.poll_remove(_OP),
     lambda s: golden(POLL_REMOVE, fd=-1, addr=_OP.user_data)),
    ("poll_remove-max", lambda: ops.poll_remove(U64_MAX),
     lambda s: golden(POLL_REMOVE, fd=-1, addr=U64_MAX)),
    # update: old user_data in addr, new in off, flags in len, mask in poll32_events.
    ("poll_update-events", lambda: ops.poll_update(0x10, 0, select.POLLOUT, UPDATE_EVENTS),
     lambda s: golden(POLL_REMOVE, fd=-1, addr=0x10, len=UPDATE_EVENTS, op_flags=0x4)),
    ("poll_update-events-none", lambda: ops.poll_update(_OP, None, 0x1, UPDATE_EVENTS | ADD_MULTI),
     lambda s: golden(POLL_REMOVE, fd=-1, len=UPDATE_EVENTS | ADD_MULTI, op_flags=0x1)),
    ("poll_update-ignores-new-without-flag", lambda: ops.poll_update(0x10, 0x99, 0x1, UPDATE_EVENTS),
     lambda s: golden(POLL_REMOVE, fd=-1, addr=0x10, len=UPDATE_EVENTS, op_flags=0x1)),
    ("poll_update-same-user-data", lambda: ops.poll_update(0x10, 0x10, 0, UPDATE_USER_DATA),
     lambda s: golden(POLL_REMOVE, fd=-1, off=0x10, addr=0x10, len=UPDATE_USER_DATA)),
    # epoll_ctl: epfd in fd, op in len, target fd in off, struct epoll_event * in addr.
    ("epoll_ctl-add", lambda: ops.epoll_ctl(3, 9, ops.EPOLL_CTL_ADD, select.EPOLLIN | select.EPOLLET, 99),
     lambda s: golden(EPOLL_CTL, fd=3, off=9, addr=pin(s), len=1)),
    ("epoll_ctl-mod", lambda: ops.epoll_ctl(3, 9, ops.EPOLL_CTL_MOD, select.EPOLLOUT),
     lambda s: golden(EPOLL_CTL, fd=3, off=9, addr=pin(s), len=3)),
    ("epoll_ctl-del", lambda: ops.epoll_ctl(3, 9, ops.EPOLL_CTL_DEL, None),
     lambda s: golden(EPOLL_CTL, fd=3, off=9, len=2)),
    ("epoll_ctl-del-with-event", lambda: ops.epoll_ctl(3, 9, ops.EPOLL_CTL_DEL, 0),
     lambda s: golden(EPOLL_CTL, fd=3, off=9, addr=pin(s), len=2)),
    # epoll_wait: epfd in fd, events array in addr, maxevents in len, flags in op_flags.
    ("epoll_wait", lambda: ops.epoll_wait(3, 16),
     lambda s: golden(EPOLL_WAIT, fd=3, addr=pin(s), len=16)),
    ("epoll_wait-flags", lambda: ops.epoll_wait(3, 1, 0x1),
     lambda s: golden(EPOLL_WAIT, fd=3, addr=pin(s), len=1, op_flags=0x1)),
]


@pytest.mark.parametrize("prep, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_golden_sqe(prep, expected):
    s = prep()
    assert fields(s) == expected(s)
    assert s.context is None and not s.big


@pytest.mark.parametrize("events, data, expected", [
    (select.EPOLLIN | select.EPOLLET, 99, b"\x01\x00\x00\x80" + (99).to_bytes(8, "little")),
    (select.EPOLLOUT, None, b"\x04\x00\x00\x00" + (9).to_bytes(8, "little")),  # data defaults to fd
    (0, -1, bytes(4) + b"\xff" * 8),
    (0xFFFFFFFF, U64_MAX, b"\xff" * 12),
])
def test_epoll_ctl_event_struct(events, data, expected):
    s = ops.epoll_ctl(3, 9, ops.EPOLL_CTL_ADD, events, data)
    assert len(s.pins) == 1
    assert bytes(s.pins[0].obj) == expected
    assert s.pins[0].nbytes == EVENT.size == 12


def test_epoll_ctl_del_without_event_pins_nothing():
    assert ops.epoll_ctl(3, 9, ops.EPOLL_CTL_DEL, None).pins == []


def test_epoll_wait_array_and_decoder():
    s = ops.epoll_wait(3, 4)
    array = s.pins[0].obj
    assert s.pins[0].nbytes == len(array) == 4 * EVENT.size
    assert callable(s.out) and s.out.array is array
    EVENT.pack_into(array, 0, select.EPOLLIN, 42)
    EVENT.pack_into(array, 12, select.EPOLLOUT | select.EPOLLHUP, U64_MAX)
    EVENT.pack_into(array, 24, 0xDEAD, 7)  # beyond res: never reported
    assert s.out(2) == [(select.EPOLLIN, 42), (select.EPOLLOUT | select.EPOLLHUP, U64_MAX)]
    assert s.out(1) == [(select.EPOLLIN, 42)]
    assert s.out(0) == [] and s.out(-4) == []  # an error result decodes to nothing
    assert len(s.out(99)) == 4  # never past maxevents
    assert "maxevents=4" in repr(s.out)


def test_multishot_and_update_flags_match_the_abi():
    assert ops.poll_multishot(1, 1).len == ADD_MULTI
    assert (ops.EPOLL_CTL_ADD, ops.EPOLL_CTL_DEL, ops.EPOLL_CTL_MOD) == (1, 2, 3)


def test_registered_exported_and_ring_methods():
    names = ["poll_add", "poll_multishot", "poll_remove", "poll_update", "epoll_ctl", "epoll_wait"]
    assert [n for n in poll.__all__ if callable(getattr(poll, n))] == names
    assert {"poll_add", "poll_multishot"} <= set(ops.HELPERS[POLL_ADD])
    assert {"poll_remove", "poll_update"} <= set(ops.HELPERS[POLL_REMOVE])
    assert "epoll_ctl" in ops.HELPERS[EPOLL_CTL] and "epoll_wait" in ops.HELPERS[EPOLL_WAIT]
    for name in names:
        assert getattr(ops, name) is getattr(poll, name)
        assert callable(getattr(Ring, name))
        assert getattr(poll, name).__doc__


BAD = [
    ("poll_add-fd-str", lambda: ops.poll_add("3", 1), TypeError),
    ("poll_add-mask-negative", lambda: ops.poll_add(3, -1), ValueError),
    ("poll_add-mask-64bit", lambda: ops.poll_add(3, 1 << 32), ValueError),
    ("poll_add-mask-float", lambda: ops.poll_add(3, 1.0), TypeError),
    ("poll_multishot-mask-none", lambda: ops.poll_multishot(3, None), TypeError),
    ("poll_remove-str", lambda: ops.poll_remove("x"), TypeError),
    ("poll_remove-none", lambda: ops.poll_remove(None), TypeError),
    ("poll_remove-bool", lambda: ops.poll_remove(True), TypeError),
    ("poll_remove-negative", lambda: ops.poll_remove(-1), ValueError),
    ("poll_remove-65bit", lambda: ops.poll_remove(1 << 64), ValueError),
    ("poll_update-flags-negative", lambda: ops.poll_update(1, 0, 1, -1), ValueError),
    ("poll_update-old-float", lambda: ops.poll_update(1.0, 0, 1, UPDATE_EVENTS), TypeError),
    ("poll_update-new-str", lambda: ops.poll_update(1, "2", 1, UPDATE_EVENTS), TypeError),
    ("poll_update-mask-64bit", lambda: ops.poll_update(1, 0, 1 << 32, UPDATE_EVENTS), ValueError),
    ("poll_update-retarget", lambda: ops.poll_update(1, 2, 1, UPDATE_USER_DATA), ValueError),
    ("poll_update-retarget-op", lambda: ops.poll_update(1, _OP, 0, UPDATE_USER_DATA), ValueError),
    ("epoll_ctl-op-unknown", lambda: ops.epoll_ctl(3, 5, 4, 1), ValueError),
    ("epoll_ctl-op-str", lambda: ops.epoll_ctl(3, 5, "1", 1), TypeError),
    ("epoll_ctl-op-bool", lambda: ops.epoll_ctl(3, 5, True, 1), TypeError),
    ("epoll_ctl-add-without-events", lambda: ops.epoll_ctl(3, 5, ops.EPOLL_CTL_ADD, None), ValueError),
    ("epoll_ctl-del-data-without-events", lambda: ops.epoll_ctl(3, 5, ops.EPOLL_CTL_DEL, None, 1), ValueError),
    ("epoll_ctl-events-negative", lambda: ops.epoll_ctl(3, 5, ops.EPOLL_CTL_ADD, -1), ValueError),
    ("epoll_ctl-events-str", lambda: ops.epoll_ctl(3, 5, ops.EPOLL_CTL_ADD, "in"), TypeError),
    ("epoll_ctl-data-65bit", lambda: ops.epoll_ctl(3, 5, ops.EPOLL_CTL_ADD, 1, 1 << 64), ValueError),
    ("epoll_ctl-data-float", lambda: ops.epoll_ctl(3, 5, ops.EPOLL_CTL_ADD, 1, 1.0), TypeError),
    ("epoll_ctl-fd-str", lambda: ops.epoll_ctl(3, "5", ops.EPOLL_CTL_ADD, 1), TypeError),
    ("epoll_ctl-epfd-range", lambda: ops.epoll_ctl(1 << 40, 5, ops.EPOLL_CTL_ADD, 1), ValueError),
    ("epoll_wait-zero", lambda: ops.epoll_wait(3, 0), ValueError),
    ("epoll_wait-negative", lambda: ops.epoll_wait(3, -1), ValueError),
    ("epoll_wait-too-many", lambda: ops.epoll_wait(3, 1 << 31), ValueError),
    ("epoll_wait-float", lambda: ops.epoll_wait(3, 1.0), TypeError),
    ("epoll_wait-flags-negative", lambda: ops.epoll_wait(3, 1, -1), ValueError),
    ("epoll_wait-fd-none", lambda: ops.epoll_wait(None, 1), TypeError),
]


@pytest.mark.parametrize("call, exc", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input(call, exc):
    with pytest.raises(exc):
        call()
