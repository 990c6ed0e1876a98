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


# -- the splice and O_DIRECT engines, the automatic choice, progress --------------------------

BLOCK = 4096


@pytest.mark.parametrize("mode", ["splice", "direct", "buffered"])
@pytest.mark.parametrize("size", [0, 1, BLOCK - 1, BLOCK, 3 * BLOCK + 5, 64 * BLOCK, 300 * BLOCK + 17])
def test_each_engine_copies_exactly(tmp_path, fd_guard, mode, size):
    src, dst = tmp_path / "src", tmp_path / "dst"
    data = pattern(size)
    src.write_bytes(data)
    dst.write_bytes(b"z" * (size + 3 * BLOCK))       # longer: must be cut to the source
    seen = []
    assert copyfile(src, dst, mode=mode, qd=3, chunk=16 * BLOCK, progress=seen.append) == size
    assert dst.read_bytes() == data
    assert seen == sorted(seen) and (not seen or seen[-1] == size)


@pytest.mark.parametrize("mode", ["splice", "direct"])
def test_engines_between_fds_and_with_fsync(tmp_path, fd_guard, mode):
    src, dst = tmp_path / "src", tmp_path / "dst"
    data = pattern(50 * BLOCK + 100)
    src.write_bytes(data)
    dst.write_bytes(b"x" * (80 * BLOCK))
    s, d = os.open(src, os.O_RDONLY), os.open(dst, os.O_RDWR)
    try:
        assert copyfile(s, d, mode=mode, fsync=True) == len(data)
        assert os.get_blocking(d) and not os.fstat(d).st_size > len(data)
    finally:
        os.close(s)
        os.close(d)
    assert dst.read_bytes() == data


@pytest.mark.parametrize("mode", ["splice", "direct"])
def test_engines_fall_back_for_files_that_refuse_them(tmp_path, fd_guard, mode):
    dst = tmp_path / "stat"
    info: dict = {}
    assert copyfile("/proc/self/stat", dst, mode=mode, info=info) == len(dst.read_bytes()) > 0
    assert info["mode"] == "buffered"     # procfs neither splices nor takes O_DIRECT


def test_unknown_mode(tmp_path):
    (tmp_path / "s").write_bytes(b"x")
    with pytest.raises(ValueError, match="mode"):
        copyfile(tmp_path / "s", tmp_path / "d", mode="teleport")


def test_automatic_choice_protects_the_page_cache(tmp_path, fd_guard, monkeypatch):
    from uring import copy as copy_mod
    size = 256 * BLOCK
    src = tmp_path / "src"
    src.write_bytes(pattern(size))
    fd = os.open(src, os.O_RDONLY)
    memory = [8 * size]
    monkeypatch.setattr(copy_mod, "_available_memory", lambda: memory[0])
    try:
        os.read(fd, size)
        assert copy_mod.cached_fraction(fd) == 1.0
        assert copy_mod.choose_mode(fd) == "splice"            # small: never direct
        monkeypatch.setattr(copy_mod, "DIRECT_MIN_SIZE", BLOCK)
        memory[0] = 4 * size
        assert copy_mod.choose_mode(fd) == "splice"            # a quarter of memory, cached
        memory[0] = size
        assert copy_mod.choose_mode(fd) == "direct"            # larger than half the memory
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        if copy_mod.cached_fraction(fd) >= 0.5:
            pytest.skip("this filesystem keeps the pages after POSIX_FADV_DONTNEED")
        memory[0] = 4 * size
        assert copy_mod.choose_mode(fd) == "direct"            # a quarter of memory, cold
        memory[0] = 16 * size
        assert copy_mod.choose_mode(fd) == "splice"            # cold but small for this machine
        assert copy_mod.cached_fraction(fd, 0) is None         # nothing to map
    finally:
        os.close(fd)


def test_progress_bar_line():
    import io
    now = [100.0]
    out = io.StringIO()
    bar = cp_cmd.ProgressBar(4 << 20, out, width=10, interval=0.5, clock=lambda: now[0])
    now[0] = 101.0
    bar(1 << 20)
    assert out.getvalue() == "\r[##........] 1.0 MiB / 4.0 MiB  1.0 MiB/s  ETA 3s\x1b[K"
    now[0] = 101.2
    bar(2 << 20)                                              # within the interval: no redraw
    assert out.getvalue().count("\r") == 1
    now[0] = 102.0
    bar.done = 4 << 20
    bar.finish()
    assert out.getvalue().endswith("[##########] 4.0 MiB / 4.0 MiB  2.0 MiB/s  2.0s\x1b[K\n")


def test_cli_cp_modes_and_progress(tmp_path, fd_guard, capsys):
    src = tmp_path / "src"
    data = pattern(40 * BLOCK + 1)
    src.write_bytes(data)
    for mode in ("splice", "direct", "buffered", "auto"):
        dst = tmp_path / f"dst-{mode}"
        assert cp_cmd.run(_parse(["cp", str(src), str(dst), "--mode", mode, "--progress", "-v"])) == 0
        assert dst.read_bytes() == data
        captured = capsys.readouterr()
        assert f"{len(data)} bytes" in captured.out
        assert captured.out.rstrip().endswith(", splice)" if mode == "auto" else f", {mode})")
        assert "[##############################]" in captured.err and "ETA" not in captured.err.splitlines()[-1]
