"""uring.aio.os, os.path, tempfile, whole-file helpers and sock_* against their oracles
(aiofiles.os/ospath/tempfile, pathlib, asyncio's loop.sock_*), on asyncio and uvloop."""

from __future__ import annotations

import asyncio
import os
import socket

import pytest

from tests.kernel.aio_support import LOOPS, run
from uring import aio

aiofiles = pytest.importorskip("aiofiles")
import aiofiles.os  # noqa: E402
import aiofiles.ospath  # noqa: E402
import aiofiles.tempfile  # noqa: E402

pytestmark = pytest.mark.parametrize("loop_name", LOOPS)


async def _outcome(aw):
    try:
        res = await aw
    except Exception as exc:
        return ("raise", type(exc).__name__, getattr(exc, "errno", None))
    if isinstance(res, os.stat_result):
        return ("ok", tuple(res), res.st_mtime_ns, res.st_blksize)
    return ("ok", res)


async def _os_scenario(mod, root):
    p = lambda *parts: os.path.join(root, *parts)  # noqa: E731
    out = []
    steps = [
        lambda: mod.mkdir(p("d")), lambda: mod.mkdir(p("d")), lambda: mod.makedirs(p("a", "b", "c")),
        lambda: mod.makedirs(p("a", "b", "c"), exist_ok=True), lambda: mod.makedirs(p("a", "b", "c")),
        lambda: mod.stat(p("d")), lambda: mod.stat(p("missing")), lambda: mod.rename(p("d"), p("e")),
        lambda: mod.rename(p("missing"), p("x")), lambda: mod.replace(p("e"), p("f")),
        lambda: mod.symlink(p("f"), p("lnk")), lambda: mod.readlink(p("lnk")), lambda: mod.link(p("file"), p("hard")),
        lambda: mod.stat(p("hard")), lambda: mod.access(p("file"), os.R_OK), lambda: mod.listdir(root),
        lambda: mod.remove(p("hard")), lambda: mod.unlink(p("hard")), lambda: mod.rmdir(p("f")),
        lambda: mod.rmdir(p("a")), lambda: mod.removedirs(p("a", "b", "c")), lambda: mod.stat(p("a")),
        lambda: mod.renames(p("file"), p("n1", "n2", "file")), lambda: mod.stat(p("n1", "n2", "file")),
        lambda: mod.getcwd(),
    ]
    for step in steps:
        res = await _outcome(step())
        if res[0] == "ok" and isinstance(res[1], list):
            res = ("ok", sorted(res[1]))
        out.append(res)
    return out


def test_os_matches_aiofiles(loop_name, tmp_path, fd_guard):
    results = {}
    for label, mod in (("aiofiles", aiofiles.os), ("ours", aio.os)):
        root = tmp_path / label
        root.mkdir()
        (root / "file").write_bytes(b"data")
        results[label] = run(loop_name, lambda: _os_scenario(mod, str(root)))
    ours = [tuple(x.replace(str(tmp_path / "ours"), "ROOT") if isinstance(x, str) else x for x in r)
            for r in results["ours"]]
    theirs = [tuple(x.replace(str(tmp_path / "aiofiles"), "ROOT") if isinstance(x, str) else x for x in r)
              for r in results["aiofiles"]]
    # inode numbers and times differ between the two trees: compare what does not
    norm = lambda rs: [(r[0], r[1][0], r[1][6]) if r[0] == "ok" and len(r) == 4 else r for r in rs]  # noqa: E731
    assert norm(ours) == norm(theirs)


def test_stat_fields_match_os_stat(loop_name, tmp_path, fd_guard):
    f = tmp_path / "f"
    f.write_bytes(b"x" * 5000)

    async def main():
        fd = os.open(f, os.O_RDONLY)
        try:
            return await aio.os.stat(str(f)), await aio.os.stat(fd)
        finally:
            os.close(fd)
    by_path, by_fd = run(loop_name, main)
    expected = os.stat(f)
    for st in (by_path, by_fd):
        assert tuple(st) == tuple(expected)
        assert (st.st_mtime_ns, st.st_blocks, st.st_blksize, st.st_rdev) == (
            expected.st_mtime_ns, expected.st_blocks, expected.st_blksize, expected.st_rdev)


