"""One prep helper per liburing io_uring_prep_* function, in liburing's argument order
(minus the sqe). Each returns a filled Sqe and makes no syscall; Ring.queue submits it."""

import sys as _sys

from uring.ops import _common
from uring.ops._common import HELPERS, AT_FDCWD
from uring.ops import rw, fs, net, poll, timeouts, cancels, misc
from uring.ops.rw import *  # noqa: F401,F403
from uring.ops.fs import *  # noqa: F401,F403
from uring.ops.net import *  # noqa: F401,F403
from uring.ops.poll import *  # noqa: F401,F403
from uring.ops.timeouts import *  # noqa: F401,F403
from uring.ops.cancels import *  # noqa: F401,F403
from uring.ops.misc import *  # noqa: F401,F403

__all__ = ["HELPERS", "AT_FDCWD", "helpers"]
__all__ += rw.__all__
__all__ += fs.__all__
__all__ += net.__all__
__all__ += poll.__all__
__all__ += timeouts.__all__
__all__ += cancels.__all__
__all__ += misc.__all__

# The families were once the modules `timeout` and `cancel`, names the helper functions
# ops.timeout()/ops.cancel() shadow as attributes; `from uring.ops.timeout import TimeSpec`
# (an import statement looks in sys.modules first) keeps working.
_sys.modules.setdefault(__name__ + ".timeout", timeouts)
_sys.modules.setdefault(__name__ + ".cancel", cancels)


def helpers() -> dict:
    """name -> prep function, for every helper."""
    return dict(_common._FUNCS)
