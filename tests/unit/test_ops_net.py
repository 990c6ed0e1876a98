"""Golden SQEs of the socket prep helpers, the structs they build (sockaddr, msghdr,
cmsghdr), the decoders of what the kernel writes back, and rejection of bad input."""

from __future__ import annotations

import array
import inspect
import pathlib
import socket
import struct

import pytest

from uring._uapi import (
    IORING_FILE_INDEX_ALLOC, RECVMSG_OUT, AcceptFlags, Opcode, RecvSendFlags,
    SocketCmd, SqeFlags,
)
from uring.ops import net
from tests.support import expect, pinned, sqe_dict as fields
from uring.ops._common import HELPERS

BUF_SELECT = int(SqeFlags.BUFFER_SELECT)
MSGHDR = net.MSGHDR








def addr(s, i) -> int:
    return s.pins[i].addr


def sin(host: str, port: int) -> bytes:
    return struct.pack("=H", socket.AF_INET) + struct.pack("!H", port) + socket.inet_aton(host) + bytes(8)


def sin6(host: str, port: int, flowinfo: int = 0, scope_id: int = 0) -> bytes:
    return (struct.pack("=H", socket.AF_INET6) + struct.pack("!HI", port, flowinfo) +
            socket.inet_pton(socket.AF_INET6, host) + struct.pack("=I", scope_id))


def sun(path: bytes) -> bytes:
    return struct.pack("=H", socket.AF_UNIX) + path


DATA = b"payload"
WBUF = bytearray(16)
WBUF2 = bytearray(8)
SIN = sin("127.0.0.1", 8080)
STORAGE = [bytes(128), struct.pack("=I", 128)]
CMSG_RIGHTS = (struct.pack("=Qii", socket.CMSG_LEN(8), socket.SOL_SOCKET, socket.SCM_RIGHTS) +
               struct.pack("=ii", 7, 9))
S32_ALLOC = -1  # IORING_FILE_INDEX_ALLOC as the signed 32-bit SQE field

