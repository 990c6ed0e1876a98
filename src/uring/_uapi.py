"""Linux io_uring kernel ABI (include/uapi/linux/io_uring.h) expressed in Python.

Opcodes, flag families, syscall numbers and binary struct layouts; no behaviour.
"""

from __future__ import annotations

import platform
import struct
from enum import IntEnum, IntFlag

# Filled at the bottom of the module: classes, plain constants and struct
# layouts by an explicit list, kernel-style aliases (IORING_OP_READ, ...) by
# _export().  The aliases are the enum members themselves, so
# IORING_OP_READ is Opcode.READ.
__all__: list[str] = []


def _alias(full_name: str, value: int) -> None:
    """Publish one kernel-spelled constant as a module global."""
    if full_name in globals():
        raise RuntimeError(f"duplicate io_uring constant name {full_name}")
    globals()[full_name] = value
    __all__.append(full_name)


def _export(
    cls: type[IntEnum] | type[IntFlag],
    prefix: str,
    overrides: dict[str, str] | None = None,
) -> None:
    """Publish ``<prefix><member>`` for each member of ``cls``.

    ``overrides`` maps a member name to a full kernel name for the few
    members whose kernel spelling does not follow the family prefix.
    """
    overrides = overrides or {}
    for name, member in cls.__members__.items():
        _alias(overrides.get(name, prefix + name), member)


# ---------------------------------------------------------------------------
# Syscall numbers (same on x86_64 and every arch except alpha and mips).
# ---------------------------------------------------------------------------

SYS_io_uring_setup = 425
SYS_io_uring_enter = 426
SYS_io_uring_register = 427


# ---------------------------------------------------------------------------
# Opcodes (sqe->opcode, enum io_uring_op)
# ---------------------------------------------------------------------------


class Opcode(IntEnum):
    NOP = 0
    READV = 1
    WRITEV = 2
    FSYNC = 3
    READ_FIXED = 4
    WRITE_FIXED = 5
    POLL_ADD = 6
    POLL_REMOVE = 7
    SYNC_FILE_RANGE = 8
    SENDMSG = 9
    RECVMSG = 10
    TIMEOUT = 11
    TIMEOUT_REMOVE = 12
    ACCEPT = 13
    ASYNC_CANCEL = 14
    LINK_TIMEOUT = 15
    CONNECT = 16
    FALLOCATE = 17
    OPENAT = 18
    CLOSE = 19
    FILES_UPDATE = 20
    STATX = 21
    READ = 22
    WRITE = 23
    FADVISE = 24
    MADVISE = 25
    SEND = 26
    RECV = 27
    OPENAT2 = 28
    EPOLL_CTL = 29
    SPLICE = 30
    PROVIDE_BUFFERS = 31
    REMOVE_BUFFERS = 32
    TEE = 33
    SHUTDOWN = 34
    RENAMEAT = 35
    UNLINKAT = 36
    MKDIRAT = 37
    SYMLINKAT = 38
    LINKAT = 39
    MSG_RING = 40
    FSETXATTR = 41
    SETXATTR = 42
    FGETXATTR = 43
    GETXATTR = 44
    SOCKET = 45
    URING_CMD = 46
    SEND_ZC = 47
    SENDMSG_ZC = 48
    READ_MULTISHOT = 49
    WAITID = 50
    FUTEX_WAIT = 51
    FUTEX_WAKE = 52
    FUTEX_WAITV = 53
    FIXED_FD_INSTALL = 54
    FTRUNCATE = 55
    BIND = 56
    LISTEN = 57
    RECV_ZC = 58
    EPOLL_WAIT = 59
    READV_FIXED = 60
    WRITEV_FIXED = 61
    PIPE = 62
    NOP128 = 63
    URING_CMD128 = 64


# One past the highest opcode this header knows; the running kernel may know
# fewer (use IORING_REGISTER_PROBE to find out).
IORING_OP_LAST = 65


# ---------------------------------------------------------------------------
# io_uring_setup(2): io_uring_params.flags and the returned .features
# ---------------------------------------------------------------------------


class SetupFlags(IntFlag):
    IOPOLL = 1 << 0
    SQPOLL = 1 << 1
    SQ_AFF = 1 << 2
    CQSIZE = 1 << 3
    CLAMP = 1 << 4
    ATTACH_WQ = 1 << 5
    R_DISABLED = 1 << 6
    SUBMIT_ALL = 1 << 7
    COOP_TASKRUN = 1 << 8
    TASKRUN_FLAG = 1 << 9
    SQE128 = 1 << 10
    CQE32 = 1 << 11
    SINGLE_ISSUER = 1 << 12
    DEFER_TASKRUN = 1 << 13
    NO_MMAP = 1 << 14
    REGISTERED_FD_ONLY = 1 << 15
    NO_SQARRAY = 1 << 16
    HYBRID_IOPOLL = 1 << 17
    CQE_MIXED = 1 << 18
    SQE_MIXED = 1 << 19
    SQ_REWIND = 1 << 20


