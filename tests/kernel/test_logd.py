"""uring logd end to end over 127.0.0.1: real client processes, SIGKILL and SIGTERM of the
server, connection churn, huge lines, and the buffer ring running dry."""

from __future__ import annotations

import os
import random
import select
import signal
import socket
import sys
import threading
import time

import pytest

from tests.kernel import logd_client
from tests.kernel.logd_client import parse_log, record
from tests.support import needs_cc
from uring.logd import LogServer, recover_log
from uring.logd.bench import start_server, stop_server
from uring.logd.protocol import AckReader

# The C server of `uring logd bench` (uring/_bench_c/logd_server.c): a measuring instrument,
# so it must keep the protocol and the durability of the Python server it is compared with.
C = pytest.param("c", marks=needs_cc)
C_FIXED = pytest.param("c-fixed", marks=needs_cc)

class _ForkedClient:
    """logd_client.run() in a forked child process (no interpreter start-up: fifty of them
    start at once); what it prints comes back through a pipe."""

    def __init__(self, address, cid, count, partial=False):
        r, w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            status = 1
            try:
                os.close(r)
                sys.stdout = os.fdopen(w, "w")
                print(logd_client.run(address[0], address[1], cid, count, partial=partial), flush=True)
                status = 0
            finally:
                os._exit(status)
        os.close(w)
        self.out = os.fdopen(r)

    def wait(self):
        out = self.out.read()
        self.out.close()
        _, status = os.waitpid(self.pid, 0)
        assert status == 0, f"client exited with status {status:#x}"
        return out

    def kill(self):
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        self.out.close()


def _check(log, acked, *, exact=False):
    """Every acked record of every client is in the log once, in order, whole."""
    with open(log, "rb") as f:
        seqs = parse_log(f.read())
    for cid, n in acked.items():
        got = seqs.get(cid, [])
        assert got == list(range(len(got))), f"client {cid}: records missing, repeated or reordered"
        assert len(got) >= n, f"client {cid}: {n} acked but {len(got)} in the log"
        if exact:
            assert len(got) == n, f"client {cid}: {len(got)} written but {n} acked"
    return seqs


@pytest.mark.parametrize("server,mode,sync,per_client", [
    ("uring", "group", "fsync", 100),
    ("uring", "record", "fdatasync", 4),
    pytest.param("c", "group", "fsync", 100, marks=needs_cc),
    pytest.param("c", "record", "fdatasync", 4, marks=needs_cc),
    pytest.param("c-fixed", "group", "none", 100, marks=needs_cc),
])
def test_fifty_client_processes(tmp_path, server, mode, sync, per_client):
    log = str(tmp_path / "log")
    proc, address = start_server(server, log, sync=sync, group_commit=mode == "group")
    try:
        clients = [_ForkedClient(address, cid, per_client) for cid in range(50)]
        acked = {cid: int(c.wait()) for cid, c in enumerate(clients)}
    finally:
        stats = stop_server(proc)
    assert acked == {cid: per_client for cid in range(50)}
    _check(log, acked, exact=True)
    assert stats["accepted"] == stats["closed"] == 50
    assert stats["records"] == 50 * per_client
    if mode == "record":
        assert stats["fsyncs"] == 50 * per_client   # one fsync per record, as promised
    assert stats["buffers_free"] == stats["buffers"]


@pytest.mark.parametrize("server", ["uring", C])
def test_client_killed_mid_record(tmp_path, server):
    log = str(tmp_path / "log")
    proc, address = start_server(server, log)
    try:
        victim = _ForkedClient(address, 7, 30, partial=True)
        assert victim.out.readline().startswith("PARTIAL 30")
        survivor = _ForkedClient(address, 8, 30)
        victim.kill()
        assert int(survivor.wait()) == 30
    finally:
        stats = stop_server(proc)
    seqs = _check(log, {7: 30, 8: 30}, exact=True)
    assert len(seqs) == 2
    assert stats["cut_short_bytes"] == len(record(7, 30)) - 7
    assert stats["closed"] == 2