# Each case: a helper call; the expected SQE fields given the Sqe (addresses from its pins,
# in the order the helper pins them); then what each pin holds.
GOLDEN = [
    ("socket", lambda: net.socket(socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK),
     lambda s: expect(Opcode.SOCKET, fd=socket.AF_INET, off=socket.SOCK_STREAM | socket.SOCK_NONBLOCK),
     []),
    ("socket protocol", lambda: net.socket(socket.AF_INET6, socket.SOCK_DGRAM, socket.IPPROTO_UDP),
     lambda s: expect(Opcode.SOCKET, fd=socket.AF_INET6, off=socket.SOCK_DGRAM, len=socket.IPPROTO_UDP),
     []),
    ("socket_direct", lambda: net.socket_direct(socket.AF_UNIX, socket.SOCK_STREAM, 0, 4),
     lambda s: expect(Opcode.SOCKET, fd=socket.AF_UNIX, off=socket.SOCK_STREAM, file_index=5), []),
    ("socket_direct alloc", lambda: net.socket_direct(2, 1, 0, IORING_FILE_INDEX_ALLOC),
     lambda s: expect(Opcode.SOCKET, fd=2, off=1, file_index=S32_ALLOC), []),
    ("socket_direct_alloc", lambda: net.socket_direct_alloc(2, 2, 17),
     lambda s: expect(Opcode.SOCKET, fd=2, off=2, len=17, file_index=S32_ALLOC), []),
    ("connect", lambda: net.connect(5, ("127.0.0.1", 8080)),
     lambda s: expect(Opcode.CONNECT, fd=5, addr=addr(s, 0), off=16), [SIN]),
    ("connect ipv6", lambda: net.connect(5, ("::1", 80, 0, 0)),
     lambda s: expect(Opcode.CONNECT, fd=5, addr=addr(s, 0), off=28), [sin6("::1", 80)]),
    ("connect unix", lambda: net.connect(5, "/run/x.sock"),
     lambda s: expect(Opcode.CONNECT, fd=5, addr=addr(s, 0), off=14), [sun(b"/run/x.sock\0")]),
    ("bind", lambda: net.bind(6, ("0.0.0.0", 0)),
     lambda s: expect(Opcode.BIND, fd=6, addr=addr(s, 0), off=16), [sin("0.0.0.0", 0)]),
    ("bind family", lambda: net.bind(6, ("::", 443), socket.AF_INET6),
     lambda s: expect(Opcode.BIND, fd=6, addr=addr(s, 0), off=28), [sin6("::", 443)]),
    ("listen", lambda: net.listen(6, 128),
     lambda s: expect(Opcode.LISTEN, fd=6, len=128), []),
    ("accept", lambda: net.accept(7),
     lambda s: expect(Opcode.ACCEPT, fd=7), []),
    ("accept flags", lambda: net.accept(7, socket.SOCK_CLOEXEC),
     lambda s: expect(Opcode.ACCEPT, fd=7, op_flags=socket.SOCK_CLOEXEC), []),
    ("accept address", lambda: net.accept(7, want_address=True),
     lambda s: expect(Opcode.ACCEPT, fd=7, addr=addr(s, 0), off=addr(s, 1)), STORAGE),
    ("accept_direct", lambda: net.accept_direct(7, 2, socket.SOCK_NONBLOCK),
     lambda s: expect(Opcode.ACCEPT, fd=7, op_flags=socket.SOCK_NONBLOCK, file_index=3), []),
    ("accept_direct alloc address", lambda: net.accept_direct(7, IORING_FILE_INDEX_ALLOC, want_address=True),
     lambda s: expect(Opcode.ACCEPT, fd=7, addr=addr(s, 0), off=addr(s, 1), file_index=S32_ALLOC),
     STORAGE),
    ("multishot_accept", lambda: net.multishot_accept(7, socket.SOCK_NONBLOCK),
     lambda s: expect(Opcode.ACCEPT, fd=7, ioprio=AcceptFlags.MULTISHOT, op_flags=socket.SOCK_NONBLOCK),
     []),
    ("multishot_accept_direct", lambda: net.multishot_accept_direct(7),
     lambda s: expect(Opcode.ACCEPT, fd=7, ioprio=AcceptFlags.MULTISHOT, file_index=S32_ALLOC), []),
    ("shutdown", lambda: net.shutdown(8, socket.SHUT_WR),
     lambda s: expect(Opcode.SHUTDOWN, fd=8, len=socket.SHUT_WR), []),
    ("send", lambda: net.send(9, DATA, socket.MSG_NOSIGNAL),
     lambda s: expect(Opcode.SEND, fd=9, addr=addr(s, 0), len=7, op_flags=socket.MSG_NOSIGNAL), [DATA]),
    ("send slice", lambda: net.send(9, memoryview(DATA)[2:5]),
     lambda s: expect(Opcode.SEND, fd=9, addr=addr(s, 0), len=3), [b"ylo"]),
    ("sendto", lambda: net.sendto(9, DATA, socket.MSG_DONTWAIT, ("127.0.0.1", 8080)),
     lambda s: expect(Opcode.SEND, fd=9, addr=addr(s, 0), len=7, op_flags=socket.MSG_DONTWAIT,
                      off=addr(s, 1), file_index=16),
     [DATA, SIN]),
    ("recv_zc", lambda: net.recv_zc(7, 4096, 1, 0x40),
     lambda s: expect(Opcode.RECV_ZC, fd=7, len=4096, file_index=1, op_flags=0x40,
                      ioprio=RecvSendFlags.RECV_MULTISHOT), []),
    ("recv_zc poll_first", lambda: net.recv_zc(7, 0, 0, poll_first=True),
     lambda s: expect(Opcode.RECV_ZC, fd=7,
                      ioprio=RecvSendFlags.RECV_MULTISHOT | RecvSendFlags.RECVSEND_POLL_FIRST), []),
    ("send_bundle", lambda: net.send_bundle(9, 4096, socket.MSG_MORE),
     lambda s: expect(Opcode.SEND, fd=9, len=4096, op_flags=socket.MSG_MORE,
                      ioprio=RecvSendFlags.RECVSEND_BUNDLE), []),
    ("send_zc", lambda: net.send_zc(9, DATA, 0, RecvSendFlags.SEND_ZC_REPORT_USAGE),
     lambda s: expect(Opcode.SEND_ZC, fd=9, addr=addr(s, 0), len=7,
                      ioprio=RecvSendFlags.SEND_ZC_REPORT_USAGE), [DATA]),
    ("send_zc_fixed", lambda: net.send_zc_fixed(9, DATA, socket.MSG_WAITALL, 0, 3),
     lambda s: expect(Opcode.SEND_ZC, fd=9, addr=addr(s, 0), len=7, op_flags=socket.MSG_WAITALL,
                      ioprio=RecvSendFlags.RECVSEND_FIXED_BUF, buf_index=3), [DATA]),
    ("sendmsg", lambda: net.sendmsg(10, [b"ab", b"cde"], socket.MSG_EOR),
     lambda s: expect(Opcode.SENDMSG, fd=10, addr=addr(s, 3), len=1, op_flags=socket.MSG_EOR),
     lambda s: [b"ab", b"cde", struct.pack("=4Q", addr(s, 0), 2, addr(s, 1), 3),
                MSGHDR.pack(0, 0, addr(s, 2), 2, 0, 0, 0)]),
    ("sendmsg address ancillary", lambda: net.sendmsg(10, [b"x"], address=("127.0.0.1", 8080),
                                                      ancillary=[(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                                                  array.array("i", [7, 9]))]),
     lambda s: expect(Opcode.SENDMSG, fd=10, addr=addr(s, 4), len=1),
     lambda s: [SIN, b"x", struct.pack("=2Q", addr(s, 1), 1), CMSG_RIGHTS,
                MSGHDR.pack(addr(s, 0), 16, addr(s, 2), 1, addr(s, 3), 24, 0)]),
    ("sendmsg no data", lambda: net.sendmsg(10, []),
     lambda s: expect(Opcode.SENDMSG, fd=10, addr=addr(s, 0), len=1),
     [MSGHDR.pack(0, 0, 0, 0, 0, 0, 0)]),
    ("sendmsg_zc", lambda: net.sendmsg_zc(10, [b"z"]),
     lambda s: expect(Opcode.SENDMSG_ZC, fd=10, addr=addr(s, 2), len=1),
     lambda s: [b"z", struct.pack("=2Q", addr(s, 0), 1), MSGHDR.pack(0, 0, addr(s, 1), 1, 0, 0, 0)]),
    ("sendmsg_zc_fixed", lambda: net.sendmsg_zc_fixed(10, [b"z"], 0, 2),
     lambda s: expect(Opcode.SENDMSG_ZC, fd=10, addr=addr(s, 2), len=1,
                      ioprio=RecvSendFlags.RECVSEND_FIXED_BUF, buf_index=2),
     lambda s: [b"z", struct.pack("=2Q", addr(s, 0), 1), MSGHDR.pack(0, 0, addr(s, 1), 1, 0, 0, 0)]),
    ("recv", lambda: net.recv(11, WBUF, socket.MSG_PEEK),
     lambda s: expect(Opcode.RECV, fd=11, addr=addr(s, 0), len=16, op_flags=socket.MSG_PEEK),
     [bytes(16)]),
    ("recv_select", lambda: net.recv_select(11, 512, buf_group=4),
     lambda s: expect(Opcode.RECV, fd=11, len=512, flags=BUF_SELECT, buf_index=4), []),
    ("recv_multishot", lambda: net.recv_multishot(11, socket.MSG_DONTWAIT, buf_group=65535),
     lambda s: expect(Opcode.RECV, fd=11, op_flags=socket.MSG_DONTWAIT, flags=BUF_SELECT,
                      buf_index=65535, ioprio=RecvSendFlags.RECV_MULTISHOT), []),
    ("recvmsg", lambda: net.recvmsg(12, [WBUF, WBUF2], socket.MSG_WAITALL),
     lambda s: expect(Opcode.RECVMSG, fd=12, addr=addr(s, 3), len=1, op_flags=socket.MSG_WAITALL),
     lambda s: [bytes(16), bytes(8), struct.pack("=4Q", addr(s, 0), 16, addr(s, 1), 8),
                MSGHDR.pack(0, 0, addr(s, 2), 2, 0, 0, 0)]),
    ("recvmsg name control", lambda: net.recvmsg(12, [WBUF], name_size=128, control_size=32),
     lambda s: expect(Opcode.RECVMSG, fd=12, addr=addr(s, 4), len=1),
     lambda s: [bytes(128), bytes(16), struct.pack("=2Q", addr(s, 1), 16), bytes(32),
                MSGHDR.pack(addr(s, 0), 128, addr(s, 2), 1, addr(s, 3), 32, 0)]),
    ("recvmsg_multishot", lambda: net.recvmsg_multishot(12, 0, 3, 16, 24),
     lambda s: expect(Opcode.RECVMSG, fd=12, addr=addr(s, 0), len=1, flags=BUF_SELECT, buf_index=3,
                      ioprio=RecvSendFlags.RECV_MULTISHOT),
     [MSGHDR.pack(0, 16, 0, 0, 0, 24, 0)]),
    ("cmd_sock siocinq", lambda: net.cmd_sock(SocketCmd.SIOCINQ, 13),
     lambda s: expect(Opcode.URING_CMD, fd=13, off=SocketCmd.SIOCINQ), []),
    ("cmd_sock setsockopt int", lambda: net.cmd_sock(SocketCmd.SETSOCKOPT, 13, socket.SOL_SOCKET,
                                                     socket.SO_KEEPALIVE, 1),
     lambda s: expect(Opcode.URING_CMD, fd=13, off=SocketCmd.SETSOCKOPT,
                      addr=socket.SOL_SOCKET | (socket.SO_KEEPALIVE << 32), addr3=addr(s, 0), file_index=4),
     [struct.pack("=i", 1)]),
    ("cmd_sock getsockopt", lambda: net.cmd_sock(SocketCmd.GETSOCKOPT, 13, socket.SOL_SOCKET,
                                                 socket.SO_RCVBUF, WBUF, 4),
     lambda s: expect(Opcode.URING_CMD, fd=13, off=SocketCmd.GETSOCKOPT,
                      addr=socket.SOL_SOCKET | (socket.SO_RCVBUF << 32), addr3=addr(s, 0), file_index=4),
     [bytes(16)]),
    ("cmd_getsockname", lambda: net.cmd_getsockname(14),
     lambda s: expect(Opcode.URING_CMD, fd=14, off=SocketCmd.GETSOCKNAME, addr=addr(s, 0),
                      addr3=addr(s, 1)), STORAGE),
    ("cmd_getsockname peer", lambda: net.cmd_getsockname(14, peer=True),
     lambda s: expect(Opcode.URING_CMD, fd=14, off=SocketCmd.GETSOCKNAME, addr=addr(s, 0),
                      addr3=addr(s, 1), file_index=1), STORAGE),
]


