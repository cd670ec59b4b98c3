"""Read archived articles for replay: JSONL files, folders of them, and plain-text articles.

JSONL: one JSON object a line with ``url``, ``title``, ``published`` (ISO-8601), ``text`` or
``html``, and optionally ``id``, ``source`` and ``language``. Plain text: a title line, a date
line, then the body; its id is the file name without ``.txt``. WARC (``.warc``, ``.warc.gz``,
CC-NEWS style): each HTML page response is an article (:mod:`sources.warc`). A line or file
that cannot be read becomes an :class:`ArchiveProblem` naming the file and line, and reading
goes on.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from storywatch.sources.clean import canonical_url, clean_html
from storywatch.sources.errors import ArchiveError, SourceError
from storywatch.sources.records import ArticleRecord

ARCHIVE_SUFFIXES = (".jsonl", ".jsonl.gz", ".txt", ".warc", ".warc.gz")
TEXT_ARTICLE_SCHEME = "urn:storywatch:article:"


@dataclass(frozen=True, slots=True)
class ArchiveProblem:
    """One unreadable line or file: where, and why."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.message}"


@dataclass(slots=True)
class ArchiveRead:
    """Every readable article of the input, in replay order, and every problem met."""

    records: list[ArticleRecord] = field(default_factory=list)
    problems: list[ArchiveProblem] = field(default_factory=list)


def parse_published(value: Any) -> datetime:
    """An aware UTC datetime from ISO-8601 (or an RFC 2822 date); naive times are taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        raise ArchiveError("'published' must be an ISO-8601 date such as 2025-04-18T16:30:00+00:00")
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            raise ArchiveError(
                f"'published' {text!r} is not an ISO-8601 date such as 2025-04-18T16:30:00+00:00"
            ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def record_from_json(obj: Any, *, origin: str) -> ArticleRecord:
    """One archive line's object as an article; raises ArchiveError saying what is missing."""
    if not isinstance(obj, dict):
        raise ArchiveError("expected a JSON object with url, title, published and text or html")
    missing = [name for name in ("url", "title", "published") if not obj.get(name)]
    if missing:
        raise ArchiveError(f"missing {', '.join(missing)}")
    url = obj["url"]
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
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
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


def archive_files(path: Path) -> list[Path]:
    """The archive files a path names: itself, or every archive file under a folder, sorted."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(ARCHIVE_SUFFIXES))
    return [path]


def read_archives(paths: Iterable[str | Path]) -> ArchiveRead:
    """Read every article of the given files and folders, ordered by publication time then id."""
    result = ArchiveRead()
    for given in paths:
        path = Path(given)
        if not path.exists():
            result.problems.append(ArchiveProblem(str(path), None, "no such file or folder"))
            continue
        for file in archive_files(path):
            if file.name.endswith(".txt"):
                try:
                    result.records.append(read_text_article(file))
                except ArchiveError as exc:
                    result.problems.append(ArchiveProblem(str(file), None, str(exc)))
            elif file.name.endswith((".jsonl", ".jsonl.gz")):
                read_jsonl(file, result)
            elif file.name.endswith((".warc", ".warc.gz")):
                # Imported here: sources.warc builds on this module.
                from storywatch.sources.warc import read_warc_articles

                warc = read_warc_articles([file])
                result.records.extend(warc.records)
                result.problems.extend(warc.problems)
            else:
                result.problems.append(
                    ArchiveProblem(
                        str(file), None, "not an archive: expected .jsonl, .jsonl.gz, .txt, .warc or .warc.gz"
                    )
                )
    result.records.sort(key=replay_order)
    return result


def replay_order(record: ArticleRecord) -> tuple[datetime, str]:
    """Publication time, then id: the same input always replays in the same order."""
    return (record.published or datetime.min.replace(tzinfo=UTC), record.reference)
