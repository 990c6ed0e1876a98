"""Golden SQE bytes and bad-input errors of the timeout and cancel prep helpers (no kernel)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from uring import _uapi, ops
from uring._core import RingCore
from uring._uapi import CancelFlags, Opcode, TimeoutFlags

U64 = 0xFFFFFFFFFFFFFFFF


def fields(sqe):
    return _uapi.SQE.unpack(bytes(sqe))


def golden(opcode, *, fd=-1, off=0, addr=0, length=0, op_flags=0):
    # (opcode, flags, ioprio, fd, off, addr, len, op_flags, user_data, buf_index, personality,
    #  file_index, addr3, pad2)
    return (opcode, 0, 0, fd, off, addr, length, op_flags, 0, 0, 0, 0, 0, 0)


def timespec_of(sqe, addr):
    """The (tv_sec, tv_nsec) the SQE's pinned timespec at `addr` holds."""
    pins = [p for p in sqe.pins if getattr(p, "addr", None) == addr]
    assert len(pins) == 1, "the timespec must be pinned on the SQE"
    return _uapi.TIMESPEC.unpack(bytes(pins[0].obj))


TIMEOUTS = [
    # (args, expected op_flags, expected off (count), expected timespec)
    ((1.5,), 0, 0, (1, 500_000_000)),
    ((timedelta(milliseconds=20), 3), 0, 3, (0, 20_000_000)),
    ((0, 0, TimeoutFlags.ETIME_SUCCESS), TimeoutFlags.ETIME_SUCCESS, 0, (0, 0)),
    ((2, 5, TimeoutFlags.MULTISHOT), TimeoutFlags.MULTISHOT, 5, (2, 0)),
    ((1234.25, 0, TimeoutFlags.ABS), TimeoutFlags.ABS, 0, (1234, 250_000_000)),
    ((10.0, 0, TimeoutFlags.ABS | TimeoutFlags.BOOTTIME), TimeoutFlags.ABS | TimeoutFlags.BOOTTIME, 0, (10, 0)),
    ((datetime(2030, 1, 1, tzinfo=timezone.utc), 0, TimeoutFlags.ABS | TimeoutFlags.REALTIME),
     TimeoutFlags.ABS | TimeoutFlags.REALTIME, 0, (1893456000, 0)),
    ((0.999999999,), 0, 0, (0, 999_999_999)),
    ((0.9999999999,), 0, 0, (1, 0)),          # rounding carries into the seconds
]


@pytest.mark.parametrize("args,op_flags,count,ts", TIMEOUTS)
def test_timeout_golden(args, op_flags, count, ts):
    s = ops.timeout(*args)
    f = fields(s)
    assert f == golden(Opcode.TIMEOUT, addr=f[5], length=1, off=count, op_flags=op_flags)
    assert timespec_of(s, f[5]) == ts


def test_timeout_immediate_arg_puts_nanoseconds_in_addr():
    s = ops.timeout(0.25, 0, TimeoutFlags.IMMEDIATE_ARG)
    assert fields(s) == golden(Opcode.TIMEOUT, addr=250_000_000, length=1, op_flags=TimeoutFlags.IMMEDIATE_ARG)
    assert s.pins == []


def test_link_timeout_golden():
    s = ops.link_timeout(timedelta(seconds=3, microseconds=7))
    f = fields(s)
    assert f == golden(Opcode.LINK_TIMEOUT, addr=f[5], length=1)
    assert timespec_of(s, f[5]) == (3, 7000)
    s = ops.link_timeout(99.5, TimeoutFlags.ABS | TimeoutFlags.REALTIME)
    f = fields(s)
    assert f == golden(Opcode.LINK_TIMEOUT, addr=f[5], length=1, op_flags=TimeoutFlags.ABS | TimeoutFlags.REALTIME)
    assert timespec_of(s, f[5]) == (99, 500_000_000)


def test_timeout_remove_golden():
    assert fields(ops.timeout_remove(0x1234_0000_0005)) == golden(Opcode.TIMEOUT_REMOVE, addr=0x1234_0000_0005)
    assert fields(ops.timeout_remove(U64)) == golden(Opcode.TIMEOUT_REMOVE, addr=U64)


def test_timeout_update_golden():
    s = ops.timeout_update(0.5, 77)
    f = fields(s)
    assert f == golden(Opcode.TIMEOUT_REMOVE, addr=77, off=f[4], op_flags=TimeoutFlags.UPDATE)
    assert timespec_of(s, f[4]) == (0, 500_000_000)
    s = ops.timeout_update(2, 78, TimeoutFlags.LINK_TIMEOUT_UPDATE | TimeoutFlags.ABS)
    f = fields(s)
    assert f == golden(Opcode.TIMEOUT_REMOVE, addr=78, off=f[4],
                       op_flags=TimeoutFlags.UPDATE | TimeoutFlags.LINK_TIMEOUT_UPDATE | TimeoutFlags.ABS)
    assert timespec_of(s, f[4]) == (2, 0)


def test_targets_may_be_ops():
    ring = RingCore(4)
    try:
        op = ring.nop()
        assert fields(ops.timeout_remove(op))[5] == op.user_data
        assert fields(ops.timeout_update(1, op))[5] == op.user_data
        assert fields(ops.cancel(op))[5] == op.user_data
        ring.submit_and_wait(1)
    finally:
        ring.close()


