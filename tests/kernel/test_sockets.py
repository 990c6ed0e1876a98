"""Socket ops against the kernel, all on loopback (127.0.0.1, ::1, AF_UNIX under tmp_path):
socket/bind/listen/accept/connect/shutdown, send and receive in every flavour, zero-copy
notifications, multishot accept and receive, and the socket uring_cmds."""

from __future__ import annotations

import array
import errno
import mmap
import os
import socket
import struct
import time

import pytest

from uring import Pin, Sqe
from uring._uapi import (
    IORING_FILE_INDEX_ALLOC, IORING_NOTIF_USAGE_ZC_COPIED, IORING_RSRC_REGISTER_SPARSE,
    RSRC_REGISTER, CqeFlags, Features, Opcode, RecvSendFlags, RegisterOp, SocketCmd, SqeFlags,
)
from uring.bufring import BufferRing
from uring.ops import net
from tests.conftest import require_op

MORE = int(CqeFlags.MORE)
BUFFER = int(CqeFlags.BUFFER)
NOTIF = int(CqeFlags.NOTIF)
NONEMPTY = int(CqeFlags.SOCK_NONEMPTY)
LOCALHOST = "127.0.0.1"


# -- helpers ---------------------------------------------------------------------------

@pytest.fixture
def listener():
    """A listening TCP socket on 127.0.0.1 (Python's), closed at teardown."""
    with socket.socket() as srv:
        srv.bind((LOCALHOST, 0))
        srv.listen(16)
        srv.settimeout(5)
        yield srv


@pytest.fixture
def tcp_pair(listener):
    """Two connected TCP sockets (client, server side)."""
    a = socket.create_connection(listener.getsockname(), timeout=5)
    b, _ = listener.accept()
    b.settimeout(5)
    with a, b:
        yield a, b


@pytest.fixture
def udp_pair():
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with a, b:
        a.bind((LOCALHOST, 0))
        b.bind((LOCALHOST, 0))
        b.settimeout(5)
        yield a, b


def ipv6_available() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def run(ring, sqe: Sqe):
    """Queue one SQE, wait for it; returns the finished Op (not its result)."""
    op = ring.queue(sqe)
    ring.submit_and_wait(1, timeout=5)
    deadline = time.monotonic() + 5
    while not op.done:
        assert time.monotonic() < deadline, f"{op} did not complete"
        ring.submit_and_wait(1, timeout=deadline - time.monotonic())
    return op


def cancel_sqe(target) -> Sqe:
    """IORING_OP_ASYNC_CANCEL by user_data, built by hand."""
    s = Sqe()
    s.opcode = Opcode.ASYNC_CANCEL
    s.fd = -1
    s.addr = target.user_data
    return s


def record(op) -> list:
    """Collect every CQE of `op` as (res, flags) through its callback."""
    events: list = []
    op.callback = lambda o, res, flags: events.append((res, flags))
    return events


