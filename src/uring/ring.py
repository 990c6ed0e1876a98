"""The public Ring: an io_uring instance with a method per prep helper, waiting helpers
and diagnosis of setup failures. Ring memory and syscalls live in the compiled core."""

from __future__ import annotations

import errno
import inspect
from datetime import timedelta
from functools import wraps
from typing import Any, Callable

from uring import ops as _ops
from uring._core import Op, RingCore, Sqe
from uring._uapi import SetupFlags
from uring.cancellation import CancelMixin
from uring.chain import ChainMixin
from uring.errors import UnsupportedFeature, kernel_release, seconds
from uring.register import RegisterMixin

__all__ = ["Ring"]


class Ring(ChainMixin, CancelMixin, RegisterMixin, RingCore):
    """An io_uring instance.

    >>> with Ring(64) as ring:
    ...     op = ring.nop()
    ...     ring.submit_and_wait(1)
    ...     op.result
    1
    0

    Every prep helper in `uring.ops` is also a method that queues its SQE and returns the
    Op: ``ring.openat(AT_FDCWD, "f", os.O_RDONLY)``, with the common SQE fields
    (sqe_flags, ioprio, personality, buf_group, file_index, context) as keyword
    arguments wherever the helper has no parameter of the same name.
    Nothing reaches the kernel until submit()/submit_and_wait()/wait_for().

    Thread safety: every touch of ring memory happens with the GIL held and never calls
    back into Python midway, so threads sharing one ring cannot corrupt it; the GIL is
    released only inside io_uring_enter/io_uring_register. SINGLE_ISSUER and
    DEFER_TASKRUN rings are for one thread (the kernel answers EEXIST to others).
    """

    def __init__(self, entries: int = 128, *, flags: int = 0, cq_entries: int | None = None,
                 sq_thread_cpu: int | None = None, sq_thread_idle: int | None = None,
                 wq_fd: int | None = None, no_sqarray: bool = True) -> None:
        if not isinstance(entries, int) or isinstance(entries, bool):
            raise TypeError(f"entries must be an int, got {type(entries).__name__}")
        flags = int(flags)
        known = sum(int(f) for f in SetupFlags)  # a plain int: ~IntFlag stays within known bits
        if flags & ~known:
            raise ValueError(f"unknown IORING_SETUP bits {flags & ~known:#x}")
        try:
            super().__init__(entries, flags=flags, cq_entries=cq_entries, sq_thread_cpu=sq_thread_cpu,
                             sq_thread_idle=sq_thread_idle, wq_fd=wq_fd, no_sqarray=no_sqarray)
        except OSError as exc:
            if exc.errno == errno.EINVAL and flags:
                culprit = _unsupported_setup_flag(flags)
                if culprit is not None:
                    raise UnsupportedFeature(
                        f"IORING_SETUP_{culprit.name} unsupported on Linux {kernel_release()}") from exc
            raise

    def __enter__(self) -> "Ring":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return "<Ring closed>"
        return (f"<Ring fd={self.fd} sq={self.sq_entries} cq={self.cq_entries} "
                f"flags={SetupFlags(self.setup_flags)!r} in_flight={self.in_flight}>")

    @property
    def params(self) -> dict:
        """What the kernel granted: sizes, setup flags and the features it reports."""
        from uring._uapi import Features
        return {"sq_entries": self.sq_entries, "cq_entries": self.cq_entries,
                "flags": SetupFlags(self.setup_flags), "features": Features(self.features),
                "sq_thread_cpu": self.sq_thread_cpu, "sq_thread_idle": self.sq_thread_idle}

    def wait_for(self, *ops: Op, timeout: float | timedelta | None = None) -> list:
        """Submit, then process completions until every op given is done; returns their
        results (or raises TimeoutError with the ops left pending). Threads sharing the ring
        may each wait for their own ops: whoever reaps an op wakes the thread waiting on it."""
        import time
        deadline = None if timeout is None else time.monotonic() + seconds(timeout)
        self.submit()
        while not all(op.done for op in ops):
            if deadline is None:
                self._wait_progress(None)
            else:
                left = deadline - time.monotonic()
                if left <= 0:
                    pending = [op for op in ops if not op.done]
                    raise TimeoutError(f"{len(pending)} op(s) still pending after {timeout}s: {pending}")
                self._wait_progress(left)
        return [op.result for op in ops]

    def run(self, sqe: Sqe, timeout: float | None = None) -> Any:
        """Queue one prepared SQE, submit, wait for it and return its result."""
        return self.wait_for(self.queue(sqe), timeout=timeout)[0]

    def probe(self):
        """What the running kernel supports (opcodes, setup flags, features)."""
        from uring.probe import probe
        return probe(self)

    def stat(self):
        """This ring as the kernel sees it (/proc/self/fdinfo): a uring.stat.RingStat."""
        from uring.stat import ring_stat
        return ring_stat(self.fd)


def _unsupported_setup_flag(flags: int):
    """Find which requested setup flag the kernel rejects, by trial setups of each alone."""
    from uring.probe import setup_flag_supported
    for flag in SetupFlags:
        if flags & flag and not setup_flag_supported(flag):
            return flag
    return None


_COMMON_FIELDS = ("sqe_flags", "ioprio", "personality", "buf_group", "file_index", "context")


def _method(name: str, fn: Callable[..., Sqe]) -> Callable[..., Op]:
    # A helper's own parameters win (openat's flags are open flags, openat_direct's
    # file_index is its slot); the common SQE fields take the names it does not use.
    own = set(inspect.signature(fn).parameters)
    common_names = tuple(n for n in _COMMON_FIELDS if n not in own)

    @wraps(fn)
    def method(self: Ring, *args: Any, **kwargs: Any) -> Op:
        common = {n: kwargs.pop(n) for n in common_names if n in kwargs}
        sqe = fn(*args, **kwargs)
        if common:
            if "sqe_flags" in common:
                common["flags"] = common.pop("sqe_flags")
            sqe.set(**common)
        return self.queue(sqe)

    method.__doc__ = (fn.__doc__ or "") + (
        "\n\nQueues the SQE on this ring and returns its Op. Keyword arguments "
        f"{', '.join(common_names)} set the common SQE fields (sqe_flags: IOSQE_* bits).")
    return method


def _install_prep_methods(cls: type, helpers: dict[str, Callable[..., Sqe]]) -> None:
    for name, fn in helpers.items():
        if any(name in klass.__dict__ for klass in cls.__mro__):
            continue  # the compiled fast paths (nop, read, write, ...) win
        setattr(cls, name, _method(name, fn))


_install_prep_methods(Ring, _ops.helpers())
