"""Shared fixtures: every kernel test's ring must end with nothing in flight, no pinned
buffer and no leaked fd; ops the kernel lacks skip with the probe's reason."""

from __future__ import annotations

import os
import platform

import pytest


def _open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


@pytest.fixture
def fd_guard():
    """Fails the test if it leaves file descriptors open."""
    before = _open_fds()
    yield
    import gc
    gc.collect()
    leaked = {fd for fd in _open_fds() - before if os.path.exists(f"/proc/self/fd/{fd}")}
    details = {fd: os.readlink(f"/proc/self/fd/{fd}") for fd in leaked if os.path.exists(f"/proc/self/fd/{fd}")}
    assert not details, f"leaked file descriptors: {details}"


def check_ring_idle(ring) -> None:
    """Nothing in flight, nothing queued, no pinned buffer left behind."""
    if ring.closed:
        return
    ring.peek()
    leftover = ring.ops_in_flight()
    assert not leftover, f"ops still in flight at teardown: {leftover}"
    assert ring.in_flight == 0
    assert ring.stale_cqes == 0, "CQEs arrived for ops that were already complete"


@pytest.fixture
def fds(fd_guard):
    """Closes every fd appended to it at teardown (before fd_guard checks for leaks)."""
    owned: list[int] = []
    yield owned
    for fd in owned:
        os.close(fd)


@pytest.fixture
def pipe(fds):
    """A (read end, write end) pipe, closed at teardown."""
    r, w = os.pipe()
    fds.extend((r, w))
    return r, w


@pytest.fixture
def listener():
    """A TCP socket listening on loopback (127.0.0.1, a free port)."""
    import socket
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(4)
        yield srv


@pytest.fixture
def ring(fd_guard):
    from uring import Ring
    r = Ring(64)
    try:
        yield r
        check_ring_idle(r)
    finally:
        r.close()


@pytest.fixture
def make_ring(fd_guard):
    """Factory for rings with custom parameters; each is checked and closed at teardown."""
    from uring import Ring
    rings = []

    def make(*args, **kwargs):
        r = Ring(*args, **kwargs)
        rings.append(r)
        return r

    yield make
    try:
        for r in rings:
            check_ring_idle(r)
    finally:
        for r in rings:
            r.close()


def require_op(*opcodes) -> None:
    """Skip unless the running kernel supports every opcode given (found by probing)."""
    from uring._core import RingCore
    from uring._uapi import Opcode
    probe_ring = RingCore(2)
    try:
        for op in opcodes:
            if not probe_ring.opcode_supported(int(op)):
                pytest.skip(f"IORING_OP_{Opcode(op).name} unsupported on {platform.release()}")
    finally:
        probe_ring.close()


@pytest.fixture
def tmp_file(tmp_path):
    """A 64 KiB file of known content; returns (path, data)."""
    data = bytes((i * 7 + 3) & 0xFF for i in range(65536))
    p = tmp_path / "data.bin"
    p.write_bytes(data)
    return p, data


@pytest.fixture
def bench_dir(tmp_path, monkeypatch):
    """tmp_path as the benchmarks' data directory ($URING_BENCH_DIR); skips where its
    filesystem refuses O_DIRECT, which the disk workloads need."""
    monkeypatch.setenv("URING_BENCH_DIR", str(tmp_path))
    probe = tmp_path / "probe"
    probe.write_bytes(b"\0" * 4096)
    try:
        os.close(os.open(probe, os.O_RDONLY | os.O_DIRECT))
    except OSError:
        pytest.skip("the temp directory's filesystem refuses O_DIRECT")
    return tmp_path


@pytest.fixture(params=["asyncio", "uring", "uring-bounded"])
def any_loop(request, fd_guard):
    """The same test body on asyncio's own loop (the oracle) and on uring.EventLoop, there
    also with every stream transport on bounded receives from its first read (a poll, and
    recv(2) when it fires: what large transfers switch to); at teardown no task, callback,
    ring op or fd may be left behind."""
    import asyncio
    if request.param == "asyncio":
        loop = asyncio.SelectorEventLoop()
    else:
        from uring.loop import new_event_loop
        loop = new_event_loop()
        if request.param == "uring-bounded":
            loop._recv_bounded_after = 0
    asyncio.set_event_loop(loop)
    try:
        yield loop
        if not loop.is_closed():
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            assert not pending, f"tasks left running: {pending}"
            # Let cancels and connection_lost callbacks land. A bounded transport receives a
            # few buffers per iteration: what its peer sent before closing can take many.
            for i in range(200):
                loop.run_until_complete(asyncio.sleep(0))
                if i >= 2 and (request.param != "uring-bounded" or not loop._ready
                               and loop._uring_ring().in_flight == 1):
                    break
            assert not loop._ready, f"callbacks left in the ready queue: {list(loop._ready)}"
            live = [h for h in loop._scheduled if not h._cancelled]
            assert not live, f"timers left scheduled: {live}"
            if request.param != "asyncio":
                ring = loop._uring_ring()
                ring.peek()
                # Only the self-pipe's poll may still be armed: no recv, send or buffer op.
                assert ring.in_flight == 1, f"ring ops left in flight: {ring.ops_in_flight()}"
                if loop._recv_pool:
                    assert loop._recv_pool.outstanding() == 0, "receive buffers not handed back"
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        asyncio.set_event_loop(None)
        loop.close()