def test_ospath_matches_aiofiles(loop_name, tmp_path, fd_guard):
    (tmp_path / "file").write_bytes(b"abc")
    (tmp_path / "dir").mkdir()
    os.symlink(tmp_path / "file", tmp_path / "link")
    paths = [str(tmp_path / n) for n in ("file", "dir", "link", "missing")] + ["/", "/proc"]

    async def main(mod):
        out = []
        for path in paths:
            for name in ("exists", "isfile", "isdir", "islink", "ismount", "getsize", "getmtime", "getatime",
                         "getctime", "abspath"):
                out.append((path, name, await _outcome(getattr(mod, name)(path))))
        out.append(await _outcome(mod.samefile(paths[0], paths[2])))
        out.append(await _outcome(mod.samefile(paths[0], paths[1])))
        fd1, fd2 = os.open(paths[0], os.O_RDONLY), os.open(paths[2], os.O_RDONLY)
        out.append(await _outcome(mod.sameopenfile(fd1, fd2)))
        os.close(fd1)
        os.close(fd2)
        return out
    assert run(loop_name, lambda: main(aio.os.path)) == run(loop_name, lambda: main(aiofiles.ospath))


def test_tempfile_matches_aiofiles(loop_name, fd_guard):
    async def main(mod):
        out = []
        async with mod.TemporaryFile() as f:
            await f.write(b"hello")
            await f.seek(0)
            out.append(await f.read())
        async with mod.NamedTemporaryFile("w+") as f:
            await f.write("text\nmore")
            await f.seek(0)
            out.append(await f.readline())
            name = f.name
            out.append(os.path.exists(name))
        out.append(os.path.exists(name))
        async with mod.SpooledTemporaryFile(max_size=10) as f:
            await f.write(b"0123456789abcdef")
            await f.seek(0)
            out.append(await f.read())
        async with mod.TemporaryDirectory() as d:
            out.append(os.path.isdir(d))
        out.append(os.path.exists(d))
        return out
    assert run(loop_name, lambda: main(aio.tempfile)) == run(loop_name, lambda: main(aiofiles.tempfile))


def test_whole_file_helpers_match_pathlib(loop_name, tmp_path, fd_guard):
    sizes = [0, 1, 4095, 65535, 65536, 65537, 300_000]
    blobs = {n: os.urandom(n) for n in sizes}
    for n, data in blobs.items():
        (tmp_path / f"f{n}").write_bytes(data)

    async def main():
        out = {n: await aio.read_bytes(str(tmp_path / f"f{n}")) for n in sizes}
        many = await asyncio.gather(*(aio.read_bytes(str(tmp_path / "f4095")) for _ in range(600)))
        assert all(m == blobs[4095] for m in many)
        with pytest.raises(FileNotFoundError) as info:
            await aio.read_bytes(str(tmp_path / "missing"))
        assert info.value.filename == str(tmp_path / "missing")
        with pytest.raises(IsADirectoryError):
            await aio.read_bytes(str(tmp_path))
        assert await aio.write_bytes(str(tmp_path / "w"), b"abc" * 1000) == 3000
        assert await aio.write_text(str(tmp_path / "t"), "é\nline") == 6
        text = await aio.read_text(str(tmp_path / "t"), encoding="utf-8")
        return out, text
    out, text = run(loop_name, main)
    assert out == blobs
    assert (tmp_path / "w").read_bytes() == b"abc" * 1000
    assert text == (tmp_path / "t").read_text(encoding="utf-8") == "é\nline"


def test_write_bytes_chain_matches_pathlib(loop_name, tmp_path, fd_guard):
    sizes = [0, 1, 4096, 65537, 1 << 20]
    blobs = {n: os.urandom(n) for n in sizes}
    (tmp_path / "old").write_bytes(b"y" * 100_000)   # truncated, as pathlib does

    async def main():
        for n, data in blobs.items():
            assert await aio.write_bytes(str(tmp_path / f"w{n}"), data) == n
        assert await aio.write_bytes(str(tmp_path / "old"), bytearray(b"short")) == 5
        assert await aio.write_bytes(str(tmp_path / "view"), memoryview(b"abcdef")[1:4]) == 3
        many = await asyncio.gather(*(aio.write_bytes(str(tmp_path / f"m{i}"), b"%d" % i)
                                      for i in range(600)))   # more files than slots
        assert many == [len(b"%d" % i) for i in range(600)]
        with pytest.raises(FileNotFoundError) as info:
            await aio.write_bytes(str(tmp_path / "no" / "such"), b"x")
        assert info.value.filename == str(tmp_path / "no" / "such")
        with pytest.raises(IsADirectoryError):
            await aio.write_bytes(str(tmp_path), b"x")
        for bad in (aio.read_bytes("nul\0byte"), aio.write_bytes("nul\0byte", b"x")):
            with pytest.raises(ValueError):   # refused before anything is queued
                await bad
        # the slots all went back: a full round of slots still works
        await asyncio.gather(*(aio.write_bytes(str(tmp_path / f"m{i}"), b"again") for i in range(256)))
        assert len(aio.get_ring()._aio_slots.free) == 256
    run(loop_name, main)
    for n, data in blobs.items():
        assert (tmp_path / f"w{n}").read_bytes() == data
    assert (tmp_path / "old").read_bytes() == b"short"
    assert (tmp_path / "view").read_bytes() == b"bcd"
    assert all((tmp_path / f"m{i}").read_bytes() == (b"again" if i < 256 else b"%d" % i)
               for i in range(600))
    assert (tmp_path / "w0").stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_read_bytes_cancelled_leaves_slots_usable(loop_name, tmp_path, fd_guard):
    (tmp_path / "f").write_bytes(b"z" * 100)

    async def main():
        tasks = [asyncio.ensure_future(aio.read_bytes(str(tmp_path / "f"))) for _ in range(300)]
        tasks += [asyncio.ensure_future(aio.write_bytes(str(tmp_path / f"w{i}"), b"w" * 100))
                  for i in range(300)]
        await asyncio.sleep(0)
        for t in tasks[::2]:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.sleep(0.02)
        return await asyncio.gather(*(aio.read_bytes(str(tmp_path / "f")) for _ in range(300)))
    assert all(d == b"z" * 100 for d in run(loop_name, main))