@pytest.mark.parametrize("name, make, want, pins", GOLDEN, ids=[g[0] for g in GOLDEN])
def test_golden_sqe(name, make, want, pins):
    s = make()
    assert fields(s) == want(s)
    expected_pins = pins(s) if callable(pins) else pins
    assert [pinned(s, i) for i in range(len(s.pins))] == expected_pins


def test_every_helper_is_registered_documented_and_golden():
    helpers = {n for n in net.__all__ if n.islower() and n not in ("encode_ancillary", "decode_ancillary")}
    registered = {n for names in HELPERS.values() for n in names}
    assert helpers <= registered
    golden = {g[0].split()[0] for g in GOLDEN}
    assert helpers == golden
    for n in helpers:
        fn = getattr(net, n)
        assert fn.__doc__ and len(fn.__doc__.strip()) > 20, n
        assert inspect.signature(fn).return_annotation == "Sqe", n


def test_helpers_are_registered_under_their_opcodes():
    for opcode, name in [(Opcode.SOCKET, "socket_direct_alloc"), (Opcode.ACCEPT, "multishot_accept"),
                         (Opcode.SEND, "sendto"), (Opcode.SEND, "send_bundle"),
                         (Opcode.RECV, "recv_multishot"), (Opcode.RECVMSG, "recvmsg_multishot"),
                         (Opcode.SEND_ZC, "send_zc_fixed"), (Opcode.SENDMSG_ZC, "sendmsg_zc_fixed"),
                         (Opcode.URING_CMD, "cmd_getsockname"), (Opcode.BIND, "bind"),
                         (Opcode.LISTEN, "listen"), (Opcode.SHUTDOWN, "shutdown")]:
        assert name in HELPERS[int(opcode)]


