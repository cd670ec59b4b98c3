"""Page archives: CC-NEWS style WARC files, where every HTML page response is one article."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from storywatch.core.records import ArticleRecord
from storywatch.sources.boundary import Refused, admit
from storywatch.sources.clean import clean_html
from storywatch.sources.dates import iso_utc
from storywatch.sources.errors import ArchiveError, SourceError
from storywatch.sources.records import ArchiveProblem, ArchiveRead
from storywatch.sources.urls import canonical_url
from storywatch.sources.warc.common import HTML_TYPES, UNREADABLE, records, require_complete
from storywatch.sources.warc.replay import warc_files


def html_responses(
    paths: Iterable[str | Path],
) -> Iterator[tuple[str, bytes, dict[str, str], datetime | None]]:
    """Every 200 HTML response in the WARC files: (URL, decoded body, headers, WARC-Date).

    The body is de-chunked and decompressed; header names are lower-cased, repeats joined by
    ", ". Raises ArchiveError for a file that is not a readable WARC.
    """
    for path in warc_files(paths):
        try:
            with path.open("rb") as handle:
                for record in records(handle, path):
                    http = record.http_headers
                    if record.rec_type != "response" or http is None or http.get_statuscode() != "200":
                        continue
                    content_type = http.get_header("content-type") or ""
                    if content_type.split(";")[0].strip().lower() not in HTML_TYPES:
                        continue
                    headers: dict[str, str] = {}
                    for name, value in http.headers:
                        key = str(name).lower()
                        headers[key] = f"{headers[key]}, {value}" if key in headers else str(value)
                    body = record.content_stream().read()
                    require_complete(record, path)
                    yield (
                        record.rec_headers.get_header("WARC-Target-URI") or "",
                        body,
                        headers,
                        iso_utc(record.rec_headers.get_header("WARC-Date")),
                    )
        except UNREADABLE as exc:
            raise ArchiveError(f"{path}: not a readable WARC file ({exc})") from exc


def read_warc_articles(paths: Iterable[str | Path], *, latest: datetime | None = None) -> ArchiveRead:
    """Every 200 HTML response of the WARC files (or folders of them) as an article, in replay order.

    Title, text, language and canonical URL come from the page; the publication time from the
    page, else the record's WARC-Date. A page without article text, or an unreadable file,
    becomes an ArchiveProblem naming the file (and the page's URL); reading goes on.
    """
    result = ArchiveRead()
    for path in warc_files(paths):
        try:
            for url, body, _headers, warc_date in html_responses([path]):
                try:
                    page = clean_html(body, url)
                except SourceError as exc:
                    message = str(exc) if url in str(exc) else f"{url}: {exc}"
                    result.problems.append(ArchiveProblem(str(path), None, message))
                    continue
                record = ArticleRecord(
                    url=page.canonical_url or canonical_url(url),
                    title=(page.title or "").strip() or url,
                    text=page.text,
                    published=page.published or warc_date,
                    language=page.language,
                    origin=f"{path}: {url}",
                )
                try:
                    admitted, notes = admit(record, latest=latest)
                except Refused as exc:
                    result.problems.append(ArchiveProblem(str(path), None, f"{url}: {exc}"))
                    continue
                result.records.append(admitted)
                result.problems.extend(ArchiveProblem(str(path), None, f"{url}: {note}", kept=True) for note in notes)
        except ArchiveError as exc:
            result.problems.append(ArchiveProblem(str(path), None, str(exc).removeprefix(f"{path}: ")))
    return result.sort()
