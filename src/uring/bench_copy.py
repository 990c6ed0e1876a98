"""`uring bench copy`: `uring cp`'s engines against cp(1), shutil.copyfile and dd
oflag=direct, on one file, with the source in the page cache and cold.

Every method copies the same source (the benchmarks' data file, written once) to a fresh
destination beside it; methods run interleaved round by round, each timed copy right after
an untimed one by the same method, and the medians are reported with each method's speed
relative to cp (> 1: faster). Cold copies first drop the source's pages with
posix_fadvise(POSIX_FADV_DONTNEED). Destinations are flushed and deleted after each copy
(untimed), so one method's writeback does not land in the next one's time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from uring import bench
from uring.cli.argtypes import byte_size, positive_int
from uring.copy import copyfile

__all__ = ["Timing", "METHODS", "drop_cache", "measure", "format_table", "main"]

CACHE_STATES = ("cached", "cold")


Copy = Callable[[Path, Path, bool], object]


def _uring(mode: str) -> Copy:
    return lambda src, dst, fsync: copyfile(src, dst, mode=mode, fsync=fsync)


def _run(*argv: str) -> None:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)


def _fsync_path(dst: Path) -> None:
    fd = os.open(dst, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _then_fsync(copy: Callable[[Path, Path], object]) -> Copy:
    """A tool without its own fsync: copy, then fsync the destination (inside the timing
    when the run is durable)."""
    def run(src: Path, dst: Path, fsync: bool) -> None:
        copy(src, dst)
        if fsync:
            _fsync_path(dst)
    return run


# name -> copy(src, dst, fsync); the first is the one the others are compared with.
METHODS: dict[str, Copy] = {
    "cp": _then_fsync(lambda src, dst: _run("cp", str(src), str(dst))),
    "uring cp": _uring("auto"),
    "uring cp --mode splice": _uring("splice"),
    "uring cp --mode direct": _uring("direct"),
    "uring cp --mode buffered": _uring("buffered"),
    "shutil.copyfile": _then_fsync(shutil.copyfile),
    "dd bs=1M oflag=direct": lambda src, dst, fsync: _run(
        "dd", f"if={src}", f"of={dst}", "bs=1M", "oflag=direct", "status=none",
        *(["conv=fsync"] if fsync else [])),
}
BASELINE = "cp"


@dataclass
class Timing:
    """All rounds of one method in one cache state, in seconds."""
    method: str
    cache: str
    size: int
    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def speed_vs(self, baseline: "Timing") -> float:
        """Median over the rounds of baseline time / this time in the same round: pairing
        copies made seconds apart cancels the machine's drift between rounds."""
        return statistics.median(b / t for b, t in zip(baseline.seconds, self.seconds))

    def to_json(self, baseline: "Timing | None") -> dict[str, Any]:
        return {"method": self.method, "cache": self.cache, "bytes": self.size,
                "seconds": [round(s, 4) for s in self.seconds], "median_s": round(self.median, 4),
                "gb_per_s": round(self.size / self.median / 1e9, 3),
                "speed_vs_cp": None if baseline is None else round(self.speed_vs(baseline), 3)}


