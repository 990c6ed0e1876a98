"""`uring cp SRC DST [--mode auto|splice|direct|buffered] [--fsync]`: copy a file through
pipelined io_uring chains (uring.copy.copyfile), with a progress bar on a terminal."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from typing import Callable, TextIO

from uring.copy import DEFAULTS, MODES, choose_mode, copyfile

__all__ = ["add_parser", "run", "ProgressBar"]


def _positive(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1: {text!r}")
    return value


def add_parser(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> argparse.ArgumentParser:
    """Register the `cp` subcommand on the `uring` command's subparsers."""
    p = subparsers.add_parser(
        "cp", help="copy a file with pipelined io_uring chains (splice, O_DIRECT or buffered)",
        description="Copy SRC to DST with linked in->out chains in flight. auto picks splice "
                    "(the data stays in the kernel) for cached files and O_DIRECT with registered "
                    "buffers for large files mostly not in the page cache or bigger than half "
                    "the free memory.")
    p.add_argument("src", metavar="SRC", help="regular file to copy")
    p.add_argument("dst", metavar="DST", help="destination file, or an existing directory")
    p.add_argument("--mode", choices=MODES, default="auto", help="engine (default auto)")
    p.add_argument("--qd", type=_positive, default=None,
                   help="chains in flight (default: " + ", ".join(f"{m} {q}" for m, (q, _) in DEFAULTS.items()) + ")")
    p.add_argument("--chunk", type=_positive, default=None,
                   help="bytes per chain (default: " + ", ".join(f"{m} {c >> 10}K" for m, (_, c) in DEFAULTS.items()) + ")")
    p.add_argument("--fsync", action="store_true", help="fsync DST before exiting")
    p.add_argument("--progress", dest="progress", action="store_true", default=None,
                   help="show a progress bar (default: when stderr is a terminal)")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="never show one")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="print the engine, bytes copied and throughput")
    return p


def _bytes(n: float) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f} B"


class ProgressBar:
    """`[#####.....]  1.2 GiB / 4.0 GiB  850.3 MiB/s  ETA 3s`, redrawn in place at most
    every `interval` seconds; finish() draws the final state and ends the line."""

    def __init__(self, total: int, out: TextIO, *, width: int = 30, interval: float = 0.1,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total, self.out, self.width, self.interval, self.clock = total, out, width, interval, clock
        self.start = self.last = clock()
        self.done = 0

    def line(self, done: int, now: float) -> str:
        elapsed = now - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        frac = min(done / self.total, 1.0) if self.total else 1.0
        fill = int(frac * self.width)
        eta = f"ETA {max(self.total - done, 0) / rate:.0f}s" if rate > 0 and done < self.total else \
            f"{elapsed:.1f}s"
        return (f"[{'#' * fill}{'.' * (self.width - fill)}] {_bytes(done)} / {_bytes(self.total)}"
                f"  {_bytes(rate)}/s  {eta}")

    def __call__(self, done: int) -> None:
        self.done = done
        now = self.clock()
        if now - self.last >= self.interval:
            self.last = now
            self.out.write("\r" + self.line(done, now) + "\x1b[K")
            self.out.flush()

    def finish(self) -> None:
        self.out.write("\r" + self.line(self.done, self.clock()) + "\x1b[K\n")
        self.out.flush()


def run(args: argparse.Namespace) -> int:
    """Run `uring cp`; returns the exit status (0 ok, 1 error)."""
    dst = args.dst
    if os.path.isdir(dst):
        dst = os.path.join(dst, os.path.basename(os.path.normpath(args.src)))
    show = sys.stderr.isatty() if args.progress is None else args.progress
    bar = None
    start = time.perf_counter()
    try:
        mode = args.mode
        if show or args.verbose:
            size = os.stat(args.src).st_size
            if mode == "auto":
                fd = os.open(args.src, os.O_RDONLY)
                try:
                    mode = choose_mode(fd, size)
                finally:
                    os.close(fd)
            bar = ProgressBar(size, sys.stderr) if show else None
        info: dict[str, str] = {}
        copied = copyfile(args.src, dst, qd=args.qd, chunk=args.chunk, fsync=args.fsync,
                          mode=mode, progress=bar, info=info)
        mode = info["mode"]
    except shutil.SameFileError as exc:
        print(f"uring cp: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        if bar is not None:
            sys.stderr.write("\n")
        print(f"uring cp: {exc}", file=sys.stderr)
        return 1
    if bar is not None:
        bar.finish()
    if args.verbose:
        elapsed = time.perf_counter() - start
        rate = copied / elapsed / 1e6 if elapsed > 0 else float("inf")
        print(f"{copied} bytes in {elapsed:.3f} s ({rate:.0f} MB/s, {mode})")
    return 0
