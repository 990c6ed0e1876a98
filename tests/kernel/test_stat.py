"""`uring stat` and Ring.stat() against live rings of this process and of a child process
(SQPOLL, registered files, buffers and a personality), and against recorded fdinfo samples
of older kernels (reconstructed from each release's seq_printf formats, with counter
wrap-around and a 5-digit table index added to test the edges)."""

from __future__ import annotations

import json
import mmap
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from uring import Ring
from uring._uapi import SetupFlags
from uring.stat import find_rings, format_table, parse_fdinfo, rates, ring_stat

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "fdinfo"


def uring(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "uring", *args], capture_output=True,
                          text=True, timeout=60)


# -- recorded samples ----------------------------------------------------------------------


def test_linux_5_10_has_no_heads_but_resources():
    st = parse_fdinfo((SAMPLES / "linux-5.10.txt").read_text(), pid=7, fd=4)
    assert (st.sq_entries, st.sq_head, st.sq_pending, st.cq_pending) == (None, None, None, None)
    assert (st.sq_thread, st.sq_thread_cpu, st.sqpoll) == (None, None, False)
    assert (st.files, st.file_names) == (2, ["data.bin", "<none>"])
    assert (st.buffers, st.buffer_list) == (1, [(0x7F3A5C000000, 4096)])
    assert st.personalities == [1]
    assert st.poll_list == [{"op": 6, "task_works": 0}, {"op": 6, "task_works": 1}]
    assert st.overflow == 0 and st.extra == {}


def test_linux_5_15_sqpoll_wraparound_and_overflow():
    st = parse_fdinfo((SAMPLES / "linux-5.15.txt").read_text())
    assert (st.sq_entries, st.cq_entries) == (64, 128)
    assert st.sq_pending == 8            # 2 - 4294967290 mod 2**32
    assert (st.cq_head, st.cq_tail, st.cq_pending) == (100, 103, 3)
    assert (st.sq_thread, st.sq_thread_cpu, st.sqpoll) == (1234, 1, True)
    assert (st.files, st.buffers) == (1, 2)
    assert st.buffer_list[1] == (0x55D0C0A10000, 65536)
    assert st.overflow == 2
    assert st.overflow_list[1] == {"user_data": 12, "res": -104, "flags": 2}
    assert st.poll_list == [] and st.personalities == []


def test_linux_6_10_times_napi_big_index_and_unknown_keys():
    st = parse_fdinfo((SAMPLES / "linux-6.10.txt").read_text())
    assert (st.sq_pending, st.cq_pending) == (0, 10)
    assert (st.sq_total_time_us, st.sq_work_time_us, st.napi) == (0, 0, "disabled")
    assert st.files == 10001 and st.file_names == ["a", "b"]   # "10000: b" has no indent
    assert st.poll_list == [{"op": 10, "task_works": 0}]
    assert st.extra == {"FutureKey": "something new"}


@pytest.mark.parametrize("text", ["", "garbage\n\x00\n", "SqHead:\tnope\nUserFiles:\n  x\n"])
def test_junk_never_raises(text):
    st = parse_fdinfo(text)
    assert st.sq_head is None and st.sq_pending is None


def test_rates_from_head_movement_with_wraparound():
    a = parse_fdinfo("SqHead:\t4294967295\nSqTail:\t4294967295\nCqHead:\t10\nCqTail:\t10\n", pid=1, fd=3)
    b = parse_fdinfo("SqHead:\t99\nSqTail:\t99\nCqHead:\t210\nCqTail:\t210\n", pid=1, fd=3)
    assert rates([a], [b], 2.0) == {(1, 3): {"sqe_per_sec": 50.0, "cqe_per_sec": 100.0}}
    table = format_table([b], rates([a], [b], 2.0))
    assert "SQE/s" in table and table.splitlines()[1].split()[-3:] == ["50", "100", "-"]


def test_sqpoll_thread_busy_share_between_samples():
    a = parse_fdinfo("SqThread:\t9\nSqThreadCpu:\t1\nSqTotalTime:\t1000\nSqWorkTime:\t100\n", pid=1, fd=3)
    b = parse_fdinfo("SqThread:\t9\nSqThreadCpu:\t1\nSqTotalTime:\t3000\nSqWorkTime:\t600\n", pid=1, fd=3)
    assert rates([a], [b], 1.0)[(1, 3)] == {"sqpoll_busy": 0.25}
    assert format_table([b], rates([a], [b], 1.0)).splitlines()[1].split()[-1] == "25%"


# -- live rings ----------------------------------------------------------------------------


def test_ring_stat_of_a_live_ring(make_ring, tmp_path):
    ring = make_ring(8)
    path = tmp_path / "f"
    path.write_bytes(b"x" * 4096)
    fd = os.open(path, os.O_RDONLY)
    bufs = [bytearray(4096), bytearray(8192)]
    try:
        ring.register_files([fd])
        ring.register_buffers(bufs)
        personality = ring.register_personality()
        for _ in range(3):
            ring.nop()
        ring.submit()
        st = ring.stat()
        assert (st.pid, st.fd, st.sq_entries, st.cq_entries) == (os.getpid(), ring.fd, 8, 16)
        assert (st.sq_head, st.sq_tail, st.sq_pending) == (3, 3, 0)
        assert (st.cq_tail - st.cq_head, st.cq_pending) == (3, 3)   # posted, not reaped
        assert st.sq_thread is None and st.overflow == 0
        # The file's name (older kernels) or its path (6.x).
        assert st.files == 1 and [Path(n).name for n in st.file_names] == ["f"]
        assert [n for _, n in st.buffer_list] == [4096, 8192]
        if "Personalities" in Path(f"/proc/self/fdinfo/{ring.fd}").read_text():
            assert st.personalities == [personality]   # printed up to 6.x, not by 6.18
        ring.submit_and_wait(3)
        assert ring.stat().cq_pending == 0
        assert any(r.fd == ring.fd for r in find_rings([os.getpid()]))
    finally:
        ring.unregister_buffers()
        ring.unregister_files()
        os.close(fd)


