"""The measuring code behind `uring bench` and benchmarks/run.py.

Three workloads, each timed for the library ("ours"), for a raw-syscall C program
(benchmarks/c/rawring.c, compiled here with the system `cc -O2`) and, where there is one,
for the plain-Python way of doing the same I/O:

- ``nop``: batches of 256 NOPs queued op by op from Python, then one submit_and_wait(256).
- ``read``: 4 KiB reads at random 4 KiB-aligned offsets of a page-cached file, 64 in
  flight, through the compiled ``Ring.read`` fast path (result ``read``) and through
  registered file + registered buffers with ``Ring.read_fixed`` (result ``read_fixed``);
  the Python baselines are ``os.preadv`` and ``os.pread`` loops over the same offsets.
- ``direct``: the same reads with O_DIRECT from a file on the machine's disk.

Every measurement of a workload runs in this one process tree, interleaved round by round
(C, ours, Python, C, ours, ...), so a machine that slows down mid-run hurts all sides
alike; the reported figure is the median of the rounds.
"""

from __future__ import annotations

import array
import hashlib
import itertools
import json
import mmap
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

from uring._core import Pin
from uring._uapi import RegisterOp, SqeFlags

__all__ = [
    "BenchError", "Result", "WORKLOADS", "TARGETS", "DEFAULT_SECONDS", "DEFAULT_REPEAT",
    "DEFAULT_SIZE", "run_workloads", "format_table", "build_rawring", "build_c_program", "c_program", "rawring_source",
    "data_file", "cache_dir", "parse_size",
    "ours_nop", "ours_read", "python_preadv", "python_pread", "run_rawring",
]

WORKLOADS = ("nop", "read", "direct")
DEFAULT_SECONDS = 2.0
DEFAULT_REPEAT = 3
DEFAULT_SIZE = 1 << 30
BLOCK = 4096
QUEUE_DEPTH = 64
NOP_BATCH = 256

# Minimum ratios per result: the bar the library is held to on this machine.
TARGETS: dict[str, dict[str, float]] = {
    "nop": {"ratio_vs_c": 0.50},
    "read": {"ratio_vs_python": 1.0},
    "read_fixed": {"ratio_vs_python": 1.0},
    "direct": {"ratio_vs_c": 0.90, "ratio_vs_python": 3.0},
}

# Random offsets are drawn once per workload and cycled: drawing them inside the timed
# loop would bill the PRNG to the library. 2**18 offsets cover a 1 GiB file's pages well.
_OFFSET_COUNT = 1 << 18
_OFFSET_SEED = 0x5EED
# Plain-Python loops look at the clock once per this many reads.
_CLOCK_EVERY = 1024
_TMPFS_TYPES = {"tmpfs", "ramfs"}


class BenchError(RuntimeError):
    """A benchmark could not run (no compiler, no C source, a failed read, ...)."""


_T = TypeVar("_T")


def attempt(command: str, measure: Callable[[], _T],
            also: tuple[type[BaseException], ...] = ()) -> tuple[_T | None, int]:
    """(measure(), 0); or, when it fails with a BenchError, an OSError or one of `also`, or
    is interrupted, (None, exit status 1 or 130) after saying why on stderr as `command: why`.
    The commands' one way of turning a failed measurement into a message and a status."""
    caught: tuple[type[BaseException], ...] = (BenchError, OSError, *also)
    try:
        return measure(), 0
    except caught as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return None, 1
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return None, 130


