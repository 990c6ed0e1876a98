"""`uring bench seed`: the seed's performance table (sync read ~300 K IOPS, libaio ~700 K,
io_uring ~1.5 M, io_uring + SQPOLL 2 M+) measured on this machine, from C and from Python.

4 KiB reads at random offsets of one data file, in two modes: ``disk`` (O_DIRECT, so every
read reaches the device) and ``cache`` (buffered, the file read into the page cache first),
at queue depths 1, 32 and 128. Rows: synchronous pread, Linux AIO (io_submit through raw
syscalls), io_uring, io_uring + SQPOLL and io_uring with registered file and buffers, each
from C (rawring.c, package data compiled on first use) and, where Python has one, from
Python (os.pread, uring, uring + SQPOLL, uring fixed). Each figure is shown with its ratio
to the same language's synchronous read, beside the ratio the seed published; the table is
also drawn as bars on the terminal and as an SVG chart (written without dependencies).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from uring import bench
from uring.cli.argtypes import byte_size, positive_float, positive_int

__all__ = ["Row", "Sample", "ROWS", "MODES", "SEED_IOPS", "measure", "format_table",
           "format_bars", "svg_chart", "load_json", "main"]

MODES = ("disk", "cache")
DEFAULT_QDS = (1, 32, 128)
DEFAULT_SECONDS = 1.0
# The seed's figures (002, "performance comparison"), 4 KiB random reads on fast NVMe.
SEED_IOPS = {"sync": 300e3, "aio": 700e3, "uring": 1.5e6, "sqpoll": 2.0e6}
MODE_TEXT = {"disk": "O_DIRECT from the disk", "cache": "buffered, from the page cache"}


@dataclass(frozen=True)
class Row:
    """One line of the table: a language and an engine."""
    lang: str       # "C" or "Python"
    engine: str     # sync, aio, uring, sqpoll, fixed
    label: str

    @property
    def key(self) -> str:
        return f"{self.lang.lower()}-{self.engine}"

    @property
    def seed_ratio(self) -> float | None:
        iops = SEED_IOPS.get(self.engine)
        return None if iops is None else iops / SEED_IOPS["sync"]


ROWS = (
    Row("C", "sync", "C pread"),
    Row("C", "aio", "C Linux AIO (io_submit)"),
    Row("C", "uring", "C io_uring"),
    Row("C", "sqpoll", "C io_uring + SQPOLL"),
    Row("C", "fixed", "C io_uring + fixed files/bufs"),
    Row("Python", "sync", "Python os.pread"),
    Row("Python", "uring", "Python uring"),
    Row("Python", "sqpoll", "Python uring + SQPOLL"),
    Row("Python", "fixed", "Python uring fixed"),
)
_BY_KEY = {r.key: r for r in ROWS}


@dataclass
class Sample:
    """All rounds of one row in one mode at one queue depth (sync rows: depth 1)."""
    row: Row
    mode: str
    qd: int
    rounds: list[float] = field(default_factory=list)

    @property
    def ops_per_sec(self) -> float:
        return statistics.median(self.rounds)

    def to_json(self, sync: "Sample | None") -> dict[str, Any]:
        ratio = None if sync is None else self.ops_per_sec / sync.ops_per_sec
        return {"lang": self.row.lang, "engine": self.row.engine, "label": self.row.label,
                "mode": self.mode, "qd": self.qd, "ops_per_sec": round(self.ops_per_sec, 1),
                "rounds": [round(x, 1) for x in self.rounds],
                "ratio_vs_sync": None if ratio is None else round(ratio, 3),
                "seed_ratio": None if self.row.seed_ratio is None else round(self.row.seed_ratio, 3)}


def load_json(lines: Iterable[str]) -> list[Sample]:
    """Samples back from `--json` output (for redrawing a recorded run)."""
    out = []
    for line in lines:
        if not line.strip():
            continue
        rec = json.loads(line)
        row = _BY_KEY.get(f"{rec['lang'].lower()}-{rec['engine']}")
        if row is None:
            raise ValueError(f"unknown row {rec['lang']} {rec['engine']}")
        if rec["mode"] not in MODES:
            raise ValueError(f"unknown mode {rec['mode']!r}")
        out.append(Sample(row, rec["mode"], int(rec["qd"]), [float(x) for x in rec["rounds"]]))
    return out


# -- measuring --------------------------------------------------------------------------------


def _c_read(exe: Path, path: Path, mode: str, engine: str, qd: int, seconds: float) -> float:
    workload = "direct" if mode == "disk" else "read"
    rate, _ = bench.run_rawring(exe, workload, seconds, "--file", str(path), "--qd", str(qd),
                                "--bs", str(bench.BLOCK), "--engine", engine)
    return rate


def _py_read(path: Path, offsets: Sequence[int], mode: str, engine: str, qd: int,
             seconds: float) -> float:
    direct = mode == "disk"
    if engine == "sync":
        # O_DIRECT needs an aligned buffer, which os.pread's new bytes is not.
        return bench.python_preadv(path, offsets, seconds, direct=True) if direct else \
            bench.python_pread(path, offsets, seconds)
    return bench.ours_read(path, offsets, seconds, direct=direct, qd=qd,
                           fixed=engine == "fixed", sqpoll=engine == "sqpoll")


def _runner(exe: Path | None, path: Path, offsets: Sequence[int], mode: str, row: Row, qd: int,
            seconds: float) -> Callable[[], float]:
    if row.lang == "C":
        assert exe is not None
        return lambda: _c_read(exe, path, mode, row.engine, qd, seconds)
    return lambda: _py_read(path, offsets, mode, row.engine, qd, seconds)


def _cell(cells: dict[tuple[str, str, int], Sample], row: Row, mode: str, qd: int) -> Sample | None:
    """The sample of `row` at depth `qd` (a sync row's only sample, whatever `qd`)."""
    return cells.get((row.key, mode, 1 if row.engine == "sync" else qd))


def measure(path: Path, *, modes: Sequence[str] = MODES, qds: Sequence[int] = DEFAULT_QDS,
            seconds: float = DEFAULT_SECONDS, repeat: int = 1, langs: Sequence[str] = ("C", "Python"),
            progress: Callable[[str], None] | None = None) -> tuple[list[Sample], list[str]]:
    """Run every row in every mode and queue depth, `repeat` interleaved rounds; returns
    the samples and notes (e.g. why the C rows are missing)."""
    notes: list[str] = []
    exe = None
    if "C" in langs:
        exe, why = bench.c_baseline()
        if why:
            notes.append(f"C rows not measured: {why}")
    offsets = bench._random_offsets(os.stat(path).st_size)
    plan: list[tuple[Sample, Callable[[], float]]] = []
    for mode in modes:
        for row in ROWS:
            if row.lang not in langs or (row.lang == "C" and exe is None):
                continue
            for qd in ([1] if row.engine == "sync" else qds):
                plan.append((Sample(row, mode, qd), _runner(exe, path, offsets, mode, row, qd, seconds)))
    warmed = False
    failed: set[int] = set()
    for r in range(repeat):
        for i, (sample, run) in enumerate(plan):
            if i in failed:
                continue
            if sample.mode == "cache" and not warmed:
                if progress:
                    progress(f"reading {path} into the page cache")
                bench._warm_page_cache(path)
                warmed = True
            try:
                rate = run()
            except (bench.BenchError, OSError) as exc:
                failed.add(i)
                notes.append(f"{sample.row.label} ({sample.mode}, QD {sample.qd}) failed: {exc}")
                continue
            sample.rounds.append(rate)
            if progress:
                progress(f"  round {r + 1}/{repeat} {sample.mode:<5} QD {sample.qd:<3} "
                         f"{sample.row.label:<31} {bench._human(rate)} reads/s")
    return [s for s in (p[0] for p in plan) if s.rounds], notes


# -- reporting -----------------------------------------------------------------------------------


def _sync_of(samples: Sequence[Sample]) -> dict[tuple[str, str], Sample]:
    return {(s.row.lang, s.mode): s for s in samples if s.row.engine == "sync"}


def _grid(samples: Sequence[Sample]) -> tuple[list[str], list[int], dict[tuple[str, str, int], Sample]]:
    modes = [m for m in MODES if any(s.mode == m for s in samples)]
    qds = sorted({s.qd for s in samples if s.row.engine != "sync"} or {1})
    cells = {(s.row.key, s.mode, s.qd): s for s in samples}
    return modes, qds, cells


def format_table(samples: Sequence[Sample], notes: Sequence[str] = (), *,
                 path: Path | None = None, seconds: float | None = None) -> str:
    """The seed's table: per mode, one line per row with reads/s and the ratio to the same
    language's sync read at each queue depth, and the seed's published ratio."""
    modes, qds, cells = _grid(samples)
    sync = _sync_of(samples)
    out = [f"uring bench seed: 4 KiB random reads; Linux {platform.release()}, "
           f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs"
           + (f"; {seconds:g} s per measurement" if seconds else "")
           + (f", median of {max(len(s.rounds) for s in samples)} round(s)" if samples else "")
           + (f"; file {path}" if path else "")]
    for mode in modes:
        head = ["", *[f"QD {q}" for q in qds], "seed"]
        rows = []
        for row in ROWS:
            base = sync.get((row.lang, mode))
            line = [row.label]
            present = False
            for q in qds:
                if row.engine == "sync" and q != qds[0]:
                    line.append("")     # one read in flight, whatever the column
                    continue
                s = _cell(cells, row, mode, q)
                if s is None:
                    line.append("-")
                    continue
                present = True
                ratio = f" {s.ops_per_sec / base.ops_per_sec:.2f}x" if base else ""
                line.append(f"{bench._human(s.ops_per_sec)}{ratio}")
            if not present:
                continue
            line.append("-" if row.seed_ratio is None else f"{row.seed_ratio:.1f}x")
            rows.append(line)
        widths = [max(len(x) for x in col) for col in zip(head, *rows)]
        out += ["", f"{mode}: {MODE_TEXT[mode]} (reads/s, and x the same language's sync read)",
                "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths))),
                "  ".join("-" * w for w in widths)]
        out += ["  ".join(x.ljust(w) if i == 0 else x.rjust(w) for i, (x, w) in enumerate(zip(line, widths)))
                for line in rows]
    out += ["", "sync rows: one read in flight, measured once; seed: the ratio to sync read the "
            "seed published (300K/700K/1.5M/2M+ IOPS on fast NVMe)."]
    out += [f"note: {n}" for n in notes]
    return "\n".join(out)


def format_bars(samples: Sequence[Sample], width: int = 40) -> str:
    """Terminal bars per mode at the deepest queue depth measured (sync rows at depth 1)."""
    modes, qds, cells = _grid(samples)
    qd = qds[-1]
    out = []
    for mode in modes:
        picked = [(row, s) for row in ROWS if (s := _cell(cells, row, mode, qd)) is not None]
        if not picked:
            continue
        top = max(s.ops_per_sec for _, s in picked) or 1.0
        out.append(f"{mode}, QD {qd}:")
        for row, s in picked:
            n = s.ops_per_sec / top * width
            bar = "█" * int(n) + ("▌" if n - int(n) >= 0.5 else "")
            out.append(f"  {row.label:<31} {bar} {bench._human(s.ops_per_sec)}")
    return "\n".join(out)


_COLORS = ("#9ecae1", "#4292c6", "#08519c", "#08306b")


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def svg_chart(samples: Sequence[Sample], title: str = "uring bench seed") -> str:
    """A grouped horizontal bar chart (one panel per mode, a bar per queue depth) as SVG text."""
    modes, qds, cells = _grid(samples)
    bar_h, gap, label_w, plot_w, pad = 12, 8, 230, 520, 20
    y = 50
    parts: list[str] = []
    for mode in modes:
        rows = [row for row in ROWS if any(k[0] == row.key and k[1] == mode for k in cells)]
        if not rows:
            continue
        top = max(s.ops_per_sec for k, s in cells.items() if k[1] == mode) or 1.0
        parts.append(f'<text x="{pad}" y="{y}" font-weight="bold">{_esc(mode)}: '
                     f'{_esc(MODE_TEXT[mode])}, reads/s</text>')
        y += 12
        for row in rows:
            bars = [(q, s) for q in qds if (s := _cell(cells, row, mode, q)) is not None]
            if row.engine == "sync":
                bars = bars[:1]
            block = len(bars) * bar_h
            parts.append(f'<text x="{pad}" y="{y + block / 2 + 4:.0f}">{_esc(row.label)}</text>')
            for q, s in bars:
                w = max(1.0, s.ops_per_sec / top * plot_w)
                color = _COLORS[min(qds.index(q) if q in qds else 0, len(_COLORS) - 1)]
                parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h - 1}" '
                             f'fill="{color}"><title>{_esc(row.label)} QD {s.qd}: '
                             f'{s.ops_per_sec:.0f} reads/s</title></rect>')
                parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + bar_h - 2}" font-size="10">'
                             f'{bench._human(s.ops_per_sec)}</text>')
                y += bar_h
            y += gap
        y += 16
    legend_x = label_w
    for i, q in enumerate(qds):
        color = _COLORS[min(i, len(_COLORS) - 1)]
        parts.append(f'<rect x="{legend_x}" y="{y}" width="12" height="12" fill="{color}"/>'
                     f'<text x="{legend_x + 16}" y="{y + 10}">QD {q}</text>')
        legend_x += 80
    height = y + 30
    width = label_w + plot_w + 80
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{pad}" y="28" font-size="15" font-weight="bold">{_esc(title)}</text>',
        *parts, "</svg>", ""])


