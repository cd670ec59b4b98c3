"""What the WARC readers and writers share: which records are readable, and how URLs and headers compare."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import Any

import httpx
from warcio.exceptions import ArchiveLoadFailed

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})

# Errors warcio and the gzip layer raise on a file that is not (or no longer) a WARC.
UNREADABLE = (ArchiveLoadFailed, OSError, EOFError, zlib.error, ValueError)


def url_key(url: str) -> str:
    """A URL as httpx writes it, without fragment, so recorded and requested URLs compare equal."""
    try:
        return str(httpx.URL(url).copy_with(fragment=None))
    except (httpx.InvalidURL, TypeError, ValueError):
        return url


def text_headers(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw]


def require_warc(record: Any) -> None:
    # warcio also reads ARC files, and takes some stray text for ARC headers.
    if record.format != "warc":
        raise ArchiveLoadFailed("it holds no WARC records")


def is_chunked(headers: Iterable[tuple[str, str]]) -> bool:
    return any(n.lower() == "transfer-encoding" and "chunked" in v.lower() for n, v in headers)