@dataclass
class Result:
    """One workload's medians over the rounds, the ratios and whether targets were met."""
    workload: str
    ours: list[float]
    c: list[float]
    python: list[float] = field(default_factory=list)
    python_label: str | None = None
    extra: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = DEFAULT_SECONDS
    notes: list[str] = field(default_factory=list)

    @property
    def ours_ops_per_sec(self) -> float:
        return statistics.median(self.ours)

    @property
    def c_ops_per_sec(self) -> float | None:
        return statistics.median(self.c) if self.c else None

    @property
    def python_ops_per_sec(self) -> float | None:
        return statistics.median(self.python) if self.python else None

    @property
    def ratio_vs_c(self) -> float | None:
        return _paired_ratio(self.ours, self.c) if self.c else None

    @property
    def ratio_vs_python(self) -> float | None:
        return _paired_ratio(self.ours, self.python) if self.python else None

    @property
    def target(self) -> dict[str, float]:
        return TARGETS.get(self.workload, {})

    @property
    def meets_target(self) -> bool | None:
        """True or False, or None when a ratio the target needs was not measured (no C)."""
        ratios = {"ratio_vs_c": self.ratio_vs_c, "ratio_vs_python": self.ratio_vs_python}
        needed = [(ratios[k], v) for k, v in self.target.items()]
        if any(r is None for r, _ in needed):
            return None
        return all(r is not None and r >= v for r, v in needed)

    def to_json(self) -> dict[str, Any]:
        """The machine-readable record printed by ``uring bench --json``."""
        record: dict[str, Any] = {
            "workload": self.workload,
            "ours_ops_per_sec": round(self.ours_ops_per_sec, 1),
            "c_ops_per_sec": _round(self.c_ops_per_sec, 1),
            "python_ops_per_sec": _round(self.python_ops_per_sec, 1),
            "python_baseline": self.python_label,
            "ratio_vs_c": _round(self.ratio_vs_c, 4),
            "ratio_vs_python": _round(self.ratio_vs_python, 4),
            "rounds": len(self.ours),
            "seconds": self.seconds,
            "target": dict(self.target),
            "meets_target": self.meets_target,
            "samples": {"ours": _rounded(self.ours), "c": _rounded(self.c),
                        "python": _rounded(self.python),
                        **{k: _rounded(v) for k, v in self.extra.items()}},
        }
        for name, samples in self.extra.items():
            record[f"{name}_ops_per_sec"] = round(statistics.median(samples), 1)
            record[f"ratio_vs_{name}"] = round(_paired_ratio(self.ours, samples), 4)
        if self.notes:
            record["notes"] = list(self.notes)
        return record


def _paired_ratio(ours: Sequence[float], other: Sequence[float]) -> float:
    """Median over the rounds of ours/other measured in the same round: pairing the
    interleaved measurements cancels the drift between rounds that a ratio of the two
    medians would keep."""
    return statistics.median(o / x for o, x in zip(ours, other))


def _round(x: float | None, nd: int) -> float | None:
    return None if x is None else round(x, nd)


def _rounded(xs: Iterable[float]) -> list[float]:
    return [round(x, 1) for x in xs]


# -- the C program -------------------------------------------------------------------


# The C programs ship inside the package (package data), so an installed uring measures too.
C_DIR = Path(__file__).resolve().parent / "_bench_c"


def rawring_source() -> Path:
    """The C baseline shipped inside the package (uring/_bench_c/rawring.c), or
    $URING_RAWRING_SRC."""
    override = os.environ.get("URING_RAWRING_SRC")
    src = Path(override) if override else C_DIR / "rawring.c"
    if not src.is_file():
        raise BenchError(
            f"the C baseline {src} is missing: reinstall uring (it ships rawring.c as "
            "package data), or set URING_RAWRING_SRC to a rawring.c")
    return src


def build_cache_dir() -> Path:
    """Where compiled C baselines are kept: $URING_BUILD_DIR, else
    $XDG_CACHE_HOME/uring-bench/build (~/.cache/uring-bench/build)."""
    override = os.environ.get("URING_BUILD_DIR")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "uring-bench" / "build"


def _build_dirs(src: Path) -> list[Path]:
    # An installed package is usually read-only, so binaries go to the user's cache; a
    # home without a writable cache falls back to a per-user temp dir.
    return [build_cache_dir(), Path(tempfile.gettempdir()) / f"uring-bench-build-{os.getuid()}"]


def build_rawring(src: Path | None = None) -> Path:
    """Compile rawring.c (see build_c_program) on first use; return the binary's path."""
    return build_c_program(src or rawring_source())