class Features(IntFlag):
    SINGLE_MMAP = 1 << 0
    NODROP = 1 << 1
    SUBMIT_STABLE = 1 << 2
    RW_CUR_POS = 1 << 3
    CUR_PERSONALITY = 1 << 4
    FAST_POLL = 1 << 5
    POLL_32BITS = 1 << 6
    SQPOLL_NONFIXED = 1 << 7
    EXT_ARG = 1 << 8
    NATIVE_WORKERS = 1 << 9
    RSRC_TAGS = 1 << 10
    CQE_SKIP = 1 << 11
    LINKED_FILE = 1 << 12
    REG_REG_RING = 1 << 13
    RECVSEND_BUNDLE = 1 << 14
    MIN_TIMEOUT = 1 << 15
    RW_ATTR = 1 << 16
    NO_IOWAIT = 1 << 17


# ---------------------------------------------------------------------------
# Per-entry flags: sqe->flags and cqe->flags
# ---------------------------------------------------------------------------


class SqeFlags(IntFlag):
    FIXED_FILE = 1 << 0
    IO_DRAIN = 1 << 1
    IO_LINK = 1 << 2
    IO_HARDLINK = 1 << 3
    ASYNC = 1 << 4
    BUFFER_SELECT = 1 << 5
    CQE_SKIP_SUCCESS = 1 << 6


class CqeFlags(IntFlag):
    BUFFER = 1 << 0
    MORE = 1 << 1
    SOCK_NONEMPTY = 1 << 2
    NOTIF = 1 << 3
    BUF_MORE = 1 << 4
    SKIP = 1 << 5
    # Kernel name IORING_CQE_F_32: this CQE occupies two slots (CQE_MIXED rings).
    CQE32 = 1 << 15
    TSTAMP_HW = 1 << 16


# The upper 16 bits of cqe->flags carry the provided-buffer id when
# CqeFlags.BUFFER is set: bid = flags >> CQE_BUFFER_SHIFT.
CQE_BUFFER_SHIFT = 16
IORING_CQE_BUFFER_SHIFT = CQE_BUFFER_SHIFT


# ---------------------------------------------------------------------------
# io_uring_enter(2) and io_uring_register(2)
# ---------------------------------------------------------------------------


class EnterFlags(IntFlag):
    GETEVENTS = 1 << 0
    SQ_WAKEUP = 1 << 1
    SQ_WAIT = 1 << 2
    EXT_ARG = 1 << 3
    REGISTERED_RING = 1 << 4
    ABS_TIMER = 1 << 5
    EXT_ARG_REG = 1 << 6
    NO_IOWAIT = 1 << 7


class RegisterOp(IntEnum):
    # Members keep the part of the kernel name after "IORING_REGISTER_";
    # the unregister ops keep their "UNREGISTER_" so the alias is
    # IORING_UNREGISTER_<x> (see the _export call at the bottom).
    BUFFERS = 0
    UNREGISTER_BUFFERS = 1
    FILES = 2
    UNREGISTER_FILES = 3
    EVENTFD = 4
    UNREGISTER_EVENTFD = 5
    FILES_UPDATE = 6
    EVENTFD_ASYNC = 7
    PROBE = 8
    PERSONALITY = 9
    UNREGISTER_PERSONALITY = 10
    RESTRICTIONS = 11
    ENABLE_RINGS = 12
    FILES2 = 13
    FILES_UPDATE2 = 14
    BUFFERS2 = 15
    BUFFERS_UPDATE = 16
    IOWQ_AFF = 17
    UNREGISTER_IOWQ_AFF = 18
    IOWQ_MAX_WORKERS = 19
    RING_FDS = 20
    UNREGISTER_RING_FDS = 21
    PBUF_RING = 22
    UNREGISTER_PBUF_RING = 23
    SYNC_CANCEL = 24
    FILE_ALLOC_RANGE = 25
    PBUF_STATUS = 26
    NAPI = 27
    UNREGISTER_NAPI = 28
    CLOCK = 29
    CLONE_BUFFERS = 30
    SEND_MSG_RING = 31
    ZCRX_IFQ = 32
    RESIZE_RINGS = 33
    MEM_REGION = 34
    QUERY = 35
    ZCRX_CTRL = 36
    BPF_FILTER = 37