# -- command line ----------------------------------------------------------------------------------


def _qd_list(text: str) -> list[int]:
    try:
        qds = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of depths: {text!r}") from None
    if not qds or qds[0] < 1 or qds[-1] > 4096:
        raise argparse.ArgumentTypeError(f"queue depths must be in 1..4096: {text!r}")
    return qds


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="uring bench seed", description=__doc__.split("\n\n")[1],
        epilog="The data file is created once under $URING_BENCH_DIR (default "
               "~/.cache/uring-bench), which must be on a disk for the disk mode.")
    p.add_argument("--mode", choices=[*MODES, "both"], default="both", help="default both")
    p.add_argument("--qd", type=_qd_list, default=list(DEFAULT_QDS), metavar="N,N,...",
                   help="queue depths (default 1,32,128)")
    p.add_argument("--lang", choices=["C", "Python", "both"], default="both", help="default both")
    p.add_argument("--seconds", type=positive_float, default=DEFAULT_SECONDS, metavar="S",
                   help=f"length of each measurement (default {DEFAULT_SECONDS:g})")
    p.add_argument("--repeat", type=positive_int, default=1, metavar="N",
                   help="interleaved rounds; medians are reported (default 1)")
    p.add_argument("--size", type=byte_size, default=bench.DEFAULT_SIZE, metavar="BYTES",
                   help="size of the data file (default 1G)")
    p.add_argument("--file", metavar="PATH", help="read this existing file instead (never written)")
    p.add_argument("--json", action="store_true", help="one JSON object per figure, one per line")
    p.add_argument("--chart", metavar="PATH", default="uring-bench-seed.svg",
                   help="SVG bar chart to write (default ./uring-bench-seed.svg)")
    p.add_argument("--no-chart", action="store_true", help="write no SVG file")
    p.add_argument("--from-json", metavar="PATH",
                   help="redraw the table and chart of a recorded --json run instead of measuring")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    path: Path | None = None
    notes: list[str] = []
    if args.from_json:
        with open(args.from_json) as f:
            samples = load_json(f)
    else:
        progress = (lambda m: print(m, file=sys.stderr, flush=True)) if sys.stderr.isatty() else None
        modes = list(MODES) if args.mode == "both" else [args.mode]
        langs = ("C", "Python") if args.lang == "both" else (args.lang,)

        def run() -> tuple[Path, tuple[list[Sample], list[str]]]:
            path = bench._input_file(args.file, args.size, progress)
            if "disk" in modes:
                os.close(os.open(path, os.O_RDONLY | os.O_DIRECT))
            return path, measure(path, modes=modes, qds=args.qd, seconds=args.seconds,
                                 repeat=args.repeat, langs=langs, progress=progress)
        measured, status = bench.attempt("uring bench seed", run)
        if measured is None:
            return status
        path, (samples, notes) = measured
        if path is not None and bench._fs_type(path) in bench._TMPFS_TYPES:
            notes.append(f"{path} is on tmpfs: the disk mode does not reach a device")
    if args.json:
        sync = _sync_of(samples)
        for s in samples:
            print(json.dumps(s.to_json(sync.get((s.row.lang, s.mode)))))
        for note in notes:
            print(f"uring bench seed: note: {note}", file=sys.stderr)
    else:
        print(format_table(samples, notes, path=path, seconds=None if args.from_json else args.seconds))
        print()
        print(format_bars(samples))
    if not args.no_chart and samples:
        Path(args.chart).write_text(svg_chart(samples))
        if not args.json:
            print(f"\nchart: {args.chart}")
    return 0 if samples else 1
