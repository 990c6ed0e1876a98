"""Check uring._uapi against the documented io_uring kernel ABI values.

Expected numbers come from the project's kernel ABI reference (compiled against
liburing 2.15's copy of the UAPI header on x86_64), not from the module itself.
"""

from __future__ import annotations

import struct

import pytest

from uring import _uapi

# fmt: off
OPCODES = [
    "NOP", "READV", "WRITEV", "FSYNC", "READ_FIXED", "WRITE_FIXED",
    "POLL_ADD", "POLL_REMOVE", "SYNC_FILE_RANGE", "SENDMSG", "RECVMSG",
    "TIMEOUT", "TIMEOUT_REMOVE", "ACCEPT", "ASYNC_CANCEL", "LINK_TIMEOUT",
    "CONNECT", "FALLOCATE", "OPENAT", "CLOSE", "FILES_UPDATE", "STATX",
    "READ", "WRITE", "FADVISE", "MADVISE", "SEND", "RECV", "OPENAT2",
    "EPOLL_CTL", "SPLICE", "PROVIDE_BUFFERS", "REMOVE_BUFFERS", "TEE",
    "SHUTDOWN", "RENAMEAT", "UNLINKAT", "MKDIRAT", "SYMLINKAT", "LINKAT",
    "MSG_RING", "FSETXATTR", "SETXATTR", "FGETXATTR", "GETXATTR", "SOCKET",
    "URING_CMD", "SEND_ZC", "SENDMSG_ZC", "READ_MULTISHOT", "WAITID",
    "FUTEX_WAIT", "FUTEX_WAKE", "FUTEX_WAITV", "FIXED_FD_INSTALL",
    "FTRUNCATE", "BIND", "LISTEN", "RECV_ZC", "EPOLL_WAIT", "READV_FIXED",
    "WRITEV_FIXED", "PIPE", "NOP128", "URING_CMD128",
]  # index == opcode number

SETUP_FLAGS = [
    "IOPOLL", "SQPOLL", "SQ_AFF", "CQSIZE", "CLAMP", "ATTACH_WQ",
    "R_DISABLED", "SUBMIT_ALL", "COOP_TASKRUN", "TASKRUN_FLAG", "SQE128",
    "CQE32", "SINGLE_ISSUER", "DEFER_TASKRUN", "NO_MMAP",
    "REGISTERED_FD_ONLY", "NO_SQARRAY", "HYBRID_IOPOLL", "CQE_MIXED",
    "SQE_MIXED", "SQ_REWIND",
]  # index == bit number

FEATURES = [
    "SINGLE_MMAP", "NODROP", "SUBMIT_STABLE", "RW_CUR_POS",
    "CUR_PERSONALITY", "FAST_POLL", "POLL_32BITS", "SQPOLL_NONFIXED",
    "EXT_ARG", "NATIVE_WORKERS", "RSRC_TAGS", "CQE_SKIP", "LINKED_FILE",
    "REG_REG_RING", "RECVSEND_BUNDLE", "MIN_TIMEOUT", "RW_ATTR", "NO_IOWAIT",
]  # index == bit number

SQE_FLAGS = [
    "FIXED_FILE", "IO_DRAIN", "IO_LINK", "IO_HARDLINK", "ASYNC",
    "BUFFER_SELECT", "CQE_SKIP_SUCCESS",
]  # index == bit number

ENTER_FLAGS = [
    "GETEVENTS", "SQ_WAKEUP", "SQ_WAIT", "EXT_ARG", "REGISTERED_RING",
    "ABS_TIMER", "EXT_ARG_REG", "NO_IOWAIT",
]  # index == bit number
# fmt: on

CQE_FLAGS = {
    "IORING_CQE_F_BUFFER": 1,
    "IORING_CQE_F_MORE": 2,
    "IORING_CQE_F_SOCK_NONEMPTY": 4,
    "IORING_CQE_F_NOTIF": 8,
    "IORING_CQE_F_BUF_MORE": 16,
    "IORING_CQE_F_SKIP": 32,
    "IORING_CQE_F_32": 32768,
    "IORING_CQE_F_TSTAMP_HW": 65536,
}

