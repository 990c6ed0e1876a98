"""`python -m uring` runs the `uring` command."""
import sys

from uring.cli import entry

sys.exit(entry())
