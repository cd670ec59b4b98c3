"""Read the one article a new storyline starts from: a file, or a page on the web."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from sources.archive import read_text_article, record_from_json
from sources.clean import clean_html
from sources.errors import ArchiveError, FetchError, SourceError
from sources.records import ArticleRecord

USER_AGENT = "storywatch (+https://github.com/storywatch/storywatch)"


def record_from_file(path: Path) -> ArticleRecord:
    """A plain-text article (title, date, body), or a file whose content is one archive line."""
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
        except json.JSONDecodeError:
            try:  # a pretty-printed object rather than one archive line
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ArchiveError(f"{path}: not a valid archive line ({exc.msg})") from exc
        try:
            return record_from_json(obj, origin=str(path))
        except ArchiveError as exc:
            raise ArchiveError(f"{path}: {exc}") from exc
    try:
        return read_text_article(path)
    except ArchiveError as exc:
        raise ArchiveError(f"{path}: {exc}") from exc


def record_from_url(url: str, *, timeout: float = 20.0, transport: httpx.BaseTransport | None = None) -> ArticleRecord:
    """Fetch a page and clean it to an article; the page must have a publication date or we use now."""
    from datetime import UTC, datetime

    if not url.lower().startswith(("http://", "https://")):
        raise FetchError(f"{url}: only http and https URLs can be fetched")
    try:
        with httpx.Client(
            timeout=timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT}, transport=transport
        ) as client:
            response = client.get(url)
    except httpx.HTTPError as exc:
        raise FetchError(f"cannot fetch {url}: {exc}") from exc
    if response.status_code >= 400:
        raise FetchError(f"{url} answered {response.status_code}; check the address")
    try:
        page = clean_html(response.content, str(response.url))
    except SourceError as exc:
        raise FetchError(f"{url}: {exc}") from exc
    return ArticleRecord(
        url=page.canonical_url or str(response.url),
        title=page.title or url,
        text=page.text,
        published=page.published or datetime.now(UTC),
        language=page.language,
        origin=url,
    )