IORING_REGISTER_LAST = 38
# OR-ed into the register opcode when the "fd" argument is an index into the
# task's registered ring fds rather than a real file descriptor.
IORING_REGISTER_USE_REGISTERED_RING = 1 << 31


# ---------------------------------------------------------------------------
# Shared ring state: flags word in the SQ ring (*sq.kflags) and CQ ring
# ---------------------------------------------------------------------------


class SqRingFlags(IntFlag):
    NEED_WAKEUP = 1 << 0
    CQ_OVERFLOW = 1 << 1
    TASKRUN = 1 << 2


class CqRingFlags(IntFlag):
    EVENTFD_DISABLED = 1 << 0


# ---------------------------------------------------------------------------
# mmap(2) offsets for the ring fd
# ---------------------------------------------------------------------------

IORING_OFF_SQ_RING = 0
IORING_OFF_CQ_RING = 1 << 27
IORING_OFF_SQES = 1 << 28
# Kernel-allocated provided-buffer ring (PbufRingFlags.MMAP):
# offset = IORING_OFF_PBUF_RING | (bgid << IORING_OFF_PBUF_SHIFT).
IORING_OFF_PBUF_RING = 0x80000000
IORING_OFF_PBUF_SHIFT = 16
IORING_OFF_MMAP_MASK = 0xF8000000


# ---------------------------------------------------------------------------
# Per-opcode flag families (each lives in a specific SQE field)
# ---------------------------------------------------------------------------


class TimeoutFlags(IntFlag):
    """sqe->timeout_flags for TIMEOUT / TIMEOUT_REMOVE / LINK_TIMEOUT."""

    ABS = 1 << 0
    UPDATE = 1 << 1
    BOOTTIME = 1 << 2
    REALTIME = 1 << 3
    LINK_TIMEOUT_UPDATE = 1 << 4  # kernel name IORING_LINK_TIMEOUT_UPDATE
    ETIME_SUCCESS = 1 << 5
    MULTISHOT = 1 << 6
    IMMEDIATE_ARG = 1 << 7


IORING_TIMEOUT_CLOCK_MASK = int(TimeoutFlags.BOOTTIME | TimeoutFlags.REALTIME)
IORING_TIMEOUT_UPDATE_MASK = int(
    TimeoutFlags.UPDATE | TimeoutFlags.LINK_TIMEOUT_UPDATE
)


class PollFlags(IntFlag):
    """POLL_ADD / POLL_REMOVE command flags; they live in sqe->len."""

    ADD_MULTI = 1 << 0
    UPDATE_EVENTS = 1 << 1
    UPDATE_USER_DATA = 1 << 2
    ADD_LEVEL = 1 << 3


class CancelFlags(IntFlag):
    """sqe->cancel_flags for ASYNC_CANCEL (and io_uring_sync_cancel_reg)."""

    ALL = 1 << 0
    FD = 1 << 1
    ANY = 1 << 2
    FD_FIXED = 1 << 3
    USERDATA = 1 << 4
    OP = 1 << 5


class RecvSendFlags(IntFlag):
    """send/recv flags, carried in sqe->ioprio (kernel names IORING_<member>)."""

    RECVSEND_POLL_FIRST = 1 << 0
    RECV_MULTISHOT = 1 << 1
    RECVSEND_FIXED_BUF = 1 << 2
    SEND_ZC_REPORT_USAGE = 1 << 3
    RECVSEND_BUNDLE = 1 << 4
    SEND_VECTORIZED = 1 << 5


# Set in the notification CQE's res when SEND_ZC_REPORT_USAGE was requested
# and the kernel had to copy the data after all.
IORING_NOTIF_USAGE_ZC_COPIED = 1 << 31


class AcceptFlags(IntFlag):
    """Accept flags, carried in sqe->ioprio."""

    MULTISHOT = 1 << 0
    DONTWAIT = 1 << 1
    POLL_FIRST = 1 << 2


class MsgRingCommand(IntEnum):
    """MSG_RING command, carried in sqe->addr (an enum, not flags)."""

    DATA = 0
    SEND_FD = 1


class MsgRingFlags(IntFlag):
    """MSG_RING flags, carried in sqe->msg_ring_flags."""

    CQE_SKIP = 1 << 0
    FLAGS_PASS = 1 << 1


class PbufRingFlags(IntFlag):
    """io_uring_buf_reg.flags for IORING_REGISTER_PBUF_RING."""

    MMAP = 1 << 0
    INC = 1 << 1


