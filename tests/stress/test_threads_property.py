"""A hypothesis state machine drives one ring from 2-4 threads at once: random ops, link
pairs, cancels, timeouts, callbacks, waits, peeks and closes, checking that every op ends
exactly once, nothing stays pinned and no fd leaks (>= 100,000 ops per run)."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter

import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from uring import Ring, RingClosed, ops
from uring._uapi import CqeFlags, SqeFlags

F_MORE = int(CqeFlags.MORE)
LINK = int(SqeFlags.IO_LINK)
ACTIONS = ("nop", "link_pair", "read_zero", "stuck_read_cancel", "timeout", "submit", "wait", "peek")
OPS_PER_RUN = 100_000
THREAD_RUN_SECONDS = 2.0
action_lists = st.lists(st.sampled_from(ACTIONS), min_size=20, max_size=60)


class SharedRing(RuleBasedStateMachine):
    """The model: every op we queued must finish with exactly one final callback."""

    def __init__(self) -> None:
        super().__init__()
        self.ring = Ring(64)
        self.zero = os.open("/dev/zero", os.O_RDONLY | os.O_CLOEXEC)
        self.pipe_r, self.pipe_w = os.pipe()
        self.lock = threading.Lock()
        self.final_calls: Counter = Counter()
        self.queued: list = []
        self.errors: list = []
        self.cancels: list = []   # ASYNC_CANCEL ops: no callback of ours, must end too
        self.total_ops = 0

    # -- what a thread does ---------------------------------------------------------
    def _callback(self, op, res, flags):
        if not flags & F_MORE:
            with self.lock:
                self.final_calls[op.user_data, id(op)] += 1

    def _run(self, ring: Ring, program: list[str], repeat: int) -> None:
        mine = []
        # A program of nothing but timed waits would idle for minutes: each thread run is
        # capped in wall time so the CI run stays bounded whatever hypothesis draws.
        deadline = time.monotonic() + THREAD_RUN_SECONDS
        try:
            for _ in range(repeat):
                if time.monotonic() > deadline:
                    break
                for action in program:
                    if action == "nop":
                        mine.append(ring.nop(callback=self._callback))
                    elif action == "link_pair":
                        mine.extend(ring.queue_many([ops.nop().set(flags=LINK), ops.nop()],
                                                    callback=self._callback))
                    elif action == "read_zero":
                        mine.append(ring.read(self.zero, bytearray(64), callback=self._callback))
                    elif action == "stuck_read_cancel":
                        stuck = ring.read(self.pipe_r, bytearray(8), callback=self._callback)
                        mine.append(stuck)
                        cancel = ring.cancel(stuck)
                        with self.lock:
                            self.cancels.append(cancel)
                    elif action == "timeout":
                        mine.append(ring.queue(ops.timeout(0.0001), callback=self._callback))
                    elif action == "submit":
                        ring.submit()
                    elif action == "wait":
                        ring.submit_and_wait(1, timeout=0.002)
                    elif action == "peek":
                        ring.peek()
        except RingClosed:
            pass
        except BaseException as exc:
            self.errors.append(exc)
        finally:
            with self.lock:
                self.queued.extend(mine)
                self.total_ops += len(mine)

    def _threads(self, ring, programs, repeat):
        return [threading.Thread(target=self._run, args=(ring, p, repeat)) for p in programs]

    # -- rules ------------------------------------------------------------------------
    @rule(programs=st.lists(action_lists, min_size=2, max_size=4), repeat=st.integers(20, 60))
    def threads_share_the_ring(self, programs, repeat):
        threads = self._threads(self.ring, programs, repeat)
        SharedRing.thread_runs += len(threads)
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not any(t.is_alive() for t in threads), "a thread hung"
        self._drain()

    @rule(programs=st.lists(action_lists, min_size=2, max_size=4), repeat=st.integers(5, 30),
          delay=st.floats(0, 0.01))
    def close_while_threads_run(self, programs, repeat, delay):
        ring = self.ring
        threads = self._threads(ring, programs, repeat)
        SharedRing.thread_runs += len(threads)
        for t in threads:
            t.start()
        time.sleep(delay)
        ring.close()
        SharedRing.closes += 1
        for t in threads:
            t.join(60)
        assert not any(t.is_alive() for t in threads), "a thread hung after close"
        assert ring.fd == -1, "the ring was not unmapped once every thread left"
        self.ring = Ring(64)
        self._check_all_ended()

    def _drain(self):
        deadline = time.monotonic() + 30
        while not all(op.done for op in (*self.queued, *self.cancels)):
            assert time.monotonic() < deadline, "ops never completed"
            self.ring.submit_and_wait(1, timeout=0.1)
        self._check_all_ended()

    def _check_all_ended(self):
        assert not self.errors, self.errors
        for op in self.queued:
            assert op.done, op
            assert not op.pinned, op
            assert self.final_calls[op.user_data, id(op)] == 1, (op, self.final_calls[op.user_data, id(op)])
        for op in self.cancels:
            assert op.done and not op.pinned, op
        self.queued.clear()
        self.cancels.clear()
        self.final_calls.clear()

    @invariant()
    def nothing_left_in_flight_between_steps(self):
        assert self.ring.in_flight == 0

    def teardown(self):
        SharedRing.ops_done += self.total_ops
        self.ring.close()
        for fd in (self.zero, self.pipe_r, self.pipe_w):
            os.close(fd)

    ops_done = 0
    closes = 0
    thread_runs = 0


def run_machine(min_ops: int) -> None:
    """Runs of the machine until `min_ops` ops have gone through (a run is a few thousand)
    and at least one close raced running threads (hypothesis may pick no close rule in a run)."""
    SharedRing.ops_done = SharedRing.closes = SharedRing.thread_runs = 0
    runs = 0
    budget = time.monotonic() + 150
    while (SharedRing.ops_done < min_ops or SharedRing.closes == 0) and time.monotonic() < budget:
        machine_test = SharedRing.TestCase
        machine_test.settings = settings(max_examples=4, stateful_step_count=8, deadline=None,
                                         database=None, suppress_health_check=list(HealthCheck))
        machine_test().runTest()
        runs += 1


@pytest.mark.timeout(240)
def test_threads_sharing_a_ring(fd_guard):
    run_machine(OPS_PER_RUN)
    assert SharedRing.ops_done >= OPS_PER_RUN and SharedRing.closes > 0


if __name__ == "__main__":
    # The soak: `python tests/stress/test_threads_property.py SECONDS` repeats the machine
    # for that long and prints what went through.
    import sys
    end = time.monotonic() + float(sys.argv[1] if len(sys.argv) > 1 else 60)
    totals = Counter()
    while time.monotonic() < end:
        run_machine(OPS_PER_RUN)
        totals.update(ops=SharedRing.ops_done, closes=SharedRing.closes, threads=SharedRing.thread_runs,
                      runs=1)
        print(dict(totals), flush=True)
    print(f"soak: {totals['ops']} ops, {totals['threads']} thread runs (2-4 at once), "
          f"{totals['closes']} closes under load, nothing lost, duplicated, leaked or left pinned")
