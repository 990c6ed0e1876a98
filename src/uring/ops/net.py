"""Prep helpers for sockets: socket/bind/listen/accept/connect/shutdown, send and receive
(plain, sendto, vectored msghdr, zero-copy, bundles, provided-buffer selection, multishot)
and the socket uring_cmd sub-commands (getsockopt/setsockopt/SIOCINQ/getsockname).

Socket addresses are Python values as `socket.socket` takes them (``('127.0.0.1', 80)``,
``('::1', 80, 0, 0)``, ``'/path/sock'``); what the kernel writes back (accepted peer,
received name and ancillary data) is decoded by the object left in ``sqe.out``."""

from __future__ import annotations

import socket as _socket
import struct
from typing import Any, Iterable, NamedTuple, Sequence

from uring._core import Sqe
from uring._uapi import (
    IORING_FILE_INDEX_ALLOC, RECVMSG_OUT, AcceptFlags, Opcode, RecvSendFlags, SocketCmd,
    SqeFlags,
)
from uring.ops._common import (
    Buffer, BufferGroup, buffer_group, check_fd, check_int, check_u32, decode_sockaddr,
    encode_address, iovecs, prep, sqe,
)

__all__ = [
    "socket", "socket_direct", "socket_direct_alloc", "connect", "bind", "listen",
    "accept", "accept_direct", "multishot_accept", "multishot_accept_direct",
    "send", "sendto", "send_bundle", "send_zc", "send_zc_fixed",
    "sendmsg", "sendmsg_zc", "sendmsg_zc_fixed",
    "recv", "recv_select", "recv_multishot", "recv_zc", "recvmsg", "recvmsg_multishot",
    "shutdown", "cmd_sock", "cmd_getsockname",
    "SockaddrOut", "RecvmsgOut", "RecvmsgMultishotOut", "RecvMsg",
    "encode_ancillary", "decode_ancillary",
]

# struct msghdr on LP64: name, namelen (+4 pad), iov, iovlen, control, controllen, flags (+4 pad).
MSGHDR = struct.Struct("=QI4xQQQQi4x")
MSGHDR_NAMELEN_OFFSET = 8
MSGHDR_CONTROLLEN_OFFSET = 40
MSGHDR_FLAGS_OFFSET = 48
assert MSGHDR.size == 56

SOCKADDR_STORAGE_SIZE = 128
_SOCKLEN = struct.Struct("=I")
_CMSGHDR = struct.Struct("=Qii")          # cmsg_len (size_t), cmsg_level, cmsg_type
_CMSG_HDR_SPACE = _socket.CMSG_SPACE(0)   # header rounded up to the cmsg alignment
_INT = struct.Struct("=i")
_INT_MAX = 0x7FFFFFFF
_ACCEPT4_FLAGS = _socket.SOCK_CLOEXEC | _socket.SOCK_NONBLOCK


# -- argument checks --------------------------------------------------------------------

def _s32(value: int) -> int:
    """A u32 as the signed 32-bit view the Sqe.file_index field takes."""
    return value - (1 << 32) if value >= (1 << 31) else value


def _target_slot(file_index: int) -> int:
    """sqe->file_index for an op that installs a direct descriptor: slot + 1 (0 means
    "a regular fd"), or IORING_FILE_INDEX_ALLOC to let the kernel pick a free slot."""
    if isinstance(file_index, int) and not isinstance(file_index, bool) and \
            file_index == IORING_FILE_INDEX_ALLOC:
        return _s32(IORING_FILE_INDEX_ALLOC)
    # ALLOC - 1 would encode as ALLOC itself, so the last usable slot is ALLOC - 2.
    return _s32(check_int(file_index, "file_index", 0, IORING_FILE_INDEX_ALLOC - 2) + 1)


def _buf_index(buf_index: int) -> int:
    return check_int(buf_index, "buf_index", 0, 0xFFFF)


def _buf_group(buf_group: int | BufferGroup) -> int:
    return buffer_group(buf_group)


