"""aiofiles.tempfile: TemporaryFile, NamedTemporaryFile, SpooledTemporaryFile and
TemporaryDirectory as async context managers; file I/O goes through the loop's ring."""

from __future__ import annotations

import asyncio
import shutil
import tempfile as _tempfile
from typing import Any

from uring.aio.files import _make

__all__ = ["TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile", "TemporaryDirectory"]


class _TempFile:
    """Awaitable and async context manager around a stdlib temporary file: reads and
    writes go through the ring on its fd; close() closes (and so deletes) the stdlib one."""

    def __init__(self, factory: Any, mode: str, buffering: int, encoding: str | None, newline: str | None,
                 **kwargs: Any) -> None:
        self._sync = factory(mode=mode, buffering=buffering, encoding=encoding, newline=newline, **kwargs)
        self._file = _make(self._sync.fileno(), getattr(self._sync, "name", None), mode, buffering, encoding, None,
                           newline, False)
        close = self._file.close

        async def close_both() -> None:
            try:
                await close()
            finally:
                self._sync.close()
        self._file.close = close_both  # type: ignore[method-assign]

    def __await__(self) -> Any:
        async def get() -> Any:
            return self._file
        return get().__await__()

    async def __aenter__(self) -> Any:
        return self._file

    async def __aexit__(self, *exc: Any) -> None:
        await self._file.close()


def TemporaryFile(mode: str = "w+b", buffering: int = -1, encoding: str | None = None, newline: str | None = None,
                  suffix: str | None = None, prefix: str | None = None, dir: Any = None) -> _TempFile:
    """An unnamed temporary file (tempfile.TemporaryFile), async."""
    return _TempFile(_tempfile.TemporaryFile, mode, buffering, encoding, newline, suffix=suffix, prefix=prefix,
                     dir=dir)


def NamedTemporaryFile(mode: str = "w+b", buffering: int = -1, encoding: str | None = None,
                       newline: str | None = None, suffix: str | None = None, prefix: str | None = None,
                       dir: Any = None, delete: bool = True) -> _TempFile:
    """A named temporary file (tempfile.NamedTemporaryFile), async; `.name` is its path."""
    return _TempFile(_tempfile.NamedTemporaryFile, mode, buffering, encoding, newline, suffix=suffix,
                     prefix=prefix, dir=dir, delete=delete)


class _Spooled:
    """tempfile.SpooledTemporaryFile with coroutine methods: it lives in memory until it
    grows past max_size, so its methods run inline (no thread, no ring)."""

    _METHODS = ("read", "read1", "readline", "readlines", "write", "writelines", "seek", "tell", "truncate",
                "flush", "close", "rollover", "readinto", "isatty")

    def __init__(self, sync: Any) -> None:
        self._sync = sync

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._sync, name)
        if name in self._METHODS:
            async def call(*args: Any, **kwargs: Any) -> Any:
                return attr(*args, **kwargs)
            return call
        return attr

    def __aiter__(self) -> "_Spooled":
        return self

    async def __anext__(self) -> Any:
        line = self._sync.readline()
        if not line:
            raise StopAsyncIteration
        return line

    def __await__(self) -> Any:
        async def get() -> "_Spooled":
            return self
        return get().__await__()

    async def __aenter__(self) -> "_Spooled":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self._sync.close()


def SpooledTemporaryFile(max_size: int = 0, mode: str = "w+b", buffering: int = -1, encoding: str | None = None,
                         newline: str | None = None, suffix: str | None = None, prefix: str | None = None,
                         dir: Any = None) -> _Spooled:
    """tempfile.SpooledTemporaryFile, async (see _Spooled)."""
    return _Spooled(_tempfile.SpooledTemporaryFile(max_size=max_size, mode=mode, buffering=buffering,
                                                   encoding=encoding, newline=newline, suffix=suffix,
                                                   prefix=prefix, dir=dir))


class TemporaryDirectory:
    """tempfile.TemporaryDirectory, async: `async with` gives its path; removal (a tree
    walk, no io_uring op) runs in the default executor."""

    def __init__(self, suffix: str | None = None, prefix: str | None = None, dir: Any = None) -> None:
        self.name = _tempfile.mkdtemp(suffix, prefix, dir)

    def __await__(self) -> Any:
        async def get() -> "TemporaryDirectory":
            return self
        return get().__await__()

    async def __aenter__(self) -> str:
        return self.name

    async def __aexit__(self, *exc: Any) -> None:
        await self.cleanup()

    async def cleanup(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, shutil.rmtree, self.name, True)