def process_cpu(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds process `pid` has used so far, every thread (ended ones
    too), from /proc/PID/stat (clock-tick grain)."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()   # the name may hold spaces or ")"
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def c_program(name: str) -> str:
    """The path of C program NAME (uring/_bench_c/NAME.c) compiled by build_c_program."""
    src = C_DIR / f"{name}.c"
    if not src.is_file():
        raise BenchError(f"the C program {src} is missing: reinstall uring (it ships "
                         "uring/_bench_c as package data)")
    return str(build_c_program(src))


def build_c_program(src: Path) -> Path:
    """Compile one of the C programs (``cc -O2``, $CC if set) on first use, into
    build_cache_dir(), unless a binary of the same source exists; return its path. The
    binary's name carries a hash of the source and of the headers beside it (ring.h), so an
    edited source is rebuilt and concurrent runs never clash."""
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in [src, *sorted(src.parent.glob("*.h"))]))
    name = f"{src.stem}-{digest.hexdigest()[:16]}"
    dirs = _build_dirs(src)
    for build_dir in dirs:
        exe = build_dir / name
        if os.access(exe, os.X_OK):
            return exe
    cc = os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        raise BenchError(f"no C compiler to build the C baseline {src}: `{cc}` is not on PATH "
                         "(install gcc or clang, or set CC)")
    errors = []
    for build_dir in dirs:
        try:
            build_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{src.stem}-", dir=build_dir)
            os.close(fd)
        except OSError as exc:
            errors.append(f"{build_dir}: {exc.strerror}")
            continue
        try:
            proc = subprocess.run([cc, "-O2", "-o", tmp, str(src)], capture_output=True, text=True)
            if proc.returncode != 0:
                raise BenchError(f"compiling {src} with `{cc} -O2` failed:\n{proc.stderr.strip()}")
            os.chmod(tmp, 0o755)
            exe = build_dir / name
            os.replace(tmp, exe)   # atomic: a concurrent run never runs half a binary
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return exe
    raise BenchError(f"no writable build directory for {src.name}: " + "; ".join(errors))


def run_rawring(exe: Path, workload: str, seconds: float, *args: str) -> tuple[float, list[str]]:
    """Run one rawring measurement; returns (ops_per_sec, warnings it printed)."""
    cmd = [str(exe), workload, "--seconds", repr(float(seconds)), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} failed (exit {proc.returncode}): {proc.stderr.strip()}")
    try:
        record = json.loads(proc.stdout.strip().splitlines()[-1])
        rate = float(record["ops_per_sec"])
    except (IndexError, ValueError, KeyError, TypeError) as exc:
        raise BenchError(f"{' '.join(cmd)}: unexpected output {proc.stdout!r}") from exc
    return rate, [line for line in proc.stderr.splitlines() if line.strip()]


# -- the data file ---------------------------------------------------------------------


