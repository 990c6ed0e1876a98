"""The chain's reading of the kernel's link rules, without a kernel: the SQEs a Chain
writes (link flags, link timeouts, guard/end NOPs) and how it turns the CQEs the kernel
posts (as measured on Linux 6.18, see tests/kernel/test_links.py) into member outcomes,
including the members the kernel never posts a CQE for."""

from __future__ import annotations

import errno
import time

import pytest

from uring import Cancelled, ChainBroken, LinkTimedOut, _uapi, ops
from uring._uapi import Opcode, SqeFlags, TimeoutFlags
from uring.chain import Chain, ChainState, Node, Outcome

L = int(SqeFlags.IO_LINK)
H = int(SqeFlags.IO_HARDLINK)
D = int(SqeFlags.IO_DRAIN)
S = int(SqeFlags.CQE_SKIP_SUCCESS)
ECANCELED = -errno.ECANCELED
ETIME = -errno.ETIME
OK, SHORT, FAILED, BROKEN, TIMED_OUT, CANCELLED, PENDING = (
    Outcome.OK, Outcome.SHORT, Outcome.FAILED, Outcome.CHAIN_BROKEN, Outcome.TIMED_OUT,
    Outcome.CANCELLED, Outcome.PENDING)


class FakeOp:
    """Stands in for uring.Op: what the chain reads and writes on its ops."""

    def __init__(self, sqe, user_data):
        self.opcode = sqe.opcode
        self.sqe_flags = sqe.flags
        self.bytes = bytes(sqe)
        self.sqe = sqe
        self.user_data = user_data
        self.context = sqe.context
        self.callback = None
        self.cancel_reason = None
        self.done = False
        self.res = None

    def complete(self, res, flags=0):
        """What the core does with a CQE: final result, then the callback, dropped after."""
        assert not self.done, "a CQE for a finished op"
        if not flags & 2:
            self.done, self.res = True, res
        cb = self.callback
        if not flags & 2:
            self.callback = None
        cb(self, res, flags)


class FakeRing:
    """The part of Ring that Chain uses."""

    setup_flags = 0

    def __init__(self):
        self.ops = []
        self.reserved = []

    def opcode_supported(self, opcode):
        return True

    def reserve(self, n):
        self.reserved.append(n)

    def queue(self, sqe, *, callback=None, context=None, allow_skip_success=False):
        op = FakeOp(sqe, len(self.ops) + 1)
        if callback is not None:
            op.callback = callback
        self.ops.append(op)
        return op

    def _complete_skipped(self, op, res=0):
        op.complete(0)

    def submit(self):
        return 0

    def submit_and_wait(self, wait_nr=1, timeout=None):
        raise AssertionError("the fake kernel has nothing more to post")


def build(*specs, **chain_kwargs):
    """A queued chain of NOP-like members: specs are dicts of Chain.add() keywords,
    with 'sqe' optionally giving the Sqe."""
    ring = FakeRing()
    ch = Chain(ring, **chain_kwargs)
    for spec in specs:
        spec = dict(spec)
        sqe = spec.pop("sqe", None) or ops.nop()
        ch.add(sqe, **spec)
    ch.queue()
    return ring, ch


def layout(ring):
    """(opcode, IOSQE flags) of every SQE written, in ring order."""
    return [(op.opcode, op.sqe_flags) for op in ring.ops]


NOP, LT, READ, TIMEOUT = Opcode.NOP, Opcode.LINK_TIMEOUT, Opcode.READ, Opcode.TIMEOUT

# -- the SQEs a chain writes ---------------------------------------------------------

