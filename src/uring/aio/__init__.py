"""asyncio on io_uring: every operation of `uring.ops` awaitable on the running loop (one
ring per loop), aiofiles-compatible files, os/os.path/tempfile helpers and sockets."""

from uring.aio._driver import configure, get_driver, get_ring
from uring.aio.ops import *  # noqa: F401,F403
from uring.aio import ops as _ops_module
from uring.aio.files import open, wrap, stdin, stdout, stderr, stdin_bytes, stdout_bytes, stderr_bytes
from uring.aio.multishot import Event, Multishot, multishot, accept_multishot
from uring.aio.whole import read_bytes, read_text, write_bytes, write_text
from uring.aio import os, tempfile  # noqa: F401  (aiofiles.os, aiofiles.tempfile)
from uring.aio.sockets import (sock_recv, sock_recv_into, sock_recvfrom, sock_recvfrom_into, sock_sendall,
                               sock_sendto, sock_connect, sock_accept, sock_sendfile)

__all__ = ["configure", "get_driver", "get_ring", "open", "wrap", "stdin", "stdout", "stderr",
           "stdin_bytes", "stdout_bytes", "stderr_bytes", "Event", "Multishot", "multishot",
           "accept_multishot", "read_bytes", "read_text", "write_bytes",
           "write_text", "os", "tempfile", "sock_recv", "sock_recv_into", "sock_recvfrom", "sock_recvfrom_into",
           "sock_sendall", "sock_sendto", "sock_connect", "sock_accept", "sock_sendfile",
           *_ops_module.__all__]