def _address(address: Any, family: int | None) -> bytes:
    """Encode a Python socket address, with the failures of the encoder turned into
    TypeError/ValueError that name the bad address."""
    if family is not None:
        check_int(family, "family", 0, 0xFFFF)
    if isinstance(address, tuple) and len(address) >= 2:
        host, port = address[0], address[1]
        if not isinstance(host, str):
            raise TypeError(f"host must be a str, got {type(host).__name__}")
        check_int(port, "port", 0, 0xFFFF)
        for name, extra in zip(("flowinfo", "scope_id"), address[2:]):
            check_int(extra, name, 0, 0xFFFFFFFF)
    try:
        return encode_address(address, family)
    except (OSError, struct.error, ValueError) as exc:  # UnicodeError is a ValueError
        raise ValueError(f"invalid socket address {address!r}: {exc}") from None


def _pinned_bytes(s: Sqe, data: bytes | bytearray, writable: bool = True) -> tuple[bytearray, int]:
    """A bytearray copy of `data` pinned on `s`: (the bytearray, its address)."""
    holder = bytearray(data)
    return holder, s.pin(holder, writable).addr


def _iov(s: Sqe, buffers: Sequence[Buffer], *, writable: bool) -> tuple[int, int]:
    """An iovec array for a msghdr; unlike readv, a msghdr may carry no data buffer."""
    if isinstance(buffers, (bytes, bytearray, memoryview)):
        raise TypeError("a msghdr takes a list of buffers, not a single buffer")
    bufs = list(buffers)
    if not bufs:
        return 0, 0
    return iovecs(s, bufs, writable=writable)


# -- ancillary data (struct cmsghdr sequences) ---------------------------------------------

def _cmsg_align(n: int) -> int:
    return _socket.CMSG_SPACE(n) - _CMSG_HDR_SPACE


def encode_ancillary(ancillary: Iterable[tuple[int, int, Buffer]]) -> bytes:
    """Control data for sendmsg from (level, type, data) items, as socket.sendmsg takes them."""
    if isinstance(ancillary, (bytes, bytearray, memoryview, str)):
        raise TypeError("ancillary must be a list of (level, type, data) tuples")
    out = bytearray()
    for item in ancillary:
        if not isinstance(item, tuple) or len(item) != 3:
            raise TypeError(f"ancillary items are (level, type, data) tuples, got {item!r}")
        level, kind, data = item
        check_int(level, "cmsg level", -0x80000000, _INT_MAX)
        check_int(kind, "cmsg type", -0x80000000, _INT_MAX)
        try:
            payload = memoryview(data).cast("B").tobytes()
        except TypeError:
            raise TypeError(f"cmsg data must be bytes-like, got {type(data).__name__}") from None
        out += _CMSGHDR.pack(_socket.CMSG_LEN(len(payload)), level, kind)
        out += bytes(_CMSG_HDR_SPACE - _CMSGHDR.size)
        out += payload + bytes(_cmsg_align(len(payload)) - len(payload))
    return bytes(out)


def decode_ancillary(control: bytes | bytearray | memoryview) -> list[tuple[int, int, bytes]]:
    """(level, type, data) items from received control data, as socket.recvmsg returns them."""
    try:
        raw = memoryview(control).cast("B").tobytes()
    except TypeError:
        raise TypeError(f"control data must be bytes-like, got {type(control).__name__}") from None
    items = []
    pos = 0
    while pos + _CMSGHDR.size <= len(raw):
        length, level, kind = _CMSGHDR.unpack_from(raw, pos)
        if length < _CMSGHDR.size:
            break  # malformed: a header cannot be shorter than itself
        end = min(pos + length, len(raw))  # truncated (MSG_CTRUNC) items keep what arrived
        items.append((level, kind, raw[pos + _CMSG_HDR_SPACE:end]))
        pos += _CMSG_HDR_SPACE + _cmsg_align(length - _CMSG_HDR_SPACE)
    return items


# -- what the kernel writes back -------------------------------------------------------------

def _decode_name(raw: bytes) -> Any:
    """decode_sockaddr, with "no address" (empty, or AF_UNSPEC zeros) as None."""
    if len(raw) < 2 or struct.unpack_from("=H", raw)[0] == _socket.AF_UNSPEC:
        return None
    return decode_sockaddr(raw)


