"""What the WARC readers and writers share: which records are readable, and how URLs and headers compare."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from storywatch.sources.errors import ArchiveError

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


def records(handle: Any, path: Path) -> Iterator[Any]:
    """The WARC records of an open file (or of an ArchiveIterator over one), with a damaged or
    cut-short end reported as ArchiveError.

    warcio stops, or fails in its own ways, where a file ends in the middle of a record: the
    records before are yielded, then ArchiveError says how far the file could be read.
    """
    count = 0
    iterator = iter(handle) if isinstance(handle, ArchiveIterator) else iter(ArchiveIterator(handle))
    while True:
        try:
            record = next(iterator)
        except StopIteration:
            return
        except (*UNREADABLE, AttributeError, TypeError, IndexError) as exc:
            if count == 0:
                raise ArchiveError(f"{path}: not a readable WARC file ({exc})") from exc
            raise ArchiveError(
                f"{path}: the file is truncated or damaged after record {count} ({type(exc).__name__}); "
                "the records before it were read"
            ) from exc
        require_warc(record)
        count += 1
        yield record


def require_complete(record: Any, path: Path) -> None:
    """Raise ArchiveError when the record's block was cut short (its body has fewer bytes than declared)."""
    missing = getattr(record.raw_stream, "limit", 0)
    if missing:
        uri = record.rec_headers.get_header("WARC-Target-URI") or "a record"
        raise ArchiveError(
            f"{path}: the record for {uri} is cut short ({missing:,} bytes missing): the file is truncated, "
            "and the partial body is not used"
        )
