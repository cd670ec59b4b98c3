"""Read articles from CC-NEWS style WARC files: every HTML page response is one article."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from storywatch.sources.archive import ArchiveProblem, ArchiveRead, replay_order
from storywatch.sources.clean import canonical_url, clean_html
from storywatch.sources.errors import ArchiveError, SourceError
from storywatch.sources.records import ArticleRecord
from storywatch.sources.transport import html_responses, warc_files


def read_warc_articles(paths: Iterable[str | Path]) -> ArchiveRead:
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
                result.records.append(
                    ArticleRecord(
                        url=page.canonical_url or canonical_url(url),
                        title=(page.title or "").strip() or url,
                        text=page.text,
                        published=page.published or warc_date,
                        language=page.language,
                        origin=f"{path}: {url}",
                    )
                )
        except ArchiveError as exc:
            result.problems.append(ArchiveProblem(str(path), None, str(exc).removeprefix(f"{path}: ")))
    result.records.sort(key=replay_order)
    return result