class SockaddrOut:
    """A sockaddr_storage and its socklen_t, pinned for the kernel to fill (accept,
    getsockname); `.address` decodes it once the op has completed."""

    __slots__ = ("_storage", "_length", "storage_addr", "length_addr")

    def __init__(self, s: Sqe) -> None:
        self._storage, self.storage_addr = _pinned_bytes(s, bytes(SOCKADDR_STORAGE_SIZE))
        self._length, self.length_addr = _pinned_bytes(s, _SOCKLEN.pack(SOCKADDR_STORAGE_SIZE))

    @property
    def length(self) -> int:
        """The address length the kernel reported (may exceed the storage if truncated)."""
        return _SOCKLEN.unpack(self._length)[0]

    @property
    def address(self) -> Any:
        """The address as Python's socket module returns it, or None if none was written."""
        return _decode_name(bytes(self._storage[:min(self.length, SOCKADDR_STORAGE_SIZE)]))

    def __repr__(self) -> str:
        return f"<SockaddrOut address={self.address!r}>"


class RecvmsgOut:
    """The msghdr of a single-shot recvmsg: after completion `.address`, `.ancillary`,
    `.msg_flags` (MSG_TRUNC, MSG_CTRUNC, ...) say what the kernel wrote back."""

    __slots__ = ("_msghdr", "_name", "_control")

    def __init__(self, msghdr: bytearray, name: bytearray | None, control: bytearray | None) -> None:
        self._msghdr = msghdr
        self._name = name
        self._control = control

    @property
    def namelen(self) -> int:
        return _SOCKLEN.unpack_from(self._msghdr, MSGHDR_NAMELEN_OFFSET)[0]

    @property
    def address(self) -> Any:
        """The sender's address (None without name_size, or for a connected stream)."""
        if self._name is None:
            return None
        return _decode_name(bytes(self._name[:min(self.namelen, len(self._name))]))

    @property
    def control(self) -> bytes:
        """The raw control data the kernel wrote."""
        if self._control is None:
            return b""
        n = struct.unpack_from("=Q", self._msghdr, MSGHDR_CONTROLLEN_OFFSET)[0]
        return bytes(self._control[:min(n, len(self._control))])

    @property
    def ancillary(self) -> list[tuple[int, int, bytes]]:
        return decode_ancillary(self.control)

    @property
    def msg_flags(self) -> int:
        return struct.unpack_from("=i", self._msghdr, MSGHDR_FLAGS_OFFSET)[0]

    def __repr__(self) -> str:
        return f"<RecvmsgOut address={self.address!r} msg_flags={self.msg_flags:#x}>"


class RecvMsg(NamedTuple):
    """One message of a multishot recvmsg, decoded from its provided buffer."""
    data: memoryview           # the payload (a view into the provided buffer: copy before recycling)
    ancillary: list            # [(level, type, data)]
    msg_flags: int
    address: Any
    payload_length: int        # the datagram's full length; > len(data) when truncated


class RecvmsgMultishotOut:
    """Decoder of the struct io_uring_recvmsg_out layout a multishot recvmsg writes at the
    start of each provided buffer: header, name (name_size bytes), control (control_size
    bytes), then the payload."""

    __slots__ = ("name_size", "control_size")

    def __init__(self, name_size: int, control_size: int) -> None:
        self.name_size = name_size
        self.control_size = control_size

    @property
    def header_size(self) -> int:
        """Bytes of each buffer used before the payload (buffers must be larger)."""
        return RECVMSG_OUT.size + self.name_size + self.control_size

    def parse(self, buf: Buffer) -> RecvMsg:
        """Decode the first `res` bytes of a provided buffer (pass exactly what the CQE's
        res covers, e.g. BufferRing.get(bid, res))."""
        view = memoryview(buf).cast("B")
        if len(view) < self.header_size:
            raise ValueError(f"a multishot recvmsg buffer holds at least {self.header_size} bytes, "
                             f"got {len(view)}")
        namelen, controllen, payloadlen, flags = RECVMSG_OUT.unpack_from(view, 0)
        name_at = RECVMSG_OUT.size
        control_at = name_at + self.name_size
        address = _decode_name(bytes(view[name_at:name_at + min(namelen, self.name_size)]))
        control = view[control_at:control_at + min(controllen, self.control_size)]
        return RecvMsg(view[self.header_size:], decode_ancillary(control), flags, address, payloadlen)

    def __repr__(self) -> str:
        return f"<RecvmsgMultishotOut name_size={self.name_size} control_size={self.control_size}>"