class _Pusher(threading.Thread):
    """One connection sending records with a window; remembers the highest ack."""

    def __init__(self, address, cid, window=8):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(address)
        self.cid = cid
        self.window = window
        self.acked = 0
        self.sent = 0
        self.stop = False
        self.half_close = False
        self.error = None

    def run(self):
        reader = AckReader()
        shut = False
        try:
            while True:
                if self.stop:
                    if self.half_close and not shut:
                        # From this thread, never midway through one of its sends.
                        self.sock.shutdown(socket.SHUT_WR)
                        shut = True
                elif self.sent - reader.acked < self.window:
                    n = self.window - (self.sent - reader.acked)
                    self.sock.sendall(b"".join(record(self.cid, self.sent + i) for i in range(n)))
                    self.sent += n
                if not select.select([self.sock], [], [], 0.05)[0]:
                    continue
                data = self.sock.recv(65536)
                if not data:
                    break
                self.acked = reader.feed(data)
                self.error = reader.error
        except OSError:
            pass   # the server went away

    def finish(self, half_close=False):
        self.half_close = half_close
        self.stop = True
        self.join(timeout=30)
        self.sock.close()


@pytest.mark.parametrize("server,run", [("uring", run) for run in range(10)]
                         + [pytest.param("c", run, marks=needs_cc) for run in range(4)])
def test_sigkill_at_random_moment_keeps_acked_records(tmp_path, server, run):
    rnd = random.Random(run)
    log = str(tmp_path / "log")
    mode = "group" if run % 2 == 0 else "record"
    proc, address = start_server(server, log, sync="fdatasync", group_commit=mode == "group")
    pushers = [_Pusher(address, cid) for cid in range(4)]
    for p in pushers:
        p.start()
    deadline = time.monotonic() + 20
    while not any(p.acked for p in pushers) and time.monotonic() < deadline:
        time.sleep(0.005)   # killed while records flow: after the first ack
    time.sleep(rnd.uniform(0.0, 0.3))
    proc.kill()
    proc.wait()
    proc.stdout.close()
    acked = {}
    for p in pushers:
        p.join(timeout=30)
        p.sock.close()
        acked[p.cid] = p.acked
    assert sum(acked.values()) > 0
    recover_log(log)   # what the next start does: cut a torn, never-acked last line
    _check(log, acked)


@pytest.mark.parametrize("server", ["uring", "asyncio", "uvloop", "uring-loop", C, C_FIXED])
def test_sigterm_acks_everything_received_then_exits(tmp_path, server):
    log = str(tmp_path / "log")
    proc, address = start_server(server, log, sync="fdatasync")
    pushers = [_Pusher(address, cid) for cid in range(6)]
    for p in pushers:
        p.start()
    time.sleep(0.15)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "logd stats " in out
    acked = {}
    for p in pushers:
        p.finish()
        acked[p.cid] = p.acked
    # Whatever the server wrote it acknowledged before closing: acks and file agree exactly.
    _check(log, acked, exact=True)
    assert all(n > 0 for n in acked.values())


def _fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_ten_thousand_connections_leak_nothing(tmp_path, fd_guard):
    log = str(tmp_path / "log")
    proc, address = start_server("uring", log)
    try:
        baseline = _fd_count(proc.pid)
        for batch in range(20):
            socks = [socket.create_connection(address) for _ in range(500)]
            for i, s in enumerate(socks):
                if i % 50 == 0:
                    s.sendall(record(batch * 500 + i, 0) + b"cut")
                s.close()
        deadline = time.monotonic() + 20
        while _fd_count(proc.pid) != baseline and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _fd_count(proc.pid) == baseline
    finally:
        stats = stop_server(proc)
    assert stats["accepted"] == stats["closed"] == 10000
    assert stats["buffers_free"] == stats["buffers"]
    with open(log, "rb") as f:
        seqs = parse_log(f.read())
    assert sum(map(len, seqs.values())) == stats["records"] <= 200
    assert stats["cut_short_bytes"] == 3 * stats["records"]