REGISTER_OPS = {
    "IORING_REGISTER_BUFFERS": 0,
    "IORING_UNREGISTER_BUFFERS": 1,
    "IORING_REGISTER_FILES": 2,
    "IORING_UNREGISTER_FILES": 3,
    "IORING_REGISTER_EVENTFD": 4,
    "IORING_UNREGISTER_EVENTFD": 5,
    "IORING_REGISTER_FILES_UPDATE": 6,
    "IORING_REGISTER_PROBE": 8,
    "IORING_UNREGISTER_PERSONALITY": 10,
    "IORING_REGISTER_ENABLE_RINGS": 12,
    "IORING_REGISTER_FILES2": 13,
    "IORING_REGISTER_BUFFERS_UPDATE": 16,
    "IORING_UNREGISTER_IOWQ_AFF": 18,
    "IORING_REGISTER_RING_FDS": 20,
    "IORING_UNREGISTER_RING_FDS": 21,
    "IORING_REGISTER_PBUF_RING": 22,
    "IORING_UNREGISTER_PBUF_RING": 23,
    "IORING_REGISTER_SYNC_CANCEL": 24,
    "IORING_UNREGISTER_NAPI": 28,
    "IORING_REGISTER_RESIZE_RINGS": 33,
    "IORING_REGISTER_QUERY": 35,
    "IORING_REGISTER_BPF_FILTER": 37,
}

MISC_CONSTANTS = {
    "SYS_io_uring_setup": 425,
    "SYS_io_uring_enter": 426,
    "SYS_io_uring_register": 427,
    "IORING_OP_LAST": 65,
    "IORING_REGISTER_LAST": 38,
    "IORING_REGISTER_USE_REGISTERED_RING": 0x80000000,
    "IORING_CQE_BUFFER_SHIFT": 16,
    "CQE_BUFFER_SHIFT": 16,
    "IORING_SQ_NEED_WAKEUP": 1,
    "IORING_SQ_CQ_OVERFLOW": 2,
    "IORING_SQ_TASKRUN": 4,
    "IORING_CQ_EVENTFD_DISABLED": 1,
    "IORING_OFF_SQ_RING": 0,
    "IORING_OFF_CQ_RING": 0x8000000,
    "IORING_OFF_SQES": 0x10000000,
    "IORING_OFF_PBUF_RING": 0x80000000,
    "IORING_OFF_PBUF_SHIFT": 16,
    "IORING_OFF_MMAP_MASK": 0xF8000000,
    "IORING_TIMEOUT_ABS": 1,
    "IORING_TIMEOUT_UPDATE": 2,
    "IORING_TIMEOUT_BOOTTIME": 4,
    "IORING_TIMEOUT_REALTIME": 8,
    "IORING_LINK_TIMEOUT_UPDATE": 16,
    "IORING_TIMEOUT_ETIME_SUCCESS": 32,
    "IORING_TIMEOUT_MULTISHOT": 64,
    "IORING_TIMEOUT_IMMEDIATE_ARG": 128,
    "IORING_TIMEOUT_CLOCK_MASK": 12,
    "IORING_TIMEOUT_UPDATE_MASK": 18,
    "IORING_POLL_ADD_MULTI": 1,
    "IORING_POLL_UPDATE_EVENTS": 2,
    "IORING_POLL_UPDATE_USER_DATA": 4,
    "IORING_POLL_ADD_LEVEL": 8,
    "IORING_ASYNC_CANCEL_ALL": 1,
    "IORING_ASYNC_CANCEL_FD": 2,
    "IORING_ASYNC_CANCEL_ANY": 4,
    "IORING_ASYNC_CANCEL_FD_FIXED": 8,
    "IORING_ASYNC_CANCEL_USERDATA": 16,
    "IORING_ASYNC_CANCEL_OP": 32,
    "IORING_RECVSEND_POLL_FIRST": 1,
    "IORING_RECV_MULTISHOT": 2,
    "IORING_RECVSEND_FIXED_BUF": 4,
    "IORING_SEND_ZC_REPORT_USAGE": 8,
    "IORING_RECVSEND_BUNDLE": 16,
    "IORING_SEND_VECTORIZED": 32,
    "IORING_NOTIF_USAGE_ZC_COPIED": 0x80000000,
    "IORING_ACCEPT_MULTISHOT": 1,
    "IORING_ACCEPT_DONTWAIT": 2,
    "IORING_ACCEPT_POLL_FIRST": 4,
    "IORING_MSG_DATA": 0,
    "IORING_MSG_SEND_FD": 1,
    "IORING_MSG_RING_CQE_SKIP": 1,
    "IORING_MSG_RING_FLAGS_PASS": 2,
    "IOU_PBUF_RING_MMAP": 1,
    "IOU_PBUF_RING_INC": 2,
    "IORING_RESTRICTION_REGISTER_OP": 0,
    "IORING_RESTRICTION_SQE_OP": 1,
    "IORING_RESTRICTION_SQE_FLAGS_ALLOWED": 2,
    "IORING_RESTRICTION_SQE_FLAGS_REQUIRED": 3,
    "IORING_RESTRICTION_LAST": 4,
    "IORING_FSYNC_DATASYNC": 1,
    "SPLICE_F_FD_IN_FIXED": 0x80000000,
    "IORING_FIXED_FD_NO_CLOEXEC": 1,
    "IORING_NOP_INJECT_RESULT": 1,
    "IORING_NOP_CQE32": 32,
    "IORING_FILE_INDEX_ALLOC": 0xFFFFFFFF,
    "IORING_RSRC_REGISTER_SPARSE": 1,
    "IORING_REGISTER_FILES_SKIP": -2,
    "IO_URING_OP_SUPPORTED": 1,
    "IORING_URING_CMD_FIXED": 1,
    "IORING_RW_ATTR_FLAG_PI": 1,
    "IO_WQ_BOUND": 0,
    "IO_WQ_UNBOUND": 1,
    "SOCKET_URING_OP_SIOCINQ": 0,
    "SOCKET_URING_OP_SIOCOUTQ": 1,
    "SOCKET_URING_OP_GETSOCKOPT": 2,
    "SOCKET_URING_OP_SETSOCKOPT": 3,
    "SOCKET_URING_OP_TX_TIMESTAMP": 4,
    "SOCKET_URING_OP_GETSOCKNAME": 5,
    "IORING_MEM_REGION_TYPE_USER": 1,
    "IORING_MEM_REGION_REG_WAIT_ARG": 1,
    "IORING_REGISTER_SRC_REGISTERED": 1,
    "IORING_REGISTER_DST_REPLACE": 2,
    "IORING_REG_WAIT_TS": 1,
    "IORING_TIMESTAMP_HW_SHIFT": 16,
    "IORING_TIMESTAMP_TYPE_SHIFT": 17,
    "IOSQE_FIXED_FILE_BIT": 0,
    "IOSQE_CQE_SKIP_SUCCESS_BIT": 6,
}

