"""The one shape every source produces and storage takes: an article ready to be stored."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

_SPACE = re.compile(r"\s+")


def content_hash(text: str) -> str:
    """SHA-256 of the text with case and whitespace folded, so trivial reformatting hashes alike."""
    return hashlib.sha256(_SPACE.sub(" ", text).strip().lower().encode("utf-8")).hexdigest()


class Flag(StrEnum):
    """What the boundary changed in an article as it came in (``articles.flags``)."""

    PUBLISHED_CLAMPED = "published-clamped"  # the date was out of range; it no longer moves any clock
    TITLE_CUT = "title-cut"
    TEXT_CUT = "text-cut"
    SOURCE_CUT = "source-cut"
    CONTROL_CHARACTERS = "control-characters"  # NUL and other control characters were taken out


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
    flags: tuple[str, ...] = ()  # what the boundary changed (Flag values), stored with the article

    @property
    def content_hash(self) -> str:
        return content_hash(self.text)

    @property
    def reference(self) -> str:
        return self.archive_id or self.url
