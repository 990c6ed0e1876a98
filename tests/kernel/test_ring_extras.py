"""The ring-level tools of issue #6 against the kernel: bounded peek, muting the registered
eventfd, CQE32 extras, sync MSG_RING, entering through a registered ring fd, and the
compiled send/recv/recv_multishot/accept fast paths."""

from __future__ import annotations

import errno
import os
import select
import socket

import pytest

from uring import Ring, ops
from uring._core import sync_msg_ring
from uring._uapi import CqeFlags, SetupFlags
from uring.bufring import BufferRing

F_MORE = int(CqeFlags.MORE)
F_BUFFER = int(CqeFlags.BUFFER)


def test_peek_takes_at_most_max(ring):
    queued = [ring.nop() for _ in range(10)]
    ring.submit()
    assert ring.peek(max=0) == 0
    assert ring.peek(max=3) == 3
    assert sum(op.done for op in queued) == 3
    assert ring.peek(max=4) == 4
    assert ring.peek() == 3 and all(op.done for op in queued)
    with pytest.raises(ValueError):
        ring.peek(max=-1)


def test_cq_eventfd_toggle_mutes_the_eventfd(ring, fds):
    efd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
    fds.append(efd)
    ring.register_eventfd(efd)
    try:
        assert ring.cq_eventfd_enabled
        ring.cq_eventfd_enabled = False
        ring.nop()
        ring.submit_and_wait(1)
        assert select.select([efd], [], [], 0)[0] == []       # muted: no signal
        ring.cq_eventfd_toggle(True)
        assert ring.cq_eventfd_enabled
        ring.nop()
        ring.submit_and_wait(1)
        assert select.select([efd], [], [], 1)[0] == [efd]
        assert os.eventfd_read(efd) >= 1
    finally:
        ring.unregister_eventfd()


def test_cqe32_rings_expose_the_extra_bytes(make_ring):
    ring = make_ring(8, flags=SetupFlags.CQE32)
    op = ring.nop()
    ring.submit_and_wait(1)
    assert op.cqe_extra == (0, 0)
    plain = make_ring(8)
    op = plain.nop()
    plain.submit_and_wait(1)
    assert op.cqe_extra is None


def test_sync_msg_ring_posts_without_a_source_ring(ring):
    got = []
    ring.foreign_cqe_handler = lambda user_data, res, flags: got.append((user_data, res))
    assert sync_msg_ring(ops.msg_ring(ring, 42, 0x1234)) == 0
    ring.peek()
    assert got == [(0x1234, 42)]
    with pytest.raises(ValueError):
        sync_msg_ring(ops.nop())


def test_enter_goes_through_the_registered_ring_fd(ring):
    index = ring.register_ring_fd()
    assert index >= 0
    ops_ = [ring.nop() for _ in range(4)]
    assert ring.submit_and_wait(4) == 4 and all(op.res == 0 for op in ops_)
    ring.unregister_ring_fd()
    op = ring.nop()
    assert ring.submit_and_wait(1) == 1 and op.res == 0


def test_send_recv_fast_paths(ring):
    a, b = socket.socketpair()
    with a, b:
        out = bytearray(16)
        sent = ring.send(a.fileno(), b"hello", context="s")
        got = ring.recv(b.fileno(), out)
        assert ring.wait_for(sent, got) == [5, 5]
        assert bytes(out[:5]) == b"hello" and sent.context == "s"
        assert bytes(ring._peek_sqe(1))[0] == 27        # IORING_OP_RECV written in place
        empty = ring.recv(b.fileno(), bytearray(4), socket.MSG_DONTWAIT)   # the flags reach the kernel
        with pytest.raises(BlockingIOError):
            ring.wait_for(empty, timeout=5)
    with pytest.raises(ValueError):
        ring.send(0, b"x", -1)
    with pytest.raises(TypeError):
        ring.recv(0, b"read-only")


def test_send_with_common_fields_takes_the_generic_route(ring):
    a, b = socket.socketpair()
    with a, b:
        op = ring.send(a.fileno(), b"abc", personality=0)
        assert ring.wait_for(op) == [3] and b.recv(3) == b"abc"


def test_recv_multishot_fast_path_with_a_buffer_ring(ring):
    a, b = socket.socketpair()
    with a, b, BufferRing(ring, bgid=2, entries=4, buf_size=64) as br:
        seen = []

        def on_cqe(op, res, flags):
            if res > 0:
                bid, data = br.from_cqe(res, flags)
                seen.append(bytes(data))
                br.recycle(bid)
            else:
                seen.append(res)

        op = ring.recv_multishot(b.fileno(), buf_group=br, callback=on_cqe)
        for i in range(6):
            a.send(b"m%d" % i)
            ring.submit_and_wait(1, timeout=5)
        a.shutdown(socket.SHUT_WR)
        ring.wait_for(op, timeout=5)
        assert seen == [b"m%d" % i for i in range(6)] + [0]