def _msghdr(s: Sqe, *, name: int = 0, namelen: int = 0, iov: int = 0, iovlen: int = 0,
            control: int = 0, controllen: int = 0) -> bytearray:
    """A struct msghdr pinned on `s` (flags 0); returns the bytearray (its pin is pins[-1])."""
    holder, addr = _pinned_bytes(s, MSGHDR.pack(name, namelen, iov, iovlen, control, controllen, 0))
    s.addr = addr
    return holder


# -- socket lifecycle ------------------------------------------------------------------

def _socket_sqe(domain: int, type: int, protocol: int, flags: int) -> Sqe:
    domain = check_int(domain, "domain", 0, _INT_MAX)
    type = check_int(type, "type", 0, _INT_MAX)
    protocol = check_int(protocol, "protocol", 0, _INT_MAX)
    s = sqe(Opcode.SOCKET, domain, 0, protocol, type)
    s.op_flags = check_u32(flags, "flags")
    return s


@prep(Opcode.SOCKET)
def socket(domain: int, type: int, protocol: int = 0, flags: int = 0) -> Sqe:
    """IORING_OP_SOCKET: socket(2); res is the new fd. SOCK_NONBLOCK/SOCK_CLOEXEC go in
    `type` as for socket(2); `flags` is reserved (0)."""
    return _socket_sqe(domain, type, protocol, flags)


@prep(Opcode.SOCKET)
def socket_direct(domain: int, type: int, protocol: int, file_index: int, flags: int = 0) -> Sqe:
    """IORING_OP_SOCKET into registered-file slot `file_index` (a direct descriptor,
    used with IOSQE_FIXED_FILE); res is 0. IORING_FILE_INDEX_ALLOC picks a free slot."""
    _reject_cloexec(type, "socket_direct")
    s = _socket_sqe(domain, type, protocol, flags)
    s.file_index = _target_slot(file_index)
    return s


@prep(Opcode.SOCKET)
def socket_direct_alloc(domain: int, type: int, protocol: int, flags: int = 0) -> Sqe:
    """IORING_OP_SOCKET into a registered-file slot the kernel picks; res is the slot."""
    _reject_cloexec(type, "socket_direct_alloc")
    s = _socket_sqe(domain, type, protocol, flags)
    s.file_index = _s32(IORING_FILE_INDEX_ALLOC)
    return s


def _reject_cloexec(flags: Any, what: str) -> None:
    # A direct descriptor is no fd of ours, so close-on-exec means nothing and the kernel
    # answers EINVAL; say so before queueing.
    if isinstance(flags, int) and flags & _socket.SOCK_CLOEXEC:
        raise ValueError(f"{what}: SOCK_CLOEXEC does not apply to a direct descriptor")


def _address_sqe(opcode: int, fd: int, address: Any, family: int | None) -> Sqe:
    s = sqe(opcode, check_fd(fd))
    raw = _address(address, family)
    _, s.addr = _pinned_bytes(s, raw, writable=False)
    s.off = len(raw)  # addr2 carries the socklen_t by value
    return s


@prep(Opcode.CONNECT)
def connect(fd: int, address: Any, family: int | None = None) -> Sqe:
    """IORING_OP_CONNECT: connect(2) to a Python socket address; res is 0."""
    return _address_sqe(Opcode.CONNECT, fd, address, family)


@prep(Opcode.BIND)
def bind(fd: int, address: Any, family: int | None = None) -> Sqe:
    """IORING_OP_BIND: bind(2) to a Python socket address (Linux 6.11); res is 0."""
    return _address_sqe(Opcode.BIND, fd, address, family)


@prep(Opcode.LISTEN)
def listen(fd: int, backlog: int) -> Sqe:
    """IORING_OP_LISTEN: listen(2) (Linux 6.11); res is 0."""
    return sqe(Opcode.LISTEN, check_fd(fd), 0, check_int(backlog, "backlog", 0, _INT_MAX))


def _accept_sqe(fd: int, flags: int, want_address: bool) -> Sqe:
    s = sqe(Opcode.ACCEPT, check_fd(fd))
    flags = check_u32(flags, "flags")
    if flags & ~_ACCEPT4_FLAGS:
        raise ValueError(f"accept flags are SOCK_NONBLOCK|SOCK_CLOEXEC, got {flags:#x}")
    s.op_flags = flags
    if want_address:
        out = SockaddrOut(s)
        s.addr = out.storage_addr
        s.off = out.length_addr  # addr2 points at the in/out socklen_t
        s.out = out
    return s


