"""Kernel struct layouts in _uapi: sizes and offsets against include/uapi/linux/io_uring.h
(and the BUILD_BUG_SQE_ELEM checks of io_uring.c), and the setup parameters read back from
a real io_uring_setup through those layouts."""

from __future__ import annotations

import ctypes
import mmap
import os
import platform

import pytest

from uring import _uapi

# Sizes the kernel headers give (x86_64/aarch64, LP64 little-endian).
SIZES = {
    "SQE": 64, "CQE": 16, "CQE32": 32, "SQ_OFF": 40, "CQ_OFF": 40, "PARAMS": 120,
    "PROBE": 16, "PROBE_OP": 8, "BUF": 16, "BUF_REG": 40, "GETEVENTS_ARG": 24,
    "TIMESPEC": 16, "RSRC_REGISTER": 32, "RSRC_UPDATE": 16, "RSRC_UPDATE2": 32,
    "SYNC_CANCEL_REG": 64, "FILE_INDEX_RANGE": 16, "RECVMSG_OUT": 16, "RESTRICTION": 16,
    "OPEN_HOW": 24, "FUTEX_WAITV": 24, "QUERY_HDR": 40,
}

# io_uring.c: BUILD_BUG_SQE_ELEM(offset, type, member) for every SQE member and alias.
SQE_OFFSETS = {
    "opcode": 0, "flags": 1, "ioprio": 2, "fd": 4, "off": 8, "addr2": 8, "cmd_op": 8,
    "addr": 16, "splice_off_in": 16, "len": 24, "rw_flags": 28, "op_flags": 28,
    "user_data": 32, "buf_index": 40, "buf_group": 40, "personality": 42,
    "splice_fd_in": 44, "file_index": 44, "addr_len": 44, "optlen": 44,
    "addr3": 48, "optval": 48, "cmd": 48, "pad2": 56,
}


@pytest.mark.parametrize("name, size", sorted(SIZES.items()))
def test_struct_sizes(name, size):
    assert getattr(_uapi, name).size == size


def test_sqe_offsets_match_the_kernels_build_checks():
    assert _uapi.SQE_OFFSETS == SQE_OFFSETS
    # The packed struct puts each flattened field at its documented offset.
    fmt = _uapi.SQE.format.lstrip("=")
    offsets, at = {}, 0
    import struct
    for field, code in zip(_uapi.SQE_FIELDS, fmt):
        offsets[field] = at
        at += struct.calcsize("=" + code)
    assert {f: SQE_OFFSETS[f] for f in offsets} == offsets
    assert _uapi.SQE_SIZE == 64 and _uapi.SQE128_SIZE == 128


def test_params_offsets():
    assert _uapi.PARAMS_OFFSETS["sq_off"] == 40 and _uapi.PARAMS_OFFSETS["cq_off"] == 80
    assert len(_uapi.PARAMS_FIELDS) == len(_uapi.PARAMS.unpack(bytes(120)))
    assert _uapi.PARAMS_FIELDS.index("sq_off_head") == 10
    assert _uapi.PARAMS_FIELDS.index("cq_off_head") == 19


def _setup(entries: int, params: bytearray) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    nr = {"x86_64": 425, "aarch64": 425}.get(platform.machine())
    if nr is None:
        pytest.skip(f"io_uring_setup syscall number unknown for {platform.machine()}")
    buf = (ctypes.c_char * len(params)).from_buffer(params)
    fd = libc.syscall(nr, ctypes.c_uint(entries), buf)
    if fd < 0:
        err = ctypes.get_errno()
        pytest.skip(f"io_uring_setup failed: {os.strerror(err)}")
    return fd


def test_the_kernel_fills_params_where_the_layout_says():
    params = bytearray(_uapi.PARAMS.size)
    fd = _setup(4, params)
    try:
        got = dict(zip(_uapi.PARAMS_FIELDS, _uapi.PARAMS.unpack(params)))
        assert got["sq_entries"] == 4 and got["cq_entries"] == 8
        assert got["features"] & _uapi.Features.SINGLE_MMAP
        # Read the rings through the offsets the kernel reported: entries and masks agree.
        size = max(got["sq_off_array"] + 4 * 4, got["cq_off_cqes"] + 8 * _uapi.CQE_SIZE)
        with mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE,
                       offset=_uapi.IORING_OFF_SQ_RING) as rings:
            u32 = lambda off: int.from_bytes(rings[off:off + 4], "little")  # noqa: E731
            assert (u32(got["sq_off_ring_entries"]), u32(got["sq_off_ring_mask"])) == (4, 3)
            assert (u32(got["cq_off_ring_entries"]), u32(got["cq_off_ring_mask"])) == (8, 7)
            assert u32(got["sq_off_head"]) == u32(got["sq_off_tail"]) == 0
            assert u32(got["cq_off_head"]) == u32(got["cq_off_tail"]) == 0
        with mmap.mmap(fd, 4 * _uapi.SQE_SIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE,
                       offset=_uapi.IORING_OFF_SQES) as sqes:
            assert len(sqes) == 4 * 64
    finally:
        os.close(fd)
