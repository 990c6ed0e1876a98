"""Linked chains (IOSQE_IO_LINK / IOSQE_IO_HARDLINK), link timeouts, chain deadlines, drain
and CQE_SKIP_SUCCESS, with a clear outcome per member; mixed into Ring.

The kernel's rules this module follows (each re-checked on Linux 6.18 by tests/kernel):

* A chain runs in SQE order; each member starts when the one before it completes.
* Soft link (IOSQE_IO_LINK): if the member fails, every later member completes with
  -ECANCELED. "Fails" means any unexpected result: an error, but also a short read or write
  (fewer bytes than asked, including 0 at EOF), or a TIMEOUT that expires (-ETIME).
* Hard link (IOSQE_IO_HARDLINK): the next member runs whatever this one's result was.
* A member the kernel rejects at submission (a bad field, DRAIN on a ring that has used
  CQE_SKIP_SUCCESS, a misplaced LINK_TIMEOUT) fails with its own error and every other member,
  before and after it, completes with -ECANCELED, hard links or not.
* LINK_TIMEOUT bounds only the request just before it. If it fires, that request ends with
  -ECANCELED (-EINTR if it was running) and the timeout's CQE is -ETIME; otherwise the
  timeout's CQE is -ECANCELED.
* IOSQE_CQE_SKIP_SUCCESS: a success posts no CQE. A failing member posts anyway, and then, if
  its link is soft, the members cancelled after it post nothing either. A LINK_TIMEOUT with
  the flag never posts, even when it fires. Once a ring has seen the flag, IOSQE_IO_DRAIN
  fails with -EOPNOTSUPP on that ring for good.
* A chain cannot span two submits.
* Measured on Linux 6.18: a LINK_TIMEOUT is not armed for a request that an io-wq worker
  issues, i.e. one whose predecessor ran in a worker (a buffered write to a regular file, an
  fsync, IOSQE_ASYNC, a chain drained from its middle, which the kernel forces async). A
  chain's deadline therefore also has a standalone TIMEOUT that cancels what still runs.

Ring.chain() builds a chain, queues it in one go (reserving room for all of it first) and
reads the CQEs back into Member outcomes; where the kernel posts nothing it infers the
result from the CQEs that do arrive, and adds NOPs so that inference is always possible
(see Chain).
"""

from __future__ import annotations

import enum
import errno
import inspect
import struct
import time
from datetime import timedelta
from typing import Any, Callable, Iterator, Sequence

from uring import errors
from uring._core import Op, RingCore, Sqe
from uring._uapi import Opcode, SqeFlags, TimeoutFlags
from uring.ops import _common
from uring.ops.rw import nop as _nop_sqe
from uring.ops.timeouts import (TimeSpec, link_timeout as _link_timeout_sqe, timeout as _timeout_sqe,
                               timeout_remove as _timeout_remove_sqe, timeout_update as _timeout_update_sqe)

__all__ = ["ChainMixin", "Chain", "Member", "Outcome", "ChainState", "Node"]

_LINK = int(SqeFlags.IO_LINK)
_HARD = int(SqeFlags.IO_HARDLINK)
_DRAIN = int(SqeFlags.IO_DRAIN)
_SKIP = int(SqeFlags.CQE_SKIP_SUCCESS)
_LINK_BITS = _LINK | _HARD
_OP_LINK_TIMEOUT = int(Opcode.LINK_TIMEOUT)
_F_MORE = 2

_ECANCELED = -errno.ECANCELED
_ETIME = -errno.ETIME
_EINTR = -errno.EINTR
_ERESTARTSYS = -512  # leaks out of an interrupted io-wq open on Linux 6.18
# Results a request ends with when a cancellation (ours, or a link timeout's) reached it.
_CANCEL_RESULTS = frozenset((_ECANCELED, _EINTR, _ERESTARTSYS))

# Ops whose positive result the kernel still counts as a failure when it is short: for these
# "expected" is the byte count asked for. MSG_WAITALL makes send/recv behave the same way.
_RW = frozenset((Opcode.READ, Opcode.WRITE, Opcode.READ_FIXED, Opcode.WRITE_FIXED, Opcode.SPLICE,
                 Opcode.TEE))
_RW_VEC = frozenset((Opcode.READV, Opcode.WRITEV, Opcode.READV_FIXED, Opcode.WRITEV_FIXED))
_WAITALL_OPS = frozenset((Opcode.SEND, Opcode.RECV))
_WAITALL_MSG_OPS = frozenset((Opcode.SENDMSG, Opcode.RECVMSG))
_MSG_WAITALL = 0x100
# Ops whose result is a new fd: with CQE_SKIP_SUCCESS nobody would ever learn it.
_FD_CREATORS = frozenset((Opcode.ACCEPT, Opcode.OPENAT, Opcode.OPENAT2, Opcode.SOCKET,
                          Opcode.FIXED_FD_INSTALL))
_IOVEC = struct.Struct("=QQ")

# Newer cores let a silently completed op carry its real result; detect it once.
_SKIPPED_TAKES_RES = len(inspect.signature(RingCore._complete_skipped).parameters) > 2


class Outcome(enum.Enum):
    """How one member of a chain ended."""

    PENDING = "pending"
    OK = "ok"                      # succeeded
    SHORT = "short"                # res >= 0 but fewer bytes than asked (0 at EOF): the kernel
                                   # counts it as a failure, so it breaks a soft link
    FAILED = "failed"              # its own error (res < 0)
    CHAIN_BROKEN = "chain_broken"  # -ECANCELED: another member failed first (or the chain was
                                   # rejected at submission)
    TIMED_OUT = "timed_out"        # cut short by its link timeout or the chain's deadline
    CANCELLED = "cancelled"        # we cancelled it (Ring.cancel and friends), or it was
                                   # cancelled without a reason this chain can see

    def __repr__(self) -> str:
        return f"Outcome.{self.name}"


