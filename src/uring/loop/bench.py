"""`uring bench loop`: TCP echo (a C client in its own process) and scheduling/file micro
benchmarks for asyncio, uvloop and uring.EventLoop, measured side by side in one run.

Every figure is per CPU time of the process under test (echo: requests per server
CPU-second; micro: CPU ns per operation, reads per CPU-second), so a machine shared with
other work slows all loops alike instead of whichever ran when the load peaked."""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable

__all__ = ["main"]

LOOPS = ("asyncio", "uvloop", "uring")
# Not a loop: the same echo server in C on a raw ring (uring/_bench_c/echo_server.c), the
# machine's limit beside the loops in each echo cell (both APIs: it serves them alike).
C_SERVER = "c"
# The C server with --bounded 20: readiness from a multishot poll and at most 20 one-shot
# receives per enter, so each batch's data is still in cache when its replies are sent
# (docs/loop.md). Not in the default list.
C_BOUNDED = "c-bounded"
C_SERVERS = {C_SERVER: [], C_BOUNDED: ["--bounded", "20"]}


def parse_variant(spec: str) -> tuple[str, dict[str, Any]]:
    """`--variant NAME:ATTR=VALUE[,ATTR=VALUE...]`: a column NAME that is uring.EventLoop
    with those class attributes changed (VALUE a Python literal), so a change to the loop
    is measured side by side with the loop as it is, in the same rounds."""
    from uring.loop import EventLoop
    name, sep, assignments = spec.partition(":")
    if not sep or not name or not assignments:
        raise ValueError(f"--variant {spec!r}: expected NAME:ATTR=VALUE[,ATTR=VALUE...]")
    if name in LOOPS or name in C_SERVERS:
        raise ValueError(f"--variant {spec!r}: {name!r} is taken")
    attrs: dict[str, Any] = {}
    for item in assignments.split(","):
        attr, eq, value = item.partition("=")
        if not eq:
            raise ValueError(f"--variant {spec!r}: expected ATTR=VALUE, got {item!r}")
        if not hasattr(EventLoop, attr):
            raise ValueError(f"--variant {spec!r}: {attr!r} is not an EventLoop attribute")
        try:
            attrs[attr] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            raise ValueError(f"--variant {spec!r}: {value!r} is not a Python literal") from None
    return name, attrs


def _loop_factory(name: str, variants: dict[str, dict[str, Any]] | None = None
                  ) -> Callable[[], asyncio.AbstractEventLoop]:
    if variants and name in variants:
        from uring.loop import EventLoop
        # A subclass, not attributes set on an instance: what the class sets stays where
        # the loop's code finds it (an instance dict slows every attribute on 3.13).
        return type(f"EventLoop_{name}", (EventLoop,), dict(variants[name]))
    if name in C_SERVERS:
        raise ValueError(f"{name!r} is the C echo server, not an event loop")
    if name == "asyncio":
        return asyncio.SelectorEventLoop
    if name == "uvloop":
        import uvloop
        return uvloop.new_event_loop
    if name == "uring":
        from uring.loop import new_event_loop
        return new_event_loop
    raise ValueError(f"unknown loop {name!r} (choose from {', '.join(LOOPS)})")


# -- the server side (runs in a child process) ------------------------------------------

class _EchoProtocol(asyncio.Protocol):
    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)


async def _echo_stream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await reader.read(262144)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass   # the client went away, or the server is shutting down
    finally:
        writer.close()
        try:
            # A reset also lands in the stream's close future; awaiting it here retrieves
            # it. Left alone it is logged as "Future exception was never retrieved"
            # whenever the garbage collector finalizes that future before its protocol
            # (they are in one cycle through the exception's traceback).
            await writer.wait_closed()
        except (ConnectionError, asyncio.CancelledError):
            pass


