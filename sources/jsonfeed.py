"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), read directly: feedparser 6.0 cannot."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from storywatch.sources.clean import primary_language
from storywatch.sources.dates import iso_utc
from storywatch.sources.entries import FeedEntry, ParsedFeed, html_to_text, plain, string, web_link, with_stable_guids
from storywatch.sources.errors import FeedParseError, NotAFeed

_JSON_FEED_VERSION = "https://jsonfeed.org/version/"
_VERSION_PREFIXES = (
    "https://jsonfeed.org/version/",
    "http://jsonfeed.org/version/",
    "https://www.jsonfeed.org/version/",
)
"""The spec says https; real feeds also declare http:// (and a www host): all are JSON Feed."""


def _version_number(version: object) -> str | None:
    """ "https://jsonfeed.org/version/1.1" -> "1.1"; None when it names no JSON Feed version."""
    if not isinstance(version, str):
        return None
    text = version.strip().rstrip("/")
    for prefix in _VERSION_PREFIXES:
        if text.lower().startswith(prefix):
            return text[len(prefix) :] or None
    return None


def looks_like_json(content: bytes, headers: Mapping[str, str]) -> bool:
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json" or kind.endswith("+json"):
        return True
    return content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def parse_json_feed(content: bytes, url: str) -> ParsedFeed:
    """JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), which feedparser 6.0 cannot read."""
    try:
        document = json.loads(content)
    except (ValueError, RecursionError) as exc:
        raise FeedParseError(f"feed {url} is not valid JSON ({exc}); expected a JSON Feed") from exc
    number = _version_number(document.get("version")) if isinstance(document, dict) else None
    if number is None:
        raise NotAFeed(f"{url} is JSON but not a JSON Feed (no 'version' of {_JSON_FEED_VERSION}1)")
    items = document.get("items")
    if not isinstance(items, list):
        raise FeedParseError(f"JSON Feed {url} has no 'items' list; the feed is skipped this time")
    objects = [item for item in items if isinstance(item, dict)]
    if items and not objects:
        raise FeedParseError(f"JSON Feed {url} gave no entries: none of its {len(items)} items is an object")
    home = string(document.get("home_page_url"))
    feed_link = web_link(url, home)
    entries = [_entry_from_json(item, url) for item in objects]
    skipped = len(items) - len(objects)
    return ParsedFeed(
        title=string(document.get("title")),
        link=feed_link,
        language=primary_language(string(document.get("language"))),
        entries=with_stable_guids(entries, feed_link),
        warning=f"{skipped} of {len(items)} items are not JSON objects and were skipped" if skipped else None,
        version="json" + number.replace(".", ""),
    )


def _entry_from_json(item: Mapping[str, Any], base: str) -> FeedEntry:
    guid = item.get("id")
    link = string(item.get("url")) or string(item.get("external_url"))
    html = string(item.get("content_html"))
    return FeedEntry(
        guid=str(guid).strip() or None if isinstance(guid, (str, int)) and not isinstance(guid, bool) else None,
        link=web_link(base, link),
        title=plain(string(item.get("title"))),
        summary=plain(string(item.get("summary"))),
        content=html_to_text(html) if html else plain(string(item.get("content_text"))),
        published=iso_utc(item.get("date_published")) or iso_utc(item.get("date_modified")),
    )