# Outcomes that stop a soft-linked chain when the member's link is soft.
_FAILURES = frozenset((Outcome.SHORT, Outcome.FAILED, Outcome.TIMED_OUT, Outcome.CANCELLED))


class Node:
    """One SQE of a chain as the resolver sees it (kept free of Ops so it can be tested alone).

    role: "member" (a caller's request), "timeout" (a LINK_TIMEOUT bounding node target),
    "guard" (a NOP we put first) or "end" (a NOP we put last).
    expected: the smallest res that is a full success (byte count asked for by read/write
    family ops, 0 for ops that cannot be short), or None when it cannot be known.
    etime_ok: a TIMEOUT with IORING_TIMEOUT_ETIME_SUCCESS (-ETIME is no failure).
    silent_res: the res a success that posted nothing had (the bytes asked for, -ETIME for
    such a TIMEOUT without a completion count, else 0).
    """

    __slots__ = ("role", "skip", "hard", "target", "expected", "etime_ok", "silent_res", "res", "posted")

    def __init__(self, role: str, *, skip: bool = False, hard: bool = False, target: int = -1,
                 expected: int | None = 0, etime_ok: bool = False, silent_res: int | None = None) -> None:
        self.role = role
        self.skip = skip
        self.hard = hard
        self.target = target
        self.expected = expected
        self.etime_ok = etime_ok
        if silent_res is None:
            silent_res = expected if expected is not None else 0
        self.silent_res = silent_res
        self.res: int | None = None
        self.posted = False

    @property
    def done(self) -> bool:
        return self.res is not None

    def __repr__(self) -> str:
        bits = [self.role] + (["skip"] if self.skip else []) + (["hard"] if self.hard else [])
        state = "pending" if self.res is None else f"res={self.res}{'' if self.posted else ' (silent)'}"
        return f"<Node {' '.join(bits)} {state}>"