class RestrictionOp(IntEnum):
    """io_uring_restriction.opcode for IORING_REGISTER_RESTRICTIONS."""

    REGISTER_OP = 0
    SQE_OP = 1
    SQE_FLAGS_ALLOWED = 2
    SQE_FLAGS_REQUIRED = 3


IORING_RESTRICTION_LAST = 4


class SocketCmd(IntEnum):
    """Socket sub-commands of URING_CMD (sqe->cmd_op)."""

    SIOCINQ = 0
    SIOCOUTQ = 1
    GETSOCKOPT = 2
    SETSOCKOPT = 3
    TX_TIMESTAMP = 4
    GETSOCKNAME = 5


# ---------------------------------------------------------------------------
# Miscellaneous single-value constants
# ---------------------------------------------------------------------------

IORING_FSYNC_DATASYNC = 1  # sqe->fsync_flags
IORING_RW_ATTR_FLAG_PI = 1  # read/write attribute type bit
IORING_URING_CMD_FIXED = 1  # sqe->uring_cmd_flags: use a registered buffer
IORING_URING_CMD_MASK = IORING_URING_CMD_FIXED
SPLICE_F_FD_IN_FIXED = 1 << 31  # sqe->splice_flags: splice_fd_in is fixed
IORING_FIXED_FD_NO_CLOEXEC = 1  # sqe->install_fd_flags
IORING_NOP_INJECT_RESULT = 1  # sqe->nop_flags: complete with sqe->len as res
IORING_NOP_CQE32 = 1 << 5  # sqe->nop_flags: post a 32-byte CQE

# Resource / file tables.  FILE_INDEX_ALLOC asks the kernel to choose a free
# fixed-file slot; it is all-ones, i.e. -1 when written into the signed
# 32-bit field at SQE offset 44 (see SQE below).
IORING_FILE_INDEX_ALLOC = 0xFFFFFFFF
IORING_RSRC_REGISTER_SPARSE = 1
IORING_REGISTER_FILES_SKIP = -2  # fd in a files-update array: leave slot alone
IO_URING_OP_SUPPORTED = 1  # io_uring_probe_op.flags

IORING_MEM_REGION_TYPE_USER = 1
IORING_MEM_REGION_REG_WAIT_ARG = 1
IORING_REGISTER_SRC_REGISTERED = 1  # io_uring_clone_buffers.flags
IORING_REGISTER_DST_REPLACE = 1 << 1
IORING_REG_WAIT_TS = 1

# io-wq worker types (index into IORING_REGISTER_IOWQ_MAX_WORKERS array).
IO_WQ_BOUND = 0
IO_WQ_UNBOUND = 1

# TX timestamps delivered through CQEs (SocketCmd.TX_TIMESTAMP).
IORING_TIMESTAMP_HW_SHIFT = 16
IORING_TIMESTAMP_TYPE_SHIFT = 17

# Zero-copy receive (IORING_REGISTER_ZCRX_IFQ / ZCRX_CTRL).
IORING_ZCRX_AREA_SHIFT = 48
IORING_ZCRX_AREA_MASK = 0xFFFF << IORING_ZCRX_AREA_SHIFT
IORING_ZCRX_AREA_DMABUF = 1
ZCRX_REG_IMPORT = 1
ZCRX_REG_NODEV = 1 << 1
ZCRX_FEATURE_RX_PAGE_SIZE = 1
ZCRX_CTRL_FLUSH_RQ = 0
ZCRX_CTRL_EXPORT = 1

# IORING_REGISTER_QUERY (io_uring/query.h); usable with fd = -1.
IO_URING_QUERY_OPCODES = 0
IO_URING_QUERY_ZCRX = 1
IO_URING_QUERY_SCQ = 2


# ---------------------------------------------------------------------------
# Struct layouts
#
# "=" = native byte order, standard sizes, NO implicit alignment: every pad
# the C compiler would insert is spelled out, so the layouts equal the
# kernel's on 64-bit little-endian Linux (x86_64, aarch64, ...).  Each
# *_FIELDS tuple names the values of X.unpack() in order (arrays are
# expanded as name0, name1, ...).
# ---------------------------------------------------------------------------

