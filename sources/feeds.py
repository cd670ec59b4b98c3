"""Turn the bytes of a feed (RSS, Atom, RDF, CDF or JSON Feed 1.x) into entries with stable identities.

feedparser only ever sees the bytes wrapped in a BytesIO: handed raw bytes or a string it first
tries to open them as a local file name or fetch them as a URL. It never fetches DTDs or external
entities (the SAX parser runs with external general entities off), and before it runs,
:func:`parse_feed` refuses documents whose internal entity declarations would expand past
:data:`MAX_ENTITY_EXPANSION` characters ("billion laughs", quadratic blow-up): feedparser's loose
fallback parser expands the entities it keeps without any limit.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import json
import re
import time
import xml.sax
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from html import unescape
from typing import Any
from urllib.parse import urljoin

import feedparser
from lxml import etree
from lxml import html as lxml_html

from storywatch.sources.clean import canonical_url, primary_language
from storywatch.sources.errors import FeedParseError, NotAFeed, SourceError
from storywatch.sources.records import iso_utc

MAX_ENTITY_EXPANSION = 1_000_000
"""Characters that a document's declared XML entities may add when expanded; more is refused."""

MAX_ENTITY_DECLARATIONS = 1_000
"""Internal entity declarations a feed may make; real feeds make none or a handful."""


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
        if _looks_like_json(content, response_headers):
            return _parse_json_feed(content, url)
        _refuse_entity_expansion(content, url)
        return _parse_xml_feed(content, url, response_headers)
    except SourceError:
        raise
    except Exception as exc:  # feedparser's own bugs must not stop a poll: report them as ours
        raise FeedParseError(
            f"feed {url} could not be parsed ({type(exc).__name__}: {exc}); the feed is skipped this time"
        ) from exc


# ---------------------------------------------------------------- XML feeds, through feedparser


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
    link = _string(dict.get(feed, "link"))
    feed_link = _web_link(base, link)
    entries = [_entry_from_feedparser(raw, base) for raw in raw_entries]
    return ParsedFeed(
        title=_text(_string(dict.get(feed, "title")), dict.get(feed, "title_detail")),
        link=feed_link,
        language=primary_language(_string(dict.get(feed, "language")) or headers.get("content-language")),
        entries=_with_stable_guids(entries, feed_link),
        warning=problem,
        version=version,
    )


def _entry_from_feedparser(raw: dict[str, Any], base: str) -> FeedEntry:
    # dict.get, not raw.get: FeedParserDict maps some missing keys to others with a DeprecationWarning
    link = _string(dict.get(raw, "link"))
    contents = [
        _text(_string(dict.get(part, "value")), part)
        for part in dict.get(raw, "content") or []
        if isinstance(part, dict)
    ]
    published = None
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        published = _from_struct_time(dict.get(raw, key))
        if published is not None:
            break
    return FeedEntry(
        guid=_string(dict.get(raw, "id")),
        link=_web_link(base, link),
        title=_text(_string(dict.get(raw, "title")), dict.get(raw, "title_detail")),
        summary=_text(_string(dict.get(raw, "summary")), dict.get(raw, "summary_detail")),
        content=max((c for c in contents if c), key=len, default=None),
        published=published,
    )


def _from_struct_time(value: object) -> datetime | None:
    """feedparser's parsed dates are struct_time in UTC."""
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


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


# ---------------------------------------------------------------- JSON Feed 1.x, read directly

_JSON_FEED_VERSION = "https://jsonfeed.org/version/"


