"""The logd protocol without a kernel: framing records out of any chunking of a stream, the
record limit, cumulative acks, torn-tail recovery, addresses and the bench table."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uring.logd.bench import format_row, format_table
from uring.logd.protocol import AckReader, Framer, RecordTooLong, ack_line, make_record, recover_log, too_long_line
from uring.logd.server import parse_address


def _feed_all(framer, chunks):
    out, count = [], 0
    for chunk in chunks:
        complete, n = framer.feed(chunk)
        out.append(complete)
        count += n
    return b"".join(out), count


def test_framer_returns_whole_records_and_keeps_the_rest():
    f = Framer(100)
    assert f.feed(b"ab") == (b"", 0)
    assert f.partial == 2
    assert f.feed(b"c\nde\nf") == (b"abc\nde\n", 2)
    assert f.partial == 1
    assert f.feed(b"\n") == (b"f\n", 1)
    assert f.partial == 0
    assert f.feed(b"") == (b"", 0)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")), min_size=1, max_size=20),
       st.data())
def test_any_chunking_gives_the_same_records(records, data):
    stream = b"".join(r + b"\n" for r in records) + b"tail"
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    chunks = [stream[a:b] for a, b in zip([0] + cuts, cuts + [len(stream)])]
    f = Framer(64)
    complete, count = _feed_all(f, chunks)
    assert complete == stream[:-4]
    assert count == len(records)
    assert f.partial == 4


@pytest.mark.parametrize("chunks", [
    [b"x" * 10],                      # one chunk without a newline reaching the limit
    [b"x" * 6, b"x" * 4],             # the limit reached across chunks
    [b"ok\n" + b"x" * 10],            # the bytes after the last newline
    [b"x" * 5, b"x" * 6 + b"\nok\n"],  # a complete line, long only once joined
    [b"ok\n" + b"x" * 11 + b"\n"],    # a complete line inside one long chunk
])
def test_record_longer_than_the_limit_is_refused(chunks):
    f = Framer(10)
    with pytest.raises(RecordTooLong):
        _feed_all(f, chunks)


def test_record_of_exactly_the_limit_is_accepted():
    f = Framer(10)
    assert f.feed(b"x" * 9 + b"\n") == (b"x" * 9 + b"\n", 1)
    assert f.feed(b"ab\n" + b"x" * 9 + b"\n") == (b"ab\n" + b"x" * 9 + b"\n", 2)


def test_framer_rejects_a_silly_limit():
    with pytest.raises(ValueError):
        Framer(1)


def test_ack_reader_keeps_the_latest_count():
    r = AckReader()
    assert r.feed(b"1\n2") == 1
    assert r.feed(b"0\n5\n") == 5
    assert r.feed(b"") == 5
    assert r.feed(b"ERR record longer than 9 bytes (newline included)\n") == 5
    assert r.error.startswith("ERR record longer")
    with pytest.raises(ValueError):
        r.feed(b"3\n")


def test_lines():
    assert ack_line(42) == b"42\n"
    assert too_long_line(1024) == b"ERR record longer than 1024 bytes (newline included)\n"


def test_make_record():
    rec = make_record(3, 17, 40)
    assert len(rec) == 40 and rec.startswith(b"3 17 ") and rec.endswith(b"x\n")
    with pytest.raises(ValueError):
        make_record(3, 17, 5)


@pytest.mark.parametrize("content,kept", [
    (b"", b""),
    (b"a\nb\n", b"a\nb\n"),
    (b"a\nb\nhalf", b"a\nb\n"),
    (b"no newline at all", b""),
    (b"a\n" + b"y" * 200_000, b"a\n"),   # the torn tail spans several read blocks
])
def test_recover_log_cuts_the_torn_tail(tmp_path, content, kept):
    path = tmp_path / "log"
    path.write_bytes(content)
    assert recover_log(str(path), block=4096) == (len(kept), len(content) - len(kept))
    assert path.read_bytes() == kept


def test_recover_log_creates_a_missing_log(tmp_path):
    assert recover_log(str(tmp_path / "new")) == (0, 0)
    assert (tmp_path / "new").exists()


@pytest.mark.parametrize("text,address", [
    ("127.0.0.1:9000", ("127.0.0.1", 9000)),
    (":9000", ("0.0.0.0", 9000)),
    ("[::1]:0", ("::1", 0)),
])
def test_parse_address(text, address):
    assert parse_address(text) == address


@pytest.mark.parametrize("text", ["localhost", "host:port", "1.2.3.4:"])
def test_parse_address_refuses(text):
    with pytest.raises(ValueError):
        parse_address(text)


def test_bench_table_ratios():
    def row(server, acks):
        return {"server": server, "mode": "group", "conns": 100, "records_per_s": 1000.0,
                "ack_lines_per_s": 900.0, "acks_per_cpu_s": acks, "p50_ms": 1.0, "p99_ms": 2.5}
    rows = [row("uring", 60000.0), row("asyncio", 20000.0), row("uvloop", 40000.0)]
    line = format_row(rows[0], rows)
    assert "60,000" in line and "3.00x" in line and "1.50x" in line
    assert format_table(rows).count("\n") == 3


def test_pending_records_group_and_per_record():
    from uring.logd.protocol import PendingRecords
    group = PendingRecords(True)
    assert not group
    group.add("a", b"1\n2\n", 2, 2)
    group.add("b", b"x\n", 1, 5)
    group.add("a", b"3\n", 1, 3)
    assert group.take_group() == (b"1\n2\nx\n3\n", {"a": 3, "b": 5})
    assert not group and group.take_group() == (b"", {})
    each = PendingRecords(False)
    each.add("a", b"1\n2\n", 2, 2)
    each.add("b", b"x\n", 1, 5)
    assert each.take_records(2) == [(b"1\n", "a", 1), (b"2\n", "a", 2)]
    assert each.take_records() == [(b"x\n", "b", 5)]
    each.add("a", b"3\n", 1, 3)
    each.clear()
    assert not each
