"""uring.aio awaitables on the stdlib loop and uvloop: results and errors, cancellation at
every stage with buffers pinned to the final CQE, link timeouts, chains, multishot, many
awaits in flight, loop close, fork, an io_uring loop's own ring, loops without add_reader."""

from __future__ import annotations

import asyncio
import errno
import gc
import os
import select
import socket
import sys

import pytest

from tests.kernel.aio_support import ALL_LOOPS, run
from uring import Cancelled, aio, ops
from uring.bufring import BufferRing
from uring.chain import Outcome
from uring.ring import Ring

pytestmark = pytest.mark.parametrize("loop_name", ALL_LOOPS)


def test_results_and_errors(loop_name, tmp_path, fd_guard):
    path = tmp_path / "f"
    path.write_bytes(b"hello world")

    async def main():
        assert await aio.nop() == 0
        fd = await aio.openat(ops.AT_FDCWD, str(path), os.O_RDWR)
        buf = bytearray(5)
        assert await aio.read(fd, buf, 5, 6) == 5 and buf == b"world"
        assert await aio.write(fd, b"HELLO", None, 0) == 5
        res, st = await aio.statx(ops.AT_FDCWD, str(path), 0, 0x7FF)
        assert res == 0 and st.st_size == 11
        assert await aio.fsync(fd) == 0
        assert await aio.close(fd) == 0
        with pytest.raises(FileNotFoundError):
            await aio.openat(ops.AT_FDCWD, str(tmp_path / "missing"), os.O_RDONLY)
        with pytest.raises(OSError) as info:
            await aio.read(fd, buf)          # closed above
        assert info.value.errno == errno.EBADF
        with pytest.raises(TypeError):
            aio.read(0, b"immutable")
        return path.read_bytes()
    assert run(loop_name, main) == b"HELLO world"


def test_every_prep_helper_is_awaitable(loop_name):
    for name in ops.helpers():
        assert callable(getattr(aio, name)), name


def test_one_ring_per_loop_and_configure(loop_name, fd_guard):
    async def main():
        ring = aio.get_ring()
        assert aio.get_ring() is ring and not ring.closed
        await aio.nop()
        return ring
    first = run(loop_name, main)
    assert first.closed, "closing the loop closes (and drains) its ring"
    if loop_name == "uring":
        return   # the io_uring loop's own ring: its size is the loop's business
    aio.configure(entries=64)
    try:
        second = run(loop_name, main)
        assert second is not first and second.sq_entries == 64
    finally:
        aio.configure(entries=1024)


def test_cancel_in_flight_keeps_buffer_pinned_until_final_cqe(loop_name, fd_guard):
    a, b = socket.socketpair()
    a.setblocking(False)

    async def main():
        buf = bytearray(16)
        fut = aio.recv(a.fileno(), buf)
        task = asyncio.ensure_future(_await(fut))
        await asyncio.sleep(0.01)
        op = fut.op
        assert not op.done and op.pinned
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert fut.cancelled()
        for _ in range(100):
            if op.done:
                break
            await asyncio.sleep(0.001)
        assert op.done and not op.pinned and isinstance(op.exception(), Cancelled)
        b.send(b"later")        # nothing consumed by the cancelled recv
        return a.recv(16)
    try:
        assert run(loop_name, main) == b"later"
    finally:
        a.close()
        b.close()


async def _await(aw):
    return await aw


async def _nop():
    return await aio.nop()


def test_cancel_before_submit(loop_name, fd_guard):
    r, w = os.pipe()

    async def main():
        task = asyncio.ensure_future(_await(aio.read(r, bytearray(4))))
        await asyncio.sleep(0)      # the task queued its SQE; the flush has not run yet
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.01)
        os.write(w, b"data")
        return os.read(r, 4)
    try:
        assert run(loop_name, main) == b"data"
    finally:
        os.close(r)
        os.close(w)