class ChainState:
    """The kernel's link rules applied to the CQEs of one chain, as they arrive.

    observe(i, res) records the CQE of node i and returns the nodes whose completion the
    kernel will never post but which are now known to be finished, with their result:
    earlier CQE_SKIP_SUCCESS members that succeeded silently (a later member could not have
    posted otherwise), and members cancelled silently after a failing CQE_SKIP_SUCCESS
    member with a soft link. Nothing is inferred that is not certain: a request is never
    declared finished while the kernel may still run it.
    """

    def __init__(self, nodes: Sequence[Node]) -> None:
        self.nodes = list(nodes)
        self.pending = sum(1 for n in self.nodes if n.res is None)
        self.rejected = False

    @property
    def done(self) -> bool:
        return self.pending == 0

    def _primary_before(self, i: int) -> int:
        """Index of the member (or guard) node just before node i, or -1."""
        j = i - 1
        while j >= 0 and self.nodes[j].role not in ("member", "guard"):
            j -= 1
        return j

    def failed(self, i: int) -> bool | None:
        """Whether node i failed in the kernel's sense (so a soft link after it breaks);
        None when its result alone cannot tell (a res >= 0 of unknown expected size)."""
        n = self.nodes[i]
        if n.res is None:
            return None
        if n.skip and n.posted:
            return True            # the kernel posts a CQE_SKIP_SUCCESS request only on failure
        if n.res < 0:
            return not (n.etime_ok and n.res == _ETIME)
        if n.expected is None:
            return None
        return n.res < n.expected

    def _set(self, i: int, res: int, posted: bool) -> None:
        n = self.nodes[i]
        if n.res is None:
            self.pending -= 1
        n.res = res
        n.posted = posted

    def observe(self, i: int, res: int) -> list[tuple[int, int]]:
        """Record node i's CQE; return [(node, res)] of nodes now known to be finished silently."""
        node = self.nodes[i]
        self._set(i, res, True)
        inferred: list[tuple[int, int]] = []
        if node.role == "guard":
            # The guard is a NOP: it only fails when the chain was rejected at submission,
            # and then every member posts (the guard never skips).
            self.rejected = res == _ECANCELED
            return inferred
        if node.role in ("member", "end"):
            # A later member ran, so every earlier skipped member completed, and successfully
            # (a failing one would have posted).
            for j in range(i):
                earlier = self.nodes[j]
                if earlier.res is None and earlier.skip and earlier.role == "member":
                    self._set(j, earlier.silent_res, False)
                    inferred.append((j, earlier.silent_res))
        if node.role == "member" and node.skip and not node.hard and not self.rejected \
                and self._originates_failure(i):
            # It failed with CQE_SKIP_SUCCESS set: the kernel cancels what follows without
            # posting. Its own link timeout is disarmed separately and still posts.
            skip_from = i + 1
            if skip_from < len(self.nodes) and self.nodes[skip_from].role == "timeout":
                skip_from += 1
            for j in range(skip_from, len(self.nodes)):
                if self.nodes[j].res is None:
                    self._set(j, _ECANCELED, False)
                    inferred.append((j, _ECANCELED))
        return inferred

    def _originates_failure(self, i: int) -> bool:
        """Node i (a member that posted although CQE_SKIP_SUCCESS) failed on its own rather
        than being cancelled because the chain broke before it. When unsure, say no: the
        members after it then stay pending instead of being declared finished."""
        if self.nodes[i].res != _ECANCELED:
            return True            # collateral cancellation is always exactly -ECANCELED
        for j in range(i):
            earlier = self.nodes[j]
            if earlier.role != "member" or earlier.hard:
                continue
            # A soft-linked member that failed (or may have: a positive result of unknown
            # size) broke the chain there; once broken, hard links no longer matter.
            if self.failed(j) is not False:
                return False
        return True

    # -- outcomes, once everything is known --------------------------------------------

    def outcomes(self, by_us: Sequence[bool] | None = None,
                 cut: Sequence[bool] | None = None) -> list[Outcome | None]:
        """Outcome of every node (None for guard/end). by_us[i]: we cancelled node i;
        cut[i]: the chain's deadline cancelled node i."""
        nodes = self.nodes
        count = len(nodes)
        ours = list(by_us) if by_us is not None else [False] * count
        deadline_cut = list(cut) if cut is not None else [False] * count
        timeout_of = {n.target: k for k, n in enumerate(nodes) if n.role == "timeout"}
        result: list[Outcome | None] = [None] * count

        def fired(k: int) -> bool:
            t = timeout_of.get(k)
            return t is not None and nodes[t].res is not None and nodes[t].res != _ECANCELED

        # First pass: what each member's own result says.
        unexplained: list[int] = []
        for k, n in enumerate(nodes):
            if n.role != "member":
                continue
            res = n.res
            if res is None:
                result[k] = Outcome.PENDING
            elif res < 0 and fired(k) and (res in _CANCEL_RESULTS or nodes[timeout_of[k]].res == _ETIME):
                result[k] = Outcome.TIMED_OUT
            elif res in _CANCEL_RESULTS and res != _ECANCELED and deadline_cut[k]:
                result[k] = Outcome.TIMED_OUT     # interrupted while running: not collateral
            elif res in _CANCEL_RESULTS and ours[k]:
                result[k] = Outcome.CANCELLED
            elif res == _ECANCELED:
                unexplained.append(k)
            elif res < 0 and not (n.etime_ok and res == _ETIME):
                result[k] = Outcome.FAILED
            elif self.failed(k):
                result[k] = Outcome.SHORT
            else:
                result[k] = Outcome.OK
        # -ECANCELED with no reason of its own: collateral if anything broke the chain before
        # it (whatever the link kind: a rejected chain turns hard links soft), if a member
        # after it was rejected at submission, or if the kernel cancelled it silently.
        members = [k for k, n in enumerate(nodes) if n.role == "member"]
        for k in unexplained:
            failed_before = [j for j in members if j < k and (result[j] in _FAILURES or j in unexplained)]
            soft_before = any(not nodes[j].hard for j in failed_before)
            after = any((jres := nodes[j].res) is not None and jres < 0 and jres != _ECANCELED
                        and result[j] == Outcome.FAILED for j in members if j > k)
            # Just after a soft-linked success whose size we cannot check: that one was short
            # (the member never ran) rather than this one cancelled while running.
            p = self._primary_before(k)
            after_unknown = p >= 0 and nodes[p].role == "member" and not nodes[p].hard \
                and self.failed(p) is None
            if soft_before or after_unknown or self.rejected or not nodes[k].posted:
                result[k] = Outcome.CHAIN_BROKEN
            elif deadline_cut[k]:
                result[k] = Outcome.TIMED_OUT
            elif failed_before or after:
                # Past a hard link only a rejection at submission cancels (it turns every
                # link soft), or a later member rejected there.
                result[k] = Outcome.CHAIN_BROKEN
            else:
                result[k] = Outcome.CANCELLED
        # A success followed (over a soft link) by a collateral cancellation was short.
        for pos, k in enumerate(members[:-1]):
            nxt = members[pos + 1]
            if result[k] == Outcome.OK and not nodes[k].hard and result[nxt] == Outcome.CHAIN_BROKEN \
                    and not self.rejected:
                result[k] = Outcome.SHORT
        for k, n in enumerate(nodes):
            if n.role != "timeout":
                continue
            if n.res is None:
                result[k] = Outcome.PENDING
            elif n.res == _ECANCELED:
                target = result[n.target] if n.target >= 0 else None
                result[k] = Outcome.CHAIN_BROKEN if target == Outcome.CHAIN_BROKEN else Outcome.OK
            elif n.res in (_ETIME, -errno.EALREADY, -errno.ENOENT):
                result[k] = Outcome.TIMED_OUT
            else:
                result[k] = Outcome.FAILED
        return result

    def breaker(self, outcomes: Sequence[Outcome | None]) -> int | None:
        """The node whose failure cancelled the others, or None (nothing broke, or the kernel
        did not say which member it rejected)."""
        broken = [k for k, o in enumerate(outcomes) if o == Outcome.CHAIN_BROKEN and self.nodes[k].role == "member"]
        if not broken:
            return None
        first = broken[0]
        members = [k for k, n in enumerate(self.nodes) if n.role == "member"]
        earlier = [k for k in members if k < first and outcomes[k] in _FAILURES]
        soft = [k for k in earlier if not self.nodes[k].hard]
        if soft:
            return soft[-1]
        if earlier:
            return earlier[-1]
        for k in members:
            if k > first and outcomes[k] == Outcome.FAILED:
                return k       # rejected at submission: it is after those it cancelled
        return None


def _quiet(op: Op, res: int, flags: int) -> None:
    """Callback of the ops a chain adds for itself: their CQEs concern nobody else."""


def _expected(s: Sqe) -> int | None:
    """The smallest res that is not short for this SQE (see Node.expected)."""
    opcode = s.opcode
    if opcode in _RW:
        return s.len
    if opcode in _RW_VEC:
        return _iovec_total(s)
    if opcode in _WAITALL_OPS:
        return s.len if s.op_flags & _MSG_WAITALL else 0
    if opcode in _WAITALL_MSG_OPS:
        return None if s.op_flags & _MSG_WAITALL else 0
    return 0


