"""Find a site's feeds from its address: the page's ``<link rel="alternate">`` tags, then common paths.

A user often knows a site, not its feed. :func:`find_feeds` fetches the address through the
same guarded fetcher as polling; when it answers a feed, that is the feed. When it answers a
page, the feeds the page links (RSS, Atom, JSON Feed) are fetched and kept if they parse as
feeds; a page that links none is tried at the paths sites commonly serve their feed from
(``data/feed_paths.json``). Only what really parses as a feed is offered.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

from storywatch.sources.errors import FeedParseError, FetchError, NotAFeed
from storywatch.sources.feeds import parse_feed
from storywatch.sources.fetch import Fetcher, FetchResult
from storywatch.sources.urls import is_web_url

DATA = Path(__file__).parent / "data"

FEED_TYPES = {
    "application/rss+xml": "RSS",
    "application/atom+xml": "Atom",
    "application/feed+json": "JSON Feed",
    "application/json": "JSON Feed",
    "application/rdf+xml": "RSS 1.0",
    "application/xml": "XML feed",
    "text/xml": "XML feed",
}
"""The ``type`` of a ``<link rel="alternate">`` that points to a feed, and what it is called."""

MAX_CANDIDATES = 12
"""At most this many linked feeds or common paths are fetched for one page."""

_FORMATS = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed", "cdf": "CDF"}


@dataclass(frozen=True, slots=True)
class FoundFeed:
    """A feed found for an address: where it is, what it calls itself, and its format."""

    url: str
    title: str | None
    format: str  # "RSS", "Atom", "JSON Feed", ...


@dataclass(frozen=True, slots=True)
class Discovery:
    """What an address gave: itself a feed, or a page and the feeds found from it."""

    url: str
    is_feed: bool
    feeds: list[FoundFeed]
    tried: list[str] = field(default_factory=list)  # every candidate fetched, in order


@cache
def common_paths() -> tuple[str, ...]:
    """Where sites commonly serve their feed, most common first."""
    paths: list[str] = json.loads((DATA / "feed_paths.json").read_text(encoding="utf-8"))["paths"]
    return tuple(paths)


def feed_links(content: bytes | str, base_url: str) -> list[FoundFeed]:
    """The feeds an HTML page links with ``<link rel="alternate" type=...>``, as absolute URLs, in order."""
    from lxml import etree
    from lxml import html as lxml_html

    try:
        tree = lxml_html.fromstring(content)
    except (etree.ParserError, ValueError):
        return []
    base = base_url
    for href in tree.xpath("//base/@href"):
        base = urljoin(base_url, str(href).strip())
        break
    found: list[FoundFeed] = []
    seen: set[str] = set()
    for link in tree.xpath("//link[@href]"):
        rel = {token.lower() for token in str(link.get("rel", "")).split()}
        kind = FEED_TYPES.get(str(link.get("type", "")).split(";")[0].strip().lower())
        if "alternate" not in rel or kind is None:
            continue
        url = urljoin(base, str(link.get("href")).strip())
        if is_web_url(url) and url not in seen:
            seen.add(url)
            found.append(FoundFeed(url, (link.get("title") or "").strip() or None, kind))
    return found


def _format(version: str | None) -> str:
    for prefix, name in _FORMATS.items():
        if version and version.startswith(prefix):
            return name
    return "feed"


def _as_feed(answer: FetchResult, url: str) -> FoundFeed | None:
    """The answer as a feed, or None when it holds none (a page, text, an error page)."""
    try:
        parsed = parse_feed(answer.content, answer.url, answer.headers)
    except NotAFeed:
        return None
    except FeedParseError:
        return FoundFeed(url, None, "feed")  # a feed, though broken today: polling will say how
    return FoundFeed(url, parsed.title, _format(parsed.version))


async def _try(fetcher: Fetcher, url: str) -> FoundFeed | None:
    answer = await fetcher.attempt(url)
    if isinstance(answer, FetchError):  # not there, refused, too large: not this one
        return None
    return _as_feed(answer, answer.permanent_url or url)


async def find_feeds(fetcher: Fetcher, url: str) -> Discovery:
    """The feed at ``url``, or the feeds found from the page there. Raises FetchError if ``url`` fails."""
    answer = await fetcher.fetch(url)
    itself = _as_feed(answer, answer.permanent_url or url)
    if itself is not None:
        return Discovery(url, True, [itself], [url])
    linked = feed_links(answer.content, answer.url)[:MAX_CANDIDATES]
    tried = [f.url for f in linked]
    results = await asyncio.gather(*(_try(fetcher, f.url) for f in linked))
    feeds = [
        FoundFeed(found.url, found.title or link.title, found.format)
        for link, found in zip(linked, results, strict=True)
        if found is not None
    ]
    if not feeds:
        parts = urlsplit(answer.url)
        origin = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        paths = [origin + path for path in common_paths() if origin + path not in tried][:MAX_CANDIDATES]
        tried += paths
        # One at a time, most common first: the first that answers a feed is the site's feed.
        for candidate in paths:
            found = await _try(fetcher, candidate)
            if found is not None:
                feeds.append(found)
                break
    unique: dict[str, FoundFeed] = {}
    for feed in feeds:
        unique.setdefault(feed.url, feed)
    return Discovery(answer.url, False, list(unique.values()), tried)