STRUCT_SIZES = {
    "SQE": 64,
    "CQE": 16,
    "CQE32": 32,
    "SQ_OFF": 40,
    "CQ_OFF": 40,
    "PARAMS": 120,
    "PROBE": 16,
    "PROBE_OP": 8,
    "BUF": 16,
    "BUF_REG": 40,
    "GETEVENTS_ARG": 24,
    "TIMESPEC": 16,
    "RSRC_REGISTER": 32,
    "RSRC_UPDATE": 16,
    "RSRC_UPDATE2": 32,
    "SYNC_CANCEL_REG": 64,
    "FILE_INDEX_RANGE": 16,
    "RECVMSG_OUT": 16,
    "RESTRICTION": 16,
    "OPEN_HOW": 24,
    "FUTEX_WAITV": 24,
}

# (field, documented offset)
# fmt: off
SQE_FIELD_OFFSETS = [
    ("opcode", 0), ("flags", 1), ("ioprio", 2), ("fd", 4), ("off", 8),
    ("addr", 16), ("len", 24), ("op_flags", 28), ("user_data", 32),
    ("buf_index", 40), ("personality", 42), ("file_index", 44),
    ("addr3", 48),
]

SQRING_OFFSETS_FIELDS = [
    ("head", 0), ("tail", 4), ("ring_mask", 8), ("ring_entries", 12),
    ("flags", 16), ("dropped", 20), ("array", 24), ("resv1", 28),
    ("user_addr", 32),
]

CQRING_OFFSETS_FIELDS = [
    ("head", 0), ("tail", 4), ("ring_mask", 8), ("ring_entries", 12),
    ("overflow", 16), ("cqes", 20), ("flags", 24), ("resv1", 28),
    ("user_addr", 32),
]
# fmt: on