def wait_until(ring, predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        left = deadline - time.monotonic()
        assert left > 0, "timed out waiting for completions"
        ring.submit_and_wait(1, timeout=left)


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, f"EOF after {len(data)} of {n} bytes"
        data += chunk
    return data


def free_port() -> int:
    """A loopback port nothing listens on (bound and released)."""
    with socket.socket() as s:
        s.bind((LOCALHOST, 0))
        return s.getsockname()[1]


def register_sparse_files(ring, nr: int) -> None:
    reg = bytearray(RSRC_REGISTER.pack(nr, IORING_RSRC_REGISTER_SPARSE, 0, 0, 0))
    ring._register(RegisterOp.FILES2, reg, RSRC_REGISTER.size)


# -- socket ----------------------------------------------------------------------------

def test_socket_creates_a_tcp_socket(ring):
    require_op(Opcode.SOCKET)
    op = run(ring, net.socket(socket.AF_INET, socket.SOCK_STREAM))
    assert op.res >= 0 and op.cqe_flags == 0
    with socket.socket(fileno=op.res) as s:
        assert (s.family, s.type) == (socket.AF_INET, socket.SOCK_STREAM)
        # Nothing asked for SOCK_NONBLOCK or SOCK_CLOEXEC.
        assert s.getblocking() and os.get_inheritable(s.fileno())


def test_socket_type_flags_apply(ring):
    require_op(Opcode.SOCKET)
    op = run(ring, net.socket(socket.AF_INET6 if ipv6_available() else socket.AF_INET,
                              socket.SOCK_DGRAM | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC))
    fd = op.result
    try:
        assert not os.get_blocking(fd)
        assert not os.get_inheritable(fd)
    finally:
        os.close(fd)


def test_socket_unknown_family_fails(ring):
    require_op(Opcode.SOCKET)
    op = run(ring, net.socket(4000, socket.SOCK_STREAM))
    assert (op.res, op.cqe_flags) == (-errno.EAFNOSUPPORT, 0)


def test_socket_direct_into_a_sparse_file_table(ring, tmp_path):
    require_op(Opcode.SOCKET, Opcode.BIND, Opcode.LISTEN)
    register_sparse_files(ring, 16)
    assert run(ring, net.socket_direct(socket.AF_UNIX, socket.SOCK_STREAM, 0, 3)).res == 0
    # An ALLOC request gets a free slot, searched from just past the last one installed.
    assert run(ring, net.socket_direct_alloc(socket.AF_UNIX, socket.SOCK_STREAM, 0)).res == 4
    assert run(ring, net.socket_direct(socket.AF_UNIX, socket.SOCK_STREAM, 0,
                                       IORING_FILE_INDEX_ALLOC)).res == 5
    # Slot 3 is a working socket: bind and listen on it, accept a Python client into slot 7.
    path = str(tmp_path / "direct.sock")
    assert run(ring, net.bind(3, path).set(flags=SqeFlags.FIXED_FILE)).res == 0
    assert run(ring, net.listen(3, 4).set(flags=SqeFlags.FIXED_FILE)).res == 0
    with socket.socket(socket.AF_UNIX) as client:
        client.connect(path)
        op = run(ring, net.accept_direct(3, 7).set(flags=SqeFlags.FIXED_FILE))
        assert (op.res, op.cqe_flags) == (0, 0)
        op = run(ring, net.send(7, b"via slot 7").set(flags=SqeFlags.FIXED_FILE))
        assert op.res == 10
        assert client.recv(64) == b"via slot 7"
    # A slot past the end of the table is refused.
    op = run(ring, net.socket_direct(socket.AF_UNIX, socket.SOCK_STREAM, 0, 16))
    assert op.res == -errno.EINVAL
    ring._register(RegisterOp.UNREGISTER_FILES)


# -- bind / listen / accept / connect ------------------------------------------------------

def test_bind_and_listen_then_a_python_client_connects(ring):
    require_op(Opcode.BIND, Opcode.LISTEN)
    with socket.socket() as srv:
        assert run(ring, net.bind(srv.fileno(), (LOCALHOST, 0))).res == 0
        host, port = srv.getsockname()
        assert host == LOCALHOST and port != 0
        assert run(ring, net.listen(srv.fileno(), 8)).res == 0
        with socket.create_connection((host, port), timeout=5) as client:
            srv.settimeout(5)
            conn, peer = srv.accept()
            with conn:
                assert peer == client.getsockname()


def test_bind_to_an_address_in_use_fails(ring, listener):
    require_op(Opcode.BIND)
    with socket.socket() as s:
        op = run(ring, net.bind(s.fileno(), listener.getsockname()))
        assert (op.res, op.cqe_flags) == (-errno.EADDRINUSE, 0)


def test_accept_returns_an_fd_and_the_peer_address(ring, listener):
    with socket.create_connection(listener.getsockname(), timeout=5) as client:
        op = run(ring, net.accept(listener.fileno(), want_address=True))
        assert op.res >= 0 and op.cqe_flags == 0
        with socket.socket(fileno=op.res) as conn:
            assert op.out.address == client.getsockname()
            assert op.out.address[0] == LOCALHOST
            assert conn.getpeername() == client.getsockname()


def test_accept_without_address_leaves_no_decoder(ring, listener):
    with socket.create_connection(listener.getsockname(), timeout=5):
        op = run(ring, net.accept(listener.fileno(), socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK))
        try:
            assert op.out is None
            assert not os.get_blocking(op.res) and not os.get_inheritable(op.res)
        finally:
            os.close(op.res)


@pytest.mark.skipif(not ipv6_available(), reason="no IPv6 loopback here")
def test_accept_ipv6_address(ring):
    with socket.socket(socket.AF_INET6) as srv:
        srv.bind(("::1", 0))
        srv.listen(1)
        with socket.create_connection(srv.getsockname()[:2], timeout=5) as client:
            op = run(ring, net.accept(srv.fileno(), want_address=True))
            os.close(op.result)
            assert op.out.address == client.getsockname()
            assert op.out.address[0] == "::1"


def test_accept_unix_socket_peer_is_unnamed(ring, tmp_path):
    path = str(tmp_path / "srv.sock")
    with socket.socket(socket.AF_UNIX) as srv:
        srv.bind(path)
        srv.listen(1)
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(path)
            op = run(ring, net.accept(srv.fileno(), want_address=True))
            os.close(op.result)
            assert op.out.address == ""  # as Python reports an unbound AF_UNIX peer


def test_multishot_accept_three_connections_then_cancel(ring, listener):
    op = ring.queue(net.multishot_accept(listener.fileno()))
    events = record(op)
    ring.submit()
    clients = []
    try:
        for i in range(3):
            # One at a time, so no CQE carries F_SOCK_NONEMPTY for a queued sibling.
            clients.append(socket.create_connection(listener.getsockname(), timeout=5))
            wait_until(ring, lambda: len(events) == i + 1)
        assert [flags for _, flags in events] == [MORE, MORE, MORE]
        fds = [res for res, _ in events]
        assert all(fd >= 0 for fd in fds) and len(set(fds)) == 3
        for fd, client in zip(fds, clients):
            with socket.socket(fileno=os.dup(fd)) as conn:
                assert conn.getpeername() == client.getsockname()
        assert not op.done
        cancel = ring.queue(cancel_sqe(op))
        cancel_events = record(cancel)
        wait_until(ring, lambda: op.done and cancel.done)
        # The cancel answers first; the target then ends without F_MORE.
        assert cancel_events == [(0, 0)]
        assert events[3:] == [(-errno.ECANCELED, 0)]
        assert (op.res, op.cqe_flags) == (-errno.ECANCELED, 0)
        with pytest.raises(OSError) as info:
            op.result
        assert info.value.errno == errno.ECANCELED
    finally:
        for res, _ in events:
            if res >= 0:
                os.close(res)
        for c in clients:
            c.close()


def test_multishot_accept_direct_allocates_slots(ring, listener):
    register_sparse_files(ring, 8)
    op = ring.queue(net.multishot_accept_direct(listener.fileno()))
    events = record(op)
    ring.submit()
    clients = []
    try:
        for i in range(2):
            clients.append(socket.create_connection(listener.getsockname(), timeout=5))
            wait_until(ring, lambda: len(events) == i + 1)
        assert events == [(0, MORE), (1, MORE)]  # slot indexes, lowest free first
        ring.queue(cancel_sqe(op))
        wait_until(ring, lambda: op.done)
        assert (op.res, op.cqe_flags) == (-errno.ECANCELED, 0)
        wait_until(ring, lambda: ring.in_flight == 0)
    finally:
        for c in clients:
            c.close()
        ring._register(RegisterOp.UNREGISTER_FILES)


def test_connect_to_a_listening_socket(ring, listener):
    with socket.socket() as s:
        op = run(ring, net.connect(s.fileno(), listener.getsockname()))
        assert (op.res, op.cqe_flags) == (0, 0)
        conn, peer = listener.accept()
        with conn:
            assert peer == s.getsockname()


def test_connect_to_a_closed_port_is_refused(ring):
    with socket.socket() as s:
        op = run(ring, net.connect(s.fileno(), (LOCALHOST, free_port())))
        assert (op.res, op.cqe_flags) == (-errno.ECONNREFUSED, 0)
        with pytest.raises(ConnectionRefusedError):
            op.result


def test_connect_unix_socket_by_path(ring, tmp_path):
    path = tmp_path / "u.sock"
    with socket.socket(socket.AF_UNIX) as srv, socket.socket(socket.AF_UNIX) as s:
        srv.bind(str(path))
        srv.listen(1)
        assert run(ring, net.connect(s.fileno(), path)).res == 0  # an os.PathLike works too
        conn, _ = srv.accept()
        conn.close()


def test_connect_send_recv_linked_chain(ring, listener):
    with socket.socket() as s:
        reply = bytearray(32)
        ops_ = [ring.queue(net.connect(s.fileno(), listener.getsockname()).set(flags=SqeFlags.IO_LINK)),
                ring.queue(net.send(s.fileno(), b"GET /").set(flags=SqeFlags.IO_LINK)),
                ring.queue(net.recv(s.fileno(), reply))]
        ring.submit()
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(5)
            assert conn.recv(64) == b"GET /"
            conn.sendall(b"200 OK")
            wait_until(ring, lambda: all(o.done for o in ops_))
        assert [(o.res, o.cqe_flags) for o in ops_] == [(0, 0), (5, 0), (6, 0)]
        assert reply[:6] == b"200 OK"


def test_failed_connect_cancels_the_rest_of_the_chain(ring):
    with socket.socket() as s:
        ops_ = [ring.queue(net.connect(s.fileno(), (LOCALHOST, free_port())).set(flags=SqeFlags.IO_LINK)),
                ring.queue(net.send(s.fileno(), b"x").set(flags=SqeFlags.IO_LINK)),
                ring.queue(net.recv(s.fileno(), bytearray(8)))]
        wait_until(ring, lambda: all(o.done for o in ops_))
        assert [o.res for o in ops_] == [-errno.ECONNREFUSED, -errno.ECANCELED, -errno.ECANCELED]


# -- send / recv ---------------------------------------------------------------------------

def test_send_and_recv_exact_bytes(ring, tcp_pair):
    a, b = tcp_pair
    op = run(ring, net.send(a.fileno(), b"hello world"))
    assert (op.res, op.cqe_flags) == (11, 0)
    assert b.recv(64) == b"hello world"
    b.sendall(b"xyz")
    buf = bytearray(16)
    op = run(ring, net.recv(a.fileno(), buf))
    assert (op.res, op.cqe_flags) == (3, 0)
    assert buf[:3] == b"xyz" and buf[3:] == bytes(13)


def test_send_a_memoryview_slice(ring, tcp_pair):
    a, b = tcp_pair
    data = bytearray(b"0123456789")
    assert run(ring, net.send(a.fileno(), memoryview(data)[2:6])).res == 4
    assert b.recv(64) == b"2345"


def test_recv_peek_and_waitall_flags(ring, tcp_pair):
    a, b = tcp_pair
    b.sendall(b"abcdef")
    buf = bytearray(3)
    assert run(ring, net.recv(a.fileno(), buf, socket.MSG_PEEK)).res == 3
    assert buf == b"abc"
    buf = bytearray(6)
    assert run(ring, net.recv(a.fileno(), buf, socket.MSG_WAITALL)).res == 6
    assert buf == b"abcdef"


def test_recv_on_a_non_socket_fails(ring):
    r, w = os.pipe()
    try:
        op = run(ring, net.recv(r, bytearray(4)))
        assert (op.res, op.cqe_flags) == (-errno.ENOTSOCK, 0)
    finally:
        os.close(r)
        os.close(w)


def test_shutdown_then_recv_reads_eof(ring, tcp_pair):
    a, b = tcp_pair
    op = run(ring, net.shutdown(a.fileno(), socket.SHUT_WR))
    assert (op.res, op.cqe_flags) == (0, 0)
    op = run(ring, net.recv(b.fileno(), bytearray(8)))
    # TCP counts the FIN as queued input, so the EOF read reports F_SOCK_NONEMPTY.
    assert (op.res, op.cqe_flags) == (0, NONEMPTY)


def test_shutdown_of_a_pipe_is_not_a_socket(ring):
    r, w = os.pipe()
    try:
        assert run(ring, net.shutdown(r, socket.SHUT_RDWR)).res == -errno.ENOTSOCK
    finally:
        os.close(r)
        os.close(w)


def test_sendmsg_gathers_buffers(ring, tcp_pair):
    a, b = tcp_pair
    op = run(ring, net.sendmsg(a.fileno(), [b"ab", bytearray(b"cde"), memoryview(b"fgh")]))
    assert (op.res, op.cqe_flags) == (8, 0)
    assert b.recv(64) == b"abcdefgh"


def test_recvmsg_scatters_into_buffers(ring, tcp_pair):
    a, b = tcp_pair
    b.sendall(b"0123456789")
    first, second = bytearray(4), bytearray(8)
    op = run(ring, net.recvmsg(a.fileno(), [first, second]))
    assert (op.res, op.cqe_flags) == (10, 0)
    assert (first, second[:6]) == (b"0123", b"456789")
    assert op.out.msg_flags == 0
    assert op.out.address is None and op.out.ancillary == []


def test_udp_sendto_and_recvmsg_with_address(ring, udp_pair):
    a, b = udp_pair
    op = run(ring, net.sendto(a.fileno(), b"datagram", 0, b.getsockname()))
    assert (op.res, op.cqe_flags) == (8, 0)
    buf = bytearray(64)
    op = run(ring, net.recvmsg(b.fileno(), [buf], name_size=128))
    assert (op.res, op.cqe_flags) == (8, 0)
    assert buf[:8] == b"datagram"
    assert op.out.address == a.getsockname()
    assert op.out.namelen == 16 and op.out.msg_flags == 0


def test_udp_recvmsg_reports_truncation(ring, udp_pair):
    a, b = udp_pair
    a.sendto(b"0123456789", b.getsockname())
    buf = bytearray(4)
    op = run(ring, net.recvmsg(b.fileno(), [buf], name_size=16))
    assert (op.res, op.cqe_flags) == (4, 0)
    assert buf == b"0123"
    assert op.out.msg_flags == socket.MSG_TRUNC
    assert op.out.address == a.getsockname()


def test_udp_sendmsg_to_an_address(ring, udp_pair):
    a, b = udp_pair
    op = run(ring, net.sendmsg(a.fileno(), [b"one", b"-two"], address=b.getsockname()))
    assert op.res == 7
    data, addr = b.recvfrom(64)
    assert (data, addr) == (b"one-two", a.getsockname())


@pytest.mark.skipif(not ipv6_available(), reason="no IPv6 loopback here")
def test_udp_ipv6_sendto_and_recvmsg(ring):
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as a, \
            socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as b:
        a.bind(("::1", 0))
        b.bind(("::1", 0))
        assert run(ring, net.sendto(a.fileno(), b"v6", 0, b.getsockname())).res == 2
        buf = bytearray(8)
        op = run(ring, net.recvmsg(b.fileno(), [buf], name_size=128))
        assert op.res == 2 and op.out.address == a.getsockname()


def test_sendmsg_passes_an_fd_with_scm_rights(ring):
    a, b = socket.socketpair()
    r, w = os.pipe()
    try:
        with a, b:
            op = run(ring, net.sendmsg(a.fileno(), [b"F"], ancillary=[
                (socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [w]))]))
            assert (op.res, op.cqe_flags) == (1, 0)
            msg, anc, flags, _ = b.recvmsg(8, socket.CMSG_SPACE(4))
            assert (msg, flags) == (b"F", 0)
            [(level, kind, data)] = anc
            assert (level, kind) == (socket.SOL_SOCKET, socket.SCM_RIGHTS)
            passed = struct.unpack("i", data)[0]
            os.write(passed, b"through the passed fd")
            os.close(passed)
            assert os.read(r, 64) == b"through the passed fd"
    finally:
        os.close(r)
        os.close(w)


