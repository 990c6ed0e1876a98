"""Plumbing of `uring bench` and uring.bench: options, records, the table, the data file
and the C build, plus real runs of every workload with tiny durations."""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

import pytest

from uring import bench
from uring.bench import BenchError, Result
from uring.cli import bench_cmd

RECORD_KEYS = {
    "workload", "ours_ops_per_sec", "c_ops_per_sec", "python_ops_per_sec", "python_baseline",
    "ratio_vs_c", "ratio_vs_python", "rounds", "seconds", "target", "meets_target", "samples",
}

needs_cc = pytest.mark.skipif(shutil.which(os.environ.get("CC", "cc")) is None,
                              reason="no C compiler to build uring/_bench_c/rawring.c")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="uring")
    bench_cmd.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["bench", *argv])


# -- options ------------------------------------------------------------------------------


def test_defaults():
    args = parse([])
    assert (args.workload, args.json, args.seconds, args.repeat, args.file, args.size) == \
        ("all", False, 2.0, 3, None, 1 << 30)


@pytest.mark.parametrize("argv, field, value", [
    (["nop"], "workload", "nop"),
    (["direct", "--json"], "json", True),
    (["--seconds", "0.25"], "seconds", 0.25),
    (["--repeat", "5"], "repeat", 5),
    (["--size", "64M"], "size", 64 << 20),
    (["--size", "8192"], "size", 8192),
    (["--file", "/x/y"], "file", "/x/y"),
])
def test_options(argv, field, value):
    assert getattr(parse(argv), field) == value


@pytest.mark.parametrize("argv", [
    ["fsync"], ["--seconds", "0"], ["--seconds", "-1"], ["--seconds", "x"],
    ["--repeat", "0"], ["--repeat", "1.5"], ["--size", "1000"], ["--size", "lots"],
])
def test_bad_options_rejected(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        parse(argv)
    assert exc.value.code == 2


@pytest.mark.parametrize("text, expected", [
    ("4096", 4096), ("4K", 4096), ("64M", 64 << 20), ("1G", 1 << 30), ("1GiB", 1 << 30),
    ("2g", 2 << 30), (" 8k ", 8192),
])
def test_parse_size(text, expected):
    assert bench.parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "0", "100", "4097", "-4096", "1.5G", "G", "12Q"])
def test_parse_size_rejects(text):
    with pytest.raises(ValueError):
        bench.parse_size(text)


@pytest.mark.parametrize("kwargs", [
    {"workloads": ["fsync"]}, {"seconds": 0}, {"repeat": 0},
])
def test_run_workloads_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        bench.run_workloads(**kwargs)


# -- records and the table ------------------------------------------------------------------


def test_record_medians_ratios_and_target():
    r = Result("direct", ours=[90.0, 100.0, 300.0], c=[100.0, 110.0, 105.0],
               python=[30.0, 20.0, 25.0], python_label="os.preadv O_DIRECT", seconds=0.5)
    rec = r.to_json()
    assert RECORD_KEYS <= rec.keys()
    assert (rec["ours_ops_per_sec"], rec["c_ops_per_sec"], rec["python_ops_per_sec"]) == (100.0, 105.0, 25.0)
    # Ratios pair each round's measurements: medians of [0.9, 0.909, 2.857] and [3, 5, 12].
    assert (rec["ratio_vs_c"], rec["ratio_vs_python"]) == (round(100 / 110, 4), 5.0)
    assert (rec["rounds"], rec["seconds"]) == (3, 0.5)
    assert rec["target"] == {"ratio_vs_c": 0.9, "ratio_vs_python": 3.0}
    assert rec["meets_target"] is True
    assert rec["samples"] == {"ours": [90.0, 100.0, 300.0], "c": [100.0, 110.0, 105.0],
                              "python": [30.0, 20.0, 25.0]}
    json.dumps(rec)


