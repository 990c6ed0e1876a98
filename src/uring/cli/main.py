"""Argument parsing and dispatch for the `uring` command."""
from __future__ import annotations

import argparse
import sys


# `uring bench NAME ...` for these names runs NAME's own command line (module.main(argv)),
# so each benchmark family keeps its options beside its code.
BENCH_FAMILIES = {
    "aio": "uring.aio.bench",
    "loop": "uring.loop.bench",
    "seed": "uring.bench_seed",
    "copy": "uring.bench_copy",
}
SUBCOMMAND_MODULES = ("bench_cmd", "cp_cmd", "stat_cmd", "logd_cmd")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if len(argv) >= 2 and argv[0] == "bench" and argv[1] in BENCH_FAMILIES:
        module = __import__(BENCH_FAMILIES[argv[1]], fromlist=["main"])
        return int(module.main(argv[2:]) or 0)
    parser = argparse.ArgumentParser(prog="uring", description="io_uring from Python")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("probe", help="what the running kernel supports")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    sub.add_parser("demo", help="a short live demonstration")
    for name in SUBCOMMAND_MODULES:
        try:
            module = __import__(f"uring.cli.{name}", fromlist=["add_parser"])
        except ImportError:
            continue
        module.add_parser(sub).set_defaults(handler=module.run)
    args = parser.parse_args(argv)
    if hasattr(args, "handler"):
        return args.handler(args)
    if args.command == "probe":
        from uring.cli import probe_cmd
        return probe_cmd.run(args)
    if args.command == "demo":
        from uring.cli import demo_cmd
        return demo_cmd.run(args)
    parser.error(f"unknown command {args.command}")
    return 2


def entry() -> int:
    """Console-script entry: a closed stdout (`uring probe | head`) ends quietly."""
    try:
        return main()
    except BrokenPipeError:
        import os
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(entry())