def test_out_decoders_are_attached():
    assert net.accept(3).out is None
    assert isinstance(net.accept(3, want_address=True).out, net.SockaddrOut)
    assert isinstance(net.cmd_getsockname(3).out, net.SockaddrOut)
    assert isinstance(net.recvmsg(3, [bytearray(1)]).out, net.RecvmsgOut)
    out = net.recvmsg_multishot(3, 0, 1, 16, 24).out
    assert (out.name_size, out.control_size, out.header_size) == (16, 24, 56)


# -- socket addresses ------------------------------------------------------------------

@pytest.mark.parametrize("address, family, raw", [
    (("127.0.0.1", 8080), None, SIN),
    (("localhost", 1), None, sin("127.0.0.1", 1)),
    (("", 2), None, sin("0.0.0.0", 2)),
    (("::1", 80), None, sin6("::1", 80)),
    (("fe80::1", 80, 0x12345, 3), None, sin6("fe80::1", 80, 0x12345, 3)),
    (("::", 80), socket.AF_INET6, sin6("::", 80)),
    ("/tmp/s", None, sun(b"/tmp/s\0")),
    (b"/tmp/s", None, sun(b"/tmp/s\0")),
    (pathlib.Path("/tmp/s"), None, sun(b"/tmp/s\0")),
    (b"\0abstract", None, sun(b"\0abstract")),
    (SIN, socket.AF_INET, SIN),  # an already-encoded sockaddr passes through
])
def test_sockaddr_encodings(address, family, raw):
    s = net.connect(3, address, family)
    assert pinned(s, 0) == raw
    assert fields(s)["off"] == len(raw)


