"""aiofiles-compatible async files on the loop's ring: `open()` (binary raw/buffered and
text modes with Python's io semantics), `wrap()` of an open file, and async std streams."""

from __future__ import annotations

import codecs
import io
import locale
import mmap
import os
import stat
import sys
from typing import Any, AsyncIterator, Callable, Generator, Iterable

from uring.aio import _fast
from uring.ops import AT_FDCWD
from uring.ops import fs as _fs

__all__ = ["open", "wrap", "aligned_buffer", "AsyncFile", "AsyncTextFile", "stdin", "stdout", "stderr",
           "stdin_bytes", "stdout_bytes", "stderr_bytes"]

DEFAULT_BUFFER_SIZE = io.DEFAULT_BUFFER_SIZE
_PAGE = mmap.PAGESIZE
_CUR = -1   # io_uring offset -1: use and advance the file position, as read(2)/write(2) do


def _parse_mode(mode: str) -> tuple[int, bool, bool, bool, bool]:
    """(open flags, readable, writable, binary, append) for an io.open mode string, with
    io.open's ValueErrors for invalid ones."""
    if not isinstance(mode, str):
        raise TypeError(f"open() argument 'mode' must be str, not {type(mode).__name__}")
    modes = set(mode)
    if modes - set("axrwb+t") or len(mode) > len(modes):
        raise ValueError(f"invalid mode: '{mode}'")
    creating, reading, writing, appending = "x" in modes, "r" in modes, "w" in modes, "a" in modes
    updating, text, binary = "+" in modes, "t" in modes, "b" in modes
    if text and binary:
        raise ValueError("can't have text and binary mode at once")
    if creating + reading + writing + appending > 1:
        raise ValueError("must have exactly one of create/read/write/append mode")
    if creating + reading + writing + appending == 0:   # io.FileIO's wording, as io.open lets it say it
        raise ValueError("Must have exactly one of create/read/write/append mode and at most one plus")
    flags = os.O_CLOEXEC
    if reading:
        flags |= os.O_RDWR if updating else os.O_RDONLY
    else:
        flags |= (os.O_RDWR if updating else os.O_WRONLY) | os.O_CREAT
        flags |= os.O_EXCL if creating else os.O_TRUNC if writing else os.O_APPEND
    return flags, reading or updating, not reading or updating, binary, appending


def _closed() -> ValueError:
    return ValueError("I/O operation on closed file.")


class _Lines:
    """readlines() and async iteration over lines, from a readline() coroutine."""

    async def readline(self, size: int | None = -1) -> Any:
        raise NotImplementedError

    async def readlines(self, hint: int | None = -1) -> list[Any]:
        lines = []
        total = 0
        while True:
            line = await self.readline()
            if not line:
                break
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __aiter__(self) -> Any:
        return self

    async def __anext__(self) -> Any:
        line = await self.readline()
        if not line:
            raise StopAsyncIteration
        return line


