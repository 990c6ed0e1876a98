"""`uring logd bench`: a load generator on one io_uring (N connections, each keeping `window`
records unacknowledged) against logd servers started as child processes, side by side.

Per run: acked records/s, ack lines/s, acked records per server CPU-second (CPU time of the
server process, all its threads: io-wq workers and the asyncio fsync thread included),
and p50/p99 ack latency (from sending a record to receiving the ack that covers it).
"""

from __future__ import annotations

import collections
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Sequence

from uring._uapi import CQE_BUFFER_SHIFT, CqeFlags, SetupFlags
from uring.bench import c_program, process_cpu
from uring.bufring import BufferRing
from uring.logd.protocol import AckReader, make_record
from uring.ring import Ring

__all__ = ["SERVERS", "ALL_SERVERS", "C_SERVERS", "MODES", "c_server_binary", "start_server", "stop_server", "run_load", "CpuMeter", "server_cpu",
           "run_matrix", "sync_floor", "format_row", "format_table"]

# "c": the same server in C on a raw ring (uring/_bench_c/logd_server.c), the machine's limit.
SERVERS = ("c", "uring", "asyncio", "uvloop")
# Also measurable: the asyncio server on this project's own event loop (--servers ...,uring-loop),
# and the C server with its sockets in the ring's registered file table.
ALL_SERVERS = SERVERS + ("uring-loop", "c-fixed")
C_SERVERS = ("c", "c-fixed")
MODES = ("record", "group")
_F_MORE = int(CqeFlags.MORE)


