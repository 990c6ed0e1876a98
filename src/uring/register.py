"""Registered resources: files, buffers, eventfd, personalities, ring fds, io-wq tuning,
restrictions and sync cancel, as methods of Ring (IORING_REGISTER_* via the core)."""

from __future__ import annotations

__all__ = ["RegisterMixin"]


class RegisterMixin:
    """io_uring_register(2) operations; mixed into Ring."""