@pytest.mark.parametrize("raw, address", [
    (SIN, ("127.0.0.1", 8080)),
    (sin6("::1", 80, 5, 2), ("::1", 80, 5, 2)),
    (sun(b"/a/b\0"), "/a/b"),
    (sun(b""), ""),
    (sun(b"\0abs"), b"\0abs"),
])
def test_sockaddr_out_decodes_what_the_kernel_wrote(raw, address):
    out = net.accept(3, want_address=True).out
    assert out.address is None  # nothing written yet
    out._storage[:len(raw)] = raw
    out._length[:] = struct.pack("=I", len(raw))
    assert out.length == len(raw)
    assert out.address == address


# -- msghdr / cmsg ---------------------------------------------------------------------

def test_msghdr_layout_is_56_bytes():
    assert MSGHDR.size == 56
    raw = MSGHDR.pack(1, 2, 3, 4, 5, 6, 7)
    assert struct.unpack_from("=Q", raw, 0)[0] == 1      # msg_name
    assert struct.unpack_from("=I", raw, 8)[0] == 2      # msg_namelen
    assert struct.unpack_from("=Q", raw, 16)[0] == 3     # msg_iov
    assert struct.unpack_from("=Q", raw, 24)[0] == 4     # msg_iovlen
    assert struct.unpack_from("=Q", raw, 32)[0] == 5     # msg_control
    assert struct.unpack_from("=Q", raw, 40)[0] == 6     # msg_controllen
    assert struct.unpack_from("=i", raw, 48)[0] == 7     # msg_flags


