"""Readiness through the ring: one-shot and multishot poll, poll_remove, poll_update,
sockets, and epoll_ctl/epoll_wait."""

from __future__ import annotations

import errno
import os
import select
import socket

import pytest

from tests.conftest import require_op
from uring import ops
from uring._uapi import CqeFlags, Opcode, PollFlags

F_MORE = int(CqeFlags.MORE)


@pytest.fixture
def sockpair(fd_guard):
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


@pytest.fixture
def epoll(fd_guard):
    ep = select.epoll()
    yield ep
    ep.close()


def settle(ring, op):
    """Submit and let the kernel act; the op must still be waiting afterwards."""
    ring.submit()
    ring.submit_and_wait(1, timeout=0.05)
    assert not op.done


def wait_all(ring, *op_list):
    ring.submit()
    while not all(op.done for op in op_list):
        ring.submit_and_wait(1, timeout=5)


def test_poll_add_fires_when_pipe_becomes_readable(ring, pipe):
    r, w = pipe
    op = ring.poll_add(r, select.POLLIN)
    settle(ring, op)
    os.write(w, b"x")
    wait_all(ring, op)
    assert (op.res, op.cqe_flags) == (select.POLLIN, 0)
    assert op.take_cqes() == []


def test_poll_add_ready_at_once_reports_only_requested_events(ring, sockpair):
    a, _ = sockpair
    writable = ring.queue(ops.poll_add(a.fileno(), select.POLLIN | select.POLLOUT))
    wait_all(ring, writable)
    assert (writable.res, writable.cqe_flags) == (select.POLLOUT, 0)


def test_poll_on_socketpair_data_and_hangup(ring, sockpair):
    a, b = sockpair
    readable = ring.poll_add(a.fileno(), select.POLLIN)
    settle(ring, readable)
    b.send(b"ping")
    wait_all(ring, readable)
    assert (readable.res, readable.cqe_flags) == (select.POLLIN, 0)
    assert a.recv(10) == b"ping"
    hangup = ring.poll_add(a.fileno(), select.POLLRDHUP)
    settle(ring, hangup)
    b.shutdown(socket.SHUT_WR)
    wait_all(ring, hangup)
    # POLLIN comes with it (EOF is readable) only if asked for; POLLHUP is never masked.
    assert hangup.res == select.POLLRDHUP
    b.close()
    closed = ring.poll_add(a.fileno(), select.POLLIN | select.POLLRDHUP)
    wait_all(ring, closed)
    assert closed.res == select.POLLIN | select.POLLRDHUP | select.POLLHUP


def test_poll_multishot_then_remove(ring, pipe):
    r, w = pipe
    ring.completions = []
    try:
        poll = ring.poll_multishot(r, select.POLLIN)
        settle(ring, poll)
        for _ in range(3):
            os.write(w, b"x")
            ring.submit_and_wait(1, timeout=5)
            os.read(r, 10)  # empty again, so the next write is a new edge
        assert poll.take_cqes() == [(select.POLLIN, F_MORE)] * 3
        assert not poll.done
        remove = ring.poll_remove(poll)
        wait_all(ring, remove, poll)
        assert ring.completions == [remove, poll]
    finally:
        ring.completions = None
    assert (remove.res, remove.cqe_flags) == (0, 0)
    assert (poll.res, poll.cqe_flags) == (-errno.ECANCELED, 0)
    assert poll.take_cqes() == []
    with pytest.raises(OSError) as info:
        poll.result
    assert info.value.errno == errno.ECANCELED


def test_poll_multishot_callback_sees_every_cqe(ring, pipe):
    r, w = pipe
    seen = []
    poll = ring.queue(ops.poll_multishot(r, select.POLLIN))
    poll.callback = lambda op, res, flags: seen.append((res, flags))
    settle(ring, poll)
    os.write(w, b"a")
    ring.submit_and_wait(1, timeout=5)
    os.read(r, 1)
    remove = ring.queue(ops.poll_remove(poll.user_data))  # a raw user_data works too
    wait_all(ring, remove, poll)
    assert seen == [(select.POLLIN, F_MORE), (-errno.ECANCELED, 0)]
    assert poll.callback is None  # dropped after the final CQE
    assert remove.res == 0


def test_poll_remove_unknown_is_enoent(ring):
    missing = ring.poll_remove(0x1234)
    wait_all(ring, missing)
    assert (missing.res, missing.cqe_flags) == (-errno.ENOENT, 0)
    with pytest.raises(FileNotFoundError):
        missing.result


def test_poll_update_changes_the_mask(ring, sockpair):
    a, _ = sockpair
    ring.completions = []
    try:
        poll = ring.poll_add(a.fileno(), select.POLLIN)
        settle(ring, poll)
        update = ring.poll_update(poll, poll, select.POLLOUT, PollFlags.UPDATE_EVENTS)
        wait_all(ring, update, poll)
        assert ring.completions == [update, poll]
    finally:
        ring.completions = None
    assert (update.res, update.cqe_flags) == (0, 0)
    assert (poll.res, poll.cqe_flags) == (select.POLLOUT, 0)