@pytest.mark.parametrize("workload, ours, c, python, met", [
    ("nop", 50.0, 100.0, None, True),
    ("nop", 49.0, 100.0, None, False),
    ("read", 10.0, 100.0, 10.0, True),
    ("read", 9.9, 100.0, 10.0, False),
    ("direct", 95.0, 100.0, 40.0, False),   # one ratio short is a miss
])
def test_meets_target(workload, ours, c, python, met):
    r = Result(workload, [ours], [c], [python] if python else [])
    assert r.meets_target is met
    assert r.to_json()["ratio_vs_python"] == (None if python is None else round(ours / python, 4))


def test_extra_baseline_in_record_and_table():
    r = Result("read", [200.0, 300.0, 100.0], [400.0] * 3, [100.0] * 3, "os.preadv",
               {"pread": [160.0, 200.0, 100.0]})
    rec = r.to_json()
    assert (rec["pread_ops_per_sec"], rec["ratio_vs_pread"]) == (160.0, 1.25)
    table = bench.format_table([r])
    assert "os.pread: 160 ops/s (ours/pread 1.25)" in table


def test_table_rows():
    results = [Result("nop", [5e6, 6e6], [12e6, 12e6]),
               Result("read", [7e5, 7e5], [9e5, 9e5], [6e5, 6e5], "os.preadv")]
    lines = bench.format_table(results).splitlines()
    nop = next(line for line in lines if line.startswith("nop "))
    read = next(line for line in lines if line.startswith("read "))
    assert nop.split()[:2] == ["nop", "5.50M"] and nop.split()[-1] == "missed"
    assert "0.46" in nop
    assert read.split()[:2] == ["read", "700.00k"] and read.split()[-1] == "yes"
    assert "1.17" in read


# -- the data file and the C program -----------------------------------------------------------


def test_data_file_created_once_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("URING_BENCH_DIR", str(tmp_path))
    path = bench.data_file(3 * 4096)
    assert path.parent == tmp_path and path.stat().st_size == 3 * 4096
    assert path.read_bytes().count(0) < 3 * 4096 // 2   # real data, not a hole
    stamp = path.stat().st_mtime_ns
    assert bench.data_file(3 * 4096) == path and path.stat().st_mtime_ns == stamp
    other = bench.data_file(2 * 4096)
    assert other != path and other.stat().st_size == 2 * 4096
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, other.name])


def test_missing_c_source_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("URING_RAWRING_SRC", str(tmp_path / "nope.c"))
    with pytest.raises(BenchError, match="rawring.c|nope.c"):
        bench.build_rawring()


def test_missing_compiler_is_a_clear_error(tmp_path, monkeypatch):
    src = tmp_path / "rawring.c"
    src.write_text("int main(void) { return 0; }\n")   # a source never built before
    monkeypatch.setenv("URING_RAWRING_SRC", str(src))
    monkeypatch.setenv("CC", "no-such-compiler-xyz")
    with pytest.raises(BenchError, match="no C compiler"):
        bench.build_rawring()


@needs_cc
def test_rawring_built_once_per_source_into_the_cache(tmp_path, monkeypatch):
    assert bench.rawring_source() == Path(bench.__file__).parent / "_bench_c" / "rawring.c"
    exe = bench.build_rawring()
    assert os.access(exe, os.X_OK) and exe.parent == bench.build_cache_dir()
    assert bench.build_rawring() == exe
    src = tmp_path / "c" / "rawring.c"
    src.parent.mkdir()
    src.write_text("int main(void) { return 0; }\n")
    monkeypatch.setenv("URING_RAWRING_SRC", str(src))
    monkeypatch.setenv("URING_BUILD_DIR", str(tmp_path / "build"))
    other = bench.build_rawring()
    assert other != exe and other.parent == tmp_path / "build"


