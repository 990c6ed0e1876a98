"""The ring itself against the kernel: setup parameters, submit/wait/peek, SQ-full and
CQ-overflow handling, close with work in flight, pinning, fork, threads and signals."""

from __future__ import annotations

import errno
import gc
import os
import platform
import signal
import threading
import time
import weakref

import pytest

import uring
from uring import InvalidSetup, Ring, ops
from uring._uapi import CqeFlags, Features, Opcode, SetupFlags, SqeFlags
from tests.conftest import check_ring_idle


class Buf(bytearray):
    """A bytearray that can be weak-referenced, to watch its lifetime."""


def nops(ring, n):
    return [ring.nop() for _ in range(n)]


# -- setup ---------------------------------------------------------------------------


def test_default_ring_reports_sizes_and_features(ring):
    assert ring.sq_entries == 64
    assert ring.cq_entries == 128  # the kernel's default: twice the SQ
    assert ring.features & Features.SINGLE_MMAP
    assert ring.features & Features.NODROP
    assert ring.setup_flags & SetupFlags.NO_SQARRAY  # taken by default where the kernel has it
    assert ring.params["flags"] == SetupFlags(ring.setup_flags)


def test_entries_round_up_to_a_power_of_two(make_ring):
    r = make_ring(5)
    assert (r.sq_entries, r.cq_entries) == (8, 16)


@pytest.mark.parametrize("kwargs, sq, cq", [
    (dict(cq_entries=64), 8, 64),
    (dict(cq_entries=100000, flags=SetupFlags.CLAMP), 8, 65536),
])
def test_cq_size(make_ring, kwargs, sq, cq):
    r = make_ring(8, **kwargs)
    assert (r.sq_entries, r.cq_entries) == (sq, cq)
    assert r.setup_flags & SetupFlags.CQSIZE


def test_cq_smaller_than_sq_is_rejected():
    # Refused before io_uring_setup (which would answer a bare EINVAL), naming both sizes.
    with pytest.raises(InvalidSetup, match=r"cq_entries \(4\) must be >= entries \(16\)"):
        Ring(16, cq_entries=4)


def test_sqarray_fallback_path_works(make_ring):
    r = make_ring(8, no_sqarray=False)
    assert not r.setup_flags & SetupFlags.NO_SQARRAY
    ops_ = nops(r, 20)  # wraps the SQ: exercises the identity index array
    r.submit_and_wait(20)
    assert [o.res for o in ops_] == [0] * 20


@pytest.mark.parametrize("flags", [
    SetupFlags.SQPOLL,
    SetupFlags.SUBMIT_ALL,
    SetupFlags.COOP_TASKRUN,
    SetupFlags.COOP_TASKRUN | SetupFlags.TASKRUN_FLAG,
    SetupFlags.SINGLE_ISSUER,
    SetupFlags.SINGLE_ISSUER | SetupFlags.DEFER_TASKRUN,
    SetupFlags.SQE128,
    SetupFlags.CQE32,
    SetupFlags.SQE128 | SetupFlags.CQE32,
])
def test_setup_flags_run_nops(make_ring, flags):
    r = make_ring(16, flags=flags)
    assert r.setup_flags & flags == flags
    batch = nops(r, 40)  # more than the SQ: forces intermediate submits
    r.submit_and_wait(40)
    assert [o.res for o in batch] == [0] * 40
    assert all(o.done for o in batch)


def test_sqpoll_with_idle_and_cpu(make_ring):
    r = make_ring(8, flags=SetupFlags.SQPOLL, sq_thread_idle=10, sq_thread_cpu=0)
    assert r.setup_flags & SetupFlags.SQPOLL and r.setup_flags & SetupFlags.SQ_AFF
    assert r.sq_thread_idle == 10
    first = nops(r, 4)
    r.submit_and_wait(4)
    assert [o.res for o in first] == [0] * 4
    time.sleep(0.05)  # the SQ thread goes idle and sets NEED_WAKEUP
    second = nops(r, 4)
    r.submit_and_wait(4)
    assert [o.res for o in second] == [0] * 4


def test_attach_wq_shares_the_workers(make_ring):
    a = make_ring(8)
    b = make_ring(8, wq_fd=a.fd)
    assert b.setup_flags & SetupFlags.ATTACH_WQ
    op = b.nop()
    b.submit_and_wait(1)
    assert op.result == 0


