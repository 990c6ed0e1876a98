"""asyncio's sock_* coroutines (recv, recv_into, recvfrom, recvfrom_into, sendall, sendto,
connect, accept, sendfile) with its signatures and errors, done through the loop's ring.
Each call is one one-shot op, as each asyncio call asks for one result; the multishot forms
(`aio.accept_multishot`, `aio.recv_multishot` from a buffer ring) serve loops that want many."""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Any

from uring import ops as _ops
from uring.aio import _fast
from uring.aio.ops import submit

__all__ = ["sock_recv", "sock_recv_into", "sock_recvfrom", "sock_recvfrom_into", "sock_sendall",
           "sock_sendto", "sock_connect", "sock_accept", "sock_sendfile"]

_NAME = 128   # sockaddr_storage


def _check(sock: socket.socket) -> int:
    try:
        import ssl
        if isinstance(sock, ssl.SSLSocket):
            raise TypeError("Socket cannot be of type SSLSocket")
    except ImportError:
        pass
    if sock.gettimeout() != 0:
        raise ValueError("the socket must be non-blocking")
    return sock.fileno()


async def sock_recv(sock: socket.socket, n: int) -> bytes:
    """Receive up to n bytes (b'' at EOF)."""
    fd = _check(sock)
    buf = bytearray(n)
    got = await _fast.recv(fd, buf, 0)
    del buf[got:]
    return bytes(buf)


async def sock_recv_into(sock: socket.socket, buf: Any) -> int:
    """Receive into buf; returns the byte count."""
    fd = _check(sock)
    return await _fast.recv(fd, buf, 0)


async def sock_recvfrom_into(sock: socket.socket, buf: Any, nbytes: int = 0) -> tuple[int, Any]:
    """Receive a datagram into buf (at most nbytes, 0 = all of buf); (count, address)."""
    fd = _check(sock)
    view = memoryview(buf).cast("B")
    if nbytes:
        view = view[:nbytes]
    n, out = await submit(_ops.recvmsg(fd, [view], 0, name_size=_NAME))
    return n, out.address


async def sock_recvfrom(sock: socket.socket, bufsize: int) -> tuple[bytes, Any]:
    """Receive a datagram of up to bufsize bytes; (data, address)."""
    buf = bytearray(bufsize)
    n, address = await sock_recvfrom_into(sock, buf)
    return bytes(buf[:n]), address


async def sock_sendall(sock: socket.socket, data: Any) -> None:
    """Send all of data (one send in flight at a time, so the stream keeps its order)."""
    fd = _check(sock)
    view = memoryview(data).cast("B")
    while view:
        n = await _fast.send(fd, view, 0)
        view = view[n:]


async def sock_sendto(sock: socket.socket, data: Any, address: Any) -> int:
    """Send a datagram to address; returns the bytes sent."""
    fd = _check(sock)
    address = await _resolve(sock, address)
    return await submit(_ops.sendto(fd, data, 0, address, sock.family))


async def _resolve(sock: socket.socket, address: Any) -> Any:
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple):
        return address
    host, port = address[:2]
    try:
        socket.inet_pton(sock.family, host)
        return address
    except (OSError, TypeError, ValueError):
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, family=sock.family, type=sock.type,
                                                        proto=sock.proto)
    return infos[0][4]


async def sock_connect(sock: socket.socket, address: Any) -> None:
    """Connect (resolving a host name first, as asyncio does)."""
    fd = _check(sock)
    address = await _resolve(sock, address)
    await submit(_ops.connect(fd, address, sock.family))


async def sock_accept(sock: socket.socket) -> tuple[socket.socket, Any]:
    """Accept a connection: (a non-blocking socket, the peer's address). An fd accepted for
    a task cancelled meanwhile is closed."""
    fd = _check(sock)
    new_fd, out = await submit(_ops.accept(fd, os.O_CLOEXEC, want_address=True))
    conn = socket.socket(sock.family, sock.type, sock.proto, fileno=new_fd)
    conn.setblocking(False)
    return conn, out.address


async def sock_sendfile(sock: socket.socket, file: Any, offset: int = 0, count: int | None = None, *,
                        fallback: bool = True) -> int:
    """Send count bytes (None: to EOF) of a regular binary file from offset, with splice
    through a pipe (file -> pipe -> socket); the file position ends after what was sent,
    as asyncio leaves it."""
    fd = _check(sock)
    if "b" not in getattr(file, "mode", "b"):
        raise ValueError("file should be opened in binary mode")
    if not sock.type == socket.SOCK_STREAM:
        raise ValueError("only SOCK_STREAM type sockets are supported")
    if count is not None and (not isinstance(count, int) or count <= 0):
        raise ValueError(f"count must be a positive integer (got {count!r})")
    if not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be a non-negative integer (got {offset!r})")
    in_fd = file.fileno()
    size = os.fstat(in_fd).st_size
    end = size if count is None else min(size, offset + count)
    r, w = os.pipe2(os.O_CLOEXEC)
    sent = 0
    try:
        while offset + sent < end:
            chunk = min(end - offset - sent, 1 << 20)
            moved = await submit(_ops.splice(in_fd, offset + sent, w, -1, chunk))
            if moved == 0:
                break
            left = moved
            while left:
                left -= await submit(_ops.splice(r, -1, fd, -1, left))
            sent += moved
    finally:
        os.close(r)
        os.close(w)
        if sent:
            file.seek(offset + sent)
    return sent
