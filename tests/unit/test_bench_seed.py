"""`uring bench seed`: options, the JSON records, the table, the terminal bars and the SVG
chart from figures recorded on the development machine (tests/data/bench_seed_recorded.jsonl,
a short run: 64 MiB file, 2 rounds of 0.2 s), plus one tiny real run."""

from __future__ import annotations

import json
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from uring import bench_seed
from uring.bench_seed import ROWS, Sample, format_bars, format_table, load_json, svg_chart

RECORDED = Path(__file__).resolve().parent.parent / "data" / "bench_seed_recorded.jsonl"


@pytest.fixture
def recorded():
    return load_json(RECORDED.read_text().splitlines())


def row(key: str):
    return next(r for r in ROWS if r.key == key)


def test_options():
    args = bench_seed.build_parser().parse_args([])
    assert (args.mode, args.qd, args.lang, args.seconds, args.repeat) == ("both", [1, 32, 128], "both", 1.0, 1)
    args = bench_seed.build_parser().parse_args(["--qd", "64,8,8", "--mode", "disk", "--lang", "C"])
    assert (args.qd, args.mode, args.lang) == ([8, 64], "disk", "C")


@pytest.mark.parametrize("argv", [["--qd", "0"], ["--qd", "a,b"], ["--qd", ""], ["--seconds", "0"],
                                  ["--mode", "ram"], ["--repeat", "-1"], ["--size", "1000"]])
def test_bad_options(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        bench_seed.build_parser().parse_args(argv)
    assert exc.value.code == 2


def test_recorded_figures_load(recorded):
    assert len(recorded) == 46     # 2 modes x (2 sync rows + 7 rows x 3 depths)
    keys = {(s.row.key, s.mode, s.qd) for s in recorded}
    assert ("c-sync", "disk", 1) in keys and ("python-fixed", "cache", 128) in keys
    assert ("c-sync", "disk", 32) not in keys          # sync is measured at depth 1 only
    s = next(s for s in recorded if s.row.key == "c-aio" and s.mode == "disk" and s.qd == 32)
    assert s.rounds == [69781.7, 68320.2] and s.ops_per_sec == pytest.approx(69050.95)


def test_records_round_trip(recorded):
    sync = bench_seed._sync_of(recorded)
    lines = [json.dumps(s.to_json(sync.get((s.row.lang, s.mode)))) for s in recorded]
    again = load_json(lines)
    assert [(s.row, s.mode, s.qd, s.rounds) for s in again] == \
        [(s.row, s.mode, s.qd, s.rounds) for s in recorded]
    rec = json.loads(lines[2])
    assert rec["ratio_vs_sync"] == pytest.approx(69050.95 / 11850.25, abs=1e-3)
    assert rec["seed_ratio"] == pytest.approx(700 / 300, abs=1e-3)


@pytest.mark.parametrize("line", ['{"lang": "Rust", "engine": "sync", "mode": "disk", "qd": 1, "rounds": [1]}',
                                  '{"lang": "C", "engine": "sync", "mode": "tape", "qd": 1, "rounds": [1]}'])
def test_load_rejects_unknown_rows(line):
    with pytest.raises(ValueError):
        load_json([line])


def test_table_from_recorded_figures(recorded):
    table = format_table(recorded, ["a note"], path=Path("/data.bin"), seconds=0.2)
    lines = table.splitlines()
    assert "0.2 s per measurement, median of 2 round(s)" in lines[0] and "file /data.bin" in lines[0]
    disk = lines.index(next(x for x in lines if x.startswith("disk:")))
    cache = lines.index(next(x for x in lines if x.startswith("cache:")))
    assert lines[disk + 1].split() == ["QD", "1", "QD", "32", "QD", "128", "seed"]
    aio = next(x for x in lines[disk:cache] if x.startswith("C Linux AIO"))
    assert "69.05k 5.83x" in aio and aio.endswith("2.3x")
    pread = next(x for x in lines[disk:cache] if x.startswith("C pread"))
    assert pread.split()[2:] == ["11.85k", "1.00x", "1.0x"]     # QD 32/128 columns empty
    fixed = next(x for x in lines[cache:] if x.startswith("Python uring fixed"))
    assert fixed.rstrip().endswith("-")                           # the seed has no such row
    uring = next(x for x in lines[disk:cache] if x.startswith("C io_uring "))
    assert uring.endswith("5.0x")
    assert "note: a note" in table


def test_bars_scale_to_the_fastest_row(recorded):
    bars = format_bars(recorded, width=20).splitlines()
    assert bars[0] == "disk, QD 128:"
    lengths = [line.count("█") for line in bars if "█" in line]
    assert max(lengths) == 20 and min(lengths) >= 0


def test_svg_chart_is_valid_and_complete(recorded):
    svg = svg_chart(recorded)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    rects = root.findall(f"{ns}rect")
    titles = [r.find(f"{ns}title").text for r in rects if r.find(f"{ns}title") is not None]
    assert len(titles) == 46
    assert any(t.startswith("C Linux AIO (io_submit) QD 32: 69051") for t in titles)
    texts = " ".join(t.text or "" for t in root.iter(f"{ns}text"))
    assert "disk: O_DIRECT" in texts and "QD 128" in texts


def test_empty_samples():
    assert "QD" not in format_bars([]) and ET.fromstring(svg_chart([])) is not None


needs_cc = pytest.mark.skipif(shutil.which(os.environ.get("CC", "cc")) is None, reason="no C compiler")


@needs_cc
def test_tiny_real_run(bench_dir, capsys):
    chart = bench_dir / "chart.svg"
    assert bench_seed.main(["--qd", "2", "--seconds", "0.02", "--size", "1M", "--json",
                            "--chart", str(chart)]) == 0
    records = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert {(r["lang"], r["engine"], r["mode"]) for r in records} == \
        {(r.lang, r.engine, m) for r in ROWS for m in ("disk", "cache")}
    assert all(r["ops_per_sec"] > 0 for r in records)
    assert {r["qd"] for r in records if r["engine"] != "sync"} == {2}
    ET.fromstring(chart.read_text())
    assert bench_seed.main(["--from-json", str(RECORDED), "--no-chart"]) == 0
    assert "C Linux AIO" in capsys.readouterr().out


def test_without_a_compiler_the_python_rows_still_run(tmp_path, monkeypatch, capsys):
    src = tmp_path / "rawring.c"
    src.write_text("int main(void) { return 0; }\n")          # never built before
    monkeypatch.setenv("URING_RAWRING_SRC", str(src))
    monkeypatch.setenv("URING_BUILD_DIR", str(tmp_path / "build"))
    monkeypatch.setenv("URING_BENCH_DIR", str(tmp_path))
    monkeypatch.setenv("CC", "no-such-compiler-xyz")
    assert bench_seed.main(["--mode", "cache", "--qd", "2", "--seconds", "0.02", "--size", "1M",
                            "--no-chart"]) == 0
    out = capsys.readouterr().out
    assert "Python uring fixed" in out and "C io_uring" not in out
    assert "note: C rows not measured" in out and "no C compiler" in out
