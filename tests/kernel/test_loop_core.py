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


def _in_thread(fn):
    out = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join()
    return out[0]


def test_ring_issuer_is_the_thread_that_runs_the_loop(fd_guard):
    """The loop's ring is SINGLE_ISSUER | DEFER_TASKRUN, created disabled: built in one
    thread, it is enabled by the first thread that runs it (here another one, which then
    also closes it cleanly); other threads are told why they may not run it."""
    import warnings
    from uring._uapi import SetupFlags
    from uring.loop import new_event_loop

    async def echo_once():
        # A receive and a poll complete as deferred task work, run in the loop's enter.
        async def handle(reader, writer):
            writer.write(await reader.read(100))
            await writer.drain()
            writer.close()
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname())
        writer.write(b"ping")
        data = await reader.read(100)
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return data

    loop = new_event_loop()
    ring = loop._uring_ring()
    if not ring.setup_flags & SetupFlags.DEFER_TASKRUN:
        loop.close()
        pytest.skip("the kernel has no DEFER_TASKRUN (6.1): the loop uses COOP_TASKRUN")
    assert ring.setup_flags & SetupFlags.SINGLE_ISSUER and ring.issuer_thread is None
    # Queued here (self-pipe poll), submitted by the thread that runs the loop.
    ident = []

    def run_and_close():
        ident.append(threading.get_ident())
        data = loop.run_until_complete(echo_once())
        assert ring.issuer_thread == ident[0]
        return data

    assert _in_thread(run_and_close) == b"ping"
    with pytest.raises(RuntimeError, match="first run in another thread"):
        loop.run_until_complete(asyncio.sleep(0))
    assert not loop.is_running()
    # Closing from a thread the kernel refuses: what is armed (the self-pipe poll) cannot
    # be cancelled from here, so its memory is kept alive rather than freed under the
    # kernel, and said so; nothing raises and no fd is left open.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loop.close()
    assert any("kept alive" in str(w.message) for w in caught)
    assert ring.closed


def test_loop_built_here_run_and_closed_in_another_thread(fd_guard):
    """asyncio.run in a worker thread with a loop made by the factory: the usual way a
    loop lives in a thread; enabled, run and closed there without a warning."""
    import uring
    import warnings

    async def main():
        await asyncio.sleep(0.001)
        return threading.get_ident()

    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        worker = _in_thread(lambda: (uring.run(main()), threading.get_ident()))
    assert worker[0] == worker[1]
