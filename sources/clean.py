"""Turn an HTML page into article text and metadata with trafilatura (comments left out).

When the page is missing or gives too little text, :func:`clean_or_fallback` keeps the feed's own
text instead and marks the result partial, as Miniflux keeps an entry's content when scraping fails.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from storywatch.sources.dates import aware_iso
from storywatch.sources.errors import CleaningError
from storywatch.sources.urls import canonical_url, is_web_url

if TYPE_CHECKING:
    from lxml.html import HtmlElement

# htmldate keeps the time (and its offset, when the page gives one) in this format.
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_PUBLISHED_META = (
    "article:published_time", "og:published_time", "datepublished", "pubdate", "publishdate",
    "publish-date", "dc.date.issued", "dcterms.issued", "dcterms.created", "sailthru.date",
    "parsely-pub-date",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CleanedPage:
    """What cleaning keeps of a page."""

    text: str
    title: str | None
    published: datetime | None  # aware, UTC; midnight when the page gives only a day
    language: str | None  # primary language subtag, lower case: "de", "en"
    canonical_url: str | None


def primary_language(value: str | None) -> str | None:
    """The primary subtag of a language tag or list ("de-DE", "en_US, fr") in lower case, if any."""
    if not value:
        return None
    tag = re.split(r"[-_]", value.split(",")[0].strip(), maxsplit=1)[0].lower()
    return tag if _LANGUAGE.fullmatch(tag) else None


def clean_html(html: str | bytes, url: str | None = None, *, dated: bool = False) -> CleanedPage:
    """Extract the main text, title, publication date, language and canonical URL of a page.

    ``dated``: the feed already gave the publication date, so trafilatura's metadata pass (and
    its date search, the costliest part of cleaning) is skipped, and so is the page's own date:
    title, language and canonical URL come from the page's head, ``published`` is None.
    Raises CleaningError when the page holds no article text.
    """
    import trafilatura  # here, not above: a replay of text archives never cleans a page
    from trafilatura.utils import load_html

    where = url or "(no URL)"
    if not html or not html.strip():
        raise CleaningError(f"page {where} is empty")
    tree = load_html(html)
    if tree is None:
        raise CleaningError(f"page {where} is not HTML that can be read")
    hints = _PageHints.read(tree, url, dates=not dated)  # before trafilatura, which prunes its copy of the tree
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        include_comments=False,
        include_tables=True,
        with_metadata=not dated,
        date_extraction_params={
            "original_date": True,
            "extensive_search": True,
            "outputformat": _DATE_FORMAT,
            "max_date": datetime.now(UTC).strftime("%Y-%m-%d"),
        },
    )
    text = (getattr(document, "text", None) or "").strip() if document is not None else ""
    if not text:
        raise CleaningError(f"no article text found in page {where}")
    if dated:
        return CleanedPage(
            text=text,
            title=hints.title,
            published=hints.published,
            language=hints.language,
            canonical_url=canonical_url(address) if (address := hints.canonical or url) else None,
        )
    return CleanedPage(
        text=text,
        title=getattr(document, "title", None) or hints.title,
        published=_publication_time(getattr(document, "date", None), hints.published),
        language=primary_language(getattr(document, "language", None)) or hints.language,
        canonical_url=canonical_url(address) if (address := hints.canonical or url) else None,
    )


def article_text(html: str, url: str) -> str | None:
    """The page's article text, or None: the ``MODULE:FUNCTION`` the page scorer calls."""
    try:
        return clean_html(html, url).text
    except CleaningError:
        return None


def clean_or_fallback(
    html: str | bytes | None, url: str, *, feed_text: str | None, min_chars: int = 200, dated: bool = False
) -> tuple[CleanedPage, bool]:
    """The cleaned page and False; or, when the page is missing or gives under ``min_chars``
    characters, the longer of its text and the feed's own text, and True (partial).

    The page's metadata is kept whenever the page could be read. Raises CleaningError when
    neither the page nor the feed gives any text.
    """
    page: CleanedPage | None = None
    problem = "no page"
    if html:
        try:
            page = clean_html(html, url, dated=dated)
        except CleaningError as exc:
            problem = str(exc)
        else:
            if len(page.text) >= min_chars:
                return page, False
    feed = (feed_text or "").strip()
    text = max((page.text if page else "", feed), key=len)
    if not text:
        raise CleaningError(f"{problem}; the feed entry gives no text either, so {url} is skipped")
    if page is not None:
        return CleanedPage(text, page.title, page.published, page.language, page.canonical_url), True
    return CleanedPage(text, None, None, None, canonical_url(url)), True


@dataclass(frozen=True, slots=True)
class _PageHints:
    """What the page's head says that trafilatura does not report (or reports less precisely)."""

    canonical: str | None
    language: str | None
    title: str | None
    published: datetime | None  # an explicit, time-zoned publication time from the page metadata

    @classmethod
    def read(cls, tree: HtmlElement, url: str | None, *, dates: bool = True) -> _PageHints:
        canonical = None
        for link in tree.iterfind(".//link[@href]"):
            if "canonical" in (link.get("rel") or "").lower().split():
                href = link.get("href", "").strip()
                resolved = urljoin(url, href) if url else href
                if is_web_url(resolved):
                    canonical = resolved
                    break
        language = primary_language(tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang"))
        published: datetime | None = None
        for meta in tree.iterfind(".//meta"):
            key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
            if language is None and (
                key in ("language", "dc.language", "og:locale")
                or (meta.get("http-equiv") or "").lower() == "content-language"
            ):
                language = primary_language(meta.get("content"))
            if dates and published is None and key in _PUBLISHED_META:
                published = aware_iso(meta.get("content"))
        if dates and published is None:
            published = _json_ld_published(tree)
        title_element = tree.find(".//title")
        title = " ".join(title_element.text_content().split()) if title_element is not None else ""
        return cls(canonical, language, title or None, published)


def _json_ld_published(tree: HtmlElement) -> datetime | None:
    for script in tree.iterfind(".//script[@type]"):
        if script.get("type", "").lower().strip() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except (ValueError, RecursionError):
            continue
        found = aware_iso(_find_key(data, "datePublished"))
        if found is not None:
            return found
    return None


def _find_key(data: Any, key: str, depth: int = 0) -> Any:
    """The first value of ``key`` in nested JSON-LD (objects, lists, @graph), depth-limited."""
    if depth > 8:
        return None
    if isinstance(data, dict):
        if key in data:
            return data[key]
        data = list(data.values())
    if isinstance(data, list):
        for item in data:
            found = _find_key(item, key, depth + 1)
            if found is not None:
                return found
    return None


def _publication_time(found: str | None, from_metadata: datetime | None) -> datetime | None:
    """htmldate's date (trafilatura's pick of the original date) at the most precise time known.

    htmldate gives a time zone only when the page does. A naive value is a day, or a local time
    of unknown zone: the page's explicit time-zoned timestamp replaces it when they agree on
    the day (within one, for the zone), else it is taken as UTC.
    """
    parsed: datetime | None = None
    if found:
        try:
            parsed = datetime.fromisoformat(found)
        except ValueError:
            parsed = None
    if parsed is not None and parsed.tzinfo is not None:
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            parsed = None
    if from_metadata is not None and (parsed is None or abs(from_metadata.date() - parsed.date()) <= timedelta(days=1)):
        return from_metadata
    return parsed.replace(tzinfo=UTC) if parsed is not None else None