async def _socket_scenario(api):
    out = []
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(2)
    srv.setblocking(False)
    cli = socket.socket()
    cli.setblocking(False)
    try:
        accepting = asyncio.ensure_future(api.sock_accept(srv))
        await api.sock_connect(cli, srv.getsockname())
        conn, addr = await accepting
        out.append(addr == cli.getsockname())
        with conn:
            await api.sock_sendall(cli, b"x" * 200_000)
            got = b""
            while len(got) < 200_000:
                got += await api.sock_recv(conn, 65536)
            out.append(len(got))
            buf = bytearray(10)
            await api.sock_sendall(conn, b"ping")
            out.append(await api.sock_recv_into(cli, buf))
            out.append(bytes(buf[:4]))
            cli.shutdown(socket.SHUT_WR)
            out.append(await api.sock_recv(conn, 10))
        if api is aio:   # asyncio checks this only in debug mode
            with socket.socket() as blocking, pytest.raises(ValueError, match="non-blocking"):
                await api.sock_recv(blocking, 1)
        refused = socket.socket()
        refused.setblocking(False)
        try:
            await api.sock_connect(refused, ("127.0.0.1", 1))
        except OSError as exc:
            out.append(type(exc).__name__)
        finally:
            refused.close()
        u1, u2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for u in (u1, u2):
            u.bind(("127.0.0.1", 0))
            u.setblocking(False)
        with u1, u2:
            out.append(await api.sock_sendto(u1, b"dgram", u2.getsockname()))
            data, addr = await api.sock_recvfrom(u2, 100)
            out.append((data, addr == u1.getsockname()))
            await api.sock_sendto(u1, b"into", u2.getsockname())
            buf = bytearray(100)
            n, addr = await api.sock_recvfrom_into(u2, buf)
            out.append((bytes(buf[:n]), addr == u1.getsockname()))
    finally:
        cli.close()
        srv.close()
    return out


class _LoopApi:
    def __getattr__(self, name):
        return getattr(asyncio.get_running_loop(), name)


def test_sockets_match_asyncio(loop_name, fd_guard):
    if loop_name == "uvloop":
        oracle_loop = "asyncio"   # uvloop lacks sock_sendto/sock_recvfrom: stdlib is the oracle
    else:
        oracle_loop = loop_name
    ours = run(loop_name, lambda: _socket_scenario(aio))
    theirs = run(oracle_loop, lambda: _socket_scenario(_LoopApi()))
    assert ours == theirs


def test_sock_sendfile_matches_asyncio(loop_name, tmp_path, fd_guard):
    data = os.urandom(300_000)
    (tmp_path / "f").write_bytes(data)

    async def main(api):
        a, b = socket.socketpair()
        a.setblocking(False)
        b.setblocking(False)
        with a, b, open(tmp_path / "f", "rb") as f:
            sending = asyncio.ensure_future(api.sock_sendfile(a, f, 1000, 200_000))
            got = b""
            while len(got) < 200_000:
                got += await asyncio.get_running_loop().sock_recv(b, 65536)
            return await sending, got == data[1000:201_000], f.tell()
    assert run(loop_name, lambda: main(aio)) == run("asyncio", lambda: main(_LoopApi())) == (200_000, True, 201_000)


def test_sendfile_splices(loop_name, tmp_path, fd_guard):
    data = os.urandom(100_000)
    (tmp_path / "src").write_bytes(data)

    async def main():
        src = os.open(tmp_path / "src", os.O_RDONLY)
        dst = os.open(tmp_path / "dst", os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            return await aio.os.sendfile(dst, src, 10, 50_000)
        finally:
            os.close(src)
            os.close(dst)
    assert run(loop_name, main) == 50_000
    assert (tmp_path / "dst").read_bytes() == data[10:50_010]
