"""`uring bench`: the library against a raw-syscall C program and plain Python."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["add_parser", "add_arguments", "run"]

_DESCRIPTION = """\
Measure the library against rawring.c (raw io_uring syscalls, shipped with the package and
compiled with `cc -O2` on first use into ~/.cache/uring-bench/build; without a compiler the
C column is left out) and against plain Python (os.preadv / os.pread):
  nop     batches of 256 NOPs queued one by one from Python, one submit_and_wait each
  read    4 KiB random reads of a page-cached file, 64 in flight (also with a registered
          file + fixed buffers: result read_fixed)
  direct  the same reads with O_DIRECT from the disk holding the data file
  all     all three (the default; about a minute with the defaults)
Each measurement of a workload is repeated --repeat times, interleaved (C, ours, Python,
C, ...), and the medians are reported. The data file is created once under
$URING_BENCH_DIR (default ~/.cache/uring-bench) and reused.

Other families, each with its own --help:
  uring bench seed   the seed's table: sync pread, Linux AIO, io_uring, +SQPOLL, +fixed,
                     from C and Python, O_DIRECT and page cache, QD 1/32/128, SVG chart
  uring bench copy   uring cp against cp, shutil.copyfile and dd oflag=direct"""


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the bench options to `parser` (shared by `uring bench` and benchmarks/run.py)."""
    from uring.bench import DEFAULT_REPEAT, DEFAULT_SECONDS, DEFAULT_SIZE, WORKLOADS
    from uring.cli.argtypes import byte_size, positive_float, positive_int

    parser.add_argument("workload", nargs="?", default="all", choices=[*WORKLOADS, "all"],
                        help="what to measure (default: all)")
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per result, one per line")
    parser.add_argument("--seconds", type=positive_float, default=DEFAULT_SECONDS, metavar="S",
                        help=f"length of each measurement (default {DEFAULT_SECONDS:g})")
    parser.add_argument("--repeat", type=positive_int, default=DEFAULT_REPEAT, metavar="N",
                        help=f"interleaved rounds per workload; medians are reported (default {DEFAULT_REPEAT})")
    parser.add_argument("--file", metavar="PATH",
                        help="read this existing file instead of the cached data file (never written)")
    parser.add_argument("--size", type=byte_size, default=DEFAULT_SIZE, metavar="BYTES",
                        help="size of the cached data file: bytes or 64M, 1G, ... (default 1G)")
    return parser


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the `bench` subcommand on the `uring` command's subparsers."""
    parser = subparsers.add_parser(
        "bench", help="measure the library against C and plain Python",
        description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    return add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Run the requested workloads; print the table (or JSON lines). Returns the exit
    status: 0 when every result was measured (targets missed are reported, not errors),
    1 when a benchmark could not run."""
    from uring.bench import WORKLOADS, attempt, format_table, run_workloads

    workloads = list(WORKLOADS) if args.workload == "all" else [args.workload]
    progress = _progress if sys.stderr.isatty() else None
    results, status = attempt("uring bench", lambda: run_workloads(
        workloads, seconds=args.seconds, repeat=args.repeat, file=args.file, size=args.size,
        progress=progress))
    if results is None:
        return status
    if args.json:
        for result in results:
            print(json.dumps(result.to_json()))
    else:
        print(format_table(results))
    return 0


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