def test_recv_select_fast_path_and_requeue(ring):
    """A one-shot receive into the kernel's pick from a buffer group, queued again with
    requeue(): the same SQE each time (fd, length, MSG_* flags, group), the same Op."""
    a, b = socket.socketpair()
    with a, b, BufferRing(ring, bgid=5, entries=4, buf_size=64) as br:
        op = ring.recv_select(b.fileno(), 8, socket.MSG_DONTWAIT, buf_group=br, context="c")
        with pytest.raises(BlockingIOError):          # MSG_DONTWAIT reached the kernel
            ring.wait_for(op, timeout=5)
        got = []
        a.send(b"first-part")
        for word in (None, None, b"second"):
            if word:
                a.send(word)
            assert ring.requeue(op) is op
            ring.wait_for(op, timeout=5)
            assert op.cqe_flags & F_BUFFER and not op.cqe_flags & F_MORE
            bid, data = br.from_cqe(op.res, op.cqe_flags)
            got.append(bytes(data))
            br.recycle(bid)
        assert got == [b"first-pa", b"rt", b"second"] and op.context == "c"   # at most nbytes
        with pytest.raises(ValueError, match="still in flight"):
            ring.requeue(ring.recv_select(b.fileno(), 0, buf_group=br))
        a.close()                                      # ends the one still in flight
        ring.submit_and_wait(1, timeout=5)
    with pytest.raises(ValueError):
        ring.recv_select(0, 8, buf_group=70000)
    with pytest.raises(ValueError):
        ring.recv_select(0, -1, buf_group=1)


def test_requeue_repeats_a_multishot_recv(ring):
    a, b = socket.socketpair()
    with a, b, BufferRing(ring, bgid=6, entries=2, buf_size=16) as br:
        seen = []
        op = ring.recv_multishot(b.fileno(), buf_group=br, callback=lambda op, res, flags: seen.append(res))
        a.send(b"x" * 40)                              # 2 buffers: ENOBUFS ends it
        while not op.done:
            ring.submit_and_wait(1, timeout=5)
        assert seen == [16, 16, -errno.ENOBUFS]
        br.recycle(0)
        br.recycle(1)
        seen.clear()
        op.callback = lambda op, res, flags: seen.append(res)   # the final CQE dropped it
        ring.requeue(op)
        a.shutdown(socket.SHUT_WR)
        while not op.done:
            ring.submit_and_wait(1, timeout=5)
        assert seen == [8, 0]                          # still multishot: data, then EOF


def test_accept_fast_path_and_its_fallback(ring, listener, fds):
    port = listener.getsockname()[1]
    c1 = socket.create_connection(("127.0.0.1", port))
    c2 = socket.create_connection(("127.0.0.1", port))
    with c1, c2:
        fast = ring.accept(listener.fileno(), os.O_CLOEXEC)
        slow = ring.accept(listener.fileno(), want_address=True)
        fd1, fd2 = ring.wait_for(fast, slow, timeout=5)
        fds.extend((fd1, fd2))
        assert slow.out.address[0] == "127.0.0.1"
        assert os.get_inheritable(fd1) is False
    with pytest.raises(ValueError):
        ring.accept(listener.fileno(), 0x1)


def test_requeue_many_rearms_nops_without_offsets(ring):
    nops = [ring.nop() for _ in range(4)]
    ring.wait_for(*nops)
    first = [op.user_data for op in nops]
    assert ring.requeue_many(nops) == 4
    assert ring.in_flight == 4 and not any(op.done for op in nops)
    assert ring.wait_for(*nops) == [0, 0, 0, 0]
    assert all(op.user_data != ud for op, ud in zip(nops, first))


def test_requeue_cycle_reads_every_offset_once(ring, tmp_file):
    path, data = tmp_file
    fd = os.open(path, os.O_RDONLY)
    try:
        seen = {}
        bufs = [bytearray(4096) for _ in range(4)]
        offsets = [i * 4096 for i in range(16)]
        reads = [ring.read(fd, b, 4096, off) for b, off in zip(bufs, offsets[:4])]
        # a completed read is re-armed in C at the next offset until the offsets run out
        assert ring.requeue_cycle(reads, iter(offsets[4:]), 1000, expect=4096) == 16
        ring.wait_for(*reads)   # the ops that were still in flight when the offsets ran out
        for op, buf in zip(reads, bufs):
            assert op.result == 4096
            seen[bytes(buf)] = True
        assert all(data[o:o + 4096] in seen for o in offsets[12:])
        # a limit stops early and leaves the rest in flight
        again = ring.requeue_many(reads, offsets[:4])
        assert again == 4
        handled = ring.requeue_cycle(reads, iter(offsets), 2)
        assert 2 <= handled <= 4   # completions beyond the limit are counted, not re-armed
        ring.wait_for(*reads)
    finally:
        os.close(fd)


def test_requeue_cycle_stops_at_an_unexpected_result(ring, tmp_file):
    path, data = tmp_file
    fd = os.open(path, os.O_RDONLY)
    try:
        op = ring.read(fd, bytearray(4096), 4096, len(data) - 100)   # a short read: 100
        assert ring.requeue_cycle([op], iter([0, 4096]), 10, expect=4096) == 0
        assert op.done and op.result == 100
        with pytest.raises(TypeError, match="Op objects"):
            ring.requeue_cycle([object()], iter([]), 1)
        nops = [ring.nop() for _ in range(2)]
        assert ring.requeue_cycle(nops, iter([0] * 6), 100) == 8   # 2 first runs + 6 re-arms
        ring.wait_for(*nops)
    finally:
        os.close(fd)