# struct io_uring_sqe.  The unions are flattened to the member a Python
# writer most often needs; SQE_OFFSETS lists every union member's offset.
SQE = struct.Struct(
    "="
    "B"  # opcode
    "B"  # flags (SqeFlags)
    "H"  # ioprio (also RecvSendFlags / AcceptFlags)
    "i"  # fd
    "Q"  # off | addr2 | cmd_op+pad
    "Q"  # addr | splice_off_in | level+optname
    "I"  # len
    "I"  # op_flags: rw_flags | timeout_flags | msg_flags | ... (one u32 union)
    "Q"  # user_data
    "H"  # buf_index | buf_group
    "H"  # personality
    "i"  # file_index | splice_fd_in | addr_len+pad | optlen (s32 view)
    "Q"  # addr3 | optval | first half of cmd[]
    "Q"  # __pad2[0] | second half of cmd[]
)
SQE_FIELDS = (
    "opcode",
    "flags",
    "ioprio",
    "fd",
    "off",
    "addr",
    "len",
    "op_flags",
    "user_data",
    "buf_index",
    "personality",
    "file_index",
    "addr3",
    "pad2",
)
SQE_SIZE = 64
SQE128_SIZE = 128  # with SetupFlags.SQE128: 64 more bytes of cmd[] follow
SQE_OFFSETS = {
    "opcode": 0,
    "flags": 1,
    "ioprio": 2,
    "fd": 4,
    "off": 8,
    "addr2": 8,
    "cmd_op": 8,
    "addr": 16,
    "splice_off_in": 16,
    "len": 24,
    "op_flags": 28,
    "rw_flags": 28,
    "user_data": 32,
    "buf_index": 40,
    "buf_group": 40,
    "personality": 42,
    "file_index": 44,
    "splice_fd_in": 44,
    "addr_len": 44,
    "optlen": 44,
    "addr3": 48,
    "optval": 48,
    "cmd": 48,
    "pad2": 56,
}

# struct io_uring_cqe; with SetupFlags.CQE32 every CQE carries big_cqe[2].
CQE = struct.Struct("=QiI")
CQE_FIELDS = ("user_data", "res", "flags")
CQE_SIZE = 16
CQE32 = struct.Struct("=QiI2Q")
CQE32_FIELDS = CQE_FIELDS + ("big_cqe0", "big_cqe1")
CQE32_SIZE = 32

# struct io_sqring_offsets / io_cqring_offsets: byte offsets, inside the
# mmapped rings, of each shared variable (filled in by io_uring_setup).
SQ_OFF = struct.Struct("=8IQ")
SQ_OFF_FIELDS = (
    "head",
    "tail",
    "ring_mask",
    "ring_entries",
    "flags",
    "dropped",
    "array",
    "resv1",
    "user_addr",  # NO_MMAP: user memory for the SQ ring
)
CQ_OFF = struct.Struct("=8IQ")
CQ_OFF_FIELDS = (
    "head",
    "tail",
    "ring_mask",
    "ring_entries",
    "overflow",
    "cqes",
    "flags",
    "resv1",
    "user_addr",  # NO_MMAP: user memory for the CQ ring
)

# struct io_uring_params (in/out argument of io_uring_setup).
# 7 u32 scalars, resv[3], then the two 40-byte offset blocks.
PARAMS = struct.Struct("=7I3I8IQ8IQ")
PARAMS_FIELDS = (
    (
        "sq_entries",
        "cq_entries",
        "flags",
        "sq_thread_cpu",
        "sq_thread_idle",
        "features",
        "wq_fd",
        "resv0",
        "resv1",
        "resv2",
    )
    + tuple("sq_off_" + f for f in SQ_OFF_FIELDS)
    + tuple("cq_off_" + f for f in CQ_OFF_FIELDS)
)
PARAMS_OFFSETS = {
    "sq_entries": 0,
    "cq_entries": 4,
    "flags": 8,
    "sq_thread_cpu": 12,
    "sq_thread_idle": 16,
    "features": 20,
    "wq_fd": 24,
    "resv": 28,
    "sq_off": 40,
    "cq_off": 80,
}

# struct io_uring_probe header, followed by ops_len struct io_uring_probe_op.
PROBE = struct.Struct("=BBH3I")
PROBE_FIELDS = ("last_op", "ops_len", "resv", "resv2_0", "resv2_1", "resv2_2")
PROBE_OP = struct.Struct("=BBHI")
PROBE_OP_FIELDS = ("op", "resv", "flags", "resv2")

# struct io_uring_buf: one provided-buffer ring slot.  In struct
# io_uring_buf_ring the ring's 16-bit tail overlays bufs[0].resv, so a
# writer of slot 0 must not store the resv field.
BUF = struct.Struct("=QIHH")
BUF_FIELDS = ("addr", "len", "bid", "resv")
BUF_OFFSETS = {"addr": 0, "len": 8, "bid": 12, "resv": 14}
BUF_RING_TAIL_OFFSET = 14

# struct io_uring_buf_reg (IORING_REGISTER_PBUF_RING).
BUF_REG = struct.Struct("=QIHH3Q")
BUF_REG_FIELDS = (
    "ring_addr",
    "ring_entries",
    "bgid",
    "flags",
    "resv0",
    "resv1",
    "resv2",
)