def _iovec_total(s: Sqe) -> int | None:
    """Bytes described by a vectored SQE's pinned iovec array (None if it is not ours)."""
    for pin in s.pins:
        addr = getattr(pin, "addr", None)
        if addr == s.addr and isinstance(pin.obj, bytearray) and len(pin.obj) == _IOVEC.size * s.len:
            return sum(length for _, length in _IOVEC.iter_unpack(pin.obj))
    return None


class Member:
    """One request of a chain and how it ended.

    `op` is its Op once the chain is queued. `res` is its CQE res, or what the kernel's
    rules say it was when no CQE came (a CQE_SKIP_SUCCESS success, a silently cancelled
    member); `posted` tells which. `outcome` is an Outcome; `result` returns res or raises
    the matching exception (ChainBroken, LinkTimedOut, Cancelled, or the OSError of the
    errno). `timeout_op` is the Op of its LINK_TIMEOUT, if it has one.
    """

    __slots__ = ("chain", "index", "node", "kind", "sqe", "op", "timeout_op", "callback",
                 "_timeout_node")

    def __init__(self, chain: "Chain", index: int, kind: str, sqe: Sqe,
                 callback: Callable[["Member", int, int], Any] | None) -> None:
        self.chain = chain
        self.index = index
        self.kind = kind          # "op", or "timeout" for a LINK_TIMEOUT the caller asked to see
        self.sqe: Sqe | None = sqe
        self.node = -1
        self.op: Op | None = None
        self.timeout_op: Op | None = None
        self.callback = callback
        self._timeout_node = -1

    @property
    def opcode(self) -> int:
        return self.op.opcode if self.op is not None else self.sqe.opcode  # type: ignore[union-attr]

    @property
    def done(self) -> bool:
        state = self.chain._state
        return state is not None and state.nodes[self.node].res is not None

    @property
    def res(self) -> int:
        """The member's final res (see the class docstring); NotDone before that."""
        state = self.chain._state
        if state is None or state.nodes[self.node].res is None:
            raise errors.NotDone(f"chain member {self.index} has not completed")
        return state.nodes[self.node].res  # type: ignore[return-value]

    @property
    def timeout_res(self) -> int | None:
        """The res of this member's link timeout (-ETIME fired, -ECANCELED not needed), also
        when the kernel posted none for it; None without a timeout or while it is pending."""
        state = self.chain._state
        if state is None or self._timeout_node < 0:
            return None
        return state.nodes[self._timeout_node].res

    @property
    def posted(self) -> bool:
        """Whether the kernel posted this member's final CQE (False: inferred)."""
        state = self.chain._state
        return state is not None and state.nodes[self.node].posted

    @property
    def outcome(self) -> Outcome:
        return self.chain._outcome_of(self)

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    @property
    def broke_chain(self) -> bool:
        """This member's failure is what cancelled other members."""
        return self.chain.broken_by is self

    @property
    def timed_out(self) -> bool:
        return self.outcome is Outcome.TIMED_OUT

    @property
    def context(self) -> Any:
        return self.op.context if self.op is not None else self.sqe.context  # type: ignore[union-attr]

    def exception(self) -> OSError | None:
        """The exception `result` raises, or None (OK, SHORT)."""
        outcome = self.outcome
        if outcome is Outcome.PENDING:
            raise errors.NotDone(f"chain member {self.index} has not completed")
        res = self.res
        if outcome in (Outcome.OK, Outcome.SHORT):
            return None
        err = -res if res < 0 else errno.ECANCELED
        name = errors.opcode_name(self.opcode)
        if outcome is Outcome.CHAIN_BROKEN:
            breaker = self.chain.broken_by
            why = f"chain member {breaker.index} ({breaker.outcome.value})" if breaker is not None \
                else "another member"
            exc: OSError = errors.ChainBroken(err, f"{name}: cancelled because {why} broke the chain")
        elif outcome is Outcome.TIMED_OUT:
            exc = errors.LinkTimedOut(err, f"{name}: its link timeout expired")
        elif outcome is Outcome.CANCELLED:
            exc = errors.Cancelled(err, f"{name}: cancelled")
        else:
            exc = errors.error_for(err, self.op)
        exc.member = self  # type: ignore[attr-defined]
        return exc

    @property
    def result(self) -> int:
        """res for OK and SHORT members; raises this member's exception otherwise."""
        exc = self.exception()
        if exc is not None:
            raise exc
        return self.res

    def update_timeout(self, ts: TimeSpec, flags: int = 0) -> Op:
        """Queue IORING_OP_TIMEOUT_REMOVE with IORING_LINK_TIMEOUT_UPDATE: give this member's
        pending link timeout a new expiry `ts` (relative, or absolute with
        IORING_TIMEOUT_ABS). Returns that request's Op (0, or -ENOENT if it already went)."""
        if self.timeout_op is None:
            raise ValueError(f"chain member {self.index} has no link timeout")
        sqe = _timeout_update_sqe(ts, self.timeout_op, flags | TimeoutFlags.LINK_TIMEOUT_UPDATE)
        return self.chain.ring.queue(sqe)

    def __repr__(self) -> str:
        name = errors.opcode_name(self.opcode)
        if not self.done:
            return f"<Member {self.index} {name} {self.outcome.value}>"
        return f"<Member {self.index} {name} {self.outcome.value} res={self.res}{'' if self.posted else ' (no CQE)'}>"


_SQE_FIELDS = ("ioprio", "personality", "buf_group", "file_index", "context")
_CHAIN_KEYS = ("hard", "timeout", "timeout_flags", "report_timeout", "drain", "skip_success",
               "sqe_flags", "callback") + _SQE_FIELDS
_HELPERS: dict[str, tuple[Callable[..., Sqe], tuple[str, ...]]] = {}