@prep(Opcode.ACCEPT)
def accept(fd: int, flags: int = 0, *, want_address: bool = False) -> Sqe:
    """IORING_OP_ACCEPT: accept4(2); res is the new fd. With want_address, op.out.address
    is the peer's address once the op has completed."""
    return _accept_sqe(fd, flags, want_address)


@prep(Opcode.ACCEPT)
def accept_direct(fd: int, file_index: int, flags: int = 0, *, want_address: bool = False) -> Sqe:
    """IORING_OP_ACCEPT into registered-file slot `file_index` (IORING_FILE_INDEX_ALLOC:
    the kernel picks one and res is its index; otherwise res is 0)."""
    _reject_cloexec(flags, "accept_direct")
    s = _accept_sqe(fd, flags, want_address)
    s.file_index = _target_slot(file_index)
    return s


@prep(Opcode.ACCEPT)
def multishot_accept(fd: int, flags: int = 0) -> Sqe:
    """IORING_OP_ACCEPT with IORING_ACCEPT_MULTISHOT: one CQE with F_MORE and a new fd per
    incoming connection until cancelled or failed (the final CQE lacks F_MORE)."""
    s = _accept_sqe(fd, flags, False)
    s.ioprio |= AcceptFlags.MULTISHOT
    return s


@prep(Opcode.ACCEPT)
def multishot_accept_direct(fd: int, flags: int = 0) -> Sqe:
    """Multishot accept into registered-file slots the kernel picks; each CQE's res is a
    slot index."""
    _reject_cloexec(flags, "multishot_accept_direct")
    s = multishot_accept(fd, flags)
    s.file_index = _s32(IORING_FILE_INDEX_ALLOC)
    return s


@prep(Opcode.SHUTDOWN)
def shutdown(fd: int, how: int) -> Sqe:
    """IORING_OP_SHUTDOWN: shutdown(2) with SHUT_RD, SHUT_WR or SHUT_RDWR; res is 0."""
    how = check_int(how, "how", 0, _INT_MAX)
    if how not in (_socket.SHUT_RD, _socket.SHUT_WR, _socket.SHUT_RDWR):
        raise ValueError(f"how must be SHUT_RD, SHUT_WR or SHUT_RDWR, got {how}")
    return sqe(Opcode.SHUTDOWN, check_fd(fd), 0, how)


# -- send ------------------------------------------------------------------------------

def _send_sqe(opcode: int, fd: int, buf: Buffer | None, flags: int, *, nbytes: int = 0) -> Sqe:
    s = sqe(opcode, check_fd(fd))
    if buf is not None:
        pin = s.pin(buf, False)
        s.addr, s.len = pin.addr, check_u32(pin.nbytes, "buffer length")
    else:
        s.len = check_u32(nbytes, "nbytes")
    s.op_flags = check_u32(flags, "flags")
    return s


def _set_dest(s: Sqe, address: Any, family: int | None) -> None:
    """sendto semantics on a SEND/SEND_ZC SQE: addr2 points at the sockaddr and the
    16-bit addr_len sits where file_index is."""
    raw = _address(address, family)
    _, s.addr2 = _pinned_bytes(s, raw, writable=False)
    s.file_index = len(raw)


@prep(Opcode.SEND)
def send(fd: int, buf: Buffer, flags: int = 0) -> Sqe:
    """IORING_OP_SEND: send(2) the whole of `buf` (slice a memoryview for less); res is
    the byte count. `flags` are MSG_* flags."""
    return _send_sqe(Opcode.SEND, fd, buf, flags)


@prep(Opcode.SEND)
def sendto(fd: int, buf: Buffer, flags: int, address: Any, family: int | None = None) -> Sqe:
    """IORING_OP_SEND to `address` (a Python socket address): sendto(2)."""
    s = _send_sqe(Opcode.SEND, fd, buf, flags)
    _set_dest(s, address, family)
    return s