@pytest.mark.parametrize("server", ["uring", C])
def test_huge_line_flood_gets_an_error_others_unaffected(tmp_path, server):
    log = str(tmp_path / "log")
    limit = 65536
    proc, address = start_server(server, log, extra=["--max-record", str(limit)])
    try:
        others = [_Pusher(address, cid) for cid in range(1, 4)]
        for p in others:
            p.start()
        flood = socket.create_connection(address)
        flood.sendall(record(0, 0))
        # 8 MiB without a newline: twice the whole buffer ring (256 x 16 KiB).
        chunk = b"y" * (1 << 20)
        got = b""
        try:
            for _ in range(8):
                flood.sendall(chunk)
        except OSError:
            pass   # the server closed the connection mid-flood: expected
        try:
            while True:
                data = flood.recv(4096)
                if not data:
                    break
                got += data
        except ConnectionResetError:
            pass
        flood.close()
        assert got == b"1\nERR record longer than %d bytes (newline included)\n" % limit
        time.sleep(0.2)
        for p in others:
            p.finish(half_close=True)
            assert p.acked > 0 and p.error is None
    finally:
        stats = stop_server(proc)
    assert stats["too_long"] == 1
    _check(log, {0: 1} | {p.cid: p.acked for p in others})


def _push_in_thread(server: LogServer, *, clients: int, window: int, seconds: float):
    """Serve in a thread while `clients` pushers send for `seconds`, then half-close them and
    stop the server; returns (the server's stats, the pushers)."""
    result: dict = {}
    t = threading.Thread(target=lambda: result.update(server.serve_forever()))
    t.start()
    try:
        pushers = [_Pusher(server.address, cid, window=window) for cid in range(clients)]
        for p in pushers:
            p.start()
        time.sleep(seconds)
        for p in pushers:
            p.finish(half_close=True)
    finally:
        server.stop()
        t.join(timeout=30)
    return result, pushers


def test_buffer_ring_running_dry_loses_no_bytes(tmp_path, fd_guard):
    """Four 64-byte buffers for 16 busy connections: multishot recvs end with -ENOBUFS and
    are re-armed; the records still arrive whole."""
    log = str(tmp_path / "log")
    server = LogServer(("127.0.0.1", 0), log, sync="none", buffers=4, buffer_size=64)
    result, pushers = _push_in_thread(server, clients=16, window=32, seconds=0.5)
    assert result["enobufs"] > 0
    assert result["buffers_free"] == result["buffers"] == 4
    _check(log, {p.cid: p.acked for p in pushers}, exact=True)


def test_cli_needs_listen_and_log():
    from uring.cli.main import main
    assert main(["logd", "--listen", "127.0.0.1:0"]) == 2


def test_sqpoll_server_and_sigint(tmp_path):
    log = str(tmp_path / "log")
    proc, address = start_server("uring", log, sync="none", sqpoll=True)
    pusher = _Pusher(address, 1)
    pusher.start()
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)   # the same clean shutdown as SIGTERM
    out, _ = proc.communicate(timeout=30)
    pusher.finish()
    assert proc.returncode == 0 and '"closed": 1' in out
    assert pusher.acked > 0
    _check(log, {1: pusher.acked}, exact=True)


