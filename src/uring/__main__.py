"""`python -m uring` runs the `uring` command."""
import sys

from uring.cli import main

sys.exit(main())
