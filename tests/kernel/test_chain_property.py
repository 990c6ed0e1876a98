"""Property test: random chains (NOP, TIMEOUT, reads full/short/at EOF, writes, failing
and rejected requests, link-timed reads of an empty pipe) with random link kinds, drains
and CQE_SKIP_SUCCESS, several chains per submit. Each member's outcome, res and whether the
kernel posted its CQE must match an independent model of the kernel's rules, and nothing may
be left in flight afterwards.

The model (predict) is written from the documented rules and the measurements in
tests/kernel/test_links.py / test_drain.py, not from uring.chain."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uring import Ring, ops
from uring._uapi import TimeoutFlags
from uring.chain import Outcome
from tests.conftest import check_ring_idle

ECANCELED = -errno.ECANCELED
ETIME = -errno.ETIME
FILE_SIZE = 65536

# kind -> (res when it runs, whether the kernel counts that as a failure, res reported for a
# success that posted nothing)
RUNTIME = {
    "nop": (0, False),
    "nop_lt": (0, False),                 # with a link timeout that never fires
    "timeout": (ETIME, True),             # expires: a failure for links
    "timeout_ok": (ETIME, False),         # IORING_TIMEOUT_ETIME_SUCCESS
    "read_full": (512, False),
    "read_short": (1000, True),           # 4096 asked, 1000 left in the file
    "read_eof": (0, True),                # 0 at EOF
    "write": (256, False),                # to /dev/null
    "fail": (-errno.EBADF, True),         # write to a read-only fd: fails when it runs
    "stuck": (ECANCELED, True),           # read of an empty pipe, cut by its link timeout
    "invalid": (None, None),              # rejected at submission: -EINVAL
}
KINDS = sorted(RUNTIME)


@dataclass(frozen=True)
class Spec:
    kind: str
    hard: bool
    skip: bool
    drain: bool


@dataclass
class Expect:
    outcome: Outcome
    res: int
    posted: bool


def predict(chains: list[list[Spec]]) -> list[list[Expect]]:
    """What the kernel does with these chains, submitted in this order on a fresh ring."""
    drain_disabled = False
    result = []
    for chain in chains:
        # Submission: SQEs are initialised in order; CQE_SKIP_SUCCESS disables drain on the
        # ring (even for the same SQE), then DRAIN is refused, then the op's own checks.
        errors = {}
        for i, spec in enumerate(chain):
            if spec.skip:
                drain_disabled = True
            if spec.drain and drain_disabled:
                errors[i] = -errno.EOPNOTSUPP
            elif spec.kind == "invalid":
                errors[i] = -errno.EINVAL
        if errors:
            # The whole chain fails: the rejected members with their error, every other
            # member -ECANCELED, and all of them post (the head never skips: the chain API
            # puts a NOP without CQE_SKIP_SUCCESS first when any member has it).
            result.append([Expect(Outcome.FAILED, errors[i], True) if i in errors
                           else Expect(Outcome.CHAIN_BROKEN, ECANCELED, True)
                           for i in range(len(chain))])
            continue
        expects = []
        broken = silent = False
        for i, spec in enumerate(chain):
            if broken:
                expects.append(Expect(Outcome.CHAIN_BROKEN, ECANCELED, not silent))
                continue
            res, failed = RUNTIME[spec.kind]
            if spec.kind == "stuck":
                outcome = Outcome.TIMED_OUT
            elif failed:
                outcome = Outcome.FAILED if res < 0 else Outcome.SHORT
            else:
                outcome = Outcome.OK
            posted = failed or not spec.skip        # a skipped success posts nothing
            expects.append(Expect(outcome, res, posted))
            if failed and not spec.hard and i < len(chain) - 1:
                broken = True
                silent = spec.skip    # a failing skipped member: the cancelled ones post nothing
        result.append(expects)
    return result


def link_timeouts_armed(chain: list[Spec]) -> bool:
    """Linux 6.18 does not arm the link timeout of a request an io-wq worker issues. A DRAIN
    flag past the head of a chain makes the kernel force the chain async, so a "stuck" member
    issued after the head would never be cut short: such chains are left out (the chain's
    deadline, which does not rely on link timeouts alone, is tested in test_timeouts.py).
    With CQE_SKIP_SUCCESS anywhere the head is the chain's own guard NOP, so every member is
    past the head."""
    guarded = any(spec.skip for spec in chain)
    drained_inside = any(spec.drain for spec in (chain if guarded else chain[1:]))
    return not (drained_inside and any(spec.kind == "stuck" for spec in chain))


sometimes = st.sampled_from([False, False, True])
specs = st.builds(Spec, kind=st.sampled_from(KINDS), hard=st.booleans(), skip=sometimes, drain=sometimes)
chain_lists = st.lists(st.lists(specs, min_size=1, max_size=5).filter(link_timeouts_armed),
                       min_size=1, max_size=3)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    base = tmp_path_factory.mktemp("chainprop")
    data = base / "data"
    data.write_bytes(bytes(range(256)) * (FILE_SIZE // 256))
    ro = os.open(data, os.O_RDONLY)
    # Writes go to /dev/null: a buffered write to a regular file completes in an io-wq worker,
    # and on Linux 6.18 a link timeout on the member issued after it is never armed (see
    # test_timeouts.py::test_link_timeout_after_a_member_that_ran_in_io_wq), which would
    # leave "stuck" members pending for good.
    rw = os.open("/dev/null", os.O_WRONLY)
    pipe_r, pipe_w = os.pipe()
    yield ro, rw, pipe_r
    for fd in (ro, rw, pipe_r, pipe_w):
        os.close(fd)


def add(ch, spec: Spec, files):
    ro, rw, pipe_r = files
    kw = {"hard": spec.hard, "skip_success": spec.skip, "drain": spec.drain}
    kind = spec.kind
    if kind == "nop":
        return ch.nop(**kw)
    if kind == "nop_lt":
        return ch.nop(timeout=1, **kw)
    if kind == "timeout":
        return ch.timeout(0.001, **kw)
    if kind == "timeout_ok":
        return ch.timeout(0.001, 0, TimeoutFlags.ETIME_SUCCESS, **kw)
    if kind == "read_full":
        return ch.read(ro, bytearray(512), 512, 0, **kw)
    if kind == "read_short":
        return ch.read(ro, bytearray(4096), 4096, FILE_SIZE - 1000, **kw)
    if kind == "read_eof":
        return ch.read(ro, bytearray(512), 512, FILE_SIZE, **kw)
    if kind == "write":
        return ch.write(rw, b"w" * 256, 256, 0, **kw)
    if kind == "fail":
        return ch.write(ro, b"x" * 16, 16, 0, **kw)
    if kind == "stuck":
        return ch.read(pipe_r, bytearray(8), 8, -1, timeout=0.002, **kw)
    if kind == "invalid":
        bad = ops.nop()
        bad.unsafe_set(op_flags=0x80000000)  # unknown NOP flag: -EINVAL at submission
        return ch.add(bad, **kw)
    raise AssertionError(kind)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chains=chain_lists)
def test_random_chains_match_the_model(files, chains):
    ring = Ring(64)
    try:
        built = []
        for chain in chains:
            ch = ring.chain()
            for spec in chain:
                add(ch, spec, files)
            built.append(ch.queue())
        ring.submit()
        for ch in built:
            ch.wait(timeout=10)
        got = [[Expect(m.outcome, m.res, m.posted) for m in ch] for ch in built]
        assert got == predict(chains)
        for ch in built:
            for m in ch:
                if m.timeout_op is not None and m.outcome is not Outcome.TIMED_OUT:
                    assert m.timeout_res == ECANCELED     # disarmed, or cancelled with the chain
        for ch, chain in zip(built, chains):
            # The member named as the breaker is the first failure that cut others off.
            if any(m.outcome is Outcome.CHAIN_BROKEN for m in ch):
                assert ch.broken_by is not None and ch.broken_by.outcome in (
                    Outcome.FAILED, Outcome.SHORT, Outcome.TIMED_OUT)
            else:
                assert ch.broken_by is None
        check_ring_idle(ring)
    finally:
        ring.close()