def test_recvmsg_receives_an_fd_in_ancillary_data(ring):
    a, b = socket.socketpair()
    r, w = os.pipe()
    try:
        with a, b:
            a.sendmsg([b"G"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [r]))])
            buf = bytearray(4)
            op = run(ring, net.recvmsg(b.fileno(), [buf], control_size=socket.CMSG_SPACE(4)))
            assert (op.res, op.cqe_flags) == (1, 0)
            assert buf[:1] == b"G" and op.out.msg_flags == 0
            [(level, kind, data)] = op.out.ancillary
            assert (level, kind) == (socket.SOL_SOCKET, socket.SCM_RIGHTS)
            got = struct.unpack("i", data)[0]
            os.write(w, b"ok")
            assert os.read(got, 8) == b"ok"
            os.close(got)
    finally:
        os.close(r)
        os.close(w)


def test_recvmsg_control_truncated(ring):
    a, b = socket.socketpair()
    r, w = os.pipe()
    received: list = []
    try:
        with a, b:
            a.sendmsg([b"H"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [r, w, r]))])
            # CMSG_SPACE(4) rounds up to room for two fds; the third does not fit.
            op = run(ring, net.recvmsg(b.fileno(), [bytearray(4)], control_size=socket.CMSG_SPACE(4)))
            [(level, kind, data)] = op.out.ancillary
            received = list(array.array("i", data))
            assert op.res == 1
            assert op.out.msg_flags == socket.MSG_CTRUNC
            assert (level, kind, len(received)) == (socket.SOL_SOCKET, socket.SCM_RIGHTS, 2)
    finally:
        for fd in received + [r, w]:
            os.close(fd)