def test_no_compiler_still_runs_the_python_rows(tmp_path, monkeypatch, capsys):
    src = tmp_path / "rawring.c"
    src.write_text("int main(void) { return 0; }\n")
    monkeypatch.setenv("URING_RAWRING_SRC", str(src))
    monkeypatch.setenv("URING_BUILD_DIR", str(tmp_path / "build"))
    monkeypatch.setenv("CC", "no-such-compiler-xyz")
    assert bench_cmd.run(parse(["nop", "--seconds", "0.02", "--repeat", "1"])) == 0
    out = capsys.readouterr().out
    nop = next(line for line in out.splitlines() if line.startswith("nop "))
    assert nop.split()[-1] == "n/a" and " - " in nop
    assert "C baseline not measured" in out and "no C compiler" in out
    rec = Result("nop", [5.0], []).to_json()
    assert (rec["c_ops_per_sec"], rec["ratio_vs_c"], rec["meets_target"]) == (None, None, None)


def test_table_explains_a_miss_of_one_short_round():
    table = bench.format_table([Result("nop", [4e6], [12e6], seconds=1.0)])
    assert "NO" not in table.split()
    assert "nop: NOPs/s" in table and "missed (nop)" in table and "noise" in table


def test_missing_input_file(tmp_path, capsys):
    assert bench_cmd.run(parse(["read", "--file", str(tmp_path / "absent"), "--seconds", "0.01"])) == 1
    assert "no such regular file" in capsys.readouterr().err


# -- real runs, tiny durations ---------------------------------------------------------------------


@needs_cc
def test_nop_json(capsys):
    assert bench_cmd.run(parse(["nop", "--json", "--seconds", "0.02", "--repeat", "2"])) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    rec = json.loads(lines[0])
    assert RECORD_KEYS <= rec.keys()
    assert (rec["workload"], rec["rounds"], rec["seconds"]) == ("nop", 2, 0.02)
    assert rec["ours_ops_per_sec"] > 0 and rec["c_ops_per_sec"] > 0
    assert rec["python_ops_per_sec"] is None and rec["ratio_vs_python"] is None
    assert rec["target"] == {"ratio_vs_c": 0.5}
    assert isinstance(rec["meets_target"], bool)


@needs_cc
def test_read_and_direct_json(bench_dir, capsys):
    argv = ["--json", "--seconds", "0.02", "--repeat", "1", "--size", "1M"]
    assert bench_cmd.run(parse(["read", *argv])) == 0
    assert bench_cmd.run(parse(["direct", *argv])) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["workload"] for r in records] == ["read", "read_fixed", "direct"]
    for rec in records:
        assert RECORD_KEYS <= rec.keys()
        assert rec["ours_ops_per_sec"] > 0 and rec["c_ops_per_sec"] > 0
        assert rec["python_ops_per_sec"] > 0 and rec["rounds"] == 1
    assert records[0]["pread_ops_per_sec"] > 0
    assert (bench_dir / f"data-{1 << 20}.bin").stat().st_size == 1 << 20


@needs_cc
def test_table_output(capsys):
    assert bench_cmd.run(parse(["nop", "--seconds", "0.02", "--repeat", "1"])) == 0
    out = capsys.readouterr().out
    assert "ours/C" in out and any(line.startswith("nop ") for line in out.splitlines())


def test_attempt_turns_failures_into_a_message_and_a_status(capsys):
    import subprocess

    def fail(exc):
        def measure():
            raise exc
        return measure
    assert bench.attempt("uring bench x", lambda: 42) == (42, 0)
    assert bench.attempt("uring bench x", fail(BenchError("no compiler"))) == (None, 1)
    assert bench.attempt("uring bench x", fail(FileNotFoundError(2, "gone"))) == (None, 1)
    assert bench.attempt("uring bench x", fail(KeyboardInterrupt())) == (None, 130)
    err = subprocess.CalledProcessError(1, ["cp"])
    assert bench.attempt("uring bench x", fail(err), also=(subprocess.CalledProcessError,)) == (None, 1)
    with pytest.raises(subprocess.CalledProcessError):   # not listed: not ours to report
        bench.attempt("uring bench x", fail(err))
    assert capsys.readouterr().err.splitlines() == [
        "uring bench x: no compiler", "uring bench x: [Errno 2] gone", "uring bench x: interrupted",
        f"uring bench x: {err}"]


def test_missing_c_program_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "C_DIR", tmp_path)
    with pytest.raises(BenchError, match="echo_server.c is missing"):
        bench.c_program("echo_server")
