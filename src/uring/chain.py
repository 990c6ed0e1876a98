"""Linked chains (IOSQE_IO_LINK / IOSQE_IO_HARDLINK), link timeouts, drain and
CQE_SKIP_SUCCESS, with per-member outcomes; mixed into Ring."""

from __future__ import annotations

__all__ = ["ChainMixin"]


class ChainMixin:
    """Ring.chain() and friends."""
