"""`uring demo`: a short live demonstration on the running kernel: a batch of reads,
then a linked read -> write -> fsync copy of a file, with the results printed."""
from __future__ import annotations

import os
import tempfile
import time

from uring import Ring, ops
from uring._uapi import SqeFlags


def run(args) -> int:
    with tempfile.TemporaryDirectory(prefix="uring-demo-") as tmp, Ring(64) as ring:
        src = os.path.join(tmp, "source.bin")
        dst = os.path.join(tmp, "copy.bin")
        payload = os.urandom(64 * 1024)
        with open(src, "wb") as f:
            f.write(payload)
        print(f"ring: {ring!r}")

        # 1. A batch of 16 reads of 4 KiB, submitted with one syscall.
        fd = os.open(src, os.O_RDONLY)
        try:
            bufs = [bytearray(4096) for _ in range(16)]
            t0 = time.perf_counter()
            batch = [ring.read(fd, b, None, i * 4096) for i, b in enumerate(bufs)]
            ring.wait_for(*batch)
            dt = time.perf_counter() - t0
            ok = all(bytes(b) == payload[i * 4096:(i + 1) * 4096] for i, b in enumerate(bufs))
            print(f"batch of {len(batch)} reads: results {[op.res for op in batch][:4]}... "
                  f"in {dt * 1e6:.0f} us, data {'verified' if ok else 'WRONG'}")
        finally:
            os.close(fd)

        # 2. A linked chain: read -> write -> fsync, one submit, three ordered CQEs.
        in_fd = os.open(src, os.O_RDONLY)
        out_fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            buf = bytearray(len(payload))
            order = []
            link = SqeFlags.IO_LINK
            chain = [
                ring.queue(ops.read(in_fd, buf, None, 0).set(flags=link)),
                ring.queue(ops.write(out_fd, buf, None, 0).set(flags=link)),
                ring.queue(ops.fsync(out_fd)),
            ]
            for name, op in zip(("read", "write", "fsync"), chain):
                op.callback = lambda op, res, flags, name=name: order.append((name, res))
            ring.wait_for(*chain)
            print(f"linked chain read -> write -> fsync: CQEs in order {order}")
        finally:
            os.close(in_fd)
            os.close(out_fd)
        with open(dst, "rb") as f:
            same = f.read() == payload
        print(f"copy {'matches' if same else 'DIFFERS FROM'} the source ({len(payload)} bytes)")

        # 3. An error surfaces as the OSError subclass Python would raise.
        missing = ring.queue(ops.openat(ops.AT_FDCWD, os.path.join(tmp, "missing"), os.O_RDONLY, 0))
        ring.submit_and_wait(1)
        try:
            missing.result
        except FileNotFoundError as exc:
            print(f"openat of a missing file: {type(exc).__name__}: {exc}")
        return 0 if ok and same else 1
