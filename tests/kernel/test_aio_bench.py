"""`uring bench aio` runs end to end on a small file and reports every figure as JSON."""

from __future__ import annotations

import json

import tests.kernel.aio_support  # noqa: F401  (uvloop's process-wide fds exist before fd_guard looks)
from uring.aio import bench


def test_bench_aio_json(tmp_path, capsys, fd_guard):
    argv = ["--file", str(tmp_path / "big"), "--size", "1M", "--seconds", "0.3", "--repeat", "1",
            "--small", "30", "--small-dir", str(tmp_path / "small"), "--json"]
    assert bench.main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    for loop in ("asyncio", "uvloop"):
        for method in ("ours", "pread", "executor", "aiofiles"):
            assert out["median"][f"random.{method}.{loop}"] > 0
        for method in ("ours", "aiofiles", "threads"):
            assert out["median"][f"small.{method}.{loop}"] > 0
        assert f"random.ours_vs_pread.{loop}" in out["ratios"]
        assert f"small.ours_vs_threads.{loop}" in out["ratios"]


def test_bench_aio_per_cpu_second(tmp_path, capsys, fd_guard):
    argv = ["--file", str(tmp_path / "big"), "--size", "1M", "--seconds", "0.2", "--repeat", "1",
            "--small", "0", "--loops", "asyncio", "--methods", "ours,pread", "--cpu", "--json"]
    try:
        assert bench.main(argv) == 0
    finally:
        bench._clock = bench.time.perf_counter   # main() sets it per run; leave the default
    out = json.loads(capsys.readouterr().out)
    assert "CPU-second" in out["unit"]
    assert out["median"]["random.ours.asyncio"] > 0 and "random.ours_vs_pread.asyncio" in out["ratios"]
