"""The boundary: every article is checked and cleaned here before anything stores it.

Sources build :class:`~storywatch.core.records.ArticleRecord`s from strangers' bytes: a feed,
a page, an archive line. :func:`admit` makes each one safe to store and to reason about:

- each field has the type it should, or the article is refused (:class:`Refused`);
- NUL and the other C0 and C1 control characters are taken out of stored text (newline and
  tab are kept);
- a title, text or source that is too long is cut at a character boundary;
- an id or URL too long for its column is refused: cutting one would name another article;
- a publication date before 1970, or later than the latest the caller accepts (a day past the
  wall clock), is clamped into range.

What was changed is recorded on the record (``flags``) and returned as notes for the user.
Refusals are one article's problem: the batch and the round go on.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from storywatch.core.records import ArticleRecord, Flag
from storywatch.sources.clean import primary_language
from storywatch.sources.errors import SourceError
from storywatch.sources.urls import MAX_URL

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)  # clocks and time zones: a date up to a day ahead is believed
MAX_ID = 512
MAX_SOURCE = 512
MAX_TITLE = 1_000
MAX_TEXT = 1_000_000  # characters; a longer "article" is a dump, and matching it costs too much

# C0 controls but tab and newline (carriage returns become newlines), DEL, and the C1 controls.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class Refused(SourceError):
    """An article that cannot be kept as it is: its message says which field, and why."""


def latest_accepted(now: datetime | None = None) -> datetime:
    """The latest publication date believed: a day after ``now`` (the wall clock)."""
    return (now or datetime.now(UTC)) + FUTURE_SLACK


def clean_text(value: str) -> tuple[str, bool]:
    """The text without control characters (newline and tab kept, CR as newline); and whether it changed."""
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    cleaned = _CONTROLS.sub("", value)
    return cleaned, cleaned != value


def cut(value: str, limit: int) -> tuple[str, bool]:
    """At most ``limit`` characters, cut at a word where one is near, with an ellipsis; and whether it was cut."""
    if len(value) <= limit:
        return value, False
    head = value[: limit - 1]
    space = head.rfind(" ", max(0, limit - 80))
    return (head[:space] if space > 0 else head).rstrip() + "…", True


def clamp(published: datetime | None, *, latest: datetime) -> tuple[datetime | None, bool]:
    """The date within [1970, ``latest``] (aware UTC), and whether it had to be moved."""
    if published is None:
        return None, False
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    if published < EARLIEST:
        return EARLIEST, True
    if published > latest:
        return latest, True
    return published, False


def admit(record: ArticleRecord, *, latest: datetime | None = None) -> tuple[ArticleRecord, list[str]]:
    """The record made safe to store, and notes on what changed; Refused when it cannot be kept."""
    _require_text("url", record.url)
    _require_text("title", record.title, empty=True)
    _require_text("text", record.text)
    for name in ("archive_id", "source", "language"):
        value = getattr(record, name)
        if value is not None and not isinstance(value, str):
            raise Refused(f"'{name}' must be a string, not {type(value).__name__}")
    if record.published is not None and not isinstance(record.published, datetime):
        raise Refused("'published' must be a date")
    flags = set(record.flags)
    notes: list[str] = []

    url, url_changed = clean_text(record.url.strip())
    if url_changed or "\n" in url or "\t" in url:
        raise Refused(f"URL {url[:80]!r} holds control characters")
    if len(url) > MAX_URL:
        raise Refused(f"URL of {len(url):,} characters, longer than the {MAX_URL:,} storywatch keeps")
    archive_id = record.archive_id
    if archive_id is not None:
        archive_id, changed = clean_text(archive_id.strip())
        if changed:
            raise Refused(f"id {archive_id[:80]!r} holds control characters")
        if len(archive_id) > MAX_ID:
            raise Refused(f"id of {len(archive_id):,} characters, longer than the {MAX_ID} storywatch keeps")
        archive_id = archive_id or None

    title, dirty_title = clean_text(record.title)
    title = " ".join(title.split())
    text, dirty_text = clean_text(record.text)
    source, dirty_source = clean_text(record.source) if record.source is not None else (None, False)
    if dirty_title or dirty_text or dirty_source:
        flags.add(Flag.CONTROL_CHARACTERS)
        notes.append("control characters taken out")
    title, title_cut = cut(title, MAX_TITLE)
    text, text_cut = cut(text, MAX_TEXT)
    if source is not None:
        source = " ".join(source.split()) or None
    source, source_cut = cut(source, MAX_SOURCE) if source is not None else (None, False)
    for was_cut, flag, what, limit in (
        (title_cut, Flag.TITLE_CUT, "title", MAX_TITLE),
        (text_cut, Flag.TEXT_CUT, "text", MAX_TEXT),
        (source_cut, Flag.SOURCE_CUT, "source", MAX_SOURCE),
    ):
        if was_cut:
            flags.add(flag)
            notes.append(f"{what} cut to {limit:,} characters")
    if not text.strip():
        raise Refused("no article text is left once control characters are taken out")

    published, clamped = clamp(record.published, latest=latest or latest_accepted())
    if clamped:
        flags.add(Flag.PUBLISHED_CLAMPED)
        notes.append(
            f"date {record.published.isoformat() if record.published else ''} out of range; "
            f"kept as {published.isoformat() if published else ''}, and it moves no clock"
        )
    language = primary_language(record.language) if record.language else None

    admitted = replace(
        record,
        url=url,
        title=title,
        text=text,
        archive_id=archive_id,
        source=source,
        language=language,
        published=published,
        flags=tuple(sorted(flags)),
    )
    return admitted, notes


def _require_text(name: str, value: object, *, empty: bool = False) -> None:
    if not isinstance(value, str):
        raise Refused(f"'{name}' must be a string, not {type(value).__name__}")
    if not empty and not value.strip():
        raise Refused(f"'{name}' is empty")