def _member_helper(name: str) -> tuple[Callable[..., Sqe], tuple[str, ...]]:
    """The prep helper `name` and the chain keywords it leaves free (cached)."""
    found = _HELPERS.get(name)
    if found is None:
        from uring import ops
        helper = ops.helpers().get(name)
        if helper is None:
            raise AttributeError(f"Chain has no attribute {name!r} (and uring.ops has no prep helper "
                                 "of that name)")
        # The helper's own parameters win (openat_direct's file_index is its slot); the chain's
        # keywords take the names it does not use, as Ring's methods do.
        own = set(inspect.signature(helper).parameters)
        found = _HELPERS[name] = (helper, tuple(k for k in _CHAIN_KEYS if k not in own))
    return found


class Chain:
    """A linked chain under construction, then in flight.

    >>> with ring.chain() as ch:                  # doctest: +SKIP
    ...     ch.read(src, buf, len(buf), 0)
    ...     ch.write(dst, buf, len(buf), 0)
    ...     ch.fsync(dst)
    >>> [m.outcome for m in ch.wait()]            # doctest: +SKIP

    Every prep helper of `uring.ops` is a method here (liburing's argument order) that adds a
    member and returns its Member; `add(sqe)` adds a prepared Sqe. Per member, keywords:
    hard (hard link to the next member instead of the chain's default), timeout (+
    timeout_flags, report_timeout: a LINK_TIMEOUT right after it), drain (IOSQE_IO_DRAIN: the
    kernel then drains the whole chain), skip_success (IOSQE_CQE_SKIP_SUCCESS), callback
    (fn(member, res, flags) for each of its CQEs and its final result, in CQE order; not
    Op.callback, which the chain uses), sqe_flags (more IOSQE bits such as IOSQE_ASYNC or
    IOSQE_FIXED_FILE) and the common SQE fields ioprio, personality, buf_group, file_index,
    context.

    queue() (or leaving the `with` block) writes all of its SQEs into the SQ at once: room for
    the whole chain is reserved first, submitting what was queued before if needed, so the
    chain always reaches the kernel in one submit (SubmissionQueueFull if it cannot fit the
    SQ at all). It is then submitted with the next submit(), or by wait().

    When a member has skip_success, the chain starts with a NOP of its own (so a chain
    rejected at submission still reports every member), and if the last member has it, ends
    with one (so its silent success can be told apart from "still running"): their CQEs are
    consumed quietly, like those of the link timeouts added for `timeout` and `deadline`.
    """

    def __init__(self, ring: RingCore, *, hard: bool = False, skip_success: bool = False,
                 drain: bool = False, deadline: float | timedelta | None = None,
                 on_done: Callable[["Chain"], Any] | None = None) -> None:
        if deadline is not None:
            errors.seconds(deadline)
        self.ring = ring
        self.hard = bool(hard)
        self.skip_success = bool(skip_success)
        self.drain = bool(drain)
        self.deadline = deadline
        self.on_done = on_done
        self.members: list[Member] = []
        self.ops: list[Op] = []
        self._options: list[dict[str, Any]] = []
        self._state: ChainState | None = None
        self._node_member: list[Member | None] = []
        self._outcomes: list[Outcome | None] | None = None
        self._queued = False
        self._inferring = False
        # Deadline: the instant, the standalone TIMEOUT watching it, whether it expired, the
        # nodes its cancels are aimed at, and the internal ops (watchdog, its cancels) that
        # must finish before the chain's ring is idle.
        self._deadline_at: float | None = None
        self._watchdog: Op | None = None
        self._expired = False
        self._cut: set[int] = set()
        self._extras: list[Op] = []

    # -- building ----------------------------------------------------------------------

    def add(self, sqe: Sqe, *, hard: bool | None = None, timeout: TimeSpec | None = None,
            timeout_flags: int = 0, report_timeout: bool = False, drain: bool = False,
            skip_success: bool | None = None, sqe_flags: int = 0,
            callback: Callable[[Member, int, int], Any] | None = None, **fields: Any) -> Member:
        """Add a prepared Sqe as the next member; see the class docstring for the keywords."""
        self._check_building()
        if not isinstance(sqe, Sqe):
            raise TypeError(f"a chain member must be an Sqe from uring.ops, got {type(sqe).__name__}")
        if sqe.opcode == _OP_LINK_TIMEOUT:
            raise ValueError("add a link timeout with timeout= on the member it bounds, or Chain.link_timeout()")
        if callback is not None and not callable(callback):
            raise TypeError("callback must be callable")
        if fields:
            unknown = set(fields) - set(_SQE_FIELDS)
            if unknown:
                raise TypeError(f"unexpected keyword argument(s) {sorted(unknown)}")
        extra = 0
        if sqe_flags:
            extra = _common.check_u32(sqe_flags, "sqe_flags")
            if extra & ~0x7F:
                raise ValueError(f"invalid IOSQE flags {sqe_flags:#x}")
            if extra & _LINK_BITS:
                raise ValueError("the chain sets IOSQE_IO_LINK/IOSQE_IO_HARDLINK itself: use hard=")
        if timeout is not None:
            if self.deadline is not None:
                raise ValueError("a chain with a deadline bounds each member with its own link "
                                 "timeout already; the kernel allows one per request")
            # Build it now so bad values fail here rather than at queue().
            _link_timeout_sqe(timeout, timeout_flags)
        elif timeout_flags or report_timeout:
            raise ValueError("timeout_flags/report_timeout need timeout=")
        if fields and any(v is not None for v in fields.values()):
            sqe.set(**fields)
        sqe.flags = (sqe.flags & ~_LINK_BITS) | extra | (_DRAIN if drain else 0)
        skip = self.skip_success if skip_success is None else bool(skip_success)
        if skip:
            if sqe.opcode in _FD_CREATORS and sqe.file_index == 0:
                raise ValueError(f"{errors.opcode_name(sqe.opcode)} with CQE_SKIP_SUCCESS would leak "
                                 "the fd it creates: no CQE would ever say which it is (use a direct "
                                 "descriptor, file_index=)")
            sqe.flags |= _SKIP
        member = Member(self, len(self.members), "op", sqe, callback)
        self.members.append(member)
        self._options.append({"hard": self.hard if hard is None else bool(hard), "timeout": timeout,
                              "timeout_flags": timeout_flags, "report": False})
        if timeout is not None and report_timeout:
            self._add_timeout_member(timeout, timeout_flags, None)
        return member

    def _add_timeout_member(self, ts: TimeSpec, flags: int,
                            callback: Callable[[Member, int, int], Any] | None) -> Member:
        options = self._options[-1]
        options.update(timeout=ts, timeout_flags=flags, report=True)
        member = Member(self, len(self.members), "timeout", _link_timeout_sqe(ts, flags), callback)
        self.members.append(member)
        self._options.append({})
        return member

    def link_timeout(self, ts: TimeSpec, flags: int = 0, *,
                     callback: Callable[[Member, int, int], Any] | None = None) -> Member:
        """Bound the member added just before with IORING_OP_LINK_TIMEOUT, as a member of
        its own whose CQE (-ETIME fired, -ECANCELED not needed) is reported."""
        self._check_building()
        if not self.members or self.members[-1].kind != "op":
            raise ValueError("a link timeout bounds the member just before it: add that member first")
        if self._options[-1]["timeout"] is not None:
            raise ValueError(f"chain member {len(self.members) - 1} already has a link timeout")
        if self.deadline is not None:
            raise ValueError("a chain with a deadline bounds each member with its own link timeout already")
        return self._add_timeout_member(ts, flags, callback)

    def __getattr__(self, name: str) -> Callable[..., Member]:
        if name.startswith("_"):
            raise AttributeError(name)
        helper, chain_keys = _member_helper(name)
        add = self.add

        def add_member(*args: Any, **kwargs: Any) -> Member:
            if kwargs:
                options = {k: kwargs.pop(k) for k in chain_keys if k in kwargs}
                return add(helper(*args, **kwargs), **options)
            return add(helper(*args))

        add_member.__name__ = name
        add_member.__doc__ = (helper.__doc__ or "") + "\n\nAdds it to the chain; returns its Member."
        return add_member

    def __dir__(self) -> list[str]:
        from uring import ops
        return sorted(set(super().__dir__()) | set(ops.helpers()))

    def _check_building(self) -> None:
        if self._queued:
            raise RuntimeError("this chain is already queued; start a new one")

    # -- queueing ------------------------------------------------------------------------

    def _plan(self) -> tuple[list[Sqe], list[Node], list[Member | None]]:
        """The SQEs in ring order, their resolver nodes, and which Member each belongs to."""
        members = self.members
        primaries = [m for m in members if m.kind == "op"]
        if not primaries:
            raise ValueError("an empty chain")
        skips = any(m.sqe.flags & _SKIP for m in primaries)  # type: ignore[union-attr]
        deadline_at = None
        if self.deadline is not None:
            deadline_at = time.monotonic() + errors.seconds(self.deadline)
        self._deadline_at = deadline_at
        sqes: list[Sqe] = []
        nodes: list[Node] = []
        owners: list[Member | None] = []

        def push(sqe: Sqe, node: Node, owner: Member | None) -> None:
            sqes.append(sqe)
            nodes.append(node)
            owners.append(owner)

        if skips:
            push(_nop_sqe().set(flags=_HARD), Node("guard", hard=True), None)
        if self.drain:
            primaries[0].sqe.flags |= _DRAIN  # type: ignore[union-attr]
        last = primaries[-1]
        ends_silent = bool(last.sqe.flags & _SKIP)  # type: ignore[union-attr]
        position = 0
        while position < len(members):
            m = members[position]
            options = self._options[position]
            s = m.sqe
            assert s is not None
            is_last = m is last
            hard = options["hard"] or (is_last and ends_silent)
            continues = not is_last or ends_silent
            timed = options["timeout"] is not None or deadline_at is not None
            link = (_HARD if hard else _LINK) if continues or timed else 0
            s.flags = (s.flags & ~_LINK_BITS) | link
            m.node = len(nodes)
            etime_ok = s.opcode == Opcode.TIMEOUT and bool(s.op_flags & TimeoutFlags.ETIME_SUCCESS)
            push(s, Node("member", skip=bool(s.flags & _SKIP), hard=hard, expected=_expected(s),
                         etime_ok=etime_ok, silent_res=_ETIME if etime_ok and s.off == 0 else None), m)
            target = m.node
            position += 1
            if timed:
                if options["report"]:
                    tm = members[position]      # the visible LINK_TIMEOUT member that follows
                    tsqe = tm.sqe
                    position += 1
                else:
                    tm = None
                    if deadline_at is not None:
                        tsqe = _link_timeout_sqe(deadline_at, TimeoutFlags.ABS)
                    else:
                        tsqe = _link_timeout_sqe(options["timeout"], options["timeout_flags"])
                assert tsqe is not None
                tsqe.flags = (tsqe.flags & ~_LINK_BITS) | ((_HARD if hard else _LINK) if continues else 0)
                if tm is not None:
                    tm.node = len(nodes)
                m._timeout_node = len(nodes)
                push(tsqe, Node("timeout", target=target, hard=hard), tm)
        if ends_silent:
            push(_nop_sqe(), Node("end"), None)
        return sqes, nodes, owners

    def queue(self) -> "Chain":
        """Write the whole chain into the SQ (see the class docstring). Returns self."""
        self._check_building()
        ring = self.ring
        sqes, nodes, owners = self._plan()
        # Everything that could make ring.queue() refuse an SQE is checked before the first
        # one is written: a half-written chain would link to whatever SQE comes next.
        for s in sqes:
            if not ring.opcode_supported(s.opcode):
                raise errors.unsupported_opcode(s.opcode)
            if s.big and not (ring.setup_flags & (1 << 10)):
                raise errors.UnsupportedFeature(
                    f"{errors.opcode_name(s.opcode)} needs a 128-byte SQE: create the ring with IORING_SETUP_SQE128")
        watchdog = _timeout_sqe(self._deadline_at, 0, TimeoutFlags.ABS) if self._deadline_at is not None else None
        ring.reserve(len(sqes) + (watchdog is not None))
        self._state = ChainState(nodes)
        self._node_member = owners
        self._queued = True
        ops_: list[Op] = []
        for i, s in enumerate(sqes):
            ops_.append(ring.queue(s, callback=_Dispatch(self, i), allow_skip_success=True))
        self.ops = ops_
        if watchdog is not None:
            # The link timeouts cut the chain in the kernel, but Linux does not arm one for a
            # request an io-wq worker issues (after a member that ran there): this TIMEOUT at
            # the same instant makes sure whatever still runs then is cancelled.
            self._watchdog = ring.queue(watchdog, callback=self._on_watchdog)
            self._extras.append(self._watchdog)
        for m in self.members:
            m.op = ops_[m.node]
            m.sqe = None
            if m._timeout_node >= 0:
                m.timeout_op = ops_[m._timeout_node]
        return self

    def __enter__(self) -> "Chain":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None and not self._queued:
            self.queue()

    # -- completion --------------------------------------------------------------------

    def _on_cqe(self, i: int, op: Op, res: int, flags: int) -> None:
        state = self._state
        assert state is not None
        owner = self._node_member[i]
        if flags & _F_MORE:
            if owner is not None and owner.callback is not None:
                owner.callback(owner, res, flags)
            return
        if self._inferring:
            return  # a silent completion we are applying ourselves (see _finish_silently)
        inferred = state.observe(i, res)
        earlier = [(j, r) for j, r in inferred if j < i]
        later = [(j, r) for j, r in inferred if j > i]
        for j, r in earlier:
            self._finish_silently(j, r)
        if owner is not None and owner.callback is not None:
            owner.callback(owner, res, flags)
        for j, r in later:
            self._finish_silently(j, r)
        if state.done:
            self._complete()
        elif self._expired and state.nodes[i].role == "member" and (
                state.nodes[i].hard or state.failed(i) is False):
            self._cut_running()   # the next member starts after the deadline: cut it too

    def _on_watchdog(self, op: Op, res: int, flags: int) -> None:
        if res == _ETIME and not self.done:
            self._expired = True
            self._cut_running()

    def _cut_running(self) -> None:
        """Past the deadline: cancel every member not finished. Only the running one can be
        found; a waiting one answers -ENOENT and is cut when it starts, if it ever does."""
        from uring.ops.cancels import cancel as _cancel_sqe
        ring = self.ring
        state = self._state
        assert state is not None
        for i, node in enumerate(state.nodes):
            if node.role != "member" or node.res is not None or i in self._cut or self.ops[i].done:
                continue
            self._cut.add(i)
            c = ring.queue(_cancel_sqe(self.ops[i].user_data))
            c.callback = _DeadlineCancel(self, i)
            self._extras.append(c)

    def _finish_silently(self, i: int, res: int) -> None:
        op = self.ops[i]
        self._inferring = True
        try:
            if _SKIPPED_TAKES_RES:
                self.ring._complete_skipped(op, res)
            else:
                self.ring._complete_skipped(op)
        finally:
            self._inferring = False
        owner = self._node_member[i]
        if owner is not None and owner.callback is not None:
            owner.callback(owner, res, 0)

    def _complete(self) -> None:
        watchdog = self._watchdog
        if watchdog is not None and not watchdog.done:
            remove = self.ring.queue(_timeout_remove_sqe(watchdog.user_data))
            remove.callback = _quiet
            self._extras.append(remove)
        if self.on_done is None and all(n.res >= 0 for n in self._state.nodes if n.role == "member"):  # type: ignore[union-attr, operator]
            return   # nothing was cancelled: no Op needs a cancel reason; outcomes come on demand
        outcomes = self._classify()
        # Give the Ops the same story, so op.result raises what member.result raises.
        for i, outcome in enumerate(outcomes):
            op = self.ops[i]
            if op.cancel_reason is None:
                if outcome is Outcome.CHAIN_BROKEN:
                    op.cancel_reason = errors.ChainBroken
                elif outcome is Outcome.TIMED_OUT and self._state.nodes[i].role == "member":  # type: ignore[union-attr]
                    op.cancel_reason = errors.LinkTimedOut
        if self.on_done is not None:
            self.on_done(self)

    def _classify(self) -> list[Outcome | None]:
        if self._outcomes is not None:
            return self._outcomes
        state = self._state
        if state is None:
            return []
        by_us = [op.cancel_reason is errors.Cancelled for op in self.ops]
        cut = [i in self._cut for i in range(len(self.ops))]
        outcomes = state.outcomes(by_us, cut)
        if state.done:
            self._outcomes = outcomes
        return outcomes

    def _outcome_of(self, member: Member) -> Outcome:
        if self._state is None:
            return Outcome.PENDING
        outcome = self._classify()[member.node]
        return outcome if outcome is not None else Outcome.PENDING

    # -- results -------------------------------------------------------------------------

    @property
    def queued(self) -> bool:
        return self._queued

    @property
    def done(self) -> bool:
        return self._state is not None and self._state.done

    @property
    def outcomes(self) -> list[Outcome]:
        return [m.outcome for m in self.members]

    @property
    def ok(self) -> bool:
        return self.done and all(m.outcome is Outcome.OK for m in self.members)

    @property
    def broken_by(self) -> Member | None:
        """The member whose failure cancelled the others (the first non-cancelled error),
        or None when nothing was cancelled or the kernel did not say which it rejected."""
        if self._state is None:
            return None
        node = self._state.breaker(self._classify())
        return self._node_member[node] if node is not None else None

    def wait(self, timeout: float | timedelta | None = None) -> list[Member]:
        """Submit (queueing the chain first if needed) and process completions until every
        member is final; returns the members. Never raises for a member's failure (see
        results()); TimeoutError if `timeout` seconds pass first."""
        if not self._queued:
            self.queue()
        ring = self.ring
        deadline = None if timeout is None else time.monotonic() + errors.seconds(timeout)
        ring.submit()
        while not self.done or not all(op.done for op in self._extras):
            if deadline is None:
                ring.submit_and_wait(1)
            else:
                left = deadline - time.monotonic()
                if left <= 0:
                    pending = [m for m in self.members if not m.done]
                    raise TimeoutError(f"{len(pending)} chain member(s) still pending after {timeout}s: {pending}")
                ring.submit_and_wait(1, timeout=left)
        return list(self.members)

    def results(self, timeout: float | timedelta | None = None) -> list[int]:
        """wait(), then every member's res; raises the exception of the member that broke
        the chain (or of the first member that did not succeed)."""
        members = self.wait(timeout)
        breaker = self.broken_by
        exc = breaker.exception() if breaker is not None else None
        if exc is None:
            exc = next((e for e in (m.exception() for m in members) if e is not None), None)
        if exc is not None:
            raise exc
        return [m.res for m in members]

    def __iter__(self) -> Iterator[Member]:
        return iter(self.members)

    def __len__(self) -> int:
        return len(self.members)

    def __getitem__(self, index: int) -> Member:
        return self.members[index]

    def __repr__(self) -> str:
        state = "building" if not self._queued else ("done" if self.done else "in flight")
        return f"<Chain {len(self.members)} members {state}>"


