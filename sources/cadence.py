"""How long to wait before polling a feed again: what its publisher allows, how often it publishes, bounds.

A feed that publishes every ten minutes is worth polling every five; one that publishes twice a
day is not worth polling every quarter hour. The publisher may say how fresh an answer stays:
RSS ``<ttl>`` (minutes), ``Cache-Control: max-age`` and ``Expires``; storywatch never polls
sooner than that (up to a day). Within those, the interval follows the feed's own rhythm: half
the typical gap between the rounds that brought new entries, longer again when the feed has been
quiet for a while, and always within the configured bounds. Errors back off as before
(``sources.fetch.backoff_delay``).

Pure functions: no clock, database or network.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from email.utils import parsedate_to_datetime
from itertools import pairwise
from statistics import median

DAY = 86400.0
MIN_GAPS = 3
"""Gaps between new-entry rounds needed before the feed's own rhythm is trusted over its configured interval."""

_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d{1,10})")


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else None


def declared_freshness(headers: Mapping[str, str], ttl: object, now: datetime) -> float | None:
    """Seconds the publisher says its answer stays fresh (the longest of ttl, max-age, Expires), or None.

    ``no-cache`` and ``no-store`` say nothing about how often to ask, so they give None; values
    that do not parse are ignored.
    """
    found: list[float] = []
    control = (headers.get("cache-control") or "").lower()
    match = _MAX_AGE.search(control)
    if match and "no-store" not in control and "no-cache" not in control:
        found.append(float(match.group(1)))
    expires, date = _http_date(headers.get("expires")), _http_date(headers.get("date"))
    if expires is not None:
        found.append((expires - (date or now)).total_seconds())
    try:
        minutes = float(str(ttl).strip()) if ttl not in (None, "") else None
    except ValueError:
        minutes = None
    if minutes is not None and minutes == minutes:  # not NaN
        found.append(minutes * 60.0)
    positive = [f for f in found if f > 0]
    return min(max(positive), DAY) if positive else None


def next_interval(
    *,
    base: float,
    rounds_with_news: Sequence[datetime],
    now: datetime,
    freshness: float | None,
    minimum: float,
    maximum: float,
) -> float:
    """Seconds until the next poll.

    ``base`` is the feed's configured interval; ``rounds_with_news`` the times of recent rounds
    that brought new entries (any order). Busy feeds go towards ``minimum``, quiet ones towards
    ``maximum``, and never sooner than ``freshness``.
    """
    interval = base
    times = sorted(set(rounds_with_news))
    gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
    gaps = [g for g in gaps if g > 0]
    if len(gaps) >= MIN_GAPS:
        interval = median(gaps) / 2.0
        idle = (now - times[-1]).total_seconds()
        if idle > 4 * median(gaps):  # quiet lately: back off further than its old rhythm says
            interval = max(interval, idle / 4.0)
    interval = min(max(interval, minimum), max(maximum, minimum))
    if freshness is not None:
        interval = max(interval, freshness)
    return interval
