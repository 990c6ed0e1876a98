"""argparse `type=` converters shared by every `uring` command: positive numbers, byte
sizes with K/M/G suffixes, process ids, comma-separated lists; each failure a one-line message."""
from __future__ import annotations

import argparse
from typing import Callable

__all__ = ["positive_int", "positive_float", "byte_size", "pid", "int_list"]


def _number(text: str, kind: Callable[[str], float], what: str) -> float:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None


def positive_int(text: str) -> int:
    """An integer >= 1 (0x.. and 0o.. accepted)."""
    value = int(_number(text, lambda t: int(t, 0), "an integer"))
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def positive_float(text: str) -> float:
    """A number > 0 (seconds, intervals)."""
    value = _number(text, float, "a number")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def byte_size(text: str) -> int:
    """Bytes, or a size such as 64K, 256M, 1G."""
    from uring.bench import parse_size
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def pid(text: str) -> int:
    """A process id."""
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"not a process id: {text!r}") from None


def int_list(text: str) -> list[int]:
    """Comma-separated positive integers: 1,10,100."""
    return [positive_int(part) for part in text.split(",") if part]