def drop_cache(path: Path) -> None:
    """Evict `path`'s pages from the page cache (they are clean: the file was fsynced)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def _warm(path: Path) -> None:
    bench._warm_page_cache(path)


def _flush_and_remove(dst: Path) -> None:
    if dst.exists():
        _fsync_path(dst)
        dst.unlink()


def measure(src: Path, *, methods: Sequence[str] = tuple(METHODS), caches: Sequence[str] = CACHE_STATES,
            repeat: int = 3, fsync: bool = False,
            progress: Callable[[str], None] | None = None) -> list[Timing]:
    """Time every method in every cache state, `repeat` interleaved rounds; with `fsync`
    each timing ends when the copy is on stable storage."""
    size = src.stat().st_size
    timings = [Timing(m, c, size) for c in caches for m in methods]
    with open(src, "rb") as f:
        os.fsync(f.fileno())   # clean pages, so DONTNEED can drop them
    dst = src.with_name(f".copy-bench-{os.getpid()}.dst")
    for r in range(repeat):
        for t in timings:
            # An untimed copy by the same method first: a copy right after cp's or
            # shutil's in-kernel copy ran 2-5x slower here whatever the method (a plain
            # write() too: memory freed by the guest VM is faulted back in), so each
            # method is timed after one of its own.
            for timed in (False, True):
                _flush_and_remove(dst)
                (drop_cache if t.cache == "cold" else _warm)(src)
                start = time.perf_counter()
                try:
                    METHODS[t.method](src, dst, fsync)
                    if timed:
                        t.seconds.append(time.perf_counter() - start)
                finally:
                    _flush_and_remove(dst)
            if progress:
                progress(f"  round {r + 1}/{repeat} {t.cache:<6} {t.method:<26} {t.seconds[-1]:.3f} s")
    return timings


def _baseline(timings: Sequence[Timing], cache: str) -> Timing | None:
    return next((t for t in timings if t.cache == cache and t.method == BASELINE and t.seconds), None)


def format_table(timings: Sequence[Timing], *, path: Path | None = None, fsync: bool = False) -> str:
    """Per cache state, one line per method: median time, GB/s and speed relative to cp."""
    if not timings:
        return "nothing measured"
    size = timings[0].size
    rounds = len(timings[0].seconds)
    out = [f"uring bench copy: a {bench._human_bytes(size)} file, Linux {platform.release()}, "
           f"{os.cpu_count()} CPUs; median of {rounds} round(s)" + (f"; {path}" if path else "")]
    for cache in CACHE_STATES:
        rows = [t for t in timings if t.cache == cache and t.seconds]
        if not rows:
            continue
        base = _baseline(timings, cache)
        head = ["method", "time", "GB/s", "x cp"]
        lines = [[t.method, f"{t.median:.3f} s", f"{size / t.median / 1e9:.2f}",
                  "-" if base is None else f"{t.speed_vs(base):.2f}"] for t in rows]
        widths = [max(len(x) for x in col) for col in zip(head, *lines)]
        title = ("source in the page cache" if cache == "cached"
                 else "source dropped from the page cache (POSIX_FADV_DONTNEED) before each copy")
        out += ["", f"{cache}: {title}",
                "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths))),
                "  ".join("-" * w for w in widths)]
        out += ["  ".join(x.ljust(w) if i == 0 else x.rjust(w) for i, (x, w) in enumerate(zip(line, widths)))
                for line in lines]
    out += ["", "x cp: median over the rounds of cp's time / the method's in the same round (> 1: "
            "faster than cp). " + (
                "Durable copies: each time ends when the destination is fsynced (cp and shutil "
                "then fsync; uring cp --fsync; dd conv=fsync)." if fsync else
                "Times end when the copy returns (no fsync), as cp's do; each destination is "
                "flushed untimed.")]
    return "\n".join(out)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="uring bench copy", description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=byte_size, default=256 << 20, metavar="BYTES",
                   help="size of the file copied (default 256M)")
    p.add_argument("--repeat", type=positive_int, default=3, metavar="N", help="rounds (default 3)")
    p.add_argument("--cache", choices=[*CACHE_STATES, "both"], default="both", help="default both")
    p.add_argument("--method", action="append", choices=list(METHODS), metavar="NAME",
                   help="only these methods (repeatable; cp is always kept as the baseline)")
    p.add_argument("--file", metavar="PATH",
                   help="copy this file (copies go beside it) instead of the data file "
                        "in $URING_BENCH_DIR (default ~/.cache/uring-bench)")
    p.add_argument("--fsync", action="store_true",
                   help="durable copies: time each copy until its destination is fsynced")
    p.add_argument("--json", action="store_true", help="one JSON object per timing, one per line")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    progress = (lambda m: print(m, file=sys.stderr, flush=True)) if sys.stderr.isatty() else None
    methods = list(METHODS) if not args.method else [BASELINE, *dict.fromkeys(m for m in args.method if m != BASELINE)]
    caches = list(CACHE_STATES) if args.cache == "both" else [args.cache]
    def run() -> tuple[Path, list[Timing]]:
        src = bench._input_file(args.file, args.size, progress)
        return src, measure(src, methods=methods, caches=caches, repeat=args.repeat,
                            fsync=args.fsync, progress=progress)
    measured, status = bench.attempt("uring bench copy", run, also=(subprocess.CalledProcessError,))
    if measured is None:
        return status
    src, timings = measured
    if args.json:
        for t in timings:
            print(json.dumps(t.to_json(_baseline(timings, t.cache))))
    else:
        print(format_table(timings, path=src, fsync=args.fsync))
    return 0