@prep(Opcode.SEND)
def send_bundle(fd: int, nbytes: int, flags: int = 0) -> Sqe:
    """IORING_OP_SEND with IORING_RECVSEND_BUNDLE: send the data of as many buffers of a
    provided-buffer group as are queued (at most `nbytes`, 0 for no limit) in one go.
    Pick the group with ``.set(buf_group=bgid)``; the CQE names the first buffer id."""
    s = _send_sqe(Opcode.SEND, fd, None, flags, nbytes=nbytes)
    s.ioprio |= RecvSendFlags.RECVSEND_BUNDLE
    return s


def _zc_flags(zc_flags: int) -> int:
    return check_int(zc_flags, "zc_flags", 0, 0xFFFF)


@prep(Opcode.SEND_ZC)
def send_zc(fd: int, buf: Buffer, flags: int = 0, zc_flags: int = 0) -> Sqe:
    """IORING_OP_SEND_ZC: zero-copy send. Two CQEs: the result (with F_MORE), then the
    notification (F_NOTIF) once the kernel no longer reads `buf`; the op keeps `buf`
    pinned until the latter. zc_flags: IORING_RECVSEND_POLL_FIRST, IORING_SEND_ZC_REPORT_USAGE."""
    s = _send_sqe(Opcode.SEND_ZC, fd, buf, flags)
    s.ioprio = _zc_flags(zc_flags)
    return s


@prep(Opcode.SEND_ZC)
def send_zc_fixed(fd: int, buf: Buffer, flags: int, zc_flags: int, buf_index: int) -> Sqe:
    """IORING_OP_SEND_ZC from registered buffer `buf_index`; `buf` is (a slice of) that
    registered buffer."""
    s = send_zc(fd, buf, flags, zc_flags)
    s.ioprio |= RecvSendFlags.RECVSEND_FIXED_BUF
    s.buf_index = _buf_index(buf_index)
    return s


def _sendmsg_sqe(opcode: int, fd: int, buffers: Sequence[Buffer], flags: int, address: Any,
                 ancillary: Iterable[tuple[int, int, Buffer]] | None, family: int | None) -> Sqe:
    s = sqe(opcode, check_fd(fd), 0, 1)
    s.op_flags = check_u32(flags, "flags")
    name = namelen = control = controllen = 0
    if address is not None:
        raw = _address(address, family)
        _, name = _pinned_bytes(s, raw, writable=False)
        namelen = len(raw)
    iov, iovlen = _iov(s, buffers, writable=False)
    if ancillary is not None:
        raw = encode_ancillary(ancillary)
        if raw:
            _, control = _pinned_bytes(s, raw, writable=False)
            controllen = len(raw)
    _msghdr(s, name=name, namelen=namelen, iov=iov, iovlen=iovlen, control=control,
            controllen=controllen)
    return s


@prep(Opcode.SENDMSG)
def sendmsg(fd: int, buffers: Sequence[Buffer], flags: int = 0, *, address: Any = None,
            ancillary: Iterable[tuple[int, int, Buffer]] | None = None,
            family: int | None = None) -> Sqe:
    """IORING_OP_SENDMSG: sendmsg(2) of a list of buffers, optionally to `address` and with
    ancillary (level, type, data) items such as (SOL_SOCKET, SCM_RIGHTS, fds)."""
    return _sendmsg_sqe(Opcode.SENDMSG, fd, buffers, flags, address, ancillary, family)


@prep(Opcode.SENDMSG_ZC)
def sendmsg_zc(fd: int, buffers: Sequence[Buffer], flags: int = 0, *, address: Any = None,
               ancillary: Iterable[tuple[int, int, Buffer]] | None = None,
               family: int | None = None) -> Sqe:
    """IORING_OP_SENDMSG_ZC: zero-copy sendmsg; result CQE with F_MORE, then F_NOTIF."""
    return _sendmsg_sqe(Opcode.SENDMSG_ZC, fd, buffers, flags, address, ancillary, family)


@prep(Opcode.SENDMSG_ZC)
def sendmsg_zc_fixed(fd: int, buffers: Sequence[Buffer], flags: int, buf_index: int, *,
                     address: Any = None, ancillary: Iterable[tuple[int, int, Buffer]] | None = None,
                     family: int | None = None) -> Sqe:
    """IORING_OP_SENDMSG_ZC whose buffers lie in registered buffer `buf_index`."""
    s = _sendmsg_sqe(Opcode.SENDMSG_ZC, fd, buffers, flags, address, ancillary, family)
    s.ioprio |= RecvSendFlags.RECVSEND_FIXED_BUF
    s.buf_index = _buf_index(buf_index)
    return s


