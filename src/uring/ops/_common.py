"""What every prep helper shares: a fresh SQE, and the encoders that turn Python values
(timeouts, socket addresses, paths, buffer lists) into pinned kernel structs."""

from __future__ import annotations

import functools
import inspect
import os
import socket
import struct
import warnings
from datetime import timedelta
from typing import Any, Callable, Iterable, Protocol, Sequence, TypeVar, Union, cast

from uring._core import Pin, Sqe
from uring._uapi import TIMESPEC
from uring.errors import seconds

Buffer = Any  # any object exporting the buffer protocol (bytes, bytearray, memoryview, mmap, array)
PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
Timeout = Union[float, int, timedelta]
F = TypeVar("F", bound=Callable[..., Any])

AT_FDCWD = -100
_U32 = 0xFFFFFFFF
_IOVEC = struct.Struct("=QQ")


def sqe(opcode: int, fd: int = -1, addr: int = 0, length: int = 0, off: int = 0) -> Sqe:
    """A zeroed SQE with the fields liburing's io_uring_prep_rw fills."""
    s = Sqe()
    s.opcode = opcode
    s.fd = fd
    s.addr = addr
    s.len = length
    s.off = off & 0xFFFFFFFFFFFFFFFF
    return s


def check_fd(fd: int, name: str = "fd") -> int:
    if not isinstance(fd, int) or isinstance(fd, bool):
        raise TypeError(f"{name} must be an int file descriptor, got {type(fd).__name__}")
    if fd < -0x80000000 or fd > 0x7FFFFFFF:
        raise ValueError(f"{name} out of range: {fd}")
    return fd


def check_int(value: int, name: str, low: int, high: int) -> int:
    """`value` if it is an int (not a bool) within [low, high]; TypeError/ValueError if not."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value}")
    return int(value)


def check_u32(value: int, name: str) -> int:
    return check_int(value, name, 0, _U32)


class BufferGroup(Protocol):
    """Anything naming a provided-buffer group by its `bgid` (a uring.bufring.BufferRing)."""
    bgid: int


def buffer_group(value: int | BufferGroup, name: str = "buf_group") -> int:
    """A provided-buffer group id: an int in 0..65535, or a BufferRing (its bgid)."""
    group: Any = getattr(value, "bgid", value)
    return check_int(group, name, 0, 0xFFFF)


def offset(value: int) -> int:
    """A file offset for sqe.off; -1 means the current file position."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"offset must be an int, got {type(value).__name__}")
    if value == -1:
        return 0xFFFFFFFFFFFFFFFF
    if value < 0 or value > 0x7FFFFFFFFFFFFFFF:
        raise ValueError(f"offset must be >= 0 or -1 (current position), got {value}")
    return value


def buffer(s: Sqe, buf: Buffer, nbytes: int | None, *, writable: bool) -> tuple[int, int]:
    """Pin `buf` on `s`; returns (address, length) with length defaulting to the whole buffer."""
    pin: Pin = s.pin(buf, writable)
    if nbytes is None or nbytes == -1:
        nbytes = pin.nbytes
    elif not isinstance(nbytes, int) or isinstance(nbytes, bool):
        raise TypeError(f"nbytes must be an int, got {type(nbytes).__name__}")
    elif nbytes < 0 or nbytes > pin.nbytes:
        raise ValueError(f"nbytes={nbytes} is outside the buffer's {pin.nbytes} bytes")
    check_u32(nbytes, "nbytes")
    return pin.addr, nbytes


def struct_bytes(s: Sqe, data: bytes | bytearray) -> int:
    """Copy a kernel struct into a pinned bytearray; returns its address."""
    holder = bytearray(data)
    return s.pin(holder, True).addr


def iovecs(s: Sqe, buffers: Sequence[Buffer], *, writable: bool) -> tuple[int, int]:
    """Pin each buffer and an iovec array describing them; returns (address, count)."""
    if isinstance(buffers, (bytes, bytearray, memoryview)):
        raise TypeError("a vectored op takes a list of buffers, not a single buffer")
    bufs = list(buffers)
    if not bufs:
        raise ValueError("a vectored op needs at least one buffer")
    if len(bufs) > 1024:  # UIO_MAXIOV
        raise ValueError(f"at most 1024 buffers per vectored op, got {len(bufs)}")
    array = bytearray(_IOVEC.size * len(bufs))
    for i, b in enumerate(bufs):
        pin = s.pin(b, writable)
        _IOVEC.pack_into(array, i * _IOVEC.size, pin.addr, pin.nbytes)
    return s.pin(array, True).addr, len(bufs)


