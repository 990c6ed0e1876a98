"""What the running kernel supports: opcodes (IORING_REGISTER_PROBE), setup flags
(trial setups) and ring features, with the name of our prep helper for each opcode."""

from __future__ import annotations

import errno
import functools
import platform
from typing import Any
from dataclasses import dataclass, field

from uring._uapi import Features, Opcode, SetupFlags

__all__ = ["Probe", "probe", "setup_flag_supported"]

# Flags that cannot be tried alone: what they need alongside, and extra setup arguments.
_COMPANIONS = {
    SetupFlags.SQ_AFF: SetupFlags.SQPOLL,
    SetupFlags.DEFER_TASKRUN: SetupFlags.SINGLE_ISSUER,
    SetupFlags.TASKRUN_FLAG: SetupFlags.COOP_TASKRUN,
    SetupFlags.HYBRID_IOPOLL: SetupFlags.IOPOLL,
    SetupFlags.REGISTERED_FD_ONLY: SetupFlags.NO_MMAP,
}
_NEEDS_ARGS = {SetupFlags.ATTACH_WQ, SetupFlags.NO_MMAP, SetupFlags.REGISTERED_FD_ONLY,
               SetupFlags.CQSIZE, SetupFlags.SQ_AFF}


@functools.lru_cache(maxsize=None)
def setup_flag_supported(flag: int) -> bool | None:
    """Whether io_uring_setup accepts `flag` (None: cannot be tried without resources)."""
    from uring._core import RingCore
    flag = SetupFlags(flag)
    kwargs: dict[str, Any]
    if flag in _NEEDS_ARGS:
        if flag == SetupFlags.CQSIZE:
            kwargs = {"cq_entries": 8}
        elif flag == SetupFlags.SQ_AFF:
            kwargs = {"sq_thread_cpu": 0}
        else:
            return None
        extra = 0 if flag == SetupFlags.CQSIZE else SetupFlags.SQPOLL
        try:
            RingCore(4, flags=int(extra), **kwargs).close()
            return True
        except OSError as exc:
            if exc.errno == errno.EINVAL:
                return False
            raise
    flags = flag | _COMPANIONS.get(flag, 0)
    try:
        RingCore(4, flags=int(flags), no_sqarray=False).close()
        return True
    except OSError as exc:
        if exc.errno in (errno.EINVAL, errno.EOPNOTSUPP):
            return False
        raise


@dataclass
class Probe:
    """The kernel's answers. `opcodes` maps every Opcode to whether it is supported."""
    release: str
    last_op: int
    opcodes: dict = field(default_factory=dict)
    setup_flags: dict = field(default_factory=dict)
    features: Features = Features(0)

    def supports(self, opcode: int) -> bool:
        return self.opcodes.get(Opcode(opcode), False)

    def as_json(self) -> dict:
        from uring.ops import HELPERS
        return {
            "kernel": self.release,
            "last_op": self.last_op,
            "features": [f.name for f in Features if f & self.features],
            "setup_flags": {f"IORING_SETUP_{f.name}": ok for f, ok in self.setup_flags.items()},
            "opcodes": [
                {"name": f"IORING_OP_{op.name}", "number": int(op), "supported": ok,
                 "helper": next(iter(HELPERS.get(int(op), [])), None),
                 "helpers": HELPERS.get(int(op), [])}
                for op, ok in self.opcodes.items()
            ],
        }


def probe(ring=None) -> Probe:
    """Ask the running kernel what it supports (a throwaway ring unless one is given)."""
    from uring._core import RingCore
    own = ring is None
    if own:
        ring = RingCore(4)
    try:
        result = Probe(release=platform.release(), last_op=ring.last_op,
                       features=Features(ring.features))
        result.opcodes = {op: ring.opcode_supported(op) for op in Opcode}
    finally:
        if own:
            ring.close()
    result.setup_flags = {flag: setup_flag_supported(flag) for flag in SetupFlags}
    return result