def test_unknown_setup_flag_names_itself():
    with pytest.raises(ValueError, match="unknown IORING_SETUP bits"):
        Ring(8, flags=1 << 30)


def test_setup_flag_the_kernel_lacks_is_named():
    # SQE_MIXED is newer than this kernel (probe: setup mask 0x7ffff); on a newer kernel
    # the ring simply works.
    flag = SetupFlags.SQE_MIXED
    from uring.probe import setup_flag_supported
    if setup_flag_supported(flag):
        pytest.skip(f"IORING_SETUP_SQE_MIXED is supported on {platform.release()}")
    with pytest.raises(uring.UnsupportedFeature, match="IORING_SETUP_SQE_MIXED unsupported on Linux"):
        Ring(8, flags=flag)


def test_bad_entries():
    with pytest.raises(ValueError):
        Ring(0)
    with pytest.raises(ValueError):
        Ring(1 << 20)
    with pytest.raises(TypeError):
        Ring("8")


# -- opcodes the kernel lacks -----------------------------------------------------------


def test_unsupported_opcode_names_opcode_and_release(ring):
    if ring.opcode_supported(Opcode.NOP128):
        pytest.skip(f"IORING_OP_NOP128 supported on {platform.release()}")
    s = ops.nop()
    s.unsafe_set(opcode=Opcode.NOP128)
    with pytest.raises(uring.UnsupportedOperation) as info:
        ring.queue(s)
    assert str(info.value) == f"IORING_OP_NOP128 unsupported on Linux {platform.release()}"
    assert info.value.opcode == Opcode.NOP128
    assert ring.in_flight == 0


def test_probe_lists_every_opcode(ring):
    p = ring.probe()
    assert p.last_op >= Opcode.PIPE
    assert p.supports(Opcode.NOP) and p.supports(Opcode.READ)
    doc = p.as_json()
    assert [o["number"] for o in doc["opcodes"]] == list(range(len(Opcode)))
    read = next(o for o in doc["opcodes"] if o["name"] == "IORING_OP_READ")
    assert read["supported"] and read["helper"] == "read"


# -- submit, wait, peek -------------------------------------------------------------------


def test_cqe_order_and_results_of_a_batch(ring):
    seen = []
    batch = nops(ring, 10)
    for i, op in enumerate(batch):
        op.callback = lambda op, res, flags, i=i: seen.append((i, res, flags))
    assert ring.submit() == 10
    assert ring.submit_and_wait(10) == 10
    assert seen == [(i, 0, 0) for i in range(10)]
    assert all(op.cqe_flags == 0 for op in batch)


def test_peek_does_not_block(ring):
    assert ring.peek() == 0
    op = ring.nop()
    ring.submit()
    deadline = time.monotonic() + 1
    while not op.done and time.monotonic() < deadline:
        ring.peek()
    assert op.result == 0


def test_wait_timeout_returns_what_arrived(ring):
    r_fd, w_fd = os.pipe()
    try:
        buf = bytearray(8)
        op = ring.read(r_fd, buf)
        t0 = time.monotonic()
        assert ring.submit_and_wait(1, timeout=0.05) == 0
        assert 0.04 <= time.monotonic() - t0 < 1.0
        assert not op.done
        os.write(w_fd, b"hi")
        assert ring.submit_and_wait(1, timeout=5) == 1
        assert op.result == 2 and bytes(buf[:2]) == b"hi"
    finally:
        os.close(r_fd)
        os.close(w_fd)


def test_wait_for_raises_timeout_with_pending_ops(ring):
    r_fd, w_fd = os.pipe()
    try:
        op = ring.read(r_fd, bytearray(1))
        with pytest.raises(TimeoutError, match="1 op"):
            ring.wait_for(op, timeout=0.02)
        os.write(w_fd, b"x")
        assert ring.wait_for(op) == [1]
    finally:
        os.close(r_fd)
        os.close(w_fd)


def test_result_before_completion_raises(ring):
    op = ring.nop()
    with pytest.raises(uring.NotDone):
        op.result
    ring.submit_and_wait(1)
    assert op.result == 0


def test_negative_res_becomes_the_oserror_subclass(ring, tmp_path):
    op = ring.read(1 << 20, bytearray(4))  # no such fd
    ring.submit_and_wait(1)
    assert op.res == -errno.EBADF
    with pytest.raises(OSError) as info:
        op.result
    assert info.value.errno == errno.EBADF
    assert isinstance(op.exception(), OSError)