# struct io_uring_getevents_arg (io_uring_enter with EnterFlags.EXT_ARG).
GETEVENTS_ARG = struct.Struct("=QIIQ")
GETEVENTS_ARG_FIELDS = ("sigmask", "sigmask_sz", "min_wait_usec", "ts")
GETEVENTS_ARG_OFFSETS = {
    "sigmask": 0,
    "sigmask_sz": 8,
    "min_wait_usec": 12,
    "ts": 16,
}

# struct __kernel_timespec.
TIMESPEC = struct.Struct("=qq")
TIMESPEC_FIELDS = ("tv_sec", "tv_nsec")

# struct io_uring_rsrc_register (FILES2 / BUFFERS2).
RSRC_REGISTER = struct.Struct("=IIQQQ")
RSRC_REGISTER_FIELDS = ("nr", "flags", "resv2", "data", "tags")

# struct io_uring_rsrc_update (FILES_UPDATE) and io_uring_rsrc_update2
# (FILES_UPDATE2 / BUFFERS_UPDATE).
RSRC_UPDATE = struct.Struct("=IIQ")
RSRC_UPDATE_FIELDS = ("offset", "resv", "data")
RSRC_UPDATE2 = struct.Struct("=IIQQII")
RSRC_UPDATE2_FIELDS = ("offset", "resv", "data", "tags", "nr", "resv2")

# struct io_uring_sync_cancel_reg (IORING_REGISTER_SYNC_CANCEL); the
# embedded timeout is a __kernel_timespec.
SYNC_CANCEL_REG = struct.Struct("=QiIqqB7x3Q")
SYNC_CANCEL_REG_FIELDS = (
    "addr",
    "fd",
    "flags",
    "timeout_tv_sec",
    "timeout_tv_nsec",
    "opcode",
    "pad2_0",
    "pad2_1",
    "pad2_2",
)

# struct io_uring_file_index_range (IORING_REGISTER_FILE_ALLOC_RANGE).
FILE_INDEX_RANGE = struct.Struct("=IIQ")
FILE_INDEX_RANGE_FIELDS = ("off", "len", "resv")

# struct io_uring_recvmsg_out: header the kernel writes at the start of each
# buffer consumed by a multishot RECVMSG.
RECVMSG_OUT = struct.Struct("=IIII")
RECVMSG_OUT_FIELDS = ("namelen", "controllen", "payloadlen", "flags")

# struct io_uring_restriction; the u8 after opcode is a union of
# register_op / sqe_op / sqe_flags.
RESTRICTION = struct.Struct("=HBB3I")
RESTRICTION_FIELDS = ("opcode", "arg", "resv", "resv2_0", "resv2_1", "resv2_2")

# struct open_how (OPENAT2).
OPEN_HOW = struct.Struct("=QQQ")
OPEN_HOW_FIELDS = ("flags", "mode", "resolve")

# struct epoll_event (EPOLL_CTL / EPOLL_WAIT).  The kernel declares it packed
# on x86_64 only (12 bytes); elsewhere it is naturally aligned (16 bytes).
if platform.machine() == "x86_64":
    EPOLL_EVENT = struct.Struct("=IQ")
else:  # pragma: no cover - not x86_64
    EPOLL_EVENT = struct.Struct("=I4xQ")
EPOLL_EVENT_FIELDS = ("events", "data")

# struct futex_waitv (FUTEX_WAITV).
FUTEX_WAITV = struct.Struct("=QQII")
FUTEX_WAITV_FIELDS = ("val", "uaddr", "flags", "reserved")

# struct io_uring_query_hdr (IORING_REGISTER_QUERY).
QUERY_HDR = struct.Struct("=QQIIi3I")
QUERY_HDR_FIELDS = (
    "next_entry",
    "query_data",
    "query_op",
    "size",
    "result",
    "resv0",
    "resv1",
    "resv2",
)


# Sizes as compiled against the kernel header on x86_64.
assert SQE.size == 64
assert CQE.size == 16
assert CQE32.size == 32
assert SQ_OFF.size == 40
assert CQ_OFF.size == 40
assert PARAMS.size == 120
assert PROBE.size == 16
assert PROBE_OP.size == 8
assert BUF.size == 16
assert BUF_REG.size == 40
assert GETEVENTS_ARG.size == 24
assert TIMESPEC.size == 16
assert RSRC_REGISTER.size == 32
assert RSRC_UPDATE.size == 16
assert RSRC_UPDATE2.size == 32
assert SYNC_CANCEL_REG.size == 64
assert FILE_INDEX_RANGE.size == 16
assert RECVMSG_OUT.size == 16
assert RESTRICTION.size == 16
assert OPEN_HOW.size == 24
assert EPOLL_EVENT.size in (12, 16)  # 12 on x86_64 (packed)
assert FUTEX_WAITV.size == 24
assert QUERY_HDR.size == 40