def _looks_like_json(content: bytes, headers: Mapping[str, str]) -> bool:
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json" or kind.endswith("+json"):
        return True
    return content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _parse_json_feed(content: bytes, url: str) -> ParsedFeed:
    """JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), which feedparser 6.0 cannot read."""
    try:
        document = json.loads(content)
    except (ValueError, RecursionError) as exc:
        raise FeedParseError(f"feed {url} is not valid JSON ({exc}); expected a JSON Feed") from exc
    version = document.get("version") if isinstance(document, dict) else None
    if not isinstance(version, str) or not version.startswith(_JSON_FEED_VERSION):
        raise NotAFeed(f"{url} is JSON but not a JSON Feed (no 'version' of {_JSON_FEED_VERSION}1)")
    items = document.get("items")
    if not isinstance(items, list):
        raise FeedParseError(f"JSON Feed {url} has no 'items' list; the feed is skipped this time")
    objects = [item for item in items if isinstance(item, dict)]
    if items and not objects:
        raise FeedParseError(f"JSON Feed {url} gave no entries: none of its {len(items)} items is an object")
    home = _string(document.get("home_page_url"))
    feed_link = _web_link(url, home)
    entries = [_entry_from_json(item, url) for item in objects]
    skipped = len(items) - len(objects)
    return ParsedFeed(
        title=_string(document.get("title")),
        link=feed_link,
        language=primary_language(_string(document.get("language"))),
        entries=_with_stable_guids(entries, feed_link),
        warning=f"{skipped} of {len(items)} items are not JSON objects and were skipped" if skipped else None,
        version="json" + version[len(_JSON_FEED_VERSION) :].replace(".", ""),
    )


def _entry_from_json(item: Mapping[str, Any], base: str) -> FeedEntry:
    guid = item.get("id")
    link = _string(item.get("url")) or _string(item.get("external_url"))
    html = _string(item.get("content_html"))
    return FeedEntry(
        guid=str(guid).strip() or None if isinstance(guid, (str, int)) and not isinstance(guid, bool) else None,
        link=_web_link(base, link),
        title=_plain(_string(item.get("title"))),
        summary=_plain(_string(item.get("summary"))),
        content=html_to_text(html) if html else _plain(_string(item.get("content_text"))),
        published=_from_iso(item.get("date_published")) or _from_iso(item.get("date_modified")),
    )


def _from_iso(value: object) -> datetime | None:
    return iso_utc(value)


# ---------------------------------------------------------------- stable identities

_DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?", re.I)


def _with_stable_guids(entries: list[FeedEntry], feed_link: str | None) -> list[FeedEntry]:
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
    try:
        parsedate_to_datetime(guid)
    except (TypeError, ValueError, IndexError):
        pass
    else:
        return False  # an RFC 822 date: the build time, not an id
    if guid.isdigit() and published is not None and len(guid) in (10, 13):
        seconds = int(guid) / (1000 if len(guid) == 13 else 1)
        if abs(seconds - published.timestamp()) < timedelta(days=2).total_seconds():
            return False  # Unix time of (about) the entry's date
    return True


# ---------------------------------------------------------------- text

_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 "
    "header hr li main nav ol p pre section table td th tr ul".split()
)
_DROPPED_TAGS = ("script", "style", "noscript", "template")
_TAG = re.compile(r"<[^>]*>")


def html_to_text(fragment: str) -> str | None:
    """An HTML fragment as plain text: block elements become line breaks, scripts and styles go."""
    if "<" not in fragment and "&" not in fragment:
        return _plain(fragment)
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):  # control characters, or nothing lxml can parse
        return _plain(unescape(_TAG.sub(" ", fragment)))
    for element in [e for e in root.iter(*_DROPPED_TAGS)]:
        element.drop_tree()
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag in _BLOCK_TAGS:
            element.tail = "\n" + (element.tail or "")
    return _plain(root.text_content(), keep_lines=True)


def _text(value: str | None, detail: object) -> str | None:
    """A feed text construct as plain text, by its declared type (feedparser's ``*_detail``)."""
    if not value:
        return None
    kind = detail.get("type") if isinstance(detail, Mapping) else None
    if kind == "text/plain":
        return _plain(value)
    return html_to_text(value)


def _plain(value: str | None, *, keep_lines: bool = False) -> str | None:
    """Whitespace collapsed (within lines when ``keep_lines``); None when nothing is left."""
    if not value:
        return None
    if keep_lines:
        lines = (" ".join(line.split()) for line in value.splitlines())
        text = "\n".join(line for line in lines if line)
    else:
        text = " ".join(value.split())
    return text or None