def test_cancel_with_asyncio_timeout_and_wait_for(loop_name, fd_guard):
    r, w = os.pipe()

    async def main():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(aio.read(r, bytearray(4)), 0.02)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(_await(aio.read(r, bytearray(4))), 0.02)
        results = await asyncio.gather(aio.nop(), aio.nop(), _await(aio.nop()))
        assert results == [0, 0, 0]
    try:
        run(loop_name, main)
    finally:
        os.close(r)
        os.close(w)


def test_link_timeout(loop_name, fd_guard):
    r, w = os.pipe()

    async def main():
        with pytest.raises(aio.TimedOut) as info:
            await aio.poll_add(r, select.POLLIN, timeout=0.02)
        assert isinstance(info.value, TimeoutError)
        os.write(w, b"x")
        assert await aio.poll_add(r, select.POLLIN, timeout=5) & select.POLLIN
    try:
        run(loop_name, main)
    finally:
        os.close(r)
        os.close(w)


def test_chain_awaited_whole(loop_name, tmp_path, fd_guard):
    src = tmp_path / "src"
    src.write_bytes(b"x" * 1000)
    dst = tmp_path / "dst"

    async def main():
        sfd = os.open(src, os.O_RDONLY)
        dfd = os.open(dst, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            buf = bytearray(1000)
            ch = aio.chain()
            ch.read(sfd, buf, 1000, 0)
            ch.write(dfd, buf, 1000, 0)
            ch.fsync(dfd)
            members = await ch
            outcomes = [m.outcome for m in members]
            broken = aio.chain()
            broken.read(-1 if False else 9999, bytearray(4), 4, 0)
            broken.nop()
            members2 = await broken
            return outcomes, [m.outcome for m in members2]
        finally:
            os.close(sfd)
            os.close(dfd)
    ok, bad = run(loop_name, main)
    assert ok == [Outcome.OK] * 3
    assert bad == [Outcome.FAILED, Outcome.CHAIN_BROKEN]
    assert dst.read_bytes() == b"x" * 1000


def test_multishot_accept_and_close(loop_name, listener, fd_guard):
    port = listener.getsockname()[1]

    async def main():
        it = aio.accept_multishot(listener.fileno())
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
        fds = []
        async for ev in it:
            fds.append(ev.res)
            if len(fds) == 3:
                break            # leaving the loop cancels the op
        await it.aclose()
        for fd in fds:
            os.close(fd)
        for c in clients:
            c.close()
        await asyncio.sleep(0.01)
        return len(fds)
    assert run(loop_name, main) == 3


def test_multishot_recv_rearms_after_enobufs(loop_name, fd_guard):
    a, b = socket.socketpair()

    async def main():
        ring = aio.get_ring()
        with BufferRing(ring, 7, 2, 64) as br:
            it = aio.recv_multishot(a.fileno(), 0, buf_group=br)
            first = await _recv_event(it, br, b, b"m0")
            # Two buffers, none recycled: the next two messages fill them, the third
            # ends the request with -ENOBUFS (its data stays in the socket).
            for i in (1, 2, 3):
                b.send(b"m%d" % i)
                await asyncio.sleep(0.01)
            got = [first]
            for _ in range(3):
                ev = await it.__anext__()      # the third wait re-arms the op
                got.append(bytes(br.get(ev.buffer_id, ev.res)))
                br.recycle(ev.buffer_id)
            b.shutdown(socket.SHUT_WR)
            tail = [ev async for ev in it]
            return got, it.rearms, tail
    try:
        got, rearms, tail = run(loop_name, main)
    finally:
        a.close()
        b.close()
    assert b"".join(got) == b"m0m1m2m3"
    assert rearms >= 1
    assert tail and tail[-1].res == 0


async def _recv_event(it, br, sender, data):
    sender.send(data)
    ev = await it.__anext__()
    out = bytes(br.get(ev.buffer_id, ev.res))
    br.recycle(ev.buffer_id)
    return out


def test_ten_thousand_awaits_in_flight(loop_name, fd_guard):
    r, w = os.pipe()

    async def main():
        futs = [aio.poll_add(r, select.POLLIN) for _ in range(10_000)]
        tasks = [asyncio.ensure_future(_await(f)) for f in futs]
        await asyncio.sleep(0.05)
        assert aio.get_ring().in_flight >= 10_000   # the io_uring loop keeps an op of its own
        os.write(w, b"x")
        masks = await asyncio.gather(*tasks)
        return sum(1 for m in masks if m & select.POLLIN)
    try:
        assert run(loop_name, main, timeout=60) == 10_000
    finally:
        os.close(r)
        os.close(w)


def test_loop_close_with_ops_in_flight(loop_name, fd_guard):
    a, b = socket.socketpair()
    from tests.kernel.aio_support import new_loop
    loop = new_loop(loop_name)
    buf = bytearray(8)
    state = {}

    async def start():
        state["ring"] = aio.get_ring()
        state["fut"] = aio.recv(a.fileno(), buf)
        await asyncio.sleep(0.01)
    try:
        loop.run_until_complete(start())
    finally:
        loop.close()
    op = state["fut"].op
    assert state["ring"].closed and op.done and not op.pinned
    a.close()
    b.close()


def test_fork_child_gets_fresh_ring(loop_name, fd_guard):
    async def parent_use():
        await aio.nop()
        return aio.get_ring()
    from tests.kernel.aio_support import new_loop
    loop = new_loop(loop_name)
    try:
        ring = loop.run_until_complete(parent_use())
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                child = asyncio.new_event_loop()
                new = child.run_until_complete(parent_use())
                code = 0 if new is not ring and not new.closed else 2
                child.close()
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert loop.run_until_complete(parent_use()) is ring
    finally:
        loop.close()


class _UringOwningLoop(asyncio.SelectorEventLoop):
    """A stand-in for uring.loop.EventLoop: it owns a ring, submits before each wait and
    dispatches CQEs itself (through its own eventfd)."""

    def __init__(self):
        super().__init__()
        self.ring = Ring(256)
        self.efd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self.ring.register_eventfd(self.efd)
        self.add_reader(self.efd, self._dispatch)

    def _uring_ring(self):
        return self.ring

    def _dispatch(self):
        try:
            os.eventfd_read(self.efd)
        except BlockingIOError:
            pass
        self.ring.peek()

    def _run_once(self):
        self.ring.submit()
        self.ring.peek()
        super()._run_once()

    def close(self):
        self.remove_reader(self.efd)
        super().close()
        self.ring.close()
        os.close(self.efd)


def test_loop_that_owns_a_ring(loop_name, tmp_path, fd_guard):
    if loop_name != "asyncio":
        pytest.skip("the stand-in loop is a stdlib subclass")
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    loop = _UringOwningLoop()

    async def main():
        driver = aio.get_driver()
        assert driver.ring is loop.ring and not driver.owned and driver.efd == -1
        fd = await aio.openat(ops.AT_FDCWD, str(path), os.O_RDONLY)
        buf = bytearray(3)
        n = await aio.read(fd, buf, 3, 0)
        await aio.close(fd)
        a, b = socket.socketpair()
        a.setblocking(False)
        task = asyncio.ensure_future(_await(aio.recv(a.fileno(), bytearray(4))))
        await asyncio.sleep(0.01)
        b.send(b"ping")
        data = await task
        a.close()
        b.close()
        return n, bytes(buf), data
    try:
        assert loop.run_until_complete(main()) == (3, b"abc", 4)
    finally:
        loop.close()


def test_cancel_after_completion_closes_fd(loop_name, listener, fd_guard):
    async def main():
        task = asyncio.ensure_future(_await(aio.accept(listener.fileno())))
        await asyncio.sleep(0.02)
        assert not task.done()
        client = socket.create_connection(listener.getsockname())
        # Reaped from inside this task: the accepting task gets its wake-up through
        # call_soon, so it can still be cancelled after the new fd exists.
        aio.get_ring().submit_and_wait(1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        client.close()
    run(loop_name, main)


def test_loop_without_add_reader_is_refused(loop_name):
    if loop_name != "asyncio":
        pytest.skip("one stand-in is enough")

    class NoFdLoop(asyncio.SelectorEventLoop):
        def add_reader(self, *args):
            raise NotImplementedError

    loop = NoFdLoop()
    try:
        with pytest.raises(RuntimeError, match="add_reader"):
            loop.run_until_complete(_nop())
    finally:
        loop.close()


def test_std_streams_and_wrap(loop_name, tmp_path, fd_guard):
    import subprocess
    code = ("import asyncio, sys\n"
            "from uring import aio\n"
            "async def main():\n"
            "    line = await aio.stdin.readline()\n"
            "    await aio.stdout.write(line.upper())\n"
            "    await aio.stdout_bytes.write(b'raw\\n')\n"
            "    await aio.stderr.write('err\\n')\n"
            f"asyncio.run(main()) if {loop_name!r} == 'asyncio' else __import__('uvloop').run(main())\n")
    done = subprocess.run([sys.executable, "-c", code], input=b"hello\n", capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"HELLO\nraw\n" and done.stderr == b"err\n"

    path = tmp_path / "w"
    path.write_bytes(b"0123456789")

    async def main():
        with open(path, "r+b") as sync:
            sync.read(2)
            f = aio.wrap(sync)
            first = await f.read(3)
            await f.write(b"AB")
            await f.close()
            return first, sync.tell()
    assert run(loop_name, main) == (b"234", 7)
    assert path.read_bytes() == b"01234AB789"


def test_eager_submission_gives_the_same_results(loop_name, tmp_path, fd_guard):
    data = os.urandom(64 * 4096)
    (tmp_path / "f").write_bytes(data)

    async def main():
        fd = os.open(tmp_path / "f", os.O_RDONLY)
        try:
            async def reader(i):
                buf = bytearray(4096)
                out = []
                for k in range(8):
                    page = (i * 8 + k) % 64
                    assert await aio.read(fd, buf, 4096, page * 4096) == 4096
                    out.append(bytes(buf) == data[page * 4096:(page + 1) * 4096])
                return all(out)
            return all(await asyncio.gather(*(reader(i) for i in range(16))))
        finally:
            os.close(fd)
    aio.configure(eager=4)
    try:
        assert run(loop_name, main)
    finally:
        aio.configure(eager=0)


def test_configured_sqpoll_ring(loop_name, tmp_path, fd_guard):
    if loop_name == "uring":
        pytest.skip("the io_uring loop's ring is its own")
    (tmp_path / "f").write_bytes(b"sqpoll")

    async def main():
        ring = aio.get_ring()
        fd = os.open(tmp_path / "f", os.O_RDONLY)
        try:
            buf = bytearray(6)
            n = await aio.read(fd, buf, 6, 0)
            return ring.setup_flags, n, bytes(buf)
        finally:
            os.close(fd)
    aio.configure(sqpoll=True, sq_thread_idle=10)
    try:
        try:
            flags, n, data = run(loop_name, main)
        except (OSError, NotImplementedError) as exc:
            pytest.skip(f"no SQPOLL here: {exc}")
    finally:
        aio.configure(sqpoll=False)
    assert flags & 2 and (n, data) == (6, b"sqpoll")   # IORING_SETUP_SQPOLL


def test_tasks_wake_in_their_own_context(loop_name, fd_guard):
    import contextvars
    var = contextvars.ContextVar("var")

    async def task(i):
        var.set(i)
        for _ in range(20):
            await aio.nop()
            assert var.get() == i
        return i

    async def main():
        return await asyncio.gather(*(asyncio.ensure_future(task(i)) for i in range(20)))
    assert run(loop_name, main) == list(range(20))
