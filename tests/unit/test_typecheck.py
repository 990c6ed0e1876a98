"""mypy (pinned in pyproject) on the package is clean: default strictness (bodies of
unannotated functions unchecked) plus --warn-unused-ignores, with the compiled core's stub.
Every module of the package is checked, the asyncio, loop and tool layers included."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "uring"


def _mypy(*paths: Path) -> subprocess.CompletedProcess:
    # One set of options for every run, so they share the cache.
    cmd = [sys.executable, "-m", "mypy", "--no-error-summary", "--warn-unused-ignores",
           "--cache-dir", str(ROOT / ".mypy_cache"), "--python-version", "3.11",
           "--follow-imports", "silent", "--ignore-missing-imports",
           *map(str, paths)]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_mypy_is_clean():
    pytest.importorskip("mypy")
    if not PACKAGE.exists():
        pytest.skip("no source tree")
    done = _mypy(PACKAGE)
    assert done.returncode == 0, done.stdout + done.stderr


USER_CODE = '''
import os
from uring import Op, Ring, SqeFlags, ops
from uring.ops import AT_FDCWD

ring = Ring(8)
opened: Op = ring.openat(AT_FDCWD, "x", os.O_RDONLY, sqe_flags=SqeFlags.IO_LINK)
read: Op = ring.queue(ops.read(3, bytearray(4), offset=0))
fast: Op = ring.read(3, bytearray(4), offset=0)
ring.openat(AT_FDCWD, 5)
ring.close(3)
'''


def test_user_code_sees_the_generated_methods(tmp_path):
    """Type checkers see each Ring method's real parameters and its Op result."""
    pytest.importorskip("mypy")
    (tmp_path / "user.py").write_text(USER_CODE)
    done = _mypy(tmp_path / "user.py")
    errors = [line.split(": error: ")[1] for line in done.stdout.splitlines() if ": error: " in line]
    assert len(errors) == 2, done.stdout + done.stderr
    assert errors[0].startswith('Argument 2 to "openat" of "RingMethods" has incompatible type "int"')
    assert errors[1].startswith('Too many positional arguments for "close"')