def timespec(s: Sqe, timeout: Timeout) -> int:
    """A pinned __kernel_timespec for `timeout` seconds (float, int or timedelta)."""
    secs = seconds(timeout)
    if secs >= 2 ** 63:
        raise ValueError(f"timeout too large for a kernel timespec: {timeout!r}")
    whole = int(secs)
    nsec = int(round((secs - whole) * 1e9))
    if nsec >= 1_000_000_000:
        whole, nsec = whole + 1, nsec - 1_000_000_000
    return struct_bytes(s, TIMESPEC.pack(whole, nsec))


def path(s: Sqe, value: PathLike, name: str = "path") -> int:
    """A pinned NUL-terminated path; str/bytes/os.PathLike accepted."""
    try:
        raw = os.fsencode(value)
    except TypeError:
        raise TypeError(f"{name} must be str, bytes or os.PathLike, got {type(value).__name__}") from None
    if b"\0" in raw:
        raise ValueError(f"{name} contains a NUL byte")
    s._add_filename(os.fspath(value))  # the op's OSError names it as os.open's does
    return struct_bytes(s, raw + b"\0")


def cstring(s: Sqe, value: str | bytes, name: str) -> int:
    raw = value.encode() if isinstance(value, str) else bytes(value)
    if b"\0" in raw:
        raise ValueError(f"{name} contains a NUL byte")
    return struct_bytes(s, raw + b"\0")


def sockaddr(family: int, address: Any) -> bytes:
    """Encode a Python socket address (as socket.socket takes it) as a struct sockaddr;
    a bad host or port raises ValueError."""
    if isinstance(address, (bytes, bytearray)) and family != socket.AF_UNIX:
        return bytes(address)  # already a raw sockaddr
    try:
        return _sockaddr(family, address)
    except (struct.error, OSError) as exc:
        raise ValueError(f"invalid address {address!r} for family {family}: {exc}") from None


def _sockaddr(family: int, address: Any) -> bytes:
    if family in (socket.AF_INET, socket.AF_INET6):
        if not isinstance(address, tuple) or len(address) < 2:
            raise ValueError(f"an IP address is a (host, port) tuple, got {address!r}")
        port = address[1]
        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
            raise ValueError(f"port must be an int in 0..65535, got {port!r}")
    if family == socket.AF_INET:
        host, port = address
        return struct.pack("=H", socket.AF_INET) + struct.pack("!H", port) + \
            socket.inet_pton(socket.AF_INET, _resolve(host, socket.AF_INET)) + bytes(8)
    if family == socket.AF_INET6:
        host, port, *rest = address
        flowinfo = rest[0] if len(rest) > 0 else 0
        scope_id = rest[1] if len(rest) > 1 else 0
        return struct.pack("=H", socket.AF_INET6) + struct.pack("!HI", port, flowinfo) + \
            socket.inet_pton(socket.AF_INET6, _resolve(host, socket.AF_INET6)) + struct.pack("=I", scope_id)
    if family == socket.AF_UNIX:
        raw = os.fsencode(address)
        if len(raw) >= 108:
            raise ValueError("AF_UNIX path too long (max 107 bytes)")
        if raw.startswith(b"\0"):  # abstract namespace: length is exact, no terminator
            return struct.pack("=H", socket.AF_UNIX) + raw
        return struct.pack("=H", socket.AF_UNIX) + raw + b"\0"
    raise ValueError(f"unsupported address family {family}")


def _resolve(host: str, family: int) -> str:
    if host in ("", "0.0.0.0", "::"):
        return "0.0.0.0" if family == socket.AF_INET else "::"
    if host == "localhost":
        return "127.0.0.1" if family == socket.AF_INET else "::1"
    return host


