"""When an alert goes out on a channel: now, after quiet hours, or in its storyline's next digest.

Pure functions of the storyline's route (or the defaults: instant, no quiet hours, no budget)
and the time. Quiet hours are read in the route's time zone and defer delivery, never
detection. A budget of N instant alerts an hour folds the rest into the next hourly digest
(a storyline on a digest already gets one message per digest, so a budget does not apply).

Digests go out at the top of the next hour (hourly) or at 08:00 in the route's time zone
(daily), or, if that falls in quiet hours, when they end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storywatch.core.enums import DigestMode

DAILY_DIGEST_AT = time(8, 0)


@dataclass(frozen=True, slots=True)
class Pacing:
    """A storyline's route, as pacing reads it."""

    digest: DigestMode = DigestMode.INSTANT
    quiet_start: time | None = None
    quiet_end: time | None = None
    timezone: str = "UTC"
    hourly_budget: int | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """When a delivery is due and whether it waits for a digest; ``over_budget`` when the budget folded it."""

    due: datetime
    digest: DigestMode | None
    over_budget: bool = False


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin or UTC") from None


def parse_clock(value: str) -> time:
    """ "22:00" → 22:00; anything else is a ValueError saying what is wanted."""
    try:
        hours, minutes = value.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"not a time of day: {value!r}; use HH:MM, as in 22:00-07:00") from None


def quiet_until(pacing: Pacing, now: datetime) -> datetime | None:
    """The end of the quiet period ``now`` falls in, or None when it is not quiet."""
    if pacing.quiet_start is None or pacing.quiet_end is None or pacing.quiet_start == pacing.quiet_end:
        return None
    local = now.astimezone(zone(pacing.timezone))
    clock = local.time().replace(tzinfo=None)
    start, end = pacing.quiet_start, pacing.quiet_end
    inside = (start <= clock < end) if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    day = local.date() if (start < end or clock < end) else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=local.tzinfo).astimezone(UTC)


def next_digest(mode: DigestMode, pacing: Pacing, now: datetime) -> datetime:
    """When the next digest of ``mode`` goes out, after ``now`` (and after quiet hours)."""
    if mode == DigestMode.HOURLY:
        due = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    else:
        local = now.astimezone(zone(pacing.timezone))
        at = datetime.combine(local.date(), DAILY_DIGEST_AT, tzinfo=local.tzinfo)
        due = (at if at > local else at + timedelta(days=1)).astimezone(UTC)
    return quiet_until(pacing, due) or due


def plan(pacing: Pacing, now: datetime, *, sent_this_hour: int) -> Plan:
    """When one new alert goes out on one channel."""
    if pacing.digest != DigestMode.INSTANT:
        return Plan(next_digest(pacing.digest, pacing, now), pacing.digest)
    if pacing.hourly_budget is not None and sent_this_hour >= pacing.hourly_budget:
        mode = DigestMode.HOURLY
        return Plan(next_digest(mode, pacing, now), mode, over_budget=True)
    return Plan(quiet_until(pacing, now) or now, None)


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """How long to wait before attempt ``attempts + 1``: 30 s doubling to an hour, or what the far end asked."""
    delay = min(30.0 * 2 ** max(attempts - 1, 0), 3600.0)
    if retry_after is not None:
        delay = max(1.0, min(retry_after, 3600.0))
    return timedelta(seconds=delay)
