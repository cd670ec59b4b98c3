"""HTTP transports that record live traffic to WARC files, and answer from them on replay.

``sources/fetch.py`` takes any ``httpx.AsyncBaseTransport``: the default one for live polls,
:class:`RecordingTransport` around it to keep a WARC capture of a poll, and
:class:`WarcReplayTransport` to answer the same requests from that capture, never from the
network. :func:`html_responses` reads the article pages of CC-NEWS style WARC files.

Bodies are stored as they came off the wire after transfer decoding (chunking removed) but
still content-encoded (gzip, br ...), with the headers as served, so replay hands httpx the
same bytes and headers and httpx decodes them exactly as it did live.
"""

from __future__ import annotations

import asyncio
import threading
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import IO, Any

import httpx
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataReader
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from storywatch.sources.errors import ArchiveError, ArchiveMiss
from storywatch.sources.records import iso_utc

DEFAULT_MAX_FILE_BYTES = 100 * 1024 * 1024
DEFAULT_BODY_CAP = 12 * 1024 * 1024
WARC_SUFFIXES = (".warc", ".warc.gz")
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Credentials a request may carry; replay does not need them, and WARC files get shared.
REDACTED_REQUEST_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})

# Errors warcio and the gzip layer raise on a file that is not (or no longer) a WARC.
_UNREADABLE = (ArchiveLoadFailed, OSError, EOFError, zlib.error, ValueError)


def warc_files(paths: Iterable[str | Path]) -> list[Path]:
    """The WARC files the paths name: each file as given, and every WARC file under a folder, sorted."""
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(WARC_SUFFIXES)))
        else:
            files.append(path)
    return files