# -- receive ---------------------------------------------------------------------------

@prep(Opcode.RECV)
def recv(fd: int, buf: Buffer, flags: int = 0) -> Sqe:
    """IORING_OP_RECV: recv(2) into a writable buffer; res is the byte count (0 at EOF)."""
    s = sqe(Opcode.RECV, check_fd(fd))
    pin = s.pin(buf, True)
    s.addr, s.len = pin.addr, check_u32(pin.nbytes, "buffer length")
    s.op_flags = check_u32(flags, "flags")
    return s


def _select(s: Sqe, buf_group: int | BufferGroup) -> Sqe:
    s.buf_group = _buf_group(buf_group)
    s.flags |= SqeFlags.BUFFER_SELECT
    return s


@prep(Opcode.RECV)
def recv_select(fd: int, nbytes: int, flags: int = 0, *, buf_group: int | BufferGroup) -> Sqe:
    """IORING_OP_RECV into a buffer the kernel picks from group `buf_group` (at most
    `nbytes`, 0 for the whole buffer); the CQE carries F_BUFFER and the buffer id."""
    s = sqe(Opcode.RECV, check_fd(fd), 0, check_u32(nbytes, "nbytes"))
    s.op_flags = check_u32(flags, "flags")
    return _select(s, buf_group)


@prep(Opcode.RECV)
def recv_multishot(fd: int, flags: int = 0, *, buf_group: int | BufferGroup) -> Sqe:
    """IORING_OP_RECV with IORING_RECV_MULTISHOT: one CQE (F_MORE|F_BUFFER, buffer id) per
    receive into buffers of group `buf_group`, until EOF (res 0), an error, or the group
    running dry (-ENOBUFS); the final CQE lacks F_MORE."""
    s = sqe(Opcode.RECV, check_fd(fd))
    s.op_flags = check_u32(flags, "flags")
    s.ioprio |= RecvSendFlags.RECV_MULTISHOT
    return _select(s, buf_group)


@prep(Opcode.RECV_ZC)
def recv_zc(fd: int, len: int, ifq_idx: int, msg_flags: int = 0, *, poll_first: bool = False) -> Sqe:
    """IORING_OP_RECV_ZC: zero-copy receive through the zcrx interface queue `ifq_idx`
    registered with IORING_REGISTER_ZCRX_IFQ (NIC support needed); always multishot, each
    CQE (CQE32) pointing into the queue's area. liburing has no helper for it: the fields
    follow the kernel (ioprio holds RECV_MULTISHOT, the queue index shares file_index's
    slot, len caps the total, 0 for no cap). A ring without that queue answers -EINVAL."""
    s = sqe(Opcode.RECV_ZC, check_fd(fd))
    s.len = check_u32(len, "len")
    s.file_index = check_int(ifq_idx, "ifq_idx", 0, 0x7FFFFFFF)
    s.op_flags = check_u32(msg_flags, "msg_flags")
    s.ioprio = RecvSendFlags.RECV_MULTISHOT | (RecvSendFlags.RECVSEND_POLL_FIRST if poll_first else 0)
    return s


def _check_sizes(name_size: int, control_size: int) -> tuple[int, int]:
    return (check_int(name_size, "name_size", 0, SOCKADDR_STORAGE_SIZE),
            check_int(control_size, "control_size", 0, _INT_MAX))


@prep(Opcode.RECVMSG)
def recvmsg(fd: int, buffers: Sequence[Buffer], flags: int = 0, *, name_size: int = 0,
            control_size: int = 0) -> Sqe:
    """IORING_OP_RECVMSG: recvmsg(2) into a list of writable buffers. name_size bytes
    (up to 128) receive the sender's address and control_size bytes the ancillary data
    (size it with socket.CMSG_SPACE); op.out decodes both and msg_flags after completion."""
    name_size, control_size = _check_sizes(name_size, control_size)
    s = sqe(Opcode.RECVMSG, check_fd(fd), 0, 1)
    s.op_flags = check_u32(flags, "flags")
    name_buf = control_buf = None
    name = control = 0
    if name_size:
        name_buf, name = _pinned_bytes(s, bytes(name_size))
    iov, iovlen = _iov(s, buffers, writable=True)
    if control_size:
        control_buf, control = _pinned_bytes(s, bytes(control_size))
    msghdr = _msghdr(s, name=name, namelen=name_size, iov=iov, iovlen=iovlen, control=control,
                     controllen=control_size)
    s.out = RecvmsgOut(msghdr, name_buf, control_buf)
    return s


