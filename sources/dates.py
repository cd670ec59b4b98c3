"""Dates as sources give them: ISO 8601, RFC 2822 / HTTP dates, feedparser's struct_time, WARC-Date.

Every function returns an aware UTC datetime or None (or raises ArchiveError where a date is
required): hostile values such as year 1 with an offset, which has no UTC time, never escape
as OverflowError.
"""

from __future__ import annotations

import calendar
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from storywatch.sources.errors import ArchiveError

_EXAMPLE = "2025-04-18T16:30:00+00:00"


def _utc(moment: datetime) -> datetime | None:
    """An aware datetime in UTC (a naive one taken as UTC), or None when it has no UTC time."""
    try:
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def iso_utc(value: object) -> datetime | None:
    """An ISO-8601 string as an aware UTC datetime (a naive one taken as UTC); None if it is not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return _utc(datetime.fromisoformat(value.strip()))
    except ValueError:
        return None


def aware_iso(value: object) -> datetime | None:
    """An ISO-8601 timestamp that gives a time and a zone, in UTC; None for anything less precise."""
    if not isinstance(value, str) or "T" not in value.upper():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return _utc(parsed) if parsed.tzinfo is not None else None


def http_date(value: object) -> datetime | None:
    """An RFC 2822 or HTTP date ("Tue, 22 Apr 2025 09:00:00 GMT") in UTC; None if it is not one.

    HTTP dates are GMT (RFC 9110 5.6.7), so one without a zone is taken as UTC.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return _utc(parsedate_to_datetime(value.strip()))
    except (TypeError, ValueError, IndexError):
        return None


def from_struct_time(value: object) -> datetime | None:
    """feedparser's parsed dates, which are struct_time in UTC."""
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def parse_published(value: object, *, what: str = "'published'") -> datetime:
    """A required date (``what`` names it in messages): ISO 8601 or RFC 2822, naive taken as UTC.

    Raises ArchiveError saying what was wrong and what to give instead.
    """
    if not isinstance(value, str) or not value.strip():
        raise ArchiveError(f"{what} must be an ISO-8601 date such as {_EXAMPLE}")
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            raise ArchiveError(f"{what} {text!r} is not an ISO-8601 date such as {_EXAMPLE}") from None
    moment = _utc(parsed)
    if moment is None:
        raise ArchiveError(f"{what} {text!r} has no time in UTC; give a date such as {_EXAMPLE}")
    return moment


def warc_date(moment: datetime) -> str:
    """WARC-Date (WARC/1.0: seconds, UTC); naive times are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
