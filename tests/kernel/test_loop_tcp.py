"""Stream transports on asyncio's loop and on uring.EventLoop (multishot receives from a
recycled buffer ring): echo, big transfers, flow control, half-close, BufferedProtocol, abort."""

from __future__ import annotations

import asyncio
import errno
import os
import select
import socket

import pytest


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    def eof_received(self):
        return False


async def _echo_server(loop, factory=Echo, **kwargs):
    server = await loop.create_server(factory, "127.0.0.1", 0, **kwargs)
    return server, server.sockets[0].getsockname()[1]


class Record(asyncio.Protocol):
    """One server connection's record: `events` holds each delivery's bytes and None for
    EOF; `made` and `lost` resolve with the transport and with connection_lost's exception,
    and `next_data()` waits for the next delivery. Serve it with `lambda: record`."""

    def __init__(self, loop):
        self.loop = loop
        self.events = []
        self.made = loop.create_future()
        self.lost = loop.create_future()
        self._arrived = None

    def connection_made(self, transport):
        self.made.set_result(transport)

    def data_received(self, data):
        self.events.append(bytes(data))
        if self._arrived is not None and not self._arrived.done():
            self._arrived.set_result(None)

    def eof_received(self):
        self.events.append(None)

    def connection_lost(self, exc):
        self.lost.set_result(exc)

    async def next_data(self, timeout=5):
        self._arrived = self.loop.create_future()
        await asyncio.wait_for(self._arrived, timeout)

    def data(self):
        return b"".join(e for e in self.events if e is not None)


def test_protocol_echo_many_connections(any_loop):
    async def client(port, payload):
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(payload)
        got = await r.readexactly(len(payload))
        w.close()
        await w.wait_closed()
        return got

    async def main():
        server, port = await _echo_server(any_loop)
        payloads = [os.urandom(1 + i * 997) for i in range(50)]
        got = await asyncio.gather(*(client(port, p) for p in payloads))
        server.close()
        await server.wait_closed()
        return got == payloads

    assert any_loop.run_until_complete(main())


def test_big_transfer_through_few_buffers(fd_guard):
    """8 MiB through a pool of 4 x 4 KiB buffers: ENOBUFS ends the multishot recv again and
    again and the transport re-arms it; no byte is lost or reordered."""
    from uring.loop import EventLoop
    loop = EventLoop()
    loop._recv_pool_shape = (4, 4096)
    data = os.urandom(8 << 20)

    async def main():
        server, port = await _echo_server(loop)
        r, w = await asyncio.open_connection("127.0.0.1", port)

        async def send():
            w.write(data)
            await w.drain()
            w.write_eof()

        sender = asyncio.ensure_future(send())
        got = await r.read()
        await sender
        w.close()
        await w.wait_closed()
        server.close()
        await server.wait_closed()
        return got

    try:
        assert loop.run_until_complete(main()) == data
    finally:
        loop.close()