PLANS = [
    ("soft chain", [{}, {}, {}], {}, [(NOP, L), (NOP, L), (NOP, 0)]),
    ("hard by default", [{}, {}], {"hard": True}, [(NOP, H), (NOP, 0)]),
    ("mixed links", [{"hard": True}, {}, {"hard": True}, {}], {}, [(NOP, H), (NOP, L), (NOP, H), (NOP, 0)]),
    ("a single member", [{}], {}, [(NOP, 0)]),
    ("link timeout after a member", [{"timeout": 1}, {}], {}, [(NOP, L), (LT, L), (NOP, 0)]),
    ("link timeout on the last member", [{}, {"timeout": 1}], {}, [(NOP, L), (NOP, L), (LT, 0)]),
    ("hard member keeps its timeout hard", [{"hard": True, "timeout": 1}, {}], {},
     [(NOP, H), (LT, H), (NOP, 0)]),
    ("drain on a member", [{}, {"drain": True}], {}, [(NOP, L), (NOP, D)]),
    ("drain on the chain", [{}, {}], {"drain": True}, [(NOP, L | D), (NOP, 0)]),
    ("skip in the middle: a guard NOP first", [{}, {"skip_success": True}, {}], {},
     [(NOP, H), (NOP, L), (NOP, L | S), (NOP, 0)]),
    ("skip on the last member: a guard and an end NOP", [{}, {"skip_success": True}], {},
     [(NOP, H), (NOP, L), (NOP, H | S), (NOP, 0)]),
    ("skip everywhere", [{}, {}], {"skip_success": True}, [(NOP, H), (NOP, L | S), (NOP, H | S), (NOP, 0)]),
    ("skipped last member with a timeout", [{"skip_success": True, "timeout": 1}], {},
     [(NOP, H), (NOP, H | S), (LT, H), (NOP, 0)]),
    ("deadline: one timeout per member, and a watchdog", [{}, {}], {"deadline": 5},
     [(NOP, L), (LT, L), (NOP, L), (LT, 0), (TIMEOUT, 0)]),
]


@pytest.mark.parametrize("name,specs,kwargs,expected", PLANS, ids=[p[0] for p in PLANS])
def test_plan(name, specs, kwargs, expected):
    ring, ch = build(*specs, **kwargs)
    assert layout(ring) == expected
    assert ring.reserved == [len(expected)], "room for the whole chain is reserved at once"


def test_deadline_timeouts_are_absolute_and_shared():
    before = time.monotonic()
    ring, _ = build({}, {}, deadline=0.5)
    after = time.monotonic()
    instants = set()
    for op in ring.ops:
        if op.opcode != LT:
            continue
        f = _uapi.SQE.unpack(op.bytes)
        assert f[7] == TimeoutFlags.ABS, "a deadline is an absolute CLOCK_MONOTONIC instant"
        pin = next(p for p in op.sqe.pins if getattr(p, "addr", None) == f[5])
        sec, nsec = _uapi.TIMESPEC.unpack(bytes(pin.obj))
        instants.add(sec + nsec / 1e9)
    assert len(instants) == 1, "every member is bounded by the same instant"
    (instant,) = instants
    assert before + 0.5 - 1e-6 <= instant <= after + 0.5 + 1e-6


def test_report_timeout_makes_the_timeout_a_member():
    ring, ch = build({"timeout": 1, "report_timeout": True}, {})
    assert [m.kind for m in ch.members] == ["op", "timeout", "op"]
    assert ch[1].op is ring.ops[1] and ch[0].timeout_op is ring.ops[1]
    ring2 = FakeRing()
    ch2 = Chain(ring2)
    ch2.nop()
    t = ch2.link_timeout(0.5)
    ch2.nop()
    ch2.queue()
    assert layout(ring2) == [(NOP, L), (LT, L), (NOP, 0)]
    assert t.kind == "timeout" and ch2[0].timeout_op is ring2.ops[1]


BAD_BUILDS = [
    (lambda ch: ch.add(ops.link_timeout(1)), ValueError),
    (lambda ch: ch.link_timeout(1), ValueError),                      # nothing before it
    (lambda ch: (ch.nop(timeout=1), ch.link_timeout(1)), ValueError),  # two timeouts for one op
    (lambda ch: ch.nop(sqe_flags=L), ValueError),
    (lambda ch: ch.nop(sqe_flags=0x80), ValueError),
    (lambda ch: ch.nop(timeout_flags=TimeoutFlags.ABS), ValueError),
    (lambda ch: ch.nop(timeout=-1), ValueError),
    (lambda ch: ch.nop(bogus=1), TypeError),
    (lambda ch: ch.add(b"not an sqe"), TypeError),
    (lambda ch: ch.nop(callback=5), TypeError),
    (lambda ch: ch.no_such_helper(), AttributeError),
    (lambda ch: ch.add(_openat_sqe(), skip_success=True), ValueError),   # the fd would leak
    (lambda ch: ch.queue(), ValueError),                               # empty
]