def parse_size(text: str) -> int:
    """A byte count, with an optional K/M/G/T suffix (powers of 1024): '64M', '1G', '4096'."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    s = text.strip().upper().removesuffix("IB").removesuffix("B")
    scale = units.get(s[-1:], 1)
    number = s[:-1] if s[-1:] in units else s
    try:
        value = int(number) * scale
    except ValueError:
        raise ValueError(f"invalid size {text!r} (expected bytes, e.g. 1073741824, 64M or 1G)") from None
    if value < BLOCK or value % BLOCK:
        raise ValueError(f"size must be a positive multiple of {BLOCK} bytes, got {text!r}")
    return value


def cache_dir() -> Path:
    """Where the benchmark's data file lives: $URING_BENCH_DIR, else
    $XDG_CACHE_HOME/uring-bench (~/.cache/uring-bench). Must be on a real disk for direct."""
    override = os.environ.get("URING_BENCH_DIR")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "uring-bench"


def data_file(size: int, directory: Path | None = None) -> Path:
    """The benchmark's data file of exactly `size` bytes, written once and reused.

    Its content is non-zero (a rotated random block): unwritten/zero extents could be
    answered without touching the disk, which would flatter the O_DIRECT figures."""
    directory = directory or cache_dir()
    path = directory / f"data-{size}.bin"
    try:
        if path.stat().st_size == size:
            return path
    except FileNotFoundError:
        pass
    directory.mkdir(parents=True, exist_ok=True)
    chunk = 1 << 20
    block = os.urandom(chunk)
    fd, tmp = tempfile.mkstemp(prefix=".data-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            written = 0
            i = 0
            while written < size:
                shift = (i * 4099) % chunk
                piece = (block[shift:] + block[:shift])[:size - written]
                f.write(piece)
                written += len(piece)
                i += 1
            f.flush()
            os.fsync(f.fileno())   # so the first O_DIRECT round does not pay for writeback
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _warm_page_cache(path: Path) -> None:
    """Read the file once sequentially so the random buffered reads hit the page cache."""
    buf = bytearray(1 << 20)
    with open(path, "rb", buffering=0) as f:
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        while f.readinto(buf):
            pass


def _fs_type(path: Path) -> str | None:
    """The filesystem type of the mount holding `path` (longest mount point match)."""
    target = str(path.resolve())
    best, fstype = "", None
    try:
        with open("/proc/self/mounts") as mounts:
            for line in mounts:
                parts = line.split()
                if len(parts) < 3:
                    continue
                mnt = parts[1].replace("\\040", " ")
                if (target == mnt or target.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
                    best, fstype = mnt, parts[2]
    except OSError:
        return None
    return fstype


def _random_offsets(size: int, count: int = _OFFSET_COUNT) -> list[int]:
    """Deterministic random 4 KiB-aligned offsets at which a whole block fits."""
    import random
    nblocks = size // BLOCK
    raw = array.array("Q", random.Random(_OFFSET_SEED).randbytes(8 * count))
    return [(x % nblocks) * BLOCK for x in raw]


# -- ours ---------------------------------------------------------------------------------


def ours_nop(seconds: float, batch: int = NOP_BATCH) -> float:
    """NOPs per second: `batch` ring.nop() calls from Python, then submit_and_wait(batch)."""
    from uring import Ring
    with Ring(batch) as ring:
        return _nop_loop(ring, batch, seconds)


def _nop_loop(ring: Any, batch: int, seconds: float) -> float:
    nop = ring.nop
    submit_and_wait = ring.submit_and_wait
    clock = time.perf_counter
    rounds = range(batch)
    ops = 0
    start = clock()
    deadline = start + seconds
    while True:
        for _ in rounds:
            nop()
        submit_and_wait(batch)
        ops += batch
        now = clock()
        if now >= deadline:
            return ops / (now - start)


def ours_read(path: Path, offsets: Sequence[int], seconds: float, *, direct: bool = False,
              fixed: bool = False, qd: int = QUEUE_DEPTH, sqpoll: bool = False) -> float:
    """Reads per second with `qd` BLOCK-sized reads in flight through Ring.read (or, with
    `fixed`, a registered file and registered buffers through Ring.read_fixed); each
    round of completions is refilled and submitted by the same submit_and_wait(1).
    With `sqpoll` the ring's kernel thread does the submitting."""
    from uring import Ring
    from uring._uapi import SetupFlags
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECT if direct else 0))
    # mmap memory is page aligned, which O_DIRECT needs; bytearrays are what a caller
    # of buffered reads would use.
    bufs: list[Any] = [mmap.mmap(-1, BLOCK) if direct else bytearray(BLOCK) for _ in range(qd)]
    # Dropped only once the ring (and so the registration) is gone, and before the
    # mmaps close: an mmap with a live export refuses to close.
    pins: list[Pin] = []
    try:
        with Ring(qd, flags=SetupFlags.SQPOLL if sqpoll else 0) as ring:
            offset_iter = itertools.cycle(offsets)
            if fixed:
                pins = _register_file_and_buffers(ring, fd, bufs)
                rate = _read_fixed_loop(ring, bufs, offset_iter, seconds)
            else:
                rate = _read_loop(ring, fd, bufs, offset_iter, seconds)
    finally:
        del pins
        os.close(fd)
        for b in bufs:
            if isinstance(b, mmap.mmap):
                try:
                    b.close()
                except BufferError:
                    pass   # an op in a traceback still holds it; freed with the op
    return rate


