"""Read the one article a new storyline starts from: a file, or a page on the web."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from storywatch.core.records import ArticleRecord
from storywatch.sources.archive import read_text_article, record_from_json
from storywatch.sources.boundary import Refused, admit
from storywatch.sources.clean import clean_html
from storywatch.sources.errors import ArchiveError, FetchError, SourceError
from storywatch.sources.fetch import FetchResult
from storywatch.sources.urls import is_web_url


def record_from_file(path: Path) -> ArticleRecord:
    """A plain-text article (title, date, body), or a file whose content is one archive line."""
    try:
        record, _ = admit(_read_file(path))
    except Refused as exc:
        raise ArchiveError(f"{path}: {exc}") from exc
    return record


def _read_file(path: Path) -> ArticleRecord:
    if not path.exists():
        raise ArchiveError(f"{path}: no such file")
    if not path.is_file():
        raise ArchiveError(f"{path}: not a file; give one article")
    try:
        raw = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot read: {exc}") from exc
    if raw.startswith("{"):
        try:
            obj = json.loads(raw.splitlines()[0])
        except (json.JSONDecodeError, RecursionError, ValueError):
            try:  # a pretty-printed object rather than one archive line
                obj = json.loads(raw)
            except (json.JSONDecodeError, RecursionError, ValueError) as exc:
                raise ArchiveError(f"{path}: not a valid archive line ({exc})") from exc
        try:
            return record_from_json(obj, origin=str(path))
        except ArchiveError as exc:
            raise ArchiveError(f"{path}: {exc}") from exc
    try:
        return read_text_article(path)
    except ArchiveError as exc:
        raise ArchiveError(f"{path}: {exc}") from exc


def record_from_url(url: str, *, transport: httpx.AsyncBaseTransport | None = None) -> ArticleRecord:
    """Fetch a page (through the same guarded, size-capped fetcher as polling) and clean it to an article.

    The page's publication date is used, or now when it gives none.
    """
    import asyncio
    from datetime import UTC, datetime

    from storywatch.sources.fetch import Fetcher, FetchPolicy

    if not is_web_url(url):
        raise FetchError(f"{url}: only http and https URLs can be fetched")

    async def fetch() -> FetchResult:
        async with Fetcher(FetchPolicy.for_pages(), transport=transport) as fetcher:
            return await fetcher.fetch(url)

    answer = asyncio.run(fetch())
    try:
        page = clean_html(answer.content, answer.url)
    except SourceError as exc:
        raise FetchError(f"{url}: {exc}") from exc
    record = ArticleRecord(
        url=page.canonical_url or answer.url,
        title=page.title or url,
        text=page.text,
        published=page.published or datetime.now(UTC),
        language=page.language,
        origin=url,
    )
    try:
        admitted, _ = admit(record)
    except Refused as exc:
        raise FetchError(f"{url}: {exc}") from exc
    return admitted
