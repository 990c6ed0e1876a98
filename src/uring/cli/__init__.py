"""The `uring` command: probe, demo, bench (and cp once chains exist)."""
from uring.cli.main import entry, main

__all__ = ["main", "entry"]
