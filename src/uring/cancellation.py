"""Cancellation of ops in flight: async cancel by op, user_data, fd, opcode, any/all,
and synchronous cancel (IORING_REGISTER_SYNC_CANCEL); mixed into Ring."""

from __future__ import annotations

__all__ = ["CancelMixin"]


class CancelMixin:
    """Ring.cancel() and friends."""
