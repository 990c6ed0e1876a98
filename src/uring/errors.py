"""Exceptions of the uring library and the mapping from kernel results to them.
A negative CQE res becomes OSError(-res, strerror), so Python picks the subclass."""

from __future__ import annotations

import errno as _errno
import os
import platform
from datetime import timedelta
from typing import Any

__all__ = [
    "UringError", "RingClosed", "RingForked", "NotDone", "SubmissionQueueFull",
    "UnsupportedOperation", "UnsupportedFeature", "InvalidSetup", "Cancelled", "ChainBroken",
    "LinkTimedOut", "error_for", "opcode_name", "seconds",
]


class UringError(Exception):
    """Base of the library's own (non-OSError) errors."""


class RingClosed(UringError, ValueError):
    """The ring was used after close()."""


class RingForked(UringError, RuntimeError):
    """The ring was created in a parent process; a forked child must make its own."""


class NotDone(UringError, RuntimeError):
    """The op's result was asked for before its final completion arrived."""


class SubmissionQueueFull(UringError, RuntimeError):
    """No SQE could be obtained and nothing can drain the SQ."""


class UnsupportedOperation(UringError, NotImplementedError):
    """The running kernel lacks an opcode (found by IORING_REGISTER_PROBE)."""

    def __init__(self, message: str, opcode: int | None = None):
        super().__init__(message)
        self.opcode = opcode


class UnsupportedFeature(UringError, NotImplementedError):
    """The running kernel lacks a setup flag, feature or register operation."""


class InvalidSetup(UringError, ValueError):
    """Ring parameters the kernel would refuse (sizes beyond its limits), caught before
    io_uring_setup so the message can name the limit."""


class Cancelled(OSError):
    """ECANCELED because we asked for it (Ring.cancel, or close())."""


class ChainBroken(OSError):
    """ECANCELED because an earlier member of its linked chain failed."""


class LinkTimedOut(OSError):
    """The op was cut short by its linked timeout (ECANCELED or EINTR)."""


def kernel_release() -> str:
    return platform.release()


def opcode_name(opcode: int) -> str:
    from uring._uapi import Opcode  # local: _uapi is heavy with enums, errors is imported early

    try:
        return "IORING_OP_" + Opcode(opcode).name
    except ValueError:
        return f"opcode {opcode}"


def unsupported_opcode(opcode: int) -> UnsupportedOperation:
    return UnsupportedOperation(
        f"{opcode_name(opcode)} unsupported on Linux {kernel_release()}", opcode)


def _flag_names(flags: int) -> str:
    from uring._uapi import SetupFlags

    names = [f"IORING_SETUP_{f.name}" for f in SetupFlags if f & flags]
    return "|".join(names) or "0"


def setup_error(err: int, flags: int) -> Exception:
    """io_uring_setup failed: say why in words a user can act on."""
    if err == _errno.EPERM:
        return PermissionError(err, "io_uring_setup refused (EPERM): io_uring is disabled here "
                               "(sysctl kernel.io_uring_disabled, or a seccomp profile such as Docker's)")
    if err == _errno.ENOSYS:
        return UnsupportedFeature(f"this kernel (Linux {kernel_release()}) has no io_uring")
    if err == _errno.ENOMEM:
        return MemoryError("io_uring_setup: ENOMEM (ring memory counts against RLIMIT_MEMLOCK on old kernels)")
    if err == _errno.EINVAL and flags:
        return OSError(err, f"io_uring_setup rejected the parameters (EINVAL) with flags {_flag_names(flags)}")
    return OSError(err, f"io_uring_setup: {os.strerror(err)}")


def enter_error(err: int) -> Exception:
    if err == _errno.EEXIST:
        return RuntimeError("io_uring_enter: EEXIST: a SINGLE_ISSUER/DEFER_TASKRUN ring may only be "
                            "driven by the thread that created it")
    if err == _errno.EBADR:
        return OSError(err, "io_uring_enter: completions were dropped (EBADR)")
    return OSError(err, f"io_uring_enter: {os.strerror(err)}")


def error_for(err: int, op: Any = None) -> OSError:
    """The exception for an op that completed with -err: the OSError subclass Python picks
    for the errno, carrying the op's paths as `filename`/`filename2` (as os.open and
    os.rename do) and, for a fixed-buffer op's EFAULT, what was registered."""
    if err == _errno.ECANCELED and op is not None:
        why = getattr(op, "cancel_reason", None)
        if why is not None:
            return why(err, os.strerror(err))
    message = os.strerror(err)
    names = getattr(op, "filenames", None)
    if err == _errno.EFAULT and getattr(op, "buf_index", -1) >= 0:
        message = _fixed_buffer_fault(op, message)
    if names:
        exc = OSError(err, message, names[0], None, *names[1:2])
    else:
        exc = OSError(err, message)
    if op is not None:
        exc.op = op  # type: ignore[attr-defined]
    return exc


def _fixed_buffer_fault(op: Any, message: str) -> str:
    index, table = op.buf_index, op.buf_table_size
    if table < 0:
        known = "the registered table was not known"
    elif index >= table:
        known = f"only {table} buffer(s) were registered"
    else:
        known = f"{table} buffer(s) were registered"
    return (f"{message}: registered buffer {index} ({known} when the op was queued; "
            "the memory must lie inside that registered buffer)")


def seconds(timeout: float | int | timedelta) -> float:
    """A timeout as float seconds; accepts numbers and timedelta, rejects negatives."""
    if isinstance(timeout, timedelta):
        value = timeout.total_seconds()
    elif isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        value = float(timeout)
    else:
        raise TypeError(f"timeout must be a number of seconds or a timedelta, got {type(timeout).__name__}")
    if value != value or value < 0:
        raise ValueError(f"timeout must be >= 0, got {timeout!r}")
    return value
