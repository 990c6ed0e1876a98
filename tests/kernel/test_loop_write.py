"""The write side of stream transports, on asyncio's loop (the oracle) and on ours: write_eof
and close with bytes still to send, abort, flow control through a short send, a peer's
reset, loop close right after writes. (Order behind pending data and sendfile after a
write: test_loop_tcp.)"""

from __future__ import annotations

import asyncio
import os
import socket

import pytest


async def _connected_pair(loop, protocol):
    """(transport, peer socket): our transport on a connected TCP socket, the peer a plain
    blocking socket read by the test in a thread."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.setblocking(False)
    transport, _ = await loop.create_connection(lambda: protocol, "127.0.0.1", port)
    peer, _ = await loop.sock_accept(listener)
    listener.close()
    peer.setblocking(True)
    return transport, peer


def _read_all(peer: socket.socket) -> bytes:
    chunks = []
    while True:
        chunk = peer.recv(1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


class Recorder(asyncio.Protocol):
    def __init__(self):
        self.events = []
        self.lost = None

    def connection_made(self, transport):
        self.events.append("made")

    def pause_writing(self):
        self.events.append("pause")

    def resume_writing(self):
        self.events.append("resume")

    def connection_lost(self, exc):
        self.events.append("lost")
        self.lost = exc


def _run(loop, scenario):
    async def main():
        protocol = Recorder()
        transport, peer = await _connected_pair(loop, protocol)
        try:
            reader = loop.run_in_executor(None, _read_all, peer)
            result = await scenario(loop, transport, protocol)
            got = await asyncio.wait_for(reader, 30)
        finally:
            peer.close()
        for _ in range(100):
            if "lost" in protocol.events:
                break
            await asyncio.sleep(0.01)
        return got, result, protocol

    return loop.run_until_complete(main())


def test_close_and_write_eof_after_a_write(any_loop):
    async def scenario(loop, transport, protocol):
        transport.write(b"a" * 5000)
        transport.write_eof()          # EOF after the bytes, not before
        assert not transport.is_closing()
        with pytest.raises(RuntimeError, match="after write_eof"):
            transport.write(b"more")
        await asyncio.sleep(0.05)
        transport.close()

    got, _, protocol = _run(any_loop, scenario)
    assert got == b"a" * 5000
    assert protocol.events == ["made", "lost"]


def test_write_buffer_size_and_flow_control_through_a_short_send(any_loop):
    """8 MiB written at once to a peer that reads slowly: the kernel takes part of it, the
    rest waits in the transport; the protocol is paused, then resumed when it drains, and
    the peer gets every byte in order."""
    data = os.urandom(8 << 20)
    sizes = []

    async def scenario(loop, transport, protocol):
        transport.set_write_buffer_limits(high=64 * 1024)
        transport.write(data)
        await asyncio.sleep(0)
        sizes.append(transport.get_write_buffer_size())
        transport.write(b"tail")
        for _ in range(3000):
            if transport.get_write_buffer_size() == 0:
                break
            await asyncio.sleep(0.01)
        sizes.append(transport.get_write_buffer_size())
        transport.close()

    got, _, protocol = _run(any_loop, scenario)
    assert got == data + b"tail"
    assert sizes[0] > 0 and sizes[-1] == 0
    assert protocol.events[:2] == ["made", "pause"] and "resume" in protocol.events
    assert protocol.events[-1] == "lost"


def test_abort_right_after_writes(any_loop):
    async def scenario(loop, transport, protocol):
        transport.write(b"z" * 100)
        transport.write(b"q" * 100)
        transport.abort()
        assert transport.get_write_buffer_size() == 0
        await asyncio.sleep(0.05)

    got, _, protocol = _run(any_loop, scenario)
    # What reached the kernel before the abort may arrive (a prefix), nothing else.
    assert (b"z" * 100 + b"q" * 100).startswith(got)
    assert protocol.events == ["made", "lost"] and protocol.lost is None


def test_peer_reset_reports_the_error(any_loop):
    """The peer resets the connection while we keep writing: connection_lost gets the
    OSError (EPIPE or ECONNRESET, as on asyncio's loop), and writes after it are dropped."""
    async def main():
        protocol = Recorder()
        transport, peer = await _connected_pair(any_loop, protocol)
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        peer.close()                   # linger 0: RST
        for _ in range(500):
            if protocol.lost is not None or "lost" in protocol.events:
                break
            transport.write(b"x" * 1000)
            await asyncio.sleep(0.002)
        transport.write(b"after")       # dropped quietly, as asyncio does
        return protocol

    protocol = any_loop.run_until_complete(main())
    assert protocol.events == ["made", "lost"]
    assert isinstance(protocol.lost, (BrokenPipeError, ConnectionResetError))


def test_loop_close_right_after_writes(fd_guard):
    """Writes in the last iteration, then the loop stops and closes with the transport:
    nothing is raised from close() and no fd is left."""
    from uring.loop import EventLoop
    loop = EventLoop()

    async def main():
        protocol = Recorder()
        transport, peer = await _connected_pair(loop, protocol)
        transport.write(b"x" * 1000)
        transport.write(b"y" * 1000)
        return transport, peer

    transport, peer = loop.run_until_complete(main())
    transport.close()
    loop.close()
    assert peer.recv(4096)      # the bytes went out before the loop closed
    peer.close()
