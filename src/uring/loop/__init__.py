"""An asyncio event loop on io_uring: `uring.loop.EventLoop`, `run`, `new_event_loop` and
`EventLoopPolicy` (also reachable as `uring.EventLoop`, ... without importing asyncio early)."""

from uring.loop._loop import EventLoop, EventLoopPolicy, new_event_loop, run

__all__ = ["EventLoop", "EventLoopPolicy", "new_event_loop", "run"]