def decode_sockaddr(raw: bytes) -> Any:
    """The inverse of sockaddr(): a Python address tuple (or str for AF_UNIX)."""
    if len(raw) < 2:
        return None
    (family,) = struct.unpack_from("=H", raw)
    if family == socket.AF_INET:
        port = struct.unpack_from("!H", raw, 2)[0]
        return socket.inet_ntop(socket.AF_INET, raw[4:8]), port
    if family == socket.AF_INET6:
        port, flowinfo = struct.unpack_from("!HI", raw, 2)
        scope_id = struct.unpack_from("=I", raw, 24)[0]
        return socket.inet_ntop(socket.AF_INET6, raw[8:24]), port, flowinfo, scope_id
    if family == socket.AF_UNIX:
        path_bytes = raw[2:]
        if path_bytes.startswith(b"\0"):
            return path_bytes
        return os.fsdecode(path_bytes.split(b"\0", 1)[0])
    return raw


def infer_family(address: Any) -> int:
    """The family of a Python socket address, from its shape alone (no syscall):
    a str/bytes/PathLike is AF_UNIX, a 4-tuple or an IPv6 host AF_INET6, else AF_INET."""
    if isinstance(address, (str, bytes, os.PathLike)):
        return socket.AF_UNIX
    if isinstance(address, tuple):
        if len(address) == 4:
            return socket.AF_INET6
        if len(address) == 2:
            host = _resolve(address[0], socket.AF_INET)
            try:
                socket.inet_pton(socket.AF_INET, host)
                return socket.AF_INET
            except OSError:
                return socket.AF_INET6
    raise TypeError(f"cannot tell the address family of {address!r}; pass family=")


def encode_address(address: Any, family: int | None = None) -> bytes:
    return sockaddr(family if family is not None else infer_family(address), address)


def as_list(values: Iterable[int]) -> list[int]:
    return [int(v) for v in values]


# opcode -> names of the prep helpers that produce it (for `uring probe --json` and Ring methods)
HELPERS: dict[int, list[str]] = {}
_FUNCS: dict[str, Any] = {}


# Keyword names that were renamed: old -> new (accepted with a DeprecationWarning).
RENAMED = {"off": "offset"}


def renamed_keywords(fn: Any) -> dict[str, str]:
    """The old keyword names `fn` still accepts (those whose new name it takes)."""
    params = inspect.signature(fn).parameters
    return {old: new for old, new in RENAMED.items() if new in params and old not in params}


def rename_keywords(name: str, kwargs: dict, renames: dict[str, str]) -> None:
    """Move deprecated keywords in `kwargs` to their new names, warning once per call."""
    for old, new in renames.items():
        if old in kwargs:
            if new in kwargs:
                raise TypeError(f"{name}() got both {old}= and {new}=")
            warnings.warn(f"{name}({old}=...) is deprecated: use {new}=", DeprecationWarning,
                          stacklevel=3)
            kwargs[new] = kwargs.pop(old)


def accept_renamed(fn: F) -> F:
    """Let `fn` take the deprecated keyword names of its parameters (see RENAMED); the
    wrapper keeps fn's signature for help() and inspect."""
    renames = renamed_keywords(fn)
    if not renames:
        return fn

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            rename_keywords(fn.__name__, kwargs, renames)
        return fn(*args, **kwargs)
    return cast(F, call)


def prep(*opcodes: int) -> Callable[[F], F]:
    """Register a prep helper under the opcode(s) it fills."""
    def register(fn: F) -> F:
        renames = renamed_keywords(fn)
        name = fn.__name__

        @functools.wraps(fn)
        def sealed(*args: Any, **kwargs: Any) -> Sqe:
            if kwargs and renames:
                rename_keywords(name, kwargs, renames)
            # Sealed on the way out: the caller can no longer point the kernel elsewhere than
            # at what this helper pinned (a helper built on another finishes before sealing).
            return fn(*args, **kwargs)._seal()
        for opcode in opcodes:
            HELPERS.setdefault(int(opcode), []).append(name)
        _FUNCS[name] = sealed
        sealed.unsealed = fn  # type: ignore[attr-defined]
        return cast(F, sealed)
    return register
