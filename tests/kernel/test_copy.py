"""The pipelined copy engine (uring.copy.copyfile) and `uring cp` against the kernel: exact
content for sizes around the chunk size, short reads (files whose real length differs from
what stat says, as in /proc and /sys), fds or paths, fsync, and bad input."""

from __future__ import annotations

import argparse
import os
import shutil

import pytest

from uring.cli import cp_cmd
from uring.copy import copyfile

CHUNK = 4096


def pattern(size: int) -> bytes:
    return bytes((i * 31 + 7) & 0xFF for i in range(size))


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 17, 40 * CHUNK])
@pytest.mark.parametrize("qd", [1, 4, 32])
def test_copy_sizes(tmp_path, fd_guard, size, qd):
    src, dst = tmp_path / "src", tmp_path / "dst"
    data = pattern(size)
    src.write_bytes(data)
    assert copyfile(src, dst, qd=qd, chunk=CHUNK) == size
    assert dst.read_bytes() == data


def test_copy_truncates_an_existing_destination(tmp_path, fd_guard):
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.write_bytes(b"new")
    dst.write_bytes(b"old and much longer")
    assert copyfile(src, dst) == 3 and dst.read_bytes() == b"new"


def test_copy_between_fds(tmp_path, fd_guard):
    src, dst = tmp_path / "src", tmp_path / "dst"
    data = pattern(3 * CHUNK + 5)
    src.write_bytes(data)
    dst.write_bytes(b"x" * (10 * CHUNK))             # longer: the copy must cut it
    s = os.open(src, os.O_RDONLY)
    d = os.open(dst, os.O_WRONLY)
    try:
        assert copyfile(s, d, chunk=CHUNK, qd=2) == len(data)
    finally:
        os.close(s)
        os.close(d)
    assert dst.read_bytes() == data


def test_copy_with_fsync_on_a_caller_ring(tmp_path, make_ring):
    src, dst = tmp_path / "src", tmp_path / "dst"
    data = pattern(7 * CHUNK)
    src.write_bytes(data)
    ring = make_ring(8)
    assert copyfile(src, dst, qd=4, chunk=CHUNK, fsync=True, ring=ring) == len(data)
    assert dst.read_bytes() == data


def test_copy_of_a_file_longer_than_stat_says(tmp_path, fd_guard):
    """/proc files report size 0: the engine reads on until EOF, and the first read is
    short (the chain's write is cancelled and redone with what was read)."""
    dst = tmp_path / "status"
    copied = copyfile("/proc/self/stat", dst, chunk=CHUNK)
    got = dst.read_bytes()
    assert copied == len(got) > 0 and got.split()[1].startswith(b"(")


def test_copy_of_a_file_shorter_than_stat_says(tmp_path, fd_guard):
    """sysfs files report 4096 bytes but hold fewer: a short read in the middle of the
    planned range, then 0 at EOF."""
    path = "/sys/kernel/mm/transparent_hugepage/enabled"
    if not os.path.exists(path):
        path = "/sys/kernel/profiling" if os.path.exists("/sys/kernel/profiling") else None
    if path is None or os.stat(path).st_size <= len(open(path, "rb").read()):
        pytest.skip("no sysfs file whose stat size exceeds its content")
    expected = open(path, "rb").read()
    dst = tmp_path / "copy"
    assert copyfile(path, dst, chunk=64, qd=8) == len(expected)
    assert dst.read_bytes() == expected


def test_copy_bad_input(tmp_path, fd_guard):
    src = tmp_path / "src"
    src.write_bytes(b"data")
    with pytest.raises(shutil.SameFileError):
        copyfile(src, src)
    assert src.read_bytes() == b"data"
    with pytest.raises(ValueError):
        copyfile(tmp_path, tmp_path / "x")            # a directory
    with pytest.raises(FileNotFoundError):
        copyfile(tmp_path / "missing", tmp_path / "x")
    for bad in ({"qd": 0}, {"chunk": 0}, {"qd": 1.5}, {"chunk": 1 << 31}):
        with pytest.raises((ValueError, TypeError)):
            copyfile(src, tmp_path / "y", **bad)
    ro = os.open(src, os.O_RDONLY)
    other = tmp_path / "other"
    other.write_bytes(b"")
    dst_ro = os.open(other, os.O_RDONLY)
    try:
        with pytest.raises(OSError):
            copyfile(ro, dst_ro)                       # writes fail with EBADF
    finally:
        os.close(ro)
        os.close(dst_ro)


def _parse(argv):
    parser = argparse.ArgumentParser(prog="uring")
    sub = parser.add_subparsers(dest="command", required=True)
    cp_cmd.add_parser(sub)
    return parser.parse_args(argv)


def test_cli_cp(tmp_path, fd_guard, capsys):
    src, dst = tmp_path / "src", tmp_path / "dst"
    data = pattern(9 * CHUNK + 3)
    src.write_bytes(data)
    args = _parse(["cp", str(src), str(dst), "--qd", "4", "--chunk", str(CHUNK), "--fsync", "-v"])
    assert (args.qd, args.chunk, args.fsync) == (4, CHUNK, True)
    assert cp_cmd.run(args) == 0
    assert dst.read_bytes() == data
    assert f"{len(data)} bytes" in capsys.readouterr().out


def test_cli_cp_into_a_directory(tmp_path, fd_guard):
    src = tmp_path / "file.bin"
    src.write_bytes(b"abc")
    target = tmp_path / "dir"
    target.mkdir()
    assert cp_cmd.run(_parse(["cp", str(src), str(target)])) == 0
    assert (target / "file.bin").read_bytes() == b"abc"


def test_cli_cp_errors(tmp_path, fd_guard, capsys):
    assert cp_cmd.run(_parse(["cp", str(tmp_path / "missing"), str(tmp_path / "x")])) == 1
    assert "uring cp:" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _parse(["cp", "a", "b", "--qd", "0"])
    with pytest.raises(SystemExit):
        _parse(["cp", "a", "b", "--chunk", "lots"])