def test_pause_reading_holds_data_until_resume(any_loop):
    class Slow(asyncio.Protocol):
        def __init__(self):
            self.chunks = []
            self.done = any_loop.create_future()

        def connection_made(self, transport):
            self.transport = transport
            transport.pause_reading()

        def data_received(self, data):
            assert self.transport.is_reading()
            self.chunks.append(data)

        def eof_received(self):
            self.done.set_result(b"".join(self.chunks))

    async def main():
        proto = Slow()
        server = await any_loop.create_server(lambda: proto, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as c:
            c.sendall(b"a" * 10000)
            c.shutdown(socket.SHUT_WR)
            await asyncio.sleep(0.05)
            assert proto.chunks == [] and not proto.transport.is_reading()
            proto.transport.resume_reading()
            got = await asyncio.wait_for(proto.done, 5)
        proto.transport.close()
        server.close()
        await server.wait_closed()
        return got

    assert any_loop.run_until_complete(main()) == b"a" * 10000


def test_half_close_keeps_writing_after_eof(any_loop):
    class Reply(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport, self.buf = transport, b""

        def data_received(self, data):
            self.buf += data

        def eof_received(self):
            self.transport.write(self.buf[::-1])
            self.transport.write_eof() if self.transport.can_write_eof() else None
            return True    # keep the transport open to write after the peer's EOF

    async def main():
        made = []
        server, port = await _echo_server(any_loop, lambda: made.append(Reply()) or made[-1])
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"hello world")
        w.write_eof()
        got = await r.read()
        w.close()
        await w.wait_closed()
        made[0].transport.close()   # 3.12+: wait_closed() waits for every connection
        server.close()
        await server.wait_closed()
        return got

    assert any_loop.run_until_complete(main()) == b"dlrow olleh"


def test_buffered_protocol_and_extra_info(any_loop):
    class Buffered(asyncio.BufferedProtocol):
        def __init__(self):
            self.buf = bytearray(100)
            self.got = bytearray()
            self.lost = any_loop.create_future()

        def connection_made(self, transport):
            self.transport = transport

        def get_buffer(self, sizehint):
            return self.buf

        def buffer_updated(self, nbytes):
            self.got += self.buf[:nbytes]

        def connection_lost(self, exc):
            self.lost.set_result(exc)

    async def main():
        proto = Buffered()
        server = await any_loop.create_server(lambda: proto, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as c:
            c.sendall(b"z" * 1000)
            c.shutdown(socket.SHUT_WR)
            exc = await asyncio.wait_for(proto.lost, 5)
            sock = proto.transport.get_extra_info("socket")
            peer = proto.transport.get_extra_info("peername")
            assert peer == c.getsockname()
            assert sock is not None
        server.close()
        await server.wait_closed()
        return bytes(proto.got), exc

    assert any_loop.run_until_complete(main()) == (b"z" * 1000, None)


def test_abort_and_write_buffer_limits(any_loop):
    async def main():
        server = await any_loop.create_server(asyncio.Protocol, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        lost = any_loop.create_future()

        class Client(asyncio.Protocol):
            def connection_lost(self, exc):
                lost.set_result(exc)

            def pause_writing(self):
                self.paused = True

        transport, proto = await any_loop.create_connection(Client, "127.0.0.1", port)
        transport.set_write_buffer_limits(high=1024, low=256)
        assert transport.get_write_buffer_limits() == (256, 1024)
        transport.write(b"x" * (16 << 20))   # the peer never reads: most of it stays buffered
        assert transport.get_write_buffer_size() > 1024
        assert getattr(proto, "paused", False)
        transport.abort()
        exc = await asyncio.wait_for(lost, 5)
        server.close()
        await server.wait_closed()
        return exc

    assert any_loop.run_until_complete(main()) is None


def test_peer_reset_is_a_connection_error(any_loop):
    class Keep(asyncio.Protocol):
        def __init__(self):
            self.lost = any_loop.create_future()

        def connection_lost(self, exc):
            self.lost.set_result(exc)

    async def main():
        proto = Keep()
        server = await any_loop.create_server(lambda: proto, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        c = socket.create_connection(("127.0.0.1", port))
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        await asyncio.sleep(0.02)
        c.close()                    # linger 0: RST
        exc = await asyncio.wait_for(proto.lost, 5)
        server.close()
        await server.wait_closed()
        return exc

    exc = any_loop.run_until_complete(main())
    assert isinstance(exc, ConnectionResetError)


def test_unix_socket_streams(any_loop, tmp_path):
    path = str(tmp_path / "s")

    async def handle(r, w):
        w.write((await r.readline()).upper())
        await w.drain()
        w.close()

    async def main():
        server = await asyncio.start_unix_server(handle, path)
        r, w = await asyncio.open_unix_connection(path)
        w.write(b"ping\n")
        got = await r.readline()
        w.close()
        await w.wait_closed()
        server.close()
        await server.wait_closed()
        return got

    assert any_loop.run_until_complete(main()) == b"PING\n"


def test_bench_echo_stream_retrieves_a_reset(any_loop):
    """`uring bench loop`'s streams handler, client reset mid-exchange: the error the reset
    leaves in the stream's close future is retrieved by the handler, so the garbage
    collector never logs "Future exception was never retrieved"."""
    import struct
    from uring.loop import bench
    writers = []

    async def handler(reader, writer):
        writers.append(writer)
        await bench._echo_stream(reader, writer)

    async def main():
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.sendall(b"x" * 4096)
        while not writers:
            await asyncio.sleep(0.001)
        sock.close()             # unread echo + linger 0: the server sees a reset
        for _ in range(500):
            if writers[0].transport.is_closing() and writers[0]._protocol._closed.done():
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)   # the handler's wait_closed runs
        server.close()
        await server.wait_closed()
        closed = writers[0]._protocol._closed
        return closed.done(), closed._log_traceback, closed.exception()

    done, unretrieved, exc = any_loop.run_until_complete(main())
    assert done and not unretrieved
    assert exc is None or isinstance(exc, ConnectionError)


def test_close_with_receives_armed_and_peers_gone(fd_guard):
    """loop.close() while transports' receives are armed and the peers have closed: the ring
    drains them (EOF CQEs) on a closed loop; close() must not raise "Event loop is closed"
    from a transport's close() and must leave no fd behind."""
    from uring.loop import EventLoop
    loop = EventLoop()
    clients = []

    async def main():
        server = await loop.create_server(Echo, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        for _ in range(5):
            sock = socket.socket()
            sock.setblocking(False)
            clients.append(sock)
            await loop.sock_connect(sock, ("127.0.0.1", port))
            await loop.sock_sendall(sock, b"ping")
            assert await loop.sock_recv(sock, 4) == b"ping"
        return server

    server = loop.run_until_complete(main())
    for sock in clients:
        sock.close()          # EOF on every server-side receive, reaped only at close
    server.close()            # the accept is cancelled; transports stay open
    loop.close()
    assert loop.is_closed()


def test_receive_pool_grows_to_one_buffer_per_armed_receive(fd_guard):
    """Past its read-ahead budget the pool publishes no more buffers (ENOBUFS is then
    back-pressure), except while it has fewer buffers than armed receives: below that the
    receives that keep finding the ring empty starve (p99 90 ms at 100 x 64 KiB)."""
    from uring import Ring
    from uring.loop._transport import RecvPool
    with Ring(8) as ring:
        pool = RecvPool(ring, entries=64, buf_size=4096, hot=4, budget=8192)
        try:
            assert pool.fast.provided == 4
            assert len(pool.take(4096, 0 << 16)) == 4096    # mean receive: 4 KiB
            assert pool.fast.grow() == 0                      # 4 x 4 KiB >= the budget
            assert pool.fast.grow(10) == 4 and pool.fast.grow(10) == 4
            assert pool.fast.provided == 12 and pool.fast.grow(10) == 0
            assert pool.fast.grow(1000) == 4                  # capped by entries in the end
        finally:
            pool.close()


def test_writes_behind_a_send_in_flight_keep_order_and_close_waits(any_loop):
    """Writes of one callback (bytes, bytearray, memoryview, writelines) go out in order
    behind what a short send left in the buffer, get_write_buffer_size counts them until sent, write_eof and close wait for them, and
    a big write the peer reads slowly (short sends) arrives whole."""
    big = os.urandom(8 << 20)

    class Writer(asyncio.Protocol):
        def connection_made(self, transport):
            self.sizes = []
            transport.write(b"a" * 1000)
            self.sizes.append(transport.get_write_buffer_size())
            transport.write(bytearray(b"b" * 1000))
            transport.write(memoryview(b"c" * 1000))
            transport.writelines([b"d" * 10, b"e" * 10])
            transport.write(big)
            self.sizes.append(transport.get_write_buffer_size())
            transport.write_eof()
            transport.close()

    async def main():
        made = []
        server, port = await _echo_server(any_loop, lambda: made.append(Writer()) or made[-1])
        r, w = await asyncio.open_connection("127.0.0.1", port, limit=1 << 16)
        got = bytearray()
        while True:
            chunk = await r.read(1 << 16)
            if not chunk:
                break
            got += chunk
            if len(got) < (1 << 20):
                await asyncio.sleep(0.001)    # a slow reader at first: the send is short
        w.close()
        await w.wait_closed()
        server.close()
        await server.wait_closed()
        return bytes(got), made[0].sizes

    got, sizes = any_loop.run_until_complete(main())
    assert got == b"a" * 1000 + b"b" * 1000 + b"c" * 1000 + b"d" * 10 + b"e" * 10 + big
    assert sizes[1] > 0 and sizes[0] <= 1000


def test_sendfile_after_a_write_waits_for_it(any_loop, tmp_path):
    """loop.sendfile() waits for what the transport still has to send (its empty waiter)
    before the file's bytes go."""
    path = tmp_path / "f"
    path.write_bytes(b"F" * 300_000)

    class Holder(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport = transport

    async def main():
        made = []
        server, port = await _echo_server(any_loop, lambda: made.append(Holder()) or made[-1])
        r, w = await asyncio.open_connection("127.0.0.1", port)
        while not made:
            await asyncio.sleep(0.001)
        t = made[0].transport
        t.write(b"head")
        with open(path, "rb") as f:
            await any_loop.sendfile(t, f)
        t.write(b"tail")
        t.close()
        got = await r.read()
        w.close()
        await w.wait_closed()
        server.close()
        await server.wait_closed()
        return got

    assert any_loop.run_until_complete(main()) == b"head" + b"F" * 300_000 + b"tail"


def test_large_messages_switch_to_bounded_receives_and_back(fd_guard):
    """A transport that makes `bounded_after` large receives in a row moves to a poll and
    recv(2) when it fires, and the buffer ring shrinks; small receives bring it back to a
    multishot recv. Every byte arrives, in order."""
    from uring.loop import EventLoop
    loop = EventLoop()
    loop._recv_per_enter = 2
    loop._recv_bounded_after = 3
    conns = 6
    seen = {}

    class Watch(Echo):
        def data_received(self, data):
            seen.setdefault(self, set()).add(self.transport._rx.bounded)
            super().data_received(data)

    async def exchange(r, w, payload):
        w.write(payload)
        return await r.readexactly(len(payload))

    async def main():
        server, port = await _echo_server(loop, Watch)
        pairs = [await asyncio.open_connection("127.0.0.1", port) for _ in range(conns)]
        big = [os.urandom(64 << 10) for _ in range(8)]
        for payload in big:
            got = await asyncio.gather(*(exchange(r, w, payload) for r, w in pairs))
            assert got == [payload] * conns
        bounded = [t._rx.bounded for t in loop._ring_readers.values()]
        limit = loop._recv_buffers.limit
        for i in range(6):
            got = await asyncio.gather(*(exchange(r, w, b"s%d" % i) for r, w in pairs))
            assert got == [b"s%d" % i] * conns
        after = [t._rx.bounded for t in loop._ring_readers.values()]
        for r, w in pairs:
            w.close()
            await w.wait_closed()
        server.close()
        await server.wait_closed()
        for _ in range(3):
            await asyncio.sleep(0)
        assert loop._recv_pool.outstanding() == 0   # spares are counted as handed back
        return bounded, limit, after

    try:
        bounded, limit, after = loop.run_until_complete(main())
    finally:
        loop.close()
    # Both ends of every connection moved large messages (the client's replies too).
    assert len(bounded) == 2 * conns and all(bounded)
    assert all(modes == {False, True} for modes in seen.values())
    assert limit == 2 * 2          # 2 x (per_enter + multishot readers), none of them left
    assert not any(after)


def test_bounded_receive_sees_eof_that_came_with_data(any_loop):
    """Data and FIN in one wake-up: the poll fires once, and the receive that drains the data
    returns less than a buffer; EOF must still be read (the poll's RDHUP says it is there)."""

    async def main():
        record = Record(any_loop)
        server = await any_loop.create_server(lambda: record, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as c:
            c.sendall(b"last words")
            c.shutdown(socket.SHUT_WR)
            assert await asyncio.wait_for(record.lost, 5) is None
        server.close()
        await server.wait_closed()
        return record

    record = any_loop.run_until_complete(main())
    assert record.data() == b"last words" and record.events[-1] is None


@pytest.mark.parametrize("final_res", [select.POLLIN, -errno.ECONNRESET])
def test_bounded_poll_that_ends_is_armed_again_or_fails_the_transport(fd_guard, final_res):
    """A bounded transport's multishot poll can end (a CQE without F_MORE: the kernel
    could not post another): one that ended with readiness is armed anew and reading goes
    on, one that failed is the transport's fatal read error. The kernel gives no way to
    end a poll on demand, so the test cancels the real one and feeds its reader the final
    CQE; the cancel's own CQE, landing later, must change nothing."""
    from uring.loop import EventLoop, _fast
    loop = EventLoop()
    loop._recv_bounded_after = 0

    async def main():
        record = Record(loop)
        server = await loop.create_server(lambda: record, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as c:
            transport = await record.made
            c.sendall(b"one")
            await record.next_data()
            old = transport._rx.op
            assert transport._rx.bounded and old is not None
            loop._cancel_now(old)
            _fast.on_poll(old, final_res, 0)
            if final_res > 0:
                assert transport._rx.op is not None and transport._rx.op is not old
                for word in (b"two", b"three"):
                    c.sendall(word)
                    await record.next_data()
                assert not record.lost.done()
                transport.close()
                assert await record.lost is None
            else:
                assert isinstance(await asyncio.wait_for(record.lost, 5), ConnectionResetError)
        server.close()
        await server.wait_closed()
        return record

    try:
        record = loop.run_until_complete(main())
    finally:
        loop.close()
    assert record.data() == (b"onetwothree" if final_res > 0 else b"one")


def test_bounded_receives_ask_for_direct_size_bytes(fd_guard):
    """`_recv_direct_size` is what each bounded recv(2) asks for: 64 KiB messages arrive in
    pieces of at most that, every piece its own object, intact after later receives."""
    from uring.loop import EventLoop

    class Small(EventLoop):
        _recv_bounded_after = 0
        _recv_direct_size = 5000

    loop = Small()
    messages = [bytes([i]) * (64 << 10) for i in range(1, 5)]
    kept = []

    class Collect(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport = transport

        def data_received(self, data):
            kept.append(data)
            if sum(map(len, kept)) % (64 << 10) == 0:
                self.transport.write(b"k")

    async def main():
        server = await loop.create_server(Collect, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        r, w = await asyncio.open_connection("127.0.0.1", port)
        for message in messages:
            w.write(message)
            await r.readexactly(1)
        w.close()
        await w.wait_closed()
        server.close()
        await server.wait_closed()

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    assert loop._recv_buffers.direct_size == 5000
    assert b"".join(kept) == b"".join(messages)
    assert max(map(len, kept)) <= 5000 and len(kept) >= 4 * ((64 << 10) // 5000)
    assert len({id(d) for d in kept}) == len(kept)


@pytest.mark.parametrize("per_enter,size", [(1, 70_000), (1, 200_000), (4, 300_000), (4, 1_100_000)])
def test_data_received_before_a_wait_wakes_its_reader(fd_guard, per_enter, size):
    """A bounded transport with more data waiting than one poll firing takes is served
    again just before the next wait. The data that completes a StreamReader's read
    arrives there, and its task must run at once: with no timer and no other I/O due,
    that wait must not block (it did: the request's reply never came)."""
    import threading
    import time
    from uring.loop import EventLoop

    class Bounded(EventLoop):
        _recv_bounded_after = 0
        _recv_per_enter = per_enter

    loop = Bounded()
    got = {}

    async def handle(r, w):
        await r.readexactly(size)
        w.write(b"ok")
        await w.drain()
        w.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        done = loop.create_future()

        def client():
            # A blocking client in a thread: the loop has nothing to do but this request.
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                    s.sendall(b"x" * size)
                    t0 = time.monotonic()
                    got["reply"] = s.recv(2)
                    got["seconds"] = time.monotonic() - t0
            except OSError as exc:
                got["reply"] = exc
            loop.call_soon_threadsafe(done.set_result, None)

        thread = threading.Thread(target=client)
        thread.start()
        await done
        thread.join()
        server.close()
        await server.wait_closed()

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    assert got["reply"] == b"ok", got
    assert got["seconds"] < 2