def _openat_sqe():
    from uring.ops._common import path, sqe
    s = sqe(Opcode.OPENAT, -100)
    s.addr = path(s, "/dev/null")
    return s


@pytest.mark.parametrize("action,exc", BAD_BUILDS)
def test_bad_builds(action, exc):
    ch = Chain(FakeRing())
    with pytest.raises(exc):
        action(ch)


def test_deadline_and_member_timeout_exclude_each_other():
    ch = Chain(FakeRing(), deadline=1)
    with pytest.raises(ValueError):
        ch.nop(timeout=1)
    with pytest.raises(ValueError):
        Chain(FakeRing(), deadline=-1)


def test_a_queued_chain_is_closed_for_additions():
    ring, ch = build({})
    with pytest.raises(RuntimeError):
        ch.nop()
    with pytest.raises(RuntimeError):
        ch.queue()


def test_an_exception_in_the_with_block_queues_nothing():
    ring = FakeRing()
    with pytest.raises(KeyError):
        with Chain(ring) as ch:
            ch.nop()
            raise KeyError
    assert ring.ops == [] and not ch.queued


# -- from CQEs to outcomes ------------------------------------------------------------

def feed(ring, events):
    """Deliver CQEs: (node index, res) pairs in the order the kernel posted them."""
    for index, res in events:
        ring.ops[index].complete(res)


def snapshot(ch):
    return [(m.outcome, m.res if m.done else None, m.posted) for m in ch.members]


SCENARIOS = [
    # name, member specs, CQEs (node, res) as the kernel posts them, expected
    # [(outcome, res, posted)] per member, index of the breaking member or None
    ("three soft members succeed", [{}, {}, {}], [(0, 0), (1, 0), (2, 0)],
     [(OK, 0, True)] * 3, None),
    ("failing head cancels the rest", [{}, {}, {}], [(0, -errno.EBADF), (1, ECANCELED), (2, ECANCELED)],
     [(FAILED, -errno.EBADF, True), (BROKEN, ECANCELED, True), (BROKEN, ECANCELED, True)], 0),
    ("hard link survives an expired TIMEOUT", [{"hard": True, "sqe": ops.timeout(0.01)}, {}],
     [(0, ETIME), (1, 0)], [(FAILED, ETIME, True), (OK, 0, True)], None),
    ("rejected at submission: members before it are cancelled too",
     [{"hard": True}, {"hard": True}, {}, {}],
     [(0, ECANCELED), (1, ECANCELED), (2, -errno.EINVAL), (3, ECANCELED)],
     [(BROKEN, ECANCELED, True), (BROKEN, ECANCELED, True), (FAILED, -errno.EINVAL, True),
      (BROKEN, ECANCELED, True)], 2),
    ("short read breaks a soft link", [{"sqe": ops.read(5, bytearray(4096))}, {}],
     [(0, 1024), (1, ECANCELED)], [(SHORT, 1024, True), (BROKEN, ECANCELED, True)], 0),
    ("0 at EOF breaks it too", [{"sqe": ops.read(5, bytearray(512))}, {}],
     [(0, 0), (1, ECANCELED)], [(SHORT, 0, True), (BROKEN, ECANCELED, True)], 0),
    ("short read over a hard link", [{"sqe": ops.read(5, bytearray(4096)), "hard": True}, {}],
     [(0, 1024), (1, 0)], [(SHORT, 1024, True), (OK, 0, True)], None),
    ("an expired TIMEOUT with ETIME_SUCCESS does not break",
     [{"sqe": ops.timeout(0.01, 0, TimeoutFlags.ETIME_SUCCESS)}, {}],
     [(0, ETIME), (1, 0)], [(OK, ETIME, True), (OK, 0, True)], None),
]


