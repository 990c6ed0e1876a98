"""Differential tests: the same file scenarios through aiofiles (the oracle) and through
uring.aio.open, comparing data, exceptions and positions after every method call."""

from __future__ import annotations

import inspect
import os

import pytest

from tests.kernel.aio_support import ALL_LOOPS, LOOPS, run

aiofiles = pytest.importorskip("aiofiles")
from uring import aio  # noqa: E402

TEXT = "first line\nsecond\r\nthird\rfourth ünïcode €\n\nlast without newline"
DATA = TEXT.encode("utf-8") + bytes(range(256)) * 40

# (mode, open kwargs, content, steps): each step is (method, args)
READS = [("read", ()), ("read", (5,)), ("tell", ()), ("read", (0,)), ("readline", ()), ("tell", ()),
         ("readline", (3,)), ("readlines", ()), ("tell", ()), ("read", ()), ("seek", (0,)),
         ("readline", ()), ("read", (7,)), ("seek", (0, 2)), ("read", ()), ("tell", ())]
BIN_READS = READS + [("seek", (3,)), ("read1", (10,)), ("tell", ()), ("seek", (-4, 1)), ("read", (6,)),
                     ("seek", (-10, 2)), ("read", (100,)), ("readall", ()), ("tell", ())]
WRITES = [("write", ("abc",)), ("tell", ()), ("writelines", (["x\n", "yz\r\n", "€\n"],)), ("flush", ()),
          ("tell", ()), ("write", ("tail",)), ("seek", (0,)), ("tell", ())]
BIN_WRITES = [("write", (b"abc",)), ("tell", ()), ("writelines", ([b"x\n", b"yz"],)), ("flush", ()),
              ("seek", (1,)), ("write", (b"Q",)), ("tell", ()), ("seek", (0, 2)), ("write", (b"end",)),
              ("truncate", (4,)), ("tell", ()), ("seek", (0,)), ("tell", ())]
UPDATE = [("read", (3,)), ("write", (b"WW",)), ("tell", ()), ("read", (4,)), ("seek", (0,)), ("read", ()),
          ("truncate", (5,)), ("seek", (0,)), ("read", ()), ("tell", ())]
TEXT_UPDATE = [("read", (3,)), ("tell", ()), ("seek", (0,)), ("write", ("AB",)), ("seek", (0,)),
               ("read", ()), ("tell", ())]
ERRORS = [("write", (b"x",)), ("write", ("x",)), ("read", ()), ("truncate", ())]

SCENARIOS = [
    ("rb", {}, DATA, BIN_READS),
    ("rb", {"buffering": 0}, DATA, BIN_READS),
    ("rb", {"buffering": 16}, DATA, BIN_READS),
    ("r", {}, DATA[:len(TEXT.encode())], READS),
    ("r", {"newline": ""}, DATA[:len(TEXT.encode())], READS),
    ("r", {"newline": "\r"}, DATA[:len(TEXT.encode())], READS),
    ("r", {"newline": "\r\n"}, DATA[:len(TEXT.encode())], READS),
    ("r", {"encoding": "latin-1"}, DATA, READS),
    ("r", {"encoding": "ascii", "errors": "replace"}, DATA, READS),
    ("r", {"encoding": "ascii"}, DATA, [("read", ())]),
    ("w", {}, b"", WRITES),
    ("w", {"newline": "\r\n"}, b"", WRITES),
    ("w", {"newline": "\r"}, b"", WRITES),
    ("wb", {}, b"", BIN_WRITES),
    ("wb", {"buffering": 0}, b"", BIN_WRITES),
    ("ab", {}, b"existing", BIN_WRITES),
    ("a", {}, b"existing\n", WRITES),
    ("r+b", {}, DATA[:100], UPDATE),
    ("r+b", {"buffering": 0}, DATA[:100], UPDATE),
    ("w+b", {}, b"", BIN_WRITES + [("seek", (0,)), ("read", ())]),
    ("r+", {}, b"hello world\nline two\n", TEXT_UPDATE),
    ("rb", {}, b"", ERRORS),
    ("r", {}, b"", ERRORS),
    ("wb", {}, b"", [("read", ()), ("readline", ())]),
    ("xb", {}, None, [("write", (b"new",)), ("tell", ())]),
]


def _outcome(fn):
    async def call(*args):
        try:
            res = await fn(*args)
        except Exception as exc:   # compared by type and message
            return ("raise", type(exc).__name__)
        return ("ok", res)
    return call


