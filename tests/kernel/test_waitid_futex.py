"""IORING_OP_WAITID and the futex ops against the kernel: exact siginfo of real children,
futex wait/wake/waitv results and completion order, interplay with the futex syscall."""

from __future__ import annotations

import ctypes
import errno
import mmap
import os
import signal
import subprocess
from array import array

import pytest

from uring import ops
from uring.ops import SigInfo
from uring.ops.misc import (
    FUTEX2_PRIVATE, FUTEX2_SIZE_U8, FUTEX2_SIZE_U32, FUTEX_BITSET_MATCH_ANY,
)
from uring._uapi import Opcode
from tests.conftest import require_op

ANY = FUTEX_BITSET_MATCH_ANY
U32_PRIVATE = FUTEX2_SIZE_U32 | FUTEX2_PRIVATE
CLD_EXITED, CLD_KILLED, CLD_STOPPED = os.CLD_EXITED, os.CLD_KILLED, os.CLD_STOPPED


# -- waitid -------------------------------------------------------------------------------


def fork_child(body):
    """Fork a child that runs `body()` and exits with its return value (0 if None)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = body() or 0
        finally:
            os._exit(code)
    return pid


def blocked_child(exit_code=0):
    """A child that exits with `exit_code` once a byte is written to the returned fd."""
    r, w = os.pipe()

    def body():
        os.close(w)
        os.read(r, 1)
        return exit_code
    pid = fork_child(body)
    os.close(r)
    return pid, w


def assert_siginfo(info, pid, code, status):
    assert (info.si_signo, info.si_errno, info.si_code, info.si_pid, info.si_uid, info.si_status) == \
        (signal.SIGCHLD, 0, code, pid, os.getuid(), status)
    assert info.result() == os.waitid_result((pid, os.getuid(), signal.SIGCHLD, status, code))


@pytest.fixture
def waitid_ring(ring):
    require_op(Opcode.WAITID)
    return ring


def test_waitid_exited_child(waitid_ring):
    pid = fork_child(lambda: 7)
    op = waitid_ring.queue(ops.waitid(os.P_PID, pid, os.WEXITED))
    assert waitid_ring.wait_for(op, timeout=5) == [0]
    assert op.cqe_flags == 0
    assert isinstance(op.out, SigInfo)
    assert_siginfo(op.out, pid, CLD_EXITED, 7)
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped by the op


def test_waitid_stays_pending_until_the_child_exits(waitid_ring):
    pid, go = blocked_child(3)
    op = waitid_ring.queue(ops.waitid(os.P_PID, pid, os.WEXITED))
    waitid_ring.submit()
    waitid_ring.peek()
    assert not op.done
    os.write(go, b"x")
    os.close(go)
    assert waitid_ring.wait_for(op, timeout=5) == [0]
    assert_siginfo(op.out, pid, CLD_EXITED, 3)


def test_waitid_killed_child(waitid_ring):
    pid, go = blocked_child()
    op = waitid_ring.queue(ops.waitid(os.P_PID, pid, os.WEXITED))
    waitid_ring.submit()
    os.kill(pid, signal.SIGKILL)
    assert waitid_ring.wait_for(op, timeout=5) == [0]
    os.close(go)
    assert_siginfo(op.out, pid, CLD_KILLED, signal.SIGKILL)


def test_waitid_stopped_child_then_reap(waitid_ring):
    pid, go = blocked_child()
    os.kill(pid, signal.SIGSTOP)
    op = waitid_ring.queue(ops.waitid(os.P_PID, pid, os.WSTOPPED))
    assert waitid_ring.wait_for(op, timeout=5) == [0]
    assert_siginfo(op.out, pid, CLD_STOPPED, signal.SIGSTOP)
    os.kill(pid, signal.SIGKILL)
    os.close(go)
    op = waitid_ring.queue(ops.waitid(os.P_PID, pid, os.WEXITED))
    waitid_ring.wait_for(op, timeout=5)
    assert_siginfo(op.out, pid, CLD_KILLED, signal.SIGKILL)


def test_waitid_wnohang_with_a_running_child(waitid_ring):
    pid, go = blocked_child(4)
    op = waitid_ring.queue(ops.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG))
    assert waitid_ring.wait_for(op, timeout=5) == [0]
    assert bytes(op.out.buffer) == bytes(128)  # the kernel zero-fills: nothing to report
    assert op.out.result() is None
    os.write(go, b"x")
    os.close(go)
    op = waitid_ring.queue(ops.waitid(os.P_PID, pid, os.WEXITED))
    waitid_ring.wait_for(op, timeout=5)
    assert_siginfo(op.out, pid, CLD_EXITED, 4)


def test_waitid_wnowait_leaves_the_child_waitable(waitid_ring):
    pid = fork_child(lambda: 9)
    op = waitid_ring.queue(ops.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT))
    waitid_ring.wait_for(op, timeout=5)
    assert_siginfo(op.out, pid, CLD_EXITED, 9)
    assert os.waitpid(pid, 0) == (pid, 9 << 8)


def test_waitid_by_pidfd(waitid_ring, fd_guard):
    pid, go = blocked_child(5)
    pidfd = os.pidfd_open(pid)
    try:
        op = waitid_ring.queue(ops.waitid(os.P_PIDFD, pidfd, os.WEXITED))
        waitid_ring.submit()
        os.write(go, b"x")
        waitid_ring.wait_for(op, timeout=5)
        assert_siginfo(op.out, pid, CLD_EXITED, 5)
    finally:
        os.close(go)
        os.close(pidfd)


def test_waitid_any_child_of_a_subprocess(waitid_ring):
    proc = subprocess.Popen(["/bin/sh", "-c", "exit 6"])
    op = waitid_ring.queue(ops.waitid(os.P_ALL, 0, os.WEXITED))
    waitid_ring.wait_for(op, timeout=5)
    assert_siginfo(op.out, proc.pid, CLD_EXITED, 6)
    proc.returncode = 6  # reaped by the op: Popen must not wait for it again


def test_waitid_into_caller_buffers(waitid_ring):
    raw = bytearray(256)
    pid = fork_child(lambda: 2)
    op = waitid_ring.queue(ops.waitid(os.P_PID, pid, os.WEXITED, 0, raw))
    waitid_ring.wait_for(op, timeout=5)
    assert op.out.buffer is raw
    assert_siginfo(SigInfo(raw), pid, CLD_EXITED, 2)
    info = SigInfo()
    pid = fork_child(lambda: 1)
    op = waitid_ring.queue(ops.waitid(os.P_PID, pid, os.WEXITED, infop=info))
    waitid_ring.wait_for(op, timeout=5)
    assert op.out is info
    assert_siginfo(info, pid, CLD_EXITED, 1)


def test_waitid_not_our_child(waitid_ring):
    op = waitid_ring.queue(ops.waitid(os.P_PID, 1, os.WEXITED))
    with pytest.raises(ChildProcessError):
        waitid_ring.wait_for(op, timeout=5)
    assert op.res == -errno.ECHILD


def test_waitid_needs_an_event_to_wait_for(waitid_ring):
    op = waitid_ring.queue(ops.waitid(os.P_ALL, 0, 0))
    waitid_ring.submit_and_wait(1)
    assert op.res == -errno.EINVAL


# -- futexes ------------------------------------------------------------------------------


@pytest.fixture
def futex_ring(ring):
    require_op(Opcode.FUTEX_WAIT, Opcode.FUTEX_WAKE)
    ring.completions = []  # records the order ops complete in
    yield ring
    ring.completions = None


def pending(ring, *sqes):
    """Queue and submit, and check the kernel left every op waiting."""
    ops_ = [ring.queue(s) for s in sqes]
    ring.submit()
    ring.peek()
    assert not any(op.done for op in ops_)
    return ops_


def test_futex_wake_wakes_a_wait_on_the_same_ring(futex_ring):
    word = array("I", [0])
    (wait,) = pending(futex_ring, ops.futex_wait(word, 0, ANY, U32_PRIVATE))
    wake = futex_ring.queue(ops.futex_wake(word, 1, ANY, U32_PRIVATE))
    assert futex_ring.wait_for(wait, wake, timeout=5) == [0, 1]
    # The wake completes inline when issued; the waiter's completion runs as task work after.
    assert futex_ring.completions == [wake, wait]
    assert (wait.cqe_flags, wake.cqe_flags) == (0, 0)


def test_futex_wait_with_a_stale_value_fails_at_once(futex_ring):
    word = array("I", [5])
    op = futex_ring.queue(ops.futex_wait(word, 0, ANY, U32_PRIVATE))
    with pytest.raises(BlockingIOError):
        futex_ring.wait_for(op, timeout=5)
    assert op.res == -errno.EAGAIN


def test_futex_wake_without_waiters(futex_ring):
    word = array("I", [0])
    assert futex_ring.run(ops.futex_wake(word, 1, ANY, U32_PRIVATE)) == 0


def test_futex_wake_counts(futex_ring):
    word = array("I", [0])
    waits = pending(futex_ring, *[ops.futex_wait(word, 0, ANY, U32_PRIVATE) for _ in range(3)])
    assert futex_ring.run(ops.futex_wake(word, 2, ANY, U32_PRIVATE)) == 2
    futex_ring.peek()
    assert [w.done for w in waits] == [True, True, False]  # FIFO: the oldest waiters first
    assert futex_ring.run(ops.futex_wake(word, 5, ANY, U32_PRIVATE)) == 1
    futex_ring.wait_for(*waits, timeout=5)
    assert [w.res for w in waits] == [0, 0, 0]


def test_futex_wake_respects_bitset_masks(futex_ring):
    word = array("I", [0])
    (wait,) = pending(futex_ring, ops.futex_wait(word, 0, 0b01, U32_PRIVATE))
    assert futex_ring.run(ops.futex_wake(word, 1, 0b10, U32_PRIVATE)) == 0
    futex_ring.peek()
    assert not wait.done
    assert futex_ring.run(ops.futex_wake(word, 1, 0b11, U32_PRIVATE)) == 1
    assert futex_ring.wait_for(wait, timeout=5) == [0]


def test_futex_wait_woken_by_the_futex_syscall(futex_ring):
    word = array("I", [0])
    (wait,) = pending(futex_ring, ops.futex_wait(word, 0, ANY, U32_PRIVATE))
    libc = ctypes.CDLL(None, use_errno=True)
    futex_wake_private = 1 | 128  # FUTEX_WAKE | FUTEX_PRIVATE_FLAG
    woken = libc.syscall(202, ctypes.c_void_p(word.buffer_info()[0]), futex_wake_private, 1, None, None, 0)
    assert woken == 1
    assert futex_ring.wait_for(wait, timeout=5) == [0]


def test_shared_futex_woken_by_another_process(futex_ring):
    shared = mmap.mmap(-1, 4096)  # MAP_SHARED: the child sees the same word
    word = memoryview(shared)[:4]
    try:
        (wait,) = pending(futex_ring, ops.futex_wait(word, 0, ANY, FUTEX2_SIZE_U32))
        r, w = os.pipe()

        def wake_from_child():
            os.close(r)
            libc = ctypes.CDLL(None, use_errno=True)
            addr = ctypes.addressof(ctypes.c_char.from_buffer(shared))
            ctypes.c_uint32.from_address(addr).value = 1
            woken = libc.syscall(202, ctypes.c_void_p(addr), 1, 1, None, None, 0)  # FUTEX_WAKE
            os.write(w, bytes([woken]))
        pid = fork_child(wake_from_child)
        os.close(w)
        assert os.read(r, 1) == b"\x01"
        os.close(r)
        os.waitpid(pid, 0)
        assert futex_ring.wait_for(wait, timeout=5) == [0]
        assert int.from_bytes(word, "little") == 1
    finally:
        word.release()
        shared.close()


def test_futex_unsupported_size_is_rejected_by_the_kernel(futex_ring):
    word = array("I", [0])
    op = futex_ring.queue(ops.futex_wait(word, 0, 0xFF, FUTEX2_SIZE_U8 | FUTEX2_PRIVATE))
    futex_ring.submit_and_wait(1)
    assert op.res == -errno.EINVAL


def test_futex_waitv_reports_the_woken_index(futex_ring):
    require_op(Opcode.FUTEX_WAITV)
    words = array("I", [0, 0, 0])
    view = memoryview(words)
    (wait,) = pending(futex_ring, ops.futex_waitv([(view[i:i + 1], 0, U32_PRIVATE) for i in range(3)]))
    assert futex_ring.run(ops.futex_wake(view[2:3], 1, ANY, U32_PRIVATE)) == 1
    assert futex_ring.wait_for(wait, timeout=5) == [2]
    assert futex_ring.completions[-1] is wait


def test_futex_waitv_with_a_stale_value_fails_at_once(futex_ring):
    require_op(Opcode.FUTEX_WAITV)
    words = array("I", [0, 8])
    view = memoryview(words)
    op = futex_ring.queue(ops.futex_waitv([(view[0:1], 0, U32_PRIVATE), (view[1:2], 0, U32_PRIVATE)]))
    with pytest.raises(BlockingIOError):
        futex_ring.wait_for(op, timeout=5)
    assert op.res == -errno.EAGAIN


def test_futex_ops_pin_the_word_until_completion(futex_ring):
    word = array("I", [0])
    (wait,) = pending(futex_ring, ops.futex_wait(word, 0, ANY, U32_PRIVATE))
    assert wait.pinned
    with pytest.raises(BufferError):
        word.append(1)  # a pinned array cannot move
    futex_ring.run(ops.futex_wake(word, 1, ANY, U32_PRIVATE))
    futex_ring.wait_for(wait, timeout=5)
    assert not wait.pinned
    word.append(1)