def _serve(loop_name: str, api: str, variants: dict[str, dict[str, Any]] | None = None) -> int:
    loop = _loop_factory(loop_name, variants)()
    asyncio.set_event_loop(loop)

    async def start() -> Any:
        if api == "protocol":
            return await loop.create_server(_EchoProtocol, "127.0.0.1", 0, backlog=1024)
        return await asyncio.start_server(_echo_stream, "127.0.0.1", 0, backlog=1024)

    server = loop.run_until_complete(start())
    print(server.sockets[0].getsockname()[1], flush=True)
    # The parent closes our stdin when it is done with us.
    def parent_done() -> None:
        loop.remove_reader(sys.stdin.fileno())
        loop.stop()

    loop.add_reader(sys.stdin.fileno(), parent_done)
    loop.run_forever()
    server.close()
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    loop.close()
    return 0


# -- the measuring side -----------------------------------------------------------------

def echo_cell(loop_name: str, api: str, size: int, conns: int, seconds: float,
              warmup: float = 0.5, variant: str | None = None) -> dict:
    """One run: a server process on `loop_name` (or the C server; `variant`: the
    --variant spec that defines it), the C client against it."""
    # Not imported by the server processes (--serve).
    from uring.bench import c_program, process_cpu
    if loop_name in C_SERVERS:
        command = [c_program("echo_server"), *C_SERVERS[loop_name]]
    else:
        command = [sys.executable, "-m", "uring.loop.bench", "--serve", loop_name, api]
        if variant is not None:
            command += ["--variant", variant]
    server = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert server.stdin is not None and server.stdout is not None
    try:
        port = int(server.stdout.readline())
        client = subprocess.Popen([c_program("echo_client"), "127.0.0.1", str(port), str(conns), str(size),
                                   str(seconds), str(warmup)], stdout=subprocess.PIPE, text=True)
        time.sleep(warmup)
        cpu0 = process_cpu(server.pid)
        out, _ = client.communicate(timeout=seconds + warmup + 60)
        user, system = (b - a for a, b in zip(cpu0, process_cpu(server.pid)))
        cpu = user + system
    finally:
        server.stdin.close()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    if client.returncode != 0:
        raise RuntimeError(f"echo client failed against {loop_name} {api} {size}B x{conns}")
    stats = dict(kv.split("=") for kv in out.split())
    requests = int(stats["requests"])
    # Where the server's CPU goes per request: user space (the loop, Python) against the
    # kernel (TCP, copies, io_uring), which the C server's column shows at its floor.
    per_request = 1e6 / requests if requests else 0.0
    return {"rps": requests / seconds, "per_cpu_s": requests / cpu if cpu > 0 else 0.0,
            "p99_us": float(stats["p99_us"]), "server_cpu": cpu / seconds,
            "user_us": user * per_request, "sys_us": system * per_request}


def _chain(loop: asyncio.AbstractEventLoop, n: int) -> float:
    left = [n]
    done = loop.create_future()

    def step() -> None:
        left[0] -= 1
        if left[0]:
            loop.call_soon(step)
        else:
            done.set_result(None)

    t0 = time.process_time()
    loop.call_soon(step)
    loop.run_until_complete(done)
    return (time.process_time() - t0) / n * 1e9