async def _scenario(opener, path, mode, kwargs, steps, missing):
    out = []
    try:
        f = await opener(path, mode, **kwargs)
    except Exception as exc:
        return [("open-raise", type(exc).__name__)]
    try:
        for name, args in steps:
            if name in missing or not hasattr(f, name):
                missing.add(name)   # the oracle's file object lacks it (e.g. readall when buffered)
                out.append((name, "missing"))
                continue
            out.append((name, await _outcome(getattr(f, name))(*args)))
        out.append(("closed", f.closed))
        await f.close()
        out.append(("closed", f.closed))
    finally:
        await f.close()
    with open(path, "rb") as raw:
        out.append(("file", raw.read()))
    return out


@pytest.mark.parametrize("loop_name", LOOPS)
@pytest.mark.parametrize("index", range(len(SCENARIOS)), ids=[f"{m}-{k}" for m, k, _, _ in SCENARIOS])
def test_file_methods_match_aiofiles(loop_name, index, tmp_path, fd_guard):
    mode, kwargs, content, steps = SCENARIOS[index]
    results = {}
    missing: set = set()
    for label, opener in (("aiofiles", aiofiles.open), ("ours", aio.open)):
        path = tmp_path / f"{label}.bin"
        if content is not None:
            path.write_bytes(content)
        results[label] = run(loop_name, lambda: _scenario(opener, str(path), mode, kwargs, steps, missing))
    assert results["ours"] == results["aiofiles"]


@pytest.mark.parametrize("loop_name", LOOPS)
def test_open_errors_match_aiofiles(loop_name, tmp_path, fd_guard):
    cases = [(str(tmp_path / "missing"), "r", {}), (str(tmp_path), "r", {}), (str(tmp_path / "f"), "rw", {}),
             (str(tmp_path / "f"), "r", {"buffering": 0}), (str(tmp_path / "f"), "rb", {"encoding": "utf-8"}),
             (str(tmp_path / "f"), "rb", {"newline": "\n"}), (str(tmp_path / "f"), "r", {"newline": "x"}),
             (str(tmp_path / "f"), "r", {"encoding": "no-such-codec"})]
    (tmp_path / "f").write_bytes(b"x")

    async def outcomes(opener):
        out = []
        for path, mode, kw in cases:
            try:
                f = await opener(path, mode, **kw)
            except Exception as exc:
                out.append((type(exc).__name__, getattr(exc, "errno", None), getattr(exc, "filename", None)))
            else:
                await f.close()
                out.append("opened")
        return out
    assert run(loop_name, lambda: outcomes(aio.open)) == run(loop_name, lambda: outcomes(aiofiles.open))


@pytest.mark.parametrize("loop_name", ALL_LOOPS)
def test_iteration_context_manager_and_attributes(loop_name, tmp_path, fd_guard):
    path = tmp_path / "lines.txt"
    path.write_text("a\nbb\nccc")

    async def main(opener):
        lines = []
        async with opener(str(path)) as f:
            async for line in f:
                lines.append(line)
            attrs = [f.name, f.mode, f.closed, await f.isatty(), f.fileno() >= 0]
            for method in (f.readable, f.writable, f.seekable):
                value = method()
                attrs.append(("awaitable", await value) if inspect.isawaitable(value) else value)
        async with opener(str(path), "rb") as f:
            blines = [line async for line in f]
        return lines, blines, attrs, f.closed
    assert run(loop_name, lambda: main(aio.open)) == run(loop_name, lambda: main(aiofiles.open))


@pytest.mark.parametrize("loop_name", ALL_LOOPS)
def test_readinto_matches_aiofiles(loop_name, tmp_path, fd_guard):
    path = tmp_path / "d"
    path.write_bytes(DATA[:5000])

    async def main(opener, buffering):
        async with opener(str(path), "rb", buffering=buffering) as f:
            b = bytearray(3000)
            n1 = await f.readinto(b)
            first = bytes(b[:n1])
            n2 = await f.readinto(b)
            return n1, first, n2, bytes(b[:n2]), await f.tell()
    for buffering in (-1, 0):
        assert run(loop_name, lambda: main(aio.open, buffering)) == run(loop_name, lambda: main(aiofiles.open, buffering))


@pytest.mark.parametrize("loop_name", LOOPS)
def test_o_direct_option(loop_name, tmp_path, fd_guard):
    data = os.urandom(3 * 4096)
    path = tmp_path / "direct"
    path.write_bytes(data)

    async def main():
        try:
            f = await aio.open(str(path), "r+b", direct=True)
        except OSError as exc:
            pytest.skip(f"no O_DIRECT on this filesystem: {exc}")
        async with f:
            assert os.get_blocking(f.fileno()) and os.O_DIRECT & __import__("fcntl").fcntl(f.fileno(), 3)
            head = await f.read(4096)
            rest = await f.read()
            await f.seek(4096)
            await f.write(b"Z" * 4096)
            await f.flush()
        return head, rest
    head, rest = run(loop_name, main)
    assert head + rest == data
    assert path.read_bytes() == data[:4096] + b"Z" * 4096 + data[8192:]