# -- SQ full, CQ overflow ---------------------------------------------------------------------


def test_sq_full_submits_and_continues(make_ring):
    r = make_ring(4)
    batch = nops(r, 50)  # 12 times the SQ, nothing submitted by hand
    r.submit_and_wait(50)
    assert [o.res for o in batch] == [0] * 50


def test_sq_full_in_the_middle_of_a_chain_refuses_to_split_it(make_ring):
    r = make_ring(4)
    for _ in range(4):
        r.nop(sqe_flags=SqeFlags.IO_LINK)
    with pytest.raises(uring.SubmissionQueueFull, match="linked chain"):
        r.nop()
    # What was queued still forms a (dangling-link) chain: finish it with a plain NOP.
    r.submit_and_wait(4)
    r.nop()
    r.submit_and_wait(1)


def test_100k_nops_through_an_8_entry_cq_lose_nothing(make_ring):
    r = make_ring(4, cq_entries=8)
    done = []
    r.completions = done
    total = 100_000
    for _ in range(total // 100):
        for _ in range(100):
            r.nop()
        r.submit()  # never reaped in between: the kernel overflows the 8-entry CQ
    assert r.cq_overflow == 0  # FEAT_NODROP: parked, not dropped
    while len(done) < total:
        r.submit_and_wait(min(8, total - len(done)))
    assert len(done) == total
    assert all(op.res == 0 for op in done)
    assert r.in_flight == 0
    assert not r.cq_overflow_flag


# -- pinning -------------------------------------------------------------------------------------


def test_dropped_buffer_lives_until_its_cqe(ring):
    r_fd, w_fd = os.pipe()
    try:
        buf = Buf(16)
        alive = weakref.ref(buf)
        op = ring.read(r_fd, buf)
        ring.submit()
        del buf
        gc.collect()
        assert alive() is not None, "the kernel may still write into it"
        assert op.pinned
        os.write(w_fd, b"payload")
        ring.wait_for(op)
        assert op.result == 7
        assert bytes(op.buffer[:7]) == b"payload"
        assert not op.pinned
        del op
        gc.collect()
        assert alive() is None, "released once the final CQE arrived"
    finally:
        os.close(r_fd)
        os.close(w_fd)


def test_prepared_sqe_pins_follow_the_op(ring):
    r_fd, w_fd = os.pipe()
    try:
        buf = Buf(4)
        alive = weakref.ref(buf)
        op = ring.queue(ops.read(r_fd, buf))
        del buf
        gc.collect()
        assert alive() is not None
        os.write(w_fd, b"abcd")
        ring.wait_for(op)
        assert not op.pinned
        del op
        gc.collect()
        assert alive() is None
    finally:
        os.close(r_fd)
        os.close(w_fd)


def test_pinned_bytearray_cannot_be_resized(ring):
    r_fd, w_fd = os.pipe()
    try:
        buf = bytearray(8)
        op = ring.read(r_fd, buf)
        ring.submit()
        with pytest.raises(BufferError):
            buf.extend(b"more")  # would move the memory under the kernel
        os.write(w_fd, b"z")
        ring.wait_for(op)
        buf.extend(b"more")  # free again
    finally:
        os.close(r_fd)
        os.close(w_fd)


def test_bad_buffers_are_rejected_before_queueing(ring):
    with pytest.raises(TypeError, match="writable"):
        ring.read(0, b"immutable")
    with pytest.raises(TypeError):
        ring.write(1, "text")
    with pytest.raises(ValueError, match="exceeds"):
        ring.read(0, bytearray(4), nbytes=5)
    with pytest.raises(ValueError, match="offset"):
        ring.read(0, bytearray(4), offset=-2)
    with pytest.raises(ValueError, match="buf_index"):
        ring.read_fixed(0, bytearray(4), None, 0, 70000)
    assert ring.in_flight == 0
    assert ring.sq_ready() == 0


# -- close ----------------------------------------------------------------------------------------


def test_close_with_1000_ops_in_flight(fd_guard):
    r = Ring(256, cq_entries=2048)
    pipes = [os.pipe() for _ in range(10)]
    try:
        bufs = []
        in_flight = []
        for i in range(1000):
            buf = bytearray(8)
            bufs.append(weakref.ref(Buf(0)))  # placeholder to keep list shape simple
            in_flight.append(r.read(pipes[i % 10][0], buf))
        r.submit()
        assert r.in_flight == 1000
        t0 = time.monotonic()
        r.close()
        assert time.monotonic() - t0 < 5
        assert r.closed
        assert all(op.done for op in in_flight)
        assert {op.res for op in in_flight} == {-errno.ECANCELED}
        assert not any(op.pinned for op in in_flight)
        with pytest.raises(uring.RingClosed):
            r.nop()
        r.close()  # idempotent
    finally:
        for a, b in pipes:
            os.close(a)
            os.close(b)


def test_closed_ring_raises_clear_errors(fd_guard):
    r = Ring(8)
    r.close()
    for call in (r.nop, r.submit, r.peek, r.cq_ready, r.sq_ready, lambda: r.read(0, bytearray(1)),
                 lambda: r.queue(ops.nop()), lambda: r.submit_and_wait(1)):
        with pytest.raises(uring.RingClosed):
            call()
    assert repr(r) == "<Ring closed>"


def test_context_manager_closes(fd_guard):
    with Ring(8) as r:
        op = r.nop()
    assert r.closed
    assert op.done and op.res in (0, -errno.ECANCELED)


def test_garbage_collected_ring_closes_its_fd(fd_guard):
    r = Ring(8)
    fd = r.fd
    del r
    gc.collect()
    assert not os.path.exists(f"/proc/self/fd/{fd}") or "io_uring" not in os.readlink(f"/proc/self/fd/{fd}")


# -- fork, threads, signals -----------------------------------------------------------------------


def test_ring_used_in_forked_child_raises(ring):
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            ring.nop()
        except uring.RingForked:
            code = 0
        except BaseException:
            code = 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    op = ring.nop()  # the parent's ring is untouched
    ring.submit_and_wait(1)
    assert op.result == 0


def test_threads_sharing_a_ring_do_not_corrupt_it(ring):
    per_thread, threads_n = 2000, 4
    results = [[] for _ in range(threads_n)]
    errors = []

    def worker(k):
        try:
            for _ in range(per_thread // 20):
                batch = [ring.nop() for _ in range(20)]
                ring.wait_for(*batch)
                results[k].extend(op.res for op in batch)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert [len(r) for r in results] == [per_thread] * threads_n
    assert all(res == 0 for r in results for res in r)


def test_gil_is_released_while_waiting(ring):
    r_fd, w_fd = os.pipe()
    try:
        op = ring.read(r_fd, bytearray(1))
        writer = threading.Timer(0.05, os.write, (w_fd, b"!"))
        writer.start()  # can only run if the waiting thread dropped the GIL
        ring.wait_for(op, timeout=5)
        writer.join()
        assert op.result == 1
    finally:
        os.close(r_fd)
        os.close(w_fd)


def _raise_keyboard_interrupt(*_):
    raise KeyboardInterrupt


def _kill_self_later(delay):
    # SIGUSR1 rather than SIGALRM: pytest-timeout owns the alarm.
    t = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGUSR1))
    t.start()
    return t


