"""Cancellation of ops in flight: async cancel by op, user_data, fd, opcode, first match or
every match, and synchronous cancel (IORING_REGISTER_SYNC_CANCEL); mixed into Ring.

What the kernel does (re-checked on Linux 6.18 by tests/kernel/test_cancel.py):

* A cancel request's own CQE says how it went: 0 (found and cancelled), -ENOENT (nothing
  matched: already finished, or a chain member that has not started yet), -EALREADY (it is
  running in a worker, which was interrupted); with IORING_ASYNC_CANCEL_ALL or _ANY, the
  number cancelled.
* The target still posts its own final CQE, usually -ECANCELED (-EINTR if it was running),
  but it may also have completed normally first. Its buffers stay pinned until then.
* IORING_ASYNC_CANCEL_ANY implies _ALL and cannot be combined with _FD or _OP (-EINVAL).

Which ops we cancelled is recorded on them (op.cancel_reason = uring.Cancelled), so their
result raises Cancelled, a chain reports them CANCELLED, and an accept/open/socket whose fd
still arrives after the cancel has that fd closed by the core instead of leaking it
(op.discarded_fd records it). An op is marked only when the cancel surely targets it: by Op or
user_data, or with _ALL/_ANY; a first-match cancel by fd or opcode names no op.
"""

from __future__ import annotations

import errno
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Iterable

from uring import errors
from uring._core import Op, Sqe
from uring._uapi import SYNC_CANCEL_REG, CancelFlags, Opcode, RegisterOp, SqeFlags
from uring.ops.cancels import cancel64 as _cancel64_sqe, cancel_fd as _cancel_fd_sqe, check_cancel_flags, user_data_of
from uring.ops.timeouts import timeout_remove as _timeout_remove_sqe

if TYPE_CHECKING:
    from uring.chain import Chain, Member

__all__ = ["CancelMixin"]

_ALL = int(CancelFlags.ALL)
_ANY = int(CancelFlags.ANY)
_FD = int(CancelFlags.FD)
_FD_FIXED = int(CancelFlags.FD_FIXED)
_OP = int(CancelFlags.OP)
_FIXED_FILE = int(SqeFlags.FIXED_FILE)
_ACCEPT = int(Opcode.ACCEPT)
# The kernel's answers to a cancel that are not failures of the cancel request itself.
_ANSWERS = (errno.ENOENT, errno.EALREADY, errno.ETIME)


def _common_sqe_fields(sqe: Sqe, fields: dict[str, Any]) -> Sqe:
    unknown = set(fields) - {"sqe_flags", "ioprio", "personality", "context"}
    if unknown:
        raise TypeError(f"unexpected keyword argument(s) {sorted(unknown)}")
    flags = fields.pop("sqe_flags", None)
    if flags is not None or any(v is not None for v in fields.values()):
        sqe.set(flags=flags, **fields)
    return sqe


class _Unmark:
    """Callback of a cancel aimed at one op: if the kernel found nothing while that op is
    still pending, the op had not started (a chain member waiting for its turn, a request
    held back by a drain) and will run later as if never cancelled, so it is not ours to
    call cancelled (nor to close the fd it may create)."""

    __slots__ = ("target",)

    def __init__(self, target: Op) -> None:
        self.target: Op | None = target

    def __call__(self, op: Op, res: int, flags: int) -> None:
        target = self.target
        if target is None:
            return
        if res == -errno.ENOENT and not target.done and target.cancel_reason is errors.Cancelled:
            target.cancel_reason = None
        self.target = None