def test_ancillary_round_trip_and_alignment():
    items = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [5])),
             (socket.SOL_SOCKET, socket.SCM_CREDENTIALS, struct.pack("=iII", 1, 2, 3))]
    raw = net.encode_ancillary(items)
    assert len(raw) == socket.CMSG_SPACE(4) + socket.CMSG_SPACE(12)
    assert raw[:16] == struct.pack("=Qii", socket.CMSG_LEN(4), socket.SOL_SOCKET, socket.SCM_RIGHTS)
    assert net.decode_ancillary(raw) == [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("=i", 5)),
                                         (socket.SOL_SOCKET, socket.SCM_CREDENTIALS, struct.pack("=iII", 1, 2, 3))]
    assert net.decode_ancillary(b"") == []
    assert net.decode_ancillary(bytes(8)) == []            # shorter than a header
    assert net.decode_ancillary(bytes(16)) == []           # cmsg_len 0: malformed, stop


def test_recvmsg_out_decodes_the_msghdr():
    s = net.recvmsg(3, [bytearray(4)], name_size=16, control_size=24)
    out = s.out
    assert (out.address, out.ancillary, out.msg_flags) == (None, [], 0)  # nothing written yet
    name = s.pins[0].obj
    control = s.pins[3].obj
    msghdr = s.pins[4].obj
    name[:] = SIN
    control[:] = CMSG_RIGHTS[:16] + struct.pack("=i", 7) + bytes(4)
    control[0:8] = struct.pack("=Q", socket.CMSG_LEN(4))
    struct.pack_into("=I", msghdr, 8, 16)
    struct.pack_into("=Q", msghdr, 40, socket.CMSG_SPACE(4))
    struct.pack_into("=i", msghdr, 48, socket.MSG_CTRUNC)
    assert out.address == ("127.0.0.1", 8080)
    assert out.ancillary == [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("=i", 7))]
    assert out.msg_flags == socket.MSG_CTRUNC


def test_recvmsg_multishot_parse():
    out = net.recvmsg_multishot(3, 0, 1, name_size=16, control_size=0).out
    buf = RECVMSG_OUT.pack(16, 0, 10, socket.MSG_TRUNC) + SIN + b"trunc"
    msg = out.parse(buf)
    assert bytes(msg.data) == b"trunc"
    assert (msg.address, msg.msg_flags, msg.payload_length, msg.ancillary) == \
        (("127.0.0.1", 8080), socket.MSG_TRUNC, 10, [])
    no_name = net.recvmsg_multishot(3, 0, 1).out.parse(RECVMSG_OUT.pack(0, 0, 2, 0) + b"hi")
    assert (bytes(no_name.data), no_name.address) == (b"hi", None)
    with pytest.raises(ValueError, match="at least 32"):
        out.parse(bytes(20))


# -- bad input -------------------------------------------------------------------------

