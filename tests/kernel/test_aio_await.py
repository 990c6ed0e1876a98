"""How an OpFuture is awaited and how its waiters are woken: the C slots (am_send,
tp_iternext) that hand back results without a Python-level StopIteration, the C Task woken
through a finished native future, pure-Python tasks and other callbacks woken with the
OpFuture itself, and done-callbacks that raise while our dispatch runs them."""

from __future__ import annotations

import asyncio
import errno
import os

import pytest

from tests.kernel.aio_support import ALL_LOOPS, run
from uring import aio, ops
from uring.aio._fast import queue

pytestmark = pytest.mark.parametrize("loop_name", ALL_LOOPS)


def test_results_errors_and_tuples_through_await(loop_name, tmp_path, fd_guard):
    path = tmp_path / "f"
    path.write_bytes(b"0123456789")

    async def main():
        fd = os.open(path, os.O_RDONLY)
        try:
            buf = bytearray(4)
            got = [await aio.read(fd, buf, 4, 3), bytes(buf)]
            res, st = await aio.statx(ops.AT_FDCWD, str(path), 0, 0x7FF)   # a tuple result
            got.append((res, st.st_size))
            fut = queue(ops.nop(), convert=lambda op, res: ("a", "tuple"))
            got.append(await fut)
            with pytest.raises(OSError) as info:
                await aio.read(-1, buf)
            assert info.value.errno == errno.EBADF
            return got
        finally:
            os.close(fd)
    assert run(loop_name, main) == [4, b"3456", (0, 10), ("a", "tuple")]


def test_iterator_protocol_by_hand(loop_name, fd_guard):
    async def main():
        fut = aio.nop()
        it = fut.__await__()
        assert next(it) is fut and fut._asyncio_future_blocking   # pending: yields itself
        fut._asyncio_future_blocking = False
        await asyncio.wait([fut])
        with pytest.raises(StopIteration) as info:
            next(it)
        assert info.value.value == 0
        gen_result = None

        def gen():
            nonlocal gen_result
            gen_result = yield from queue(ops.nop(), convert=lambda op, res: (1, 2)).__await__()
        g = gen()
        pending = g.send(None)
        await asyncio.wait([pending])
        with pytest.raises(StopIteration):
            g.send(None)
        return gen_result
    assert run(loop_name, main) == (1, 2)


def test_python_task_and_plain_callbacks_see_the_opfuture(loop_name, fd_guard):
    from asyncio.tasks import _PyTask

    async def body():
        total = 0
        for _ in range(50):
            total += await aio.nop() + 1
        return total

    async def main():
        loop = asyncio.get_running_loop()
        py = _PyTask(body(), loop=loop)         # wakes through a bound method, not task_wakeup
        seen = []
        fut = aio.nop()
        fut.add_done_callback(seen.append)
        c = await asyncio.gather(body(), py, fut)
        assert seen == [fut]
        return c
    assert run(loop_name, main) == [50, 50, 0]


def test_raising_done_callback_is_reported_and_others_still_wake(loop_name, fd_guard):
    errors = []

    def boom(fut):
        raise ValueError("from a done-callback")

    async def waiter(i):
        await aio.nop()
        return i

    async def main():
        asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: errors.append(ctx["exception"]))
        fut = aio.nop()
        fut.add_done_callback(boom)
        got = await asyncio.gather(*(waiter(i) for i in range(10)), fut)
        await asyncio.sleep(0)
        return got
    assert run(loop_name, main) == list(range(10)) + [0]
    assert len(errors) == 1 and isinstance(errors[0], ValueError)


def test_tasks_wake_inside_the_wait_of_our_loop(loop_name, fd_guard):
    if loop_name != "uring":
        pytest.skip("only uring.loop marks its waits as dispatching")
    calls = []

    async def reader(n):
        for _ in range(n):
            await aio.nop()
        return n

    async def main():
        loop = asyncio.get_running_loop()
        await aio.nop()
        original = loop.call_soon

        def counting(cb, *args, **kw):
            calls.append(cb)
            return original(cb, *args, **kw)
        loop.call_soon = counting
        try:
            return await asyncio.gather(*(reader(200) for _ in range(8)))
        finally:
            del loop.call_soon
    assert run(loop_name, main) == [200] * 8
    assert len(calls) < 50   # 1,600 awaits: a Handle each before


def test_a_ring_with_its_own_read_and_write_is_called(loop_name, tmp_path, fd_guard):
    # aio queues reads and writes through the core's C entry point only for RingCore's own
    # methods: a loop ring whose class overrides them still gets the calls.
    if loop_name != "uring":
        pytest.skip("a loop's own ring can be any Ring subclass only on uring.loop")
    from uring.loop import EventLoop
    from uring.ring import Ring
    calls = []

    class CountingRing(Ring):
        def read(self, *args, **kwargs):
            calls.append("read")
            return super().read(*args, **kwargs)

        def write(self, *args, **kwargs):
            calls.append("write")
            return super().write(*args, **kwargs)

    path = tmp_path / "f"
    path.write_bytes(b"abcdef")

    async def main():
        assert not aio.get_driver().direct_rw
        fd = os.open(path, os.O_RDWR)
        try:
            buf = bytearray(3)
            n = await aio.read(fd, buf, 3, 2)
            await aio.write(fd, b"XY", None, 0)
            return n, bytes(buf)
        finally:
            os.close(fd)
    loop = EventLoop(CountingRing(64))
    try:
        assert loop.run_until_complete(main()) == (3, b"cde")
    finally:
        loop.close()
    assert calls == ["read", "write"] and path.read_bytes() == b"XYcdef"


def test_default_rings_take_the_direct_path(loop_name, fd_guard):
    async def main():
        return aio.get_driver().direct_rw
    assert run(loop_name, main) is True
