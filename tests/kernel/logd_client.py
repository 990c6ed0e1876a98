"""A logd client for the end-to-end tests (the tests fork it as a process; it also runs as a
script): sends numbered records with a window of unacknowledged ones, reads acks."""

from __future__ import annotations

import socket
import sys
import time

from uring.logd.protocol import AckReader, make_record


def record_size(cid: int, seq: int) -> int:
    """Varied sizes (20..219 bytes) so a torn or interleaved record shows as a bad length."""
    return 20 + (seq * 37 + cid * 11) % 200


def record(cid: int, seq: int) -> bytes:
    return make_record(cid, seq, record_size(cid, seq))


def parse_log(data: bytes) -> dict[int, list[int]]:
    """{client: [seq, ...]} in file order; asserts every line is a whole, well-formed record."""
    seqs: dict[int, list[int]] = {}
    assert not data or data.endswith(b"\n"), f"torn tail: {data[-60:]!r}"
    for line in data.split(b"\n")[:-1]:
        cid_s, seq_s, _ = line.split(b" ", 2)
        cid, seq = int(cid_s), int(seq_s)
        assert line + b"\n" == record(cid, seq), f"torn or interleaved record: {line[:80]!r}"
        seqs.setdefault(cid, []).append(seq)
    return seqs


def run(host: str, port: int, cid: int, count: int, window: int = 16, partial: bool = False) -> int:
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    reader = AckReader()
    sent = 0
    while reader.acked < count:
        if sent < count and sent - reader.acked < window:
            n = min(count - sent, window - (sent - reader.acked))
            sock.sendall(b"".join(record(cid, sent + i) for i in range(n)))
            sent += n
        data = sock.recv(65536)
        if not data:
            break
        reader.feed(data)
    if partial:
        # Half a record, then wait to be killed: the server must neither write nor ack it.
        sock.sendall(record(cid, sent)[:-7])
        print("PARTIAL", reader.acked, flush=True)
        time.sleep(60)
    sock.shutdown(socket.SHUT_WR)
    while True:
        data = sock.recv(65536)
        if not data:
            break
        reader.feed(data)
    sock.close()
    return reader.acked


if __name__ == "__main__":
    host, port, cid, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    print(run(host, port, cid, count, partial="--partial" in sys.argv), flush=True)
