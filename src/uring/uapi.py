"""The kernel ABI, public: opcodes, flags and struct layouts (see _uapi for the source)."""
from uring._uapi import *  # noqa: F401,F403
from uring._uapi import __all__  # noqa: F401
