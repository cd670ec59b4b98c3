"""The stream's clock: how late it is, judged from the articles themselves, robust to one stray date.

Replay runs on the articles' own time, so an overdue thread alerts when the stream has moved
past its window. One wrongly dated article (an "updated 2031" stamp, a year typed wrong) must
not move that clock: it advances only to a time at least two articles have reached, and an
article whose date the boundary had to clamp does not count at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime


class StreamClock:
    """The latest time at least ``support`` believed articles have reached."""

    def __init__(self, seen: Iterable[datetime] = (), *, support: int = 2) -> None:
        self.support = support
        self._latest: list[datetime] = []
        for moment in seen:
            self.observe(moment)

    def observe(self, moment: datetime) -> None:
        """Count one more article published at ``moment``."""
        self._latest.append(moment)
        self._latest.sort(reverse=True)
        del self._latest[self.support :]

    @property
    def now(self) -> datetime | None:
        """The clock, or None until ``support`` articles have been seen."""
        return self._latest[-1] if len(self._latest) >= self.support else None
