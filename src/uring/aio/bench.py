"""`uring bench aio`: 64 tasks of random 4 KiB reads of a page-cached file and whole reads
of many small files, through uring.aio, aiofiles, run_in_executor and blocking os.pread."""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import random
import statistics
import sys
import tempfile
import time
from typing import Any, Awaitable, Callable

PAGE = 4096
# What a rate is per: wall-clock seconds (perf_counter), or with --cpu the CPU seconds of
# this process (process_time, worker threads included): on a shared machine only the
# latter compares variants run minutes apart.
_clock: Callable[[], float] = time.perf_counter


def _loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop]:
    if name == "uvloop":
        import uvloop
        return uvloop.new_event_loop
    if name == "uring":
        from uring.loop import new_event_loop
        return new_event_loop
    return asyncio.new_event_loop


def _run(name: str, main: Callable[[], Awaitable[Any]]) -> Any:
    loop = _loop_factory(name)()
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()


def prepare_file(path: str, size: int) -> None:
    """Create `path` of `size` bytes if it is not that size, then page-cache it."""
    if not os.path.exists(path) or os.path.getsize(path) != size:
        chunk = os.urandom(1 << 20)
        with open(path, "wb") as f:
            left = size
            while left > 0:
                f.write(chunk[:min(left, len(chunk))])
                left -= len(chunk)
    warm(path)


def warm(path: str) -> None:
    """Read the whole file so it is in the page cache: done before every measurement, as
    other work on a shared machine can evict it (seen here: a third of it left cached)."""
    with open(path, "rb", buffering=0) as f:
        buf = bytearray(1 << 20)
        while f.readinto(buf):
            pass


# -- random reads: each returns reads per second ----------------------------------------

async def _drive(tasks: int, seconds: float, body: Callable[[int, list], Awaitable[int]]) -> float:
    stop = [False]
    loop = asyncio.get_running_loop()
    loop.call_later(seconds, stop.__setitem__, 0, True)
    start = _clock()
    counts = await asyncio.gather(*(body(i, stop) for i in range(tasks)))
    return sum(counts) / (_clock() - start)


async def _ours(path: str, pages: int, tasks: int, seconds: float) -> float:
    from uring import aio
    fd = os.open(path, os.O_RDONLY)
    read = aio.read
    await aio.nop()   # the ring exists before the clock starts

    async def body(i: int, stop: list) -> int:
        buf = bytearray(PAGE)
        rnd = random.Random(i).randrange
        n = 0
        while not stop[0]:
            await read(fd, buf, PAGE, rnd(pages) * PAGE)
            n += 1
        return n
    try:
        return await _drive(tasks, seconds, body)
    finally:
        os.close(fd)


async def _pread(path: str, pages: int, tasks: int, seconds: float) -> float:
    fd = os.open(path, os.O_RDONLY)
    pread = os.pread
    sleep = asyncio.sleep

    async def body(i: int, stop: list) -> int:
        rnd = random.Random(i).randrange
        n = 0
        while not stop[0]:
            pread(fd, PAGE, rnd(pages) * PAGE)
            n += 1
            if not n & 63:
                await sleep(0)   # let the others (and the stop timer) run
        return n
    try:
        return await _drive(tasks, seconds, body)
    finally:
        os.close(fd)


async def _executor(path: str, pages: int, tasks: int, seconds: float) -> float:
    fd = os.open(path, os.O_RDONLY)
    loop = asyncio.get_running_loop()

    async def body(i: int, stop: list) -> int:
        rnd = random.Random(i).randrange
        n = 0
        while not stop[0]:
            await loop.run_in_executor(None, os.pread, fd, PAGE, rnd(pages) * PAGE)
            n += 1
        return n
    try:
        return await _drive(tasks, seconds, body)
    finally:
        os.close(fd)


async def _aiofiles(path: str, pages: int, tasks: int, seconds: float) -> float:
    import aiofiles

    async def body(i: int, stop: list) -> int:
        rnd = random.Random(i).randrange
        n = 0
        async with aiofiles.open(path, "rb", buffering=0) as f:
            while not stop[0]:
                await f.seek(rnd(pages) * PAGE)
                await f.read(PAGE)
                n += 1
        return n
    return await _drive(tasks, seconds, body)


RANDOM = {"ours": _ours, "pread": _pread, "executor": _executor, "aiofiles": _aiofiles}


# -- small files read whole -----------------------------------------------------------------

def prepare_small(directory: str, count: int) -> list[str]:
    os.makedirs(directory, exist_ok=True)
    paths = []
    rnd = random.Random(7)
    for i in range(count):
        p = os.path.join(directory, f"f{i:05d}")
        paths.append(p)
        if not os.path.exists(p):
            with open(p, "wb") as f:
                f.write(os.urandom(rnd.randrange(100, 8192)))
    for p in paths:
        with open(p, "rb") as f:
            f.read()
    return paths