def _thread_ns(pid: int) -> dict[str, int]:
    """{thread id: nanoseconds on CPU} from each thread's schedstat (exact, unlike ticks)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat", "rb") as f:
                out[tid] = int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError, IndexError):
            pass
    return out


class CpuMeter:
    """CPU seconds a process (all its threads: io-wq workers, executor threads) uses from
    construction to read(): summed per-thread schedstat, or /proc/PID/stat ticks (10 ms
    grain) when a thread ended in between and took its count with it."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._threads = _thread_ns(pid)
        self._ticks = server_cpu(pid)

    def read(self) -> float:
        now = _thread_ns(self.pid)
        if set(self._threads) - set(now):
            return server_cpu(self.pid) - self._ticks
        return sum(ns - self._threads.get(tid, 0) for tid, ns in now.items()) / 1e9


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system, every thread, exited ones too) `pid` used so far."""
    return sum(process_cpu(pid))


def c_server_binary() -> str:
    """The C logd server, compiled on first use (raises uring.bench.BenchError without a
    compiler)."""
    return c_program("logd_server")


def start_server(server: str, log: str, *, sync: str = "fsync", group_commit: bool = True,
                 sqpoll: bool = False, extra: Sequence[str] = (),
                 **popen: Any) -> tuple[subprocess.Popen, tuple[str, int]]:
    """Start a logd server (`server`: one of ALL_SERVERS: `uring logd --loop NAME`, or the C
    server) on a free port; returns the process and the address it listens on. `popen`: more
    subprocess.Popen arguments."""
    if server in C_SERVERS:
        if sqpoll:
            raise ValueError("the C logd server has no SQPOLL mode")
        cmd = [c_server_binary(), "--listen", "127.0.0.1:0", "--log", log, "--sync", sync, *extra]
        if server == "c-fixed":
            cmd.append("--fixed-files")
    else:
        cmd = [sys.executable, "-m", "uring", "logd", "--listen", "127.0.0.1:0", "--log", log,
               "--loop", server, "--sync", sync, *extra]
    if group_commit:
        cmd.append("--group-commit")
    if sqpoll:
        cmd.append("--sqpoll")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, **popen)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("logd listening on "):
        proc.kill()
        proc.wait()
        raise RuntimeError(f"logd did not start: {line!r}")
    host, _, port = line.split()[-1].rpartition(":")
    return proc, (host, int(port))


def stop_server(proc: subprocess.Popen, timeout: float = 30.0) -> dict:
    """SIGTERM the server, wait for its clean exit; returns the stats it printed."""
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"logd exited with {proc.returncode}")
    for line in out.splitlines():
        if line.startswith("logd stats "):
            return json.loads(line[len("logd stats "):])
    return {}


class _Client:
    __slots__ = ("cid", "sock", "fd", "sent", "acked", "times", "reader", "sending", "backlog")

    def __init__(self, cid: int, address: tuple[str, int]) -> None:
        self.cid = cid
        self.sock = socket.create_connection(address)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.fd = self.sock.fileno()
        self.sent = 0
        self.acked = 0
        self.times: collections.deque[float] = collections.deque()
        self.reader = AckReader()
        self.sending = False
        self.backlog = b""


def run_load(address: tuple[str, int], *, conns: int, record_size: int = 100, duration: float = 3.0,
             warmup: float = 0.5, window: int = 1, pid: int | None = None) -> dict:
    """Drive `conns` connections for warmup + duration seconds; measure over `duration`."""
    if window < 1 or conns < 1:
        raise ValueError("conns and window must be >= 1")
    ring = Ring(1024, flags=SetupFlags.SINGLE_ISSUER | SetupFlags.DEFER_TASKRUN | SetupFlags.CQSIZE,
                cq_entries=16384)
    br = BufferRing(ring, 1, 1024, 4096)
    clients = [_Client(i, address) for i in range(conns)]
    latencies: list[float] = []
    counters = {"acked": 0, "ack_lines": 0}
    state = {"measuring": False, "sending": True}
    clock = time.perf_counter

    def refill(c: _Client) -> None:
        if not state["sending"] or c.sending:
            return
        n = window - (c.sent - c.acked)
        if n <= 0:
            return
        now = clock()
        payload = b"".join(make_record(c.cid, c.sent + i, record_size) for i in range(n))
        c.times.extend([now] * n)
        c.sent += n
        c.sending = True
        ring.send(c.fd, payload, socket.MSG_NOSIGNAL, callback=on_send, context=c)

    def on_send(op: Any, res: int, flags: int) -> None:
        c = op.context
        c.sending = False
        if res < 0:
            if state["sending"]:
                raise OSError(-res, f"client {c.cid}: send failed: {os.strerror(-res)}")
            return
        if res < len(op.buffer):
            c.sending = True
            ring.send(c.fd, op.buffer[res:], socket.MSG_NOSIGNAL, callback=on_send, context=c)
            return
        refill(c)

    def on_recv(op: Any, res: int, flags: int) -> None:
        c = op.context
        if res > 0:
            bid = flags >> CQE_BUFFER_SHIFT
            data = bytes(br.get(bid, res))
            br.recycle(bid)
            acked = c.reader.feed(data)
            if c.reader.error:
                raise RuntimeError(f"client {c.cid}: server said {c.reader.error}")
            newly = acked - c.acked
            if newly > 0:
                now = clock()
                c.acked = acked
                times = c.times
                if state["measuring"]:
                    counters["acked"] += newly
                    counters["ack_lines"] += data.count(b"\n")
                    for _ in range(newly):
                        latencies.append(now - times.popleft())
                else:
                    for _ in range(newly):
                        times.popleft()
                refill(c)
        if not flags & _F_MORE and state["sending"]:
            if res > 0 or res == -105:   # ENOBUFS: the data waits in the socket
                ring.recv_multishot(c.fd, buf_group=1, callback=on_recv, context=c)
            else:
                raise RuntimeError(f"client {c.cid}: connection ended early ({res})")

    try:
        for c in clients:
            ring.recv_multishot(c.fd, buf_group=1, callback=on_recv, context=c)
            refill(c)
        start = clock()
        t_measure = start + warmup
        t_end = t_measure + duration
        meter = None
        while True:
            now = clock()
            if not state["measuring"] and now >= t_measure:
                state["measuring"] = True
                meter = CpuMeter(pid) if pid else None
                t_measure = now
            if now >= t_end:
                break
            ring.submit_and_wait(1, timeout=0.05)
        elapsed = clock() - t_measure
        cpu = meter.read() if meter is not None else 0.0
        state["sending"] = False
    finally:
        state["sending"] = False
        ring.close()
        br.close()
        for c in clients:
            c.sock.close()
    return _load_row(conns, window, record_size, elapsed, counters["acked"], counters["ack_lines"], cpu,
                     latencies)


def _load_row(conns: int, window: int, record_size: int, elapsed: float, acked: int, ack_lines: int,
              cpu: float, latencies: list[float]) -> dict:
    """The figures of one run (latencies in seconds, sorted here) as run_load reports them."""
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1e3 if latencies else float("nan")

    return {"conns": conns, "window": window, "record_size": record_size, "seconds": elapsed,
            "records_per_s": acked / elapsed, "ack_lines_per_s": ack_lines / elapsed,
            "server_cpu_s": cpu, "acks_per_cpu_s": acked / cpu if cpu > 0 else float("nan"),
            "p50_ms": pct(0.50), "p99_ms": pct(0.99), "acked": acked}


def run_matrix(*, servers: Sequence[str] = SERVERS, modes: Sequence[str] = MODES,
               conns: Sequence[int] = (1, 10, 100), record_size: int = 100, duration: float = 3.0,
               window: int = 1, sync: str = "fsync", sqpoll: bool = False, repeat: int = 1,
               directory: str | None = None, progress: Any = None) -> list[dict]:
    """Every (mode, connections, server) `repeat` times, the servers of one setting back to
    back (in a rotating order, so none always runs first), then the median of each figure:
    disk latency drifts on a shared machine, and side by side runs see the same drift."""
    runs: dict[tuple[str, int, str], list[dict]] = collections.defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="logd-bench-", dir=directory) as tmp:
        for mode in modes:
            for n in conns:
                for round_ in range(repeat):
                    order = list(servers[round_ % len(servers):]) + list(servers[:round_ % len(servers)])
                    for name in order:
                        row = _one_run(tmp, name, mode, n, record_size=record_size, duration=duration,
                                       window=window, sync=sync, sqpoll=sqpoll and name == "uring")
                        runs[(mode, n, name)].append(row)
                for name in servers:
                    if progress is not None:
                        progress(_median(runs[(mode, n, name)]))
    return [_median(runs[(mode, n, name)]) for mode in modes for n in conns for name in servers]


def sync_floor(directory: str | None = None, *, sync: str = "fsync", record_size: int = 100,
               duration: float = 1.0) -> dict:
    """The disk's floor for fsync per record: one thread appending `record_size`-byte records
    with pwrite, each followed by `sync`, for `duration` seconds. No server that syncs every
    record before acking it can use less CPU per record than this (it adds receiving,
    framing and acking), so its acks per CPU-second bound the record mode's figures. A row
    shaped like run_load's (server "floor", its latencies those of one write + sync)."""
    sync_fn = {"fsync": os.fsync, "fdatasync": os.fdatasync}[sync]
    record = make_record(0, 0, record_size)
    latencies = []
    with tempfile.NamedTemporaryFile(prefix="logd-floor-", dir=directory) as f:
        fd, offset = f.fileno(), 0
        cpu0, t0 = time.thread_time(), time.perf_counter()
        now = t0
        while now - t0 < duration:
            os.pwrite(fd, record, offset)
            sync_fn(fd)
            offset += record_size
            last, now = now, time.perf_counter()
            latencies.append(now - last)
        cpu, elapsed = time.thread_time() - cpu0, now - t0
    n = len(latencies)
    row = _load_row(1, 1, record_size, elapsed, n, n, cpu, latencies)
    row.update(server="floor", mode="record", sync=sync, fsyncs=n, records=n)
    return row