@pytest.mark.parametrize("name,specs,events,expected,breaker", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_scenario(name, specs, events, expected, breaker):
    ring, ch = build(*specs)
    feed(ring, events)
    assert ch.done
    assert snapshot(ch) == expected
    assert (ch.broken_by.index if ch.broken_by is not None else None) == breaker


SKIP_SCENARIOS = [
    # Chains with skip_success: node 0 is the guard NOP; the list of CQEs is what the kernel
    # posted (measured); members whose CQE never comes are inferred.
    ("skipped successes post nothing", [{"skip_success": True}, {"skip_success": True}, {}],
     [(0, 0), (3, 0)], [(OK, 0, False), (OK, 0, False), (OK, 0, True)], None),
    ("a failing skipped member posts, and what follows is cancelled silently",
     [{"skip_success": True}, {"skip_success": True, "sqe": ops.read(999, bytearray(8))},
      {"skip_success": True}, {}],
     [(0, 0), (2, -errno.EBADF)],
     [(OK, 0, False), (FAILED, -errno.EBADF, True), (BROKEN, ECANCELED, False), (BROKEN, ECANCELED, False)], 1),
    ("a failing member without skip: the cancelled members post, skip or not",
     [{"skip_success": True}, {"sqe": ops.read(999, bytearray(8))}, {"skip_success": True}, {}],
     [(0, 0), (2, -errno.EBADF), (3, ECANCELED), (4, ECANCELED)],
     [(OK, 0, False), (FAILED, -errno.EBADF, True), (BROKEN, ECANCELED, True), (BROKEN, ECANCELED, True)], 1),
    ("hard links: a failing skipped member does not silence the rest",
     [{"skip_success": True, "hard": True},
      {"skip_success": True, "hard": True, "sqe": ops.read(999, bytearray(8))},
      {"skip_success": True, "hard": True}, {}],
     [(0, 0), (2, -errno.EBADF), (4, 0)],
     [(OK, 0, False), (FAILED, -errno.EBADF, True), (OK, 0, False), (OK, 0, True)], None),
    ("a short skipped read posts its (positive) result and silences the rest",
     [{"skip_success": True, "sqe": ops.read(5, bytearray(4096))}, {}],
     [(0, 0), (1, 1024)], [(SHORT, 1024, True), (BROKEN, ECANCELED, False)], 0),
    ("a skipped read that succeeds reports the bytes it was asked for",
     [{"skip_success": True, "sqe": ops.read(5, bytearray(512))}, {}],
     [(0, 0), (2, 0)], [(OK, 512, False), (OK, 0, True)], None),
    ("rejected with a skipped head: the guard makes every member post",
     [{"skip_success": True}, {}, {"sqe": ops.nop()}, {}],
     [(0, ECANCELED), (1, ECANCELED), (2, ECANCELED), (3, -errno.EINVAL), (4, ECANCELED)],
     [(BROKEN, ECANCELED, True), (BROKEN, ECANCELED, True), (FAILED, -errno.EINVAL, True),
      (BROKEN, ECANCELED, True)], 2),
    ("skipped last member: the end NOP says it succeeded", [{}, {"skip_success": True}],
     [(0, 0), (1, 0), (3, 0)], [(OK, 0, True), (OK, 0, False)], None),
    ("skipped last member failing: it posts, the end NOP still runs (hard link)",
     [{}, {"skip_success": True, "sqe": ops.read(999, bytearray(8))}],
     [(0, 0), (1, 0), (2, -errno.EBADF), (3, 0)], [(OK, 0, True), (FAILED, -errno.EBADF, True)], None),
]


@pytest.mark.parametrize("name,specs,events,expected,breaker", SKIP_SCENARIOS, ids=[s[0] for s in SKIP_SCENARIOS])
def test_skip_scenario(name, specs, events, expected, breaker):
    ring, ch = build(*specs)
    assert ring.ops[0].opcode == NOP and ring.ops[0].sqe_flags == H, "guard NOP first"
    feed(ring, events)
    assert ch.done, [op.done for op in ring.ops]
    assert snapshot(ch) == expected
    assert (ch.broken_by.index if ch.broken_by is not None else None) == breaker
    assert all(op.done for op in ring.ops), "every op of the chain is finished, posted or not"


def test_members_are_not_declared_finished_while_the_kernel_may_run_them():
    # A skipped member posting -ECANCELED right after a posted success of unknown size
    # (sendmsg with MSG_WAITALL): it may be collateral (then the rest will post) or
    # cancelled on its own (then the rest is silent). The chain must not guess "silent".
    from uring.ops._common import sqe as raw
    sendmsg = raw(Opcode.SENDMSG, 5)
    sendmsg.op_flags = 0x100
    ring, ch = build({"sqe": sendmsg}, {"skip_success": True}, {})
    feed(ring, [(0, 0), (1, 10), (2, ECANCELED)])
    assert not ch.done and not ring.ops[3].done
    feed(ring, [(3, ECANCELED)])
    assert ch.done
    assert snapshot(ch) == [(SHORT, 10, True), (BROKEN, ECANCELED, True), (BROKEN, ECANCELED, True)]


def test_link_timeout_outcomes():
    # Fired: the timeout's CQE (-ETIME) comes first, then the member's -ECANCELED.
    ring, ch = build({"timeout": 0.02}, {})
    feed(ring, [(1, ETIME), (0, ECANCELED), (2, ECANCELED)])
    assert snapshot(ch) == [(TIMED_OUT, ECANCELED, True), (BROKEN, ECANCELED, True)]
    assert ch.broken_by is ch[0]
    with pytest.raises(LinkTimedOut):
        ch[0].result
    with pytest.raises(ChainBroken):
        ch[1].result
    assert ring.ops[0].cancel_reason is LinkTimedOut and ring.ops[2].cancel_reason is ChainBroken
    # Not fired: the member's result, then the timeout's -ECANCELED.
    ring, ch = build({"timeout": 1})
    feed(ring, [(0, 0), (1, ECANCELED)])
    assert snapshot(ch) == [(OK, 0, True)] and ch[0].timeout_op.res == ECANCELED
    # A running op interrupted: -EINTR, the timeout says -EALREADY.
    ring, ch = build({"timeout": 1})
    feed(ring, [(1, -errno.EALREADY), (0, -errno.EINTR)])
    assert snapshot(ch) == [(TIMED_OUT, -errno.EINTR, True)]
    # A visible timeout member.
    ring, ch = build({"timeout": 1, "report_timeout": True})
    feed(ring, [(1, ETIME), (0, ECANCELED)])
    assert [m.outcome for m in ch] == [TIMED_OUT, TIMED_OUT] and ch[1].res == ETIME


def test_cancelled_by_us():
    ring, ch = build({}, {})
    ring.ops[0].cancel_reason = Cancelled
    feed(ring, [(0, ECANCELED), (1, ECANCELED)])
    assert snapshot(ch) == [(CANCELLED, ECANCELED, True), (BROKEN, ECANCELED, True)]
    assert ch.broken_by is ch[0]
    with pytest.raises(Cancelled):
        ch.results()


def test_unknown_cancellation_of_a_lone_member():
    ring, ch = build({})
    feed(ring, [(0, ECANCELED)])
    assert ch[0].outcome is CANCELLED and ch.broken_by is None


def test_short_success_of_unknown_size_is_inferred_from_the_next_member():
    from uring.ops._common import sqe as raw
    recvmsg = raw(Opcode.RECVMSG, 5)
    recvmsg.op_flags = 0x100      # MSG_WAITALL: short counts as failure, size unknown here
    ring, ch = build({"sqe": recvmsg}, {})
    feed(ring, [(0, 3), (1, ECANCELED)])
    assert snapshot(ch) == [(SHORT, 3, True), (BROKEN, ECANCELED, True)]


def test_callbacks_in_order_with_inferred_members():
    seen = []
    cb = (lambda m, res, flags: seen.append((m.index, res, m.posted)))
    ring, ch = build({"skip_success": True, "callback": cb},
                     {"skip_success": True, "callback": cb, "sqe": ops.read(999, bytearray(8))},
                     {"callback": cb})
    done = []
    ch.on_done = done.append
    feed(ring, [(0, 0), (2, -errno.EBADF)])
    assert seen == [(0, 0, False), (1, -errno.EBADF, True), (2, ECANCELED, False)]
    assert done == [ch]


def test_more_cqes_go_to_the_member_callback():
    seen = []
    ring, ch = build({"callback": lambda m, res, flags: seen.append((res, flags))})
    ring.ops[0].complete(5, 2)
    ring.ops[0].complete(0)
    assert seen == [(5, 2), (0, 0)] and ch.done


def test_results_and_pending():
    ring, ch = build({}, {})
    assert [m.outcome for m in ch] == [PENDING, PENDING] and not ch.done
    with pytest.raises(Exception):
        ch[0].res
    feed(ring, [(0, 7), (1, 0)])
    assert ch.ok and [m.result for m in ch] == [7, 0]


# -- ChainState alone ----------------------------------------------------------------

def test_chain_state_infers_only_certainties():
    nodes = [Node("guard", hard=True), Node("member", skip=True), Node("member", skip=True),
             Node("end")]
    st = ChainState(nodes)
    assert st.observe(0, 0) == []
    assert st.observe(3, 0) == [(1, 0), (2, 0)]
    assert st.done
    nodes = [Node("guard", hard=True), Node("member", skip=True), Node("timeout", target=1),
             Node("member"), Node("member")]
    st = ChainState(nodes)
    st.observe(0, 0)
    # Fails on its own (its timeout fired): the timeout still posts, the rest is silent.
    assert st.observe(1, ECANCELED) == [(3, ECANCELED), (4, ECANCELED)]
    assert not st.done
    assert st.observe(2, ETIME) == []
    assert st.done
    outcomes = st.outcomes()
    assert outcomes == [None, TIMED_OUT, TIMED_OUT, BROKEN, BROKEN]
    assert st.breaker(outcomes) == 1


def test_deadline_watchdog_cancels_what_still_runs():
    # Nodes: 0 nop, 1 its timeout, 2 read, 3 its timeout, 4 nop, 5 its timeout; then the
    # watchdog TIMEOUT (op 6). The read's own link timeout is never armed (it was issued by
    # an io-wq worker): the watchdog fires, the chain cancels the unfinished members.
    ring, ch = build({}, {"sqe": ops.read(5, bytearray(8))}, {}, deadline=0.05)
    assert ring.ops[6].opcode == TIMEOUT
    feed(ring, [(0, 0), (1, ECANCELED)])
    feed(ring, [(6, ETIME)])
    cancels = ring.ops[7:]
    assert [op.opcode for op in cancels] == [Opcode.ASYNC_CANCEL, Opcode.ASYNC_CANCEL]
    targets = [_uapi.SQE.unpack(op.bytes)[5] for op in cancels]
    assert targets == [ring.ops[2].user_data, ring.ops[4].user_data]
    # The read is interrupted; the nop behind it had not started (-ENOENT) and is cancelled
    # by the chain's soft link.
    feed(ring, [(7, 0), (8, -errno.ENOENT), (3, -errno.ENOENT), (2, -errno.EINTR), (4, ECANCELED),
                (5, ECANCELED)])
    assert ch.done and all(op.done for op in ring.ops)
    assert snapshot(ch) == [(OK, 0, True), (TIMED_OUT, -errno.EINTR, True), (BROKEN, ECANCELED, True)]
    assert ch.broken_by is ch[1]


def test_deadline_watchdog_is_removed_when_the_chain_ends_first():
    ring, ch = build({}, deadline=5)
    feed(ring, [(0, 0), (1, ECANCELED)])
    assert ch.done and ring.ops[-1].opcode == Opcode.TIMEOUT_REMOVE
    assert _uapi.SQE.unpack(ring.ops[-1].bytes)[5] == ring.ops[2].user_data
    feed(ring, [(3, 0), (2, ECANCELED)])           # the remove, then the watchdog
    assert snapshot(ch) == [(OK, 0, True)]


@pytest.mark.parametrize("make,res,outcome", [
    (lambda: ops.readv(5, [bytearray(10), bytearray(20)]), 20, SHORT),    # 30 asked
    (lambda: ops.readv(5, [bytearray(10), bytearray(20)]), 30, OK),
    (lambda: ops.writev(5, [b"abc", b"de"]), 5, OK),
    (lambda: ops.write(5, b"abcdef"), 4, SHORT),
    (lambda: ops.recv(5, bytearray(9), 0x100), 3, SHORT),                   # MSG_WAITALL
    (lambda: ops.recv(5, bytearray(9)), 3, OK),                             # a short recv is fine
    (lambda: ops.nop(), 0, OK),
])
def test_short_is_judged_against_what_was_asked(make, res, outcome):
    # The last member: no later member tells; the size asked for does.
    ring, ch = build({"sqe": make()})
    feed(ring, [(0, res)])
    assert ch[0].outcome is outcome