def _prefix_offset(st: struct.Struct, fields: tuple[str, ...], name: str) -> int:
    """Offset of ``name`` computed from the struct format, independent of
    the module's own offset tables: calcsize of the format up to that field.

    Only valid for formats whose codes map one-to-one onto ``fields``.
    """
    codes = st.format[1:]
    assert len(codes) == len(fields), "format must be one code per field"
    return struct.calcsize(st.format[0] + codes[: fields.index(name)])


@pytest.mark.parametrize("number,name", list(enumerate(OPCODES)))
def test_opcode_numbers(number: int, name: str) -> None:
    assert _uapi.Opcode[name] == number
    assert getattr(_uapi, "IORING_OP_" + name) == number
    assert getattr(_uapi, "IORING_OP_" + name) is _uapi.Opcode[name]


def test_opcode_enum_is_complete() -> None:
    assert len(_uapi.Opcode) == 65 == _uapi.IORING_OP_LAST
    assert [op.name for op in _uapi.Opcode] == OPCODES


@pytest.mark.parametrize(
    "cls,prefix,names",
    [
        (_uapi.SetupFlags, "IORING_SETUP_", SETUP_FLAGS),
        (_uapi.Features, "IORING_FEAT_", FEATURES),
        (_uapi.SqeFlags, "IOSQE_", SQE_FLAGS),
        (_uapi.EnterFlags, "IORING_ENTER_", ENTER_FLAGS),
    ],
)
def test_bit_flag_families(cls: type, prefix: str, names: list[str]) -> None:
    assert list(cls.__members__) == names
    for bit, name in enumerate(names):
        assert cls[name] == 1 << bit, name
        assert getattr(_uapi, prefix + name) == 1 << bit, name


def test_feature_and_setup_masks() -> None:
    # The reference kernel reports all 18 features as 0x3ffff.
    all_features = 0
    for f in _uapi.Features:
        all_features |= f
    assert all_features == 0x3FFFF
    assert _uapi.SetupFlags.CQE_MIXED == 1 << 18


@pytest.mark.parametrize("name,value", sorted(CQE_FLAGS.items()))
def test_cqe_flags(name: str, value: int) -> None:
    assert getattr(_uapi, name) == value


def test_cqe_flags_class() -> None:
    assert len(_uapi.CqeFlags) == 8
    assert _uapi.CqeFlags.CQE32 == _uapi.IORING_CQE_F_32 == 1 << 15
    # bid lives above the shift; the flag bits stay below it, except
    # TSTAMP_HW which overlaps the (unused in that case) bid field.
    assert _uapi.CqeFlags.BUFFER | (7 << _uapi.CQE_BUFFER_SHIFT) == 0x70001


@pytest.mark.parametrize("name,value", sorted(REGISTER_OPS.items()))
def test_register_ops(name: str, value: int) -> None:
    assert getattr(_uapi, name) == value
    member = name.removeprefix("IORING_").removeprefix("REGISTER_")
    assert _uapi.RegisterOp[member] == value


def test_register_op_enum_is_complete() -> None:
    assert len(_uapi.RegisterOp) == 38 == _uapi.IORING_REGISTER_LAST
    assert sorted(_uapi.RegisterOp) == list(range(38))
    assert not hasattr(_uapi, "IORING_REGISTER_UNREGISTER_BUFFERS")


@pytest.mark.parametrize("name,value", sorted(MISC_CONSTANTS.items()))
def test_misc_constants(name: str, value: int) -> None:
    assert getattr(_uapi, name) == value


@pytest.mark.parametrize("name,size", sorted(STRUCT_SIZES.items()))
def test_struct_sizes(name: str, size: int) -> None:
    st = getattr(_uapi, name)
    assert isinstance(st, struct.Struct)
    assert st.size == size
    fields = getattr(_uapi, name + "_FIELDS")
    assert len(st.unpack(bytes(size))) == len(fields)


def test_epoll_event_packed_on_x86_64() -> None:
    import platform

    expected = 12 if platform.machine() == "x86_64" else 16
    assert _uapi.EPOLL_EVENT.size == expected


def test_size_constants() -> None:
    assert _uapi.SQE_SIZE == 64
    assert _uapi.CQE_SIZE == 16
    assert _uapi.SQE128_SIZE == 128
    assert _uapi.CQE32_SIZE == 32