def test_out_of_file_descriptors_then_recovers(tmp_path):
    """At its fd limit the server stops accepting (no spinning) and resumes once fds free."""
    import resource

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (48, 48))

    log = str(tmp_path / "log")
    proc, address = start_server("uring", log, preexec_fn=low_limit)
    try:
        socks = [socket.create_connection(address) for _ in range(80)]   # more than 48 fds
        time.sleep(0.3)
        cpu = _cpu_seconds(proc.pid)
        time.sleep(1.0)
        # Spinning costs a loaded core's worth (0.3+ s here); a 50 ms retry timer, ~nothing.
        assert _cpu_seconds(proc.pid) - cpu < 0.1, "the accept loop spins at the fd limit"
        for s in socks:
            s.close()
        pusher = _Pusher(address, 5)
        pusher.start()
        deadline = time.monotonic() + 20
        while not pusher.acked and time.monotonic() < deadline:
            time.sleep(0.02)
        pusher.finish(half_close=True)
    finally:
        stats = stop_server(proc)
    assert pusher.acked > 0
    assert stats["accepted"] == stats["closed"] >= 80
    _check(log, {5: pusher.acked}, exact=True)


def _cpu_seconds(pid):
    from uring.bench import process_cpu
    return sum(process_cpu(pid))



@needs_cc
def test_bench_measures_servers_side_by_side(capsys):
    from uring.cli.main import main
    assert main(["logd", "bench", "--conns", "3", "--modes", "group", "--servers", "c,uring,uvloop",
                 "--duration", "0.3", "--window", "2"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith("group ")]
    assert [r[2] for r in rows[-3:]] == ["c", "uring", "uvloop"]
    for r in rows:
        assert float(r[3].replace(",", "")) > 0     # records/s
        assert float(r[5].replace(",", "")) > 0     # acks per server CPU-second
    assert rows[-2][-1].endswith("x")               # uring's ratio to the uvloop run


@pytest.mark.parametrize("group", [True, False])
def test_backlog_limit_pauses_reading_without_losing_bytes(tmp_path, fd_guard, group):
    """Clients sending far ahead of the commits: past max_backlog the receives are cancelled
    and re-armed once commits caught up; every record still arrives whole and in order."""
    log = str(tmp_path / "log")
    server = LogServer(("127.0.0.1", 0), log, sync="none", group_commit=group, max_backlog=4096)
    result, pushers = _push_in_thread(server, clients=4, window=400, seconds=0.4)
    assert result["paused"] > 0
    assert result["buffers_free"] == result["buffers"]
    _check(log, {p.cid: p.acked for p in pushers}, exact=True)
    assert all(p.acked >= 400 for p in pushers)


def test_bench_without_a_compiler_measures_the_python_servers(tmp_path, monkeypatch, capsys):
    from uring.cli.main import main
    monkeypatch.setenv("URING_BUILD_DIR", str(tmp_path / "build"))
    monkeypatch.setattr("uring.bench._build_dirs", lambda src: [tmp_path / "build"])
    monkeypatch.setenv("CC", "no-such-compiler-xyz")
    assert main(["logd", "bench", "--conns", "2", "--modes", "group", "--servers", "c,uvloop",
                 "--duration", "0.2"]) == 0
    out, err = capsys.readouterr()
    assert "the C server is not measured" in err and "no C compiler" in err
    assert [line.split()[2] for line in out.splitlines() if line.startswith("group ")] == ["uvloop", "uvloop"]


def test_sync_floor_counts_one_sync_per_record(tmp_path):
    from uring.logd.bench import sync_floor
    floor = sync_floor(str(tmp_path), sync="fdatasync", record_size=64, duration=0.2)
    assert floor["server"] == "floor" and floor["mode"] == "record"
    assert floor["acked"] == floor["fsyncs"] == floor["records"] > 0
    assert floor["acks_per_cpu_s"] > 0 and floor["p50_ms"] <= floor["p99_ms"]
    assert list(tmp_path.iterdir()) == []    # its file is gone


def test_bench_record_mode_reports_the_disk_floor(capsys):
    from uring.cli.main import main
    assert main(["logd", "bench", "--conns", "2", "--modes", "record", "--servers", "uring",
                 "--duration", "0.3"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[2] for line in out.splitlines() if line.startswith("record ")] == \
        ["uring", "floor", "uring", "floor"]
    assert "floor: one thread doing pwrite + fsync per record" in out