def _register_file_and_buffers(ring: Any, fd: int, bufs: list[Any]) -> list[Pin]:
    """Register `fd` as fixed file 0 and `bufs` as fixed buffers 0..n-1. Uses the Ring's
    register methods when present, else io_uring_register directly. Returns the pins that
    must outlive the registration (the kernel holds the buffers' pages by address)."""
    if hasattr(ring, "register_files") and hasattr(ring, "register_buffers"):
        ring.register_files([fd])
        ring.register_buffers(bufs)
        return []
    ring._register(RegisterOp.FILES, array.array("i", [fd]), 1)
    pins = [Pin(b, True) for b in bufs]
    iovecs = array.array("Q")
    for p in pins:
        iovecs.extend((p.addr, p.nbytes))
    ring._register(RegisterOp.BUFFERS, iovecs, len(bufs))
    return pins


def _check_read(res: int) -> None:
    raise BenchError(f"a {BLOCK}-byte read returned {res}"
                     + (f" ({os.strerror(-res)})" if res < 0 else " (short read)"))


def _read_loop(ring: Any, fd: int, bufs: list[Any], offset_iter: Iterator[int],
               seconds: float) -> float:
    # Arguments are positional (cheapest to parse), in liburing's order: fd, buf, nbytes,
    # offset; a misordered call shows up as reads that do not return BLOCK.
    def first() -> None:
        for buf in bufs:
            ring.read(fd, buf, BLOCK, next(offset_iter))
    return _requeue_loop(ring, first, offset_iter, seconds)


def _read_fixed_loop(ring: Any, bufs: list[Any], offset_iter: Iterator[int], seconds: float) -> float:
    fixed_file = int(SqeFlags.FIXED_FILE)

    def first() -> None:   # fixed file 0, registered buffer i
        for i, buf in enumerate(bufs):
            ring.read_fixed(0, buf, BLOCK, next(offset_iter), i, fixed_file)
    return _requeue_loop(ring, first, offset_iter, seconds)


def _requeue_loop(ring: Any, queue_first: Callable[[], None], offset_iter: Iterator[int],
                  seconds: float) -> float:
    """Keep the first reads in flight: each completion is checked and re-armed at the next
    offset with Ring.requeue (same buffer, fd, length, flags), refills submitted together
    with the wait for the next completion."""
    next_ = next   # next(it) through a local is a vectorcall; it.__next__ would be a tp_call
    done: list[Any] = []
    ring.completions = done
    requeue = ring.requeue
    submit_and_wait = ring.submit_and_wait
    clock = time.perf_counter
    ops = 0
    start = clock()
    deadline = start + seconds
    queue_first()
    while True:
        submit_and_wait(1)
        for op in done:
            if op.res != BLOCK:
                _drain(ring)
                _check_read(op.res)
            requeue(op, next_(offset_iter))
        ops += len(done)
        done.clear()
        now = clock()
        if now >= deadline:
            _drain(ring)
            return ops / (now - start)


def _drain(ring: Any) -> None:
    """Wait out what is still in flight (uncounted) so no read targets a freed buffer."""
    while ring.in_flight:
        ring.submit_and_wait(1)
    ring.completions = None


# -- plain Python ---------------------------------------------------------------------------


def python_preadv(path: Path, offsets: Sequence[int], seconds: float, *, direct: bool = False) -> float:
    """Reads per second of an ``os.preadv(fd, [buf], offset)`` loop into one preallocated
    buffer: a bytearray like the library's buffered side, or with `direct` a page-aligned
    mmap (preadv into one is the only synchronous O_DIRECT read the stdlib can do)."""
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECT if direct else 0))
    buf: Any = mmap.mmap(-1, BLOCK) if direct else bytearray(BLOCK)
    try:
        bufs = [buf]

        def read_chunk(chunk: list[int], preadv=os.preadv) -> None:
            for off in chunk:
                if preadv(fd, bufs, off) != BLOCK:
                    _short_sync_read(off)
        return _timed_chunks(read_chunk, offsets, seconds)
    finally:
        if direct:
            buf.close()
        os.close(fd)