@pytest.mark.parametrize("field,offset", SQE_FIELD_OFFSETS)
def test_sqe_offsets(field: str, offset: int) -> None:
    assert _prefix_offset(_uapi.SQE, _uapi.SQE_FIELDS, field) == offset
    assert _uapi.SQE_OFFSETS[field] == offset


def test_sqe_union_offsets() -> None:
    o = _uapi.SQE_OFFSETS
    assert o["addr2"] == o["cmd_op"] == 8
    assert o["splice_off_in"] == 16
    assert o["rw_flags"] == 28
    assert o["buf_group"] == 40
    assert o["splice_fd_in"] == o["addr_len"] == o["optlen"] == 44
    assert o["optval"] == o["cmd"] == 48


@pytest.mark.parametrize(
    "st_name,fields_name,table",
    [
        ("SQ_OFF", "SQ_OFF_FIELDS", SQRING_OFFSETS_FIELDS),
        ("CQ_OFF", "CQ_OFF_FIELDS", CQRING_OFFSETS_FIELDS),
    ],
)
def test_ring_offset_structs(st_name: str, fields_name: str, table: list) -> None:
    st = getattr(_uapi, st_name)
    fields = getattr(_uapi, fields_name)
    assert [name for name, _ in table] == list(fields)
    # Expand "=8IQ" into one code per field to compute prefix offsets.
    expanded = struct.Struct("=" + "I" * 8 + "Q")
    assert expanded.size == st.size
    for name, offset in table:
        assert _prefix_offset(expanded, fields, name) == offset


def test_params_layout() -> None:
    p = _uapi.PARAMS
    o = _uapi.PARAMS_OFFSETS
    assert p.size == 120
    assert (o["sq_entries"], o["cq_entries"], o["flags"]) == (0, 4, 8)
    assert (o["sq_thread_cpu"], o["sq_thread_idle"], o["features"]) == (12, 16, 20)
    assert (o["wq_fd"], o["resv"], o["sq_off"], o["cq_off"]) == (24, 28, 40, 80)
    # Round trip: sq_off.array and cq_off.cqes land where the kernel reads them.
    values = list(range(len(_uapi.PARAMS_FIELDS)))
    raw = p.pack(*values)
    sq_array = _uapi.PARAMS_FIELDS.index("sq_off_array")
    cq_cqes = _uapi.PARAMS_FIELDS.index("cq_off_cqes")
    assert struct.unpack_from("=I", raw, 40 + 24)[0] == values[sq_array]
    assert struct.unpack_from("=I", raw, 80 + 20)[0] == values[cq_cqes]
    assert struct.unpack_from("=Q", raw, 112)[0] == values[-1]


def test_small_struct_offsets() -> None:
    ga = _uapi.GETEVENTS_ARG
    gf = _uapi.GETEVENTS_ARG_FIELDS
    assert [_prefix_offset(ga, gf, f) for f in gf] == [0, 8, 12, 16]
    assert _uapi.GETEVENTS_ARG_OFFSETS == dict(zip(gf, [0, 8, 12, 16]))
    bf = _uapi.BUF_FIELDS
    assert [_prefix_offset(_uapi.BUF, bf, f) for f in bf] == [0, 8, 12, 14]
    assert _uapi.BUF_RING_TAIL_OFFSET == 14
    cf = _uapi.CQE_FIELDS
    assert [_prefix_offset(_uapi.CQE, cf, f) for f in cf] == [0, 8, 12]


def test_sqe_round_trip() -> None:
    # fmt: off
    values = (
        _uapi.Opcode.READ, _uapi.SqeFlags.IO_LINK, 0, 3, 4096, 0xDEAD0000,
        512, 0, 0x1234, 0, 0, -1, 0, 0,
    )
    # fmt: on
    raw = _uapi.SQE.pack(*values)
    assert len(raw) == 64
    assert raw[0] == 22 and raw[1] == 4
    assert struct.unpack_from("=Q", raw, 32)[0] == 0x1234
    # -1 in the s32 slot is IORING_FILE_INDEX_ALLOC's bit pattern.
    assert struct.unpack_from("=I", raw, 44)[0] == _uapi.IORING_FILE_INDEX_ALLOC
    assert _uapi.SQE.unpack(raw) == values


def test_all_exports_exist() -> None:
    assert len(_uapi.__all__) == len(set(_uapi.__all__))
    for name in _uapi.__all__:
        assert hasattr(_uapi, name), name