# -- zero-copy -------------------------------------------------------------------------

def zc_events(op) -> list:
    """(res, flags, done, pinned) at each CQE, to see what the op held in between."""
    events: list = []
    op.callback = lambda o, res, flags: events.append((res, flags, o.done, o.pinned))
    return events


def test_send_zc_posts_result_then_notification(ring, tcp_pair):
    require_op(Opcode.SEND_ZC)
    a, b = tcp_pair
    payload = bytearray(b"z" * 1000)
    op = ring.queue(net.send_zc(a.fileno(), payload))
    events = zc_events(op)
    wait_until(ring, lambda: op.done)
    # The buffer stays pinned after the result CQE and is released only with F_NOTIF.
    assert events == [(1000, MORE, False, True), (0, NOTIF, True, False)]
    assert (op.res, op.cqe_flags) == (0, NOTIF)
    assert recv_exactly(b, 1000) == bytes(payload)


def test_send_zc_report_usage_says_loopback_copied(ring, tcp_pair):
    require_op(Opcode.SEND_ZC)
    a, b = tcp_pair
    op = ring.queue(net.send_zc(a.fileno(), b"q" * 64, 0, RecvSendFlags.SEND_ZC_REPORT_USAGE))
    events = zc_events(op)
    wait_until(ring, lambda: op.done)
    copied = struct.unpack("=i", struct.pack("=I", IORING_NOTIF_USAGE_ZC_COPIED))[0]
    assert events == [(64, MORE, False, True), (copied, NOTIF, True, False)]
    assert b.recv(128) == b"q" * 64