def python_pread(path: Path, offsets: Sequence[int], seconds: float) -> float:
    """Reads per second of an ``os.pread(fd, 4096, offset)`` loop (a new bytes per read).
    Buffered only: pread's bytes object is not aligned, which O_DIRECT refuses."""
    fd = os.open(path, os.O_RDONLY)
    try:
        def read_chunk(chunk: list[int], pread=os.pread) -> None:
            for off in chunk:
                if len(pread(fd, BLOCK, off)) != BLOCK:
                    _short_sync_read(off)
        return _timed_chunks(read_chunk, offsets, seconds)
    finally:
        os.close(fd)


def _short_sync_read(off: int) -> None:
    raise BenchError(f"a {BLOCK}-byte read at offset {off} came back short")


def _timed_chunks(read_chunk: Callable[[list[int]], None], offsets: Sequence[int],
                  seconds: float) -> float:
    """Ops per second of `read_chunk` over cycled chunks of offsets. The clock is read
    once per chunk and the per-read loop lives inside read_chunk, so the baseline pays
    no per-read overhead the library's loop does not."""
    chunks = [list(offsets[i:i + _CLOCK_EVERY]) for i in range(0, len(offsets), _CLOCK_EVERY)]
    clock = time.perf_counter
    ops = 0
    start = clock()
    deadline = start + seconds
    for chunk in itertools.cycle(chunks):
        read_chunk(chunk)
        ops += len(chunk)
        now = clock()
        if now >= deadline:
            break
    return ops / (now - start)


# -- running the workloads ------------------------------------------------------------------


Progress = Callable[[str], None]


def _rounds(repeat: int, measures: list[tuple[str, Callable[[], float]]],
            progress: Progress | None) -> dict[str, list[float]]:
    """Run every measurement once per round, in the given order, `repeat` rounds."""
    samples: dict[str, list[float]] = {name: [] for name, _ in measures}
    for r in range(repeat):
        for name, measure in measures:
            rate = measure()
            samples[name].append(rate)
            if progress:
                progress(f"  round {r + 1}/{repeat} {name:<14} {_human(rate)} ops/s")
    return samples


def _with_c(exe: Path | None, c_measures: list[tuple[str, Callable[[], float]]],
            measures: list[tuple[str, Callable[[], float]]]) -> list[tuple[str, Callable[[], float]]]:
    """Interleave the C measurements (first of each pair) when the C baseline was built."""
    if exe is None:
        return measures
    return [m for pair in itertools.zip_longest(c_measures, measures) for m in pair if m]


def _c_measure(exe: Path | None, workload: str, seconds: float, notes: list[str],
               *args: str) -> Callable[[], float]:
    def measure() -> float:
        assert exe is not None   # _with_c leaves C out when it was not built
        rate, warnings = run_rawring(exe, workload, seconds, *args)
        for w in warnings:
            if w not in notes:
                notes.append(w)
        return rate
    return measure


def bench_nop(exe: Path | None, seconds: float, repeat: int,
              progress: Progress | None = None) -> list[Result]:
    """The nop workload: ours vs `rawring nop --batch 256` (ours alone when exe is None)."""
    notes: list[str] = []
    s = _rounds(repeat, _with_c(
        exe, [("c", _c_measure(exe, "nop", seconds, notes, "--batch", str(NOP_BATCH)))],
        [("ours", lambda: ours_nop(seconds))]), progress)
    return [Result("nop", s["ours"], s.get("c", []), seconds=seconds, notes=notes)]


def bench_read(exe: Path | None, path: Path, seconds: float, repeat: int,
               progress: Progress | None = None) -> list[Result]:
    """The read workload (results ``read`` and ``read_fixed``): page-cached random reads."""
    if progress:
        progress(f"  warming the page cache with {path}")
    _warm_page_cache(path)
    offsets = _random_offsets(os.stat(path).st_size)
    notes: list[str] = []
    c_args = ("--file", str(path), "--qd", str(QUEUE_DEPTH), "--bs", str(BLOCK))
    s = _rounds(repeat, [
        *_with_c(exe, [("c", _c_measure(exe, "read", seconds, notes, *c_args))], [
            ("ours", lambda: ours_read(path, offsets, seconds)),
            ("preadv", lambda: python_preadv(path, offsets, seconds)),
            ("pread", lambda: python_pread(path, offsets, seconds))]),
        *_with_c(exe, [("c_fixed", _c_measure(exe, "read", seconds, notes, *c_args, "--fixed"))],
                 [("ours_fixed", lambda: ours_read(path, offsets, seconds, fixed=True))]),
    ], progress)
    return [
        Result("read", s["ours"], s.get("c", []), s["preadv"], "os.preadv", {"pread": s["pread"]},
               seconds, notes),
        Result("read_fixed", s["ours_fixed"], s.get("c_fixed", []), s["preadv"], "os.preadv", {},
               seconds, notes),
    ]