def _warc_date(moment: datetime) -> str:
    """WARC-Date (WARC/1.0: seconds, UTC); naive times are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_warc_date(value: object) -> datetime | None:
    return iso_utc(value)


def _url_key(url: str) -> str:
    """A URL as httpx writes it, without fragment, so recorded and requested URLs compare equal."""
    try:
        return str(httpx.URL(url).copy_with(fragment=None))
    except (httpx.InvalidURL, TypeError, ValueError):
        return url


def _text_headers(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw]


def _require_warc(record: Any) -> None:
    # warcio also reads ARC files, and takes some stray text for ARC headers.
    if record.format != "warc":
        raise ArchiveLoadFailed("it holds no WARC records")


def _is_chunked(headers: Iterable[tuple[str, str]]) -> bool:
    return any(n.lower() == "transfer-encoding" and "chunked" in v.lower() for n, v in headers)


class _RecordedThenLive(httpx.AsyncByteStream):
    """The chunks already read, then the rest of the live stream: the caller still gets the whole body."""

    def __init__(self, head: list[bytes], rest: AsyncIterator[bytes], live: httpx.Response) -> None:
        self._head = head
        self._rest = rest
        self._live = live

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._head:
            yield chunk
        self._head = []
        async for chunk in self._rest:
            yield chunk

    async def aclose(self) -> None:
        closer = getattr(self._rest, "aclose", None)
        if closer is not None:
            await closer()
        await self._live.aclose()


@dataclass(frozen=True, slots=True)
class _Exchange:
    """One request and its answer, as they go into the WARC file."""

    url: str
    started: datetime
    method: str
    target: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    http_version: str
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    body: bytes
    truncated: bool


class RecordingTransport(httpx.AsyncBaseTransport):
    """Pass requests to another transport and write each exchange to WARC files in a folder.

    Each exchange becomes a ``response`` record and a ``request`` record (WARC-Concurrent-To,
    credentials redacted), gzip-compressed, in ``storywatch-YYYYmmddTHHMMSS-NNNNN.warc.gz``;
    a new file starts once the current one reaches ``max_bytes``. Response bodies up to
    ``body_cap`` bytes are read into memory, recorded, and handed on; a longer body is recorded
    up to the cap with ``WARC-Truncated: length`` while the caller still streams all of it.
    Keep ``body_cap`` at or above the fetcher's own size limit, so a truncated record still
    trips that limit on replay as the live body did.
    """

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport,
        folder: str | Path,
        *,
        max_bytes: int = DEFAULT_MAX_FILE_BYTES,
        body_cap: int = DEFAULT_BODY_CAP,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if max_bytes <= 0 or body_cap <= 0:
            raise ValueError("max_bytes and body_cap must be positive")
        self.transport = transport
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self.body_cap = body_cap
        self._clock = clock or (lambda: datetime.now(UTC))
        # A thread lock, taken only inside the worker thread that writes: it orders writes from
        # concurrent tasks and threads alike, and no await ever happens while it is held.
        self._lock = threading.Lock()
        self._handle: IO[bytes] | None = None
        self._writer: Any = None
        self._sequence = 0
        self.files: list[Path] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Forward the request, record the exchange, and return a response the caller can stream."""
        started = self._clock()
        request_body = await request.aread()
        response = await self.transport.handle_async_request(request)
        try:
            stream = response.stream
            if not isinstance(stream, httpx.AsyncByteStream):
                raise TypeError("the wrapped transport returned a response without an async stream")
            chunks: list[bytes] = []
            size = 0
            rest = stream.__aiter__()
            # Iterating the raw stream, not response.aiter_bytes(): the recorded body stays
            # content-encoded, as served; the transport layer below already removed chunking.
            async for chunk in rest:
                chunks.append(chunk)
                size += len(chunk)
                if size > self.body_cap:
                    break
            truncated = size > self.body_cap
        except BaseException:
            await response.aclose()
            raise
        body = b"".join(chunks)
        exchange = _Exchange(
            url=str(request.url),
            started=started,
            method=request.method,
            target=request.url.raw_path.decode("ascii"),
            request_headers=[
                (name, "[redacted]" if name.lower() in REDACTED_REQUEST_HEADERS else value)
                for name, value in _text_headers(request.headers.raw)
            ],
            request_body=request_body,
            http_version=response.extensions.get("http_version", b"HTTP/1.1").decode("ascii"),
            status=response.status_code,
            reason=response.reason_phrase or httpx.codes.get_reason_phrase(response.status_code),
            response_headers=_text_headers(response.headers.raw),
            body=body[: self.body_cap],
            truncated=truncated,
        )
        try:
            await asyncio.to_thread(self._write, exchange)
        except BaseException:
            await response.aclose()
            raise
        if truncated:
            return httpx.Response(
                status_code=response.status_code,
                headers=response.headers.raw,
                stream=_RecordedThenLive(chunks, rest, response),
                extensions=response.extensions,
            )
        await response.aclose()
        # The connection is back in the pool, so its network_stream must not be handed on.
        extensions = {k: v for k, v in response.extensions.items() if k != "network_stream"}
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers.raw,
            stream=httpx.ByteStream(body),
            extensions=extensions,
        )

    def _open_next_file(self) -> IO[bytes]:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = self._clock()
        stamp = (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).astimezone(UTC)
        while True:
            path = self.folder / f"storywatch-{stamp:%Y%m%dT%H%M%S}-{self._sequence:05d}.warc.gz"
            self._sequence += 1
            try:
                handle = path.open("xb")
            except FileExistsError:
                continue
            break
        self._writer = WARCWriter(handle, gzip=True)
        info = self._writer.create_warcinfo_record(
            path.name, {"software": "storywatch", "format": "WARC File Format 1.0"}
        )
        info.rec_headers.replace_header("WARC-Date", _warc_date(stamp))
        self._writer.write_record(info)
        self.files.append(path)
        return handle

    def _write(self, exchange: _Exchange) -> None:
        """Write the exchange as a response and a request record, then rotate if the file is full."""
        # The body is stored without chunking, so Transfer-Encoding would mislead WARC readers.
        served = [(n, v) for n, v in exchange.response_headers if n.lower() != "transfer-encoding"]
        date = _warc_date(exchange.started)
        with self._lock:
            if self._handle is None:
                self._handle = self._open_next_file()
            writer = self._writer
            response_headers = {"WARC-Date": date}
            if exchange.truncated:
                response_headers["WARC-Truncated"] = "length"
            response = writer.create_warc_record(
                exchange.url,
                "response",
                payload=BytesIO(exchange.body),
                length=len(exchange.body),
                warc_headers_dict=response_headers,
                http_headers=StatusAndHeaders(
                    f"{exchange.status} {exchange.reason}".strip(), served, protocol=exchange.http_version
                ),
            )
            request = writer.create_warc_record(
                exchange.url,
                "request",
                payload=BytesIO(exchange.request_body),
                length=len(exchange.request_body),
                warc_headers_dict={"WARC-Date": date},
                http_headers=StatusAndHeaders(
                    f"{exchange.target} HTTP/1.1", exchange.request_headers, protocol=exchange.method
                ),
            )
            writer.write_request_response_pair(request, response)
            self._handle.flush()
            if self._handle.tell() >= self.max_bytes:
                self._close_file()

    def _close_file(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
            self._writer = None

    def close(self) -> None:
        """Flush and close the current WARC file; a later exchange starts a new one."""
        with self._lock:
            self._close_file()

    async def aclose(self) -> None:
        """Close the WARC file and the wrapped transport."""
        await asyncio.to_thread(self.close)
        await self.transport.aclose()


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
        for path in self.files:
            self._index(path)

    def _index(self, path: Path) -> None:
        responses: list[tuple[str, list[str], _Recorded]] = []
        # The request's method, under its own id and the ids it names: storywatch's request
        # records point at their response, Common Crawl's responses point at their request.
        methods: dict[str, str] = {}
        try:
            with path.open("rb") as handle:
                records = ArchiveIterator(handle)
                for record in records:
                    _require_warc(record)
                    if record.http_headers is None:
                        continue
                    ids = [
                        value
                        for name, value in record.rec_headers.headers
                        if name.lower() in ("warc-record-id", "warc-concurrent-to") and value
                    ]
                    if record.rec_type == "response":
                        uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                        if uri.lower().startswith(("http://", "https://")):
                            responses.append((uri, ids, _Recorded(path, records.get_record_offset())))
                    elif record.rec_type == "request":
                        methods.update(dict.fromkeys(ids, str(record.http_headers.protocol).upper()))
        except _UNREADABLE as exc:
            raise ArchiveError(f"{path}: not a readable WARC file ({exc})") from exc
        for uri, ids, recorded in responses:
            method = next((methods[i] for i in ids if i in methods), "GET")
            self._answers.setdefault((method, _url_key(uri)), []).append(recorded)

    def __len__(self) -> int:
        """How many responses the archive holds."""
        return sum(len(answers) for answers in self._answers.values())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """The next recorded response for the request's method and URL."""
        key = (request.method.upper(), _url_key(str(request.url)))
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
                if _is_chunked(headers):
                    body = ChunkedDataReader(record.raw_stream, decomp_type=None).read()
                    headers = [(n, v) for n, v in headers if n.lower() != "transfer-encoding"]
                else:
                    body = record.raw_stream.read()
                truncated = record.rec_headers.get_header("WARC-Truncated")
                status, _, reason = str(http.statusline).partition(" ")
                status_code = int(status)
        except (*_UNREADABLE, StopIteration) as exc:
            raise ArchiveError(
                f"{recorded.path}: cannot read the record at offset {recorded.offset} ({exc})"
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
                for record in ArchiveIterator(handle):
                    _require_warc(record)
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
                    yield (
                        record.rec_headers.get_header("WARC-Target-URI") or "",
                        body,
                        headers,
                        _parse_warc_date(record.rec_headers.get_header("WARC-Date")),
                    )
        except _UNREADABLE as exc:
            raise ArchiveError(f"{path}: not a readable WARC file ({exc})") from exc
