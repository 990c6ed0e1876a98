"""The rest of asyncio on both loops (asyncio is the oracle): datagrams, pipes, subprocesses,
signals, TLS over our transports, name resolution, readers/writers and sock_* calls."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys

import pytest


def test_datagram_endpoint_echo(any_loop):
    class Echo(asyncio.DatagramProtocol):
        def connection_made(self, transport):
            self.transport = transport

        def datagram_received(self, data, addr):
            self.transport.sendto(data.upper(), addr)

    class Client(asyncio.DatagramProtocol):
        def __init__(self):
            self.got = any_loop.create_future()

        def datagram_received(self, data, addr):
            self.got.set_result(data)

    async def main():
        server, _ = await any_loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
        addr = server.get_extra_info("sockname")
        client, proto = await any_loop.create_datagram_endpoint(Client, remote_addr=addr)
        client.sendto(b"ping")
        got = await asyncio.wait_for(proto.got, 5)
        client.close()
        server.close()
        await asyncio.sleep(0)
        return got

    assert any_loop.run_until_complete(main()) == b"PING"


def test_pipes(any_loop):
    async def main():
        r, w = os.pipe()
        reader = asyncio.StreamReader()
        rt, _ = await any_loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader),
                                                 os.fdopen(r, "rb", 0))
        wt, wp = await any_loop.connect_write_pipe(asyncio.Protocol, os.fdopen(w, "wb", 0))
        wt.write(b"through the pipe")
        wt.close()
        got = await reader.read()
        rt.close()
        await asyncio.sleep(0)
        return got

    assert any_loop.run_until_complete(main()) == b"through the pipe"


def test_subprocess_exec_and_shell(any_loop):
    async def main():
        p = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "import sys; sys.stdout.write(sys.stdin.read()[::-1]); sys.exit(3)",
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        out, _ = await p.communicate(b"abc")
        s = await asyncio.create_subprocess_shell("echo $((6*7))", stdout=subprocess.PIPE)
        out2, _ = await s.communicate()
        return out, p.returncode, out2, s.returncode

    assert any_loop.run_until_complete(main()) == (b"cba", 3, b"42\n", 0)


def test_signal_handler(any_loop):
    got = []

    async def main():
        any_loop.add_signal_handler(signal.SIGUSR1, got.append, "usr1")
        os.kill(os.getpid(), signal.SIGUSR1)
        for _ in range(100):
            if got:
                break
            await asyncio.sleep(0.01)
        assert any_loop.remove_signal_handler(signal.SIGUSR1)
        assert not any_loop.remove_signal_handler(signal.SIGUSR1)

    any_loop.run_until_complete(main())
    assert got == ["usr1"]


def test_getaddrinfo_and_getnameinfo(any_loop):
    async def main():
        infos = await any_loop.getaddrinfo("127.0.0.1", 80, type=socket.SOCK_STREAM)
        name = await any_loop.getnameinfo(("127.0.0.1", 80), socket.NI_NUMERICHOST | socket.NI_NUMERICSERV)
        return infos[0][4], name

    assert any_loop.run_until_complete(main()) == (("127.0.0.1", 80), ("127.0.0.1", "80"))


def test_add_reader_writer_and_sock_calls(any_loop):
    async def main():
        a, b = socket.socketpair()
        a.setblocking(False)
        b.setblocking(False)
        seen = any_loop.create_future()
        any_loop.add_reader(a, lambda: seen.set_result(a.recv(100)))
        b.send(b"ready")
        got = await asyncio.wait_for(seen, 5)
        assert any_loop.remove_reader(a)
        writable = any_loop.create_future()
        any_loop.add_writer(b, writable.set_result, True)
        await asyncio.wait_for(writable, 5)
        assert any_loop.remove_writer(b)
        await any_loop.sock_sendall(a, b"x" * 100000)
        chunks = []
        while sum(map(len, chunks)) < 100000:
            chunks.append(await any_loop.sock_recv(b, 65536))
        a.close()
        b.close()
        return got, b"".join(chunks)

    assert any_loop.run_until_complete(main()) == (b"ready", b"x" * 100000)


@pytest.fixture
def tls_contexts(tmp_path):
    import ssl
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command to make a test certificate")
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "1", "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.load_verify_locations(cert)
    return server, client


def test_tls_echo_and_start_tls(any_loop, tls_contexts):
    server_ctx, client_ctx = tls_contexts

    async def handle(r, w):
        line = await r.readline()
        if line == b"STARTTLS\n":
            w.write(b"GO\n")           # the client starts its handshake only after this
            await w.start_tls(server_ctx, ssl_handshake_timeout=5)
            line = await r.readline()
        w.write(line.upper())
        await w.drain()
        w.close()

    async def main():
        plain = await asyncio.start_server(handle, "127.0.0.1", 0)
        tls = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_ctx)
        r, w = await asyncio.open_connection("127.0.0.1", tls.sockets[0].getsockname()[1],
                                             ssl=client_ctx, server_hostname="localhost")
        w.write(b"secret\n")
        one = await r.read()
        w.close()
        await w.wait_closed()
        r, w = await asyncio.open_connection("127.0.0.1", plain.sockets[0].getsockname()[1])
        w.write(b"STARTTLS\n")
        assert await r.readline() == b"GO\n"
        await w.start_tls(client_ctx, server_hostname="localhost", ssl_handshake_timeout=5)
        w.write(b"upgraded\n")
        two = await r.read()
        w.close()
        await w.wait_closed()
        for s in (plain, tls):
            s.close()
            await s.wait_closed()
        return one, two

    assert any_loop.run_until_complete(main()) == (b"SECRET\n", b"UPGRADED\n")
