"""`uring cp SRC DST [--qd 32] [--chunk 131072] [--fsync]`: copy a file through pipelined
io_uring read -> write chains (uring.copy.copyfile)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time

from uring.copy import DEFAULT_CHUNK, DEFAULT_QD, copyfile

__all__ = ["add_parser", "run"]


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
        "cp", help="copy a file with pipelined io_uring read->write chains",
        description="Copy SRC to DST with up to QD linked read->write chains in flight.")
    p.add_argument("src", metavar="SRC", help="regular file to copy")
    p.add_argument("dst", metavar="DST", help="destination file, or an existing directory")
    p.add_argument("--qd", type=_positive, default=DEFAULT_QD,
                   help=f"chains in flight (default {DEFAULT_QD})")
    p.add_argument("--chunk", type=_positive, default=DEFAULT_CHUNK,
                   help=f"bytes per chain (default {DEFAULT_CHUNK})")
    p.add_argument("--fsync", action="store_true", help="fsync DST before exiting")
    p.add_argument("-v", "--verbose", action="store_true", help="print bytes copied and throughput")
    return p


def run(args: argparse.Namespace) -> int:
    """Run `uring cp`; returns the exit status (0 ok, 1 error)."""
    dst = args.dst
    if os.path.isdir(dst):
        dst = os.path.join(dst, os.path.basename(os.path.normpath(args.src)))
    start = time.perf_counter()
    try:
        copied = copyfile(args.src, dst, qd=args.qd, chunk=args.chunk, fsync=args.fsync)
    except shutil.SameFileError as exc:
        print(f"uring cp: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"uring cp: {exc}", file=sys.stderr)
        return 1
    if args.verbose:
        elapsed = time.perf_counter() - start
        rate = copied / elapsed / 1e6 if elapsed > 0 else float("inf")
        print(f"{copied} bytes in {elapsed:.3f} s ({rate:.0f} MB/s)")
    return 0