def test_ctrl_c_interrupts_a_wait(ring):
    r_fd, w_fd = os.pipe()
    old = signal.signal(signal.SIGUSR1, _raise_keyboard_interrupt)
    try:
        op = ring.read(r_fd, bytearray(1))
        timer = _kill_self_later(0.05)
        with pytest.raises(KeyboardInterrupt):
            ring.submit_and_wait(1)
        timer.join()
        assert not op.done
        os.write(w_fd, b"x")
        ring.wait_for(op)
        assert op.result == 1
    finally:
        signal.signal(signal.SIGUSR1, old)
        os.close(r_fd)
        os.close(w_fd)


def test_signal_without_exception_retries_the_wait(ring):
    r_fd, w_fd = os.pipe()
    hits = []
    old = signal.signal(signal.SIGUSR1, lambda *a: hits.append(1))
    try:
        op = ring.read(r_fd, bytearray(1))
        timers = [_kill_self_later(0.03), _kill_self_later(0.06)]
        threading.Timer(0.15, os.write, (w_fd, b"y")).start()
        ring.submit_and_wait(1)  # EINTR is retried; the handler ran and returned
        for t in timers:
            t.join()
        assert len(hits) == 2 and op.result == 1
    finally:
        signal.signal(signal.SIGUSR1, old)
        os.close(r_fd)
        os.close(w_fd)