CANCELS = [
    (lambda: ops.cancel64(0xABCDEF), golden(Opcode.ASYNC_CANCEL, addr=0xABCDEF)),
    (lambda: ops.cancel64(5, CancelFlags.ALL), golden(Opcode.ASYNC_CANCEL, addr=5, op_flags=CancelFlags.ALL)),
    (lambda: ops.cancel64(0, CancelFlags.ANY), golden(Opcode.ASYNC_CANCEL, op_flags=CancelFlags.ANY)),
    (lambda: ops.cancel64(0, CancelFlags.ALL, opcode=Opcode.TIMEOUT),
     golden(Opcode.ASYNC_CANCEL, length=Opcode.TIMEOUT, op_flags=CancelFlags.ALL | CancelFlags.OP)),
    (lambda: ops.cancel64(9, CancelFlags.USERDATA, opcode=Opcode.READ),
     golden(Opcode.ASYNC_CANCEL, addr=9, length=Opcode.READ, op_flags=CancelFlags.USERDATA | CancelFlags.OP)),
    (lambda: ops.cancel(U64), golden(Opcode.ASYNC_CANCEL, addr=U64)),
    (lambda: ops.cancel_fd(7), golden(Opcode.ASYNC_CANCEL, fd=7, op_flags=CancelFlags.FD)),
    (lambda: ops.cancel_fd(3, CancelFlags.ALL | CancelFlags.FD_FIXED),
     golden(Opcode.ASYNC_CANCEL, fd=3, op_flags=CancelFlags.FD | CancelFlags.ALL | CancelFlags.FD_FIXED)),
    (lambda: ops.cancel_fd(4, 0, opcode=Opcode.ACCEPT),
     golden(Opcode.ASYNC_CANCEL, fd=4, length=Opcode.ACCEPT, op_flags=CancelFlags.FD | CancelFlags.OP)),
]


@pytest.mark.parametrize("make,expected", CANCELS)
def test_cancel_golden(make, expected):
    assert fields(make()) == expected


BAD = [
    (lambda: ops.timeout(-1), ValueError),
    (lambda: ops.timeout("1"), TypeError),
    (lambda: ops.timeout(float("nan")), ValueError),
    (lambda: ops.timeout(1, -1), ValueError),
    (lambda: ops.timeout(1, 1 << 32), ValueError),
    (lambda: ops.timeout(1, 0, 1 << 12), ValueError),                   # unknown bit
    (lambda: ops.timeout(1, 0, TimeoutFlags.UPDATE), ValueError),        # belongs to timeout_update
    (lambda: ops.timeout(1, 0, TimeoutFlags.BOOTTIME | TimeoutFlags.REALTIME), ValueError),
    (lambda: ops.timeout(1, 0, TimeoutFlags.ABS | TimeoutFlags.IMMEDIATE_ARG), ValueError),
    (lambda: ops.timeout(datetime(2030, 1, 1)), ValueError),             # a datetime needs ABS|REALTIME
    (lambda: ops.timeout(1, True), TypeError),
    (lambda: ops.link_timeout(1, TimeoutFlags.MULTISHOT), ValueError),
    (lambda: ops.link_timeout(None), TypeError),
    (lambda: ops.timeout_remove(-1), ValueError),
    (lambda: ops.timeout_remove(1 << 64), ValueError),
    (lambda: ops.timeout_remove("x"), TypeError),
    (lambda: ops.timeout_remove(1, TimeoutFlags.UPDATE), ValueError),
    (lambda: ops.timeout_update(1, 1, TimeoutFlags.BOOTTIME), ValueError),
    (lambda: ops.timeout_update(-0.5, 1), ValueError),
    (lambda: ops.cancel64(-1), ValueError),
    (lambda: ops.cancel64(1, 1 << 9), ValueError),
    (lambda: ops.cancel64(1, CancelFlags.FD), ValueError),               # use cancel_fd
    (lambda: ops.cancel(1.0), TypeError),
    (lambda: ops.cancel(None), TypeError),
    (lambda: ops.cancel64(0, CancelFlags.ANY, opcode=Opcode.READ), ValueError),
    (lambda: ops.cancel64(0, 0, opcode=256), ValueError),
    (lambda: ops.cancel64(0, 0, opcode="READ"), TypeError),
    (lambda: ops.cancel_fd(-1), ValueError),
    (lambda: ops.cancel_fd("3"), TypeError),
    (lambda: ops.cancel_fd(3, CancelFlags.ANY), ValueError),
]


@pytest.mark.parametrize("make,exc", BAD)
def test_bad_input(make, exc):
    with pytest.raises(exc):
        make()


def test_helpers_are_registered_for_their_opcodes():
    assert {"timeout"} <= set(ops.HELPERS[Opcode.TIMEOUT])
    assert {"timeout_remove", "timeout_update"} <= set(ops.HELPERS[Opcode.TIMEOUT_REMOVE])
    assert {"link_timeout"} <= set(ops.HELPERS[Opcode.LINK_TIMEOUT])
    assert {"cancel", "cancel64", "cancel_fd"} <= set(ops.HELPERS[Opcode.ASYNC_CANCEL])
