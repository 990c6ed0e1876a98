"""`uring bench copy`: options, the table and records from recorded timings, and a tiny
real run of every method (cp, dd, shutil and each `uring cp` engine)."""

from __future__ import annotations

import json
import shutil

import pytest

from uring import bench_copy
from uring.bench_copy import METHODS, Timing, format_table

MiB = 1 << 20
# Recorded on the development machine (256 MiB, medians of 3; seconds per round).
RECORDED = [
    Timing("cp", "cached", 256 * MiB, [0.30, 0.28, 0.33]),
    Timing("uring cp", "cached", 256 * MiB, [0.20, 0.21, 0.19]),
    Timing("shutil.copyfile", "cached", 256 * MiB, [0.25, 0.24, 0.26]),
    Timing("cp", "cold", 256 * MiB, [0.60, 0.62, 0.58]),
    Timing("uring cp", "cold", 256 * MiB, [0.80, 0.75, 0.70]),
]


def test_options():
    args = bench_copy.build_parser().parse_args([])
    assert (args.size, args.repeat, args.cache, args.method, args.json, args.fsync) == \
        (256 * MiB, 3, "both", None, False, False)
    for bad in (["--size", "1000"], ["--repeat", "0"], ["--method", "scp"], ["--cache", "warm"]):
        with pytest.raises(SystemExit):
            bench_copy.build_parser().parse_args(bad)


def test_table_from_recorded_timings():
    table = format_table(RECORDED)
    lines = table.splitlines()
    assert "a 256 MiB file" in lines[0] and "median of 3" in lines[0]
    cached = lines.index(next(x for x in lines if x.startswith("cached:")))
    cold = lines.index(next(x for x in lines if x.startswith("cold:")))
    ours = next(x for x in lines[cached:cold] if x.startswith("uring cp "))
    # 0.20 s; per round 0.30/0.20, 0.28/0.21, 0.33/0.19: median 1.5
    assert ours.split()[-3:] == ["s", "1.34", "1.50"]
    ours_cold = next(x for x in lines[cold:] if x.startswith("uring cp "))
    assert ours_cold.split()[-1] == "0.83"                  # 0.60/0.80, 0.62/0.75, 0.58/0.70
    assert "x cp:" in table


def test_records():
    base = RECORDED[0]
    rec = RECORDED[1].to_json(base)
    assert rec == {"method": "uring cp", "cache": "cached", "bytes": 256 * MiB,
                   "seconds": [0.2, 0.21, 0.19], "median_s": 0.2,
                   "gb_per_s": round(256 * MiB / 0.2 / 1e9, 3), "speed_vs_cp": 1.5}
    assert RECORDED[0].to_json(None)["speed_vs_cp"] is None


@pytest.mark.skipif(shutil.which("cp") is None or shutil.which("dd") is None, reason="no cp or dd")
def test_tiny_real_run(bench_dir, capsys):
    assert bench_copy.main(["--size", "1M", "--repeat", "1", "--json"]) == 0
    records = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert {(r["method"], r["cache"]) for r in records} == {(m, c) for m in METHODS for c in ("cached", "cold")}
    assert all(r["median_s"] > 0 and r["bytes"] == MiB for r in records)
    assert sorted(p.name for p in bench_dir.iterdir()) == ["data-1048576.bin", "probe"]   # copies removed
    assert bench_copy.main(["--size", "1M", "--repeat", "1", "--cache", "cold",
                            "--method", "uring cp"]) == 0
    out = capsys.readouterr().out
    assert "cold:" in out and "cached:" not in out and "\ncp " in out
    assert bench_copy.main(["--size", "1M", "--repeat", "1", "--cache", "cached", "--fsync",
                            "--method", "dd bs=1M oflag=direct", "--method", "shutil.copyfile"]) == 0
    out = capsys.readouterr().out
    assert "Durable copies" in out and "shutil.copyfile" in out and "dd bs=1M" in out