class _Dispatch:
    """Op.callback of a chain's ops: hands the CQE to the chain with the node's index."""

    __slots__ = ("chain", "index")

    def __init__(self, chain: Chain, index: int) -> None:
        self.chain = chain
        self.index = index

    def __call__(self, op: Op, res: int, flags: int) -> None:
        self.chain._on_cqe(self.index, op, res, flags)


class _DeadlineCancel:
    """Callback of a cancel the deadline aimed at a member: -ENOENT while the member is still
    pending means it had not started, so the deadline did not cut it (yet)."""

    __slots__ = ("chain", "index")

    def __init__(self, chain: Chain, index: int) -> None:
        self.chain = chain
        self.index = index

    def __call__(self, op: Op, res: int, flags: int) -> None:
        chain = self.chain
        if res == -errno.ENOENT and not chain.ops[self.index].done:
            chain._cut.discard(self.index)   # cut again when the member before it completes


class ChainMixin:
    """Ring.chain(), Ring.queue_chain() and Ring.with_timeout()."""

    def chain(self, *, hard: bool = False, skip_success: bool = False, drain: bool = False,
              deadline: float | timedelta | None = None,
              on_done: Callable[[Chain], Any] | None = None) -> Chain:
        """A new linked chain on this ring (see Chain); use it as a context manager.

        hard: members hard-link by default (each member's hard= overrides).
        skip_success: IOSQE_CQE_SKIP_SUCCESS on every member by default.
        drain: IOSQE_IO_DRAIN on the chain (it starts once everything before it completed,
        and what comes after waits for it).
        deadline: seconds (or timedelta) from queueing within which the whole chain must
        finish: each member gets an absolute IORING_OP_LINK_TIMEOUT at that instant (a link
        timeout only bounds the request just before it), so whichever member is running
        then is cut short (TIMED_OUT) and, with soft links, the rest is CHAIN_BROKEN.
        on_done: fn(chain) called once every member is final.
        """
        return Chain(self, hard=hard, skip_success=skip_success, drain=drain,  # type: ignore[arg-type]
                     deadline=deadline, on_done=on_done)

    def queue_chain(self, sqes: Sequence[Sqe], *, hard: bool = False, skip_success: bool = False,
                    drain: bool = False, deadline: float | timedelta | None = None) -> Chain:
        """Queue prepared Sqes as one chain (soft links, or hard ones); returns the Chain."""
        if isinstance(sqes, Sqe):
            raise TypeError("queue_chain() takes a sequence of Sqe")
        ch = self.chain(hard=hard, skip_success=skip_success, drain=drain, deadline=deadline)
        for s in sqes:
            ch.add(s)
        return ch.queue()

    def with_timeout(self, sqe: Sqe, timeout: TimeSpec, *, flags: int = 0,
                     report_timeout: bool = False,
                     callback: Callable[[Member, int, int], Any] | None = None) -> Member:
        """Queue `sqe` followed by an IORING_OP_LINK_TIMEOUT of `timeout` (relative seconds,
        timedelta, or with flags=IORING_TIMEOUT_ABS a clock reading). Returns its Member:
        outcome TIMED_OUT if the timeout cut it short; member.timeout_op is the timeout."""
        ch = self.chain()
        member = ch.add(sqe, timeout=timeout, timeout_flags=flags, report_timeout=report_timeout,
                        callback=callback)
        ch.queue()
        return member
