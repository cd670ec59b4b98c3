"""What the WARC readers and writers share: which records are readable, and how URLs and headers compare."""

from __future__ import annotations

import gzip
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
    cut-short end reported as ArchiveError once the complete records before it are yielded.

    warcio stops quietly, or fails in its own ways, where a file ends in the middle of a record;
    this notices: a record without Content-Length, a last record shorter than it says, or a gzip
    member cut short.
    """
    count = 0
    iterator = iter(handle) if isinstance(handle, ArchiveIterator) else iter(ArchiveIterator(handle))
    last = None
    while True:
        try:
            record = next(iterator)
        except StopIteration:
            break
        except (*UNREADABLE, AttributeError, TypeError, IndexError) as exc:
            if count == 0:
                raise ArchiveError(f"{path}: not a readable WARC file ({exc})") from exc
            raise _truncated(path, count) from exc
        require_warc(record)
        if record.rec_headers.get_header("Content-Length") is None:
            raise _truncated(path, count)
        count += 1
        last = record
        yield record
    if last is not None and _unread(last):
        raise _truncated(path, count - 1)
    if path.name.endswith(".gz") and not _gzip_complete(path):
        raise _truncated(path, count)


def _unread(record: Any) -> int:
    """Bytes the record declared but the file did not hold (0 for a complete record)."""
    return int(getattr(record.raw_stream, "limit", 0) or 0)


def _truncated(path: Path, complete: int) -> ArchiveError:
    return ArchiveError(
        f"{path}: the file is truncated or damaged after record {complete}; the complete records before it were read"
    )


def _gzip_complete(path: Path) -> bool:
    """Whether a gzip file ends where its last member does (a cut file ends inside one)."""
    try:
        with gzip.open(path, "rb") as stream:
            while stream.read(1024 * 1024):
                pass
    except (EOFError, OSError, zlib.error):
        return False
    return True


def require_complete(record: Any, path: Path) -> None:
    """Raise ArchiveError when the record's block was cut short (its body has fewer bytes than declared)."""
    missing = _unread(record)
    if missing or record.rec_headers.get_header("Content-Length") is None:
        uri = record.rec_headers.get_header("WARC-Target-URI") or "a record"
        raise ArchiveError(
            f"{path}: the record for {uri} is cut short ({missing:,} bytes missing): the file is truncated, "
            "and the partial body is not used"
        )