def bench_direct(exe: Path | None, path: Path, seconds: float, repeat: int,
                 progress: Progress | None = None) -> list[Result]:
    """The direct workload: O_DIRECT random reads from the disk under `path`."""
    notes: list[str] = []
    fstype = _fs_type(path)
    if fstype in _TMPFS_TYPES:
        notes.append(f"{path} is on {fstype}: O_DIRECT does not reach a storage device "
                     "(set URING_BENCH_DIR to a directory on a disk)")
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_DIRECT))
    except OSError as exc:
        raise BenchError(f"{path} cannot be opened with O_DIRECT ({exc.strerror}; "
                         f"filesystem {fstype}): set URING_BENCH_DIR to a directory on a disk") from None
    offsets = _random_offsets(os.stat(path).st_size)
    c_args = ("--file", str(path), "--qd", str(QUEUE_DEPTH), "--bs", str(BLOCK))
    s = _rounds(repeat, _with_c(
        exe, [("c", _c_measure(exe, "direct", seconds, notes, *c_args))], [
            ("ours", lambda: ours_read(path, offsets, seconds, direct=True)),
            ("preadv", lambda: python_preadv(path, offsets, seconds, direct=True))]), progress)
    if fstype in _TMPFS_TYPES:   # rawring's own tmpfs warning says the same, less helpfully
        notes[1:] = [n for n in notes[1:] if "tmpfs" not in n]
    return [Result("direct", s["ours"], s.get("c", []), s["preadv"], "os.preadv O_DIRECT", {},
                   seconds, notes)]


def run_workloads(workloads: Iterable[str] = WORKLOADS, *, seconds: float = DEFAULT_SECONDS,
                  repeat: int = DEFAULT_REPEAT, file: Path | str | None = None,
                  size: int = DEFAULT_SIZE, progress: Progress | None = None) -> list[Result]:
    """Run the named workloads (nop, read, direct) and return their Results in order.

    `file` is an existing file to read (never written); by default a `size`-byte file
    is created once in cache_dir() and reused."""
    workloads = list(workloads)
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        raise ValueError(f"unknown workload(s) {unknown}; expected some of {list(WORKLOADS)}")
    if not seconds > 0:
        raise ValueError(f"seconds must be > 0, got {seconds}")
    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}")
    exe, c_note = c_baseline()
    if c_note and progress:
        progress(f"C baseline skipped: {c_note}")
    path: Path | None = None
    if any(w != "nop" for w in workloads):
        path = _input_file(file, size, progress)
    results: list[Result] = []
    for w in workloads:
        if progress:
            progress(f"{w}: {repeat} round(s) of {seconds:g} s per measurement")
        if w == "nop":
            results += bench_nop(exe, seconds, repeat, progress)
        elif w == "read":
            assert path is not None
            results += bench_read(exe, path, seconds, repeat, progress)
        else:
            assert path is not None
            results += bench_direct(exe, path, seconds, repeat, progress)
    if c_note:
        note = f"C baseline not measured (the other rows are): {c_note}"
        for r in results:
            if note not in r.notes:   # read and read_fixed share one notes list
                r.notes.insert(0, note)
    return results


def c_baseline() -> tuple[Path | None, str | None]:
    """The compiled C baseline, or (None, why not): a machine without a compiler still
    measures the library and plain Python."""
    try:
        return build_rawring(), None
    except BenchError as exc:
        return None, str(exc)


