"""The public Ring: an io_uring instance with a method per prep helper, waiting helpers
and diagnosis of setup failures. Ring memory and syscalls live in the compiled core."""

from __future__ import annotations

import errno
from datetime import timedelta
from typing import Any

from uring._core import Op, RingCore, Sqe
from uring._ring_methods import RingMethods
from uring._uapi import SetupFlags
from uring.cancellation import CancelMixin
from uring.chain import ChainMixin
from uring.errors import InvalidSetup, UnsupportedFeature, kernel_release, seconds
from uring.register import RegisterMixin

__all__ = ["Ring"]


# The kernel's limits (io_uring/io_uring.h): IORING_MAX_ENTRIES, IORING_MAX_CQ_ENTRIES.
MAX_SQ_ENTRIES = 32768
MAX_CQ_ENTRIES = 2 * MAX_SQ_ENTRIES


class Ring(ChainMixin, CancelMixin, RegisterMixin, RingCore, RingMethods):
    """An io_uring instance.

    >>> with Ring(64) as ring:
    ...     op = ring.nop()
    ...     ring.submit_and_wait(1)
    ...     op.result
    1
    0

    Every prep helper in `uring.ops` is also a method that queues its SQE and returns the
    Op: ``ring.openat(AT_FDCWD, "f", os.O_RDONLY)``, with the common SQE fields
    (sqe_flags, ioprio, personality, buf_group, file_index) and the queue's context and
    callback as keyword arguments wherever the helper has no parameter of the same name
    (generated into uring._ring_methods, so help() and type checkers see them).
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
        _check_sizes(entries, cq_entries, flags)
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


def _check_sizes(entries: int, cq_entries: int | None, flags: int) -> None:
    """Refuse the sizes io_uring_setup would answer with a bare EINVAL, naming the limit
    (with IORING_SETUP_CLAMP the kernel clamps the CQ size instead)."""
    if entries < 1 or entries > MAX_SQ_ENTRIES:
        raise InvalidSetup(f"entries must be in 1..{MAX_SQ_ENTRIES} (IORING_MAX_ENTRIES), got {entries}")
    if cq_entries is None:
        return
    if not isinstance(cq_entries, int) or isinstance(cq_entries, bool):
        raise TypeError(f"cq_entries must be an int, got {type(cq_entries).__name__}")
    if cq_entries < 1:
        raise InvalidSetup(f"cq_entries must be >= 1, got {cq_entries}")
    if cq_entries > MAX_CQ_ENTRIES:
        if not flags & SetupFlags.CLAMP:
            raise InvalidSetup(
                f"cq_entries must be <= {MAX_CQ_ENTRIES} (IORING_MAX_CQ_ENTRIES, twice the {MAX_SQ_ENTRIES} "
                f"SQ limit IORING_MAX_ENTRIES; IORING_SETUP_CLAMP clamps instead), got {cq_entries}")
        cq_entries = MAX_CQ_ENTRIES
    # The kernel rounds both up to powers of two and wants the CQ at least as large as the SQ.
    if _pow2(cq_entries) < _pow2(entries):
        raise InvalidSetup(f"cq_entries ({cq_entries}) must be >= entries ({entries}): the CQ "
                           "cannot be smaller than the SQ")


def _pow2(n: int) -> int:
    return 1 << (n - 1).bit_length()


def _unsupported_setup_flag(flags: int):
    """Find which requested setup flag the kernel rejects, by trial setups of each alone."""
    from uring.probe import setup_flag_supported
    for flag in SetupFlags:
        if flags & flag and not setup_flag_supported(flag):
            return flag
    return None