def test_poll_update_keeps_a_multishot_poll_armed(ring, pipe):
    r, w = pipe
    poll = ring.poll_multishot(r, select.POLLOUT)  # never true on a read end: waits
    settle(ring, poll)
    update = ring.poll_update(poll, 0, select.POLLIN, PollFlags.UPDATE_EVENTS)
    wait_all(ring, update)
    assert (update.res, update.cqe_flags) == (0, 0)
    for _ in range(2):
        os.write(w, b"z")
        ring.submit_and_wait(1, timeout=5)
        os.read(r, 1)
    assert poll.take_cqes() == [(select.POLLIN, F_MORE)] * 2
    remove = ring.poll_remove(poll)
    wait_all(ring, remove, poll)
    assert (remove.res, poll.res, poll.cqe_flags) == (0, -errno.ECANCELED, 0)


def test_poll_update_of_a_one_shot_poll_stays_one_shot(ring, pipe):
    r, w = pipe
    poll = ring.poll_add(r, select.POLLOUT)
    settle(ring, poll)
    # ADD_MULTI in an update only shapes the new mask: a one-shot poll stays one-shot.
    update = ring.poll_update(poll, 0, select.POLLIN, PollFlags.UPDATE_EVENTS | PollFlags.ADD_MULTI)
    wait_all(ring, update)
    os.write(w, b"z")
    wait_all(ring, poll)
    assert (update.res, poll.res, poll.cqe_flags) == (0, select.POLLIN, 0)
    assert poll.take_cqes() == []


def test_poll_update_of_unknown_request_is_enoent(ring):
    update = ring.queue(ops.poll_update(0x4321, 0, select.POLLIN, PollFlags.UPDATE_EVENTS))
    wait_all(ring, update)
    assert update.res == -errno.ENOENT


def test_epoll_ctl_and_epoll_wait(ring, epoll, pipe, sockpair):
    require_op(Opcode.EPOLL_CTL, Opcode.EPOLL_WAIT)
    r, w = pipe
    a, b = sockpair
    add_pipe = ring.epoll_ctl(epoll.fileno(), r, ops.EPOLL_CTL_ADD, select.EPOLLIN, data=42)
    add_sock = ring.epoll_ctl(epoll.fileno(), a.fileno(), ops.EPOLL_CTL_ADD, select.EPOLLIN)
    wait_all(ring, add_pipe, add_sock)
    assert (add_pipe.res, add_sock.res) == (0, 0)
    waiting = ring.epoll_wait(epoll.fileno(), 8)
    settle(ring, waiting)
    os.write(w, b"x")
    wait_all(ring, waiting)
    assert (waiting.res, waiting.cqe_flags) == (1, 0)
    assert waiting.out.events == waiting.out(waiting.result) == [(select.EPOLLIN, 42)]
    b.send(b"y")
    both = ring.epoll_wait(epoll.fileno(), 8)
    wait_all(ring, both)
    assert both.res == 2
    assert sorted(both.out(both.res)) == [(select.EPOLLIN, a.fileno()), (select.EPOLLIN, 42)]
    one = ring.epoll_wait(epoll.fileno(), 1)
    wait_all(ring, one)
    assert one.res == 1 and len(one.out(one.res)) == 1


def test_epoll_ctl_mod_del_and_errors(ring, epoll, pipe):
    require_op(Opcode.EPOLL_CTL, Opcode.EPOLL_WAIT)
    r, w = pipe
    ep = epoll.fileno()
    add = ring.epoll_ctl(ep, w, ops.EPOLL_CTL_ADD, select.EPOLLIN, data=7)
    wait_all(ring, add)
    again = ring.epoll_ctl(ep, w, ops.EPOLL_CTL_ADD, select.EPOLLIN)
    wait_all(ring, again)
    assert (add.res, again.res) == (0, -errno.EEXIST)
    with pytest.raises(FileExistsError):
        again.result
    mod = ring.epoll_ctl(ep, w, ops.EPOLL_CTL_MOD, select.EPOLLOUT, data=8)
    wait_all(ring, mod)
    ready = ring.epoll_wait(ep, 4)
    wait_all(ring, ready)
    assert (mod.res, ready.res, ready.out(ready.res)) == (0, 1, [(select.EPOLLOUT, 8)])
    delete = ring.epoll_ctl(ep, w, ops.EPOLL_CTL_DEL, None)
    wait_all(ring, delete)
    gone = ring.epoll_ctl(ep, w, ops.EPOLL_CTL_DEL, None)
    wait_all(ring, gone)
    assert (delete.res, gone.res) == (0, -errno.ENOENT)
    bad_flags = ring.epoll_wait(ep, 4, 1)
    wait_all(ring, bad_flags)
    assert (bad_flags.res, bad_flags.out.events) == (-errno.EINVAL, [])


def test_epoll_wait_cancelled_by_poll_remove_is_not_a_poll(ring, epoll):
    require_op(Opcode.EPOLL_WAIT)
    waiting = ring.epoll_wait(epoll.fileno(), 4)
    settle(ring, waiting)
    remove = ring.poll_remove(waiting)  # only POLL_ADD requests are found this way
    wait_all(ring, remove)
    assert remove.res == -errno.ENOENT
    cancel = ring.queue(_cancel(waiting.user_data))
    wait_all(ring, cancel, waiting)
    assert (cancel.res, waiting.res) == (0, -errno.ECANCELED)


def _cancel(user_data):
    """IORING_OP_ASYNC_CANCEL by user_data, built by hand (the cancel family is not ours)."""
    from uring.ops._common import sqe
    s = sqe(Opcode.ASYNC_CANCEL, -1)
    s.addr = user_data
    return s
