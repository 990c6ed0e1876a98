"""Long random sequences of ring operations (hypothesis state machine) against a model:
NOPs complete with 0, pipe reads complete only once data is written, in FIFO order of
the data; nothing is lost, nothing completes twice, nothing stays pinned."""

from __future__ import annotations

import errno
import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from uring import Ring


class RingMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.ring = Ring(8, cq_entries=16)  # small: SQ-full and CQ overflow happen often
        self.r_fd, self.w_fd = os.pipe()
        self.nops = []            # NOP ops not yet waited for
        self.reads = []           # pipe reads, each completed by one written byte
        self.written = 0          # bytes written to the pipe
        self.all_ops = []

    @rule(n=st.integers(1, 20))
    def queue_nops(self, n):
        for _ in range(n):
            op = self.ring.nop()
            self.nops.append(op)
            self.all_ops.append(op)

    @precondition(lambda self: len(self.reads) < 12)
    @rule()
    def queue_read(self):
        op = self.ring.read(self.r_fd, bytearray(1))
        self.reads.append(op)
        self.all_ops.append(op)

    @precondition(lambda self: self.written < len(self.reads))
    @rule()
    def write_one_byte(self):
        os.write(self.w_fd, b"x")
        self.written += 1

    @rule()
    def submit(self):
        self.ring.submit()

    @rule()
    def peek(self):
        self.ring.peek()

    @rule()
    def wait_for_nops(self):
        self.ring.wait_for(*self.nops, timeout=5)
        assert all(op.res == 0 for op in self.nops)
        self.nops.clear()

    @precondition(lambda self: self.written > 0)
    @rule()
    def wait_for_written_reads(self):
        # As many reads as bytes written must complete (which waiter the pipe wakes first
        # is the kernel's business), each with exactly one byte.
        import time
        deadline = time.monotonic() + 5
        while sum(op.done for op in self.reads) < self.written:
            assert time.monotonic() < deadline, "written bytes did not complete their reads"
            self.ring.submit_and_wait(1, timeout=0.5)
        assert sum(op.done for op in self.reads) == self.written
        assert all(op.res == 1 for op in self.reads if op.done)

    @invariant()
    def accounting(self):
        pending = [op for op in self.all_ops if not op.done]
        assert self.ring.in_flight == len(pending)
        assert all(op.pinned for op in pending if op.opcode == 22)  # reads keep their buffer
        assert not any(op.pinned for op in self.all_ops if op.done)
        assert self.ring.stale_cqes == 0

    def teardown(self):
        try:
            # Unblock every read, then close: everything ends with a final result.
            missing = len(self.reads) - self.written
            if missing > 0:
                os.write(self.w_fd, b"x" * missing)
            self.ring.close()
            assert all(op.done for op in self.all_ops)
            assert all(op.res in (0, 1, -errno.ECANCELED) for op in self.all_ops)
            assert not any(op.pinned for op in self.all_ops)
        finally:
            os.close(self.r_fd)
            os.close(self.w_fd)


RingMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRingMachine = RingMachine.TestCase
