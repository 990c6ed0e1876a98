"""Helpers shared by the test modules: SQE field views for golden tests, and running
prepared SQEs to completion in kernel tests."""

from __future__ import annotations

import errno
import os
import shutil

import pytest

from uring._uapi import SQE, SQE_FIELDS


# For the C programs of uring/_bench_c, compiled at run time.
needs_cc = pytest.mark.skipif(shutil.which(os.environ.get("CC", "cc")) is None, reason="no C compiler")


def sqe_dict(s) -> dict:
    """The 64-byte SQE of `s` as {field: value}."""
    return dict(zip(SQE_FIELDS, SQE.unpack(bytes(s)[:64])))


def expect(opcode, **kw) -> dict:
    """The SQE fields a helper should write: zero except what is given (user_data is 0
    until the SQE is queued)."""
    base = dict(opcode=int(opcode), flags=0, ioprio=0, fd=0, off=0, addr=0, len=0, op_flags=0,
                user_data=0, buf_index=0, personality=0, file_index=0, addr3=0, pad2=0)
    base.update(kw)
    return base


def sqe_tuple(s) -> tuple:
    return SQE.unpack(bytes(s)[:64])


def golden(opcode, **kw) -> tuple:
    """expect() as a tuple in SQE field order."""
    return tuple(expect(opcode, **kw).values())


def pinned(s, i) -> bytes:
    """The bytes of the i-th object pinned on a prepared SQE."""
    return bytes(s.pins[i].obj)


def run_one(ring, sqe):
    """Queue one prepared SQE, wait for its CQE and return the op (not its result); its
    cqe_flags must be 0 (no buffer selection, a single CQE)."""
    op = ring.queue(sqe)
    ring.submit_and_wait(1)
    assert op.done and op.cqe_flags == 0
    return op


def failed(op, err):
    """The op completed with -err and op.result raises the matching OSError."""
    assert op.res == -err, (op.res, errno.errorcode.get(-op.res))
    with pytest.raises(OSError) as info:
        op.result
    assert info.value.errno == err
    return info.value