def _input_file(file: Path | str | None, size: int, progress: Progress | None) -> Path:
    if file is not None:
        path = Path(file)
        if not path.is_file():
            raise BenchError(f"--file {path}: no such regular file")
        if path.stat().st_size < BLOCK:
            raise BenchError(f"--file {path} is smaller than one {BLOCK}-byte block")
        return path
    target = cache_dir() / f"data-{size}.bin"
    if progress and not (target.is_file() and target.stat().st_size == size):
        progress(f"creating the {_human_bytes(size)} data file {target} (once)")
    return data_file(size)


# -- reporting ----------------------------------------------------------------------------


def _human(rate: float | None) -> str:
    if rate is None:
        return "-"
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if rate >= scale:
            return f"{rate / scale:.2f}{unit}"
    return f"{rate:.0f}"


def _human_bytes(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} bytes"


def _spread(samples: Sequence[float]) -> str:
    """Half of (max - min) over the median, in percent: how much the rounds disagreed."""
    if len(samples) < 2:
        return ""
    return f"±{(max(samples) - min(samples)) / statistics.median(samples) / 2 * 100:.0f}%"


# What each result measured, printed under the table so a short run explains itself.
MEASURED = {
    "nop": "NOPs/s, 256 queued one by one from Python then one submit_and_wait: per-op overhead",
    "read": "4 KiB random reads of a page-cached file, 64 in flight (Ring.read + requeue)",
    "read_fixed": "the same reads with a registered file and buffers (Ring.read_fixed)",
    "direct": "4 KiB random O_DIRECT reads from the disk, 64 in flight",
}


def _verdict(r: Result) -> str:
    met = r.meets_target
    return "n/a" if met is None else "yes" if met else "missed"


def format_table(results: Sequence[Result]) -> str:
    """The human-readable report: medians, spreads, ratios, targets, what was measured
    and how much a single round can be trusted."""
    head = ["workload", "ours ops/s", "C ops/s", "Python ops/s", "ours/C", "ours/Python", "target", "met"]
    rows = []
    for r in results:
        target = ", ".join(f"{'ours/C' if k == 'ratio_vs_c' else 'ours/Python'} >= {v:g}"
                           for k, v in r.target.items())
        rows.append([
            r.workload,
            _cell(r.ours_ops_per_sec, r.ours),
            _cell(r.c_ops_per_sec, r.c),
            _cell(r.python_ops_per_sec, r.python),
            "-" if r.ratio_vs_c is None else f"{r.ratio_vs_c:.2f}",
            "-" if r.ratio_vs_python is None else f"{r.ratio_vs_python:.2f}",
            target or "-",
            _verdict(r),
        ])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip() for row in [head, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    foot = [f"{r.workload}: {MEASURED[r.workload]}" for r in results if r.workload in MEASURED]
    for r in results:
        if r.python_label:
            foot.append(f"{r.workload}: Python baseline {r.python_label}" + "".join(
                f"; os.{k}: {_human(statistics.median(v))} ops/s "
                f"(ours/{k} {_paired_ratio(r.ours, v):.2f})"
                for k, v in r.extra.items()))
    for note in dict.fromkeys(n for r in results for n in r.notes):   # read/read_fixed share notes
        foot.append(f"note: {note}")
    rounds = len(results[0].ours) if results else 0
    secs = results[0].seconds if results else 0
    missed = [r.workload for r in results if r.meets_target is False]
    if missed:
        foot.append(
            f"missed ({', '.join(missed)}): the ratio fell below the bar the library is held "
            "to on an idle machine. Rounds on a shared or busy machine vary by 10-20%"
            + (", and this was a single short round, so a small miss is noise, not a broken "
               "install; `uring bench` (3 rounds of 2 s, paired ratios) is the measurement "
               "to judge by." if rounds < 3 or secs < 2 else "; rerun before drawing conclusions."))
    header = (f"uring benchmarks: Linux {platform.release()}, {platform.python_implementation()} "
              f"{platform.python_version()}, {os.cpu_count()} CPUs; median of {rounds} round(s) "
              f"of {secs:g} s (± half the spread); ratios: median of the per-round ratios")
    return "\n".join([header, "", *lines, "", *foot])


def _cell(median: float | None, samples: Sequence[float]) -> str:
    return "-" if median is None else f"{_human(median)} {_spread(samples)}".strip()
