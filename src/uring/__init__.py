"""uring: all of Linux io_uring for Python.

Ring setup, every opcode's prep helper, linked and drained requests, timeouts, cancel,
registered files and buffers, provided buffers, multishot, probing and SQPOLL.
"""
from uring import uapi
from uring._core import Op, Pin, Sqe
from uring.errors import (
    Cancelled, ChainBroken, LinkTimedOut, NotDone, RingClosed, RingForked,
    SubmissionQueueFull, UnsupportedFeature, UnsupportedOperation, UringError,
)
from uring.chain import Chain, Member, Outcome
from uring.ring import Ring

__all__ = [
    "Ring", "Op", "Sqe", "Pin", "uapi", "Chain", "Member", "Outcome",
    "UringError", "RingClosed", "RingForked", "NotDone", "SubmissionQueueFull",
    "UnsupportedOperation", "UnsupportedFeature", "Cancelled", "ChainBroken", "LinkTimedOut",
    "EventLoop", "EventLoopPolicy", "new_event_loop", "run",
]

_LOOP_NAMES = ("EventLoop", "EventLoopPolicy", "new_event_loop", "run")


def __getattr__(name: str):
    # The event loop imports asyncio: load it on first use so `import uring` stays cheap.
    if name in _LOOP_NAMES:
        from uring import loop
        return getattr(loop, name)
    raise AttributeError(f"module 'uring' has no attribute {name!r}")
