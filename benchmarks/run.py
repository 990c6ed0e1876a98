#!/usr/bin/env python3
"""Run every benchmark workload and print the table (`make bench`).

Same options as `uring bench`: benchmarks/run.py [nop|read|direct|all] [--json]
[--seconds S] [--repeat N] [--file PATH] [--size BYTES]. See benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    from uring.cli import bench_cmd
except ImportError:
    # Run from a checkout without the package on the path: use the in-tree sources
    # (the compiled core must have been built, e.g. by `make venv`).
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from uring.cli import bench_cmd


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    bench_cmd.add_arguments(parser)
    return bench_cmd.run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
