"""One prep helper per liburing io_uring_prep_* function, in liburing's argument order
(minus the sqe). Each returns a filled Sqe and makes no syscall; Ring.queue submits it."""

from uring.ops import _common
from uring.ops._common import HELPERS, AT_FDCWD
from uring.ops import rw, fs, net, poll, timeout, cancel, misc

__all__ = ["HELPERS", "AT_FDCWD", "helpers"]
for _family in (rw, fs, net, poll, timeout, cancel, misc):
    for _name in _family.__all__:
        globals()[_name] = getattr(_family, _name)
        __all__.append(_name)


def helpers() -> dict:
    """name -> prep function, for every helper."""
    return dict(_common._FUNCS)
