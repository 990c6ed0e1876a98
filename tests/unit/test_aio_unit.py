"""uring.aio pieces that need no kernel: mode parsing against io.open, the generated
wrappers' coverage of the ops table, configure() validation, the error classes."""

from __future__ import annotations

import io
import os

import pytest

from uring import aio, ops
from uring.aio.files import _parse_mode

MODES = ["r", "rb", "w", "wb", "a", "ab", "x", "xb", "r+", "r+b", "w+", "w+b", "a+", "a+b", "rt", "wt",
         "rw", "rr", "", "q", "rbt", "b", "t", "+", "ra", "xa", "r++"]


@pytest.mark.parametrize("mode", MODES)
def test_mode_parsing_matches_io_open(mode, tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"")
    try:
        expected = io.open(path if "x" not in mode else tmp_path / f"new{len(mode)}", mode)
    except ValueError as exc:
        with pytest.raises(ValueError) as ours:
            _parse_mode(mode)
        assert str(ours.value) == str(exc)
        return
    with expected:
        flags, readable, writable, binary, append = _parse_mode(mode)
        assert (readable, writable) == (expected.readable(), expected.writable())
        assert binary == ("b" in mode)
        assert append == ("a" in mode)
        assert flags & os.O_CLOEXEC


def test_generated_wrappers_cover_the_ops_table():
    for name, prep in ops.helpers().items():
        wrapper = getattr(aio, name)
        assert callable(wrapper), name
        assert wrapper.__doc__, name
    assert aio.recv_multishot.__name__ == "recv_multishot"


def test_configure_validates():
    with pytest.raises(ValueError):
        aio.configure(entries=0)
    with pytest.raises(ValueError):
        aio.configure(entries="x")


def test_timed_out_is_both_a_link_timeout_and_a_timeout_error():
    from uring import LinkTimedOut
    err = aio.TimedOut(62, "timed out")
    assert isinstance(err, LinkTimedOut) and isinstance(err, TimeoutError)


def test_awaitables_need_a_running_loop():
    with pytest.raises(RuntimeError):
        aio.nop()