def test_send_zc_on_a_unix_socket_is_unsupported(ring):
    require_op(Opcode.SEND_ZC)
    a, b = socket.socketpair()
    with a, b:
        op = ring.queue(net.send_zc(a.fileno(), b"x"))
        events = zc_events(op)
        wait_until(ring, lambda: op.done)
        # Failure still comes as result (F_MORE) + notification.
        assert events == [(-errno.EOPNOTSUPP, MORE, False, True), (0, NOTIF, True, False)]


@pytest.fixture
def registered_region(ring):
    """A 4 KiB mmap registered as fixed buffer 0 (unregistered at teardown)."""
    region = mmap.mmap(-1, 4096)
    pin = Pin(region, True)
    ring._register(RegisterOp.BUFFERS, bytearray(struct.pack("=QQ", pin.addr, 4096)), 1)
    yield region
    ring._register(RegisterOp.UNREGISTER_BUFFERS)
    del pin


def test_send_zc_fixed_from_a_registered_buffer(ring, tcp_pair, registered_region):
    require_op(Opcode.SEND_ZC)
    a, b = tcp_pair
    registered_region[:11] = b"registered!"
    op = ring.queue(net.send_zc_fixed(a.fileno(), memoryview(registered_region)[:11], 0, 0, 0))
    events = zc_events(op)
    wait_until(ring, lambda: op.done)
    assert events == [(11, MORE, False, True), (0, NOTIF, True, False)]
    assert b.recv(64) == b"registered!"


