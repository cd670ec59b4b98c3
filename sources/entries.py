"""What every feed format gives: entries with stable identities, their HTML reduced to text.

The XML reader (:mod:`storywatch.sources.feeds`) and the JSON Feed reader
(:mod:`storywatch.sources.jsonfeed`) both build these, with the helpers below.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from html import unescape
from urllib.parse import urljoin

from lxml import etree
from lxml import html as lxml_html

from storywatch.sources.dates import http_date
from storywatch.sources.urls import canonical_url, is_web_url


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One entry of a feed, its HTML reduced to text."""

    guid: str | None  # the entry's id where it looks stable (see parse_feed), else None
    link: str | None  # canonical: normalised, tracking parameters and fragment removed
    title: str | None
    summary: str | None
    content: str | None
    published: datetime | None  # aware, UTC; the updated date when no published date is given

    @property
    def text(self) -> str | None:
        """The fullest text the feed gives: its content, else its summary."""
        return self.content or self.summary

    @property
    def identity(self) -> str | None:
        """What names this entry across polls of its feed: the stable GUID, else the canonical link.

        An entry with neither (rare) is named by a hash of its title and text, as Miniflux does;
        None when it has no title or text either: such an entry cannot be followed, skip it.
        """
        if self.guid:
            return self.guid
        if self.link:
            return self.link
        basis = "\n".join(part for part in (self.title, self.text) if part)
        return "sha256:" + hashlib.sha256(basis.encode("utf-8")).hexdigest() if basis else None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed's own metadata and its entries, in document order."""

    title: str | None
    link: str | None
    language: str | None
    entries: list[FeedEntry]
    warning: str | None  # why the document is not well-formed, when entries were recovered anyway
    version: str | None  # feedparser's name for the format ("rss20", "atom10", ...), "json1"/"json11"
    ttl: str | None = None  # RSS <ttl>: minutes the channel may be cached (sources.cadence reads it)


_DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?", re.I)


def with_stable_guids(entries: list[FeedEntry], feed_link: str | None) -> list[FeedEntry]:
    """The entries with every GUID that cannot name an entry across polls set to None."""
    counts = Counter(entry.guid for entry in entries if entry.guid)
    return [
        entry
        if entry.guid and counts[entry.guid] == 1 and _guid_looks_stable(entry.guid, entry.published, feed_link)
        else replace(entry, guid=None)
        for entry in entries
    ]


def _guid_looks_stable(guid: str, published: datetime | None, feed_link: str | None) -> bool:
    if feed_link and canonical_url(guid) == feed_link:
        return False  # the site's home page, given as every entry's id
    if _DATE_LIKE.fullmatch(guid):
        return False
    if http_date(guid) is not None:
        return False  # an RFC 822 date: the build time, not an id
    if guid.isdigit() and published is not None and len(guid) in (10, 13):
        seconds = int(guid) / (1000 if len(guid) == 13 else 1)
        if abs(seconds - published.timestamp()) < timedelta(days=2).total_seconds():
            return False  # Unix time of (about) the entry's date
    return True


_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 "
    "header hr li main nav ol p pre section table td th tr ul".split()
)
_DROPPED_TAGS = ("script", "style", "noscript", "template")
_TAG = re.compile(r"<[^>]*>")


def html_to_text(fragment: str) -> str | None:
    """An HTML fragment as plain text: block elements become line breaks, scripts and styles go."""
    if "<" not in fragment and "&" not in fragment:
        return plain(fragment)
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):  # control characters, or nothing lxml can parse
        return plain(unescape(_TAG.sub(" ", fragment)))
    for element in [e for e in root.iter(*_DROPPED_TAGS)]:
        element.drop_tree()
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag in _BLOCK_TAGS:
            element.tail = "\n" + (element.tail or "")
    return plain(root.text_content(), keep_lines=True)


def text_construct(value: str | None, detail: object) -> str | None:
    """A feed text construct as plain text, by its declared type (feedparser's ``*_detail``)."""
    if not value:
        return None
    kind = detail.get("type") if isinstance(detail, Mapping) else None
    if kind == "text/plain":
        return plain(value)
    return html_to_text(value)


def plain(value: str | None, *, keep_lines: bool = False) -> str | None:
    """Whitespace collapsed (within lines when ``keep_lines``); None when nothing is left."""
    if not value:
        return None
    if keep_lines:
        lines = (" ".join(line.split()) for line in value.splitlines())
        text = "\n".join(line for line in lines if line)
    else:
        text = " ".join(value.split())
    return text or None


def web_link(base: str, link: str | None) -> str | None:
    """The link made absolute and canonical; None unless it is http(s) (no mailto:, javascript:)."""
    if not link:
        return None
    absolute = urljoin(base, link)
    return canonical_url(absolute) if is_web_url(absolute) else None


def string(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
