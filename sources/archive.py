"""The archive format: read JSONL files, folders of them and plain-text articles for replay; write JSONL.

JSONL: one JSON object a line with ``url``, ``title``, ``published`` (ISO-8601), ``text`` or
``html``, and optionally ``id``, ``canonical_url``, ``source``, ``language`` and ``partial``.
Plain text: a title line, a date line, then the body; its id is the file name without
``.txt``. WARC (``.warc``, ``.warc.gz``, CC-NEWS style): each HTML page response is an article
(:mod:`storywatch.sources.warc`). A line or file that cannot be read becomes an
:class:`ArchiveProblem` naming the file and line, and reading goes on.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from storywatch.core.records import ArticleRecord
from storywatch.sources.clean import clean_html
from storywatch.sources.dates import parse_published
from storywatch.sources.errors import ArchiveError, SourceError
from storywatch.sources.files import JSONL_SUFFIXES, TEXT_SUFFIXES, archive_files, is_warc
from storywatch.sources.records import ArchiveProblem, ArchiveRead
from storywatch.sources.urls import canonical_url

TEXT_ARTICLE_SCHEME = "urn:storywatch:article:"

__all__ = [
    "ArchiveProblem",
    "ArchiveRead",
    "archive_line",
    "read_archives",
    "read_jsonl",
    "read_text_article",
    "record_from_json",
    "write_archive",
]


def record_from_json(obj: Any, *, origin: str) -> ArticleRecord:
    """One archive line's object as an article; raises ArchiveError saying what is missing."""
    if not isinstance(obj, dict):
        raise ArchiveError("expected a JSON object with url, title, published and text or html")
    missing = [name for name in ("url", "title", "published") if not obj.get(name)]
    if missing:
        raise ArchiveError(f"missing {', '.join(missing)}")
    url = obj.get("canonical_url") or obj["url"]
    if not isinstance(url, str):
        raise ArchiveError("'url' must be a string")
    text, title, language = obj.get("text"), str(obj["title"]).strip(), obj.get("language")
    if not text and obj.get("html"):
        if not isinstance(obj["html"], str):
            raise ArchiveError("'html' must be a string")
        try:
            page = clean_html(obj["html"], url)
        except SourceError as exc:
            raise ArchiveError(str(exc)) from exc
        text, language = page.text, language or page.language
    if not isinstance(text, str) or not text.strip():
        raise ArchiveError("no article text: give 'text' or 'html'")
    archive_id = obj.get("id")
    return ArticleRecord(
        url=canonical_url(url),
        title=title,
        text=text.strip(),
        published=parse_published(obj["published"]),
        archive_id=str(archive_id) if archive_id not in (None, "") else None,
        source=obj.get("source") or None,
        language=language or None,
        partial=obj.get("partial") is True,
        origin=origin,
    )


def read_text_article(path: Path) -> ArticleRecord:
    """A plain-text article: title line, date line, body."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ArchiveError(f"cannot read: {exc}") from exc
    lines = raw.splitlines()
    if len(lines) < 3:
        raise ArchiveError("a plain-text article needs a title line, a date line and a body")
    title, date_line = lines[0].strip(), lines[1].strip()
    body = "\n".join(lines[2:]).strip()
    if not title or not body:
        raise ArchiveError("a plain-text article needs a title line, a date line and a body")
    return ArticleRecord(
        url=TEXT_ARTICLE_SCHEME + path.stem,
        title=title,
        text=body,
        published=parse_published(date_line),
        archive_id=path.stem,
        origin=str(path),
    )


def _jsonl_lines(path: Path) -> Iterator[tuple[int, str]]:
    with (
        gzip.open(path, "rt", encoding="utf-8", errors="replace")
        if path.name.endswith(".gz")
        else path.open(encoding="utf-8", errors="replace")
    ) as handle:
        yield from enumerate(handle, start=1)


def read_jsonl(path: Path, into: ArchiveRead) -> None:
    """Append every readable line of a JSONL archive to ``into``; bad lines become problems."""
    try:
        for number, line in _jsonl_lines(path):
            if not line.strip():
                continue
            try:
                into.records.append(record_from_json(json.loads(line), origin=f"{path}:{number}"))
            except json.JSONDecodeError as exc:
                into.problems.append(ArchiveProblem(str(path), number, f"not valid JSON ({exc.msg})"))
            except ArchiveError as exc:
                into.problems.append(ArchiveProblem(str(path), number, str(exc)))
    except (OSError, EOFError) as exc:
        into.problems.append(ArchiveProblem(str(path), None, f"cannot read: {exc}"))


def read_archives(paths: Iterable[str | Path]) -> ArchiveRead:
    """Read every article of the given files and folders, ordered by publication time then id."""
    from storywatch.sources.warc import read_warc_articles  # WARC pages need warcio: only when given

    result = ArchiveRead()
    for given in paths:
        path = Path(given)
        if not path.exists():
            result.problems.append(ArchiveProblem(str(path), None, "no such file or folder"))
            continue
        for file in archive_files([path]):
            if file.name.endswith(TEXT_SUFFIXES):
                try:
                    result.records.append(read_text_article(file))
                except ArchiveError as exc:
                    result.problems.append(ArchiveProblem(str(file), None, str(exc)))
            elif file.name.endswith(JSONL_SUFFIXES):
                read_jsonl(file, result)
            elif is_warc(file):
                result.extend(read_warc_articles([file]))
            else:
                result.problems.append(
                    ArchiveProblem(
                        str(file), None, "not an archive: expected .jsonl, .jsonl.gz, .txt, .warc or .warc.gz"
                    )
                )
    return result.sort()


def archive_line(
    *,
    reference: str | None,
    url: str,
    title: str,
    published: datetime,
    text: str,
    source: str | None,
    language: str | None,
    partial: bool = False,
) -> dict[str, Any]:
    """One article as an archive line's object: what :func:`record_from_json` reads back to the same article."""
    line: dict[str, Any] = {
        "id": reference,
        "url": url,
        "canonical_url": url,
        "title": title,
        "published": published.isoformat(),
        "source": source,
        "language": language,
        "text": text,
    }
    if partial:
        line["partial"] = True
    return line


def write_archive(lines: Iterable[dict[str, Any]], handle: IO[str]) -> int:
    """Write archive lines as JSONL (one object a line, UTF-8 text as it is); returns how many."""
    count = 0
    for line in lines:
        handle.write(json.dumps(line, ensure_ascii=False) + "\n")
        count += 1
    return count