class AsyncFile(_Lines):
    """A binary file whose reads and writes go through the loop's ring (IORING_OP_READ and
    WRITE at the file position), buffered like io.BufferedReader/Writer/Random, or raw like
    io.FileIO with buffering=0. Methods are coroutines, as in aiofiles."""

    def __init__(self, fd: int, name: Any, mode: str, *, readable: bool, writable: bool,
                 buffer_size: int, closefd: bool = True, append: bool = False, direct: bool = False) -> None:
        self._fd = fd
        self._direct = direct
        self.name = name
        self.mode = mode
        self._readable = readable
        self._writable = writable
        self._raw = buffer_size == 0
        self._bufsize = buffer_size or DEFAULT_BUFFER_SIZE
        self._closefd = closefd
        self._append = append
        self._rbuf = b""
        self._rpos = 0
        self._wbuf = bytearray()
        self.closed = False
        # Reads and writes of a seekable file go at explicit offsets from our own position
        # (the kernel's file position is not advanced by every kind of io_uring read, e.g.
        # O_DIRECT ones); seek() and close() bring the kernel's position along.
        try:
            # as io.FileIO does, append mode starts at the end (tell() reports it)
            self._pos = os.lseek(fd, 0, os.SEEK_END if append else os.SEEK_CUR)
            self._seekable = True
        except OSError:
            self._pos = 0
            self._seekable = False

    # -- helpers ---------------------------------------------------------------------------

    def _check(self, readable: bool = False, writable: bool = False) -> None:
        if self.closed:
            raise _closed()
        if readable and not self._readable:
            raise io.UnsupportedOperation("read" if not self._raw else "File not open for reading")
        if writable and not self._writable:
            raise io.UnsupportedOperation("write" if not self._raw else "File not open for writing")

    def _offset(self) -> int:
        return self._pos if self._seekable else _CUR

    async def _raw_read(self, n: int) -> bytes:
        if self._direct:
            with aligned_buffer(n) as buf:   # O_DIRECT: page-aligned memory, whole blocks
                got = await _fast.read(self._fd, buf, len(buf), self._offset())
                self._pos += got
                return buf[:got]
        data = bytearray(n)
        got = await _fast.read(self._fd, data, n, self._offset())
        self._pos += got
        del data[got:]
        return bytes(data)

    async def _raw_write(self, view: Any, n: int) -> int:
        done = await _fast.write(self._fd, view, n, _CUR if self._append or not self._seekable else self._pos)
        if self._append and self._seekable:
            self._pos = os.lseek(self._fd, 0, os.SEEK_END)   # O_APPEND wrote at the end
        else:
            self._pos += done
        return done

    async def _raw_write_all(self, data: Any) -> None:
        view = memoryview(data)
        if self._direct and view:
            # O_DIRECT writes whole blocks from aligned memory: the caller writes multiples
            # of the device block size (the kernel answers EINVAL otherwise).
            # Not closed here: a view of it may outlive the op a little (it is unmapped when freed).
            whole = memoryview(aligned_buffer(len(view)))
            whole[:len(view)] = view
            done = 0
            while done < len(view):
                done += await self._raw_write(whole[done:len(view)], len(view) - done)
            return
        while view:
            n = await self._raw_write(view, len(view))
            view = view[n:]

    def _unread(self) -> int:
        return len(self._rbuf) - self._rpos

    def _take(self, n: int) -> bytes:
        out = self._rbuf[self._rpos:self._rpos + n]
        self._rpos += len(out)
        return out

    def _drop_read_buffer(self) -> None:
        """Give back what was read ahead: the file position moves back to where the
        caller is, as BufferedRandom does before a write or seek."""
        self._pos -= self._unread()
        self._rbuf = b""
        self._rpos = 0

    # -- reading -----------------------------------------------------------------------------

    async def read(self, size: int | None = -1) -> bytes:
        self._check(readable=True)
        if size is None or size < 0:
            return await self.readall()
        if self._wbuf:
            await self.flush()
        if self._raw:
            return await self._raw_read(size)
        have = self._unread()
        if have >= size:
            return self._take(size)
        parts = [self._take(have)]
        need = size - have
        while need > 0:
            chunk = await self._raw_read(max(need, self._bufsize))
            if not chunk:
                break
            if len(chunk) > need:
                self._rbuf, self._rpos = chunk, need
                chunk = chunk[:need]
            parts.append(chunk)
            need -= len(chunk)
        return b"".join(parts)

    async def read1(self, size: int = -1) -> bytes:
        self._check(readable=True)
        if self._raw:
            return await self.read(size)
        if self._wbuf:
            await self.flush()
        if self._unread():
            return self._take(self._unread() if size < 0 else size)
        if size == 0:
            return b""
        chunk = await self._raw_read(self._bufsize if size < 0 else max(size, self._bufsize))
        if 0 <= size < len(chunk):
            self._rbuf, self._rpos = chunk, size
            return chunk[:size]
        return chunk

    async def readall(self) -> bytes:
        self._check(readable=True)
        if self._wbuf:
            await self.flush()
        parts = [self._take(self._unread())]
        chunk_size = self._bufsize
        if self._seekable:
            try:
                left = os.fstat(self._fd).st_size - self._pos
                chunk_size = max(left + 1, self._bufsize)
            except OSError:
                pass
        while True:
            chunk = await self._raw_read(chunk_size)
            if not chunk:
                break
            parts.append(chunk)
            chunk_size = max(chunk_size, self._bufsize)
        return b"".join(parts)

    async def readinto(self, b: Any) -> int:
        self._check(readable=True)
        view = memoryview(b).cast("B")
        if self._raw:
            got = await _fast.read(self._fd, view, len(view), self._offset())
            self._pos += got
            return got
        data = await self.read(len(view))
        view[:len(data)] = data
        return len(data)

    async def readinto1(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        data = await self.read1(len(view))
        view[:len(data)] = data
        return len(data)

    async def readline(self, size: int | None = -1) -> bytes:
        self._check(readable=True)
        if size is None:
            size = -1
        if self._wbuf:
            await self.flush()
        parts: list[bytes] = []
        total = 0
        while True:
            buf, pos = self._rbuf, self._rpos
            end = buf.find(b"\n", pos)
            stop = len(buf) if end < 0 else end + 1
            if size >= 0 and total + (stop - pos) > size:
                stop = pos + size - total
            parts.append(buf[pos:stop])
            total += stop - pos
            self._rpos = stop
            if (end >= 0 and stop == end + 1) or (size >= 0 and total >= size):
                break
            chunk = await self._raw_read(1 if self._raw else self._bufsize)
            if not chunk:
                break
            self._rbuf, self._rpos = chunk, 0
        if self._raw and self._unread():
            self._drop_read_buffer()
        return b"".join(parts)

    # -- writing -----------------------------------------------------------------------------

    async def write(self, b: Any) -> int:
        self._check(writable=True)
        if isinstance(b, str):
            raise TypeError(f"a bytes-like object is required, not 'str'")
        if self._unread() or self._rbuf:
            self._drop_read_buffer()
        if self._raw:
            return await self._raw_write(b, memoryview(b).nbytes)
        n = memoryview(b).nbytes
        self._wbuf += b
        if len(self._wbuf) >= self._bufsize:
            await self.flush()
        return n

    async def writelines(self, lines: Iterable[Any]) -> None:
        for line in lines:
            await self.write(line)

    async def flush(self) -> None:
        if self.closed:
            raise _closed()
        if self._wbuf:
            data, self._wbuf = self._wbuf, bytearray()
            await self._raw_write_all(data)

    # -- positioning -------------------------------------------------------------------------

    async def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if self.closed:
            raise _closed()
        if whence not in (os.SEEK_SET, os.SEEK_CUR, os.SEEK_END, getattr(os, "SEEK_DATA", 3),
                          getattr(os, "SEEK_HOLE", 4)):
            raise ValueError(f"invalid whence ({whence}, should be 0, 1 or 2)")
        await self.flush()
        if whence == os.SEEK_CUR and self._seekable:
            offset += self._pos - self._unread()
            whence = os.SEEK_SET
        self._rbuf, self._rpos = b"", 0
        self._pos = os.lseek(self._fd, offset, whence)
        return self._pos

    async def tell(self) -> int:
        if self.closed:
            raise _closed()
        if not self._seekable:
            os.lseek(self._fd, 0, os.SEEK_CUR)   # raises ESPIPE, as io does
        return self._pos - self._unread() + len(self._wbuf)

    async def truncate(self, size: int | None = None) -> int:
        self._check(writable=True)
        await self.flush()
        if size is None:
            size = await self.tell()
        os.ftruncate(self._fd, size)
        return size

    # -- the rest of the file object ---------------------------------------------------------

    async def close(self) -> None:
        if self.closed:
            return
        try:
            if self._writable:
                await self.flush()
        finally:
            self.closed = True
            if self._closefd:
                await _fast.queue(_fs.close(self._fd))
            elif self._seekable:
                os.lseek(self._fd, self._pos - self._unread(), os.SEEK_SET)

    def fileno(self) -> int:
        if self.closed:
            raise _closed()
        return self._fd

    async def isatty(self) -> bool:
        if self.closed:
            raise _closed()
        return os.isatty(self._fd)

    def readable(self) -> bool:
        if self.closed:
            raise _closed()
        return self._readable

    async def writable(self) -> bool:
        if self.closed:
            raise _closed()
        return self._writable

    async def seekable(self) -> bool:
        if self.closed:
            raise _closed()
        return self._seekable

    async def peek(self, size: int = 0) -> bytes:
        """The buffered bytes ahead (reading a chunk if none), without consuming them."""
        self._check(readable=True)
        if not self._unread():
            self._rbuf, self._rpos = await self._raw_read(self._bufsize), 0
        return self._rbuf[self._rpos:]

    async def __aenter__(self) -> "AsyncFile":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<uring.aio {type(self).__name__} name={self.name!r} mode={self.mode!r} closed={self.closed}>"


class AsyncTextFile(_Lines):
    """Text I/O over an AsyncFile with io.TextIOWrapper's encoding, errors and newline
    semantics (universal newlines by default); tell() gives an opaque cookie seek() takes."""

    def __init__(self, buffer: AsyncFile, encoding: str | None, errors: str | None,
                 newline: str | None, line_buffering: bool = False) -> None:
        if newline not in (None, "", "\n", "\r", "\r\n"):
            raise ValueError(f"illegal newline value: {newline!r}")
        self.buffer = buffer
        self.encoding = encoding or locale.getpreferredencoding(False)
        codecs.lookup(self.encoding)
        self.errors = errors or "strict"
        self._newline = newline
        self.line_buffering = line_buffering
        self._decoded = ""
        self._dpos = 0
        self._chunk_start = 0          # file offset the pending decoded text started at
        self._chunk_bytes = b""       # the bytes decoded since then
        self._chunk_state: Any = None  # decoder state before them
        self._decoder = self._new_decoder()
        self._encoder = codecs.getincrementalencoder(self.encoding)(self.errors)
        self._eof = False

    def _new_decoder(self) -> Any:
        decoder: Any = codecs.getincrementaldecoder(self.encoding)(self.errors)
        if self._newline is None or self._newline == "":
            decoder = io.IncrementalNewlineDecoder(decoder, translate=self._newline is None)
        return decoder

    name = property(lambda self: self.buffer.name)
    mode = property(lambda self: self.buffer.mode)
    closed = property(lambda self: self.buffer.closed)

    @property
    def newlines(self) -> Any:
        return getattr(self._decoder, "newlines", None)

    def fileno(self) -> int:
        return self.buffer.fileno()

    async def readable(self) -> bool:
        return self.buffer.readable()

    async def writable(self) -> bool:
        return await self.buffer.writable()

    async def seekable(self) -> bool:
        return await self.buffer.seekable()

    async def isatty(self) -> bool:
        return await self.buffer.isatty()

    def _check(self, readable: bool = False, writable: bool = False) -> None:
        if self.buffer.closed:
            raise _closed()
        if readable and not self.buffer._readable:
            raise io.UnsupportedOperation("not readable")
        if writable and not self.buffer._writable:
            raise io.UnsupportedOperation("not writable")

    def _pending(self) -> str:
        return self._decoded[self._dpos:]

    async def _fill(self, final_ok: bool = True) -> bool:
        """Decode one more chunk into the pending text; False at EOF."""
        if self._eof:
            return False
        if self._dpos >= len(self._decoded):
            self._chunk_start = await self.buffer.tell() if self.buffer._seekable else 0
            self._chunk_bytes = b""
            self._chunk_state = self._decoder.getstate()
            self._decoded, self._dpos = "", 0
        data = await self.buffer.read1(self.buffer._bufsize)
        self._chunk_bytes += data
        text = self._decoder.decode(data, final=not data)
        if not data:
            self._eof = True
        self._decoded += text   # _chunk_* keep describing _decoded from its start
        return bool(data) or bool(text)

    async def read(self, size: int | None = -1) -> str:
        self._check(readable=True)
        await self.buffer.flush()
        if size is None or size < 0:
            data = await self.buffer.read()
            text = self._pending() + self._decoder.decode(data, final=True)
            self._reset_chunk()
            self._eof = True
            return text
        while len(self._decoded) - self._dpos < size and await self._fill():
            pass
        out = self._decoded[self._dpos:self._dpos + size]
        self._dpos += len(out)
        return out

    def _reset_chunk(self) -> None:
        self._decoded, self._dpos = "", 0
        self._chunk_bytes = b""

    def _find_eol(self, text: str, start: int) -> tuple[int, bool]:
        """(index just past the line end, found) in text[start:]."""
        nl = self._newline
        if nl is None or nl == "\n":
            i = text.find("\n", start)
            return (i + 1, True) if i >= 0 else (len(text), False)
        if nl == "":
            i = start
            while i < len(text):
                c = text[i]
                if c == "\n":
                    return i + 1, True
                if c == "\r":
                    if i + 1 < len(text):
                        return (i + 2, True) if text[i + 1] == "\n" else (i + 1, True)
                    return len(text), False   # a "\r" at the end may start "\r\n"
                i += 1
            return len(text), False
        i = text.find(nl, start)
        return (i + len(nl), True) if i >= 0 else (len(text), False)

    async def readline(self, size: int | None = -1) -> str:
        self._check(readable=True)
        await self.buffer.flush()
        if size is None:
            size = -1
        while True:
            end, found = self._find_eol(self._decoded, self._dpos)
            if size >= 0 and end - self._dpos >= size:
                end, found = self._dpos + size, True
            if found:
                break
            if not await self._fill():
                end = len(self._decoded) if size < 0 else min(len(self._decoded), self._dpos + size)
                break
        line = self._decoded[self._dpos:end]
        self._dpos = end
        return line

    async def write(self, s: str) -> int:
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        self._check(writable=True)
        await self._rewind_pending()
        text = s
        nl = self._newline
        if nl is None:
            nl = os.linesep
        if nl not in ("", "\n") and "\n" in text:
            text = text.replace("\n", nl)
        await self.buffer.write(self._encoder.encode(text))
        if self.line_buffering and ("\n" in s or "\r" in s):
            await self.buffer.flush()
        return len(s)

    async def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            await self.write(line)

    async def flush(self) -> None:
        await self.buffer.flush()

    async def _rewind_pending(self) -> None:
        """Before a write, put the file position where the reader is (as TextIOWrapper
        does); a pipe or tty cannot rewind and needs none."""
        if self.buffer._seekable and (self._dpos < len(self._decoded) or self._chunk_bytes):
            cookie = await self.tell()
            await self.seek(cookie)

    async def tell(self) -> int:
        if self.buffer.closed:
            raise _closed()
        if not self.buffer._seekable:
            raise io.UnsupportedOperation("underlying stream is not seekable")
        await self.buffer.flush()
        if not self._chunk_bytes and self._dpos >= len(self._decoded):
            return await self.buffer.tell()
        if self._dpos >= len(self._decoded) and not self._pending_decoder_bytes():
            return self._chunk_start + len(self._chunk_bytes)
        # Replay the chunk's bytes through a fresh decoder until it has produced the text
        # consumed so far: those bytes are where the reader is.
        decoder = self._new_decoder()
        if self._chunk_state is not None:
            decoder.setstate(self._chunk_state)
        produced = 0
        for i in range(len(self._chunk_bytes)):
            if produced >= self._dpos:
                return self._chunk_start + i
            produced += len(decoder.decode(self._chunk_bytes[i:i + 1]))
        return self._chunk_start + len(self._chunk_bytes)

    def _pending_decoder_bytes(self) -> bool:
        try:
            state = self._decoder.getstate()
        except Exception:
            return False
        return bool(state[0]) or bool(state[1] & 1)

    async def seek(self, cookie: int, whence: int = 0) -> int:
        if self.buffer.closed:
            raise _closed()
        if whence == os.SEEK_CUR:
            if cookie != 0:
                raise io.UnsupportedOperation("can't do nonzero cur-relative seeks")
            cookie = await self.tell()
            whence = os.SEEK_SET
        elif whence == os.SEEK_END:
            if cookie != 0:
                raise io.UnsupportedOperation("can't do nonzero end-relative seeks")
        elif whence != os.SEEK_SET:
            raise ValueError(f"invalid whence ({whence}, should be 0, 1 or 2)")
        elif cookie < 0:
            raise ValueError(f"negative seek position {cookie}")
        await self.buffer.flush()
        pos = await self.buffer.seek(cookie, whence)
        self._decoder = self._new_decoder()
        self._encoder.reset()
        self._reset_chunk()
        self._chunk_state = None
        self._eof = False
        return pos

    async def truncate(self, size: int | None = None) -> int:
        await self.flush()
        if size is None:
            size = await self.tell()
        return await self.buffer.truncate(size)

    async def close(self) -> None:
        await self.buffer.close()

    async def __aenter__(self) -> "AsyncTextFile":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<uring.aio AsyncTextFile name={self.name!r} mode={self.mode!r} encoding={self.encoding!r}>"


def aligned_buffer(nbytes: int) -> mmap.mmap:
    """Page-aligned anonymous memory of at least `nbytes`, rounded up to whole pages: what
    O_DIRECT reads and writes need (use it as a context manager to unmap it)."""
    return mmap.mmap(-1, max(_PAGE, -(-nbytes // _PAGE) * _PAGE))


def _make(fd: int, name: Any, mode: str, buffering: int, encoding: str | None, errors: str | None,
          newline: str | None, closefd: bool, direct: bool = False) -> AsyncFile | AsyncTextFile:
    _, readable, writable, binary, append = _parse_mode(mode)
    line_buffering = False
    if buffering == 1 and not binary:
        line_buffering = True
        buffering = -1
    if buffering < 0:
        try:
            blksize = os.fstat(fd).st_blksize
        except OSError:
            blksize = 0
        buffering = blksize if blksize > 1 else DEFAULT_BUFFER_SIZE
    raw = AsyncFile(fd, name, mode if binary or "b" in mode else mode, readable=readable, writable=writable,
                    buffer_size=buffering, closefd=closefd, append=append, direct=direct)
    if binary:
        return raw
    return AsyncTextFile(raw, encoding, errors, newline, line_buffering)


class _Opening:
    """What open() returns: awaitable (the file) and an async context manager (closes it)."""

    def __init__(self, coro: Any) -> None:
        self._coro = coro
        self._file: Any = None

    def __await__(self) -> Generator[Any, None, Any]:
        return self._coro.__await__()

    async def __aenter__(self) -> Any:
        self._file = await self._coro
        return self._file

    async def __aexit__(self, *exc: Any) -> None:
        await self._file.close()
        self._file = None


def open(file: Any, mode: str = "r", buffering: int = -1, encoding: str | None = None,
         errors: str | None = None, newline: str | None = None, closefd: bool = True,
         opener: Callable[[Any, int], int] | None = None, *, direct: bool = False) -> _Opening:
    """aiofiles.open / io.open with the file opened (IORING_OP_OPENAT) and read and written
    through the running loop's ring. `direct=True` adds O_DIRECT (reads and writes must then
    be aligned: the file object reads whole pages into page-aligned memory itself, and
    writes must be multiples of the device block size)."""
    return _Opening(_open(file, mode, buffering, encoding, errors, newline, closefd, opener, direct))


async def _open(file: Any, mode: str, buffering: int, encoding: str | None, errors: str | None,
                newline: str | None, closefd: bool, opener: Callable[[Any, int], int] | None,
                direct: bool) -> AsyncFile | AsyncTextFile:
    flags, _, _, binary, _ = _parse_mode(mode)
    if not isinstance(buffering, int):
        raise TypeError(f"'{type(buffering).__name__}' object cannot be interpreted as an integer")
    if binary and (encoding is not None or errors is not None or newline is not None):
        which = "encoding" if encoding is not None else "errors" if errors is not None else "newline"
        raise ValueError(f"binary mode doesn't take an {which} argument")
    if buffering == 0 and not binary:
        raise ValueError("can't have unbuffered text I/O")
    if direct:
        flags |= getattr(os, "O_DIRECT", 0)
    if isinstance(file, bool) or not isinstance(file, (int, str, bytes, os.PathLike)):
        raise TypeError(f"expected str, bytes or os.PathLike object, not {type(file).__name__}")
    if isinstance(file, int):
        if file < 0:
            raise ValueError("negative file descriptor")
        fd = file
    elif opener is not None:
        fd = opener(file, flags)
        if not isinstance(fd, int) or fd < 0:
            raise ValueError(f"opener returned {fd}")
    else:
        if not closefd:
            raise ValueError("Cannot use closefd=False with file name")
        fd = await _fast_openat(file, flags)
    try:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise IsADirectoryError(21, os.strerror(21), os.fsdecode(file) if not isinstance(file, int) else file)
        return _make(fd, file, mode, buffering, encoding, errors, newline, closefd, direct)
    except BaseException:
        if closefd:
            os.close(fd)
        raise


async def _fast_openat(path: Any, flags: int, mode: int = 0o666) -> int:
    from uring.aio.ops import submit
    try:
        return await submit(_fs.openat(AT_FDCWD, path, flags, mode))
    except OSError as exc:
        if exc.filename is None:
            exc.filename = os.fsdecode(path) if not isinstance(path, int) else path
        raise


def wrap(file: Any) -> AsyncFile | AsyncTextFile:
    """An async view of an already open Python file object (binary or text): it shares the
    fd (the wrapper's close leaves it open and puts the fd's position where the wrapper
    stopped); what the original buffered is flushed first and its read-ahead given back."""
    file.flush()
    try:
        if file.seekable():
            file.seek(file.tell())   # drops its read-ahead: the fd's position is the file's
    except (OSError, ValueError):
        pass
    mode = getattr(file, "mode", "rb")
    if isinstance(mode, int):
        mode = "rb"
    binary = isinstance(file, (io.RawIOBase, io.BufferedIOBase)) or "b" in mode
    if binary and "b" not in mode:
        mode += "b"
    if not binary:
        return _make(file.fileno(), getattr(file, "name", None), mode.replace("b", ""), -1,
                     getattr(file, "encoding", None), getattr(file, "errors", None), None, False)
    return _make(file.fileno(), getattr(file, "name", None), mode, -1, None, None, None, False)


def _std(index: int, binary: bool) -> Callable[[], Any]:
    def get() -> Any:
        stream = (sys.stdin, sys.stdout, sys.stderr)[index]
        mode = ("r", "w", "w")[index]
        if binary:
            return _make(stream.fileno(), stream.name, mode + "b", 0 if index else -1, None, None, None, False)
        return _make(stream.fileno(), stream.name, mode, 1 if index else -1, stream.encoding, stream.errors,
                     None, False)
    return get


class _StdStream:
    """Module-level async std stream made on first use in a running loop (aiofiles'
    `aiofiles.stdin`, `stdout_bytes`...)."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._file: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._file is None:
            self._file = self._factory()
        return getattr(self._file, name)

    def __aiter__(self) -> Any:
        return self.__getattr__("__aiter__")()


stdin = _StdStream(_std(0, False))
stdout = _StdStream(_std(1, False))
stderr = _StdStream(_std(2, False))
stdin_bytes = _StdStream(_std(0, True))
stdout_bytes = _StdStream(_std(1, True))
stderr_bytes = _StdStream(_std(2, True))
