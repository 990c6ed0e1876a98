"""`uring logd --listen HOST:PORT --log FILE [...]`: the durable log server, and
`uring logd bench [...]`: the same protocol measured on io_uring, asyncio and uvloop."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Callable

from uring.cli.argtypes import int_list, positive_int
from uring.logd.protocol import DEFAULT_MAX_RECORD

__all__ = ["add_parser", "run"]


def _choices(allowed: tuple[str, ...]) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        items = [part for part in text.split(",") if part]
        bad = [i for i in items if i not in allowed]
        if bad or not items:
            raise argparse.ArgumentTypeError(f"choose from {','.join(allowed)}, got {text!r}")
        return items
    return parse


def add_parser(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> argparse.ArgumentParser:
    """Register `logd` (and `logd bench`) on the `uring` command's subparsers."""
    from uring.logd.aio_server import LOOPS
    from uring.logd.bench import ALL_SERVERS, MODES, SERVERS
    from uring.logd.server import SYNC_MODES
    p = subparsers.add_parser(
        "logd", help="durable append-only log server (lines in, cumulative acks out)",
        description="Append each line a client sends to FILE; answer '<n>\\n' (records of this "
                    "connection durable so far) once the write -> fsync covering them completed.")
    p.add_argument("--listen", metavar="HOST:PORT", help="address to listen on (port 0: any free port)")
    p.add_argument("--log", metavar="FILE", help="the log file (created; a torn last line is cut off)")
    p.add_argument("--sync", choices=SYNC_MODES, default="fsync", help="durability of each commit")
    p.add_argument("--group-commit", action="store_true",
                   help="one fsync for every record that arrived while the previous one ran "
                        "(default: one write -> fsync per record)")
    p.add_argument("--sqpoll", action="store_true", help="a kernel thread polls the submission queue")
    p.add_argument("--max-record", type=positive_int, default=DEFAULT_MAX_RECORD,
                   help=f"longest record in bytes, newline included (default {DEFAULT_MAX_RECORD})")
    p.add_argument("--loop", choices=("uring",) + LOOPS, default="uring",
                   help="uring (default), or the asyncio comparison server on asyncio, uvloop or "
                        "uring-loop (this project's asyncio event loop)")
    sub = p.add_subparsers(dest="logd_command")
    b = sub.add_parser("bench", help="measure logd on io_uring, asyncio and uvloop side by side",
                       description="Start each server, drive N connections for DURATION seconds, "
                                   "report records/s, acks per server CPU-second, p50/p99 ack latency.")
    b.add_argument("--conns", type=int_list, default=[1, 10, 100], help="connection counts (default 1,10,100)")
    b.add_argument("--record-size", type=positive_int, default=100, help="bytes per record (default 100)")
    b.add_argument("--duration", type=float, default=3.0, help="measured seconds per run (default 3)")
    b.add_argument("--window", type=positive_int, default=1,
                   help="records each connection keeps unacknowledged (default 1)")
    b.add_argument("--servers", type=_choices(ALL_SERVERS), default=list(SERVERS),
                   help="default c,uring,asyncio,uvloop (c: the same server in C on a raw ring, "
                        "the machine's limit); uring-loop: the asyncio server on uring.loop; "
                        "c-fixed: the C server with registered files")
    b.add_argument("--modes", type=_choices(MODES), default=list(MODES),
                   help="record (fsync per record) and/or group (group commit); default both")
    b.add_argument("--repeat", type=positive_int, default=1,
                   help="runs per setting; the table shows medians (default 1)")
    b.add_argument("--sync", dest="bench_sync", choices=SYNC_MODES, default="fsync")
    b.add_argument("--sqpoll", dest="bench_sqpoll", action="store_true", help="run the uring server with SQPOLL")
    b.add_argument("--dir", default=None, help="directory for the logs (default: the temp dir)")
    b.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def run(args: argparse.Namespace) -> int:
    if getattr(args, "logd_command", None) == "bench":
        return _bench(args)
    if not args.listen or not args.log:
        print("uring logd: --listen HOST:PORT and --log FILE are required", file=sys.stderr)
        return 2
    from uring.logd.server import parse_address
    try:
        address = parse_address(args.listen)
    except ValueError as exc:
        print(f"uring logd: {exc}", file=sys.stderr)
        return 2

    def ready(server: object) -> None:
        host, port = server.address  # type: ignore[attr-defined]
        print(f"logd listening on {host}:{port}", flush=True)

    common = dict(sync=args.sync, group_commit=args.group_commit, max_record=args.max_record, ready=ready)
    try:
        if args.loop == "uring":
            from uring.logd.server import serve
            stats = serve(address, args.log, sqpoll=args.sqpoll, **common)
        else:
            from uring.logd.aio_server import serve_asyncio
            stats = serve_asyncio(address, args.log, loop=args.loop, **common)
    except OSError as exc:
        print(f"uring logd: {exc}", file=sys.stderr)
        return 1
    print(f"logd stats {json.dumps(stats)}", flush=True)
    return 0


def _bench(args: argparse.Namespace) -> int:
    from uring.bench import BenchError
    from uring.logd.bench import (C_SERVERS, HEADER, c_server_binary, format_row, format_table, run_matrix,
                                  sync_floor)
    if any(name in C_SERVERS for name in args.servers):
        try:
            c_server_binary()
        except BenchError as exc:
            print(f"logd bench: the C server is not measured: {exc}", file=sys.stderr)
            args.servers = [name for name in args.servers if name not in C_SERVERS]
            if not args.servers:
                return 1
    if not args.json:
        print(f"logd bench: {args.record_size}-byte records, window {args.window}, sync={args.bench_sync}, "
              f"{args.duration:g} s per run, median of {args.repeat}; acks = records acknowledged; "
              "CPU = server process, all threads")
        print(HEADER, flush=True)
    rows = run_matrix(servers=args.servers, modes=args.modes, conns=args.conns, record_size=args.record_size,
                      duration=args.duration, window=args.window, sync=args.bench_sync, repeat=args.repeat,
                      sqpoll=args.bench_sqpoll, directory=args.dir,
                      progress=None if args.json else lambda row: print(format_row(row), flush=True))
    floor = None
    if "record" in args.modes and args.bench_sync != "none":
        floor = sync_floor(args.dir, sync=args.bench_sync, record_size=args.record_size)
        rows.append(floor)
        if not args.json:
            print(format_row(floor), flush=True)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print("\nwith ratios (acks per server CPU-second vs the asyncio servers):")
        print(format_table(rows))
        if floor is not None:
            print(f"\nfloor: one thread doing pwrite + {args.bench_sync} per record on this disk, no network: "
                  f"{floor['acks_per_cpu_s']:,.0f} records per CPU-second ({1e6 / floor['acks_per_cpu_s']:.0f} us "
                  f"each), {floor['records_per_s']:,.0f} syncs/s. With {args.bench_sync} per record no server "
                  "can do better per CPU-second.")
    return 0
