"""Prep helpers: fs family (filled in by its owner)."""

__all__: list[str] = []
