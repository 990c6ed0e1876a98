#!/usr/bin/env python3
"""Pipelined chain throughput: copy one page-cached file with `uring cp`'s engine (linked
read -> write chains, QD 32 by default) and, in the same run, with shutil.copyfile and cp(1).

    python benchmarks/copy_bench.py                 # 1 GiB, QD 32, 128 KiB chunks, best of 3
    python benchmarks/copy_bench.py --size 256M --repeat 5 --qd 8

Every method copies the same source (written once, so it sits in the page cache) to a fresh
destination in the same directory; the destination is deleted before each run so that every
method pays for allocating its pages. Reported: best and median wall time, and GB/s of the
best (1 GB = 1e9 bytes). The "Chain API" line runs the same pipeline through Ring.chain(),
one Chain object per chunk, to show what the convenience costs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from uring import Ring  # noqa: E402
from uring.copy import copyfile  # noqa: E402


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().removesuffix("IB").removesuffix("B")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def make_source(path: str, size: int) -> None:
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, len(block))
            f.write(block[:n])
            left -= n
    with open(path, "rb") as f:          # make sure every page is cached
        while f.read(1 << 24):
            pass


def chain_api_copy(src: str, dst: str, qd: int, chunk: int) -> int:
    """The same read -> write pipeline written with Ring.chain(): readable, slower."""
    size = os.path.getsize(src)
    s = os.open(src, os.O_RDONLY)
    d = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        with Ring(2 * qd) as ring:
            buffers = [bytearray(chunk) for _ in range(qd)]
            free = list(range(qd))
            inflight: list = []
            off = copied = 0
            while off < size or inflight:
                while free and off < size:
                    i = free.pop()
                    n = min(chunk, size - off)
                    with ring.chain() as ch:
                        ch.read(s, buffers[i], n, off)
                        ch.write(d, buffers[i], n, off)
                    ch.slot = i  # type: ignore[attr-defined]
                    inflight.append(ch)
                    off += n
                ring.submit_and_wait(1)
                still = []
                for ch in inflight:
                    if ch.done:
                        if not ch.ok:
                            ch.results()          # raises the failure
                        copied += ch[1].res
                        free.append(ch.slot)  # type: ignore[attr-defined]
                    else:
                        still.append(ch)
                inflight = still
            return copied
    finally:
        os.close(s)
        os.close(d)


def measure(fn: Callable[[], object], dst: str, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        if os.path.exists(dst):
            os.unlink(dst)
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    os.unlink(dst)
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=parse_size, default=1 << 30, help="file size (default 1G)")
    ap.add_argument("--qd", type=int, default=32, help="chains in flight (default 32)")
    ap.add_argument("--chunk", type=parse_size, default=128 << 10, help="bytes per chain (default 128K)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per method (default 3)")
    ap.add_argument("--dir", default=None, help="where to put the files (default: a temp dir)")
    ap.add_argument("--no-chain-api", action="store_true", help="skip the Chain API variant")
    args = ap.parse_args(argv)

    workdir = tempfile.mkdtemp(prefix="copy_bench.", dir=args.dir)
    src = os.path.join(workdir, "src.bin")
    dst = os.path.join(workdir, "dst.bin")
    try:
        make_source(src, args.size)
        methods: list[tuple[str, Callable[[], object]]] = [
            (f"uring copyfile (QD {args.qd}, {args.chunk >> 10} KiB chains)",
             lambda: copyfile(src, dst, qd=args.qd, chunk=args.chunk)),
            ("shutil.copyfile", lambda: shutil.copyfile(src, dst)),
            ("cp", lambda: subprocess.run(["cp", src, dst], check=True)),
        ]
        if not args.no_chain_api:
            methods.insert(1, (f"uring Ring.chain() per chunk (QD {args.qd})",
                               lambda: chain_api_copy(src, dst, args.qd, args.chunk)))
        print(f"copy of a page-cached {args.size / (1 << 30):.2f} GiB file, best of {args.repeat}"
              f" ({os.uname().release}, {os.cpu_count()} CPUs, {workdir})")
        print(f"{'method':48s} {'best s':>8s} {'median s':>9s} {'GB/s':>7s}")
        for name, fn in methods:
            times = measure(fn, dst, args.repeat)
            best = min(times)
            print(f"{name:48s} {best:8.3f} {statistics.median(times):9.3f} {args.size / best / 1e9:7.2f}",
                  flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
