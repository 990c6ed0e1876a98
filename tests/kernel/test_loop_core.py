"""Loop scheduling on asyncio's loop and on uring.EventLoop (asyncio is the oracle):
callbacks, timers, threads, executors, errors, entry points and ring ops on the loop."""

from __future__ import annotations

import asyncio
import contextvars
import os
import sys
import threading

import pytest


def test_call_soon_order_and_cancel(any_loop):
    seen = []
    any_loop.call_soon(seen.append, 1)
    h = any_loop.call_soon(seen.append, 2)
    any_loop.call_soon(seen.append, 3)
    h.cancel()
    assert h.cancelled()
    any_loop.call_soon(any_loop.stop)
    any_loop.run_forever()
    assert seen == [1, 3]
    assert "cancelled" in repr(h)


def test_call_soon_runs_in_given_context(any_loop):
    var = contextvars.ContextVar("var", default="none")
    ctx = contextvars.copy_context()
    ctx.run(var.set, "inside")
    seen = []
    any_loop.call_soon(lambda: seen.append(var.get()), context=ctx)
    any_loop.call_soon(any_loop.stop)
    any_loop.run_forever()
    assert seen == ["inside"]


def test_chain_scheduled_by_callbacks_waits_for_next_iteration(any_loop):
    seen = []

    def first():
        seen.append("first")
        any_loop.call_soon(seen.append, "scheduled-by-first")

    any_loop.call_soon(first)
    any_loop.call_soon(seen.append, "second")
    any_loop.call_soon(any_loop.stop)
    any_loop.run_forever()
    assert seen == ["first", "second"]
    any_loop.call_soon(any_loop.stop)
    any_loop.run_forever()
    assert seen[-1] == "scheduled-by-first"


def test_timers_order_negative_delay_and_cancel(any_loop):
    seen = []
    any_loop.call_later(0.03, seen.append, "30ms")
    any_loop.call_later(0.01, seen.append, "10ms")
    any_loop.call_later(-5, seen.append, "negative")      # asyncio: due now, after call_soon
    cancelled = any_loop.call_later(0.02, seen.append, "never")
    at = any_loop.call_at(any_loop.time() + 0.02, seen.append, "20ms")
    assert isinstance(at, asyncio.TimerHandle) and at.when() > any_loop.time()
    any_loop.call_soon(seen.append, "soon")
    cancelled.cancel()
    any_loop.call_later(0.05, any_loop.stop)
    t0 = any_loop.time()
    any_loop.run_forever()
    assert any_loop.time() - t0 >= 0.049
    assert seen == ["soon", "negative", "10ms", "20ms", "30ms"]


def test_sleep_rounding_does_not_spin(any_loop):
    async def main():
        for delay in (1e-2, 1e-3, 1e-5, 1e-8, 1e-10):
            await asyncio.sleep(delay)
    any_loop.run_until_complete(main())


def test_call_soon_threadsafe_wakes_a_sleeping_loop(any_loop):
    seen = []

    def other():
        any_loop.call_soon_threadsafe(seen.append, threading.get_ident())
        any_loop.call_soon_threadsafe(any_loop.stop)

    any_loop.call_later(0.02, threading.Thread(target=other).start)
    watchdog = any_loop.call_later(5, any_loop.stop)
    any_loop.run_forever()
    watchdog.cancel()
    assert len(seen) == 1 and seen[0] != threading.get_ident()


def test_run_in_executor_and_default_executor(any_loop):
    from concurrent.futures import ThreadPoolExecutor

    async def main():
        a = await any_loop.run_in_executor(None, sum, [1, 2, 3])
        with ThreadPoolExecutor(1) as pool:
            any_loop.set_default_executor(pool)
            b = await any_loop.run_in_executor(None, pow, 2, 10)
        return a, b

    assert any_loop.run_until_complete(main()) == (6, 1024)


def test_exception_in_callback_reaches_the_handler(any_loop):
    got = []
    any_loop.set_exception_handler(lambda loop, ctx: got.append(ctx))

    def boom():
        raise ZeroDivisionError("x")

    handle = any_loop.call_soon(boom)
    any_loop.call_soon(any_loop.stop)
    any_loop.run_forever()
    assert len(got) == 1
    assert isinstance(got[0]["exception"], ZeroDivisionError)
    assert got[0]["handle"] is handle
    assert got[0]["message"].startswith("Exception in callback")


def test_closed_loop_refuses_callbacks(any_loop):
    any_loop.close()
    with pytest.raises(RuntimeError, match="Event loop is closed"):
        any_loop.call_soon(print)
    with pytest.raises(RuntimeError, match="Event loop is closed"):
        any_loop.call_later(1, print)


def test_debug_mode_warns_about_slow_callbacks(any_loop, caplog):
    import time
    any_loop.set_debug(True)
    any_loop.slow_callback_duration = 0.01
    h = any_loop.call_soon(time.sleep, 0.02)
    assert h._source_traceback, "debug mode records where a handle was created"
    any_loop.call_soon(any_loop.stop)
    with caplog.at_level("WARNING", logger="asyncio"):
        any_loop.run_forever()
    assert any("took" in r.getMessage() for r in caplog.records)
    any_loop.set_debug(False)


def test_task_factory_and_asyncgens(any_loop):
    made = []

    def factory(loop, coro, **kwargs):
        made.append(coro)
        return asyncio.Task(coro, loop=loop, **kwargs)

    any_loop.set_task_factory(factory)
    closed = []

    async def agen():
        try:
            yield 1
            yield 2
        finally:
            closed.append(True)

    async def main():
        g = agen()
        assert await g.__anext__() == 1
        return await asyncio.gather(asyncio.sleep(0, "a"), asyncio.sleep(0, "b"))

    assert any_loop.run_until_complete(main()) == ["a", "b"]
    assert len(made) >= 3
    any_loop.run_until_complete(any_loop.shutdown_asyncgens())
    assert closed == [True]
    any_loop.set_task_factory(None)


def test_entry_points():
    import uring
    from uring.loop import EventLoop

    async def main():
        return type(asyncio.get_running_loop())

    assert uring.run(main()) is EventLoop
    with asyncio.Runner(loop_factory=uring.new_event_loop) as runner:
        assert runner.run(main()) is EventLoop
    old = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(uring.EventLoopPolicy())
    try:
        assert asyncio.run(main()) is EventLoop
    finally:
        asyncio.set_event_loop_policy(old)


def test_import_uring_does_not_import_asyncio():
    import subprocess
    code = "import sys, uring; print('asyncio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_ring_ops_complete_inside_the_loop_wait(fd_guard):
    """The aio contract: an op queued on loop._uring_ring() with a callback completes in
    the loop's own wait, with no readiness hop."""
    import uring
    r, w = os.pipe()
    try:
        async def main():
            loop = asyncio.get_running_loop()
            ring = loop._uring_ring()
            fut = loop.create_future()
            buf = bytearray(5)
            ring.read(r, buf, callback=lambda op, res, flags: fut.set_result(res))
            loop.call_later(0.01, os.write, w, b"hello")
            res = await fut
            return res, bytes(buf)

        assert uring.run(main()) == (5, b"hello")
    finally:
        os.close(r)
        os.close(w)