@prep(Opcode.RECVMSG)
def recvmsg_multishot(fd: int, flags: int, buf_group: int | BufferGroup, name_size: int = 0,
                      control_size: int = 0) -> Sqe:
    """IORING_OP_RECVMSG with IORING_RECV_MULTISHOT: one CQE per message into buffers of
    group `buf_group`; each buffer starts with a struct io_uring_recvmsg_out header, the
    name and the control data. ``op.out.parse(bufring.get(bid, res))`` decodes one."""
    name_size, control_size = _check_sizes(name_size, control_size)
    s = sqe(Opcode.RECVMSG, check_fd(fd), 0, 1)
    s.op_flags = check_u32(flags, "flags")
    s.ioprio |= RecvSendFlags.RECV_MULTISHOT
    # Only the sizes matter: the kernel lays name and control out inside each buffer.
    _msghdr(s, namelen=name_size, controllen=control_size)
    s.out = RecvmsgMultishotOut(name_size, control_size)
    return _select(s, buf_group)


# -- socket uring_cmd ------------------------------------------------------------------

def _uring_cmd(cmd_op: int, fd: int) -> Sqe:
    s = sqe(Opcode.URING_CMD, check_fd(fd))
    s.off = check_u32(cmd_op, "cmd_op")  # cmd_op is the low half of off; the high half must be 0
    return s


@prep(Opcode.URING_CMD)
def cmd_sock(cmd_op: int, fd: int, level: int = 0, optname: int = 0,
             optval: Buffer | int | None = None, optlen: int | None = None) -> Sqe:
    """IORING_OP_URING_CMD on a socket: SOCKET_URING_OP_SIOCINQ/SIOCOUTQ (res is the byte
    count), GETSOCKOPT (into the writable buffer `optval`; res is the option length, only
    SOL_SOCKET) or SETSOCKOPT (`optval` a buffer, or an int sent as a C int).
    `optlen` defaults to the buffer's length."""
    s = _uring_cmd(cmd_op, fd)
    level = check_int(level, "level", -0x80000000, _INT_MAX)
    optname = check_int(optname, "optname", -0x80000000, _INT_MAX)
    s.addr = (level & 0xFFFFFFFF) | ((optname & 0xFFFFFFFF) << 32)  # level, optname: two u32s
    length = 0
    if isinstance(optval, int) and not isinstance(optval, bool):
        if cmd_op == SocketCmd.GETSOCKOPT:
            raise TypeError("GETSOCKOPT needs a writable buffer for optval")
        check_int(optval, "optval", -0x80000000, _INT_MAX)
        _, s.addr3 = _pinned_bytes(s, _INT.pack(optval), writable=False)
        length = _INT.size
    elif optval is not None:
        pin = s.pin(optval, cmd_op == SocketCmd.GETSOCKOPT)
        s.addr3, length = pin.addr, pin.nbytes
    if optlen is not None:
        optlen = check_int(optlen, "optlen", 0, _INT_MAX)
        if optlen > length:
            raise ValueError(f"optlen={optlen} exceeds optval's {length} bytes")
        length = optlen
    s.file_index = length
    return s


@prep(Opcode.URING_CMD)
def cmd_getsockname(fd: int, peer: bool = False) -> Sqe:
    """SOCKET_URING_OP_GETSOCKNAME: getsockname(2), or getpeername(2) with peer=True
    (Linux 6.19); op.out.address is the address after completion, res is 0."""
    if not isinstance(peer, (bool, int)) or peer not in (0, 1):
        raise ValueError(f"peer must be True or False, got {peer!r}")
    s = _uring_cmd(SocketCmd.GETSOCKNAME, fd)
    out = SockaddrOut(s)
    s.addr = out.storage_addr
    s.addr3 = out.length_addr
    s.file_index = int(peer)  # optlen carries the peer switch
    s.out = out
    return s
