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
import zlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from storywatch.core.records import ArticleRecord
from storywatch.sources.boundary import Refused, admit
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


MAX_LINE_BYTES = 8 * 1024 * 1024
"""The longest archive line read: an article's JSON (HTML included) beyond this is a dump, not an article."""


def record_from_json(obj: Any, *, origin: str) -> ArticleRecord:
    """One archive line's object as an article; raises ArchiveError saying what is missing or wrong."""
    if not isinstance(obj, dict):
        raise ArchiveError("expected a JSON object with url, title, published and text or html")
    missing = [name for name in ("url", "title", "published") if not obj.get(name)]
    if missing:
        raise ArchiveError(f"missing {', '.join(missing)}")
    for name in ("url", "canonical_url", "title", "text", "html", "source", "language"):
        if obj.get(name) is not None and not isinstance(obj[name], str):
            raise ArchiveError(f"'{name}' must be a string, not {_json_type(obj[name])}")
    archive_id = obj.get("id")
    if archive_id is not None and (isinstance(archive_id, bool) or not isinstance(archive_id, (str, int))):
        raise ArchiveError(f"'id' must be a string or a number, not {_json_type(archive_id)}")
    url = obj.get("canonical_url") or obj["url"]
    text, title, language = obj.get("text"), obj["title"].strip(), obj.get("language")
    if not text and obj.get("html"):
        try:
            page = clean_html(obj["html"], url)
        except SourceError as exc:
            raise ArchiveError(str(exc)) from exc
        text, language = page.text, language or page.language
    if not isinstance(text, str) or not text.strip():
        raise ArchiveError("no article text: give 'text' or 'html'")
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


def _json_type(value: object) -> str:
    return {dict: "an object", list: "a list", bool: "true or false", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


def read_text_article(path: Path) -> ArticleRecord:
    """A plain-text article: title line, date line, body."""
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ArchiveError(f"not UTF-8 text (byte {exc.start}): save the article as UTF-8") from exc
    except OSError as exc:
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


def _jsonl_lines(path: Path) -> Iterator[tuple[int, bytes | None]]:
    """(number, bytes) for each line; None for a line longer than MAX_LINE_BYTES (skipped unread).

    A gzip file cut short raises EOFError at the point where it ends.
    """
    with gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb") as handle:
        number = 0
        while True:
            line = handle.readline(MAX_LINE_BYTES + 1)
            if not line:
                return
            number += 1
            if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                while (rest := handle.readline(1024 * 1024)) and not rest.endswith(b"\n"):
                    pass
                yield number, None
                continue
            yield number, line


def read_jsonl(path: Path, into: ArchiveRead, *, latest: datetime | None = None) -> None:
    """Append every readable line of a JSONL archive to ``into``; bad lines become problems."""
    try:
        for number, raw in _jsonl_lines(path):
            if raw is None:
                into.problems.append(
                    ArchiveProblem(str(path), number, f"line longer than {MAX_LINE_BYTES // (1024 * 1024)} MB; skipped")
                )
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                line = raw.decode("utf-8", errors="replace")
                into.problems.append(
                    ArchiveProblem(
                        str(path), number, f"invalid UTF-8 at byte {exc.start}, replaced by U+FFFD", kept=True
                    )
                )
            if not line.strip():
                continue
            try:
                record = record_from_json(json.loads(line), origin=f"{path}:{number}")
                admitted, notes = admit(record, latest=latest)
            except json.JSONDecodeError as exc:
                into.problems.append(ArchiveProblem(str(path), number, f"not valid JSON ({exc.msg})"))
            except RecursionError:
                into.problems.append(ArchiveProblem(str(path), number, "JSON nested too deeply to read"))
            except ValueError as exc:  # json's limit on the digits of an integer, among others
                into.problems.append(ArchiveProblem(str(path), number, f"cannot read the JSON: {exc}"))
            except (ArchiveError, Refused) as exc:
                into.problems.append(ArchiveProblem(str(path), number, str(exc)))
            else:
                into.records.append(admitted)
                into.problems.extend(ArchiveProblem(str(path), number, note, kept=True) for note in notes)
    except EOFError:
        into.problems.append(
            ArchiveProblem(str(path), None, "the compressed file ends early (truncated); lines up to there were read")
        )
    except (OSError, gzip.BadGzipFile, zlib.error) as exc:
        into.problems.append(ArchiveProblem(str(path), None, f"cannot read: {exc}"))


def _not_a_regular_file(path: Path) -> str | None:
    """Why a path given to replay is refused: a FIFO, socket or device would block or never end."""
    if path.is_fifo():
        return "a named pipe (FIFO), not a file: replay reads files and folders only"
    if path.is_socket() or path.is_char_device() or path.is_block_device():
        return "a device or socket, not a file: replay reads files and folders only"
    return None


def read_archives(paths: Iterable[str | Path], *, latest: datetime | None = None) -> ArchiveRead:
    """Read every article of the given files and folders, ordered by publication time then id.

    ``latest`` is the latest publication date believed (default: a day past the wall clock);
    later dates are clamped and flagged.
    """
    result = ArchiveRead()
    for given in paths:
        path = Path(given)
        if not path.exists():
            result.problems.append(ArchiveProblem(str(path), None, "no such file or folder"))
            result.failed.append(str(path))
            continue
        before = len(result.records)
        files = archive_files([path])
        if not files:
            result.problems.append(
                ArchiveProblem(
                    str(path), None, "no archive under this folder (.jsonl, .jsonl.gz, .txt, .warc, .warc.gz)"
                )
            )
        for file in files:
            refused = _not_a_regular_file(file)
            if refused:
                result.problems.append(ArchiveProblem(str(file), None, refused))
            elif file.name.endswith(TEXT_SUFFIXES):
                try:
                    admitted, notes = admit(read_text_article(file), latest=latest)
                except (ArchiveError, Refused) as exc:
                    result.problems.append(ArchiveProblem(str(file), None, str(exc)))
                else:
                    result.records.append(admitted)
                    result.problems.extend(ArchiveProblem(str(file), None, note, kept=True) for note in notes)
            elif file.name.endswith(JSONL_SUFFIXES):
                read_jsonl(file, result, latest=latest)
            elif is_warc(file):
                from storywatch.sources.warc import read_warc_articles  # WARC pages need warcio: only when given

                result.extend(read_warc_articles([file], latest=latest))
            else:
                result.problems.append(
                    ArchiveProblem(
                        str(file), None, "not an archive: expected .jsonl, .jsonl.gz, .txt, .warc or .warc.gz"
                    )
                )
        if len(result.records) == before:
            result.failed.append(str(path))
    return result.sort()


def failed_inputs(paths: Iterable[str | Path], read: ArchiveRead) -> list[str]:
    """The paths given to a replay that gave no article at all (missing, refused, or every line bad)."""
    given = {str(Path(p)) for p in paths}
    return [p for p in read.failed if p in given]


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
