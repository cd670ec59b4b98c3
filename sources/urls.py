"""URLs: which ones storywatch fetches, and the canonical form an article is stored under."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from courlan import normalize_url

WEB_SCHEMES = frozenset({"http", "https"})
MAX_URL = 2048
"""The longest URL stored (the articles' and feeds' URL columns)."""


def is_web_url(url: str) -> bool:
    """Whether the URL is http or https: the only schemes storywatch fetches or links to."""
    scheme, separator, _ = url.strip().partition("://")
    return bool(separator) and scheme.lower() in WEB_SCHEMES


def canonical_url(url: str) -> str:
    """The URL normalised (courlan) without tracking parameters or fragment, for http(s) URLs.

    courlan's strict mode is not used: it keeps only a short allow-list of query parameters, which
    would make ``article.php?story=1`` and ``article.php?story=2`` one URL.
    """
    if not is_web_url(url):
        return url
    try:
        normalised = normalize_url(url.strip(), strict=False)
    except (ValueError, TypeError):
        return url
    parts = urlsplit(normalised)
    netloc = parts.netloc.rpartition("@")[2]  # credentials never belong to an article's address
    return urlunsplit(parts._replace(netloc=netloc, fragment=""))


def trustworthy_canonical(canonical: str | None, fetched: str) -> bool:
    """A page's rel=canonical counts only on its own host and not as a bare home page."""
    if not canonical:
        return False
    claimed, actual = urlsplit(canonical), urlsplit(fetched)
    return claimed.hostname == actual.hostname and claimed.path not in ("", "/")