BAD = [
    (lambda: net.socket("2", 1), TypeError),
    (lambda: net.socket(-1, 1), ValueError),
    (lambda: net.socket(2, 1, 0, -1), ValueError),
    (lambda: net.socket_direct(2, 1 | socket.SOCK_CLOEXEC, 0, 0), ValueError),
    (lambda: net.socket_direct(2, 1, 0, -1), ValueError),
    (lambda: net.socket_direct(2, 1, 0, IORING_FILE_INDEX_ALLOC - 1), ValueError),
    (lambda: net.socket_direct(2, 1, 0, True), TypeError),
    (lambda: net.socket_direct_alloc(2, 1 | socket.SOCK_CLOEXEC, 0), ValueError),
    (lambda: net.connect("5", ("127.0.0.1", 80)), TypeError),
    (lambda: net.connect(5, ("127.0.0.1", 70000)), ValueError),
    (lambda: net.connect(5, ("127.0.0.1", "80")), TypeError),
    (lambda: net.connect(5, (b"127.0.0.1", 80)), TypeError),
    (lambda: net.connect(5, ("no.such.host.invalid", 80)), ValueError),
    (lambda: net.connect(5, ("127.0.0.1", 80), socket.AF_INET6), ValueError),
    (lambda: net.connect(5, ("::1", 80, -1, 0)), ValueError),
    (lambda: net.connect(5, ("1.2.3.4", 1, 2)), TypeError),
    (lambda: net.connect(5, 42), TypeError),
    (lambda: net.connect(5, "/" + "x" * 200), ValueError),
    (lambda: net.connect(5, ("127.0.0.1", 80), socket.AF_PACKET), ValueError),
    (lambda: net.bind(5, None), TypeError),
    (lambda: net.listen(5, -1), ValueError),
    (lambda: net.listen(5, 1.5), TypeError),
    (lambda: net.accept(5, 1), ValueError),
    (lambda: net.accept_direct(5, 0, socket.SOCK_CLOEXEC), ValueError),
    (lambda: net.multishot_accept_direct(5, socket.SOCK_CLOEXEC), ValueError),
    (lambda: net.shutdown(5, 3), ValueError),
    (lambda: net.shutdown(5, None), TypeError),
    (lambda: net.send(5, "text"), TypeError),
    (lambda: net.send(5, b"x", -1), ValueError),
    (lambda: net.sendto(5, b"x", 0, 12), TypeError),
    (lambda: net.send_bundle(5, -1), ValueError),
    (lambda: net.send_zc(5, b"x", 0, 0x10000), ValueError),
    (lambda: net.send_zc_fixed(5, b"x", 0, 0, 0x10000), ValueError),
    (lambda: net.sendmsg(5, b"single buffer"), TypeError),
    (lambda: net.sendmsg(5, ["text"]), TypeError),
    (lambda: net.sendmsg(5, [b"x"], ancillary=b"raw"), TypeError),
    (lambda: net.sendmsg(5, [b"x"], ancillary=[(1, 2)]), TypeError),
    (lambda: net.sendmsg(5, [b"x"], ancillary=[(1, 2, "text")]), TypeError),
    (lambda: net.sendmsg(5, [b"x"], ancillary=[(1, 2**40, b"")]), ValueError),
    (lambda: net.sendmsg_zc_fixed(5, [b"x"], 0, -1), ValueError),
    (lambda: net.recv(5, b"read-only"), TypeError),
    (lambda: net.recv(5, bytearray(1), -1), ValueError),
    (lambda: net.recv_select(5, -1, buf_group=1), ValueError),
    (lambda: net.recv_select(5, 0, buf_group=70000), ValueError),
    (lambda: net.recv_multishot(5), TypeError),
    (lambda: net.recv_multishot(5, buf_group=-1), ValueError),
    (lambda: net.recvmsg(5, [b"read-only"]), TypeError),
    (lambda: net.recvmsg(5, [bytearray(1)], name_size=129), ValueError),
    (lambda: net.recvmsg(5, [bytearray(1)], control_size=-1), ValueError),
    (lambda: net.recvmsg_multishot(5, 0, 1, 200), ValueError),
    (lambda: net.cmd_sock(-1, 5), ValueError),
    (lambda: net.cmd_sock(SocketCmd.GETSOCKOPT, 5, 1, 2, 4), TypeError),
    (lambda: net.cmd_sock(SocketCmd.GETSOCKOPT, 5, 1, 2, b"ro"), TypeError),
    (lambda: net.cmd_sock(SocketCmd.SETSOCKOPT, 5, 1, 2, b"1234", 5), ValueError),
    (lambda: net.cmd_sock(SocketCmd.SETSOCKOPT, 5, 1, 2, 2**40), ValueError),
    (lambda: net.cmd_getsockname(5, peer=2), ValueError),
    (lambda: net.decode_ancillary(12), TypeError),
    (lambda: net.encode_ancillary([(1, 2, 3)]), TypeError),
]


@pytest.mark.parametrize("call, exc", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_input_is_rejected(call, exc):
    with pytest.raises(exc):
        call()



@pytest.mark.parametrize("args", [(7, -1, 0), (7, 0, -1), ("7", 0, 0), (7, 0, 0, 1 << 32)])
def test_recv_zc_rejects_bad_input(args):
    with pytest.raises((TypeError, ValueError)):
        net.recv_zc(*args)