# Each *_FIELDS tuple must name exactly the values X.unpack() produces.
for _st, _fields in (
    (SQE, SQE_FIELDS),
    (CQE, CQE_FIELDS),
    (CQE32, CQE32_FIELDS),
    (SQ_OFF, SQ_OFF_FIELDS),
    (CQ_OFF, CQ_OFF_FIELDS),
    (PARAMS, PARAMS_FIELDS),
    (PROBE, PROBE_FIELDS),
    (PROBE_OP, PROBE_OP_FIELDS),
    (BUF, BUF_FIELDS),
    (BUF_REG, BUF_REG_FIELDS),
    (GETEVENTS_ARG, GETEVENTS_ARG_FIELDS),
    (TIMESPEC, TIMESPEC_FIELDS),
    (RSRC_REGISTER, RSRC_REGISTER_FIELDS),
    (RSRC_UPDATE, RSRC_UPDATE_FIELDS),
    (RSRC_UPDATE2, RSRC_UPDATE2_FIELDS),
    (SYNC_CANCEL_REG, SYNC_CANCEL_REG_FIELDS),
    (FILE_INDEX_RANGE, FILE_INDEX_RANGE_FIELDS),
    (RECVMSG_OUT, RECVMSG_OUT_FIELDS),
    (RESTRICTION, RESTRICTION_FIELDS),
    (OPEN_HOW, OPEN_HOW_FIELDS),
    (EPOLL_EVENT, EPOLL_EVENT_FIELDS),
    (FUTEX_WAITV, FUTEX_WAITV_FIELDS),
    (QUERY_HDR, QUERY_HDR_FIELDS),
):
    assert len(_st.unpack(bytes(_st.size))) == len(_fields), _st.format
del _st, _fields


# ---------------------------------------------------------------------------
# Public names
# ---------------------------------------------------------------------------