def test_sendmsg_zc_fixed_gathers_from_a_registered_buffer(ring, tcp_pair, registered_region):
    require_op(Opcode.SENDMSG_ZC)
    a, b = tcp_pair
    registered_region[:16] = b"fixed-and-vector"
    view = memoryview(registered_region)
    op = ring.queue(net.sendmsg_zc_fixed(a.fileno(), [view[:6], view[6:16]], 0, 0))
    events = zc_events(op)
    wait_until(ring, lambda: op.done)
    if events[0][0] == -errno.EINVAL:
        pytest.skip(f"registered buffers for SENDMSG_ZC unsupported on {os.uname().release}")
    assert events == [(16, MORE, False, True), (0, NOTIF, True, False)]
    assert recv_exactly(b, 16) == b"fixed-and-vector"


def test_sendmsg_zc_posts_result_then_notification(ring, udp_pair):
    require_op(Opcode.SENDMSG_ZC)
    a, b = udp_pair
    op = ring.queue(net.sendmsg_zc(a.fileno(), [b"zero", b"copy"], address=b.getsockname()))
    events = zc_events(op)
    wait_until(ring, lambda: op.done)
    assert events == [(8, MORE, False, True), (0, NOTIF, True, False)]
    assert b.recvfrom(64) == (b"zerocopy", a.getsockname())


# -- provided buffers ----------------------------------------------------------------------

def test_recv_select_picks_a_provided_buffer(ring, tcp_pair):
    a, b = tcp_pair
    with BufferRing(ring, bgid=2, entries=2, buf_size=32) as br:
        b.sendall(b"selected")
        op = run(ring, net.recv_select(a.fileno(), 0, buf_group=2))
        assert (op.res, op.cqe_flags) == (8, BUFFER | (0 << 16))
        assert op.buffer_id == 0
        assert br.get(0, op.res) == b"selected"
        b.sendall(b"capped at 3")
        op = run(ring, net.recv_select(a.fileno(), 3, buf_group=2))
        assert (op.res, op.cqe_flags) == (3, BUFFER | NONEMPTY | (1 << 16))  # 8 bytes left
        assert br.get(1, 3) == b"cap"


def test_recv_multishot_with_a_buffer_ring_until_enobufs(ring, tcp_pair):
    a, b = tcp_pair
    with BufferRing(ring, bgid=3, entries=4, buf_size=16) as br:
        op = ring.queue(net.recv_multishot(a.fileno(), buf_group=3))
        events = record(op)
        ring.submit()
        chunks = [b"A", b"BB", b"CCC", b"DDDD", b"EEEEE"]
        received = []
        for i, chunk in enumerate(chunks):
            b.sendall(chunk)  # one at a time so each is its own CQE
            wait_until(ring, lambda: len(events) == i + 1)
            res, flags = events[-1]
            bid, data = br.from_cqe(res, flags)
            received.append((bid, bytes(data)))
            if i == 0:
                br.recycle(bid)  # bid 0 goes back at the tail, after 1..3
        assert events == [(len(c), MORE | BUFFER | (bid << 16))
                          for c, (bid, _) in zip(chunks, received)]
        assert received == [(0, b"A"), (1, b"BB"), (2, b"CCC"), (3, b"DDDD"), (0, b"EEEEE")]
        assert br.available == 0
        # The group is dry, yet the op stays armed until data arrives and finds no buffer:
        # then -ENOBUFS ends it without F_MORE (and without a buffer).
        ring.peek()
        assert not op.done
        b.sendall(b"F")
        wait_until(ring, lambda: op.done)
        assert events[-1] == (-errno.ENOBUFS, 0)
        assert (op.res, op.cqe_flags) == (-errno.ENOBUFS, 0)
        # Re-arming after a refill picks the waiting byte up.
        br.recycle(1, 2)
        op = run(ring, net.recv_select(a.fileno(), 0, buf_group=3))
        assert (op.res, op.cqe_flags) == (1, BUFFER | (1 << 16))
        assert br.get(1, 1) == b"F"


