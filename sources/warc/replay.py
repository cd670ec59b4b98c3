"""Replay: a transport that answers requests from WARC files, never from the network."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataReader

from storywatch.sources.errors import ArchiveError, ArchiveMiss
from storywatch.sources.files import WARC_SUFFIXES, archive_files
from storywatch.sources.urls import is_web_url
from storywatch.sources.warc.common import UNREADABLE, is_chunked, require_complete, url_key
from storywatch.sources.warc.common import records as records_of


def warc_files(paths: Iterable[str | Path]) -> list[Path]:
    """The WARC files the paths name: each file as given, and every WARC file under a folder, sorted."""
    return archive_files(paths, WARC_SUFFIXES)


@dataclass(frozen=True, slots=True)
class _Recorded:
    """Where one recorded response lies: the WARC file and the record's offset in it."""

    path: Path
    offset: int


def _header_bytes(value: str) -> bytes:
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


class WarcReplayTransport(httpx.AsyncBaseTransport):
    """Answer requests from responses recorded in WARC files; a request not recorded raises ArchiveMiss.

    Responses are looked up by method and URL (conditional headers are ignored: the recorded
    answer is what it is). A URL recorded several times answers in recorded order, one answer
    per request, then repeats the last. Files are indexed once; bodies are read on demand.
    """

    def __init__(self, paths: Iterable[str | Path]) -> None:
        self.files = warc_files(paths)
        self._answers: dict[tuple[str, str], list[_Recorded]] = {}
        self._cursor: dict[tuple[str, str], int] = {}
        self.problems: list[str] = []  # files cut short: what they held up to the cut still answers
        for path in self.files:
            self._index(path)

    def _index(self, path: Path) -> None:
        responses: list[tuple[str, list[str], _Recorded]] = []
        # The request's method, under its own id and the ids it names: storywatch's request
        # records point at their response, Common Crawl's responses point at their request.
        methods: dict[str, str] = {}
        try:
            with path.open("rb") as handle:
                iterator = ArchiveIterator(handle)
                for record in records_of(iterator, path):
                    if record.http_headers is None:
                        continue
                    ids = [
                        value
                        for name, value in record.rec_headers.headers
                        if name.lower() in ("warc-record-id", "warc-concurrent-to") and value
                    ]
                    if record.rec_type == "response":
                        uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                        if is_web_url(uri):
                            responses.append((uri, ids, _Recorded(path, iterator.get_record_offset())))
                    elif record.rec_type == "request":
                        methods.update(dict.fromkeys(ids, str(record.http_headers.protocol).upper()))
        except ArchiveError as exc:
            if not responses:
                raise
            self.problems.append(str(exc))
        except UNREADABLE as exc:
            raise ArchiveError(f"{path}: not a readable WARC file ({exc})") from exc
        for uri, ids, recorded in responses:
            method = next((methods[i] for i in ids if i in methods), "GET")
            self._answers.setdefault((method, url_key(uri)), []).append(recorded)

    def __len__(self) -> int:
        """How many responses the archive holds."""
        return sum(len(answers) for answers in self._answers.values())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """The next recorded response for the request's method and URL."""
        key = (request.method.upper(), url_key(str(request.url)))
        answers = self._answers.get(key)
        if not answers:
            names = ", ".join(p.name for p in self.files[:3]) or "no files"
            if len(self.files) > 3:
                names += f" and {len(self.files) - 3} more"
            raise ArchiveMiss(
                f"{key[0]} {key[1]} was not recorded in the WARC archive ({names}); "
                "replay never goes to the network: record a poll that fetches it first"
            )
        position = self._cursor.get(key, 0)
        self._cursor[key] = position + 1
        recorded = answers[min(position, len(answers) - 1)]
        return await asyncio.to_thread(self._load, recorded)

    @staticmethod
    def _load(recorded: _Recorded) -> httpx.Response:
        try:
            with recorded.path.open("rb") as handle:
                handle.seek(recorded.offset)
                record = next(iter(ArchiveIterator(handle)))
                http = record.http_headers
                headers = [(str(n), str(v)) for n, v in http.headers]
                # httpx below the client de-chunks; a WARC written by another tool may keep
                # the chunks, so take them off here and hand httpx what its transport would.
                if is_chunked(headers):
                    body = ChunkedDataReader(record.raw_stream, decomp_type=None).read()
                    headers = [(n, v) for n, v in headers if n.lower() != "transfer-encoding"]
                else:
                    body = record.raw_stream.read()
                require_complete(record, recorded.path)
                truncated = record.rec_headers.get_header("WARC-Truncated")
                status, _, reason = str(http.statusline).partition(" ")
                status_code = int(status)
        except ArchiveError as exc:
            raise ArchiveMiss(f"{exc}; replay answers nothing for it") from exc
        except (*UNREADABLE, StopIteration, AttributeError) as exc:
            raise ArchiveMiss(
                f"{recorded.path}: cannot read the record at offset {recorded.offset} ({exc}); replay answers nothing for it"
            ) from exc
        extensions: dict[str, Any] = {
            "http_version": str(http.protocol or "HTTP/1.1").encode("ascii", "replace"),
            "reason_phrase": reason.encode("latin-1", "replace"),
        }
        if truncated:
            extensions["warc_truncated"] = truncated
        return httpx.Response(
            status_code=status_code,
            headers=[(_header_bytes(n), _header_bytes(v)) for n, v in headers],
            stream=httpx.ByteStream(body),
            extensions=extensions,
        )