def _one_run(tmp: str, name: str, mode: str, conns: int, *, sync: str, sqpoll: bool, **load: Any) -> dict:
    log = os.path.join(tmp, f"{name}-{mode}-{conns}.log")
    proc, address = start_server(name, log, sync=sync, group_commit=mode == "group", sqpoll=sqpoll)
    try:
        row = run_load(address, conns=conns, pid=proc.pid, **load)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    stats = stop_server(proc)
    os.unlink(log)
    row.update(server=name, mode=mode, sync=sync, fsyncs=stats.get("fsyncs"), records=stats.get("records"))
    return row


def _median(rows: Sequence[dict]) -> dict:
    """The figures' medians over repeated runs (each figure on its own), and how many runs."""
    out = dict(rows[0])
    for key, value in rows[0].items():
        if isinstance(value, float):
            out[key] = statistics.median(r[key] for r in rows)
    out["runs"] = len(rows)
    return out


HEADER = (f"{'mode':<7}{'conns':>6} {'server':<11}{'records/s':>11}{'ack lines/s':>12}"
          f"{'acks/CPU-s':>12}{'p50 ms':>9}{'p99 ms':>9}{'vs asyncio':>11}{'vs uvloop':>10}")


def format_row(row: dict, rows: Sequence[dict] = ()) -> str:
    """One table line; the ratios compare acks per server CPU-second with the asyncio runs
    of the same mode and connection count found in `rows`."""
    def ratio(base: str) -> str:
        for other in rows:
            if (other["server"], other["mode"], other["conns"]) == (base, row["mode"], row["conns"]):
                if other["acks_per_cpu_s"] > 0 and other is not row:
                    return f"{row['acks_per_cpu_s'] / other['acks_per_cpu_s']:.2f}x"
        return "-"
    return (f"{row['mode']:<7}{row['conns']:>6} {row['server']:<11}{row['records_per_s']:>11,.0f}"
            f"{row['ack_lines_per_s']:>12,.0f}{row['acks_per_cpu_s']:>12,.0f}{row['p50_ms']:>9.2f}"
            f"{row['p99_ms']:>9.2f}{ratio('asyncio'):>11}{ratio('uvloop'):>10}")


def format_table(rows: Sequence[dict]) -> str:
    return "\n".join([HEADER] + [format_row(r, rows) for r in rows])
