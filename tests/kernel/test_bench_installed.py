"""`uring bench` from an installed package, not a checkout: the C baseline ships as package
data in the sdist and the wheel, and a real `pip install` into a venv outside the tree runs
`uring bench nop` and `uring bench seed` (about 40 s: URING_TEST_INSTALL=0 skips it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The C programs `uring bench` compiles at run time, with the header they share.
C_SOURCES = sorted(f"uring/_bench_c/{p.name}" for p in (ROOT / "src/uring/_bench_c").iterdir()
                   if p.suffix in (".c", ".h"))


def _tracked_copy(dest: Path) -> Path:
    """The checkout's files as a fresh clone would have them (no build products)."""
    ignore = shutil.ignore_patterns("*.so", "_core.c", "__pycache__", "*.egg-info", ".build")
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "src", dest / "src", ignore=ignore)
    return dest


def _setuptools(tree: Path, *command: str) -> None:
    # The Python side of the build only: what the wheel and the sdist carry besides the
    # compiled core, decided by pyproject's package data (no Cython needed).
    code = f"from setuptools import setup; setup(script_args={['-q', *command]!r})"
    proc = subprocess.run([sys.executable, "-c", code], cwd=tree, capture_output=True, text=True,
                          timeout=120)
    if proc.returncode and "No module named 'setuptools'" in proc.stderr:
        pytest.skip("setuptools is not installed in this environment")
    assert proc.returncode == 0, proc.stderr


def test_sdist_and_wheel_contents_include_the_c_source(tmp_path):
    (tmp_path / "tree").mkdir()
    tree = _tracked_copy(tmp_path / "tree")
    _setuptools(tree, "build_py", "--build-lib", str(tmp_path / "lib"))
    assert "uring/_bench_c/ring.h" in C_SOURCES
    for source in C_SOURCES:
        assert (tmp_path / "lib" / source).read_bytes() == (ROOT / "src" / source).read_bytes()
    _setuptools(tree, "sdist", "-d", str(tmp_path / "dist"))
    (sdist,) = (tmp_path / "dist").glob("*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
    for source in C_SOURCES:
        assert any(n.endswith("src/" + source) for n in names), (source, names)
    assert not (ROOT / "benchmarks" / "c" / "rawring.c").exists()   # one copy, in the package


@pytest.mark.skipif(os.environ.get("URING_TEST_INSTALL") == "0",
                    reason="URING_TEST_INSTALL=0: the real pip install (about 40 s) is skipped")
def test_pip_install_then_bench_outside_the_tree(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    _tracked_copy(tree)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    proc = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", str(tree)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    shutil.rmtree(tree)                                   # nothing may come from the checkout
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("URING_", "XDG_", "PYTHON"))}
    env.update(HOME=str(home), URING_BENCH_DIR=str(tmp_path / "data"))

    def uring(*args: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(venv / "bin" / "uring"), *args], cwd=tmp_path, capture_output=True,
                              text=True, timeout=300, env={**env, **extra})

    proc = uring("bench", "nop", "--seconds", "0.2", "--repeat", "1")
    assert proc.returncode == 0, proc.stderr
    nop = next(line for line in proc.stdout.splitlines() if line.startswith("nop "))
    assert nop.split()[2] != "-"                          # the C column was measured
    assert list((home / ".cache" / "uring-bench" / "build").glob("rawring-*"))

    chart = tmp_path / "seed.svg"
    proc = uring("bench", "seed", "--mode", "cache", "--qd", "4", "--seconds", "0.05",
                 "--size", "1M", "--chart", str(chart))
    assert proc.returncode == 0, proc.stderr
    assert "C Linux AIO" in proc.stdout and chart.read_text().startswith("<svg")

    # No compiler and nothing built yet: the Python rows still run, and the table says why C is missing.
    proc = uring("bench", "nop", "--seconds", "0.1", "--repeat", "1", CC="no-such-cc",
                 URING_BUILD_DIR=str(tmp_path / "empty-build"))
    assert proc.returncode == 0, proc.stderr
    assert "C baseline not measured" in proc.stdout and "no C compiler" in proc.stdout