def _web_link(base: str, link: str | None) -> str | None:
    """The link made absolute and canonical; None unless it is http(s) (no mailto:, javascript:)."""
    if not link:
        return None
    absolute = urljoin(base, link)
    return canonical_url(absolute) if absolute.lower().startswith(("http://", "https://")) else None


def _string(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


# ---------------------------------------------------------------- entity-expansion guard

# Lookahead, so a declaration inside another's value (via a parameter entity) is found too.
_ENTITY_DECLARATION = re.compile(rb"""(?=<!ENTITY\s+(%\s+)?([^\s"'%>]+)\s+(?:"([^"]*)"|'([^']*)'))""")
_ENTITY_REFERENCE = re.compile(rb"([&%])([A-Za-z_:][\w.:-]*);")


def _refuse_entity_expansion(content: bytes, url: str) -> None:
    """Raise FeedParseError when the document's internal entities would expand too far."""
    declared, added = _entity_expansion(content)
    if declared > MAX_ENTITY_DECLARATIONS:
        raise FeedParseError(
            f"feed {url} declares {declared:,} XML entities (at most {MAX_ENTITY_DECLARATIONS:,} "
            "accepted); refused as a possible entity-expansion attack"
        )
    if added > MAX_ENTITY_EXPANSION:
        raise FeedParseError(
            f"feed {url} declares XML entities that would expand to more than {MAX_ENTITY_EXPANSION:,} "
            'characters; refused as an entity-expansion ("billion laughs") attack'
        )


def _entity_expansion(content: bytes) -> tuple[int, int]:
    """How many internal entities the document declares, and how many characters they would add."""
    # Declarations and references are ASCII markup: without its zero bytes a UTF-16 or UTF-32
    # document reads as ASCII too, and lengths in bytes only overstate the expansion.
    view = content.replace(b"\x00", b"")
    if view.startswith(b"\x4c\x6f\xa7\x94"):  # "<?xm" in EBCDIC, which feedparser also reads
        view = view.decode("cp037", "replace").encode("utf-8", "replace")
    if b"<!ENTITY" not in view:
        return 0, 0
    values: dict[bytes, bytes] = {}
    for match in _ENTITY_DECLARATION.finditer(view):
        value = match.group(3) if match.group(3) is not None else match.group(4)
        values.setdefault((b"%" if match.group(1) else b"&") + match.group(2), value)
    if len(values) > MAX_ENTITY_DECLARATIONS:
        return len(values), 0
    sizes = _expanded_sizes(values)
    # references inside declarations count again: an overstatement, never an understatement
    added = sum(sizes.get(m.group(1) + m.group(2), 0) for m in _ENTITY_REFERENCE.finditer(view))
    return len(values), added


def _expanded_sizes(values: Mapping[bytes, bytes]) -> dict[bytes, int]:
    """Each entity's length once fully expanded, capped just above the limit (cycles hit the cap)."""
    cap = MAX_ENTITY_EXPANSION + 1
    references = {key: Counter(m.group(1) + m.group(2) for m in _ENTITY_REFERENCE.finditer(v)) for key, v in values.items()}
    own = {key: len(_ENTITY_REFERENCE.sub(b"", value)) for key, value in values.items()}
    sizes: dict[bytes, int] = {}
    for start in values:
        # depth-first without recursion: a chain of a thousand entities must not exhaust the stack
        stack, on_stack = [start], {start}
        while stack:
            key = stack[-1]
            if key in sizes:
                stack.pop()
                on_stack.discard(key)
                continue
            waiting = [r for r in references[key] if r in values and r not in sizes]
            if any(r in on_stack for r in waiting):
                sizes[key] = cap  # a reference cycle never ends
            elif waiting:
                stack.append(waiting[0])
                on_stack.add(waiting[0])
                continue
            else:
                total = own[key] + sum(n * sizes.get(r, 0) for r, n in references[key].items())
                sizes[key] = min(cap, total)
            stack.pop()
            on_stack.discard(key)
    return sizes