__all__ += [
    # enum families
    "Opcode",
    "SetupFlags",
    "Features",
    "SqeFlags",
    "CqeFlags",
    "EnterFlags",
    "RegisterOp",
    "SqRingFlags",
    "CqRingFlags",
    "TimeoutFlags",
    "PollFlags",
    "CancelFlags",
    "RecvSendFlags",
    "AcceptFlags",
    "MsgRingCommand",
    "MsgRingFlags",
    "PbufRingFlags",
    "RestrictionOp",
    "SocketCmd",
    # syscalls
    "SYS_io_uring_setup",
    "SYS_io_uring_enter",
    "SYS_io_uring_register",
    # plain constants
    "IORING_OP_LAST",
    "CQE_BUFFER_SHIFT",
    "IORING_CQE_BUFFER_SHIFT",
    "IORING_REGISTER_LAST",
    "IORING_REGISTER_USE_REGISTERED_RING",
    "IORING_OFF_SQ_RING",
    "IORING_OFF_CQ_RING",
    "IORING_OFF_SQES",
    "IORING_OFF_PBUF_RING",
    "IORING_OFF_PBUF_SHIFT",
    "IORING_OFF_MMAP_MASK",
    "IORING_TIMEOUT_CLOCK_MASK",
    "IORING_TIMEOUT_UPDATE_MASK",
    "IORING_NOTIF_USAGE_ZC_COPIED",
    "IORING_RESTRICTION_LAST",
    "IORING_FSYNC_DATASYNC",
    "IORING_RW_ATTR_FLAG_PI",
    "IORING_URING_CMD_FIXED",
    "IORING_URING_CMD_MASK",
    "SPLICE_F_FD_IN_FIXED",
    "IORING_FIXED_FD_NO_CLOEXEC",
    "IORING_NOP_INJECT_RESULT",
    "IORING_NOP_CQE32",
    "IORING_FILE_INDEX_ALLOC",
    "IORING_RSRC_REGISTER_SPARSE",
    "IORING_REGISTER_FILES_SKIP",
    "IO_URING_OP_SUPPORTED",
    "IORING_MEM_REGION_TYPE_USER",
    "IORING_MEM_REGION_REG_WAIT_ARG",
    "IORING_REGISTER_SRC_REGISTERED",
    "IORING_REGISTER_DST_REPLACE",
    "IORING_REG_WAIT_TS",
    "IO_WQ_BOUND",
    "IO_WQ_UNBOUND",
    "IORING_TIMESTAMP_HW_SHIFT",
    "IORING_TIMESTAMP_TYPE_SHIFT",
    "IORING_ZCRX_AREA_SHIFT",
    "IORING_ZCRX_AREA_MASK",
    "IORING_ZCRX_AREA_DMABUF",
    "ZCRX_REG_IMPORT",
    "ZCRX_REG_NODEV",
    "ZCRX_FEATURE_RX_PAGE_SIZE",
    "ZCRX_CTRL_FLUSH_RQ",
    "ZCRX_CTRL_EXPORT",
    "IO_URING_QUERY_OPCODES",
    "IO_URING_QUERY_ZCRX",
    "IO_URING_QUERY_SCQ",
    # struct layouts
    "SQE",
    "SQE_FIELDS",
    "SQE_SIZE",
    "SQE128_SIZE",
    "SQE_OFFSETS",
    "CQE",
    "CQE_FIELDS",
    "CQE_SIZE",
    "CQE32",
    "CQE32_FIELDS",
    "CQE32_SIZE",
    "SQ_OFF",
    "SQ_OFF_FIELDS",
    "CQ_OFF",
    "CQ_OFF_FIELDS",
    "PARAMS",
    "PARAMS_FIELDS",
    "PARAMS_OFFSETS",
    "PROBE",
    "PROBE_FIELDS",
    "PROBE_OP",
    "PROBE_OP_FIELDS",
    "BUF",
    "BUF_FIELDS",
    "BUF_OFFSETS",
    "BUF_RING_TAIL_OFFSET",
    "BUF_REG",
    "BUF_REG_FIELDS",
    "GETEVENTS_ARG",
    "GETEVENTS_ARG_FIELDS",
    "GETEVENTS_ARG_OFFSETS",
    "TIMESPEC",
    "TIMESPEC_FIELDS",
    "RSRC_REGISTER",
    "RSRC_REGISTER_FIELDS",
    "RSRC_UPDATE",
    "RSRC_UPDATE_FIELDS",
    "RSRC_UPDATE2",
    "RSRC_UPDATE2_FIELDS",
    "SYNC_CANCEL_REG",
    "SYNC_CANCEL_REG_FIELDS",
    "FILE_INDEX_RANGE",
    "FILE_INDEX_RANGE_FIELDS",
    "RECVMSG_OUT",
    "RECVMSG_OUT_FIELDS",
    "RESTRICTION",
    "RESTRICTION_FIELDS",
    "OPEN_HOW",
    "OPEN_HOW_FIELDS",
    "EPOLL_EVENT",
    "EPOLL_EVENT_FIELDS",
    "FUTEX_WAITV",
    "FUTEX_WAITV_FIELDS",
    "QUERY_HDR",
    "QUERY_HDR_FIELDS",
]

# Kernel-spelled aliases: IORING_OP_READ == Opcode.READ, and so on.
_export(Opcode, "IORING_OP_")
_export(SetupFlags, "IORING_SETUP_")
_export(Features, "IORING_FEAT_")
_export(SqeFlags, "IOSQE_")
_export(CqeFlags, "IORING_CQE_F_", {"CQE32": "IORING_CQE_F_32"})
_export(EnterFlags, "IORING_ENTER_")
_export(
    RegisterOp,
    "IORING_REGISTER_",
    {n: "IORING_" + n for n in RegisterOp.__members__ if n.startswith("UNREGISTER_")},
)
_export(SqRingFlags, "IORING_SQ_")
_export(CqRingFlags, "IORING_CQ_")
_export(
    TimeoutFlags,
    "IORING_TIMEOUT_",
    {"LINK_TIMEOUT_UPDATE": "IORING_LINK_TIMEOUT_UPDATE"},
)
_export(PollFlags, "IORING_POLL_")
_export(CancelFlags, "IORING_ASYNC_CANCEL_")
_export(RecvSendFlags, "IORING_")
_export(AcceptFlags, "IORING_ACCEPT_")
_export(MsgRingCommand, "IORING_MSG_")
_export(MsgRingFlags, "IORING_MSG_RING_")
_export(PbufRingFlags, "IOU_PBUF_RING_")
_export(RestrictionOp, "IORING_RESTRICTION_")
_export(SocketCmd, "SOCKET_URING_OP_")

# IOSQE_*_BIT: bit numbers of the SQE flags (IOSQE_IO_LINK_BIT == 2).
for _name, _flag in SqeFlags.__members__.items():
    _alias(f"IOSQE_{_name}_BIT", int(_flag).bit_length() - 1)
del _name, _flag