async def _small(paths: list[str], tasks: int, read_one: Callable[[str], Awaitable[bytes]]) -> float:
    it = iter(paths)
    total = [0]

    async def body() -> None:
        for p in it:
            total[0] += len(await read_one(p))
    start = _clock()
    await asyncio.gather(*(body() for _ in range(tasks)))
    return len(paths) / (_clock() - start)


async def _small_ours(paths: list[str], tasks: int) -> float:
    from uring import aio
    await aio.nop()
    return await _small(paths, tasks, aio.read_bytes)


async def _small_aiofiles(paths: list[str], tasks: int) -> float:
    import aiofiles

    async def read_one(p: str) -> bytes:
        async with aiofiles.open(p, "rb") as f:
            return await f.read()
    return await _small(paths, tasks, read_one)


def _read_file(p: str) -> bytes:
    with open(p, "rb") as f:
        return f.read()


async def _small_threads(paths: list[str], tasks: int) -> float:
    loop = asyncio.get_running_loop()
    with concurrent.futures.ThreadPoolExecutor() as pool:
        return await _small(paths, tasks, lambda p: loop.run_in_executor(pool, _read_file, p))


SMALL = {"ours": _small_ours, "aiofiles": _small_aiofiles, "threads": _small_threads}


def run(*, path: str, size: int, seconds: float, repeat: int, tasks: int, small: int,
        small_dir: str, loops: tuple[str, ...] = ("asyncio", "uvloop"),
        methods: tuple[str, ...] = tuple(RANDOM), small_methods: tuple[str, ...] = tuple(SMALL)) -> dict:
    """All measurements, interleaved round by round; medians of `repeat` rounds."""
    prepare_file(path, size)
    pages = size // PAGE
    samples: dict[str, list[float]] = {}
    paths = prepare_small(small_dir, small) if small else []
    for _ in range(repeat):
        for loop in loops:
            for m in methods:
                warm(path)
                rate = _run(loop, lambda: RANDOM[m](path, pages, tasks, seconds))
                samples.setdefault(f"random.{m}.{loop}", []).append(rate)
            for m in small_methods if paths else ():
                rate = _run(loop, lambda: SMALL[m](paths, tasks))
                samples.setdefault(f"small.{m}.{loop}", []).append(rate)
    med = {k: statistics.median(v) for k, v in samples.items()}
    ratios = {}
    for loop in loops:
        ours = med.get(f"random.ours.{loop}")
        for other in ("pread", "aiofiles", "executor"):
            if ours and med.get(f"random.{other}.{loop}"):
                ratios[f"random.ours_vs_{other}.{loop}"] = ours / med[f"random.{other}.{loop}"]
        ours = med.get(f"small.ours.{loop}")
        for other in ("aiofiles", "threads"):
            if ours and med.get(f"small.{other}.{loop}"):
                ratios[f"small.ours_vs_{other}.{loop}"] = ours / med[f"small.{other}.{loop}"]
    per = "per CPU-second of this process" if _clock is time.process_time else "per second"
    return {"unit": f"reads {per} (random: 4 KiB reads; small: files read whole)", "tasks": tasks,
            "file_size": size, "seconds": seconds, "repeat": repeat, "small_files": small,
            "python": sys.version.split()[0], "median": med, "ratios": ratios, "samples": samples}


def _size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if text[-1:].upper() in units:
        return int(float(text[:-1]) * units[text[-1].upper()])
    return int(text)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="uring bench aio", description=__doc__)
    p.add_argument("--file", default=os.path.join(tempfile.gettempdir(), "uring-aio-bench.bin"))
    p.add_argument("--size", type=_size, default=1 << 30, help="file size (default 1G)")
    p.add_argument("--seconds", type=float, default=1.0, help="per measurement")
    p.add_argument("--repeat", type=int, default=3, help="rounds; medians are reported")
    p.add_argument("--tasks", type=int, default=64)
    p.add_argument("--small", type=int, default=10_000, help="small files read whole (0: skip)")
    p.add_argument("--small-dir", default=os.path.join(tempfile.gettempdir(), "uring-aio-small"))
    p.add_argument("--loops", default="asyncio,uvloop", help="asyncio, uvloop, uring (comma-separated)")
    p.add_argument("--methods", default=",".join(RANDOM))
    p.add_argument("--json", action="store_true")
    p.add_argument("--cpu", action="store_true",
                   help="rates per CPU-second of this process (threads included), not per wall-clock second")
    a = p.parse_args(argv)
    global _clock
    _clock = time.process_time if a.cpu else time.perf_counter
    out = run(path=a.file, size=a.size, seconds=a.seconds, repeat=a.repeat, tasks=a.tasks, small=a.small,
              small_dir=a.small_dir, loops=tuple(a.loops.split(",")), methods=tuple(a.methods.split(",")))
    if a.json:
        print(json.dumps(out, indent=2))
    else:
        for k, v in out["median"].items():
            print(f"{k:32s} {v:12,.0f}/s")
        for k, v in out["ratios"].items():
            print(f"{k:32s} {v:8.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