def test_recv_multishot_ends_at_eof(ring, tcp_pair):
    a, b = tcp_pair
    with BufferRing(ring, bgid=4, entries=2, buf_size=8) as br:
        op = ring.queue(net.recv_multishot(a.fileno(), buf_group=4))
        events = record(op)
        ring.submit()
        b.sendall(b"last")
        wait_until(ring, lambda: len(events) == 1)
        b.shutdown(socket.SHUT_WR)
        wait_until(ring, lambda: op.done)
        assert events == [(4, MORE | BUFFER), (0, NONEMPTY)]  # NONEMPTY: the FIN
        assert br.get(0, 4) == b"last"


def test_recvmsg_multishot_decodes_each_datagram(ring, udp_pair):
    a, b = udp_pair
    with BufferRing(ring, bgid=5, entries=4, buf_size=256) as br:
        op = ring.queue(net.recvmsg_multishot(b.fileno(), 0, 5, name_size=16))
        events = record(op)
        ring.submit()
        for i, payload in enumerate([b"first", b"second!"]):
            a.sendto(payload, b.getsockname())
            wait_until(ring, lambda: len(events) == i + 1)
        header = op.out.header_size
        assert header == 16 + 16
        assert events == [(header + 5, MORE | BUFFER), (header + 7, MORE | BUFFER | (1 << 16))]
        msgs = [op.out.parse(br.get(flags >> 16, res)) for res, flags in events]
        assert [bytes(m.data) for m in msgs] == [b"first", b"second!"]
        assert [m.address for m in msgs] == [a.getsockname()] * 2
        assert [(m.msg_flags, m.payload_length, m.ancillary) for m in msgs] == [(0, 5, []), (0, 7, [])]
        ring.queue(cancel_sqe(op))
        wait_until(ring, lambda: op.done and ring.in_flight == 0)
        assert events[2:] == [(-errno.ECANCELED, 0)]


def test_send_bundle_sends_queued_buffers_in_one_go(ring, tcp_pair):
    if not ring.features & Features.RECVSEND_BUNDLE:
        pytest.skip(f"IORING_FEAT_RECVSEND_BUNDLE unsupported on {os.uname().release}")
    a, b = tcp_pair
    with BufferRing(ring, bgid=6, entries=4, buf_size=16, populate=False) as br:
        br.put(0, b"abc")
        br.put(1, b"defg")
        assert br.available == 2
        op = run(ring, net.send_bundle(a.fileno(), 0).set(buf_group=6))
        assert (op.res, op.cqe_flags) == (7, BUFFER | (0 << 16))
        assert br.available == 0
        assert b.recv(64) == b"abcdefg"


def test_send_bundle_capped_rounds_post_more_cqes(ring, tcp_pair):
    if not ring.features & Features.RECVSEND_BUNDLE:
        pytest.skip(f"IORING_FEAT_RECVSEND_BUNDLE unsupported on {os.uname().release}")
    a, b = tcp_pair
    with BufferRing(ring, bgid=6, entries=4, buf_size=16, populate=False) as br:
        br.put(0, b"abc")
        br.put(1, b"defgh")
        br.put(2, b"ij")
        op = ring.queue(net.send_bundle(a.fileno(), 5).set(buf_group=6))
        events = record(op)
        wait_until(ring, lambda: op.done)
        # The first round fits only buffer 0 under the 5-byte cap and says F_MORE; the
        # next round takes the rest.
        assert events == [(3, MORE | BUFFER), (7, BUFFER | (1 << 16))]
        assert b.recv(64) == b"abcdefghij"


def test_send_bundle_from_an_empty_group_fails(ring, tcp_pair):
    a, _ = tcp_pair
    with BufferRing(ring, bgid=6, entries=2, buf_size=16, populate=False):
        op = run(ring, net.send_bundle(a.fileno(), 0).set(buf_group=6))
        assert (op.res, op.cqe_flags) == (-errno.ENOBUFS, 0)


