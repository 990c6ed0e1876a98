"""asyncio on io_uring: every operation of `uring.ops` awaitable on the running loop (one
ring per loop), aiofiles-compatible files, os/os.path/tempfile helpers and sockets."""

from uring.aio._driver import configure, get_driver, get_ring
from uring.aio.ops import *  # noqa: F401,F403
from uring.aio import ops as _ops_module
from uring.aio.files import open, wrap, stdin, stdout, stderr, stdin_bytes, stdout_bytes, stderr_bytes

__all__ = ["configure", "get_driver", "get_ring", "open", "wrap", "stdin", "stdout", "stderr",
           "stdin_bytes", "stdout_bytes", "stderr_bytes", *_ops_module.__all__]