def _ping_pong(loop: asyncio.AbstractEventLoop, n: int) -> float:
    async def worker() -> None:
        for _ in range(n // 2):
            await asyncio.sleep(0)

    async def both() -> None:
        await asyncio.gather(worker(), worker())

    t0 = time.process_time()
    loop.run_until_complete(both())
    return (time.process_time() - t0) / n * 1e9


def _file_reads(path: str, size: int, reads: int, tasks: int = 64) -> dict:
    """reads/s of `tasks` tasks doing random 4 KiB reads on our loop: `await uring.aio.read`
    (queued on the loop's ring, completed in its own wait), and a blocking os.pread in the
    task, yielding after each read or not at all."""
    from uring import aio
    from uring.loop import new_event_loop
    loop = new_event_loop()
    fd = os.open(path, os.O_RDONLY)
    rng = random.Random(1)
    blocks = size // 4096
    offsets = [rng.randrange(blocks) * 4096 for _ in range(reads)]
    per_task = reads // tasks

    async def ring_task(k: int) -> None:
        buf = bytearray(4096)
        for off in offsets[k * per_task:(k + 1) * per_task]:
            await aio.read(fd, buf, 4096, off)

    async def pread_task(k: int) -> None:
        for off in offsets[k * per_task:(k + 1) * per_task]:
            os.pread(fd, 4096, off)
            await asyncio.sleep(0)   # each read is its own step, as an awaited read is

    async def pread_tight_task(k: int) -> None:
        for off in offsets[k * per_task:(k + 1) * per_task]:
            os.pread(fd, 4096, off)

    out = {}
    try:
        for name, body in (("ring", ring_task), ("pread", pread_task), ("pread_tight", pread_tight_task)):
            async def run_all() -> None:
                await asyncio.gather(*(body(k) for k in range(tasks)))
            t0 = time.process_time()
            loop.run_until_complete(run_all())
            out[name] = per_task * tasks / (time.process_time() - t0)
        return out
    finally:
        os.close(fd)
        loop.close()


def _round_ratios(got: list[dict], uvloop: list[dict] | None) -> dict[str, Any]:
    """The loop's requests per server CPU-second over uvloop's in each round (the two ran
    back to back in it): "LOW-HIGH", so one reads how far a cell's ratio can be trusted,
    and their median, which a load that drifts between rounds moves less than the ratio
    of the two medians. Empty for a single round, or without uvloop."""
    if not uvloop or len(got) < 2:
        return {}
    ratios = [a["per_cpu_s"] / b["per_cpu_s"] for a, b in zip(got, uvloop) if b["per_cpu_s"] > 0]
    if not ratios:
        return {}
    return {"vs_uvloop_rounds": f"{min(ratios):.2f}-{max(ratios):.2f}",
            "vs_uvloop_paired": round(statistics.median(ratios), 2)}


def _add_ratios(rows: list[dict]) -> None:
    """Each row's requests per server CPU-second over uvloop's and the C server's in the same
    cell (medians of the same rounds), where those were measured."""
    for ref, key in (("uvloop", "vs_uvloop"), (C_SERVER, "vs_c")):
        base = {(r["api"], r["size"], r["conns"]): r["per_cpu_s"] for r in rows if r["loop"] == ref}
        if not base:
            continue
        for r in rows:
            other = base.get((r["api"], r["size"], r["conns"]))
            r[key] = round(r["per_cpu_s"] / other, 2) if other else None


def _table(rows: list[dict], keys: list[str]) -> str:
    widths = {k: max(len(k), *(len(str(r.get(k, ""))) for r in rows)) for k in keys}
    lines = ["  ".join(k.ljust(widths[k]) for k in keys)]
    lines += ["  ".join(str(r.get(k, "")).ljust(widths[k]) for k in keys) for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="uring bench loop", description=__doc__)
    parser.add_argument("--loops", default=",".join(LOOPS + (C_SERVER,)),
                        help=f"event loops to measure, and {C_SERVER!r}: the C echo server (echo only; "
                             f"{C_BOUNDED!r}: it with bounded receives)")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME:ATTR=VALUE,...",
                        help="add a column NAME to --loops: uring.EventLoop with these class "
                             "attributes changed (repeatable)")
    parser.add_argument("--seconds", type=float, default=2.0, help="measured seconds per echo run")
    parser.add_argument("--repeat", type=int, default=1, help="rounds (medians are reported)")
    parser.add_argument("--sizes", default="1024,65536")
    parser.add_argument("--conns", default="10,100")
    parser.add_argument("--apis", default="protocol,streams")
    parser.add_argument("--micro-n", type=int, default=200_000)
    parser.add_argument("--skip-echo", action="store_true")
    parser.add_argument("--skip-micro", action="store_true")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--serve", nargs=2, metavar=("LOOP", "API"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    variants: dict[str, dict[str, Any]] = {}
    specs: dict[str, str] = {}
    for spec in args.variant:
        try:
            name, attrs = parse_variant(spec)
        except ValueError as exc:
            parser.error(str(exc))
        variants[name], specs[name] = attrs, spec
    if args.serve:
        loop_name, api = args.serve
        return _serve(loop_name, api, variants)
    loops = args.loops.split(",")
    loops += [name for name in variants if name not in loops]
    for name in loops:
        if name not in C_SERVERS:
            _loop_factory(name, variants)
    result: dict[str, Any] = {"python": sys.version.split()[0], "loops": loops,
                              "seconds": args.seconds, "repeat": args.repeat, "echo": [], "micro": {}}
    if not args.skip_echo:
        cells = [(api, int(size), int(conns)) for api in args.apis.split(",")
                 for size in args.sizes.split(",") for conns in args.conns.split(",")]
        runs: dict[tuple, list[dict]] = {}
        for _ in range(args.repeat):
            for cell in cells:
                for name in loops:   # side by side: every loop in each round
                    runs.setdefault(cell + (name,), []).append(
                        echo_cell(name, *cell, args.seconds, variant=specs.get(name)))
        for (api, size, conns, name), got in runs.items():
            spread = _round_ratios(got, runs.get((api, size, conns, "uvloop")))
            result["echo"].append({
                "api": api, "size": size, "conns": conns, "loop": name,
                "rps": round(statistics.median(r["rps"] for r in got)),
                "per_cpu_s": round(statistics.median(r["per_cpu_s"] for r in got)),
                "p99_us": round(statistics.median(r["p99_us"] for r in got), 1),
                "user_us": round(statistics.median(r["user_us"] for r in got), 1),
                "sys_us": round(statistics.median(r["sys_us"] for r in got), 1),
                **spread})
        _add_ratios(result["echo"])
    if not args.skip_micro:
        micro: dict[str, dict] = {}
        for _ in range(args.repeat):
            for name in loops:
                if name in C_SERVERS:
                    continue
                loop = _loop_factory(name, variants)()
                try:
                    m = micro.setdefault(name, {"call_soon_ns": [], "sleep0_ns": []})
                    m["call_soon_ns"].append(_chain(loop, args.micro_n))
                    m["sleep0_ns"].append(_ping_pong(loop, args.micro_n))
                finally:
                    loop.close()
        for name, m in micro.items():
            result["micro"][name] = {k: round(statistics.median(v)) for k, v in m.items()}
        with tempfile.NamedTemporaryFile(dir=os.environ.get("TMPDIR", "/tmp")) as f:
            size = 64 << 20
            f.write(os.urandom(size))
            f.flush()
            reads = [_file_reads(f.name, size, 64 * 1000) for _ in range(args.repeat)]
        med = {k: statistics.median(r[k] for r in reads) for k in reads[0]}
        result["micro"]["file_reads"] = {
            "ring_per_s": round(med["ring"]), "pread_yield_per_s": round(med["pread"]),
            "pread_tight_per_s": round(med["pread_tight"]),
            "ring_vs_pread_yield": round(med["ring"] / med["pread"], 2),
            "ring_vs_pread_tight": round(med["ring"] / med["pread_tight"], 2)}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    if result["echo"]:
        keys = ["api", "size", "conns", "loop", "rps", "per_cpu_s", "user_us", "sys_us", "p99_us"]
        keys += [k for k in ("vs_uvloop", "vs_uvloop_paired", "vs_uvloop_rounds", "vs_c")
                 if any(k in r for r in result["echo"])]
        print(_table(result["echo"], keys))
    for name, m in result["micro"].items():
        print(name, m)
    return 0


if __name__ == "__main__":
    sys.exit(main())
