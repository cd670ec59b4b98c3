"""Turn an HTML page into article text and metadata with trafilatura (comments left out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import trafilatura
from courlan import normalize_url
from lxml import html as lxml_html

from sources.errors import CleaningError


@dataclass(frozen=True, slots=True)
class CleanedPage:
    """What cleaning keeps of a page."""

    text: str
    title: str | None
    published: datetime | None
    language: str | None
    canonical_url: str | None


def canonical_url(url: str) -> str:
    """The URL normalised and stripped of tracking parameters (courlan), for http(s) URLs."""
    if not url.lower().startswith(("http://", "https://")):
        return url
    try:
        return str(normalize_url(url, strict=True))
    except (ValueError, TypeError):
        return url


def _page_hints(page: str | bytes) -> tuple[str | None, str | None]:
    """rel=canonical and <html lang>, which trafilatura does not report."""
    try:
        tree = lxml_html.fromstring(page)
    except (ValueError, lxml_html.etree.ParserError):
        return None, None
    canonical = tree.xpath("string(//link[@rel='canonical']/@href)") or None
    lang = tree.xpath("string(/html/@lang)") or None
    return canonical, (lang.split("-")[0].lower() if lang else None)


def clean_html(html: str | bytes, url: str | None = None) -> CleanedPage:
    """Extract the main text, title, publication date, language and canonical URL of a page.

    Raises CleaningError when the page holds no article text.
    """
    if not html or not (html.strip() if isinstance(html, str) else html.strip()):
        raise CleaningError(f"page {url or ''} is empty".replace("  ", " "))
    document = trafilatura.bare_extraction(
        html, url=url, include_comments=False, include_tables=True, with_metadata=True
    )
    text = (getattr(document, "text", None) or "").strip() if document is not None else ""
    if not text:
        raise CleaningError(f"no article text found in page {url or '(no URL)'}")
    canonical, lang = _page_hints(html)
    published = None
    date = getattr(document, "date", None)
    if date:
        try:
            published = datetime.fromisoformat(date).replace(tzinfo=UTC)
        except ValueError:
            published = None
    return CleanedPage(
        text=text,
        title=getattr(document, "title", None),
        published=published,
        language=getattr(document, "language", None) or lang,
        canonical_url=canonical_url(canonical or url) if (canonical or url) else None,
    )
