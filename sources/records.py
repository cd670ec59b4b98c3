"""The one shape every source produces: an article ready to be stored."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

_SPACE = re.compile(r"\s+")


def iso_utc(value: object) -> datetime | None:
    """An ISO-8601 string as an aware UTC datetime (a naive one taken as UTC); None if it is not one.

    Hostile inputs such as "0001-01-01T00:00:00+05:00", which have no UTC time, give None too.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def content_hash(text: str) -> str:
    """SHA-256 of the text with case and whitespace folded, so trivial reformatting hashes alike."""
    return hashlib.sha256(_SPACE.sub(" ", text).strip().lower().encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ArticleRecord:
    """A cleaned article from any source: a feed entry, an archive line, a seed file."""

    url: str
    title: str
    text: str
    published: datetime | None
    archive_id: str | None = None
    source: str | None = None
    language: str | None = None
    partial: bool = False
    origin: str = ""  # where it came from, for messages: "seeds/articles.jsonl:12"

    @property
    def content_hash(self) -> str:
        return content_hash(self.text)

    @property
    def reference(self) -> str:
        return self.archive_id or self.url
