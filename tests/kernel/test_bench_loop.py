"""`uring bench loop`: the C echo server (the machine's limit beside the loops) echoes
exactly, and one short run reports every loop with its ratios to uvloop and to C."""

from __future__ import annotations

import json
import random
import shutil
import socket
import subprocess
import threading

import pytest

from uring.bench import c_program
from uring.loop import bench

needs_cc = pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler (cc)")


@needs_cc
@pytest.mark.parametrize("bufs,buf_size,bounded", [(256, 65536, 0), (4, 4096, 0), (256, 65536, 3), (4, 4096, 2)])
def test_c_echo_server_echoes_every_byte_in_order(bufs, buf_size, bounded):
    """Eight clients each send 300 KiB in random pieces while reading the echo. With 4 x 4
    KiB buffers the receives keep finding the ring empty (-ENOBUFS, re-armed when a send
    gives a buffer back) and a buffer holds less than a piece: nothing lost or reordered.
    With --bounded, readiness comes from a multishot poll and at most K one-shot receives
    go out per enter; a full buffer puts the connection back in line."""
    server = subprocess.Popen([c_program("echo_server"), "--bufs", str(bufs),
                               "--buf-size", str(buf_size), "--bounded", str(bounded)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert server.stdin is not None and server.stdout is not None
    try:
        port = int(server.stdout.readline())
        errors: list[BaseException] = []

        def client(seed: int) -> None:
            try:
                rng = random.Random(seed)
                data = rng.randbytes(300 * 1024)
                with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
                    got = bytearray()

                    def reader() -> None:
                        while len(got) < len(data):
                            chunk = sock.recv(65536)
                            if not chunk:
                                break
                            got.extend(chunk)

                    t = threading.Thread(target=reader)
                    t.start()
                    pos = 0
                    while pos < len(data):
                        n = rng.randrange(1, 70000)
                        sock.sendall(data[pos:pos + n])
                        pos += n
                    t.join(30)
                    assert bytes(got) == data
            except BaseException as exc:   # reported by the main thread
                errors.append(exc)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
    finally:
        server.stdin.close()   # EOF on stdin ends the server
        assert server.wait(timeout=10) == 0


@needs_cc
def test_short_run_reports_ratios_to_uvloop_and_c(capsys):
    pytest.importorskip("uvloop")
    assert bench.main(["--loops", "uvloop,uring,c", "--skip-micro", "--seconds", "0.3",
                       "--sizes", "1024", "--conns", "2", "--apis", "protocol", "--json"]) == 0
    rows = {r["loop"]: r for r in json.loads(capsys.readouterr().out)["echo"]}
    assert set(rows) == {"uvloop", "uring", "c"}
    for row in rows.values():
        assert row["rps"] > 0 and row["per_cpu_s"] > 0
        assert row["vs_uvloop"] == round(row["per_cpu_s"] / rows["uvloop"]["per_cpu_s"], 2)
        assert row["vs_c"] == round(row["per_cpu_s"] / rows["c"]["per_cpu_s"], 2)
        # The per-request split adds up to the rate per CPU-second (within its rounding).
        assert row["user_us"] >= 0 and row["sys_us"] > 0
        assert (row["user_us"] + row["sys_us"]) * row["per_cpu_s"] == pytest.approx(1e6, rel=0.05)
    assert rows["c"]["vs_c"] == 1.0 and rows["uvloop"]["vs_uvloop"] == 1.0


def test_round_ratios_give_the_spread_and_median_of_back_to_back_rounds():
    got = [{"per_cpu_s": 90.0}, {"per_cpu_s": 120.0}, {"per_cpu_s": 100.0}]
    uvloop = [{"per_cpu_s": 100.0}, {"per_cpu_s": 100.0}, {"per_cpu_s": 125.0}]
    # Per round: 0.90, 1.20, 0.80. The ratio of the medians would be 100 / 100 = 1.0.
    assert bench._round_ratios(got, uvloop) == {"vs_uvloop_rounds": "0.80-1.20",
                                                "vs_uvloop_paired": 0.9}
    assert bench._round_ratios(got[:1], uvloop[:1]) == {}
    assert bench._round_ratios(got, None) == {}


def test_variant_is_the_loop_with_class_attributes_changed():
    from uring.loop import EventLoop
    name, attrs = bench.parse_variant("pe8:_recv_per_enter=8,_recv_bounded_after=0")
    assert (name, attrs) == ("pe8", {"_recv_per_enter": 8, "_recv_bounded_after": 0})
    loop = bench._loop_factory("pe8", {name: attrs})()
    try:
        assert isinstance(loop, EventLoop)
        assert loop._recv_per_enter == 8 and loop._recv_bounded_after == 0
        assert "_recv_per_enter" not in vars(loop)      # a class attribute, as in EventLoop
    finally:
        loop.close()
    assert EventLoop._recv_per_enter != 8 or EventLoop._recv_bounded_after != 0


@pytest.mark.parametrize("spec,message", [
    ("pe8", "expected NAME:ATTR=VALUE"),
    ("uvloop:_recv_per_enter=8", "'uvloop' is taken"),
    ("x:_no_such_knob=1", "not an EventLoop attribute"),
    ("x:_recv_per_enter", "expected ATTR=VALUE"),
    ("x:_recv_per_enter=eight", "not a Python literal"),
])
def test_bad_variant_is_refused_with_its_reason(spec, message, capsys):
    with pytest.raises(SystemExit):
        bench.main(["--variant", spec, "--skip-echo", "--skip-micro"])
    assert message in capsys.readouterr().err


@needs_cc
def test_variant_runs_as_a_column_of_its_own(capsys):
    pytest.importorskip("uvloop")
    assert bench.main(["--loops", "uvloop,uring", "--variant", "pe1:_recv_per_enter=1",
                       "--skip-micro", "--seconds", "0.3", "--sizes", "65536", "--conns", "2",
                       "--apis", "protocol", "--repeat", "2", "--json"]) == 0
    rows = {r["loop"]: r for r in json.loads(capsys.readouterr().out)["echo"]}
    assert set(rows) == {"uvloop", "uring", "pe1"}
    assert rows["pe1"]["rps"] > 0 and rows["pe1"]["vs_uvloop_paired"] > 0


@pytest.mark.parametrize("name", ["c", "c-bounded"])
def test_c_is_not_an_event_loop(name):
    with pytest.raises(ValueError, match="C echo server"):
        bench._loop_factory(name)


@needs_cc
def test_bounded_c_server_runs_as_a_column(capsys):
    assert bench.main(["--loops", "c,c-bounded", "--skip-micro", "--seconds", "0.3", "--sizes", "65536",
                       "--conns", "3", "--apis", "protocol", "--json"]) == 0
    rows = {r["loop"]: r for r in json.loads(capsys.readouterr().out)["echo"]}
    assert set(rows) == {"c", "c-bounded"}
    assert all(r["rps"] > 0 and r["vs_c"] > 0 for r in rows.values())
