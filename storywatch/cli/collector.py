"""How a `storywatch` process uses Python's cycle collector: rarely while it runs, never at exit.

A command imports a few thousand modules (Prefect, SQLAlchemy, pydantic) and builds their
models and detection's tables: millions of objects that live as long as the process. With the default thresholds
the collector walks them again and again while they are built (about 0.7 s of a one-article
replay on a 2-core machine), and once more when the interpreter exits (about 1 s), though
nothing is left to free by then. Reference counting frees almost everything as it goes; the
collector is only for cycles, which a command makes few of.
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 10)
"""Allocations between young collections, and young (then middle) collections between older ones.

Python's defaults are (700, 10, 10). A young collection then comes every 50,000 allocations:
still often enough that a long `storywatch serve` or a poll of 10,000 pages keeps its cycles
from piling up.
"""


def tune() -> None:
    """Collect less often for the rest of this process."""
    gc.set_threshold(*THRESHOLDS)


def settle() -> None:
    """Take every object alive now out of the collector's reach, so exiting does not walk them.

    Called as the command ends: its resources are closed by then (databases, clients, files),
    and what is left is freed with the process.
    """
    gc.freeze()
