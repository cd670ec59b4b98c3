"""Turn the bytes of a feed (RSS, Atom, RDF, CDF or JSON Feed 1.x) into entries with stable identities.

feedparser only ever sees the bytes wrapped in a BytesIO: handed raw bytes or a string it first
tries to open them as a local file name or fetch them as a URL. It never fetches DTDs or external
entities (the SAX parser runs with external general entities off), and before it runs,
:func:`parse_feed` refuses documents whose internal entity declarations would expand past
:data:`~storywatch.sources.xmlguard.MAX_ENTITY_EXPANSION` characters ("billion laughs", quadratic blow-up): feedparser's loose
fallback parser expands the entities it keeps without any limit.
"""

from __future__ import annotations

import io
import xml.sax
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

import feedparser

from storywatch.sources.clean import primary_language
from storywatch.sources.dates import from_struct_time
from storywatch.sources.entries import (
    FeedEntry,
    ParsedFeed,
    html_to_text,
    string,
    text_construct,
    web_link,
    with_stable_guids,
)
from storywatch.sources.errors import FeedParseError, NotAFeed, SourceError
from storywatch.sources.jsonfeed import looks_like_json, parse_json_feed
from storywatch.sources.xmlguard import refuse_entity_expansion

__all__ = ["FeedEntry", "ParsedFeed", "html_to_text", "parse_feed"]


def parse_feed(content: bytes, url: str, headers: Mapping[str, str] | None = None) -> ParsedFeed:
    """Parse feed bytes as served from ``url`` with the response ``headers`` (for the charset).

    A feed with no entries is a normal, empty result. Raises :class:`NotAFeed` for a document that
    holds no feed (an HTML page, arbitrary text), and :class:`FeedParseError` for a feed too broken
    to give any entry (its entries may have been lost to the damage, so "nothing new" would be a
    guess) or one refused as an entity-expansion attack. Raises nothing but SourceError subclasses.

    A GUID counts as stable unless it is blank, shared by two entries of the document, equal to the
    feed's own link, or a timestamp (a date, or Unix time within two days of the entry's date):
    feeds that stamp each build into their GUIDs would otherwise make every poll look new.
    """
    response_headers = {str(name).lower(): str(value) for name, value in (headers or {}).items()}
    try:
        if not content.strip():
            raise NotAFeed(f"{url} answered an empty document; expected RSS, Atom or JSON Feed")
        if looks_like_json(content, response_headers):
            return parse_json_feed(content, url)
        refuse_entity_expansion(content, url)
        return _parse_xml_feed(content, url, response_headers)
    except SourceError:
        raise
    except Exception as exc:  # feedparser's own bugs must not stop a poll: report them as ours
        raise FeedParseError(
            f"feed {url} could not be parsed ({type(exc).__name__}: {exc}); the feed is skipped this time"
        ) from exc


def _parse_xml_feed(content: bytes, url: str, headers: dict[str, str]) -> ParsedFeed:
    # No default Content-Location: feedparser would resolve GUIDs against it too, and a GUID such
    # as "48213" would change with the feed's address. Links are resolved below instead.
    result = feedparser.parse(io.BytesIO(content), response_headers=headers)
    base = urljoin(url, headers["content-location"]) if headers.get("content-location") else url
    version = str(result.get("version") or "") or None
    problem = _describe(result.get("bozo_exception")) if result.get("bozo") else None
    raw_entries = list(result.get("entries") or [])
    if not raw_entries:
        if version is None:
            raise NotAFeed(_not_a_feed_message(content, url))
        if problem is not None:
            raise FeedParseError(
                f"feed {url} is broken and gave no entries ({problem}); check that the address "
                "serves RSS or Atom, or wait for the next poll if the download was cut short"
            )
    feed = result.get("feed") or {}
    link = string(dict.get(feed, "link"))
    feed_link = web_link(base, link)
    entries = [_entry_from_feedparser(raw, base) for raw in raw_entries]
    return ParsedFeed(
        title=text_construct(string(dict.get(feed, "title")), dict.get(feed, "title_detail")),
        link=feed_link,
        language=primary_language(string(dict.get(feed, "language")) or headers.get("content-language")),
        entries=with_stable_guids(entries, feed_link),
        warning=problem,
        version=version,
        ttl=string(dict.get(feed, "ttl")),
    )


def _entry_from_feedparser(raw: dict[str, Any], base: str) -> FeedEntry:
    # dict.get, not raw.get: FeedParserDict maps some missing keys to others with a DeprecationWarning
    link = string(dict.get(raw, "link"))
    contents = [
        text_construct(string(dict.get(part, "value")), part)
        for part in dict.get(raw, "content") or []
        if isinstance(part, dict)
    ]
    published = None
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        published = from_struct_time(dict.get(raw, key))
        if published is not None:
            break
    return FeedEntry(
        guid=string(dict.get(raw, "id")),
        link=web_link(base, link),
        title=text_construct(string(dict.get(raw, "title")), dict.get(raw, "title_detail")),
        summary=text_construct(string(dict.get(raw, "summary")), dict.get(raw, "summary_detail")),
        content=max((c for c in contents if c), key=len, default=None),
        published=published,
    )


def _describe(problem: object) -> str:
    """feedparser's bozo exception as one line."""
    if isinstance(problem, xml.sax.SAXParseException):
        # no line or column: they count in feedparser's re-encoded copy, not in the bytes served
        return f"not well-formed XML: {problem.getMessage()}"
    text = " ".join(str(problem).split())
    return text or type(problem).__name__


def _not_a_feed_message(content: bytes, url: str) -> str:
    head = content[:4096].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        return (
            f"{url} is an HTML page, not a feed; use the feed's own address (the page's "
            '<link rel="alternate" type="application/rss+xml"> gives it)'
        )
    return f"{url} is not a feed: no RSS, Atom or JSON Feed document found in its {len(content):,} bytes"