class CancelMixin:
    """Ring.cancel(), cancel64(), cancel_fd(), timeout_remove() and sync_cancel()."""

    # -- choosing the ops a cancel will hit ------------------------------------------

    def _cancel_targets(self, user_data: int | None, fd: int | None, flags: int,
                        opcode: int | None) -> list[Op]:
        """The ops in flight the kernel is sure to cancel with these keys (see module doc)."""
        if flags & _ANY:
            return [op for op in self.ops_in_flight()  # type: ignore[attr-defined]
                    if op.opcode != Opcode.ASYNC_CANCEL and not op.done]
        by_user_data = bool(flags & CancelFlags.USERDATA) or not flags & (_FD | _FD_FIXED | _OP)
        if not by_user_data and not flags & _ALL:
            return []          # the first of several matches: the kernel does not say which
        if fd is not None:
            # Only accepts: for them the SQE's fd is the file the kernel matches, and they are
            # the fd-creating ops whose late success must be closed rather than leaked.
            fixed = bool(flags & _FD_FIXED)
            candidates = [op for op in self.ops_in_flight()  # type: ignore[attr-defined]
                          if op.opcode == _ACCEPT and op.fd == fd
                          and bool(op.sqe_flags & _FIXED_FILE) == fixed]
        else:
            candidates = self.ops_in_flight()  # type: ignore[attr-defined]
        return [op for op in candidates
                if not op.done
                and (not by_user_data or op.user_data == user_data)
                and (not flags & _OP or op.opcode == opcode)]

    @staticmethod
    def _mark(targets: Iterable[Op]) -> list[Op]:
        marked = []
        for op in targets:
            if op.cancel_reason is None and not op.done:
                op.cancel_reason = errors.Cancelled
                marked.append(op)
        return marked

    # -- async cancel ------------------------------------------------------------------

    def cancel(self, target: "Op | int | Member | Chain", flags: int = 0, *, opcode: int | None = None,
               **fields: Any) -> Any:
        """Queue IORING_OP_ASYNC_CANCEL of `target`: an Op, a raw user_data, a chain Member,
        or a whole Chain (one cancel per member not yet final; returns their list: the one
        that is running is cancelled and, with soft links, the rest of the chain breaks).

        Returns the cancel's Op: its res is 0, -ENOENT or -EALREADY (a count with
        IORING_ASYNC_CANCEL_ALL). The target ends with its own final CQE and is marked as
        cancelled by us (Cancelled), unless the kernel answers -ENOENT while the target has
        not even started (it then runs normally later); the cancel Op's callback is used for
        that. Keywords sqe_flags/ioprio/personality/context set the cancel SQE's fields."""
        from uring.chain import Chain, Member
        if isinstance(target, Chain):
            # Only the running member can be found; the cancels of the others answer -ENOENT
            # and leave them to the chain's rules (soft links: cancelled; hard: they run).
            pending = [m.op for m in target.members if m.op is not None and not m.op.done]
            return [self.cancel(op, flags, opcode=opcode, **fields) for op in pending]
        if isinstance(target, Member):
            if target.op is None:
                raise ValueError("this chain member is not queued yet")
            target = target.op
        sqe = _cancel64_sqe(user_data_of(target), flags, opcode=opcode)
        known = target if isinstance(target, Op) and opcode is None and not flags & _ANY else None
        return self._queue_cancel(sqe, user_data_of(target), None, flags | (_OP if opcode is not None else 0),
                                  opcode, fields, known)

    def cancel64(self, user_data: int, flags: int = 0, *, opcode: int | None = None, **fields: Any) -> Op:
        """Queue IORING_OP_ASYNC_CANCEL by raw user_data (or with IORING_ASYNC_CANCEL_ANY,
        of everything); see cancel()."""
        sqe = _cancel64_sqe(user_data, flags, opcode=opcode)
        return self._queue_cancel(sqe, user_data, None, flags | (_OP if opcode is not None else 0), opcode,
                                  fields)

    def cancel_fd(self, fd: int, flags: int = 0, *, opcode: int | None = None, **fields: Any) -> Op:
        """Queue IORING_OP_ASYNC_CANCEL of the request(s) on file `fd` (add
        IORING_ASYNC_CANCEL_ALL for all of them, _FD_FIXED for a registered-file index)."""
        sqe = _cancel_fd_sqe(fd, flags, opcode=opcode)
        return self._queue_cancel(sqe, None, fd, flags | _FD | (_OP if opcode is not None else 0), opcode,
                                  fields)

    def _queue_cancel(self, sqe: Sqe, user_data: int | None, fd: int | None, flags: int,
                      opcode: int | None, fields: dict[str, Any], known: Op | None = None) -> Op:
        _common_sqe_fields(sqe, fields)
        # An Op given as the target is the one op with its user_data: no need to search.
        targets = [known] if known is not None else self._cancel_targets(user_data, fd, flags, opcode)
        op = self.queue(sqe)  # type: ignore[attr-defined]
        marked = self._mark(targets)
        if len(marked) == 1 and not flags & (_ALL | _ANY):
            op.callback = _Unmark(marked[0])
        return op

    def timeout_remove(self, user_data: "Op | int", flags: int = 0, **fields: Any) -> Op:
        """Queue IORING_OP_TIMEOUT_REMOVE of a TIMEOUT (its Op or user_data); its CQE is 0,
        -ENOENT or -EALREADY, and the removed timeout ends -ECANCELED, marked Cancelled."""
        sqe = _common_sqe_fields(_timeout_remove_sqe(user_data, flags), fields)
        targets = self._cancel_targets(user_data_of(user_data), None, 0, None)
        op = self.queue(sqe)  # type: ignore[attr-defined]
        self._mark(targets)
        return op

    # -- synchronous cancel --------------------------------------------------------------

    def sync_cancel(self, target: "Op | int | Member | None" = None, *, fd: int | None = None,
                    flags: int = 0, opcode: int | None = None,
                    timeout: float | timedelta | None = None) -> int:
        """IORING_REGISTER_SYNC_CANCEL: cancel and wait, in the calling thread, until the
        matching request(s) are gone, then process the completions that produced.

        Match by `target` (Op, user_data or Member), or by `fd` (IORING_ASYNC_CANCEL_FD is
        implied), or everything with flags=IORING_ASYNC_CANCEL_ANY; `opcode` adds
        IORING_ASYNC_CANCEL_OP. `timeout` bounds the wait (seconds/timedelta; None = none).
        Returns the kernel's answer: 0 or the number cancelled (with _ALL/_ANY), -ENOENT
        (nothing matched), -EALREADY, or -ETIME (the timeout expired first)."""
        from uring.chain import Member
        check_cancel_flags(flags)
        if isinstance(target, Member):
            if target.op is None:
                raise ValueError("this chain member is not queued yet")
            target = target.op
        if opcode is not None:
            if not isinstance(opcode, int) or isinstance(opcode, bool) or not 0 <= opcode <= 0xFF:
                raise ValueError(f"invalid opcode {opcode!r}")
            flags |= _OP
        if fd is not None:
            if target is not None:
                raise ValueError("sync_cancel() matches by target or by fd, not both")
            from uring.ops._common import check_fd
            check_fd(fd)
            flags |= _FD
        elif flags & (_FD | _FD_FIXED):
            raise ValueError("IORING_ASYNC_CANCEL_FD/FD_FIXED need fd=")
        elif target is None and not flags & (_ANY | _OP):
            raise ValueError("sync_cancel() needs a target, fd=, opcode= or IORING_ASYNC_CANCEL_ANY")
        if flags & _ANY and flags & (_FD | _FD_FIXED | _OP):
            raise ValueError("IORING_ASYNC_CANCEL_ANY cannot be combined with an fd or opcode key")
        user_data = user_data_of(target) if target is not None else 0
        if timeout is None:
            sec = nsec = -1
        else:
            secs = errors.seconds(timeout)
            sec = int(secs)
            nsec = int(round((secs - sec) * 1e9))
        reg = bytearray(SYNC_CANCEL_REG.pack(user_data, fd if fd is not None else -1, flags, sec, nsec,
                                             opcode or 0, 0, 0, 0))
        targets = self._cancel_targets(user_data, fd, flags, opcode)
        self._mark(targets)
        try:
            answer = self._register(RegisterOp.SYNC_CANCEL, reg, 1)  # type: ignore[attr-defined]
        except OSError as exc:
            if exc.errno not in _ANSWERS:
                raise
            answer = -exc.errno
        self.peek()  # type: ignore[attr-defined]
        return answer