# -- socket uring_cmd ----------------------------------------------------------------------

def socket_cmd(ring, sqe: Sqe):
    op = run(ring, sqe)
    if op.res == -errno.EOPNOTSUPP and sqe.off == SocketCmd.GETSOCKNAME:
        pytest.skip(f"SOCKET_URING_OP_GETSOCKNAME unsupported on {os.uname().release}")
    return op


def test_cmd_getsockname_and_getpeername(ring, tcp_pair):
    require_op(Opcode.URING_CMD)
    a, b = tcp_pair
    op = socket_cmd(ring, net.cmd_getsockname(a.fileno()))
    assert (op.res, op.out.address) == (0, a.getsockname())
    op = socket_cmd(ring, net.cmd_getsockname(a.fileno(), peer=True))
    assert (op.res, op.out.address) == (0, b.getsockname())


def test_cmd_sock_siocinq_and_siocoutq(ring, tcp_pair):
    require_op(Opcode.URING_CMD)
    a, b = tcp_pair
    b.sendall(b"12345")
    assert run(ring, net.cmd_sock(SocketCmd.SIOCINQ, a.fileno())).res == 5
    assert run(ring, net.cmd_sock(SocketCmd.SIOCOUTQ, a.fileno())).res == 0


def test_cmd_sock_setsockopt_and_getsockopt(ring, tcp_pair):
    require_op(Opcode.URING_CMD)
    a, _ = tcp_pair
    assert a.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0
    op = run(ring, net.cmd_sock(SocketCmd.SETSOCKOPT, a.fileno(), socket.SOL_SOCKET,
                                socket.SO_KEEPALIVE, 1))
    assert (op.res, op.cqe_flags) == (0, 0)
    assert a.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    value = bytearray(4)
    op = run(ring, net.cmd_sock(SocketCmd.GETSOCKOPT, a.fileno(), socket.SOL_SOCKET,
                                socket.SO_RCVBUF, value))
    assert op.res == 4
    assert struct.unpack("=i", value)[0] == a.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)


def test_cmd_sock_getsockopt_only_at_socket_level(ring, tcp_pair):
    require_op(Opcode.URING_CMD)
    a, _ = tcp_pair
    op = run(ring, net.cmd_sock(SocketCmd.GETSOCKOPT, a.fileno(), socket.IPPROTO_TCP,
                                socket.TCP_NODELAY, bytearray(4)))
    assert op.res == -errno.EOPNOTSUPP


# -- as Ring methods -------------------------------------------------------------------

def test_helpers_as_ring_methods(ring):
    require_op(Opcode.SOCKET, Opcode.BIND, Opcode.LISTEN)
    fd = ring.run(net.socket(socket.AF_INET, socket.SOCK_STREAM), timeout=5)
    with socket.socket(fileno=fd) as srv:
        ring.wait_for(ring.bind(fd, (LOCALHOST, 0), sqe_flags=SqeFlags.IO_LINK), ring.listen(fd, 4), timeout=5)
        with socket.create_connection(srv.getsockname(), timeout=5) as client:
            op = ring.accept(fd, want_address=True)
            conn_fd, = ring.wait_for(op, timeout=5)
            os.close(conn_fd)
            assert op.out.address == client.getsockname()


def test_ring_methods_keep_the_helpers_own_flags_and_buf_group(ring, tcp_pair):
    a, b = tcp_pair
    with BufferRing(ring, bgid=12, entries=2, buf_size=16) as br:
        recv = ring.recv_multishot(b.fileno(), buf_group=12)   # the helper's own buf_group
        events = record(recv)
        send = ring.send(a.fileno(), b"method", flags=socket.MSG_DONTWAIT)  # MSG_* flags
        assert send.sqe_flags == 0
        wait_until(ring, lambda: send.done and events)
        assert (send.res, events[0]) == (6, (6, MORE | BUFFER))
        assert br.get(0, 6) == b"method"
        ring.queue(cancel_sqe(recv))
        wait_until(ring, lambda: recv.done and ring.in_flight == 0)
        assert (recv.res, recv.cqe_flags) == (-errno.ECANCELED, 0)


def test_recv_zc_without_a_zcrx_queue_is_refused(ring):
    """Zero-copy receive needs a NIC queue registered with IORING_REGISTER_ZCRX_IFQ (none
    exists on loopback): the kernel answers the SQE with -EINVAL."""
    require_op(Opcode.RECV_ZC)
    a, b = socket.socketpair()
    try:
        op = run(ring, net.recv_zc(a.fileno(), 0, 0))
        assert (op.res, op.cqe_flags) == (-errno.EINVAL, 0)
    finally:
        a.close()
        b.close()