def test_callback_errors_do_not_lose_completions(ring):
    batch = nops(ring, 5)

    def boom(op, res, flags):
        raise RuntimeError("callback failed")

    batch[1].callback = boom
    with pytest.raises(RuntimeError, match="callback failed"):
        ring.submit_and_wait(5)
    assert all(op.done for op in batch)
    check_ring_idle(ring)


def test_multishot_cqes_accumulate_until_final(ring):
    # A multishot timeout posts CQEs with F_MORE; the final one ends the op.
    require = ring.opcode_supported(Opcode.TIMEOUT)
    assert require
    from uring._uapi import TimeoutFlags
    from uring.ops import _common
    s = _common.sqe(Opcode.TIMEOUT, -1, 0, 1, 3)  # count 3 (off), one timespec (len 1)
    s.addr = _common.timespec(s, 0.005)
    s.op_flags = TimeoutFlags.MULTISHOT
    op = ring.queue(s)
    while not op.done:
        ring.submit_and_wait(1, timeout=5)
    more = op.take_cqes()
    assert more == [(-errno.ETIME, CqeFlags.MORE)] * 2
    assert op.res == -errno.ETIME and op.cqe_flags == 0
    assert op.take_cqes() == []


def test_min_wait_returns_early_once_anything_arrived(ring):
    if not ring.features & Features.MIN_TIMEOUT:
        pytest.skip(f"IORING_FEAT_MIN_TIMEOUT unsupported on {platform.release()}")
    one = ring.nop()
    t0 = time.monotonic()
    # Ask for 5 CQEs within 2 s, but settle for what is there after 20 ms.
    assert ring.submit_and_wait(5, timeout=2, min_wait=0.02) == 1
    assert time.monotonic() - t0 < 1.0
    assert one.result == 0


def test_iopoll_ring_reaps_by_polling(make_ring):
    r = make_ring(8, flags=SetupFlags.IOPOLL)
    op = r.nop()
    r.submit()
    deadline = time.monotonic() + 2
    while not op.done and time.monotonic() < deadline:
        r.peek()  # an IOPOLL ring only completes when asked to poll
    assert op.result == 0


def test_requeue_reuses_a_completed_read(ring, tmp_file):
    path, data = tmp_file
    fd = os.open(path, os.O_RDONLY)
    try:
        buf = bytearray(100)
        op = ring.read(fd, buf, 10, 5)
        ring.wait_for(op)
        assert (op.res, bytes(buf[:10])) == (10, data[5:15])
        first_user_data = op.user_data
        assert ring.requeue(op, 1000) is op
        assert not op.done and op.pinned
        ring.wait_for(op)
        assert (op.res, bytes(buf[:10])) == (10, data[1000:1010])
        assert op.user_data != first_user_data  # a fresh slot generation
        with pytest.raises(ValueError, match="still in flight"):
            ring.requeue(ring.requeue(op, 0))
        ring.wait_for(op)
        done_fsync = ring.fsync(fd)
        ring.wait_for(done_fsync)
        with pytest.raises(ValueError, match="only ops from"):
            ring.requeue(done_fsync)
    finally:
        os.close(fd)


def test_waiting_for_more_cqes_than_ops_in_flight_returns(ring):
    op = ring.nop()
    t0 = time.monotonic()
    assert ring.submit_and_wait(5) == 1  # only one op could ever complete: no hang
    assert op.done and time.monotonic() - t0 < 1
    assert ring.submit_and_wait(3) == 0  # nothing in flight at all


def test_defer_taskrun_ring_from_another_thread_is_a_clear_error(make_ring):
    r = make_ring(8, flags=SetupFlags.SINGLE_ISSUER | SetupFlags.DEFER_TASKRUN)
    errors = []

    def other_thread():
        try:
            r.nop()
            r.submit_and_wait(1)
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=other_thread)
    t.start()
    t.join(10)
    assert len(errors) == 1 and isinstance(errors[0], RuntimeError)
    assert "SINGLE_ISSUER" in str(errors[0])
    r.submit_and_wait(1)  # the creating thread still drives it; the NOP completes
    assert r.in_flight == 0