def test_sqpoll_ring_in_this_process(make_ring):
    ring = make_ring(4, flags=SetupFlags.SQPOLL, sq_thread_idle=2000)
    st = _sqpoll_started(ring.fd)
    assert st.sqpoll and st.sq_thread > 0 and st.sq_thread_cpu is not None and st.sq_thread_cpu >= 0
    assert st.sq_total_time_us is not None       # printed since 6.9 (this machine: 6.18)


def _sqpoll_started(fd: int, pid: int | None = None):
    """Until the SQPOLL thread first runs, the kernel reports the creator's pid and CPU -1."""
    deadline = time.monotonic() + 5
    while True:
        st = ring_stat(fd, pid)
        if st.sq_thread_cpu is not None or time.monotonic() > deadline:
            return st
        time.sleep(0.01)


def test_ring_stat_refuses_other_fds(tmp_path):
    with open(tmp_path / "plain", "w") as f:
        with pytest.raises(ValueError, match="not an io_uring"):
            ring_stat(f.fileno())


CHILD = textwrap.dedent("""
    import mmap, os, sys
    from uring import Ring
    from uring._uapi import SetupFlags
    ring = Ring(16, flags=SetupFlags.SQPOLL, sq_thread_idle=5000)
    plain = Ring(32)
    fds = [os.open(sys.argv[1], os.O_RDONLY), os.open(sys.argv[1], os.O_RDONLY)]
    bufs = [mmap.mmap(-1, 4096) for _ in range(3)]
    ring.register_files(fds)
    ring.register_buffers(bufs)
    print(ring.fd, plain.fd, flush=True)
    sys.stdin.read()
""")


def test_rings_of_a_child_process_table_and_json(tmp_path):
    data = tmp_path / "data.bin"
    data.write_bytes(b"\1" * 4096)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(data)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        sq_fd, plain_fd = map(int, child.stdout.readline().split())
        rings = {r.fd: r for r in find_rings([child.pid])}
        assert set(rings) == {sq_fd, plain_fd}
        sq, plain = _sqpoll_started(sq_fd, child.pid), rings[plain_fd]
        assert sq.comm.startswith("python") and sq.pid == child.pid
        assert sq.sqpoll and (sq.sq_entries, sq.files, sq.buffers) == (16, 2, 3)
        assert [Path(n).name for n in sq.file_names] == ["data.bin", "data.bin"]
        assert not plain.sqpoll and (plain.sq_entries, plain.cq_entries, plain.files) == (32, 64, 0)

        proc = uring("stat", str(child.pid), "--json")
        assert proc.returncode == 0, proc.stderr
        records = [json.loads(line) for line in proc.stdout.splitlines()]
        assert sorted(r["fd"] for r in records) == sorted([sq_fd, plain_fd])
        by_fd = {r["fd"]: r for r in records}
        assert by_fd[sq_fd]["sqpoll"] is True and by_fd[sq_fd]["buffers"] == 3
        assert by_fd[sq_fd]["buffer_list"][0]["len"] == 4096

        proc = uring("stat", str(child.pid))
        lines = proc.stdout.splitlines()
        assert lines[0].split()[:3] == ["PID", "COMM", "FD"] and len(lines) == 3
        assert any(f"@cpu{sq.sq_thread_cpu}" in line for line in lines)

        proc = uring("stat", str(child.pid), "--watch", "0.05", "--count", "2")
        assert proc.returncode == 0 and proc.stdout.count("SQE/s") == 2
    finally:
        child.stdin.close()
        child.wait(timeout=30)


def test_stat_of_a_process_without_rings():
    proc = uring("stat", "1")
    # PID 1 (init) is either not readable or has no rings: said on stderr, status 1.
    assert proc.returncode == 1 and "no readable io_uring instance" in proc.stderr


def test_a_ring_busy_in_the_kernel_is_retried_then_flagged(monkeypatch, make_ring):
    """Since 5.16 the kernel prints nothing for a ring whose lock is held: the read is
    retried, and a ring that stays locked is shown as busy rather than as zeros."""
    from uring import stat as stat_mod
    ring = make_ring(4)
    real_open = open
    generic = "pos:\t0\nflags:\t02000002\nmnt_id:\t17\nino:\t1\n"
    calls = []

    def fake_open(path, *a, **k):
        if str(path).startswith("/proc/") and "/fdinfo/" in str(path):
            calls.append(path)
            if len(calls) < 3 or always_busy:
                import io
                return io.StringIO(generic)
        return real_open(path, *a, **k)

    monkeypatch.setattr("builtins.open", fake_open)
    always_busy = False
    st = stat_mod.ring_stat(ring.fd)
    assert len(calls) == 3 and not st.busy and st.sq_entries == 4
    always_busy = True
    monkeypatch.setattr(stat_mod, "_BUSY_RETRIES", 5)
    st = stat_mod.ring_stat(ring.fd)
    assert st.busy and st.sq_entries is None
    line = stat_mod.format_table([st]).splitlines()[1]
    assert "busy" in line and line.split()[2] == str(ring.fd)
