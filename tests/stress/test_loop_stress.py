"""Stress on uring.EventLoop: many connections exchanging random-sized messages through a
tiny receive-buffer pool (ENOBUFS re-arms all the time) while the server pauses and resumes
reading at random; every byte must come back in order, and nothing may leak."""

from __future__ import annotations

import asyncio
import os
import random
import time


class PausingEcho(asyncio.Protocol):
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)
        if self.rng.random() < 0.05:
            self.transport.pause_reading()
            asyncio.get_running_loop().call_later(self.rng.random() / 100, self._resume)

    def _resume(self):
        if not self.transport.is_closing():
            self.transport.resume_reading()


def test_echo_storm_through_a_tiny_buffer_pool(fd_guard):
    from uring.loop import EventLoop
    rng = random.Random(8)
    loop = EventLoop()
    loop._recv_pool_shape = (16, 4096)
    deadline = time.monotonic() + 20

    async def client(port: int, seed: int) -> int:
        r = random.Random(seed)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        done = 0
        for _ in range(r.randrange(1, 8)):
            msg = os.urandom(r.choice([1, 100, 4096, 65536, 250_000]))
            writer.write(msg)
            assert await reader.readexactly(len(msg)) == msg
            done += 1
            if time.monotonic() > deadline:
                break
        writer.close()
        await writer.wait_closed()
        return done

    async def main() -> int:
        server = await loop.create_server(lambda: PausingEcho(rng), "127.0.0.1", 0, backlog=512)
        port = server.sockets[0].getsockname()[1]
        counts = await asyncio.gather(*(client(port, i) for i in range(150)))
        server.close()
        await server.wait_closed()
        return sum(counts)

    try:
        assert loop.run_until_complete(asyncio.wait_for(main(), 60)) >= 150
        for _ in range(3):
            loop.run_until_complete(asyncio.sleep(0))
        ring = loop._uring_ring()
        ring.peek()
        assert ring.in_flight == 1, ring.ops_in_flight()   # only the self-pipe's poll
        assert loop._recv_pool.outstanding() == 0          # every buffer handed back
        assert not asyncio.all_tasks(loop)
    finally:
        loop.close()
