"""Helpers of the uring.aio tests: run a coroutine on the stdlib loop or on uvloop (the
`loop_name` parameter every aio test takes), with the loop closed at the end."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

import pytest

LOOPS = ["asyncio", "uvloop"]
# uring.loop.EventLoop owns its ring (`_uring_ring()`): uring.aio uses it as is.
ALL_LOOPS = LOOPS + ["uring"]


def new_loop(name: str) -> asyncio.AbstractEventLoop:
    if name == "uvloop":
        uvloop = pytest.importorskip("uvloop")
        return uvloop.new_event_loop()
    if name == "uring":
        from uring.loop import new_event_loop
        return new_event_loop()
    return asyncio.new_event_loop()


def run(name: str, main: Callable[[], Awaitable[Any]], timeout: float = 20.0) -> Any:
    """Run main() on a fresh loop of kind `name`, then cancel leftovers and close the loop."""
    loop = new_loop(name)
    try:
        return loop.run_until_complete(asyncio.wait_for(main(), timeout))
    finally:
        try:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for t in pending:
                t.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        finally:
            loop.close()


def _warm_up_uvloop() -> None:
    # uvloop opens a process-wide pipe the first time a loop runs: make that happen before
    # any test's fd_guard takes its snapshot.
    try:
        import uvloop
    except ImportError:
        return
    loop = uvloop.new_event_loop()
    try:
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        loop.close()


_warm_up_uvloop()
