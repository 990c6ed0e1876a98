"""`uring stat [PID ...] [--json] [--watch [SECONDS]]`: every io_uring instance of the given
processes (all readable ones by default) from /proc/PID/fdinfo (uring.stat)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from uring.cli.argtypes import pid, positive_float

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the `stat` subcommand on the `uring` command's subparsers."""
    p = subparsers.add_parser(
        "stat", help="what each io_uring instance of a process is doing (/proc/PID/fdinfo)",
        description="Show every io_uring instance of the given processes (default: every "
                    "process you may read): SQ/CQ sizes, heads and tails, pending SQEs and "
                    "CQEs, overflowed CQEs, the SQPOLL thread and its CPU, registered files, "
                    "buffers and personalities, and the poll list.")
    p.add_argument("pids", metavar="PID", nargs="*", type=pid, help="processes to look at")
    p.add_argument("--json", action="store_true", help="one JSON object per ring, one per line")
    p.add_argument("--watch", metavar="SECONDS", nargs="?", type=positive_float, const=1.0,
                   help="redraw every SECONDS (default 1) with SQEs/CQEs per second")
    p.add_argument("--count", type=int, default=None, help=argparse.SUPPRESS)  # frames, for tests
    return p


def run(args: argparse.Namespace) -> int:
    """Print the table, JSON lines or the refreshing view; 1 if a named PID has no rings
    we could read."""
    from uring.stat import find_rings, format_table, watch

    pids = args.pids or None
    if args.watch is not None:
        try:
            watch(pids, args.watch, iterations=args.count)
        except KeyboardInterrupt:
            pass
        return 0
    rings = find_rings(pids)
    if args.json:
        for ring in rings:
            print(json.dumps(ring.to_json()))
    else:
        print(format_table(rings))
    if pids and not rings:
        print("uring stat: no readable io_uring instance in process(es) "
              + " ".join(map(str, pids)), file=sys.stderr)
        return 1
    return 0
