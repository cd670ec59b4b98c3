"""Tell a poll capture from a page archive: a WARC written by `storywatch poll` holds feed answers."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from storywatch.sources.errors import ArchiveError, SourceError
from storywatch.sources.feeds import parse_feed
from storywatch.sources.files import is_warc
from storywatch.sources.warc.common import UNREADABLE, records, require_complete
from storywatch.sources.warc.replay import warc_files


def capture_feeds(paths: Iterable[str | Path]) -> dict[str, int]:
    """The feeds a poll capture holds (URL -> how many answers were recorded), in recorded order.

    A capture written by `storywatch poll` has feed responses; a CC-NEWS style WARC has only
    pages, and gives none. An unreadable file gives none either (replay reports it).
    """
    answers: dict[str, int] = {}
    feeds: list[str] = []
    for path in warc_files(paths):
        try:
            with path.open("rb") as handle:
                for record in records(handle, path):
                    if record.rec_type != "response" or record.http_headers is None:
                        continue
                    url = record.rec_headers.get_header("WARC-Target-URI")
                    answers[url] = answers.get(url, 0) + 1
                    status = record.http_headers.get_statuscode()
                    kind = (record.http_headers.get_header("Content-Type") or "").lower()
                    if url in feeds or status != "200" or "html" in kind:
                        continue
                    try:
                        body = record.content_stream().read()
                        require_complete(record, path)
                        parse_feed(body, url, {"content-type": kind})
                    except SourceError:
                        continue
                    feeds.append(url)
        except (ArchiveError, *UNREADABLE):
            continue
    return {url: answers[url] for url in feeds}


def split_captures(paths: Iterable[Path]) -> tuple[list[str], list[Path]]:
    """(poll captures, the other paths): WARC files that hold feed answers replay through the poll flow.

    A folder's WARC files are looked at; when they are a capture, the folder still replays its
    other archives (JSONL, text) as articles, and the WARC files in it are left to the capture.
    """
    given = list(paths)
    warcs = [str(p) for p in warc_files(p for p in given if p.is_dir() or is_warc(p))]
    if not warcs or not capture_feeds(warcs):
        return [], given
    return warcs, [p for p in given if not is_warc(p)]
