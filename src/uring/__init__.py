"""uring: all of Linux io_uring for Python.

Ring setup, every opcode's prep helper, linked and drained requests, timeouts, cancel,
registered files and buffers, provided buffers, multishot, probing and SQPOLL.
"""
from uring import uapi
from uring._core import Op, Pin, Sqe
# The flag enums, for users; hot paths compare plain ints (CQE flags reach callbacks as int).
from uring._uapi import (
    CancelFlags, CqeFlags, EnterFlags, Features, Opcode, PollFlags, RecvSendFlags, SetupFlags,
    SqeFlags, TimeoutFlags,
)
from uring.errors import (
    Cancelled, ChainBroken, InvalidSetup, LinkTimedOut, NotDone, RingClosed, RingForked,
    SubmissionQueueFull, UnsupportedFeature, UnsupportedOperation, UringError,
)
from uring.chain import Chain, Member, Outcome
from uring.ring import Ring

__all__ = [
    "Ring", "Op", "Sqe", "Pin", "uapi", "Chain", "Member", "Outcome",
    "UringError", "RingClosed", "RingForked", "NotDone", "SubmissionQueueFull",
    "UnsupportedOperation", "UnsupportedFeature", "InvalidSetup", "Cancelled", "ChainBroken",
    "LinkTimedOut", "SqeFlags", "CqeFlags", "SetupFlags", "EnterFlags", "Features", "Opcode",
    "TimeoutFlags", "PollFlags", "CancelFlags", "RecvSendFlags",
    "EventLoop", "EventLoopPolicy", "new_event_loop", "run",
]

_LOOP_NAMES = ("EventLoop", "EventLoopPolicy", "new_event_loop", "run")


def __getattr__(name: str):
    # The event loop imports asyncio: load it on first use so `import uring` stays cheap.
    if name in _LOOP_NAMES:
        from uring import loop
        return getattr(loop, name)
    raise AttributeError(f"module 'uring' has no attribute {name!r}")
